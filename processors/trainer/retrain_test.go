package trainer

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/riptide-nids/riptide/codecs"
	"github.com/riptide-nids/riptide/detect"
	"github.com/riptide-nids/riptide/learning"
	"github.com/riptide-nids/riptide/window"
)

// trainedFixture returns a fixture whose trainer has trained model v1 on
// benign windows of 6 hosts and has since kept the windows of [80 s, 400 s)
// for retraining.
func trainedFixture(t *testing.T, setup ...func(*Processor)) *fixture {
	t.Helper()
	cfg := testConfig()
	cfg.RetrainLabels = 5
	cfg.RetrainEvery = 0
	f := newFixture(t, cfg, setup...)
	f.windows(6, 0, time.Minute)
	f.watermark(0, 1, 90*time.Second)
	if st := f.state(); st == nil || st.Model == nil || st.Version != 1 {
		t.Fatalf("no first model: %+v", st)
	}
	f.windows(6, 80*time.Second, 400*time.Second)
	if f.p.recent.Len() < cfg.MinSamples {
		t.Fatalf("only %d recent windows kept", f.p.recent.Len())
	}
	return f
}

// odd returns a window of host at d whose values are far from the benign
// ones (every feature k times larger).
func odd(f *fixture, host string, d time.Duration, k float64) *window.Vector {
	v := benign(f.rng, host, d)
	for i := range v.Values {
		v.Values[i] *= k
	}
	return v
}

func (f *fixture) label(v *window.Vector, verdict string) {
	f.t.Helper()
	fb := &codecs.Feedback{Version: codecs.FeedbackVersion, ID: v.ID(), Host: v.Host, WindowStart: time.Unix(0, v.Start).UTC(),
		Verdict: verdict, LabelledAt: time.Now(), Features: window.Names(), Values: v.Values}
	b, err := codecs.EncodeFeedback(fb)
	if err != nil {
		f.t.Fatal(err)
	}
	f.tt.Consume(f.top.Feedback.Name, fb.ID, b)
}

func (f *fixture) command(c Command) {
	f.t.Helper()
	c.V = CommandVersion
	b, err := json.Marshal(c)
	if err != nil {
		f.t.Fatal(err)
	}
	f.tt.Consume(f.top.Control.Name, DefaultModel, b)
}

// TestFalsePositivesRetrain: five windows the champion flags are labelled
// false positives; the fifth label retrains, the challenger is not worse on
// the labelled windows and is promoted, and under it none of the five
// alerts any more. The former champion stays in the history with its model.
func TestFalsePositivesRetrain(t *testing.T) {
	f := trainedFixture(t)
	v1 := f.state().Model
	var fps []*window.Vector
	for i := range 5 {
		v := odd(f, "10.0.9.9", time.Duration(500+10*i)*time.Second, 4+0.2*float64(i))
		if !v1.IsAnomaly(v1.Score(v.Values)) {
			t.Fatalf("window %d is not flagged by v1; the test needs flagged windows", i)
		}
		f.vector(v) // flagged: not kept for training
		fps = append(fps, v)
	}
	for i, v := range fps {
		f.label(v, codecs.VerdictFalsePositive)
		if st := f.state(); i < 4 && st.Version != 1 {
			t.Fatalf("retrained after %d labels", i+1)
		}
	}
	st := f.state()
	if st.Version != 2 || st.ModelVersion() != "default-v2" || st.Model == v1 {
		t.Fatalf("after five labels: champion v%d, want v2", st.Version)
	}
	for i, v := range fps {
		if s := st.Model.Score(v.Values); st.Model.IsAnomaly(s) {
			t.Errorf("false positive %d still alerts under v2: score %.3f < threshold %.3f", i, s, st.Model.Threshold)
		}
	}
	if len(st.History) != 2 {
		t.Fatalf("history %+v", st.History)
	}
	h1, h2 := st.History[0], st.History[1]
	if h1.Version != 1 || h1.Status != StatusRetired || h1.Model == nil {
		t.Errorf("v1 in history: version %d status %s model kept %v", h1.Version, h1.Status, h1.Model != nil)
	}
	if h2.Version != 2 || h2.Status != StatusChampion || h2.Trigger != "labels" || h2.Model != nil ||
		h2.Champion.FP != 5 || h2.Eval.FP != 0 || h2.Labelled != 5 || h2.Copies < 2 {
		t.Errorf("v2 in history: %+v", h2)
	}
	if st.NewLabels != 0 || len(st.Labels) != 5 {
		t.Errorf("labels %d, new %d", len(st.Labels), st.NewLabels)
	}
}

