package window

import (
	"fmt"
	"math"
	"net/netip"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/riptide-nids/riptide/packet"
)

// TestBoundaries feeds one host's packets to a State, one step at a time,
// with the stream time at the largest packet time so far, and checks which
// packets are added and which windows each step closes.
func TestBoundaries(t *testing.T) {
	type step struct {
		t      time.Duration // packet time after t0
		added  bool
		closes []time.Duration // starts of the windows closed after this packet
	}
	tests := []struct {
		name  string
		cfg   Config
		steps []step
		final []time.Duration // windows closed by the final flush
		pkts  map[time.Duration]float64
		late  uint64
	}{
		{
			name: "alignment without grace",
			cfg:  Config{Size: 10 * time.Second},
			steps: []step{
				{0, true, nil},
				{10*time.Second - 1, true, nil},
				{10 * time.Second, true, []time.Duration{0}}, // exactly at end: next window
				{19 * time.Second, true, nil},
				{25 * time.Second, true, []time.Duration{10 * time.Second}},
			},
			final: []time.Duration{20 * time.Second},
			pkts:  map[time.Duration]float64{0: 2, 10 * time.Second: 2, 20 * time.Second: 1},
		},
		{
			name: "grace keeps a window open",
			cfg:  Config{Size: 10 * time.Second, Grace: 2 * time.Second},
			steps: []step{
				{5 * time.Second, true, nil},
				{11900 * time.Millisecond, true, nil},
				{9 * time.Second, true, nil}, // end 10 s > stream 11.9 - grace 2
				{12 * time.Second, true, []time.Duration{0}},
				{9500 * time.Millisecond, false, nil}, // late: end 10 <= 12 - 2
				{13 * time.Second, true, nil},
			},
			final: []time.Duration{10 * time.Second},
			pkts:  map[time.Duration]float64{0: 2, 10 * time.Second: 3},
			late:  1,
		},
		{
			name: "far behind is late, within grace is not",
			cfg:  DefaultConfig(),
			steps: []step{
				{30 * time.Second, true, []time.Duration{}},
				{time.Second, false, nil},
				{25 * time.Second, true, nil},
				{32 * time.Second, true, []time.Duration{20 * time.Second}},
				{29 * time.Second, false, nil},
			},
			final: []time.Duration{30 * time.Second},
			pkts:  map[time.Duration]float64{20 * time.Second: 1, 30 * time.Second: 2},
			late:  2,
		},
		{
			name: "jump over idle windows",
			cfg:  Config{Size: time.Second, Grace: 500 * time.Millisecond},
			steps: []step{
				{100 * time.Millisecond, true, nil},
				{1200 * time.Millisecond, true, nil},
				{time.Minute, true, []time.Duration{0, time.Second}},
			},
			final: []time.Duration{time.Minute},
			pkts:  map[time.Duration]float64{0: 1, time.Second: 1, time.Minute: 1},
		},
	}
	host := ip("10.0.0.1")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.cfg.Validate(); err != nil {
				t.Fatal(err)
			}
			st := NewState()
			var got []*Vector
			emit := func(v *Vector) { got = append(got, v) }
			stream := int64(math.MinInt64)
			for i, s := range tt.steps {
				p := tcp(s.t, "10.0.0.1", 40000, "10.0.0.2", 80, ack)
				stream = max(stream, p.Time)
				if added := st.Add(host, &p, stream, tt.cfg); added != s.added {
					t.Errorf("step %d (%v): added %v, want %v", i, s.t, added, s.added)
				}
				got = got[:0]
				st.Close(host.String(), stream, tt.cfg, emit)
				if err := sameStarts(got, s.closes); err != nil {
					t.Errorf("step %d (%v): %v", i, s.t, err)
				}
				if n := st.Open(); n > tt.cfg.MaxOpen() {
					t.Errorf("step %d: %d open windows > %d", i, n, tt.cfg.MaxOpen())
				}
				// Closing again at the same stream time emits nothing:
				// each window closes exactly once.
				got = got[:0]
				st.Close(host.String(), stream, tt.cfg, emit)
				if len(got) != 0 {
					t.Errorf("step %d: second Close emitted %d vectors", i, len(got))
				}
			}
			var all []*Vector
			st.Close(host.String(), math.MaxInt64, tt.cfg, func(v *Vector) { all = append(all, v) })
			if err := sameStarts(all, tt.final); err != nil {
				t.Errorf("flush: %v", err)
			}
			if st.Open() != 0 || st.Late != tt.late {
				t.Errorf("after flush: %d open, %d late; want 0, %d", st.Open(), st.Late, tt.late)
			}
		})
	}
}

