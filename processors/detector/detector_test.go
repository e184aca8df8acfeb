package detector

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lovoo/goka"
	"github.com/lovoo/goka/tester"

	"github.com/riptide-nids/riptide/codecs"
	"github.com/riptide-nids/riptide/detect"
	"github.com/riptide-nids/riptide/processors"
	"github.com/riptide-nids/riptide/processors/internal/gokatest"
	"github.com/riptide-nids/riptide/processors/trainer"
	"github.com/riptide-nids/riptide/topology"
	"github.com/riptide-nids/riptide/window"
)

var at = gokatest.At

const size = 10 * time.Second

// learnEnd is the end of the learning period of the test models.
const learnEnd = time.Minute

func vec(host string, d time.Duration, values []float64) *window.Vector {
	return &window.Vector{Host: host, Start: at(d), End: at(d + size), Values: values}
}

// typical returns the centre of the benign distribution of benignRows.
func typical() []float64 {
	x := make([]float64, window.NumFeatures)
	for i := range x {
		x[i] = float64(5+i%7) * 1.15
	}
	return x
}

// outlier is a port scan: far more ports, pairs and SYNs than ever seen.
func outlier() []float64 {
	x := typical()
	x[window.FDstPorts] = 5000
	x[window.FDstPairs] = 5000
	x[window.FSynOut] = 5000
	return x
}

func benignRows(n int) [][]float64 {
	rng := rand.New(rand.NewPCG(5, 6))
	X := make([][]float64, n)
	for i := range X {
		X[i] = make([]float64, window.NumFeatures)
		for k := range X[i] {
			X[i][k] = float64(5+k%7) * (1 + 0.3*rng.Float64())
		}
	}
	return X
}

var (
	modelOnce sync.Once
	model     *detect.Model
	modelErr  error
)

// trainedState returns the trainer's state with a model trained on benign
// windows of [t0, t0+learnEnd), as the trainer stores it. names overrides
// the feature names (another schema) when not nil.
func trainedState(t *testing.T, names []string) *trainer.State {
	t.Helper()
	modelOnce.Do(func() {
		cfg := detect.DefaultTrainConfig()
		cfg.Folds, cfg.Repeats = 3, 2
		model, modelErr = detect.Train(benignRows(300), window.Names(), cfg)
	})
	if modelErr != nil {
		t.Fatal(modelErr)
	}
	m := *model
	m.SchemaID = window.SchemaID()
	m.TrainStart, m.TrainEnd = at(0), at(learnEnd)
	if names != nil {
		m.FeatureNames = names
	}
	return &trainer.State{LearnStart: at(0), LearnEnd: at(learnEnd), Version: 1, Model: &m}
}

// syncBuffer is a log sink safe for the partition goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type fixture struct {
	t         *testing.T
	tt        *tester.Tester
	top       *topology.Topology
	p         *Processor
	gp        *goka.Processor
	ctx       context.Context
	anomalies *tester.QueueTracker
	dead      *tester.QueueTracker
	log       *syncBuffer
}

// newFixture runs a detector on goka's tester; setup, if any, is applied to
// the processor before it runs.
func newFixture(t *testing.T, setup ...func(*Processor)) *fixture {
	t.Helper()
	top := gokatest.Topology(t)
	log := new(syncBuffer)
	p := New(top, slog.New(slog.NewTextHandler(log, nil)))
	for _, f := range setup {
		f(p)
	}
	tt, gp, ctx := gokatest.Run(t, p.Graph())
	return &fixture{t: t, tt: tt, top: top, p: p, gp: gp, ctx: ctx, log: log,
		anomalies: tt.NewQueueTracker(top.Anomalies.Name), dead: tt.NewQueueTracker(top.DeadLetter.Name)}
}

func (f *fixture) send(v *window.Vector) {
	f.t.Helper()
	b, err := codecs.AppendVector(nil, v)
	if err != nil {
		f.t.Fatal(err)
	}
	f.tt.Consume(f.top.Features.Name, v.Host, b)
}

