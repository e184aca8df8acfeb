package windower

import (
	"context"
	"io"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lovoo/goka"
	"github.com/lovoo/goka/tester"

	"github.com/riptide-nids/riptide/codecs"
	"github.com/riptide-nids/riptide/packet"
	"github.com/riptide-nids/riptide/processors"
	"github.com/riptide-nids/riptide/processors/internal/gokatest"
	"github.com/riptide-nids/riptide/topology"
	"github.com/riptide-nids/riptide/window"
)

// t0 is aligned to the 10 s windows of testConfig.
var (
	t0 = gokatest.T0
	at = gokatest.At
)

var testConfig = window.Config{Size: 10 * time.Second, Grace: 2 * time.Second}

const testParts = 3

func tcp(d time.Duration, src, dst string) packet.Summary {
	return packet.Summary{Time: at(d), Src: netip.MustParseAddr(src), Dst: netip.MustParseAddr(dst),
		SrcPort: 40000, DstPort: 443, Length: 60, Proto: packet.ProtoTCP, TCPFlags: packet.TCPSyn}
}

func batch(sums ...packet.Summary) []byte { return codecs.AppendPacketBatch(nil, sums) }

type fixture struct {
	t        *testing.T
	tt       *tester.Tester
	top      *topology.Topology
	p        *Processor
	gp       *goka.Processor
	features *tester.QueueTracker
	dead     *tester.QueueTracker
	packets  *tester.QueueTracker
	ctx      context.Context

	mu   sync.Mutex
	sent []*window.Vector // watermarks sent through the sink
}

// newFixture runs a windower on goka's tester; setup, if any, is applied to
// the processor before it runs.
func newFixture(t *testing.T, setup ...func(*Processor)) *fixture {
	t.Helper()
	top := gokatest.Topology(t)
	p, err := New(top, testConfig, testParts, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range setup {
		f(p)
	}
	tt, gp, ctx := gokatest.Run(t, p.Graph())
	f := &fixture{t: t, tt: tt, top: top, p: p, gp: gp, ctx: ctx,
		features: tt.NewQueueTracker(top.Features.Name),
		dead:     tt.NewQueueTracker(top.DeadLetter.Name),
		packets:  tt.NewQueueTracker(top.Packets.Name),
	}
	p.SetWatermarkSink(func(_ context.Context, w *window.Vector) error {
		f.mu.Lock()
		f.sent = append(f.sent, w)
		f.mu.Unlock()
		return nil
	})
	return f
}

// settle runs what the ticker runs: a closing visit, then the watermarks.
func (f *fixture) settle() {
	f.t.Helper()
	if err := f.p.closeIdle(f.ctx, f.gp, true); err != nil {
		f.t.Fatal(err)
	}
	f.tt.Catchup()
}

func (f *fixture) send(host string, sums ...packet.Summary) {
	f.tt.Consume(f.top.Packets.Name, host, batch(sums...))
}

// watermark sends a keyless record holding an empty batch, stamped ts, as
// producers.Producer does.
func (f *fixture) watermark(d time.Duration) {
	f.tt.Consume(f.top.Packets.Name, "", batch(), tester.WithTime(time.Unix(0, at(d))))
}

func (f *fixture) visit() {
	f.t.Helper()
	if err := f.gp.VisitAll(f.ctx, visitClose, nil); err != nil {
		f.t.Fatal(err)
	}
	f.tt.Catchup()
}

// drain returns the vectors emitted and the watermarks sent since the last
// call.
func (f *fixture) drain() (vecs, wms []*window.Vector) {
	f.t.Helper()
	f.mu.Lock()
	wms, f.sent = f.sent, nil
	f.mu.Unlock()
	for {
		key, v, ok := f.features.Next()
		if !ok {
			return vecs, wms
		}
		vec := v.(*window.Vector)
		if _, _, _, isWM := vec.Watermark(); isWM {
			if key != "" {
				f.t.Errorf("watermark with key %q", key)
			}
			wms = append(wms, vec)
			continue
		}
		if key != vec.Host {
			f.t.Errorf("vector of %s with key %q", vec.Host, key)
		}
		vecs = append(vecs, vec)
	}
}

func ids(vs []*window.Vector) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = v.ID()
	}
	slices.Sort(out)
	return out
}