// TestBoundariesCounts replays the boundary scenarios through the reference
// driver and checks the packet counts of every window.
func TestBoundariesCounts(t *testing.T) {
	cfg := Config{Size: 10 * time.Second, Grace: 2 * time.Second}
	p := newPerHost(cfg)
	for _, d := range []time.Duration{5 * time.Second, 11900 * time.Millisecond, 9 * time.Second,
		12 * time.Second, 9500 * time.Millisecond, 13 * time.Second} {
		s := tcp(d, "10.0.0.1", 40000, "10.0.0.2", 80, ack)
		p.add(&s)
	}
	p.flush()
	got := byID(t, p.out)
	want := map[string]float64{
		vecID("10.0.0.1", 0): 2, vecID("10.0.0.1", 10*time.Second): 3,
		vecID("10.0.0.2", 0): 2, vecID("10.0.0.2", 10*time.Second): 3,
	}
	if len(got) != len(want) {
		t.Fatalf("%d vectors, want %d", len(got), len(want))
	}
	for id, n := range want {
		v := got[id]
		if v == nil {
			t.Fatalf("no vector %s", id)
		}
		f := FPktsOut
		if v.Host == "10.0.0.2" {
			f = FPktsIn
		}
		if v.Values[f] != n {
			t.Errorf("%s: %s = %v, want %v", id, Schema[f].Name, v.Values[f], n)
		}
		if v.End-v.Start != int64(cfg.Size) || v.Start%int64(cfg.Size) != 0 {
			t.Errorf("%s: window [%d, %d) not aligned", id, v.Start, v.End)
		}
	}
	if p.late != 1 {
		t.Errorf("late %d, want 1", p.late)
	}
}

func sameStarts(vs []*Vector, starts []time.Duration) error {
	var got, want []int64
	for _, v := range vs {
		got = append(got, v.Start)
	}
	for _, s := range starts {
		want = append(want, at(s))
	}
	if !slices.Equal(got, want) {
		return fmt.Errorf("closed windows starting %v, want %v", got, want)
	}
	return nil
}

// expect is one expected feature value of one vector, within [lo, hi].
type expect struct {
	id      string
	feature string
	lo, hi  float64
}

func eq(host string, start time.Duration, feature string, v float64) expect {
	return expect{vecID(host, start), feature, v, v}
}

func near(host string, start time.Duration, feature string, v, rel float64) expect {
	return expect{vecID(host, start), feature, v * (1 - rel), v * (1 + rel)}
}

func between(host string, start time.Duration, feature string, lo, hi float64) expect {
	return expect{vecID(host, start), feature, lo, hi}
}

// Scenario generators.

func handshake() []packet.Summary {
	return []packet.Summary{
		tcp(time.Second, "10.0.0.1", 40000, "10.0.0.2", 443, syn),
		tcp(time.Second+time.Millisecond, "10.0.0.2", 443, "10.0.0.1", 40000, synack),
		tcp(time.Second+2*time.Millisecond, "10.0.0.1", 40000, "10.0.0.2", 443, ack),
		udp(2*time.Second, "10.0.0.1", 5000, "10.0.0.1", 5001, 100), // to itself
		tcp(3*time.Second, "10.0.0.1", 40000, "10.0.0.2", 443, fin),
	}
}