func (f *fixture) setModel(st *trainer.State) {
	f.tt.SetTableValue(goka.GroupTable(f.top.Trainer), trainer.DefaultModel, st)
}

func (f *fixture) visit() {
	f.t.Helper()
	if err := f.gp.VisitAll(f.ctx, visitPending, nil); err != nil {
		f.t.Fatal(err)
	}
	f.tt.Catchup()
}

// drain returns the anomalies emitted since the last call.
func (f *fixture) drain() []*codecs.Anomaly {
	f.t.Helper()
	var out []*codecs.Anomaly
	for {
		key, v, ok := f.anomalies.Next()
		if !ok {
			return out
		}
		a := v.(*codecs.Anomaly)
		if key != a.Host {
			f.t.Errorf("anomaly of %s with key %q", a.Host, key)
		}
		out = append(out, a)
	}
}

func anomalyIDs(as []*codecs.Anomaly) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.ID
	}
	slices.Sort(out)
	return out
}

func (f *fixture) state(host string) *State {
	v := f.tt.TableValue(goka.GroupTable(f.top.Detector), host)
	if v == nil {
		return nil
	}
	return v.(*State)
}

func TestTestModel(t *testing.T) {
	m := trainedState(t, nil).Model
	if s := m.Score(typical()); m.IsAnomaly(s) {
		t.Fatalf("typical vector scores %v, threshold %v", s, m.Threshold)
	}
	if s := m.Score(outlier()); !m.IsAnomaly(s) {
		t.Fatalf("outlier scores %v, threshold %v", s, m.Threshold)
	}
}

func TestOutlierYieldsOneAnomaly(t *testing.T) {
	f := newFixture(t)
	ms := trainedState(t, nil)
	f.setModel(ms)
	const a, b = "10.0.0.1", "2001:db8::7"
	out := vec(a, learnEnd, outlier())
	f.send(out)
	f.send(vec(b, learnEnd, typical()))
	as := f.drain()
	if len(as) != 1 {
		t.Fatalf("%d anomalies (%q), want 1", len(as), anomalyIDs(as))
	}
	an := as[0]
	if an.ID != out.ID() || an.Host != a {
		t.Errorf("anomaly %q of %q, want %q", an.ID, an.Host, out.ID())
	}
	if !an.WindowStart.Equal(time.Unix(0, out.Start)) || !an.WindowEnd.Equal(time.Unix(0, out.End)) {
		t.Errorf("window [%v, %v)", an.WindowStart, an.WindowEnd)
	}
	if !(an.Score < an.Threshold) || an.Threshold != ms.Model.Threshold {
		t.Errorf("score %v, threshold %v (model %v)", an.Score, an.Threshold, ms.Model.Threshold)
	}
	if an.ModelVersion != "default-v1" {
		t.Errorf("model version %q", an.ModelVersion)
	}
	if len(an.Reasons) == 0 || len(an.Reasons) > f.p.Reasons {
		t.Fatalf("%d reasons", len(an.Reasons))
	}
	var named []string
	for _, r := range an.Reasons {
		if r.Text == "" || !strings.HasPrefix(r.Text, r.Feature+" = ") {
			t.Errorf("reason %+v: text %q", r, r.Text)
		}
		named = append(named, r.Feature)
	}
	if !slices.Contains(named, "dst_ports") && !slices.Contains(named, window.Schema[window.FDstPorts].Name) {
		t.Errorf("reasons %q do not name the destination ports", named)
	}
	if an.DetectedAt.IsZero() {
		t.Error("no detected_at")
	}

	// The same (host, window) again (a repeat after a crash upstream or
	// here): scored once, but its anomaly is emitted again with the same id
	// and score, since the first emission may not have reached Kafka.
	f.send(out)
	if as := f.drain(); len(as) != 1 || as[0].ID != an.ID || as[0].Score != an.Score {
		t.Errorf("repeat of an anomalous window: %q, want the anomaly %s again", anomalyIDs(as), an.ID)
	}
	// A repeat of a window of the learning period emits nothing.
	f.send(vec(a, learnEnd-size, typical()))
	if as := f.drain(); len(as) != 0 {
		t.Errorf("repeat of an earlier window: %q", anomalyIDs(as))
	}
	// The next window of a benign-again host: nothing; a later outlier: one.
	f.send(vec(a, learnEnd+size, typical()))
	f.send(vec(a, learnEnd+2*size, outlier()))
	if got, want := anomalyIDs(f.drain()), []string{vec(a, learnEnd+2*size, nil).ID()}; !slices.Equal(got, want) {
		t.Errorf("anomalies %q, want %q", got, want)
	}
	s := f.p.Stats()
	if s.Vectors != 6 || s.Scored != 4 || s.Anomalies != 2 || s.Duplicates != 2 || s.Realerted != 1 || s.Pending != 0 {
		t.Errorf("stats %+v", s)
	}
	if st := f.state(a); st == nil || !st.Scored || st.LastStart != at(learnEnd+2*size) || len(st.Pending) != 0 {
		t.Errorf("state of %s: %+v", a, st)
	}
}