func id(host string, d time.Duration) string {
	return (&window.Vector{Host: host, Start: at(d)}).ID()
}

func (f *fixture) state(host string) *HostState {
	v := f.tt.TableValue(goka.GroupTable(f.top.Windower), host)
	if v == nil {
		return nil
	}
	return v.(*HostState)
}

func TestFinalVectorPerHostAndWindow(t *testing.T) {
	f := newFixture(t)
	const a, b = "10.0.0.1", "10.0.0.2"
	f.send(a, tcp(1*time.Second, a, "192.0.2.1"), tcp(3*time.Second, a, "192.0.2.2"))
	f.send(b, tcp(5*time.Second, b, "192.0.2.1"))
	f.send(a, tcp(11*time.Second, a, "192.0.2.1")) // stream time 11 s: window [0, 10) still in grace
	if vs, _ := f.drain(); len(vs) != 0 {
		t.Fatalf("vectors %q before any window closed", ids(vs))
	}
	f.send(a, tcp(12*time.Second, a, "192.0.2.1")) // 12 s = end + grace: a's first window closes
	vs, _ := f.drain()
	if got, want := ids(vs), []string{id(a, 0)}; !slices.Equal(got, want) {
		t.Fatalf("after a later packet of a: vectors %q, want %q", got, want)
	}
	v := vs[0]
	if v.Host != a || v.Start != at(0) || v.End != at(10*time.Second) || len(v.Values) != window.NumFeatures {
		t.Errorf("vector %+v", v)
	}
	if v.ID() != a+"@"+"1772442000000" {
		t.Errorf("ID %q", v.ID())
	}
	if got := v.Values[window.FPktsOut]; got != 2 {
		t.Errorf("packets out = %v, want 2", got)
	}
	if got := v.Values[window.FDstIPs]; got != 2 {
		t.Errorf("distinct destinations = %v, want 2", got)
	}

	// b is idle: a watermark moves stream time past its window and the
	// visitor closes it, and a's second window too.
	f.watermark(25 * time.Second)
	if vs, _ := f.drain(); len(vs) != 0 {
		t.Fatalf("a watermark alone emitted %q (windows of idle hosts close on a visit)", ids(vs))
	}
	f.visit()
	vs, _ = f.drain()
	if got, want := ids(vs), []string{id(a, 10*time.Second), id(b, 0)}; !slices.Equal(got, want) {
		t.Fatalf("after the visit: vectors %q, want %q", got, want)
	}
	for _, v := range vs {
		if v.Host == a && v.Values[window.FPktsOut] != 2 {
			t.Errorf("a's second window: packets out %v, want 2", v.Values[window.FPktsOut])
		}
	}
	// Exactly once: more visits and later packets close nothing again.
	f.visit()
	f.watermark(60 * time.Second)
	f.visit()
	if vs, _ := f.drain(); len(vs) != 0 {
		t.Errorf("windows emitted twice: %q", ids(vs))
	}
	if st := f.state(a); st == nil || st.Open() != 0 {
		t.Errorf("state of a: %+v", st)
	}
	s := f.p.Stats()
	if s.Windows != 3 || s.Packets != 5 || s.Late != 0 || s.Records != 6 || s.Watermarks != 2 {
		t.Errorf("stats %+v", s)
	}
}

