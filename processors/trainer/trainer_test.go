package trainer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/lovoo/goka"
	"github.com/lovoo/goka/tester"

	"github.com/riptide-nids/riptide/codecs"
	"github.com/riptide-nids/riptide/detect"
	"github.com/riptide-nids/riptide/processors"
	"github.com/riptide-nids/riptide/processors/internal/gokatest"
	"github.com/riptide-nids/riptide/topology"
	"github.com/riptide-nids/riptide/window"
)

var (
	t0 = gokatest.T0
	at = gokatest.At
)

var winCfg = window.Config{Size: 10 * time.Second, Grace: 2 * time.Second}

// benign returns a plausible vector of host for the window starting at d.
func benign(rng *rand.Rand, host string, d time.Duration) *window.Vector {
	v := &window.Vector{Host: host, Start: at(d), End: at(d) + int64(winCfg.Size), Values: make([]float64, window.NumFeatures)}
	for i := range v.Values {
		v.Values[i] = float64(5+i%7) * (1 + 0.3*rng.Float64())
	}
	return v
}

func encode(t *testing.T, v *window.Vector) []byte {
	t.Helper()
	b, err := codecs.AppendVector(nil, v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func testConfig() Config {
	c := DefaultConfig()
	c.Learn = time.Minute
	c.Window = winCfg
	c.Settle = 0
	c.MinSamples = 20
	c.MaxSamples = 1000
	c.Train.Folds, c.Train.Repeats = 3, 1
	return c
}

type fixture struct {
	t    *testing.T
	tt   *tester.Tester
	top  *topology.Topology
	p    *Processor
	gp   *goka.Processor
	ctx  context.Context
	loop *tester.QueueTracker
	dead *tester.QueueTracker
	rng  *rand.Rand
}

// newFixture runs a trainer on goka's tester; setup, if any, is applied to
// the processor before it runs.
func newFixture(t *testing.T, cfg Config, setup ...func(*Processor)) *fixture {
	t.Helper()
	top := gokatest.Topology(t)
	p, err := New(top, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range setup {
		f(p)
	}
	tt, gp, ctx := gokatest.Run(t, p.Graph())
	return &fixture{t: t, tt: tt, top: top, p: p, gp: gp, ctx: ctx,
		loop: tt.NewQueueTracker(top.TrainerLoop()), dead: tt.NewQueueTracker(top.DeadLetter.Name),
		rng: rand.New(rand.NewPCG(1, 2))}
}

func (f *fixture) vector(v *window.Vector) {
	f.tt.Consume(f.top.Features.Name, v.Host, encode(f.t, v))
}

// windows sends a benign vector for each of hosts in each window starting
// at from, from+size, ... before to.
func (f *fixture) windows(hosts int, from, to time.Duration) int {
	n := 0
	for d := from; d < to; d += winCfg.Size {
		for h := range hosts {
			f.vector(benign(f.rng, fmt.Sprintf("10.0.0.%d", h+1), d))
			n++
		}
	}
	return n
}

func (f *fixture) watermark(part, parts int32, d time.Duration) {
	f.tt.Consume(f.top.Features.Name, "", encode(f.t, window.NewWatermark(part, parts, at(d))))
}

func (f *fixture) state() *State {
	v := f.tt.TableValue(goka.GroupTable(f.top.Trainer), DefaultModel)
	if v == nil {
		return nil
	}
	return v.(*State)
}

func TestVectorsLoopToModelKey(t *testing.T) {
	f := newFixture(t, testConfig())
	f.vector(benign(f.rng, "10.0.0.1", 0))
	f.vector(benign(f.rng, "2001:db8::1", 0))
	f.watermark(0, 1, 0)
	for i := range 3 {
		key, _, ok := f.loop.Next()
		if !ok || key != DefaultModel {
			t.Errorf("loop record %d: key %q, %v", i, key, ok)
		}
	}
	if _, _, ok := f.loop.Next(); ok {
		t.Error("more loop records than inputs")
	}
	if f.p.Looped() != 3 {
		t.Errorf("looped %d", f.p.Looped())
	}
}

func TestLearningFlow(t *testing.T) {
	f := newFixture(t, testConfig())
	// Learning starts at the earliest vector, not the first to arrive (a
	// partition ahead of the others): [t0+10s, t0+70s), written to the table
	// once every partition has passed t0+10s + size + grace = t0+22s.
	f.vector(benign(f.rng, "10.0.0.2", 20*time.Second))
	if st := f.state(); st == nil || st.LearnStart != 0 || st.LearnEnd != 0 {
		t.Fatalf("period written before it is fixed: %+v", st)
	}
	f.vector(benign(f.rng, "10.0.0.1", 10*time.Second))
	f.watermark(0, 2, 21*time.Second)
	f.watermark(1, 2, 22*time.Second)
	if st := f.state(); st == nil || st.LearnStart != 0 {
		t.Fatalf("period fixed before partition 0 passed its start: %+v", st)
	}
	f.watermark(0, 2, 22*time.Second)
	st := f.state()
	if st == nil || st.LearnStart != at(10*time.Second) || st.LearnEnd != at(70*time.Second) || st.Version != 0 || st.Model != nil {
		t.Fatalf("state after the partitions passed the start: %+v", st)
	}
	kept := 2 + f.windows(6, 10*time.Second, 70*time.Second) // 6 windows of 6 hosts
	// Not kept: before the period (from another partition) and after it.
	f.vector(benign(f.rng, "10.0.0.9", 0))
	f.vector(benign(f.rng, "10.0.0.9", 70*time.Second))

	// need = LearnEnd + size + grace = t0+82s, on every partition (2).
	for _, step := range []struct {
		name       string
		part       int32
		d          time.Duration
		wantTrains bool
	}{
		{"one partition past", 0, 90 * time.Second, false},
		{"other partition short", 1, 81 * time.Second, false},
		{"other partition there", 1, 82 * time.Second, true},
	} {
		f.watermark(step.part, 2, step.d)
		if got := f.p.Trained() == 1; got != step.wantTrains {
			t.Fatalf("%s: trained = %v", step.name, got)
		}
	}
	st = f.state()
	if st == nil || st.Model == nil {
		t.Fatalf("no model in the table: %+v", st)
	}
	if st.Version != 1 || st.ModelVersion() != "default-v1" {
		t.Errorf("version %d (%s)", st.Version, st.ModelVersion())
	}
	m := st.Model
	if m.SchemaID != window.SchemaID() || m.Check(window.Names()) != nil {
		t.Errorf("schema %q, names %v", m.SchemaID, m.Check(window.Names()))
	}
	if m.TrainStart != at(10*time.Second) || m.TrainEnd != at(70*time.Second) {
		t.Errorf("trained on [%d, %d)", m.TrainStart-t0, m.TrainEnd-t0)
	}
	if m.NTrain != kept {
		t.Errorf("trained on %d windows, want %d", m.NTrain, kept)
	}
	if f.p.Busy() {
		t.Error("busy after training")
	}

	// Later vectors and watermarks do not retrain.
	f.windows(3, 80*time.Second, 200*time.Second)
	f.watermark(0, 2, 300*time.Second)
	f.watermark(1, 2, 300*time.Second)
	if err := f.gp.VisitAll(f.ctx, visitTrain, nil); err != nil {
		t.Fatal(err)
	}
	if f.p.Trained() != 1 {
		t.Errorf("trained %d times", f.p.Trained())
	}
	if st := f.state(); st.Version != 1 || st.Model == nil || st.Model.NTrain != kept {
		t.Errorf("state changed after training: version %d", st.Version)
	}
}

func TestTooFewSamplesExtendLearning(t *testing.T) {
	f := newFixture(t, testConfig())
	n := f.windows(2, 0, 50*time.Second) // 10 < MinSamples 20
	f.watermark(0, 1, 100*time.Second)
	if f.p.Trained() != 0 {
		t.Fatalf("trained on %d windows", n)
	}
	st := f.state()
	if st.LearnStart != at(0) || st.LearnEnd != at(2*time.Minute) || st.Model != nil {
		t.Fatalf("state %+v: want the period extended to 2 min", st)
	}
	// The same watermark is short of the extended period.
	f.watermark(0, 1, 120*time.Second)
	if f.p.Trained() != 0 {
		t.Fatal("trained before the extended period ended")
	}
	n += f.windows(2, 60*time.Second, 120*time.Second)
	f.watermark(0, 1, 132*time.Second)
	st = f.state()
	if f.p.Trained() != 1 || st.Model == nil || st.Version != 1 {
		t.Fatalf("not trained after the extension: %+v", st)
	}
	if st.Model.NTrain != n || st.Model.TrainEnd != at(2*time.Minute) {
		t.Errorf("trained on %d windows until %v, want %d until 2m", st.Model.NTrain, time.Duration(st.Model.TrainEnd-t0), n)
	}
}

func TestSettleThenVisitTrains(t *testing.T) {
	cfg := testConfig()
	cfg.Settle = 20 * time.Millisecond
	f := newFixture(t, cfg)
	f.windows(4, 0, 60*time.Second)
	f.watermark(0, 1, 72*time.Second)
	if f.p.Trained() != 0 || !f.p.Busy() {
		t.Fatalf("trained %d, busy %v: want waiting for Settle", f.p.Trained(), f.p.Busy())
	}
	deadline := time.Now().Add(10 * time.Second)
	for f.p.Trained() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("not trained by visits after Settle")
		}
		if err := f.gp.VisitAll(f.ctx, visitTrain, nil); err != nil {
			t.Fatal(err)
		}
	}
	if st := f.state(); st.Version != 1 || st.Model == nil {
		t.Errorf("state %+v", st)
	}
	if f.p.Busy() {
		t.Error("busy after training")
	}
}

func TestGarbageGoesToDeadLetter(t *testing.T) {
	f := newFixture(t, testConfig())
	f.tt.Consume(f.top.Features.Name, "10.0.0.1", []byte("garbage"))
	h, key, raw, ok := f.dead.NextRawWithHeaders()
	if !ok {
		t.Fatal("no dead letter")
	}
	if key != DefaultModel || string(raw) != "garbage" {
		t.Errorf("dead letter %q = %q", key, raw)
	}
	if r := string(h[processors.HeaderReason]); !strings.HasPrefix(r, "trainer: ") {
		t.Errorf("reason %q", r)
	}
	if s := string(h[processors.HeaderSource]); s != f.top.TrainerLoop() {
		t.Errorf("source %q", s)
	}
	f.vector(benign(f.rng, "10.0.0.1", 0))
	f.watermark(0, 1, 12*time.Second)
	if st := f.state(); st == nil || st.LearnStart != at(0) {
		t.Errorf("learning did not go on: %+v", st)
	}
}

// TestBadVectorsDoNotPoisonLearning: a vector of another schema or with a
// non-finite value in the reservoir would make every training fail (and the
// period be extended for ever); such vectors go to the dead-letter topic.
func TestBadVectorsDoNotPoisonLearning(t *testing.T) {
	f := newFixture(t, testConfig())
	n := f.windows(4, 0, 30*time.Second)
	short := benign(f.rng, "10.0.0.7", 10*time.Second)
	short.Values = short.Values[:5]
	nan := benign(f.rng, "10.0.0.8", 20*time.Second)
	nan.Values[3] = math.NaN()
	f.vector(short)
	f.vector(nan)
	for _, want := range []string{short.ID(), nan.ID()} {
		h, _, _, ok := f.dead.NextRawWithHeaders()
		if r := string(h[processors.HeaderReason]); !ok || !strings.Contains(r, want) {
			t.Errorf("dead letter %v, reason %q; want one naming %s", ok, r, want)
		}
	}
	n += f.windows(4, 30*time.Second, 60*time.Second)
	f.watermark(0, 1, 72*time.Second)
	st := f.state()
	if f.p.Trained() != 1 || st.Model == nil || st.Model.NTrain != n {
		t.Fatalf("trained %d: %+v", f.p.Trained(), st)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*Config)
		ok   bool
	}{
		{"default", func(*Config) {}, true},
		{"no learn", func(c *Config) { c.Learn = 0 }, false},
		{"negative settle", func(c *Config) { c.Settle = -1 }, false},
		{"min above max", func(c *Config) { c.MinSamples = c.MaxSamples + 1 }, false},
		{"min zero", func(c *Config) { c.MinSamples = 0 }, false},
		{"bad window", func(c *Config) { c.Window.Size = 0 }, false},
		{"bad train", func(c *Config) { c.Train.Nu = 0 }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			tc.edit(&c)
			if err := c.Validate(); (err == nil) != tc.ok {
				t.Errorf("Validate() = %v", err)
			}
		})
	}
}