func TestBeforeAnyTrainerStateVectorsPend(t *testing.T) {
	f := newFixture(t)
	const a = "10.0.0.1"
	f.send(vec(a, 0, outlier()))
	if as := f.drain(); len(as) != 0 {
		t.Fatalf("anomalies without a model: %q", anomalyIDs(as))
	}
	if st := f.state(a); st == nil || len(st.Pending) != 1 || st.Scored {
		t.Errorf("state %+v: want one pending window", st)
	}
	if s := f.p.Stats(); s.Pending != 1 || s.Scored != 0 {
		t.Errorf("stats %+v", s)
	}
}

// TestPeriodNotFixedVectorsPend: while the trainer's table holds an empty
// state (learning, period not fixed yet) windows pend.
func TestPeriodNotFixedVectorsPend(t *testing.T) {
	f := newFixture(t)
	f.setModel(&trainer.State{})
	const a = "10.0.0.1"
	f.send(vec(a, 0, outlier()))
	if st := f.state(a); st == nil || len(st.Pending) != 1 {
		t.Errorf("state %+v: want one pending window", st)
	}
	if s := f.p.Stats(); s.Learning != 0 || s.Pending != 1 {
		t.Errorf("stats %+v", s)
	}
}

func TestLearningPeriodVectorIgnored(t *testing.T) {
	f := newFixture(t)
	f.setModel(&trainer.State{LearnStart: at(0), LearnEnd: at(learnEnd)}) // learning, no model
	const a = "10.0.0.1"
	f.send(vec(a, 10*time.Second, outlier()))
	if st := f.state(a); st != nil && len(st.Pending) != 0 {
		t.Errorf("a training window pends: %+v", st)
	}
	f.send(vec(a, learnEnd, outlier())) // after the period: waits for the model
	if st := f.state(a); st == nil || len(st.Pending) != 1 || st.Pending[0].Start != at(learnEnd) {
		t.Errorf("state %+v: want the window after the period pending", st)
	}
	if s := f.p.Stats(); s.Learning != 1 || s.Pending != 1 || s.Scored != 0 {
		t.Errorf("stats %+v", s)
	}
	f.setModel(trainedState(t, nil))
	f.visit()
	if got, want := anomalyIDs(f.drain()), []string{vec(a, learnEnd, nil).ID()}; !slices.Equal(got, want) {
		t.Errorf("anomalies %q, want %q", got, want)
	}
}

