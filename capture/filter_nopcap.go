//go:build !pcap || !cgo

package capture

import (
	"github.com/google/gopacket/layers"
	"golang.org/x/net/bpf"
)

// compileExpr is ErrNeedLibpcap without the pcap build tag.
func compileExpr(string, layers.LinkType) ([]bpf.RawInstruction, error) {
	return nil, ErrNeedLibpcap
}

// HasLibpcap reports whether tcpdump filter expressions compile in this
// build.
const HasLibpcap = false