// portScan is an nmap-like SYN scan of ports 1..1000; ports 22, 80 and 443
// answer SYN-ACK, the others RST.
func portScan() []packet.Summary {
	var ps []packet.Summary
	for port := uint16(1); port <= 1000; port++ {
		d := time.Duration(port) * 5 * time.Millisecond
		ps = append(ps, tcp(d, "172.16.0.8", 51000, "64.13.134.52", port, syn))
		reply := rst
		if port == 22 || port == 80 || port == 443 {
			reply = synack
		}
		ps = append(ps, tcp(d+time.Millisecond, "64.13.134.52", port, "172.16.0.8", 51000, reply))
	}
	return ps
}

// synFlood sends 37,000 SYNs from distinct spoofed sources to 10.10.10.10:80
// within one window; the victim answers the first 200 with SYN-ACK. A benign
// web server 10.10.10.20 answers all of its 50 clients.
func synFlood() []packet.Summary {
	var ps []packet.Summary
	const n = 37000
	for i := range n {
		d := time.Duration(i) * (9 * time.Second / n)
		src := floodSrc(i)
		s := packet.Summary{Time: at(d), Src: src, Dst: ip("10.10.10.10"), SrcPort: uint16(1024 + i%60000),
			DstPort: 80, Length: 54, Proto: packet.ProtoTCP, TCPFlags: syn}
		ps = append(ps, s)
		if i < 200 {
			r := s
			r.Time += int64(time.Millisecond)
			r.Src, r.Dst, r.SrcPort, r.DstPort, r.TCPFlags = s.Dst, s.Src, 80, s.SrcPort, synack
			ps = append(ps, r)
		}
	}
	for i := range 50 {
		c := fmt.Sprintf("192.168.0.%d", i+1)
		d := time.Duration(i) * 100 * time.Millisecond
		ps = append(ps,
			tcp(d, c, 50000, "10.10.10.20", 80, syn),
			tcp(d+time.Millisecond, "10.10.10.20", 80, c, 50000, synack),
			tcp(d+2*time.Millisecond, c, 50000, "10.10.10.20", 80, ack))
	}
	slices.SortStableFunc(ps, func(a, b packet.Summary) int { return int(a.Time - b.Time) })
	return ps
}

// floodSrc is the i-th spoofed source of synFlood.
func floodSrc(i int) netip.Addr { return v4(byte(11+i%200), byte(i>>8), byte(i), byte(7*i)) }

func dnsTraffic() []packet.Summary {
	q := func(d time.Duration, qlen uint8, qtype uint16) packet.Summary {
		s := udp(d, "192.168.1.5", 33000, "192.168.1.1", 53, 80)
		s.Flags, s.DNSQNameLen, s.DNSQType = packet.FlagDNS, qlen, qtype
		return s
	}
	r := func(d time.Duration, rcode uint8) packet.Summary {
		s := udp(d, "192.168.1.1", 53, "192.168.1.5", 33000, 120)
		s.Flags, s.DNSRCode = packet.FlagDNS|packet.FlagDNSResponse, rcode
		return s
	}
	return []packet.Summary{
		q(100*time.Millisecond, 10, 1), r(110*time.Millisecond, 3),
		q(200*time.Millisecond, 20, 16), r(210*time.Millisecond, 3),
		q(300*time.Millisecond, 30, 1), r(310*time.Millisecond, 0),
		q(400*time.Millisecond, 60, 10),
	}
}