func TestLatePacket(t *testing.T) {
	f := newFixture(t)
	const a, c = "10.0.0.1", "10.0.0.3"
	f.send(a, tcp(25*time.Second, a, "192.0.2.1")) // stream time 25 s
	for _, tc := range []struct {
		name string
		d    time.Duration
		late bool
	}{
		{"window closed", 5 * time.Second, true},           // end 10 s + 2 s <= 25 s
		{"window ended, in grace", 14 * time.Second, true}, // [10, 20): 22 <= 25
		{"current window", 21 * time.Second, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := f.p.Stats()
			f.send(c, tcp(tc.d, c, "192.0.2.1"))
			after := f.p.Stats()
			if got := after.Late - before.Late; (got == 1) != tc.late || got > 1 {
				t.Errorf("late count +%d", got)
			}
			if after.Packets-before.Packets != 1 {
				t.Errorf("packets +%d", after.Packets-before.Packets)
			}
		})
	}
	if st := f.state(c); st == nil || st.Late != 2 || st.Open() != 1 {
		t.Errorf("state of c: %+v", st)
	}
	f.watermark(time.Minute)
	f.visit()
	vs, _ := f.drain()
	if got, want := ids(vs), []string{id(a, 20*time.Second), id(c, 20*time.Second)}; !slices.Equal(got, want) {
		t.Errorf("vectors %q, want %q (late packets open no window)", got, want)
	}
}

// TestForeignPacketIsNotLate: a packet in a host's batch that involves
// neither address is ignored, not counted as late.
func TestForeignPacketIsNotLate(t *testing.T) {
	f := newFixture(t)
	const a = "10.0.0.1"
	f.send(a, tcp(1*time.Second, a, "192.0.2.1"), tcp(2*time.Second, "192.0.2.7", "192.0.2.8"))
	s := f.p.Stats()
	if s.Late != 0 || s.Ignored != 1 || s.Packets != 2 {
		t.Errorf("stats %+v, want 0 late and 1 ignored", s)
	}
}

// TestOutOfRangeTimeDoesNotPoisonStreamTime: a packet time beyond
// window.MaxTime is dropped as late and must not become the partition's
// stream time (every later packet would be late).
func TestOutOfRangeTimeDoesNotPoisonStreamTime(t *testing.T) {
	f := newFixture(t)
	const a = "10.0.0.1"
	bad := tcp(0, a, "192.0.2.1")
	bad.Time = window.MaxTime + 1
	f.send(a, tcp(3*time.Second, a, "192.0.2.1"), bad)
	f.send(a, tcp(4*time.Second, a, "192.0.2.1"))
	if s := f.p.Stats(); s.Late != 1 || s.Packets != 3 {
		t.Errorf("stats %+v, want only the out-of-range packet late", s)
	}
	f.settle()
	if vs, wms := f.drain(); len(vs) != 0 || len(wms) != 1 {
		t.Errorf("vectors %q and %d watermarks, want none and 1", ids(vs), len(wms))
	}
	f.send(a, tcp(12*time.Second, a, "192.0.2.1"))
	vs, _ := f.drain()
	if len(vs) != 1 || vs[0].Values[window.FPktsOut] != 2 {
		t.Errorf("vectors %v, want a's first window with 2 packets", vs)
	}
}

func TestReplayedRecordIsSkipped(t *testing.T) {
	f := newFixture(t)
	const a, r = "10.0.0.1", "10.0.0.9"
	f.send(a, tcp(1*time.Second, a, "192.0.2.1"))
	f.send(a, tcp(2*time.Second, a, "192.0.2.1"))
	last := f.packets.Hwm() - 1
	if st := f.state(a); st == nil || st.LastOffset != last {
		t.Fatalf("state of a after offset %d: %+v", last, st)
	}
	// The table says r's state already holds offsets up to 1000 (applied
	// before a restart); the tester's next offsets are below that.
	f.tt.SetTableValue(goka.GroupTable(f.top.Windower), r, &HostState{State: &window.State{LastOffset: 1000}})
	before := f.p.Stats()
	f.send(r, tcp(3*time.Second, r, "192.0.2.1"))
	after := f.p.Stats()
	if after.Replayed-before.Replayed != 1 || after.Packets != before.Packets || after.Late != before.Late {
		t.Errorf("stats before %+v after %+v: want one replayed record and no packets", before, after)
	}
	if st := f.state(r); st == nil || st.LastOffset != 1000 || st.Open() != 0 {
		t.Errorf("state of r changed by a replay: %+v", st)
	}
	f.watermark(time.Minute)
	f.visit()
	vs, _ := f.drain()
	if got, want := ids(vs), []string{id(a, 0)}; !slices.Equal(got, want) {
		t.Errorf("vectors %q, want %q", got, want)
	}
}

