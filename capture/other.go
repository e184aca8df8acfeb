//go:build !linux

package capture

import (
	"context"
	"errors"

	"github.com/riptide-nids/riptide/packet"
)

// ErrUnsupported is returned by Open where there is no AF_PACKET (any
// system but Linux).
var ErrUnsupported = errors.New("capture: live capture needs Linux (AF_PACKET); replay capture files with --pcap instead")

// Handle is an open live capture; on this system Open always fails.
type Handle struct{ cfg Config }

// Open fails with ErrUnsupported.
func Open(cfg Config) (*Handle, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	return nil, ErrUnsupported
}

// Interface returns the interface name.
func (h *Handle) Interface() string { return h.cfg.Interface }

// Run fails with ErrUnsupported.
func (h *Handle) Run(context.Context, func([]packet.Summary)) error { return ErrUnsupported }

// Stats fails with ErrUnsupported.
func (h *Handle) Stats() (Stats, error) { return Stats{}, ErrUnsupported }

// Close does nothing.
func (h *Handle) Close() {}