// TestWorseChallengerNotPromoted: the champion catches a labelled attack;
// a challenger that catches nothing is kept as rejected and the champion
// stays.
func TestWorseChallengerNotPromoted(t *testing.T) {
	f := trainedFixture(t, func(p *Processor) {
		first := true
		p.fit = func(X [][]float64, names []string, cfg detect.TrainConfig) (*detect.Model, error) {
			m, err := detect.Train(X, names, cfg)
			if err == nil && !first {
				m.Threshold = -math.MaxFloat64 // flags nothing
			}
			first = false
			return m, err
		}
	})
	v1 := f.state().Model
	attack := odd(f, "10.0.6.6", 500*time.Second, 10)
	if !v1.IsAnomaly(v1.Score(attack.Values)) {
		t.Fatal("the attack is not flagged by v1")
	}
	f.label(attack, codecs.VerdictTruePositive)
	for i := range 4 {
		f.label(benign(f.rng, "10.0.0.1", time.Duration(600+10*i)*time.Second), codecs.VerdictTrueNegative)
	}
	st := f.state()
	if st.Version != 1 || st.Model.CreatedAt != v1.CreatedAt {
		t.Fatalf("champion v%d after a worse challenger", st.Version)
	}
	if len(st.History) != 2 || st.History[1].Status != StatusRejected || st.History[1].Model == nil ||
		st.History[1].Eval.TP != 0 || st.History[1].Champion.TP != 1 || st.Trained != 2 {
		t.Fatalf("history %+v", st.History)
	}

	// An operator can still promote it, and roll back.
	f.command(Command{Command: CommandPromote, Version: 2, By: "test"})
	if st := f.state(); st.Version != 2 || st.History[0].Status != StatusRetired || st.History[0].Model == nil {
		t.Fatalf("after promote: champion v%d, history %+v", st.Version, st.History)
	}
	f.command(Command{Command: CommandRollback, By: "test"})
	st = f.state()
	if st.Version != 1 || st.Model.CreatedAt != v1.CreatedAt || st.History[1].Status != StatusRolledBack {
		t.Fatalf("after rollback: champion v%d, history %+v", st.Version, st.History)
	}
	// Unknown versions are refused and dead-lettered.
	f.command(Command{Command: CommandPromote, Version: 9})
	if st := f.state(); st.Version != 1 {
		t.Errorf("promote of a missing version changed the champion to v%d", st.Version)
	}
	if _, _, ok := f.dead.Next(); !ok {
		t.Error("the refused command was not dead-lettered")
	}
}

// TestConfirmedAttackLeavesTrainingSet: a window kept for training that is
// labelled an attack is removed from the recent windows.
func TestConfirmedAttackLeavesTrainingSet(t *testing.T) {
	f := trainedFixture(t)
	v := benign(f.rng, "10.0.0.2", 410*time.Second)
	f.vector(v)
	n := f.p.recent.Len()
	f.label(v, codecs.VerdictFalseNegative)
	if f.p.recent.Len() != n-1 {
		t.Errorf("recent windows %d after labelling a kept window an attack, want %d", f.p.recent.Len(), n-1)
	}
	f.vector(v) // a repeat is not kept again
	if f.p.recent.Len() != n-1 {
		t.Errorf("the labelled attack was kept again")
	}
}

// TestScheduledRetrain: once RetrainEvery has passed since the last
// training, the next window retrains; with no labels the challenger is not
// worse and is promoted.
func TestScheduledRetrain(t *testing.T) {
	f := trainedFixture(t)
	f.p.mu.Lock()
	f.p.cfg.RetrainEvery = time.Hour
	f.p.mu.Unlock()
	f.vector(benign(f.rng, "10.0.0.1", 400*time.Second))
	if st := f.state(); st.Version != 1 {
		t.Fatalf("retrained before the hour passed: v%d", st.Version)
	}
	later := f.state().Model.CreatedAt.Add(time.Hour)
	f.p.mu.Lock()
	f.p.now = func() time.Time { return later }
	f.p.mu.Unlock()
	f.vector(benign(f.rng, "10.0.0.1", 410*time.Second))
	st := f.state()
	if st.Version != 2 || st.History[1].Trigger != "schedule" || st.History[1].Status != StatusChampion {
		t.Fatalf("after the schedule: champion v%d, history %+v", st.Version, st.History)
	}
}

// TestLabelsWaitForWindows: labels that arrive while the trainer holds too
// few recent windows (it restarted) retrain as soon as enough have come.
func TestLabelsWaitForWindows(t *testing.T) {
	f := trainedFixture(t)
	f.p.mu.Lock()
	f.p.recent = learning.NewRecent(f.p.cfg.Recent) // what a restart leaves
	f.p.mu.Unlock()
	v1 := f.state().Model
	for i := range 5 {
		f.label(odd(f, "10.0.9.9", time.Duration(500+10*i)*time.Second, 4), codecs.VerdictFalsePositive)
	}
	if st := f.state(); st.Version != 1 || st.NewLabels != 5 {
		t.Fatalf("without windows: champion v%d, %d new labels; want v1 and 5 waiting", st.Version, st.NewLabels)
	}
	f.windows(6, 600*time.Second, 700*time.Second) // 60 windows >= MinSamples 20
	st := f.state()
	if st.Version != 2 || st.NewLabels != 0 || st.Model == v1 {
		t.Fatalf("after enough windows: champion v%d, %d new labels", st.Version, st.NewLabels)
	}
}
