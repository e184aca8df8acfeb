package detect

import (
	"math"
	"testing"
)

func TestEvaluate(t *testing.T) {
	// Scores: lower is more anomalous; threshold 0 flags the negative ones.
	scores := []float64{-3, -2, -1, 0.5, 1, 2}
	attack := []bool{true, true, false, true, false, false}
	m := Evaluate(scores, attack, 0)
	if m.TP != 2 || m.FP != 1 || m.FN != 1 || m.TN != 2 {
		t.Fatalf("counts %+v", m)
	}
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-12 }
	if !near(m.Precision, 2.0/3) || !near(m.Recall, 2.0/3) || !near(m.F1, 2.0/3) || !near(m.Accuracy, 4.0/6) {
		t.Errorf("ratios %+v", m)
	}
	// ROC AUC: pairs (attack, normal) with the attack lower: of 3×3 pairs,
	// attack -3 and -2 beat all three normals, 0.5 beats 1 and 2: 8/9.
	if !near(m.ROCAUC, 8.0/9) {
		t.Errorf("ROC AUC %v, want 8/9", m.ROCAUC)
	}
	// Average precision: recall steps at ranks 1, 2 and 4 with precisions
	// 1, 1 and 3/4: (1 + 1 + 0.75)/3.
	if !near(m.PRAUC, 2.75/3) {
		t.Errorf("PR AUC %v, want 2.75/3", m.PRAUC)
	}
	if tie := Evaluate([]float64{0, 0}, []bool{true, false}, 1); !near(tie.ROCAUC, 0.5) || !near(tie.PRAUC, 0.5) {
		t.Errorf("ties: %+v", tie)
	}
	if one := Evaluate([]float64{1}, []bool{true}, 0); !math.IsNaN(one.ROCAUC) {
		t.Errorf("one class: ROC AUC %v, want NaN", one.ROCAUC)
	}
}

func TestBestF1Threshold(t *testing.T) {
	scores := []float64{-3, -2, -1, 0.5, 1, 2}
	attack := []bool{true, true, false, true, false, false}
	th, f1 := BestF1Threshold(scores, attack)
	// Flagging the two lowest gives F1 0.8; the four lowest (3 TP, 1 FP)
	// 6/7, the best; the cut lies midway between 0.5 and 1.
	if th != 0.75 || math.Abs(f1-6.0/7) > 1e-12 {
		t.Errorf("threshold %v F1 %v, want 0.75 and 6/7", th, f1)
	}
	if got := Evaluate(scores, attack, th).F1; math.Abs(got-f1) > 1e-12 {
		t.Errorf("F1 at the threshold %v, BestF1Threshold said %v", got, f1)
	}
}

func TestSpearman(t *testing.T) {
	a := []float64{1, 2, 3, 4, 5}
	if r := Spearman(a, []float64{10, 20, 30, 40, 1000}); math.Abs(r-1) > 1e-12 {
		t.Errorf("monotone: %v", r)
	}
	if r := Spearman(a, []float64{5, 4, 3, 2, 1}); math.Abs(r+1) > 1e-12 {
		t.Errorf("reversed: %v", r)
	}
	// With ties: ranks of b are 1.5, 1.5, 3, 4, 5.
	if r := Spearman(a, []float64{0, 0, 1, 2, 3}); math.Abs(r-0.9746794344808963) > 1e-12 {
		t.Errorf("ties: %v", r)
	}
}
