//go:build pcap && cgo

package capture

import (
	"fmt"

	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcap"
	"golang.org/x/net/bpf"
)

// compileExpr compiles a tcpdump filter expression with libpcap.
func compileExpr(expr string, link layers.LinkType) ([]bpf.RawInstruction, error) {
	insts, err := pcap.CompileBPFFilter(link, 262144, expr) // tcpdump's snap length
	if err != nil {
		return nil, fmt.Errorf("capture: --bpf %q: %w", expr, err)
	}
	out := make([]bpf.RawInstruction, len(insts))
	for i, in := range insts {
		out[i] = bpf.RawInstruction{Op: in.Code, Jt: in.Jt, Jf: in.Jf, K: in.K}
	}
	return out, nil
}

// HasLibpcap reports whether tcpdump filter expressions compile in this
// build.
const HasLibpcap = true