func TestDeadLetters(t *testing.T) {
	f := newFixture(t)
	const a = "10.0.0.1"
	good := batch(tcp(1*time.Second, a, "192.0.2.1"))
	for _, tc := range []struct {
		name, key string
		value     []byte
		reason    string
	}{
		{"garbage value", a, []byte("garbage"), "windower: "},
		{"truncated batch", a, good[:len(good)-3], "windower: "},
		{"key not an address", "not-an-ip", good, "is not a host address"},
		{"key with port", "10.0.0.1:80", good, "is not a host address"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := f.p.Stats()
			f.tt.Consume(f.top.Packets.Name, tc.key, tc.value)
			h, key, raw, ok := f.dead.NextRawWithHeaders()
			if !ok {
				t.Fatal("no dead letter")
			}
			if key != tc.key || string(raw) != string(tc.value) {
				t.Errorf("dead letter %q = %q, want the original record", key, raw)
			}
			if r := string(h[processors.HeaderReason]); !strings.Contains(r, tc.reason) {
				t.Errorf("reason %q, want it to contain %q", r, tc.reason)
			}
			if s := string(h[processors.HeaderSource]); s != f.top.Packets.Name {
				t.Errorf("source %q", s)
			}
			if _, _, _, more := f.dead.NextRawWithHeaders(); more {
				t.Error("more than one dead letter")
			}
			if d := f.p.Stats().DeadLetters - before.DeadLetters; d != 1 {
				t.Errorf("dead letters +%d", d)
			}
		})
	}
	// Processing goes on.
	f.tt.Consume(f.top.Packets.Name, a, good)
	f.send(a, tcp(13*time.Second, a, "192.0.2.1"))
	vs, _ := f.drain()
	if got, want := ids(vs), []string{id(a, 0)}; !slices.Equal(got, want) {
		t.Errorf("vectors %q, want %q", got, want)
	}
	if s := f.p.Stats(); s.Packets != 2 || s.DeadLetters != 4 {
		t.Errorf("stats %+v", s)
	}
}

// TestWatermarkCoversClosedWindows: when a partition's input stops right
// after a window's closing time (end + grace), the last watermark sent
// downstream must reach that time, or a consumer waiting for it (the
// trainer waits for LearnEnd + size + grace) waits for ever.
func TestWatermarkCoversClosedWindows(t *testing.T) {
	f := newFixture(t)
	const a = "10.0.0.1"
	f.send(a, tcp(5*time.Second, a, "192.0.2.1"))
	f.send(a, tcp(10*time.Second+500*time.Millisecond, a, "192.0.2.1"))
	f.watermark(12 * time.Second) // the first window closes; then silence
	f.settle()
	_, wms := f.drain()
	if len(wms) == 0 {
		t.Fatal("no watermark")
	}
	if _, _, ts, _ := wms[len(wms)-1].Watermark(); ts < at(12*time.Second) {
		t.Errorf("last watermark at %v, want >= 12s (the first window's closing time)", time.Duration(ts-t0))
	}
}

