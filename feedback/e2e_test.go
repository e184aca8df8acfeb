package feedback_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/riptide-nids/riptide/codecs"
	"github.com/riptide-nids/riptide/feedback"
	"github.com/riptide-nids/riptide/internal/testenv"
	"github.com/riptide-nids/riptide/kclient"
	"github.com/riptide-nids/riptide/loadtest"
	"github.com/riptide-nids/riptide/models"
	"github.com/riptide-nids/riptide/pipeline"
	"github.com/riptide-nids/riptide/processors/trainer"
	"github.com/riptide-nids/riptide/producers"
	"github.com/riptide-nids/riptide/topology"
	"github.com/riptide-nids/riptide/window"
)

func replay(ctx context.Context, t *testing.T, cl *kgo.Client, top *topology.Topology, parts int, cfg loadtest.Config) {
	t.Helper()
	g, err := loadtest.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	wc := window.DefaultConfig()
	prod, err := producers.New(cl, producers.Config{Topic: top.Packets.Name, Partitions: parts, FinalWatermark: wc.Size + wc.Grace})
	if err != nil {
		t.Fatal(err)
	}
	if err := producers.Replay(ctx, loadtest.Source(g), prod, 0, nil); err != nil {
		t.Fatal(err)
	}
	if err := prod.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

// anomalies reads the anomalies topic from the start until want returns
// true for what was read, or the deadline.
func anomalies(ctx context.Context, t *testing.T, kc kclient.Config, top *topology.Topology, want func([]*codecs.Anomaly) bool) []*codecs.Anomaly {
	t.Helper()
	cl, err := kclient.NewClient(kc, kgo.ConsumeTopics(top.Anomalies.Name), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var got []*codecs.Anomaly
	seen := map[string]bool{}
	for !want(got) {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("anomalies: %d read when the deadline passed: %v", len(got), ctx.Err())
		}
		fs.EachRecord(func(r *kgo.Record) {
			a, err := codecs.DecodeAnomaly(r.Value)
			if err == nil && !seen[a.ID+a.ModelVersion] {
				seen[a.ID+a.ModelVersion] = true
				got = append(got, a)
			}
		})
	}
	return got
}

// TestFalsePositivesRetrainEndToEnd runs the whole pipeline on kfake. An
// SSH brute force after the learning period is alerted; an analyst labels
// five of its windows false positives (say, an authorised password audit)
// through the label path (looking each window up on the features topic).
// The trainer retrains, the challenger is not worse on the labelled
// windows and is promoted to v2, and under v2 none of the five windows
// alerts. The detector switches to v2 without a restart: a port scan
// replayed afterwards is alerted by default-v2. Rollback returns to v1.
func TestFalsePositivesRetrainEndToEnd(t *testing.T) {
	const parts = 2
	ctx := testenv.Context(t, 3*time.Minute)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	top := topology.MustNew("feedback-e2e")
	kc := kclient.Config{Brokers: testenv.Kafka(t, parts), ClientID: "feedback-e2e"}
	cl, err := kclient.NewClient(kc)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if _, err := kclient.CreateTopics(ctx, cl, kc, top.All(), parts); err != nil {
		t.Fatal(err)
	}
	learn := 2 * time.Minute
	tc := trainer.DefaultConfig()
	tc.Learn = learn
	tc.Settle = 200 * time.Millisecond
	tc.RetrainLabels = 5
	tc.RetrainEvery = 0
	p, err := pipeline.New(top, pipeline.Config{Kafka: kc, Window: window.DefaultConfig(), Trainer: tc, Partitions: parts}, log)
	if err != nil {
		t.Fatal(err)
	}
	pctx, stop := context.WithCancel(ctx)
	ran := make(chan struct{})
	go func() {
		defer close(ran)
		_ = p.Run(pctx, nil)
	}()
	defer func() { stop(); <-ran }()

	// Wave 1: learning, then a brute force by client 23 from learn+1m.
	cfg := loadtest.DefaultConfig(learn)
	cfg.Hosts = 25
	brute := cfg.Attacks[1]
	brute.Start = cfg.Start.Add(learn + time.Minute)
	cfg.Attacks = []loadtest.Attack{brute}
	cfg.Duration = learn + 3*time.Minute
	replay(ctx, t, cl, top, parts, cfg)
	attacker := brute.Attacker.String()
	flagged := anomalies(ctx, t, kc, top, func(as []*codecs.Anomaly) bool {
		n := 0
		for _, a := range as {
			if a.Host == attacker {
				n++
			}
		}
		return n >= 5
	})
	var fps []*codecs.Anomaly
	for _, a := range flagged {
		if a.Host == attacker && len(fps) < 5 {
			fps = append(fps, a)
		}
		if a.ModelVersion != "default-v1" {
			t.Errorf("anomaly %s by %s, want default-v1", a.ID, a.ModelVersion)
		}
	}

	l := feedback.New(kc, cl, top)
	var labelled []*codecs.Feedback
	for _, a := range fps {
		f, err := l.Label(ctx, feedback.Verdict{ID: a.ID, Verdict: codecs.VerdictFalsePositive, Note: "password audit", By: "test"})
		if err != nil {
			t.Fatalf("label %s: %v", a.ID, err)
		}
		labelled = append(labelled, f)
	}
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	st, err := models.Wait(wctx, kc, cl, top, trainer.DefaultModel, func(st *trainer.State) bool { return st.Trained >= 2 })
	if err != nil {
		t.Fatalf("no retrained model: %v (state %+v)", err, st)
	}
	if st.Version != 2 {
		t.Fatalf("champion v%d after retraining, want v2; history %+v", st.Version, st.History)
	}
	e := st.History[len(st.History)-1]
	t.Logf("v2: %s; challenger %s, champion %s; %d rows, %d copies of %d labelled windows", e.Reason, e.Eval, e.Champion, e.NTrain, e.Copies, e.Labelled)
	if e.Champion.FP != 5 || e.Eval.FP != 0 || e.Trigger != "labels" {
		t.Errorf("v2 entry %+v: want the champion with 5 false positives, v2 with none", e)
	}
	for _, f := range labelled {
		if s := st.Model.Score(f.Values); st.Model.IsAnomaly(s) {
			t.Errorf("labelled false positive %s still alerts under v2: score %.3f < %.3f", f.ID, s, st.Model.Threshold)
		}
	}

	// Wave 2: a port scan later on; the detector scores it with v2.
	cfg2 := loadtest.DefaultConfig(learn)
	cfg2.Hosts = 25
	scan := cfg2.Attacks[0]
	cfg2.Start = cfg.Start.Add(cfg.Duration)
	scan.Start = cfg2.Start.Add(30 * time.Second)
	cfg2.Attacks = []loadtest.Attack{scan}
	cfg2.Duration = time.Minute + 30*time.Second
	cfg2.Seed = 2
	replay(ctx, t, cl, top, parts, cfg2)
	anomalies(ctx, t, kc, top, func(as []*codecs.Anomaly) bool {
		for _, a := range as {
			if a.ModelVersion == "default-v2" && a.Host == scan.Attacker.String() {
				return true
			}
		}
		return false
	})

	// Rollback through the control topic.
	if err := models.Send(ctx, cl, top, trainer.DefaultModel, trainer.Command{Command: trainer.CommandRollback, By: "test"}); err != nil {
		t.Fatal(err)
	}
	st, err = models.Wait(wctx, kc, cl, top, trainer.DefaultModel, func(st *trainer.State) bool { return st.Version == 1 })
	if err != nil {
		t.Fatalf("rollback: %v", err)
	}
	if h := st.History[len(st.History)-1]; h.Version != 2 || h.Status != trainer.StatusRolledBack {
		t.Errorf("after rollback: %+v", h)
	}

	// A worse challenger: another window of the brute force is labelled a
	// true positive (v1 flags it), and the five windows are labelled false
	// positives again (an analyst's mistake), which retrains. A challenger
	// that learns the brute force as normal misses the labelled attack and
	// must not be promoted.
	var tp *codecs.Anomaly
	for _, a := range flagged {
		if a.Host == attacker && a.ID != fps[0].ID && a.ID != fps[1].ID && a.ID != fps[2].ID && a.ID != fps[3].ID && a.ID != fps[4].ID {
			tp = a
			break
		}
	}
	if tp == nil {
		flagged = anomalies(ctx, t, kc, top, func(as []*codecs.Anomaly) bool {
			n := 0
			for _, a := range as {
				if a.Host == attacker && a.ModelVersion == "default-v1" {
					n++
				}
			}
			return n >= 6
		})
		for _, a := range flagged {
			if a.Host == attacker && a.ModelVersion == "default-v1" && !slicesContains(fps, a.ID) {
				tp = a
			}
		}
	}
	if _, err := l.Label(ctx, feedback.Verdict{ID: tp.ID, Verdict: codecs.VerdictTruePositive, By: "test"}); err != nil {
		t.Fatal(err)
	}
	for _, a := range fps[:4] {
		if _, err := l.Label(ctx, feedback.Verdict{ID: a.ID, Verdict: codecs.VerdictFalsePositive, By: "test"}); err != nil {
			t.Fatal(err)
		}
	}
	st, err = models.Wait(wctx, kc, cl, top, trainer.DefaultModel, func(st *trainer.State) bool { return st.Trained >= 3 })
	if err != nil {
		t.Fatalf("no third model: %v", err)
	}
	e = st.History[len(st.History)-1]
	t.Logf("v3: %s: %s; challenger %s, champion %s", e.Status, e.Reason, e.Eval, e.Champion)
	if e.Version != 3 || e.Status != trainer.StatusRejected || st.Version != 1 || e.Eval.TP >= e.Champion.TP {
		t.Errorf("v3 %+v (champion v%d): want a rejected challenger that misses the labelled attack", e, st.Version)
	}
}

func slicesContains(as []*codecs.Anomaly, id string) bool {
	for _, a := range as {
		if a.ID == id {
			return true
		}
	}
	return false
}
