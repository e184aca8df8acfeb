package window

import (
	"maps"
	"net/netip"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/riptide-nids/riptide/packet"
)

func TestIsHost(t *testing.T) {
	tests := []struct {
		addr string
		want bool
	}{
		{"10.0.0.1", true},
		{"192.168.1.255", true}, // a directed broadcast cannot be told from a host without the prefix
		{"2001:db8::1", true},
		{"fe80::1", true},
		{"0.0.0.0", false},
		{"::", false},
		{"255.255.255.255", false},
		{"::ffff:255.255.255.255", false},
		{"224.0.0.251", false},
		{"239.255.255.250", false},
		{"ff02::1", false},
	}
	for _, tt := range tests {
		if got := IsHost(netip.MustParseAddr(tt.addr)); got != tt.want {
			t.Errorf("IsHost(%s) = %v, want %v", tt.addr, got, tt.want)
		}
	}
	if IsHost(netip.Addr{}) {
		t.Error("IsHost(zero Addr) = true")
	}
}

// TestAggregatorMatchesState checks that the Aggregator emits exactly the
// vectors of per-host States fed the same packets and stream times, in
// order, with the same late count.
func TestAggregatorMatchesState(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		packets []packet.Summary
	}{
		{"synthetic in order", DefaultConfig(), synthetic(20000, 50, 500, 0, 1)},
		{"synthetic with disorder and late packets", DefaultConfig(), synthetic(20000, 50, 500, 5*time.Second, 2)},
		{"short windows no grace", Config{Size: time.Second}, synthetic(20000, 30, 2000, 300*time.Millisecond, 3)},
		{"scenarios", DefaultConfig(), slices.Concat(handshake(), portScan(), bruteForce(), dnsTraffic(), icmpArp(), timing(), nonHosts())},
		{"flood", DefaultConfig(), synFlood()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ref := newPerHost(tt.cfg)
			var got []*Vector
			agg := NewAggregator(tt.cfg, func(v *Vector) { got = append(got, v) })
			for i := range tt.packets {
				ref.add(&tt.packets[i])
				agg.Add(&tt.packets[i])
			}
			ref.flush()
			agg.Flush()
			if !slices.IsSortedFunc(got, cmpVec) {
				t.Error("aggregator vectors not in (start, host) order")
			}
			want := byID(t, ref.out)
			have := byID(t, got)
			if len(have) != len(want) {
				t.Errorf("%d vectors, want %d", len(have), len(want))
			}
			for _, id := range slices.Sorted(maps.Keys(want)) {
				if !reflect.DeepEqual(have[id], want[id]) {
					t.Errorf("vector %s differs:\n got %v\nwant %v", id, have[id], want[id])
					break
				}
			}
			st := agg.Stats()
			if st.Packets != uint64(len(tt.packets)) || st.Late != ref.late || st.Windows != uint64(len(got)) || st.Hosts != 0 {
				t.Errorf("stats %+v; want %d packets, %d late, %d windows, 0 hosts", st, len(tt.packets), ref.late, len(got))
			}
			for _, v := range got {
				checkFinite(t, v)
			}
			t.Logf("%d packets, %d late, %d vectors", st.Packets, st.Late, st.Windows)
		})
	}
}

// TestAggregatorClosesAtBoundaries checks when vectors come out: not before
// the stream time reaches a window's end plus grace, and then at once.
func TestAggregatorClosesAtBoundaries(t *testing.T) {
	var got []*Vector
	agg := NewAggregator(DefaultConfig(), func(v *Vector) { got = append(got, v) })
	steps := []struct {
		t       time.Duration
		emitted int
		hosts   int
	}{
		{time.Second, 0, 2},
		{9 * time.Second, 0, 2},
		{11 * time.Second, 0, 2},
		{12*time.Second - 1, 0, 2},
		{12 * time.Second, 2, 2}, // [0, 10 s) closes for both hosts; both still have [10, 20 s)
		{5 * time.Second, 2, 2},  // late
		{35 * time.Second, 4, 2},
	}
	for i, s := range steps {
		p := tcp(s.t, "10.0.0.1", 1, "10.0.0.2", 2, ack)
		agg.Add(&p)
		if len(got) != s.emitted || agg.Stats().Hosts != s.hosts {
			t.Fatalf("step %d (%v): %d emitted, %d hosts; want %d, %d", i, s.t, len(got), agg.Stats().Hosts, s.emitted, s.hosts)
		}
	}
	if st := agg.Stats(); st.Late != 1 || st.Packets != uint64(len(steps)) {
		t.Errorf("stats %+v", st)
	}
	agg.Flush()
	if len(got) != 6 || agg.Stats().Hosts != 0 {
		t.Errorf("after flush %d vectors, %d hosts", len(got), agg.Stats().Hosts)
	}
}
