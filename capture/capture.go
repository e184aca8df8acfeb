// Package capture reads packets live from a network interface and decodes
// them into packet summaries (package packet), for `riptide capture --iface`.
//
// On Linux it reads AF_PACKET sockets with a TPACKET_V3 memory-mapped ring
// each (github.com/gopacket/gopacket/afpacket, pure Go: no cgo, no libpcap),
// optionally several sockets in one kernel fanout group, each read by its own
// goroutine, so that decoding spreads over cores while the kernel keeps the
// packets of one flow on one socket. A classic BPF program (Config.Filter)
// is attached to every socket, so the kernel drops unwanted packets before
// they reach the ring. The kernel's counters (packets seen, packets dropped
// because a ring was full, ring freezes) are read with Handle.Stats.
//
// The package knows nothing about Kafka: Run hands decoded summaries, in
// chunks, to a function (the producers package's bounded Queue in riptide).
package capture

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/google/gopacket/layers"
	"golang.org/x/net/bpf"

	"github.com/riptide-nids/riptide/packet"
)

// Config configures a live capture.
type Config struct {
	// Interface is the network interface to read (e.g. "eth0").
	Interface string
	// Fanout is the number of sockets (1 by default). With more than one,
	// the sockets join a kernel fanout group that spreads packets by flow
	// hash, and each is read by its own goroutine.
	Fanout int
	// FanoutID identifies the fanout group (default: derived from the
	// process id, so two riptide processes never share one by accident).
	FanoutID uint16
	// Filter is a classic BPF program attached to every socket; empty
	// captures everything.
	Filter []bpf.RawInstruction
	// FrameSize is the largest frame kept whole (default 4096 bytes; longer
	// frames are cut, which the decoder handles). BlockSize and NumBlocks
	// size each socket's ring (default 1 MiB × 64 = 64 MiB per socket).
	FrameSize, BlockSize, NumBlocks int
	// BlockTimeout is how long the kernel fills a ring block before handing
	// it over anyway (default 10 ms): the latency of a quiet link.
	BlockTimeout time.Duration
	// ChunkSize is the most summaries handed over at once (default 256);
	// a partial chunk is handed over whenever a socket has nothing to read.
	ChunkSize int
	// Promiscuous puts the interface into promiscuous mode (for SPAN ports
	// and taps that deliver frames addressed to other hosts).
	Promiscuous bool
}

func (c *Config) defaults() error {
	if c.Interface == "" {
		return errors.New("capture: no interface (use --iface NAME)")
	}
	if c.Fanout <= 0 {
		c.Fanout = 1
	}
	if c.Fanout > 64 {
		return fmt.Errorf("capture: fanout %d: at most 64 sockets", c.Fanout)
	}
	if c.FanoutID == 0 {
		c.FanoutID = uint16(os.Getpid())
	}
	if c.FrameSize <= 0 {
		c.FrameSize = 4096
	}
	if c.BlockSize <= 0 {
		c.BlockSize = 1 << 20
	}
	if c.NumBlocks <= 0 {
		c.NumBlocks = 64
	}
	if c.BlockTimeout <= 0 {
		c.BlockTimeout = 10 * time.Millisecond
	}
	if c.ChunkSize <= 0 {
		c.ChunkSize = 256
	}
	return nil
}

// Stats counts what a capture saw.
type Stats struct {
	// Kernel counters, summed over the sockets: packets the kernel passed
	// to the rings (after the filter) and packets it dropped because a
	// ring was full; Freezes counts ring freezes (TPACKET_V3).
	KernelPackets uint64 `json:"kernel_packets"`
	KernelDrops   uint64 `json:"kernel_drops"`
	Freezes       uint64 `json:"kernel_freezes"`
	// Decode counts the frames read from the rings: decoded, or not by
	// reason.
	Decode packet.Stats `json:"decode"`
}

// linkType returns the link type of frames read from a raw AF_PACKET socket
// on iface, from its ARPHRD hardware type in sysfs.
func linkType(iface string) (layers.LinkType, error) {
	b, err := os.ReadFile("/sys/class/net/" + iface + "/type")
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return 0, fmt.Errorf("capture: no network interface %q (see ip link)", iface)
		}
		return 0, fmt.Errorf("capture: interface %s: %w", iface, err)
	}
	hw, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0, fmt.Errorf("capture: interface %s: hardware type %q: %w", iface, b, err)
	}
	switch hw {
	case 1, 772: // ARPHRD_ETHER, ARPHRD_LOOPBACK (Ethernet headers)
		return layers.LinkTypeEthernet, nil
	case 65534, 776, 778: // ARPHRD_NONE (tun), ARPHRD_SIT, ARPHRD_IPGRE: raw IP
		return layers.LinkTypeRaw, nil
	case 512: // ARPHRD_PPP
		return layers.LinkTypeRaw, nil
	}
	return 0, fmt.Errorf("capture: interface %s: hardware type %d not supported (Ethernet, loopback, tun and raw IP interfaces are)", iface, hw)
}