func icmpArp() []packet.Summary {
	var ps []packet.Summary
	for i := 1; i <= 254; i++ {
		ps = append(ps, packet.Summary{Time: at(time.Duration(i) * time.Millisecond), Src: ip("192.168.1.109"),
			Dst: v4(192, 168, 2, byte(i)), Length: 98, Proto: packet.ProtoICMP, ICMPType: 8})
	}
	for i := 1; i <= 3; i++ {
		ps = append(ps, packet.Summary{Time: at(time.Second + time.Duration(i)*time.Millisecond), Src: v4(192, 168, 2, byte(i)),
			Dst: ip("192.168.1.109"), Length: 98, Proto: packet.ProtoICMP, ICMPType: 0})
	}
	for i := 4; i <= 5; i++ {
		ps = append(ps, packet.Summary{Time: at(time.Second + time.Duration(i)*time.Millisecond), Src: ip("192.168.1.1"),
			Dst: ip("192.168.1.109"), Length: 70, Proto: packet.ProtoICMP, ICMPType: 3, ICMPCode: 1})
	}
	for i := 1; i <= 10; i++ {
		ps = append(ps, packet.Summary{Time: at(2*time.Second + time.Duration(i)*time.Millisecond), Src: ip("192.168.1.109"),
			Dst: v4(192, 168, 2, byte(i)), Length: 42, Flags: packet.FlagARP, ARPOp: 1})
	}
	// An IPv6 neighbour solicitation counts as an ARP request; an
	// unreachable for IPv6 is ICMPv6 type 1.
	ps = append(ps,
		packet.Summary{Time: at(3 * time.Second), Src: ip("fe80::1"), Dst: ip("fe80::2"), Length: 86,
			Proto: packet.ProtoICMPv6, ICMPType: 135},
		packet.Summary{Time: at(3*time.Second + 1), Src: ip("fe80::2"), Dst: ip("fe80::1"), Length: 86,
			Proto: packet.ProtoICMPv6, ICMPType: 1},
		packet.Summary{Time: at(3*time.Second + 2), Src: ip("fe80::1"), Dst: ip("fe80::2"), Length: 86,
			Proto: packet.ProtoICMPv6, ICMPType: 128})
	return ps
}

// bruteForce sends 60 SYNs to one SSH service, all accepted, and 40 SYNs to
// distinct ports of another host, none answered.
func bruteForce() []packet.Summary {
	var ps []packet.Summary
	for i := range 60 {
		d := time.Duration(i) * 100 * time.Millisecond
		sport := uint16(40000 + i)
		ps = append(ps, tcp(d, "147.32.80.40", sport, "147.32.80.37", 22, syn),
			tcp(d+time.Millisecond, "147.32.80.37", 22, "147.32.80.40", sport, synack))
		if i < 40 {
			ps = append(ps, tcp(d+2*time.Millisecond, "147.32.80.40", sport, "147.32.80.99", uint16(1000+i), syn))
		}
	}
	return ps
}

func timing() []packet.Summary {
	u := func(d time.Duration, src string, length uint32) packet.Summary {
		return udp(d, src, 1000, "10.9.9.9", 2000, length)
	}
	return []packet.Summary{
		u(0, "10.1.0.1", 100), u(time.Second, "10.1.0.1", 300), u(2*time.Second, "10.1.0.1", 100), u(3*time.Second, "10.1.0.1", 300),
		u(0, "10.1.0.2", 100), u(time.Second, "10.1.0.2", 100), u(4*time.Second, "10.1.0.2", 100),
		// Out of order by 500 ms: a gap of 0, the mean unchanged.
		u(0, "10.1.0.3", 100), u(2*time.Second, "10.1.0.3", 100), u(1500*time.Millisecond, "10.1.0.3", 100),
		u(0, "10.1.0.4", 100), // one packet: no gaps
	}
}

func nonHosts() []packet.Summary {
	return []packet.Summary{
		udp(0, "0.0.0.0", 68, "255.255.255.255", 67, 342),
		udp(time.Second, "10.0.0.7", 5353, "224.0.0.251", 5353, 100),
		udp(2*time.Second, "10.0.0.7", 5353, "ff02::fb", 5353, 100),
	}
}