// TestWatermarksAnnounced: after a closing visit, a watermark goes downstream
// when the partition's stream time has passed a window's closing time
// (boundary + grace) since the last one.
func TestWatermarksAnnounced(t *testing.T) {
	f := newFixture(t)
	const a = "10.0.0.1"
	type step struct {
		name   string
		do     func()
		wantWM []time.Duration // stream times of the watermarks expected
	}
	for _, s := range []step{
		{"first packet", func() { f.send(a, tcp(5*time.Second, a, "192.0.2.1")) }, []time.Duration{5 * time.Second}},
		{"same window", func() { f.send(a, tcp(8*time.Second, a, "192.0.2.1")) }, nil},
		{"window ended, in grace", func() { f.send(a, tcp(11*time.Second, a, "192.0.2.1")) }, nil},
		{"window closes", func() { f.send(a, tcp(12*time.Second, a, "192.0.2.1")) }, []time.Duration{12 * time.Second}},
		{"keyless watermark crossing", func() { f.watermark(31 * time.Second) }, []time.Duration{31 * time.Second}},
		{"keyless watermark crossing again", func() { f.watermark(33 * time.Second) }, []time.Duration{33 * time.Second}},
		{"keyless watermark same window", func() { f.watermark(35 * time.Second) }, nil},
		{"watermark going back", func() { f.watermark(20 * time.Second) }, nil},
		{"late packet", func() { f.send(a, tcp(2*time.Second, a, "192.0.2.1")) }, nil},
		{"two windows at once", func() { f.watermark(55 * time.Second) }, []time.Duration{55 * time.Second}},
	} {
		s.do()
		f.settle()
		_, wms := f.drain()
		var got []time.Duration
		for _, w := range wms {
			part, parts, ts, _ := w.Watermark()
			if part != 0 || parts != testParts || w.Host != "" {
				t.Errorf("%s: watermark %+v: partition %d of %d", s.name, w, part, parts)
			}
			got = append(got, time.Duration(ts-t0))
		}
		if !slices.Equal(got, s.wantWM) {
			t.Errorf("%s: watermarks at %v, want %v", s.name, got, s.wantWM)
		}
	}
	if st := f.p.Stats(); st.Announced != 5 || st.Watermarks != 5 {
		t.Errorf("stats %+v", st)
	}
}

