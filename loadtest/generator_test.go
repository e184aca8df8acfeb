package loadtest

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"hash"
	"hash/fnv"
	"math"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/riptide-nids/riptide/internal/testenv"

	"github.com/riptide-nids/riptide/packet"
)

// learn is the learning period of the test scenario.
const learn = 3 * time.Minute

// run drains a generator, calling f with every summary and its attack index.
func run(t testing.TB, cfg Config, f func(s *packet.Summary, attack int)) int {
	t.Helper()
	g, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var s packet.Summary
	n := 0
	for g.Next(&s) {
		f(&s, g.LastAttack())
		n++
	}
	if g.Next(&s) {
		t.Fatal("Next returned true after returning false")
	}
	return n
}

// digest hashes every field of a summary.
func digest(h hash.Hash, s *packet.Summary) {
	src, dst := s.Src.As16(), s.Dst.As16()
	var b [64]byte
	p := b[:0]
	for i := range 8 {
		p = append(p, byte(s.Time>>(8*i)))
	}
	p = append(p, src[:]...)
	p = append(p, dst[:]...)
	p = append(p, byte(s.SrcPort>>8), byte(s.SrcPort), byte(s.DstPort>>8), byte(s.DstPort),
		byte(s.Length>>24), byte(s.Length>>16), byte(s.Length>>8), byte(s.Length),
		s.Proto, s.TCPFlags, s.ICMPType, s.ICMPCode, s.ARPOp, s.Flags, s.DNSRCode, s.DNSQNameLen,
		byte(s.DNSQType>>8), byte(s.DNSQType))
	h.Write(p)
}

func TestDeterminism(t *testing.T) {
	cfg := DefaultConfig(learn)
	sum := func(cfg Config) (uint64, int) {
		h := fnv.New64a()
		n := run(t, cfg, func(s *packet.Summary, _ int) { digest(h, s) })
		return h.Sum64(), n
	}
	a, na := sum(cfg)
	b, nb := sum(cfg)
	if a != b || na != nb {
		t.Fatalf("same config, different streams: %x (%d summaries) vs %x (%d)", a, na, b, nb)
	}
	cfg.Seed++
	c, _ := sum(cfg)
	if c == a {
		t.Fatal("a different seed yields the same stream")
	}
	t.Logf("%d summaries in %v", na, cfg.Duration)
}

func TestAttacksDoNotChangeNormalTraffic(t *testing.T) {
	normal := func(cfg Config) uint64 {
		h := fnv.New64a()
		run(t, cfg, func(s *packet.Summary, attack int) {
			if attack < 0 {
				digest(h, s)
			}
		})
		return h.Sum64()
	}
	cfg := DefaultConfig(learn)
	with := normal(cfg)
	cfg.Attacks = nil
	if without := normal(cfg); with != without {
		t.Fatal("the normal traffic changes when attacks are added")
	}
}

func TestOrderAndBounds(t *testing.T) {
	cfg := DefaultConfig(learn)
	cfg.Start = cfg.Start.Add(123456789 * time.Nanosecond) // not a whole µs
	cfg.Duration += 789 * time.Nanosecond
	start, end := cfg.Start.UnixNano(), cfg.Start.Add(cfg.Duration).UnixNano()
	prev := int64(math.MinInt64)
	var first, last int64
	n := run(t, cfg, func(s *packet.Summary, _ int) {
		if s.Time < prev {
			t.Fatalf("time goes back from %d to %d", prev, s.Time)
		}
		if s.Time < start || s.Time >= end {
			t.Fatalf("time %d outside [%d, %d)", s.Time, start, end)
		}
		if s.Time%1000 != 0 {
			t.Fatalf("time %d is not a whole microsecond", s.Time)
		}
		if !s.Src.IsValid() || !s.Dst.IsValid() || s.Length == 0 {
			t.Fatalf("incomplete summary %+v", s)
		}
		if first == 0 {
			first = s.Time
		}
		prev, last = s.Time, s.Time
	})
	if n == 0 {
		t.Fatal("no traffic")
	}
	// The stream covers the whole duration, not just its start.
	if d := time.Duration(end - last); d > 5*time.Second {
		t.Errorf("last packet %v before the end", d)
	}
	if d := time.Duration(first - start); d > 5*time.Second {
		t.Errorf("first packet %v after the start", d)
	}
}

