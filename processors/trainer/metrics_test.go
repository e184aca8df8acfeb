package trainer

import (
	"testing"
	"time"

	"github.com/riptide-nids/riptide/processors/internal/gokatest"
)

// TestMetrics: the trainer counts the records it consumed from the features
// topic and from its loopback, and reports the version of the model it
// trained.
func TestMetrics(t *testing.T) {
	m, reg := gokatest.Metrics(t)
	f := newFixture(t, testConfig(), func(p *Processor) { p.SetMetrics(m) })
	sample := func(name string, labels ...string) float64 {
		t.Helper()
		return gokatest.Sample(t, reg, name, labels...)
	}
	n := f.windows(6, 0, 70*time.Second)
	if got := sample("riptide_model_version"); got != 0 || f.p.Trained() != 0 {
		t.Fatalf("model version %v while learning, want 0", got)
	}
	f.watermark(0, 1, 90*time.Second) // past the learning period: trains
	n++
	if f.p.Trained() != 1 {
		t.Fatalf("trained %d models, want 1", f.p.Trained())
	}
	if got := sample("riptide_model_version"); got != 1 {
		t.Errorf("model version %v, want 1", got)
	}
	st := f.state()
	if got := sample("riptide_model_info", "version", "default-v1", "trained_at", st.Model.CreatedAt.UTC().Format(time.RFC3339)); got != 1 {
		t.Errorf("model info %v, want 1", got)
	}
	for _, topic := range []string{f.top.Features.Name, f.top.TrainerLoop()} {
		if got := sample("riptide_records_consumed_total", "group", string(f.top.Trainer), "topic", topic); got != float64(n) {
			t.Errorf("consumed from %s: %v, want %d", topic, got, n)
		}
	}
}