// trainedState returns a state with a small model.
func trainedState(t *testing.T, version uint64) *State {
	t.Helper()
	rng := rand.New(rand.NewPCG(3, 4))
	X := make([][]float64, 60)
	for i := range X {
		X[i] = benign(rng, "10.0.0.1", 0).Values
	}
	cfg := detect.DefaultTrainConfig()
	cfg.Folds, cfg.Repeats = 3, 1
	m, err := detect.Train(X, window.Names(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	m.SchemaID = window.SchemaID()
	m.TrainStart, m.TrainEnd = at(0), at(time.Minute)
	return &State{LearnStart: at(0), LearnEnd: at(time.Minute), Version: version, Model: m}
}

func TestStateCodecRoundTrip(t *testing.T) {
	for _, st := range []*State{
		{},
		{LearnStart: at(0), LearnEnd: at(time.Minute)},
		trainedState(t, 1),
	} {
		c := NewStateCodec()
		b, err := c.Encode(st)
		if err != nil {
			t.Fatal(err)
		}
		v, err := c.Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		got := v.(*State)
		if got.LearnStart != st.LearnStart || got.LearnEnd != st.LearnEnd || got.Version != st.Version || (got.Model == nil) != (st.Model == nil) {
			t.Errorf("round trip of %+v = %+v", st, got)
		}
		if st.Model != nil {
			x := benign(rand.New(rand.NewPCG(9, 9)), "h", 0).Values
			if a, b := st.Model.Score(x), got.Model.Score(x); a != b {
				t.Errorf("decoded model scores %v, original %v", b, a)
			}
		}
		// The zero codec (no cache) decodes too.
		if _, err := (StateCodec{}).Decode(b); err != nil {
			t.Error(err)
		}
	}
	if _, err := NewStateCodec().Encode(State{}); err == nil {
		t.Error("encoded a State value (want *State)")
	}
}

func TestStateCodecCache(t *testing.T) {
	c := NewStateCodec()
	enc := func(st *State) []byte {
		b, err := c.Encode(st)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	dec := func(b []byte) *State {
		v, err := c.Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		return v.(*State)
	}
	s1 := trainedState(t, 1)
	v1 := enc(s1)
	a, b := dec(v1), dec(append([]byte(nil), v1...))
	if a != b {
		t.Error("same version decoded twice: different values, want the cached one")
	}
	v2 := enc(trainedState(t, 2))
	c2 := dec(v2)
	if c2 == a || c2.Version != 2 {
		t.Errorf("another version: cached value returned (version %d)", c2.Version)
	}
	// Same version and size, different content (a table reset and a new
	// model 1): a fresh decode.
	other := *s1
	other.LearnStart++ // same number of digits
	v1b := enc(&other)
	if len(v1b) != len(v1) {
		t.Fatalf("test setup: sizes %d and %d", len(v1b), len(v1))
	}
	dec(v1)
	if got := dec(v1b); got.LearnStart != other.LearnStart {
		t.Errorf("same version and size, other content: got the cached state (learn start %d, want %d)", got.LearnStart, other.LearnStart)
	}
	// Learning states (version 0) are never cached: callers modify them.
	l := enc(&State{LearnStart: at(0), LearnEnd: at(time.Minute)})
	first, second := dec(l), dec(l)
	if first == second {
		t.Error("version 0 state cached")
	}
}

func TestStateCodecGarbage(t *testing.T) {
	good, err := NewStateCodec().Encode(trainedState(t, 1))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		b    []byte
	}{
		{"nil", nil},
		{"short", []byte("RTS1")},
		{"magic", append([]byte("XXXX"), good[4:]...)},
		{"json", append(append([]byte(nil), good[:12]...), "{not json"...)},
		{"truncated", good[:len(good)/2]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := NewStateCodec().Decode(tc.b)
			if !errors.Is(err, ErrBadState) || v != nil {
				t.Errorf("Decode = %v, %v; want ErrBadState", v, err)
			}
		})
	}
}

// FuzzStateCodec: Decode must not panic on any table value and must report
// ErrBadState for what it rejects.
func FuzzStateCodec(f *testing.F) {
	b, err := NewStateCodec().Encode(&State{LearnStart: 1, LearnEnd: 2})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte("RTS1\x00\x00\x00\x00\x00\x00\x00\x01{}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c := NewStateCodec()
		if _, err := c.Decode(b); err != nil && !errors.Is(err, ErrBadState) {
			t.Fatalf("error %v does not wrap ErrBadState", err)
		}
	})
}