func TestLabelsMatchAttackPackets(t *testing.T) {
	cfg := DefaultConfig(learn)
	type span struct {
		first, last int64
		n           int
	}
	spans := make([]span, len(cfg.Attacks))
	ports := map[uint16]bool{}
	scan := cfg.Attacks[0]
	run(t, cfg, func(s *packet.Summary, attack int) {
		if attack < 0 {
			return
		}
		sp := &spans[attack]
		if sp.n == 0 {
			sp.first = s.Time
		}
		sp.last = s.Time
		sp.n++
		if attack == 0 && s.Src == scan.Attacker && s.TCPFlags == packet.TCPSyn {
			ports[s.DstPort] = true
		}
	})
	g, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	labels := g.Labels()
	for i, at := range cfg.Attacks {
		sp := spans[i]
		if sp.n == 0 {
			t.Fatalf("attack %d (%s) sent nothing", i, at.Kind)
		}
		start, end := time.Unix(0, sp.first).UTC(), time.Unix(0, sp.last).UTC()
		if start.Before(at.Start) || start.After(at.Start.Add(time.Second)) {
			t.Errorf("%s: first packet at %v, attack starts at %v", at.Kind, start, at.Start)
		}
		if end.After(at.Start.Add(at.Duration + 5*time.Second)) {
			t.Errorf("%s: last packet at %v, long after the attack's end %v", at.Kind, end, at.Start.Add(at.Duration))
		}
		roles := map[string]int{}
		for _, l := range labels {
			if l.Attack != string(at.Kind) {
				continue
			}
			roles[l.Role]++
			if !l.Start.Equal(start) || !l.End.Equal(end) {
				t.Errorf("%s: label %v %v–%v, attack packets %v–%v", at.Kind, l.Host, l.Start, l.End, start, end)
			}
			switch l.Role {
			case RoleAttacker:
				if l.Host != at.Attacker {
					t.Errorf("%s: attacker %v, want %v", at.Kind, l.Host, at.Attacker)
				}
			case RoleVictim:
				if l.Host != at.Victim {
					t.Errorf("%s: victim %v, want %v", at.Kind, l.Host, at.Victim)
				}
			}
		}
		wantAttacker := 1
		if !at.Attacker.IsValid() {
			wantAttacker = 0
		}
		if roles[RoleAttacker] != wantAttacker || roles[RoleVictim] != 1 {
			t.Errorf("%s: roles %v", at.Kind, roles)
		}
		if at.Kind == SYNFlood && roles[RoleParticipant] < 100 {
			t.Errorf("%s: %d spoofed participants, want >= 100", at.Kind, roles[RoleParticipant])
		}
		t.Logf("%s: %d packets, %v–%v, roles %v", at.Kind, sp.n, start.Format(LabelTimeFormat), end.Format(LabelTimeFormat), roles)
	}
	if n := len(ports); n < 950 || n > 1050 {
		t.Errorf("scan touched %d distinct ports, want about 1000", n)
	}
	if !slices.IsSortedFunc(labels, func(a, b Label) int { return a.Start.Compare(b.Start) }) {
		t.Error("labels not in the order of their attacks")
	}
}

func TestAttackShapes(t *testing.T) {
	cfg := DefaultConfig(learn)
	var synScan, rstFromVictim, synAckFromVictim, bruteSYN, bruteFIN, floodSYN, floodSYNACK int
	run(t, cfg, func(s *packet.Summary, attack int) {
		switch attack {
		case 0:
			switch {
			case s.TCPFlags == packet.TCPSyn:
				synScan++
			case s.Src == cfg.Attacks[0].Victim && s.TCPFlags == packet.TCPRst|packet.TCPAck:
				rstFromVictim++
			case s.Src == cfg.Attacks[0].Victim && s.TCPFlags == packet.TCPSyn|packet.TCPAck:
				synAckFromVictim++
			}
		case 1:
			if s.DstPort != 22 && s.SrcPort != 22 {
				t.Fatalf("brute force packet not on port 22: %+v", s)
			}
			switch s.TCPFlags {
			case packet.TCPSyn:
				bruteSYN++
			case packet.TCPFin | packet.TCPAck:
				if s.Src == cfg.Attacks[1].Attacker {
					bruteFIN++
				}
			}
		case 2:
			switch s.TCPFlags {
			case packet.TCPSyn:
				floodSYN++
			case packet.TCPSyn | packet.TCPAck:
				floodSYNACK++
			}
		}
	})
	if synScan != rstFromVictim+synAckFromVictim || synAckFromVictim == 0 {
		t.Errorf("scan: %d SYNs, %d RSTs and %d SYN-ACKs back", synScan, rstFromVictim, synAckFromVictim)
	}
	if bruteSYN < 500 || bruteSYN > 700 || bruteFIN != bruteSYN {
		t.Errorf("brute force: %d connections (%d closed), want about 600, all closed", bruteSYN, bruteFIN)
	}
	if floodSYN < 18000 || floodSYN > 22000 || floodSYNACK != floodSYN {
		t.Errorf("flood: %d SYNs, %d SYN-ACKs; want about 20000 of each", floodSYN, floodSYNACK)
	}
	t.Logf("scan %d SYNs (%d open); brute force %d connections; flood %d SYNs", synScan, synAckFromVictim, bruteSYN, floodSYN)
}