func TestPendingScoredWhenModelArrives(t *testing.T) {
	const a, b = "10.0.0.1", "10.0.0.2"
	t.Run("visitor", func(t *testing.T) {
		f := newFixture(t)
		f.send(vec(a, 0, outlier()))             // turns out to be a training window
		f.send(vec(a, learnEnd, outlier()))      // scored: anomaly
		f.send(vec(a, learnEnd, outlier()))      // same window twice while pending
		f.send(vec(b, learnEnd, typical()))      // scored: benign
		f.send(vec(b, learnEnd+size, typical())) // scored: benign
		f.visit()                                // no model yet: nothing happens
		if as := f.drain(); len(as) != 0 || f.p.Stats().Pending != 5 {
			t.Fatalf("anomalies %q, stats %+v before the model", anomalyIDs(as), f.p.Stats())
		}
		f.setModel(trainedState(t, nil))
		f.visit()
		if got, want := anomalyIDs(f.drain()), []string{vec(a, learnEnd, nil).ID()}; !slices.Equal(got, want) {
			t.Errorf("anomalies %q, want %q", got, want)
		}
		s := f.p.Stats()
		if s.Pending != 0 || s.Scored != 3 || s.Learning != 1 || s.Duplicates != 1 || s.Anomalies != 1 {
			t.Errorf("stats %+v", s)
		}
		for _, h := range []string{a, b} {
			if st := f.state(h); st == nil || len(st.Pending) != 0 || !st.Scored {
				t.Errorf("state of %s: %+v", h, st)
			}
		}
		f.visit()
		if as := f.drain(); len(as) != 0 {
			t.Errorf("second visit alerted again: %q", anomalyIDs(as))
		}
	})
	t.Run("next vector", func(t *testing.T) {
		f := newFixture(t)
		f.send(vec(a, learnEnd, outlier()))
		f.setModel(trainedState(t, nil))
		f.send(vec(a, learnEnd+size, typical()))
		if got, want := anomalyIDs(f.drain()), []string{vec(a, learnEnd, nil).ID()}; !slices.Equal(got, want) {
			t.Errorf("anomalies %q, want %q", got, want)
		}
		if st := f.state(a); st == nil || st.LastStart != at(learnEnd+size) || len(st.Pending) != 0 {
			t.Errorf("state %+v", st)
		}
	})
}

func TestPendingIsBounded(t *testing.T) {
	f := newFixture(t)
	const a = "10.0.0.1"
	for i := range maxPending + 6 {
		f.send(vec(a, learnEnd+time.Duration(i)*size, typical()))
	}
	st := f.state(a)
	if st == nil || len(st.Pending) != maxPending || st.Pending[0].Start != at(learnEnd+6*size) {
		t.Fatalf("state holds %d windows", len(st.Pending))
	}
	if s := f.p.Stats(); s.Dropped != 6 || s.Pending != maxPending {
		t.Errorf("stats %+v", s)
	}
}

func TestOtherSchemaRefused(t *testing.T) {
	f := newFixture(t)
	names := slices.Clone(window.Names())
	names[window.FDstPorts] = "renamed_feature"
	f.setModel(trainedState(t, names))
	const a = "10.0.0.1"
	for i := range 3 {
		f.send(vec(a, learnEnd+time.Duration(i)*size, outlier()))
	}
	f.visit()
	if as := f.drain(); len(as) != 0 {
		t.Errorf("a model of another schema alerted: %q", anomalyIDs(as))
	}
	if n := strings.Count(f.log.String(), "does not fit"); n != 1 {
		t.Errorf("logged %d times, want once:\n%s", n, f.log.String())
	}
	if s := f.p.Stats(); s.Scored != 0 || s.Pending != 3 {
		t.Errorf("stats %+v", s)
	}
	// A model of this schema then scores the windows kept waiting.
	f.setModel(trainedState(t, nil))
	f.visit()
	if as := f.drain(); len(as) != 3 {
		t.Errorf("%d anomalies after a fitting model, want 3", len(as))
	}
}

