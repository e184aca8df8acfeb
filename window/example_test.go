package window_test

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/riptide-nids/riptide/packet"
	"github.com/riptide-nids/riptide/window"
)

func ExampleAggregator() {
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC).UnixNano()
	scanner, target := netip.MustParseAddr("172.16.0.8"), netip.MustParseAddr("64.13.134.52")
	agg := window.NewAggregator(window.DefaultConfig(), func(v *window.Vector) {
		fmt.Printf("%s syn_out=%v dst_ports=%.0f syn_in_unanswered=%v\n", v.ID(),
			v.Values[window.FSynOut], v.Values[window.FDstPorts], v.Values[window.FSynInUnanswered])
	})
	for port := uint16(1); port <= 5; port++ {
		agg.Add(&packet.Summary{Time: t0 + int64(port)*int64(time.Millisecond), Src: scanner, Dst: target,
			SrcPort: 51000, DstPort: port, Length: 60, Proto: packet.ProtoTCP, TCPFlags: packet.TCPSyn})
	}
	agg.Flush()
	fmt.Printf("%+v\n", agg.Stats())
	// Output:
	// 172.16.0.8@1772442000000 syn_out=5 dst_ports=5 syn_in_unanswered=0
	// 64.13.134.52@1772442000000 syn_out=0 dst_ports=0 syn_in_unanswered=5
	// {Packets:5 Late:0 Windows:2 Hosts:0}
}

func ExampleState() {
	cfg := window.DefaultConfig()
	host := netip.MustParseAddr("10.0.0.1")
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC).UnixNano()
	st := window.NewState()
	var streamTime int64 // the partition's stream time: the largest packet time
	emit := func(v *window.Vector) { fmt.Println("closed", v.ID(), "pkts_out", v.Values[window.FPktsOut]) }

	// What the windower does for each record: skip replays, add, close,
	// remember the offset, store the encoded state.
	for offset, sec := range []int64{1, 5, 13, 3} {
		if int64(offset) <= st.LastOffset {
			continue
		}
		s := &packet.Summary{Time: t0 + sec*int64(time.Second), Src: host, Dst: netip.MustParseAddr("10.0.0.2"), Length: 60}
		streamTime = max(streamTime, s.Time)
		if !st.Add(host, s, streamTime, cfg) {
			fmt.Println("late packet at", sec, "s")
		}
		st.Close(host.String(), streamTime, cfg, emit)
		st.LastOffset = int64(offset)
		b, _ := st.MarshalBinary()
		_ = b // written to the table
	}
	fmt.Println("open", st.Open(), "late", st.Late)
	// Output:
	// closed 10.0.0.1@1772442000000 pkts_out 2
	// late packet at 3 s
	// open 1 late 1
}