func TestNormalTrafficVaries(t *testing.T) {
	cfg := DefaultConfig(0)
	cfg.Duration = 10 * time.Minute
	cfg.Attacks = nil
	perHost := map[netip.Addr]int{}
	var dns, nx, arp, icmp, udp, syn, fin int
	qlen := map[uint8]bool{}
	sizes := map[uint32]bool{}
	run(t, cfg, func(s *packet.Summary, _ int) {
		perHost[s.Src]++
		sizes[s.Length] = true
		switch {
		case s.Is(packet.FlagDNS):
			dns++
			qlen[s.DNSQNameLen] = true
			if s.DNSRCode == 3 {
				nx++
			}
		case s.Is(packet.FlagARP):
			arp++
		case s.Proto == packet.ProtoICMP:
			icmp++
		case s.Proto == packet.ProtoUDP:
			udp++
		case s.TCPFlags == packet.TCPSyn:
			syn++
		case s.TCPFlags&packet.TCPFin != 0:
			fin++
		}
	})
	var counts []int
	for i := range cfg.Hosts {
		counts = append(counts, perHost[ClientAddr(i)])
	}
	slices.Sort(counts)
	lo, hi := counts[len(counts)/10], counts[len(counts)*9/10]
	t.Logf("clients' packets in 10 min: min %d, p10 %d, median %d, p90 %d, max %d", counts[0], lo, counts[len(counts)/2], hi, counts[len(counts)-1])
	t.Logf("DNS %d (NXDOMAIN %d), ARP %d, ICMP %d, other UDP %d, SYN %d, FIN %d, %d lengths", dns, nx, arp, icmp, udp, syn, fin, len(sizes))
	if lo == 0 || hi < 3*lo {
		t.Errorf("clients' packet counts do not vary enough: p10 %d, p90 %d", lo, hi)
	}
	if dns == 0 || nx == 0 || arp == 0 || icmp == 0 || udp == 0 || syn == 0 || fin == 0 {
		t.Error("some kind of traffic is missing")
	}
	if len(sizes) < 500 {
		t.Errorf("only %d distinct packet lengths", len(sizes))
	}
	for l := range qlen {
		if l < 10 || l > 40 {
			t.Errorf("query name length %d outside 10..40", l)
		}
	}
	if nx*100 < dns/2/100 || nx*100 > dns/2*10 {
		t.Errorf("NXDOMAIN %d of %d DNS packets", nx, dns)
	}
	for a := range perHost {
		if a.Is4() && a.As4()[0] == 10 || slices.Contains(externalWeb, a) || slices.Contains(externalDNS, a) || slices.Contains(externalNTP, a) {
			continue
		}
		t.Errorf("unexpected address %v", a)
	}
}