// TestInvalidModelRefused: a model whose dimensions do not agree (a
// corrupt or foreign table value) would panic in Score; it is refused like
// a model of another schema.
func TestInvalidModelRefused(t *testing.T) {
	f := newFixture(t)
	bad := trainedState(t, nil)
	bad.Model.SV = slices.Clone(bad.Model.SV)
	bad.Model.SV[0] = bad.Model.SV[0][:3]
	f.setModel(bad)
	const a = "10.0.0.1"
	f.consumeWithin(t, a, mustEncode(t, vec(a, learnEnd, outlier())), 10*time.Second)
	if as := f.drain(); len(as) != 0 {
		t.Errorf("an invalid model alerted: %q", anomalyIDs(as))
	}
	if s := f.p.Stats(); s.Scored != 0 || s.Pending != 1 {
		// Fatal: scoring with it may have stopped the processor.
		t.Fatalf("stats %+v: want the window waiting, not scored", s)
	}
	if n := strings.Count(f.log.String(), "does not fit"); n != 1 {
		t.Errorf("logged %d times, want once:\n%s", n, f.log.String())
	}
	f.setModel(trainedState(t, nil))
	f.visit()
	if as := f.drain(); len(as) != 1 {
		t.Errorf("%d anomalies after a valid model, want 1", len(as))
	}
}

func TestWatermarkIgnored(t *testing.T) {
	f := newFixture(t)
	f.setModel(trainedState(t, nil))
	f.send(window.NewWatermark(1, 3, at(time.Hour)))
	if s := f.p.Stats(); s.Vectors != 0 || s.DeadLetters != 0 {
		t.Errorf("stats %+v", s)
	}
	if keys := f.tt.GetTableKeys(goka.GroupTable(f.top.Detector)); len(keys) != 0 {
		t.Errorf("table keys %q", keys)
	}
}

// TestBadVectorsGoToDeadLetter: vectors that decode but cannot be scored
// (another schema's length, non-finite values, no window) would panic the
// scorer or fail encoding the anomaly, stopping the processor on every
// retry; they go to the dead-letter topic and processing goes on.
func TestBadVectorsGoToDeadLetter(t *testing.T) {
	f := newFixture(t)
	f.setModel(trainedState(t, nil))
	const a = "10.0.0.1"
	nan := outlier()
	nan[2] = math.NaN()
	inf := typical()
	inf[0] = math.Inf(1)
	empty := vec(a, learnEnd, typical())
	empty.End = empty.Start
	for i, tc := range []struct {
		name string
		raw  []byte
	}{
		{"garbage", []byte("garbage")},
		{"short", mustEncode(t, vec(a, learnEnd, typical()[:5]))},
		{"NaN", mustEncode(t, vec(a, learnEnd+size, nan))},
		{"Inf", mustEncode(t, vec(a, learnEnd+2*size, inf))},
		{"empty window", mustEncode(t, empty)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f.consumeWithin(t, a, tc.raw, 10*time.Second)
			h, key, raw, ok := f.dead.NextRawWithHeaders()
			if !ok {
				t.Fatal("no dead letter")
			}
			if key != a || !bytes.Equal(raw, tc.raw) {
				t.Errorf("dead letter %q = %q", key, raw)
			}
			if r := string(h[processors.HeaderReason]); !strings.HasPrefix(r, "detector: ") {
				t.Errorf("reason %q", r)
			}
			if s := string(h[processors.HeaderSource]); s != f.top.Features.Name {
				t.Errorf("source %q", s)
			}
			if s := f.p.Stats(); s.DeadLetters != int64(i+1) || s.Scored != 0 {
				t.Errorf("stats %+v", s)
			}
		})
	}
	f.send(vec(a, learnEnd+3*size, outlier()))
	if got, want := anomalyIDs(f.drain()), []string{vec(a, learnEnd+3*size, nil).ID()}; !slices.Equal(got, want) {
		t.Errorf("anomalies %q, want %q", got, want)
	}
}

// consumeWithin consumes one record and fails the test if the processor has
// not processed it within d (a processor stopped by a panic never does).
func (f *fixture) consumeWithin(t *testing.T, key string, raw []byte, d time.Duration) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); f.tt.Consume(f.top.Features.Name, key, raw) }()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("record not processed within %v: the processor stopped", d)
	}
}