// TestTickerClosesIdleWindows runs the ticker: it visits once stream time
// has moved and reports the time settled, without any visit by the test.
func TestTickerClosesIdleWindows(t *testing.T) {
	f := newFixture(t)
	f.p.tick = 5 * time.Millisecond
	ctx, cancel := context.WithCancel(f.ctx)
	tickerDone := make(chan struct{})
	go func() { defer close(tickerDone); f.p.Ticker(ctx, f.gp) }()
	defer func() { cancel(); <-tickerDone }()

	const a, b = "10.0.0.1", "10.0.0.2"
	f.send(a, tcp(1*time.Second, a, "192.0.2.1"))
	f.send(b, tcp(2*time.Second, b, "192.0.2.1"))
	if f.p.Settled(at(25 * time.Second)) {
		t.Fatal("settled before stream time got there")
	}
	f.watermark(25 * time.Second)
	waitFor(t, "settled at 25 s", func() bool { return f.p.Settled(at(25 * time.Second)) })
	vs, _ := f.drain()
	if got, want := ids(vs), []string{id(a, 0), id(b, 0)}; !slices.Equal(got, want) {
		t.Errorf("vectors %q, want %q", got, want)
	}
	// A host that starts later is closed by the next visits too.
	f.send(b, tcp(30*time.Second, b, "192.0.2.1"))
	f.watermark(50 * time.Second)
	waitFor(t, "settled at 50 s", func() bool { return f.p.Settled(at(50 * time.Second)) })
	vs, _ = f.drain()
	if got, want := ids(vs), []string{id(b, 30*time.Second)}; !slices.Equal(got, want) {
		t.Errorf("vectors %q, want %q", got, want)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestNewValidates(t *testing.T) {
	top := topology.MustNew("t")
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if _, err := New(top, window.Config{}, 1, log); err == nil {
		t.Error("zero window config accepted")
	}
	if _, err := New(top, testConfig, 0, log); err == nil {
		t.Error("0 partitions accepted")
	}
}

func TestStateCodec(t *testing.T) {
	st := window.NewState()
	host := netip.MustParseAddr("10.0.0.1")
	s := tcp(1*time.Second, "10.0.0.1", "192.0.2.1")
	st.Add(host, &s, s.Time, testConfig)
	st.LastOffset = 7
	rec := Recent{At: 42, V: window.Vector{Host: "10.0.0.1", Start: at(0), End: at(10 * time.Second), Values: make([]float64, window.NumFeatures)}}
	rec.V.Values[0] = 3
	b, err := StateCodec{}.Encode(&HostState{State: st, Recent: []Recent{rec}})
	if err != nil {
		t.Fatal(err)
	}
	v, err := StateCodec{}.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	got := v.(*HostState)
	if got.LastOffset != 7 || got.Open() != 1 || len(got.Recent) != 1 || got.Recent[0].At != 42 || got.Recent[0].V.ID() != rec.V.ID() || got.Recent[0].V.Values[0] != 3 {
		t.Errorf("decoded %+v", got)
	}
	// A bare window.State (the table format before HostState) still decodes.
	bare, err := st.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if v, err := (StateCodec{}).Decode(bare); err != nil || v.(*HostState).LastOffset != 7 {
		t.Errorf("bare state: %v %+v", err, v)
	}
	if _, err := (StateCodec{}).Encode("x"); err == nil {
		t.Error("encoded a string")
	}
	for _, bad := range [][]byte{[]byte("garbage"), {hostStateMagic}, {hostStateMagic, 200}, append(append([]byte{}, b...), 0)} {
		if _, err := (StateCodec{}).Decode(bad); err == nil {
			t.Errorf("decoded %x", bad)
		}
	}
}

// TestRestartReemitsRecentVectors: goka writes the features topic and the
// table asynchronously, so after a crash the table may lack a window whose
// vector never reached Kafka. A restarted windower emits each host's recently
// closed vectors once more, with the same ids and values, and prunes them
// after the retention period.
func TestRestartReemitsRecentVectors(t *testing.T) {
	f := newFixture(t)
	clock := time.Unix(1_800_000_000, 0)
	f.p.now = func() time.Time { return clock }
	f.p.SetIdleFlush(0) // the clock jumps a minute below; this test is not about silence
	const a, b = "10.0.0.1", "10.0.0.2"
	f.send(a, tcp(1*time.Second, a, "192.0.2.1"))
	f.send(b, tcp(2*time.Second, b, "192.0.2.1"))
	f.watermark(13 * time.Second)
	f.settle() // closes both first windows by the visitor
	first, _ := f.drain()
	if len(first) != 2 {
		t.Fatalf("first run emitted %q", ids(first))
	}
	if st := f.state(a); st == nil || len(st.Recent) != 1 || st.Recent[0].V.ID() != id(a, 0) {
		t.Fatalf("a's retained vectors: %+v", st)
	}

	// Nothing is re-emitted within the same run.
	f.send(a, tcp(14*time.Second, a, "192.0.2.1"))
	if vs, _ := f.drain(); len(vs) != 0 {
		t.Errorf("same run re-emitted %q", ids(vs))
	}

	f.p.Restarted()
	f.send(a, tcp(15*time.Second, a, "192.0.2.1")) // a: first touch after the restart
	f.settle()                                     // b: touched by the visitor
	again, _ := f.drain()
	want := map[string]*window.Vector{}
	for _, v := range first {
		want[v.ID()] = v
	}
	if len(again) != 2 {
		t.Fatalf("after restart emitted %q, want the 2 retained vectors again", ids(again))
	}
	for _, v := range again {
		w, ok := want[v.ID()]
		if !ok || !slices.Equal(v.Values, w.Values) || v.End != w.End {
			t.Errorf("re-emitted %s differs from the first emission", v.ID())
		}
	}
	if got := f.p.Stats().Reemitted; got != 2 {
		t.Errorf("Reemitted = %d, want 2", got)
	}

	// After the retention period the visitor prunes them.
	clock = clock.Add(time.Minute)
	f.settle()
	for _, h := range []string{a, b} {
		if st := f.state(h); st == nil || len(st.Recent) != 0 {
			t.Errorf("%s still retains %+v after the retention period", h, st.Recent)
		}
	}
	// Only the newest maxRecent closed vectors are retained (and encode).
	const c = "10.0.0.3"
	for i := range maxRecent + 5 {
		f.send(c, tcp(time.Duration(20+10*i)*time.Second, c, "192.0.2.1"))
	}
	if st := f.state(c); st == nil || len(st.Recent) != maxRecent {
		t.Errorf("c retains %d vectors, want %d", len(st.Recent), maxRecent)
	}
}

// TestIdleFlush: a partition that receives nothing for the idle-flush period
// (the producer stopped, or a restarted windower found everything consumed)
// has its open windows closed, and its stream time moves past them so a
// straggler for a flushed window is late instead of reopening it.
func TestIdleFlush(t *testing.T) {
	f := newFixture(t)
	clock := time.Unix(1_800_000_000, 0)
	f.p.now = func() time.Time { return clock }
	f.p.Restarted() // the run starts now, on the fake clock
	const a = "10.0.0.1"
	f.send(a, tcp(1*time.Second, a, "192.0.2.1"), tcp(15*time.Second, a, "192.0.2.1"))
	f.settle()
	vs, _ := f.drain()
	if len(vs) != 1 || vs[0].ID() != id(a, 0) {
		t.Fatalf("before the flush: %q, want only the first window", ids(vs))
	}

	clock = clock.Add(DefaultIdleFlush - time.Second)
	f.settle()
	if vs, _ := f.drain(); len(vs) != 0 {
		t.Fatalf("flushed early: %q", ids(vs))
	}
	clock = clock.Add(time.Second)
	f.settle()
	vs, _ = f.drain()
	if len(vs) != 1 || vs[0].ID() != id(a, 10*time.Second) {
		t.Fatalf("after %v of silence: %q, want the second window", DefaultIdleFlush, ids(vs))
	}
	if st := f.p.Stats(); st.Flushed != 1 {
		t.Errorf("Flushed = %d, want 1", st.Flushed)
	}
	// A straggler for the flushed window is late; it does not reopen it.
	late := f.p.Stats().Late
	f.send(a, tcp(16*time.Second, a, "192.0.2.1"))
	if got := f.p.Stats().Late; got != late+1 {
		t.Errorf("straggler: late %d, want %d", got, late+1)
	}
	if st := f.state(a); st == nil || st.Open() != 0 {
		t.Errorf("the flushed window was reopened: %+v", st)
	}
}

// TestRebalanceRestartsIdleClock: a partition assigned by a rebalance (taken
// over from a killed instance, say) restarts its idle-flush clock and its
// stream time. Before, an instance that had run for longer than the
// idle-flush period without input on that partition flushed the restored
// windows at once, ahead of the records it was about to replay, and those
// records then counted as late: their windows were lost.
func TestRebalanceRestartsIdleClock(t *testing.T) {
	f := newFixture(t)
	clock := time.Unix(1_800_000_000, 0)
	f.p.now = func() time.Time { return clock }
	f.p.Restarted()
	const a = "10.0.0.1"
	f.send(a, tcp(1*time.Second, a, "192.0.2.1"), tcp(15*time.Second, a, "192.0.2.1"))
	f.settle()
	if vs, _ := f.drain(); len(vs) != 1 {
		t.Fatalf("before the rebalance: %q, want the first window", ids(vs))
	}

	// Long after the last input here, the partition is assigned again.
	clock = clock.Add(time.Hour)
	f.p.Rebalanced(map[int32]int64{0: 0})
	f.settle()
	vs, _ := f.drain()
	for _, v := range vs {
		if v.ID() == id(a, 10*time.Second) && f.p.Stats().Flushed > 0 {
			t.Fatalf("the open window was flushed right after the rebalance")
		}
	}
	// The retained vector is emitted once more after the rebalance.
	if len(vs) != 1 || vs[0].ID() != id(a, 0) {
		t.Errorf("after the rebalance: %q, want the retained first window again", ids(vs))
	}
	// A record replayed after the takeover still lands in its window.
	late := f.p.Stats().Late
	f.send(a, tcp(16*time.Second, a, "192.0.2.1"))
	if got := f.p.Stats().Late; got != late {
		t.Errorf("replayed packet counted late (%d, was %d)", got, late)
	}

	// The idle clock runs from the assignment.
	clock = clock.Add(DefaultIdleFlush)
	f.settle()
	vs, _ = f.drain()
	if len(vs) != 1 || vs[0].ID() != id(a, 10*time.Second) {
		t.Fatalf("after %v of silence since the assignment: %q, want the second window", DefaultIdleFlush, ids(vs))
	}
	if st := f.state(a); st == nil || len(vs[0].Values) == 0 {
		t.Fatalf("state %+v", st)
	}
}
