package backtest_test

import (
	"math"
	"testing"
	"time"

	"github.com/riptide-nids/riptide/backtest"
)

// TestPRCurveAgreesWithEvaluate: at the model's threshold the curve gives
// the precision and recall Evaluate gives for the anomalies, and the curve
// is complete (all windows flagged at its end, recall non-decreasing).
func TestPRCurveAgreesWithEvaluate(t *testing.T) {
	r := runDevMixed(t)
	cfg := backtest.DefaultConfig()
	sc := backtest.Evaluate(r.labels, r.res.Flags(), cfg.Window.Size, 0, 0)
	c := backtest.PRCurve(r.labels, r.res.Scored, cfg.Window.Size)
	p, ok := c.At(r.res.Model.Threshold)
	if !ok {
		t.Fatalf("no curve point at the model threshold %v", r.res.Model.Threshold)
	}
	t.Logf("%d points, average precision %.3f; at the model threshold: precision %.3f recall %.3f (%d flagged); Evaluate: %.3f %.3f (%d anomalies)",
		len(c.Points), c.AveragePrecision, p.Precision, p.Recall, p.Flagged, sc.Precision, sc.Recall, len(r.res.Anomalies))
	if p.Flagged != len(r.res.Anomalies) || math.Abs(p.Precision-sc.Precision) > 1e-12 || math.Abs(p.Recall-sc.Recall) > 1e-12 {
		t.Errorf("curve at the threshold: %+v; Evaluate: precision %v recall %v over %d anomalies", p, sc.Precision, sc.Recall, len(r.res.Anomalies))
	}
	if c.Positives != sc.PositiveWindows {
		t.Errorf("positives %d, Evaluate %d", c.Positives, sc.PositiveWindows)
	}
	last := c.Points[len(c.Points)-1]
	if last.Flagged != len(r.res.Scored) {
		t.Errorf("the last point flags %d of %d windows", last.Flagged, len(r.res.Scored))
	}
	for i := 1; i < len(c.Points); i++ {
		if c.Points[i].Recall < c.Points[i-1].Recall || c.Points[i].Threshold <= c.Points[i-1].Threshold {
			t.Fatalf("points %d, %d out of order: %+v %+v", i-1, i, c.Points[i-1], c.Points[i])
		}
	}
	if c.AveragePrecision <= 0 || c.AveragePrecision > 1 {
		t.Errorf("average precision %v", c.AveragePrecision)
	}
}

func TestPRCurveSmall(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	win := 10 * time.Second
	labels := []backtest.Label{
		{Host: "a", Start: t0, End: t0.Add(15 * time.Second), Attack: "x", Role: "attacker"},
		{Host: "p", Start: t0, End: t0.Add(5 * time.Second), Attack: "x", Role: "participant"},
	}
	w := func(host string, k int, score float64) backtest.Scored {
		s := t0.Add(time.Duration(k) * win).UnixNano()
		return backtest.Scored{Host: host, Start: s, End: s + int64(win), Score: score}
	}
	scored := []backtest.Scored{
		w("a", 0, -5), // positive
		w("p", 0, -4), // neutral
		w("b", 0, -3), // negative
		w("a", 1, -3), // positive, tied with b
		w("c", 0, 2),  // negative
	}
	c := backtest.PRCurve(labels, scored, win)
	want := []struct {
		flagged int
		p, r    float64
	}{{1, 1, 0.5}, {2, 1, 0.5}, {4, 2.0 / 3, 1}, {5, 0.5, 1}}
	if len(c.Points) != len(want) {
		t.Fatalf("points %+v", c.Points)
	}
	for i, wp := range want {
		got := c.Points[i]
		if got.Flagged != wp.flagged || math.Abs(got.Precision-wp.p) > 1e-12 || math.Abs(got.Recall-wp.r) > 1e-12 {
			t.Errorf("point %d: %+v, want flagged %d precision %v recall %v", i, got, wp.flagged, wp.p, wp.r)
		}
	}
	// AP: 1*0.5 + 1*0 + 2/3*0.5 + 0.5*0
	if want := 0.5 + 1.0/3; math.Abs(c.AveragePrecision-want) > 1e-12 {
		t.Errorf("average precision %v, want %v", c.AveragePrecision, want)
	}
	if _, ok := c.At(-6); ok {
		t.Error("a point below every score")
	}
	if p, ok := c.At(-3.5); !ok || p.Flagged != 2 {
		t.Errorf("At(-3.5) = %+v, %v", p, ok)
	}
}