func TestScenarios(t *testing.T) {
	const (
		a, b   = "10.0.0.1", "10.0.0.2"
		scn    = "172.16.0.8"
		tgt    = "64.13.134.52"
		victim = "10.10.10.10"
		web    = "10.10.10.20"
		dnsC   = "192.168.1.5"
		dnsR   = "192.168.1.1"
		sweep  = "192.168.1.109"
		brute  = "147.32.80.40"
	)
	tests := []struct {
		name    string
		packets []packet.Summary
		vectors int // expected number of vectors
		want    []expect
	}{
		{"handshake both directions", handshake(), 2, []expect{
			eq(a, 0, "pkts_out", 4), eq(a, 0, "pkts_in", 2), // the packet to itself counts both ways
			eq(a, 0, "bytes_out", 60*3+100), eq(a, 0, "bytes_in", 60+100),
			eq(a, 0, "syn_out", 1), eq(a, 0, "synack_in", 1), eq(a, 0, "syn_out_unanswered", 0),
			eq(a, 0, "fin_out", 1), eq(a, 0, "udp_out", 1), eq(a, 0, "udp_in", 1),
			eq(a, 0, "dst_ips", 2), eq(a, 0, "src_ips", 2), eq(a, 0, "dst_ports", 2), eq(a, 0, "dst_pairs", 2),
			eq(a, 0, "max_syn_per_service", 1),
			eq(b, 0, "pkts_in", 3), eq(b, 0, "pkts_out", 1), eq(b, 0, "syn_in", 1), eq(b, 0, "synack_out", 1),
			eq(b, 0, "syn_in_unanswered", 0), eq(b, 0, "fin_in", 1), eq(b, 0, "local_ports", 1), eq(b, 0, "src_ips", 1),
			eq(b, 0, "dst_ips", 1), eq(b, 0, "src_ip_entropy", 0),
			eq(a, 0, "pkt_size_mean", (60*4+100)/5.0),
			eq(b, 0, "iat_mean", 2000.0/3), // 4 packets over 2 s
		}},
		{"port scan", portScan(), 2, []expect{
			eq(scn, 0, "syn_out", 1000), eq(scn, 0, "rst_in", 997), eq(scn, 0, "synack_in", 3),
			eq(scn, 0, "syn_out_unanswered", 997), eq(scn, 0, "dst_ips", 1),
			near(scn, 0, "dst_ports", 1000, 0.1), near(scn, 0, "dst_pairs", 1000, 0.1),
			eq(scn, 0, "max_syn_per_service", 1), between(scn, 0, "dst_port_entropy", 5.8, 6),
			eq(scn, 0, "dst_ip_entropy", 0), eq(scn, 0, "src_ips", 1),
			near(tgt, 0, "local_ports", 1000, 0.1), eq(tgt, 0, "src_ips", 1), eq(tgt, 0, "syn_in", 1000),
			eq(tgt, 0, "rst_out", 997), eq(tgt, 0, "syn_in_unanswered", 997), eq(tgt, 0, "synack_out", 3),
		}},
		{"spoofed SYN flood victim", synFlood(), 37000 + 2 + 50, []expect{
			eq(victim, 0, "syn_in", 37000), eq(victim, 0, "pkts_in", 37000), eq(victim, 0, "synack_out", 200),
			eq(victim, 0, "syn_in_unanswered", 36800), near(victim, 0, "src_ips", 37000, 0.1),
			between(victim, 0, "src_ip_entropy", 5.9, 6), eq(victim, 0, "local_ports", 1),
			eq(victim, 0, "pkt_size_mean", 54), eq(victim, 0, "syn_out", 0),
			eq(web, 0, "syn_in", 50), eq(web, 0, "syn_in_unanswered", 0), near(web, 0, "src_ips", 50, 0.1),
			between(web, 0, "src_ip_entropy", 4.8, 6),
			eq("11.0.0.0", 0, "syn_out", 1), eq("11.0.0.0", 0, "synack_in", 1), eq("11.0.0.0", 0, "syn_out_unanswered", 0),
			eq(floodSrc(200).String(), 0, "pkts_out", 1), eq(floodSrc(200).String(), 0, "syn_out_unanswered", 1),
			eq(floodSrc(200).String(), 0, "dst_ips", 1),
		}},
		{"DNS", dnsTraffic(), 2, []expect{
			eq(dnsC, 0, "dns_queries_out", 4), eq(dnsC, 0, "dns_qname_len_mean", 30), eq(dnsC, 0, "dns_qname_len_max", 60),
			eq(dnsC, 0, "dns_txt_null_share", 0.5), eq(dnsC, 0, "dns_nxdomain_in", 2), eq(dnsC, 0, "udp_out", 4),
			eq(dnsR, 0, "dns_queries_out", 0), eq(dnsR, 0, "dns_nxdomain_in", 0), eq(dnsR, 0, "dns_txt_null_share", 0),
			eq(dnsR, 0, "dns_qname_len_mean", 0), eq(dnsR, 0, "local_ports", 1),
		}},
		{"ICMP sweep and ARP", icmpArp(), 254 + 4, []expect{
			eq(sweep, 0, "icmp_out", 254), eq(sweep, 0, "icmp_echo_req_out", 254), eq(sweep, 0, "icmp_in", 5),
			eq(sweep, 0, "icmp_unreach_in", 2), eq(sweep, 0, "arp_req_out", 10), near(sweep, 0, "dst_ips", 254, 0.1),
			eq(sweep, 0, "dst_ports", 0), eq(sweep, 0, "dst_port_entropy", 0), between(sweep, 0, "dst_ip_entropy", 5.7, 6),
			eq("fe80::1", 0, "arp_req_out", 1), eq("fe80::1", 0, "icmp_echo_req_out", 1), eq("fe80::1", 0, "icmp_unreach_in", 1),
			eq("fe80::2", 0, "icmp_unreach_in", 0), eq("fe80::2", 0, "icmp_out", 1),
			eq(dnsR, 0, "icmp_out", 2), eq(dnsR, 0, "icmp_echo_req_out", 0), eq(dnsR, 0, "icmp_in", 0),
			eq("192.168.2.7", 0, "icmp_in", 1), eq("192.168.2.7", 0, "src_ips", 1), eq("192.168.2.2", 0, "icmp_out", 1),
		}},
		{"brute force", bruteForce(), 3, []expect{
			eq(brute, 0, "max_syn_per_service", 60), eq(brute, 0, "syn_out", 100), eq(brute, 0, "synack_in", 60),
			eq(brute, 0, "syn_out_unanswered", 40), eq(brute, 0, "dst_ips", 2), near(brute, 0, "dst_pairs", 41, 0.05),
			eq("147.32.80.37", 0, "src_ips", 1), eq("147.32.80.37", 0, "syn_in_unanswered", 0),
			eq("147.32.80.99", 0, "syn_in_unanswered", 40),
		}},
		{"timing and size", timing(), 5, []expect{
			eq("10.1.0.1", 0, "iat_mean", 1000), eq("10.1.0.1", 0, "iat_std", 0), eq("10.1.0.1", 0, "pkt_size_mean", 200),
			eq("10.1.0.2", 0, "iat_mean", 2000), between("10.1.0.2", 0, "iat_std", 1000-1e-6, 1000+1e-6),
			eq("10.1.0.3", 0, "iat_mean", 1000), between("10.1.0.3", 0, "iat_std", 1000-1e-6, 1000+1e-6),
			eq("10.1.0.4", 0, "iat_mean", 0), eq("10.1.0.4", 0, "iat_std", 0),
			eq("10.9.9.9", 0, "pkts_in", 11), eq("10.9.9.9", 0, "src_ips", 4), eq("10.9.9.9", 0, "local_ports", 1),
		}},
		{"no windows for non-hosts", nonHosts(), 1, []expect{
			eq("10.0.0.7", 0, "pkts_out", 2), eq("10.0.0.7", 0, "dst_ips", 2),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPerHost(DefaultConfig())
			for i := range tt.packets {
				p.add(&tt.packets[i])
			}
			p.flush()
			got := byID(t, p.out)
			if len(got) != tt.vectors {
				t.Errorf("%d vectors, want %d", len(got), tt.vectors)
			}
			for _, v := range p.out {
				checkFinite(t, v)
			}
			for _, e := range tt.want {
				v := got[e.id]
				if v == nil {
					t.Errorf("no vector %s", e.id)
					continue
				}
				x := v.Values[feature(t, e.feature)]
				if x < e.lo || x > e.hi {
					t.Errorf("%s: %s = %v, want [%v, %v]", e.id, e.feature, x, e.lo, e.hi)
				}
			}
			if p.late != 0 {
				t.Errorf("%d late packets", p.late)
			}
		})
	}
}

