package window

import (
	"math"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"github.com/riptide-nids/riptide/packet"
)

// Packet builders for tests. Times are offsets from t0, a window boundary of
// the default config (2026-03-02T09:00:00Z).
var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC).UnixNano()

func at(d time.Duration) int64 { return t0 + int64(d) }

func ip(s string) netip.Addr { return netip.MustParseAddr(s) }

func v4(a, b, c, d byte) netip.Addr { return netip.AddrFrom4([4]byte{a, b, c, d}) }

func tcp(t time.Duration, src string, sport uint16, dst string, dport uint16, flags uint8) packet.Summary {
	return packet.Summary{Time: at(t), Src: ip(src), Dst: ip(dst), SrcPort: sport, DstPort: dport,
		Length: 60, Proto: packet.ProtoTCP, TCPFlags: flags}
}

func udp(t time.Duration, src string, sport uint16, dst string, dport uint16, length uint32) packet.Summary {
	return packet.Summary{Time: at(t), Src: ip(src), Dst: ip(dst), SrcPort: sport, DstPort: dport,
		Length: length, Proto: packet.ProtoUDP}
}

const (
	syn    = packet.TCPSyn
	synack = packet.TCPSyn | packet.TCPAck
	ack    = packet.TCPAck
	rst    = packet.TCPRst | packet.TCPAck
	fin    = packet.TCPFin | packet.TCPAck
)

// perHost is the reference driver: one State per host, the stream time as
// the largest packet time so far, Add to the source and destination hosts
// and Close on every host after every packet, as the windower processor does.
type perHost struct {
	cfg    Config
	states map[netip.Addr]*State
	stream int64
	seen   bool
	out    []*Vector
	late   uint64
}

func newPerHost(cfg Config) *perHost {
	return &perHost{cfg: cfg, states: make(map[netip.Addr]*State)}
}

func (p *perHost) add(s *packet.Summary) (added bool) {
	if !p.seen || s.Time > p.stream {
		p.stream, p.seen = s.Time, true
	}
	var late bool
	for i, h := range []netip.Addr{s.Src, s.Dst} {
		if !IsHost(h) || (i == 1 && s.Dst == s.Src) {
			continue
		}
		st := p.states[h]
		if st == nil {
			st = NewState()
			p.states[h] = st
		}
		before := st.Late
		if st.Add(h, s, p.stream, p.cfg) {
			added = true
		}
		late = late || st.Late > before
		// Close the windows of the hosts a packet touches, as the
		// processor does for the host of each message it processes.
		st.Close(h.String(), p.stream, p.cfg, func(v *Vector) { p.out = append(p.out, v) })
	}
	if late {
		p.late++
	}
	return added
}

func (p *perHost) flush() {
	for h, st := range p.states {
		st.Close(h.String(), math.MaxInt64, p.cfg, func(v *Vector) { p.out = append(p.out, v) })
	}
}

// byID indexes vectors by ID, failing on duplicates.
func byID(t *testing.T, vs []*Vector) map[string]*Vector {
	t.Helper()
	m := make(map[string]*Vector, len(vs))
	for _, v := range vs {
		if _, dup := m[v.ID()]; dup {
			t.Fatalf("two vectors with id %s", v.ID())
		}
		m[v.ID()] = v
	}
	return m
}

func vecID(host string, start time.Duration) string {
	return (&Vector{Host: host, Start: at(start)}).ID()
}

func feature(t *testing.T, name string) int {
	t.Helper()
	i, ok := FeatureIndex(name)
	if !ok {
		t.Fatalf("no feature %q", name)
	}
	return i
}

func checkFinite(t *testing.T, v *Vector) {
	t.Helper()
	if len(v.Values) != len(Schema) {
		t.Fatalf("%s: %d values, want %d", v.ID(), len(v.Values), len(Schema))
	}
	for i, x := range v.Values {
		if math.IsNaN(x) || math.IsInf(x, 0) || x < 0 {
			t.Errorf("%s: %s = %v", v.ID(), Schema[i].Name, x)
		}
	}
}

// synthetic returns n packets among hosts internal hosts (10.0.x.y) and four
// times as many external ones, in time order with up to jitter of disorder, starting
// at t0 and about rate packets per second. The mix covers TCP handshakes,
// scans, UDP and DNS, ICMP and ARP. It is deterministic for a seed.
func synthetic(n, hosts, rate int, jitter time.Duration, seed uint64) []packet.Summary {
	r := rand.New(rand.NewPCG(seed, 42))
	ps := make([]packet.Summary, n)
	step := int64(time.Second) / int64(rate)
	internal := func(i int) netip.Addr { return v4(10, 0, byte(i>>8), byte(i)) }
	for i := range ps {
		s := &ps[i]
		s.Time = t0 + int64(i)*step
		if jitter > 0 {
			s.Time -= r.Int64N(int64(jitter))
		}
		s.Src = internal(r.IntN(hosts))
		if r.IntN(3) == 0 {
			s.Dst = internal(r.IntN(hosts))
		} else {
			k := r.IntN(4 * hosts) // external peers
			s.Dst = v4(byte(20+k%180), byte(k>>8), byte(k), 1)
		}
		if r.IntN(2) == 0 {
			s.Src, s.Dst = s.Dst, s.Src
		}
		s.Length = uint32(40 + r.IntN(1460))
		switch k := r.IntN(20); {
		case k < 12:
			s.Proto = packet.ProtoTCP
			s.SrcPort, s.DstPort = uint16(1024+r.IntN(60000)), []uint16{80, 443, 22, 8080}[r.IntN(4)]
			s.TCPFlags = []uint8{syn, synack, ack, ack, ack, fin, rst}[r.IntN(7)]
			if k == 0 { // scan-like: random destination port
				s.DstPort = uint16(r.IntN(65536))
			}
		case k < 17:
			s.Proto = packet.ProtoUDP
			s.SrcPort, s.DstPort = uint16(1024+r.IntN(60000)), 53
			s.Flags = packet.FlagDNS
			if r.IntN(2) == 0 {
				s.Flags |= packet.FlagDNSResponse
				s.DNSRCode = uint8(r.IntN(4))
			}
			s.DNSQNameLen = uint8(r.IntN(80))
			s.DNSQType = []uint16{1, 28, 16, 10}[r.IntN(4)]
		case k < 19:
			s.Proto = packet.ProtoICMP
			s.ICMPType = []uint8{0, 3, 8, 11}[r.IntN(4)]
		default:
			s.Flags = packet.FlagARP
			s.ARPOp = uint8(1 + r.IntN(2))
		}
	}
	return ps
}
