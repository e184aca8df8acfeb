package detector

import (
	"testing"
	"time"

	"github.com/riptide-nids/riptide/ops"
	"github.com/riptide-nids/riptide/processors/internal/gokatest"
)

// TestMetrics: the detector counts consumed records, scored windows with
// their score minus threshold, anomalies, the model in use and dead letters.
func TestMetrics(t *testing.T) {
	m, reg := gokatest.Metrics(t)
	f := newFixture(t, func(p *Processor) { p.SetMetrics(m) })
	sample := func(name string, labels ...string) float64 {
		t.Helper()
		return gokatest.Sample(t, reg, name, labels...)
	}
	if got := sample("riptide_model_version"); got != 0 {
		t.Errorf("model version %v before any model, want 0", got)
	}
	ms := trainedState(t, nil)
	f.setModel(ms)
	const a, b = "10.0.0.1", "10.0.0.2"
	f.send(vec(a, learnEnd, outlier()))
	f.send(vec(b, learnEnd, typical()))
	f.send(vec(b, learnEnd+size, typical()))
	f.tt.Consume(f.top.Features.Name, a, []byte("garbage"))
	f.send(vec(a, learnEnd+size, []float64{1, 2, 3})) // too few features
	f.drain()

	mdl := ms.Model
	wantSum := mdl.Score(outlier()) - mdl.Threshold + 2*(mdl.Score(typical())-mdl.Threshold)
	for _, c := range []struct {
		name string
		got  float64
		want float64
	}{
		{"scored", sample("riptide_windows_scored_total"), 3},
		{"anomalies", sample("riptide_anomalies_total"), 1},
		{"score observations", sample("riptide_anomaly_score_count"), 3},
		{"model version", sample("riptide_model_version"), 1},
		{"model info", sample("riptide_model_info", "version", "default-v1", "trained_at", mdl.CreatedAt.UTC().Format(time.RFC3339)), 1},
		{"consumed", sample("riptide_records_consumed_total", "group", string(f.top.Detector), "topic", f.top.Features.Name), 5},
		{"undecodable dead letters", sample("riptide_deadletters_total", "reason", ops.ReasonUndecodable), 1},
		{"invalid dead letters", sample("riptide_deadletters_total", "reason", ops.ReasonInvalid), 1},
	} {
		if c.got != c.want {
			t.Errorf("%s: %v, want %v", c.name, c.got, c.want)
		}
	}
	if got := sample("riptide_anomaly_score_sum"); got-wantSum > 1e-9 || wantSum-got > 1e-9 {
		t.Errorf("sum of score - threshold %v, want %v", got, wantSum)
	}
	if s := f.p.Stats(); s.Scored != 3 || s.Anomalies != 1 || s.DeadLetters != 2 {
		t.Errorf("stats %+v disagree", s)
	}
}
