package replay_test

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/riptide-nids/riptide/backtest"
	"github.com/riptide-nids/riptide/codecs"
	"github.com/riptide-nids/riptide/internal/testenv"
	"github.com/riptide-nids/riptide/kclient"
	"github.com/riptide-nids/riptide/packet"
	"github.com/riptide-nids/riptide/producers"
	"github.com/riptide-nids/riptide/replay"
	"github.com/riptide-nids/riptide/topology"
	"github.com/riptide-nids/riptide/window"
)

// The reorder span and buffer cap of `riptide capture` and `riptide
// backtest` (cmd/riptide).
const (
	reorderSpan = time.Minute
	reorderHeld = 4_000_000
)

func devMixed(t *testing.T) (pcap, labels string) {
	t.Helper()
	return testenv.Datasets(t, "bench", "dev-mixed.pcap"), testenv.Datasets(t, "bench", "dev-mixed.labels.csv")
}

// pcapSummaries reads a capture as `riptide capture` and `riptide backtest
// --pcap` do: in time order across the reorder span.
func pcapSummaries(t *testing.T, path string) []packet.Summary {
	t.Helper()
	files, err := producers.OpenFiles([]string{path}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return drain(t, producers.Reorder(files, reorderSpan, reorderHeld))
}

func drain(t *testing.T, src producers.Source) []packet.Summary {
	t.Helper()
	var out []packet.Summary
	var s packet.Summary
	for {
		err := src.Next(&s)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
}

// capture writes the capture to the packets topic of top as `riptide
// capture` does and returns the producer's counts.
func capture(ctx context.Context, t *testing.T, kc kclient.Config, top *topology.Topology, partitions int, path string) producers.Stats {
	t.Helper()
	files, err := producers.OpenFiles([]string{path}, nil)
	if err != nil {
		t.Fatal(err)
	}
	cl, err := kclient.NewClient(kc)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	def := window.DefaultConfig()
	p, err := producers.New(cl, producers.Config{Topic: top.Packets.Name, Partitions: partitions, FinalWatermark: def.Size + def.Grace})
	if err != nil {
		t.Fatal(err)
	}
	if err := producers.Replay(ctx, producers.Reorder(files, reorderSpan, reorderHeld), p, 0, nil); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(ctx); err != nil {
		t.Fatal(err)
	}
	return p.Stats()
}

// hostPackets returns the packets with at least one endpoint that is a host:
// the others are never written to the packets topic.
func hostPackets(sums []packet.Summary) []packet.Summary {
	var out []packet.Summary
	for _, s := range sums {
		if window.IsHost(s.Src) || window.IsHost(s.Dst) {
			out = append(out, s)
		}
	}
	return out
}

func openTopic(ctx context.Context, t *testing.T, kc kclient.Config, cfg replay.Config) *replay.Source {
	t.Helper()
	src, err := replay.Open(ctx, kc, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(src.Close)
	return src
}

// evaluate scores a result as `riptide backtest` does.
func evaluate(res *backtest.Result, labels []backtest.Label) backtest.Score {
	cfg := backtest.DefaultConfig()
	span := time.Duration(0)
	if n := len(res.Scored); n > 0 {
		span = time.Duration(res.Scored[n-1].End - res.LearnEnd)
	}
	return backtest.Evaluate(labels, res.Flags(), cfg.Window.Size, res.Negatives(labels), span.Hours())
}

// anomalyJSON is the anomalies of a result as JSON, without the detection
// time (wall clock).
func anomalyJSON(t *testing.T, as []*codecs.Anomaly) []string {
	t.Helper()
	out := make([]string, len(as))
	for i, a := range as {
		c := *a
		c.DetectedAt = time.Time{}
		b, err := json.Marshal(&c)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = string(b)
	}
	return out
}

// TestTopicBacktestEqualsPcapBacktest captures the benchmark to a topic as
// `riptide capture` does, backtests the topic and the capture file, and
// requires the same windows, model, anomalies and evaluation.
func TestTopicBacktestEqualsPcapBacktest(t *testing.T) {
	ctx := testenv.Context(t, 3*time.Minute)
	pcap, labelsPath := devMixed(t)
	labels, err := backtest.ReadLabelsFile(labelsPath)
	if err != nil {
		t.Fatal(err)
	}
	const partitions = 12
	top := topology.MustNew("replay-eq")
	kc := kclient.Config{Brokers: testenv.Kafka(t, partitions, top.Packets.Name)}
	produced := capture(ctx, t, kc, top, partitions, pcap)
	sums := pcapSummaries(t, pcap)
	want := hostPackets(sums)
	t.Logf("captured %d packets (%d with a host endpoint) as %d records and %d watermarks", produced.Packets, len(want), produced.Records, produced.Watermarks)

	before := clusterState(ctx, t, kc)
	t.Cleanup(func() {
		// Every read of the test is done: the cluster is as capture left it.
		if after := clusterState(context.Background(), t, kc); after != before {
			t.Errorf("reading changed the cluster:\nbefore %s\nafter  %s", before, after)
		}
	})

	cfg := backtest.DefaultConfig()
	files, err := producers.OpenFiles([]string{pcap}, nil)
	if err != nil {
		t.Fatal(err)
	}
	fromPcap, err := backtest.Run(ctx, producers.Reorder(files, reorderSpan, reorderHeld), cfg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	src := openTopic(ctx, t, kc, replay.Config{Topic: top.Packets.Name})
	fromTopic, err := backtest.Run(ctx, producers.Reorder(src, reorderSpan, reorderHeld), cfg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	st := src.Stats()
	t.Logf("topic: %+v", st)

	if fromPcap.Packets != int64(len(sums)) {
		t.Fatalf("pcap backtest read %d packets, the capture has %d", fromPcap.Packets, len(sums))
	}
	if fromTopic.Packets != int64(len(want)) || st.Packets != int64(len(want)) {
		t.Errorf("topic backtest read %d packets (source: %d), want the %d with a host endpoint", fromTopic.Packets, st.Packets, len(want))
	}
	if st.Watermarks != produced.Watermarks || st.Records != produced.Records+produced.Watermarks {
		t.Errorf("read %d records, %d of them watermarks; produced %d batches and %d watermarks", st.Records, st.Watermarks, produced.Records, produced.Watermarks)
	}
	if st.CorruptRecords() != 0 || st.OutOfRange != 0 || st.Foreign != 0 {
		t.Errorf("corrupt %v, out of range %d, foreign %d; want none", st.Corrupt, st.OutOfRange, st.Foreign)
	}
	if st.Copies == 0 {
		t.Error("no second copies skipped: the capture has packets between two hosts")
	}

	type counts struct {
		Windows, Late, Learning    int64
		Scored, Anomalies, Samples int
		LearnStart, LearnEnd       int64
		SV                         int
		Threshold                  float64
	}
	summarise := func(r *backtest.Result) counts {
		return counts{r.Windows, r.Late, r.Learning, len(r.Scored), len(r.Anomalies), r.TrainSamples, r.LearnStart, r.LearnEnd, len(r.Model.SV), r.Model.Threshold}
	}
	p, q := summarise(fromPcap), summarise(fromTopic)
	t.Logf("pcap:  %+v", p)
	t.Logf("topic: %+v", q)
	if p != q {
		t.Errorf("results differ:\npcap  %+v\ntopic %+v", p, q)
	}
	if !slices.Equal(fromPcap.Scored, fromTopic.Scored) {
		t.Error("scored windows differ")
	}
	if a, b := anomalyJSON(t, fromPcap.Anomalies), anomalyJSON(t, fromTopic.Anomalies); !slices.Equal(a, b) {
		t.Errorf("anomalies differ:\npcap  %q\ntopic %q", a, b)
	}
	ps, ts := evaluate(fromPcap, labels), evaluate(fromTopic, labels)
	t.Logf("pcap:  precision %.4f recall %.4f F1 %.4f TP %d FP %d FN %d, %d/%d attacks", ps.Precision, ps.Recall, ps.F1, ps.TruePositives, ps.FalsePositives, ps.FalseNegatives, ps.AttacksDetected, len(ps.Attacks))
	t.Logf("topic: precision %.4f recall %.4f F1 %.4f TP %d FP %d FN %d, %d/%d attacks", ts.Precision, ts.Recall, ts.F1, ts.TruePositives, ts.FalsePositives, ts.FalseNegatives, ts.AttacksDetected, len(ts.Attacks))
	pj, _ := json.Marshal(ps)
	tj, _ := json.Marshal(ts)
	if string(pj) != string(tj) {
		t.Errorf("evaluations differ:\npcap  %s\ntopic %s", pj, tj)
	}
	if ps.TruePositives == 0 {
		t.Error("the pcap backtest found no attack window: the comparison proves little")
	}

	t.Run("time range", func(t *testing.T) {
		first, last := want[0].Time, want[len(want)-1].Time
		// A range inside the capture, bounds at odd milliseconds.
		from := time.Unix(0, first).Add(7*time.Minute + 333*time.Millisecond).Truncate(time.Millisecond)
		to := from.Add(4*time.Minute + 517*time.Millisecond)
		if to.UnixNano() >= last {
			t.Fatalf("capture too short for the range: ends %v", time.Unix(0, last))
		}
		var in []packet.Summary
		for _, s := range want {
			if s.Time >= from.UnixNano() && s.Time < to.UnixNano() {
				in = append(in, s)
			}
		}
		src := openTopic(ctx, t, kc, replay.Config{Topic: top.Packets.Name, From: from, To: to})
		got := drain(t, producers.Reorder(src, reorderSpan, reorderHeld))
		st := src.Stats()
		t.Logf("[%s, %s): %d packets of %d; read %d of %d records, %d out of range",
			from.UTC().Format(time.RFC3339Nano), to.UTC().Format(time.RFC3339Nano), len(got), len(want), st.Records, produced.Records+produced.Watermarks, st.OutOfRange)
		if len(got) != len(in) {
			t.Fatalf("read %d packets, the capture has %d (with a host endpoint) in the range", len(got), len(in))
		}
		if !slices.IsSortedFunc(got, func(a, b packet.Summary) int { return cmp.Compare(a.Time, b.Time) }) {
			t.Error("packets not in time order")
		}
		slices.SortFunc(got, cmpSummary)
		slices.SortFunc(in, cmpSummary)
		if !slices.Equal(got, in) {
			t.Error("the packets read are not those of the capture in the range")
		}
		if st.Records >= produced.Records {
			t.Errorf("read %d records for a sub-range, the topic has %d: offsets were not looked up by time", st.Records, produced.Records)
		}

		// Only a lower bound, then only an upper one: together they cover
		// the capture once.
		n := len(drain(t, openTopic(ctx, t, kc, replay.Config{Topic: top.Packets.Name, From: to})))
		m := len(drain(t, openTopic(ctx, t, kc, replay.Config{Topic: top.Packets.Name, To: to})))
		if n+m != len(want) {
			t.Errorf("from %v: %d packets, to it: %d; sum %d, want %d", to, n, m, n+m, len(want))
		}
	})

	t.Run("small buffers", func(t *testing.T) {
		// One record batch per partition and fetch, at most 4 records held
		// per partition: partitions are paused and resumed all the time,
		// and the packets are still all there, in time order.
		src := openTopic(ctx, t, kc, replay.Config{Topic: top.Packets.Name, MaxBuffered: 4, ClientOpts: []kgo.Opt{kgo.FetchMaxPartitionBytes(1)}})
		t0 := time.Now()
		got := drain(t, producers.Reorder(src, reorderSpan, reorderHeld))
		t.Logf("%d packets in %v", len(got), time.Since(t0))
		if !slices.IsSortedFunc(got, func(a, b packet.Summary) int { return cmp.Compare(a.Time, b.Time) }) {
			t.Error("packets not in time order")
		}
		exp := slices.Clone(want)
		slices.SortFunc(got, cmpSummary)
		slices.SortFunc(exp, cmpSummary)
		if !slices.Equal(got, exp) {
			t.Errorf("%d packets, not those of the capture (%d)", len(got), len(exp))
		}
	})

	t.Run("errors", func(t *testing.T) {
		_, err := replay.Open(ctx, kc, replay.Config{Topic: "replay-eq.nosuch"})
		if !errors.Is(err, replay.ErrNoTopic) || !strings.Contains(err.Error(), "replay-eq.nosuch") {
			t.Errorf("missing topic: %v", err)
		}
		t1 := time.Unix(0, want[0].Time)
		_, err = replay.Open(ctx, kc, replay.Config{Topic: top.Packets.Name, From: t1.Add(time.Minute), To: t1})
		if !errors.Is(err, replay.ErrBadRange) {
			t.Errorf("from after to: %v", err)
		}
		_, err = replay.Open(ctx, kc, replay.Config{Topic: top.Packets.Name, From: t1.Add(-time.Hour), To: t1.Add(-50 * time.Minute)})
		if !errors.Is(err, replay.ErrEmpty) || !strings.Contains(err.Error(), t1.UTC().Format("2006-01-02T15:04")) {
			t.Errorf("range before the capture: %v (want ErrEmpty naming the topic's time span)", err)
		}
	})
}

func cmpSummary(a, b packet.Summary) int {
	return cmp.Or(cmp.Compare(a.Time, b.Time), a.Src.Compare(b.Src), a.Dst.Compare(b.Dst),
		cmp.Compare(a.SrcPort, b.SrcPort), cmp.Compare(a.DstPort, b.DstPort), cmp.Compare(a.Length, b.Length),
		cmp.Compare(a.Proto, b.Proto), cmp.Compare(a.TCPFlags, b.TCPFlags), cmp.Compare(a.Flags, b.Flags))
}

// TestCorruptRecordsAreCountedAndSkipped writes packet batches with bad
// records between them: the bad ones are counted by reason, the good ones
// read.
func TestCorruptRecordsAreCountedAndSkipped(t *testing.T) {
	ctx := testenv.Context(t, time.Minute)
	top := topology.MustNew("replay-corrupt")
	kc := kclient.Config{Brokers: testenv.Kafka(t, 3, top.Packets.Name)}
	cl, err := kclient.NewClient(kc)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	a, b := netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2")
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	pkt := func(d time.Duration, src, dst netip.Addr) packet.Summary {
		return packet.Summary{Time: t0.Add(d).UnixNano(), Src: src, Dst: dst, SrcPort: 1234, DstPort: 80, Length: 60, Proto: packet.ProtoTCP}
	}
	good := codecs.AppendPacketBatch(nil, []packet.Summary{pkt(0, a, b), pkt(time.Second, b, a)})
	recs := []*kgo.Record{
		{Key: []byte(a.String()), Value: good, Timestamp: t0},
		{Key: []byte("not-an-address"), Value: good, Timestamp: t0},
		{Key: []byte(a.String()), Value: good[:len(good)-2], Timestamp: t0},                  // truncated
		{Key: []byte(a.String()), Value: []byte("garbage"), Timestamp: t0},                   // corrupt
		{Key: []byte(a.String()), Value: append([]byte{'P', 9}, good[2:]...), Timestamp: t0}, // unknown version
		{Value: codecs.AppendPacketBatch(nil, nil), Timestamp: t0.Add(2 * time.Second)},      // watermark
		{Key: []byte(b.String()), Value: good, Timestamp: t0},
	}
	for _, r := range recs {
		r.Topic = top.Packets.Name
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	src := openTopic(ctx, t, kc, replay.Config{Topic: top.Packets.Name})
	got := drain(t, src)
	st := src.Stats()
	// a's record holds both packets: a→b is a's copy, b→a is b's. b's
	// record holds the same two: b→a is its copy.
	if len(got) != 2 {
		t.Errorf("read %d packets, want 2 (one copy each of a→b and b→a): %+v", len(got), got)
	}
	wantCorrupt := map[string]int64{
		"key is not a host address": 1, codecs.ErrTruncated.Error(): 1, codecs.ErrCorrupt.Error(): 1, codecs.ErrUnknownVersion.Error(): 1,
	}
	if !maps(st.Corrupt, wantCorrupt) {
		t.Errorf("corrupt %v, want %v", st.Corrupt, wantCorrupt)
	}
	if st.Records != int64(len(recs)) || st.Watermarks != 1 || st.Copies != 2 || st.Packets != 2 {
		t.Errorf("stats %+v: want %d records, 1 watermark, 2 copies, 2 packets", st, len(recs))
	}
}

// TestMergeIgnoresRecordTimestamps puts records with stray timestamps (a
// corrupt record and a good batch, both stamped an hour late, as another
// producer might) in the middle of one partition: the partitions are still
// merged by packet time, so nothing is held back.
func TestMergeIgnoresRecordTimestamps(t *testing.T) {
	ctx := testenv.Context(t, time.Minute)
	top := topology.MustNew("replay-stamps")
	kc := kclient.Config{Brokers: testenv.Kafka(t, 2, top.Packets.Name)}
	cl, err := kgo.NewClient(kgo.SeedBrokers(kc.Brokers...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	a, b := netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2")
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	batch := func(host netip.Addr, d time.Duration) []byte {
		return codecs.AppendPacketBatch(nil, []packet.Summary{{Time: t0.Add(d).UnixNano(), Src: host, Dst: netip.MustParseAddr("192.0.2.1"), Length: 60, Proto: packet.ProtoUDP}})
	}
	late := t0.Add(time.Hour)
	rec := func(part int32, host netip.Addr, d time.Duration, value []byte, ts time.Time) *kgo.Record {
		return &kgo.Record{Topic: top.Packets.Name, Partition: part, Key: []byte(host.String()), Value: value, Timestamp: ts}
	}
	recs := []*kgo.Record{
		rec(0, a, 0, batch(a, 0), t0),
		rec(0, a, 0, []byte("garbage"), late),
		rec(0, a, 0, batch(a, 2*time.Second), late), // stamped late, holds a packet at 2 s
		rec(0, a, 0, batch(a, 4*time.Second), t0.Add(4*time.Second)),
		rec(1, b, 0, batch(b, time.Second), t0.Add(time.Second)),
		rec(1, b, 0, batch(b, 3*time.Second), t0.Add(3*time.Second)),
		rec(1, b, 0, batch(b, 5*time.Second), t0.Add(5*time.Second)),
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	src := openTopic(ctx, t, kc, replay.Config{Topic: top.Packets.Name})
	got := drain(t, src) // no Reorder: the merge alone
	var secs []int64
	for _, s := range got {
		secs = append(secs, (s.Time-t0.UnixNano())/int64(time.Second))
	}
	if want := []int64{0, 1, 2, 3, 4, 5}; !slices.Equal(secs, want) {
		t.Errorf("packets at %v s, want %v", secs, want)
	}
	if st := src.Stats(); st.CorruptRecords() != 1 {
		t.Errorf("corrupt %v, want one", st.Corrupt)
	}
}

func maps(a, b map[string]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestParseTime(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time
		err  bool
	}{
		{"", time.Time{}, false},
		{"  ", time.Time{}, false},
		{"2026-03-02T09:15:00Z", time.Date(2026, 3, 2, 9, 15, 0, 0, time.UTC), false},
		{"2026-03-02T10:15:00.25+01:00", time.Date(2026, 3, 2, 9, 15, 0, 250_000_000, time.UTC), false},
		{"1772442900000", time.Date(2026, 3, 2, 9, 15, 0, 0, time.UTC), false},
		{"1772442900123", time.Date(2026, 3, 2, 9, 15, 0, 123_000_000, time.UTC), false},
		{"0", time.Unix(0, 0), false},
		{"-5", time.Time{}, true},
		{"2026-03-02 09:15", time.Time{}, true},
		{"yesterday", time.Time{}, true},
	}
	for _, tt := range tests {
		got, err := replay.ParseTime(tt.in)
		if (err != nil) != tt.err {
			t.Errorf("ParseTime(%q) error %v, want error %v", tt.in, err, tt.err)
			continue
		}
		if err != nil {
			if !strings.Contains(err.Error(), tt.in) || !strings.Contains(err.Error(), "RFC 3339") && !strings.Contains(err.Error(), "negative") {
				t.Errorf("ParseTime(%q) error %q does not say what to do", tt.in, err)
			}
			continue
		}
		if !got.Equal(tt.want) {
			t.Errorf("ParseTime(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	bad := []replay.Config{
		{},
		{Topic: "t", From: t0, To: t0},
		{Topic: "t", From: t0.Add(time.Second), To: t0},
		{Topic: "t", Slack: -time.Second},
	}
	for _, c := range bad {
		if err := c.Validate(); err == nil {
			t.Errorf("%+v: valid", c)
		}
	}
	c := replay.Config{Topic: "t", From: t0, To: t0.Add(time.Millisecond)}
	if err := c.Validate(); err != nil || c.Slack != replay.DefaultSlack || c.MaxBuffered <= 0 || c.Log == nil {
		t.Errorf("defaults: %+v, %v", c, err)
	}
}

// clusterState describes what a reader must not change: the topics, their
// end offsets, and the consumer groups.
func clusterState(ctx context.Context, t *testing.T, kc kclient.Config) string {
	t.Helper()
	cl, err := kclient.NewClient(kc)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	topics, err := adm.ListTopics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ends, err := adm.ListEndOffsets(ctx, topics.Names()...)
	if err != nil {
		t.Fatal(err)
	}
	groups, err := adm.ListGroups(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	ends.Each(func(o kadm.ListedOffset) { out = append(out, fmt.Sprintf("%s[%d]@%d", o.Topic, o.Partition, o.Offset)) })
	slices.Sort(out)
	return fmt.Sprintf("topics %v, groups %v", out, groups.Groups())
}