// TestFloodStandsOut compares the flood victim's window with the benign web
// server's on the features that should single it out.
func TestFloodStandsOut(t *testing.T) {
	p := newPerHost(DefaultConfig())
	ps := synFlood()
	for i := range ps {
		p.add(&ps[i])
	}
	p.flush()
	got := byID(t, p.out)
	v, w := got[vecID("10.10.10.10", 0)], got[vecID("10.10.10.20", 0)]
	// On its own window, the victim is two orders of magnitude above a busy
	// benign server on each of these.
	for _, f := range []int{FSynIn, FSynInUnanswered, FSrcIPs, FPktsIn} {
		if v.Values[f] < 100*max(1, w.Values[f]) {
			t.Errorf("%s: victim %v, web server %v", Schema[f].Name, v.Values[f], w.Values[f])
		}
	}
}

func TestDeterministic(t *testing.T) {
	run := func() []*Vector {
		p := newPerHost(DefaultConfig())
		for _, ps := range [][]packet.Summary{portScan(), bruteForce(), dnsTraffic()} {
			for i := range ps {
				p.add(&ps[i])
			}
		}
		p.flush()
		slices.SortFunc(p.out, func(x, y *Vector) int { return cmpVec(x, y) })
		return p.out
	}
	a, b := run(), run()
	if !reflect.DeepEqual(a, b) {
		t.Fatal("two runs differ")
	}
	ids := map[string]bool{}
	for _, v := range a {
		if ids[v.ID()] {
			t.Fatalf("duplicate id %s", v.ID())
		}
		ids[v.ID()] = true
	}
	if id := a[0].ID(); id != fmt.Sprintf("%s@%d", a[0].Host, t0/1e6) {
		t.Errorf("ID %q", id)
	}
}

