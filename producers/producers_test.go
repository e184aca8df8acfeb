package producers_test

import (
	"context"
	"errors"
	"io"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/riptide-nids/riptide/codecs"
	"github.com/riptide-nids/riptide/kclient"
	"github.com/riptide-nids/riptide/packet"
	"github.com/riptide-nids/riptide/producers"
	"github.com/riptide-nids/riptide/window"
)

func TestParseSpeed(t *testing.T) {
	tests := []struct {
		in      string
		want    producers.Speed
		wantErr bool
	}{
		{"", 0, false},
		{"max", 0, false},
		{"MAX", 0, false},
		{"realtime", 1, false},
		{"RealTime", 1, false},
		{"1", 1, false},
		{"10", 10, false},
		{"10x", 10, false},
		{"0.5", 0.5, false},
		{"2.5x", 2.5, false},
		{"0", 0, true},
		{"-1", 0, true},
		{"x", 0, true},
		{"fast", 0, true},
		{"10xx", 0, true},
		{"NaN", 0, true},
		{"Inf", 0, true},
	}
	for _, tt := range tests {
		got, err := producers.ParseSpeed(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParseSpeed(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			continue
		}
		if err != nil {
			if !strings.Contains(err.Error(), tt.in) {
				t.Errorf("ParseSpeed(%q) error %q does not quote the input", tt.in, err)
			}
			continue
		}
		if got != tt.want {
			t.Errorf("ParseSpeed(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestNewValidates(t *testing.T) {
	tests := []struct {
		name string
		cfg  producers.Config
	}{
		{"no topic", producers.Config{Partitions: 1}},
		{"no partitions", producers.Config{Topic: "t"}},
		{"negative partitions", producers.Config{Topic: "t", Partitions: -2}},
	}
	for _, tt := range tests {
		if _, err := producers.New(nil, tt.cfg); err == nil {
			t.Errorf("%s: New succeeded", tt.name)
		}
	}
}

var (
	hostA = netip.MustParseAddr("10.0.0.1")
	hostB = netip.MustParseAddr("10.0.0.2")
	// t0 is an epoch-aligned second; packets are offset from it by a
	// fraction of a millisecond so that millisecond rounding shows.
	t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC).UnixNano()
)

func sum(t int64, src, dst netip.Addr, length uint32) packet.Summary {
	return packet.Summary{Time: t, Src: src, Dst: dst, SrcPort: 40000, DstPort: 443, Length: length, Proto: packet.ProtoTCP, TCPFlags: packet.TCPAck}
}

// twoHosts returns 3 s of traffic between A and B (10 packets a second,
// alternating direction), plus packets to and from non-hosts and one packet
// from A to itself.
func twoHosts() []packet.Summary {
	var out []packet.Summary
	nonHosts := []struct{ src, dst string }{
		{"10.0.0.1", "224.0.0.251"},            // multicast destination: only A's batch
		{"0.0.0.0", "255.255.255.255"},         // DHCP discover: nobody's batch
		{"10.0.0.2", "ff02::fb"},               // IPv6 multicast: only B's batch
		{"::", "ff02::1:ff00:1"},               // unspecified to multicast: nobody's
		{"10.0.0.2", "::ffff:255.255.255.255"}, // mapped broadcast: only B's
		{"10.0.0.1", "10.0.0.1"},               // to itself: once in A's batch
	}
	for k := range 30 {
		t := t0 + int64(k)*int64(100*time.Millisecond) + 123_456
		if k%2 == 0 {
			out = append(out, sum(t, hostA, hostB, uint32(100+k)))
		} else {
			out = append(out, sum(t, hostB, hostA, uint32(100+k)))
		}
		if k%5 == 2 {
			nh := nonHosts[(k/5)%len(nonHosts)]
			out = append(out, sum(t+1, netip.MustParseAddr(nh.src), netip.MustParseAddr(nh.dst), 60))
		}
	}
	return out
}

type batchKey struct {
	interval int64
	host     netip.Addr
	chunk    int
}

// expectBatches is the reference model of a producer fed sums in time order:
// each packet goes to the batch of each endpoint that is a host, batches are
// per epoch-aligned interval and split every maxBatch summaries.
func expectBatches(sums []packet.Summary, interval time.Duration, maxBatch int) map[batchKey][]packet.Summary {
	out := map[batchKey][]packet.Summary{}
	count := map[batchKey]int{} // summaries so far per (interval, host)
	for _, s := range sums {
		iv := s.Time / int64(interval)
		for i, h := range []netip.Addr{s.Src, s.Dst} {
			if !window.IsHost(h) || (i == 1 && s.Dst == s.Src) {
				continue
			}
			k := batchKey{iv, h, 0}
			k.chunk = count[k] / maxBatch
			count[batchKey{iv, h, 0}]++
			out[k] = append(out[k], s)
		}
	}
	return out
}

type scenario struct {
	partitions int32
	cfg        producers.Config
	sums       []packet.Summary
}

// run produces sc.sums with a Producer to a fresh kfake topic and returns
// every record of the topic and the producer.
func (sc scenario) run(t *testing.T) ([]*kgo.Record, *producers.Producer) {
	t.Helper()
	topic := "packets-" + strings.ReplaceAll(t.Name(), "/", "-")
	brokers := cluster(t, sc.partitions, topic)
	ctx := ctxTimeout(t, 30*time.Second)
	cl, err := kclient.NewClient(kclient.Config{Brokers: brokers})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	cfg := sc.cfg
	cfg.Topic = topic
	cfg.Partitions = int(sc.partitions)
	p, err := producers.New(cl, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i := range sc.sums {
		p.Add(ctx, &sc.sums[i])
	}
	if err := p.Close(ctx); err != nil {
		t.Fatal(err)
	}
	return consumeAll(ctx, t, brokers, topic), p
}

func decode(t *testing.T, r *kgo.Record) []packet.Summary {
	t.Helper()
	sums, err := codecs.DecodePacketBatch(r.Value, nil)
	if err != nil {
		t.Fatalf("record %s/%d@%d: %v", r.Topic, r.Partition, r.Offset, err)
	}
	return sums
}

func TestProducerTwoHosts(t *testing.T) {
	const parts = 3
	sums := twoHosts()
	sc := scenario{partitions: parts, cfg: producers.Config{Interval: time.Second, FinalWatermark: 12 * time.Second}, sums: sums}
	recs, p := sc.run(t)

	want := expectBatches(sums, time.Second, 1<<30)
	// Two hosts over three intervals: six batches, by hand as well as by
	// the model.
	if len(want) != 6 {
		t.Fatalf("reference model gives %d batches, want 6", len(want))
	}
	last := sums[len(sums)-1].Time
	finalWM := (last + int64(12*time.Second) + int64(time.Millisecond) - 1) / int64(time.Millisecond) * int64(time.Millisecond)
	if got := p.FinalWatermark(); got != finalWM {
		t.Errorf("FinalWatermark() = %d, want %d (last packet + 12 s rounded up to the ms)", got, finalWM)
	}
	if finalWM%int64(time.Millisecond) != 0 || finalWM <= last+int64(12*time.Second) {
		t.Fatalf("test setup: final watermark %d should round up", finalWM)
	}
	wantWM := []int64{t0 + int64(time.Second), t0 + 2*int64(time.Second), finalWM}

	got := map[batchKey][]packet.Summary{}
	watermarks := map[int32][]int64{}
	var bytes int64
	for _, r := range recs {
		batch := decode(t, r)
		if r.Key == nil {
			if len(batch) != 0 {
				t.Errorf("watermark on partition %d holds %d summaries", r.Partition, len(batch))
			}
			watermarks[r.Partition] = append(watermarks[r.Partition], r.Timestamp.UnixNano())
			continue
		}
		host, err := netip.ParseAddr(string(r.Key))
		if err != nil || host.String() != string(r.Key) {
			t.Errorf("key %q is not a canonical address", r.Key)
			continue
		}
		if !window.IsHost(host) {
			t.Errorf("record keyed by non-host %s", host)
		}
		if wantPart := int32(kclient.Partition(r.Key, parts)); r.Partition != wantPart {
			t.Errorf("%s on partition %d, want %d", host, r.Partition, wantPart)
		}
		if len(batch) == 0 {
			t.Errorf("empty batch for %s", host)
			continue
		}
		if r.Timestamp.UnixMilli() != batch[0].Time/int64(time.Millisecond) {
			t.Errorf("%s: record time %v, first packet %v", host, r.Timestamp, time.Unix(0, batch[0].Time))
		}
		k := batchKey{batch[0].Time / int64(time.Second), host, 0}
		if _, dup := got[k]; dup {
			t.Errorf("two records for %s in interval %d", host, k.interval)
		}
		got[k] = batch
		bytes += int64(len(r.Value))
	}
	for k, w := range want {
		if !slices.Equal(got[k], w) {
			t.Errorf("%s interval %d: got %d summaries, want %d\n got %v\nwant %v", k.host, k.interval, len(got[k]), len(w), got[k], w)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected batch for %s in interval %d", k.host, k.interval)
		}
	}
	for part := range int32(parts) {
		if !slices.Equal(watermarks[part], wantWM) {
			t.Errorf("partition %d: watermarks %v, want %v", part, watermarks[part], wantWM)
		}
	}
	checkWatermarkOrder(t, recs)

	st := p.Stats()
	wantStats := producers.Stats{Packets: int64(len(sums)), Records: 6, Bytes: bytes, Watermarks: 3 * parts, First: sums[0].Time, Last: last}
	if st != wantStats {
		t.Errorf("Stats() = %+v, want %+v", st, wantStats)
	}
	t.Logf("%d packets -> %d records (%d bytes), %d watermarks", st.Packets, st.Records, st.Bytes, st.Watermarks)
}

// checkWatermarkOrder checks, per partition, that every data record before a
// watermark started before it and every one after started at or after it.
func checkWatermarkOrder(t *testing.T, recs []*kgo.Record) {
	t.Helper()
	byPart := map[int32][]*kgo.Record{}
	for _, r := range recs {
		byPart[r.Partition] = append(byPart[r.Partition], r)
	}
	for part, rs := range byPart {
		slices.SortFunc(rs, func(a, b *kgo.Record) int { return int(a.Offset - b.Offset) })
		for i, r := range rs {
			if r.Key != nil {
				continue
			}
			wm := r.Timestamp
			for _, d := range rs[:i] {
				if d.Key != nil && !d.Timestamp.Before(wm) {
					t.Errorf("partition %d: record of %s at %v before watermark %v", part, d.Key, d.Timestamp, wm)
				}
			}
			for _, d := range rs[i+1:] {
				if d.Key != nil && d.Timestamp.Before(wm) {
					t.Errorf("partition %d: record of %s at %v after watermark %v", part, d.Key, d.Timestamp, wm)
				}
			}
		}
	}
}

func TestProducerMaxBatch(t *testing.T) {
	mc := netip.MustParseAddr("224.0.0.251")
	var sums []packet.Summary
	for k := range 10 { // interval 0: batches of 4, 4, 2
		sums = append(sums, sum(t0+int64(k)*int64(50*time.Millisecond)+7_000, hostA, mc, 100))
	}
	for k := range 3 { // interval 1: one batch of 3
		sums = append(sums, sum(t0+int64(time.Second)+int64(k)*int64(time.Millisecond)+3_000, hostA, mc, 100))
	}
	recs, p := scenario{partitions: 2, cfg: producers.Config{MaxBatch: 4}, sums: sums}.run(t)
	var sizes []int
	var firsts []int64
	var all []packet.Summary
	for _, r := range recs {
		if r.Key == nil {
			continue
		}
		b := decode(t, r)
		sizes = append(sizes, len(b))
		firsts = append(firsts, r.Timestamp.UnixMilli())
		all = append(all, b...)
	}
	if want := []int{4, 4, 2, 3}; !slices.Equal(sizes, want) {
		t.Errorf("batch sizes %v, want %v", sizes, want)
	}
	ms := func(i int) int64 { return sums[i].Time / int64(time.Millisecond) }
	if want := []int64{ms(0), ms(4), ms(8), ms(10)}; !slices.Equal(firsts, want) {
		t.Errorf("record times %v, want the first packet of each batch %v", firsts, want)
	}
	if !slices.Equal(all, sums) {
		t.Errorf("batches hold %v, want %v", all, sums)
	}
	if st := p.Stats(); st.Records != 4 || st.Watermarks != 2*2 {
		t.Errorf("Stats() = %+v, want 4 records and 4 watermarks", st)
	}
}

func TestProducerNoPackets(t *testing.T) {
	recs, p := scenario{partitions: 2, cfg: producers.Config{FinalWatermark: time.Second}}.run(t)
	if len(recs) != 0 {
		t.Errorf("a producer without packets wrote %d records", len(recs))
	}
	if st := p.Stats(); st != (producers.Stats{}) {
		t.Errorf("Stats() = %+v, want zero", st)
	}
}

func TestProducerCloseReportsRejectedRecords(t *testing.T) {
	brokers := cluster(t, 1, "some-other-topic")
	ctx := ctxTimeout(t, 60*time.Second)
	cl, err := kclient.NewClient(kclient.Config{Brokers: brokers},
		kgo.MetadataMinAge(10*time.Millisecond), kgo.MetadataMaxAge(50*time.Millisecond), kgo.RecordDeliveryTimeout(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	p, err := producers.New(cl, producers.Config{Topic: "no-such-topic", Partitions: 2})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range twoHosts() {
		p.Add(ctx, &s)
	}
	err = p.Close(ctx)
	if err == nil {
		t.Fatal("Close succeeded although the topic does not exist")
	}
	if ctx.Err() != nil {
		t.Fatalf("Close returned only at the test deadline: %v", err)
	}
	st := p.Stats()
	if st.Failed == 0 || st.Failed != st.Records+st.Watermarks {
		t.Errorf("Stats() = %+v: want every record and watermark failed", st)
	}
	t.Logf("Close: %v", err)
}

// sliceSource yields sums, then end (io.EOF when nil).
type sliceSource struct {
	sums []packet.Summary
	end  error
	read int
}

func (s *sliceSource) Next(out *packet.Summary) error {
	if s.read >= len(s.sums) {
		if s.end != nil {
			return s.end
		}
		return io.EOF
	}
	*out = s.sums[s.read]
	s.read++
	return nil
}

func TestReplay(t *testing.T) {
	sums := twoHosts()
	topic := "replay"
	brokers := cluster(t, 2, topic)
	ctx := ctxTimeout(t, 30*time.Second)
	cl, err := kclient.NewClient(kclient.Config{Brokers: brokers})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()

	t.Run("max speed", func(t *testing.T) {
		p, err := producers.New(cl, producers.Config{Topic: topic, Partitions: 2})
		if err != nil {
			t.Fatal(err)
		}
		if err := producers.Replay(ctx, &sliceSource{sums: sums}, p, 0, nil); err != nil {
			t.Fatal(err)
		}
		if err := p.Close(ctx); err != nil {
			t.Fatal(err)
		}
		if st := p.Stats(); st.Packets != int64(len(sums)) || st.Records != 6 {
			t.Errorf("Stats() = %+v, want %d packets in 6 records", st, len(sums))
		}
	})
	t.Run("source error", func(t *testing.T) {
		p, err := producers.New(cl, producers.Config{Topic: topic, Partitions: 2})
		if err != nil {
			t.Fatal(err)
		}
		boom := errors.New("boom")
		if err := producers.Replay(ctx, &sliceSource{sums: sums[:5], end: boom}, p, 0, nil); !errors.Is(err, boom) {
			t.Fatalf("Replay = %v, want %v", err, boom)
		}
		if st := p.Stats(); st.Packets != 5 {
			t.Errorf("added %d packets before the error, want 5", st.Packets)
		}
		_ = p.Close(ctx)
	})
	t.Run("canceled", func(t *testing.T) {
		p, err := producers.New(cl, producers.Config{Topic: topic, Partitions: 2})
		if err != nil {
			t.Fatal(err)
		}
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if err := producers.Replay(cctx, &sliceSource{sums: sums}, p, 0, nil); !errors.Is(err, context.Canceled) {
			t.Fatalf("Replay with a canceled context = %v", err)
		}
	})
	t.Run("paced", func(t *testing.T) {
		p, err := producers.New(cl, producers.Config{Topic: topic, Partitions: 2})
		if err != nil {
			t.Fatal(err)
		}
		// 2.9 s of event time at 20x takes at least 145 ms of wall time.
		start := time.Now()
		if err := producers.Replay(ctx, &sliceSource{sums: sums}, p, 20, nil); err != nil {
			t.Fatal(err)
		}
		span := time.Duration(sums[len(sums)-1].Time - sums[0].Time)
		if el, min := time.Since(start), span/20-2*time.Millisecond; el < min {
			t.Errorf("replay at 20x of %v took %v, want at least %v", span, el, min)
		}
		if err := p.Close(ctx); err != nil {
			t.Fatal(err)
		}
	})
}