func TestWriteLabelsCSV(t *testing.T) {
	g, err := New(DefaultConfig(learn))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteLabelsCSV(&buf, g.Labels()); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.HasPrefix(out, "host,start,end,attack,role\r\n") || !strings.HasSuffix(out, "\r\n") {
		t.Errorf("header or line ends differ from the benchmark's: %q", out[:min(len(out), 80)])
	}
	lines := strings.Split(strings.TrimSuffix(out, "\r\n"), "\r\n")
	if want := 1 + len(g.Labels()); len(lines) != want {
		t.Fatalf("%d lines, want %d", len(lines), want)
	}
	if got, want := lines[1], "10.1.0.17,2026-03-02T09:04:00.000000Z,"; !strings.HasPrefix(got, want) {
		t.Errorf("first label %q, want prefix %q", got, want)
	}
	// Every line parses like the benchmark's own labels.
	ref, err := os.ReadFile(testenv.Datasets(t, "bench", "dev-mixed.labels.csv"))
	if err != nil {
		t.Fatalf("reference labels: %v", err)
	}
	refLines := strings.SplitN(string(ref), "\r\n", 3)
	if lines[0] != refLines[0] {
		t.Errorf("header %q, benchmark's %q", lines[0], refLines[0])
	}
	refRec := strings.Split(refLines[1], ",")
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range recs[1:] {
		if len(rec) != len(refRec) || len(rec[1]) != len(refRec[1]) || len(rec[2]) != len(refRec[2]) {
			t.Fatalf("record %q does not look like %q", rec, refRec)
		}
		for _, f := range rec[1:3] {
			if _, err := time.Parse(LabelTimeFormat, f); err != nil {
				t.Error(err)
			}
		}
	}
	if err := WriteLabelsCSV(failWriter{}, g.Labels()); err == nil {
		t.Error("WriteLabelsCSV ignores write errors")
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		edit func(c *Config)
		msg  string
	}{
		{"default", func(*Config) {}, ""},
		{"no duration", func(c *Config) { c.Duration = 0 }, "duration"},
		{"no start", func(c *Config) { c.Start = time.Time{} }, "start"},
		{"no servers", func(c *Config) { c.Servers = 0 }, "servers"},
		{"negative hosts", func(c *Config) { c.Hosts = -1 }, "hosts"},
		{"unknown attack", func(c *Config) { c.Attacks[0].Kind = "ddos" }, "unknown kind"},
		{"no victim", func(c *Config) { c.Attacks[1].Victim = netip.Addr{} }, "no victim"},
		{"no attacker", func(c *Config) { c.Attacks[0].Attacker = netip.Addr{} }, "no attacker"},
		{"self attack", func(c *Config) { c.Attacks[0].Attacker = c.Attacks[0].Victim }, "is the victim"},
		{"bad rate", func(c *Config) { c.Attacks[2].Rate = -1 }, "rate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig(learn)
			tt.edit(&cfg)
			_, err := New(cfg)
			if tt.msg == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.msg) || !strings.HasPrefix(err.Error(), "loadtest: ") {
				t.Fatalf("err = %v, want one mentioning %q", err, tt.msg)
			}
		})
	}
}

func TestScanPortsDistinct(t *testing.T) {
	for _, off := range []int32{0, 1, 517, 1023} {
		seen := make(map[uint16]bool, 65535)
		for i := range int32(65535) {
			p := scanPort(i, off)
			if p == 0 || seen[p] {
				t.Fatalf("offset %d: probe %d repeats port %d", off, i, p)
			}
			seen[p] = true
		}
	}
}

func TestNextAllocs(t *testing.T) {
	cfg := DefaultConfig(learn)
	g, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var s packet.Summary
	for range 200_000 { // warm up: pools and heap at their working size
		g.Next(&s)
	}
	allocs := testing.AllocsPerRun(10, func() {
		for range 10_000 {
			if !g.Next(&s) {
				t.Fatal("stream ended early")
			}
		}
	})
	if allocs > 1 {
		t.Errorf("%v allocations per 10,000 summaries, want about 0", allocs)
	}
}

