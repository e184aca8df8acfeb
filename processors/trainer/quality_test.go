package trainer

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/riptide-nids/riptide/codecs"
	"github.com/riptide-nids/riptide/detect"
	"github.com/riptide-nids/riptide/learning"
	"github.com/riptide-nids/riptide/processors/internal/gokatest"
	"github.com/riptide-nids/riptide/window"
)

// TestQualityMetrics: labels update the champion's precision, recall and
// F1 on the labelled windows, the feedback counter and the retraining
// outcome.
func TestQualityMetrics(t *testing.T) {
	m, reg := gokatest.Metrics(t)
	f := trainedFixture(t, func(p *Processor) { p.SetMetrics(m) })
	sample := func(name string, labels ...string) float64 {
		t.Helper()
		return gokatest.Sample(t, reg, name, labels...)
	}
	f.label(odd(f, "10.0.6.6", 500*time.Second, 10), codecs.VerdictTruePositive)
	f.label(odd(f, "10.0.6.7", 500*time.Second, 5), codecs.VerdictFalsePositive)
	f.label(benign(f.rng, "10.0.0.1", 510*time.Second), codecs.VerdictTrueNegative)
	if got := sample("riptide_model_quality", "measure", "precision"); got != 0.5 {
		t.Errorf("precision %v, want 0.5 (one true and one false positive)", got)
	}
	if got := sample("riptide_model_quality", "measure", "recall"); got != 1 {
		t.Errorf("recall %v, want 1", got)
	}
	if got := sample("riptide_model_labelled_windows", "outcome", "tn"); got != 1 {
		t.Errorf("true negatives %v, want 1", got)
	}
	if got := sample("riptide_feedback_total", "verdict", codecs.VerdictFalsePositive); got != 1 {
		t.Errorf("false-positive verdicts %v, want 1", got)
	}
	f.label(benign(f.rng, "10.0.0.2", 520*time.Second), codecs.VerdictTrueNegative)
	f.label(benign(f.rng, "10.0.0.3", 520*time.Second), codecs.VerdictTrueNegative) // fifth: retrains
	promoted, rejected := sample("riptide_model_retrains_total", "outcome", "promoted"), sample("riptide_model_retrains_total", "outcome", "rejected")
	if promoted+rejected != 1 {
		t.Errorf("retrains promoted %v rejected %v, want one", promoted, rejected)
	}
	if got := sample("riptide_training_windows"); got != float64(f.p.recent.Len()) || got == 0 {
		t.Errorf("training windows %v, trainer holds %d", got, f.p.recent.Len())
	}
}

// TestStateSizeFitsARecord: a table value at its bounds (champion trained
// on the most rows, the kept models, the most labels, a full history) stays
// under the producer's 4 MiB record limit.
func TestStateSizeFitsARecord(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a full-size model")
	}
	rng := rand.New(rand.NewPCG(5, 6))
	cfg := DefaultConfig()
	X := make([][]float64, cfg.Train.MaxSamples)
	for i := range X {
		X[i] = benign(rng, "10.0.0.1", 0).Values
	}
	tc := cfg.Train
	m, err := detect.Fit(X, window.Names(), tc)
	if err != nil {
		t.Fatal(err)
	}
	m.RawMedian, m.RawP95 = X[0], X[1]
	st := &State{Version: 1, Model: m}
	for i := range maxHistory {
		e := Entry{Version: uint64(i + 1), Status: StatusRetired, Reason: "not worse on 500 labelled windows: tp 100 (champion 100), fp 0 (champion 3)"}
		if i >= maxHistory-cfg.KeepModels {
			e.Model = m
		}
		st.History = append(st.History, e)
	}
	for i := range cfg.MaxLabels {
		st.Labels = append(st.Labels, learning.Labelled{ID: fmt.Sprintf("2001:db8::%x@1772443270000", i), Verdict: codecs.VerdictFalsePositive,
			Values: benign(rng, "h", 0).Values, At: time.Now().UnixNano()})
	}
	b, err := NewStateCodec().Encode(st)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("state: %d bytes (model with %d support vectors)", len(b), len(m.SV))
	if len(b) > 4<<20 {
		t.Errorf("state of %d bytes exceeds 4 MiB", len(b))
	}
}
