package ops

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Outcomes of riptide_model_retrains_total.
var retrainOutcomes = []string{"promoted", "rejected", "failed", "skipped"}

// quality holds the model-quality collectors, updated by the trainer from
// analysts' labels.
type quality struct {
	measure   *prometheus.GaugeVec
	confusion *prometheus.GaugeVec
	feedback  *prometheus.CounterVec
	retrains  *prometheus.CounterVec
	training  prometheus.Gauge
}

func newQuality(reg prometheus.Registerer) (*quality, error) {
	q := &quality{
		measure: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "riptide_model_quality",
			Help: "Precision, recall and F1 of the champion model on the labelled windows the trainer keeps (the most recent labels); -1 while undefined.",
		}, []string{"measure"}),
		confusion: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "riptide_model_labelled_windows",
			Help: "Labelled windows by outcome under the champion: tp, fp, tn, fn.",
		}, []string{"outcome"}),
		feedback: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "riptide_feedback_total",
			Help: "Analysts' verdicts the trainer applied, by verdict.",
		}, []string{"verdict"}),
		retrains: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "riptide_model_retrains_total",
			Help: "Retrainings by outcome: promoted, rejected (worse than the champion on labelled windows), failed, skipped (too few windows).",
		}, []string{"outcome"}),
		training: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "riptide_training_windows",
			Help: "Recent benign-looking windows the trainer holds for retraining.",
		}),
	}
	for _, c := range []prometheus.Collector{q.measure, q.confusion, q.feedback, q.retrains, q.training} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	for _, o := range retrainOutcomes {
		q.retrains.WithLabelValues(o)
	}
	return q, nil
}

// SetQuality records the champion's measures on the labelled windows
// (precision, recall, F1; -1 when undefined) and its confusion counts.
func (m *Metrics) SetQuality(precision, recall, f1 float64, tp, fp, tn, fn int) {
	if m == nil || m.q == nil {
		return
	}
	m.q.measure.WithLabelValues("precision").Set(precision)
	m.q.measure.WithLabelValues("recall").Set(recall)
	m.q.measure.WithLabelValues("f1").Set(f1)
	for k, v := range map[string]int{"tp": tp, "fp": fp, "tn": tn, "fn": fn} {
		m.q.confusion.WithLabelValues(k).Set(float64(v))
	}
}

// Feedback counts a verdict the trainer applied.
func (m *Metrics) Feedback(verdict string) {
	if m == nil || m.q == nil {
		return
	}
	m.q.feedback.WithLabelValues(verdict).Inc()
}

// Retrained counts a retraining with its outcome: "promoted", "rejected",
// "failed" or "skipped".
func (m *Metrics) Retrained(outcome string) {
	if m == nil || m.q == nil {
		return
	}
	m.q.retrains.WithLabelValues(outcome).Inc()
}

// TrainingWindows sets the number of windows held for retraining.
func (m *Metrics) TrainingWindows(n int) {
	if m == nil || m.q == nil {
		return
	}
	m.q.training.Set(float64(n))
}