func cmpVec(x, y *Vector) int {
	if x.Start != y.Start {
		return int(x.Start - y.Start)
	}
	switch {
	case x.Host < y.Host:
		return -1
	case x.Host > y.Host:
		return 1
	}
	return 0
}

func TestStateAddIgnoresOtherHosts(t *testing.T) {
	st := NewState()
	s := tcp(0, "10.0.0.1", 1, "10.0.0.2", 2, syn)
	if st.Add(ip("10.0.0.3"), &s, s.Time, DefaultConfig()) || st.Open() != 0 || st.Late != 0 {
		t.Fatal("packet of other hosts was added")
	}
	s.Time = MaxTime + 1
	if st.Add(ip("10.0.0.1"), &s, s.Time, DefaultConfig()) || st.Late != 1 {
		t.Fatal("out-of-range time not counted late")
	}
}

func TestStateOpenWindowCap(t *testing.T) {
	// Without Close, Add keeps windows open up to MaxOpenWindows, then
	// counts further new windows as late.
	st := NewState()
	cfg := Config{Size: time.Second}
	h := ip("10.0.0.1")
	for i := range MaxOpenWindows + 3 {
		s := tcp(time.Duration(i)*time.Second, "10.0.0.1", 1, "10.0.0.2", 2, ack)
		st.Add(h, &s, s.Time, cfg)
	}
	if st.Open() != MaxOpenWindows || st.Late != 3 {
		t.Fatalf("open %d late %d", st.Open(), st.Late)
	}
	st.Reset()
	if st.Open() != 0 || st.LastOffset != -1 {
		t.Fatal("Reset did not empty the state")
	}
}