// BenchmarkGenerator measures summaries per second on an endless stream with
// the default attacks, for a small office and a large site.
func BenchmarkGenerator(b *testing.B) {
	for _, size := range []struct{ hosts, servers int }{{200, 10}, {5000, 100}} {
		b.Run(fmt.Sprintf("hosts=%d", size.hosts), func(b *testing.B) {
			cfg := DefaultConfig(learn)
			cfg.Hosts, cfg.Servers = size.hosts, size.servers
			cfg.Duration = 10000 * time.Hour
			g, err := New(cfg)
			if err != nil {
				b.Fatal(err)
			}
			var s packet.Summary
			b.ReportAllocs()
			for b.Loop() {
				if !g.Next(&s) {
					b.Fatal("stream ended")
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "summaries/s")
		})
	}
}

// TestAttacksStandOut checks that each default attack is plain in the
// per-host 10 s windows the detector sees: the attacking or attacked host
// sends several times more SYNs (SYNs to port 22, SYN-ACKs, RSTs) in one
// window than any host does in any window of normal traffic. (Counted over all
// ports, the brute force's ~100 SYNs per window are only 2-3 times a busy
// client's burst: it is the hard case, as in real traffic.)
func TestAttacksStandOut(t *testing.T) {
	cfg := DefaultConfig(learn)
	type key struct {
		host netip.Addr
		win  int64
	}
	type counts struct{ syn, syn22, synack, rst int }
	normal := map[key]*counts{}
	attack := map[key]*counts{}
	run(t, cfg, func(s *packet.Summary, at int) {
		m := normal
		if at >= 0 {
			m = attack
		}
		k := key{s.Src, s.Time / 10e9}
		c := m[k]
		if c == nil {
			c = &counts{}
			m[k] = c
		}
		switch s.TCPFlags {
		case packet.TCPSyn:
			c.syn++
			if s.DstPort == 22 {
				c.syn22++
			}
		case packet.TCPSyn | packet.TCPAck:
			c.synack++
		case packet.TCPRst | packet.TCPAck, packet.TCPRst:
			c.rst++
		}
	})
	var maxNormal counts
	for _, c := range normal {
		maxNormal.syn = max(maxNormal.syn, c.syn)
		maxNormal.syn22 = max(maxNormal.syn22, c.syn22)
		maxNormal.synack = max(maxNormal.synack, c.synack)
		maxNormal.rst = max(maxNormal.rst, c.rst)
	}
	peak := func(h netip.Addr, f func(*counts) int) int {
		p := 0
		for k, c := range attack {
			if k.host == h {
				p = max(p, f(c))
			}
		}
		return p
	}
	syn := func(c *counts) int { return c.syn }
	tests := []struct {
		name       string
		got, limit int
	}{
		{"scan SYNs", peak(cfg.Attacks[0].Attacker, syn), maxNormal.syn},
		{"scan victim RSTs", peak(cfg.Attacks[0].Victim, func(c *counts) int { return c.rst }), maxNormal.rst},
		{"brute force SSH SYNs", peak(cfg.Attacks[1].Attacker, func(c *counts) int { return c.syn22 }), maxNormal.syn22},
		{"flood victim SYN-ACKs", peak(cfg.Attacks[2].Victim, func(c *counts) int { return c.synack }), maxNormal.synack},
	}
	for _, tt := range tests {
		t.Logf("%s: %d per window; normal traffic at most %d", tt.name, tt.got, tt.limit)
		if tt.got < 3*tt.limit {
			t.Errorf("%s: %d per window, not well above normal traffic's %d", tt.name, tt.got, tt.limit)
		}
	}
}

func TestSmallAndOddConfigs(t *testing.T) {
	tests := []struct {
		name string
		edit func(c *Config)
	}{
		{"one server", func(c *Config) { c.Servers = 1 }},
		{"no clients", func(c *Config) { c.Hosts = 0 }},
		{"attack before start", func(c *Config) { c.Attacks[0].Start = c.Start.Add(-10 * time.Second) }},
		{"attack after end", func(c *Config) { c.Attacks[2].Start = c.Start.Add(c.Duration) }},
		{"flood from one source", func(c *Config) { c.Attacks[2].Attacker = ClientAddr(3) }},
		{"outside victim", func(c *Config) { c.Attacks[0].Victim = netip.MustParseAddr("192.0.2.7") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig(learn)
			tt.edit(&cfg)
			start := cfg.Start.UnixNano()
			perAttack := make([]int, len(cfg.Attacks))
			n := run(t, cfg, func(s *packet.Summary, attack int) {
				if s.Time < start {
					t.Fatalf("packet at %d before the start %d", s.Time, start)
				}
				if attack >= 0 {
					perAttack[attack]++
				}
			})
			g, _ := New(cfg)
			seen := map[string]bool{}
			for _, l := range g.Labels() {
				seen[l.Attack] = true
			}
			for i, at := range cfg.Attacks {
				if (perAttack[i] > 0) != seen[string(at.Kind)] {
					t.Errorf("%s: %d packets but labelled %v", at.Kind, perAttack[i], seen[string(at.Kind)])
				}
			}
			t.Logf("%d summaries, per attack %v", n, perAttack)
		})
	}
}
