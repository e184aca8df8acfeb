package window

import (
	"bufio"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/riptide-nids/riptide/packet"
)

// A scenario file (testdata/scenarios/*.txt) is a window test written as
// data, one directive a line, '#' starting a comment:
//
//	size 10s                          window size (default 10s)
//	grace 2s                          grace (default 2s)
//	pkt TIME SRC DST PROTO [K=V...] [late]
//	vectors N                         number of vectors after the final flush
//	want HOST@START FEATURE=VALUE...  feature values of one vector
//
// TIME and START are Go durations after t0. SRC and DST are addresses or
// address:port ([v6]:port). PROTO is tcp, udp, icmp, icmp6 or arp; keys are
// flags (letters S, A, R, F, P), len (default 60), type, code, op,
// dns (query or response), qlen, qtype and rcode. A packet marked late must
// be dropped as late, any other must not.
type scenario struct {
	cfg     Config
	packets []packet.Summary
	late    []bool
	lines   []int
	vectors int
	want    []expect
}

func parseScenario(path string) (*scenario, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }() // read only
	sc := &scenario{cfg: DefaultConfig(), vectors: -1}
	in := bufio.NewScanner(f)
	for n := 1; in.Scan(); n++ {
		line, _, _ := strings.Cut(in.Text(), "#")
		fs := strings.Fields(line)
		if len(fs) == 0 {
			continue
		}
		if err := sc.directive(fs); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, n, err)
		}
		if fs[0] == "pkt" {
			sc.lines = append(sc.lines, n)
		}
	}
	return sc, in.Err()
}

func (sc *scenario) directive(fs []string) error {
	var err error
	switch fs[0] {
	case "size", "grace":
		if len(fs) != 2 {
			return fmt.Errorf("%s wants one duration", fs[0])
		}
		d, err := time.ParseDuration(fs[1])
		if fs[0] == "size" {
			sc.cfg.Size = d
		} else {
			sc.cfg.Grace = d
		}
		return err
	case "vectors":
		if len(fs) != 2 {
			return fmt.Errorf("vectors wants a count")
		}
		sc.vectors, err = strconv.Atoi(fs[1])
		return err
	case "want":
		if len(fs) < 3 {
			return fmt.Errorf("want wants HOST@START and features")
		}
		i := strings.LastIndexByte(fs[1], '@')
		if i < 0 {
			return fmt.Errorf("bad vector %q", fs[1])
		}
		start, err := time.ParseDuration(fs[1][i+1:])
		if err != nil {
			return err
		}
		for _, kv := range fs[2:] {
			k, v, ok := strings.Cut(kv, "=")
			x, err := strconv.ParseFloat(v, 64)
			if !ok || err != nil {
				return fmt.Errorf("bad feature value %q", kv)
			}
			if _, ok := FeatureIndex(k); !ok {
				return fmt.Errorf("unknown feature %q", k)
			}
			sc.want = append(sc.want, eq(fs[1][:i], start, k, x))
		}
		return nil
	case "pkt":
		s, late, err := parsePacket(fs[1:])
		if err != nil {
			return err
		}
		sc.packets = append(sc.packets, s)
		sc.late = append(sc.late, late)
		return nil
	}
	return fmt.Errorf("unknown directive %q", fs[0])
}

func parseEndpoint(s string) (netip.Addr, uint16, error) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr(), ap.Port(), nil
	}
	a, err := netip.ParseAddr(s)
	return a, 0, err
}

func parsePacket(fs []string) (packet.Summary, bool, error) {
	var s packet.Summary
	if len(fs) < 4 {
		return s, false, fmt.Errorf("pkt wants TIME SRC DST PROTO")
	}
	d, err := time.ParseDuration(fs[0])
	if err != nil {
		return s, false, err
	}
	s.Time, s.Length = at(d), 60
	if s.Src, s.SrcPort, err = parseEndpoint(fs[1]); err != nil {
		return s, false, err
	}
	if s.Dst, s.DstPort, err = parseEndpoint(fs[2]); err != nil {
		return s, false, err
	}
	switch fs[3] {
	case "tcp":
		s.Proto = packet.ProtoTCP
	case "udp":
		s.Proto = packet.ProtoUDP
	case "icmp":
		s.Proto = packet.ProtoICMP
	case "icmp6":
		s.Proto = packet.ProtoICMPv6
	case "arp":
		s.Flags |= packet.FlagARP
	default:
		return s, false, fmt.Errorf("unknown protocol %q", fs[3])
	}
	late := false
	for _, kv := range fs[4:] {
		if kv == "late" {
			late = true
			continue
		}
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return s, false, fmt.Errorf("bad key %q", kv)
		}
		if k == "flags" {
			for _, c := range v {
				bit, ok := map[rune]uint8{'S': packet.TCPSyn, 'A': packet.TCPAck, 'R': packet.TCPRst, 'F': packet.TCPFin, 'P': packet.TCPPsh}[c]
				if !ok {
					return s, false, fmt.Errorf("bad TCP flag %q", c)
				}
				s.TCPFlags |= bit
			}
			continue
		}
		if k == "dns" {
			s.Flags |= packet.FlagDNS
			if v == "response" {
				s.Flags |= packet.FlagDNSResponse
			}
			continue
		}
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return s, false, fmt.Errorf("bad value %q", kv)
		}
		switch k {
		case "len":
			s.Length = uint32(n)
		case "type":
			s.ICMPType = uint8(n)
		case "code":
			s.ICMPCode = uint8(n)
		case "op":
			s.ARPOp = uint8(n)
		case "qlen":
			s.DNSQNameLen = uint8(n)
		case "qtype":
			s.DNSQType = uint16(n)
		case "rcode":
			s.DNSRCode = uint8(n)
		default:
			return s, false, fmt.Errorf("unknown key %q", k)
		}
	}
	return s, late, nil
}

func TestScenarioFiles(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "scenarios", "*.txt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no scenario files (%v)", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			sc, err := parseScenario(file)
			if err != nil {
				t.Fatal(err)
			}
			if err := sc.cfg.Validate(); err != nil {
				t.Fatal(err)
			}
			ref := newPerHost(sc.cfg)
			var got []*Vector
			agg := NewAggregator(sc.cfg, func(v *Vector) { got = append(got, v) })
			for i := range sc.packets {
				before := ref.late
				ref.add(&sc.packets[i])
				agg.Add(&sc.packets[i])
				if late := ref.late > before; late != sc.late[i] {
					t.Errorf("line %d: late %v, want %v", sc.lines[i], late, sc.late[i])
				}
			}
			ref.flush()
			agg.Flush()
			vs := byID(t, ref.out)
			if sc.vectors >= 0 && len(vs) != sc.vectors {
				t.Errorf("%d vectors, want %d", len(vs), sc.vectors)
			}
			if av := byID(t, got); !reflect.DeepEqual(av, vs) {
				t.Error("Aggregator and per-host States differ")
			}
			for _, e := range sc.want {
				v := vs[e.id]
				if v == nil {
					t.Errorf("no vector %s", e.id)
					continue
				}
				if x := v.Values[feature(t, e.feature)]; x != e.lo {
					t.Errorf("%s: %s = %v, want %v", e.id, e.feature, x, e.lo)
				}
			}
			for _, v := range ref.out {
				checkFinite(t, v)
			}
		})
	}
}