func mustEncode(t *testing.T, v *window.Vector) []byte {
	t.Helper()
	b, err := codecs.AppendVector(nil, v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestStateCodecRoundTrip(t *testing.T) {
	full := &State{Scored: true, LastStart: at(time.Hour)}
	for i := range maxPending {
		full.Pending = append(full.Pending, *vec(fmt.Sprintf("10.0.0.%d", i%200), time.Duration(i)*size, typical()))
	}
	for _, st := range []*State{
		{},
		{Scored: true, LastStart: at(0)},
		{LastStart: -5, Pending: []window.Vector{*vec("10.0.0.1", 0, typical()), *vec("2001:db8::1", size, outlier())}},
		full,
	} {
		b, err := StateCodec{}.Encode(st)
		if err != nil {
			t.Fatal(err)
		}
		v, err := StateCodec{}.Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		got := v.(*State)
		if got.Scored != st.Scored || got.LastStart != st.LastStart || len(got.Pending) != len(st.Pending) {
			t.Fatalf("round trip %+v -> %+v", st, got)
		}
		for i := range st.Pending {
			w, g := &st.Pending[i], &got.Pending[i]
			if w.Host != g.Host || w.Start != g.Start || w.End != g.End || !slices.Equal(w.Values, g.Values) {
				t.Errorf("pending %d: %+v, want %+v", i, g, w)
			}
		}
	}
	if _, err := (StateCodec{}).Encode(State{}); err == nil {
		t.Error("encoded a State value (want *State)")
	}
}

func TestStateCodecGarbage(t *testing.T) {
	good, err := StateCodec{}.Encode(&State{Scored: true, LastStart: 7, Pending: []window.Vector{*vec("10.0.0.1", 0, typical())}})
	if err != nil {
		t.Fatal(err)
	}
	tooMany := []byte{stateVersion, 0, 0, maxPending + 2}
	for _, tc := range []struct {
		name string
		b    []byte
	}{
		{"nil", nil},
		{"one byte", []byte{stateVersion}},
		{"version", append([]byte{9}, good[1:]...)},
		{"no last start", []byte{stateVersion, 1}},
		{"no count", good[:3]},
		{"too many pending", tooMany},
		{"truncated vector", good[:len(good)-4]},
		{"bad vector", func() []byte {
			b := slices.Clone(good)
			b[4+bytes.IndexByte(good[4:], codecs.VectorMagic)] = 'X'
			return b
		}()},
		{"garbage", []byte("garbage")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := StateCodec{}.Decode(tc.b)
			if !errors.Is(err, ErrBadState) || v != nil {
				t.Errorf("Decode = %+v, %v; want ErrBadState", v, err)
			}
		})
	}
}

// FuzzStateCodec: table values come from Kafka; Decode must not panic, and
// what it accepts must survive a round trip.
func FuzzStateCodec(f *testing.F) {
	for _, st := range []*State{{}, {Scored: true, LastStart: 5, Pending: []window.Vector{*vec("10.0.0.1", 0, typical())}}} {
		b, err := StateCodec{}.Encode(st)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := StateCodec{}.Decode(b)
		if err != nil {
			if !errors.Is(err, ErrBadState) {
				t.Fatalf("error %v does not wrap ErrBadState", err)
			}
			return
		}
		st := v.(*State)
		enc, err := StateCodec{}.Encode(st)
		if err != nil {
			t.Fatal(err)
		}
		v2, err := StateCodec{}.Decode(enc)
		if err != nil {
			t.Fatal(err)
		}
		st2 := v2.(*State)
		if st2.Scored != st.Scored || st2.LastStart != st.LastStart || len(st2.Pending) != len(st.Pending) {
			t.Fatalf("round trip %+v -> %+v", st, st2)
		}
	})
}
