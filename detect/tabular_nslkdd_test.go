package detect

import (
	"os"
	"testing"
	"time"

	"github.com/riptide-nids/riptide/internal/testenv"
)

func readNSLKDDTable(t testing.TB, name string) *Table {
	t.Helper()
	f, err := os.Open(testenv.Datasets(t, "nsl-kdd", name))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	tab, err := ReadTable(f, nil)
	if err != nil {
		t.Fatal(err)
	}
	return tab
}

// evalTabular scores every row of tab with m and returns the metrics of
// the deciding score and of the per-scorer scores.
func evalTabular(t testing.TB, m *TabularModel, tab *Table) Metrics {
	t.Helper()
	data, err := m.Encoding.Encode(tab)
	if err != nil {
		t.Fatal(err)
	}
	s := make([]float64, len(data.X))
	for i, x := range data.X {
		s[i] = m.Score(x)
	}
	return Evaluate(s, data.Attack, 0)
}

// TestNSLKDDOneClassAcceptance trains one-class on the normal rows of
// KDDTrain+_20Percent with hyper-parameters and threshold chosen on the
// training file only, and requires F1 ≥ 0.92 on KDDTest+.
func TestNSLKDDOneClassAcceptance(t *testing.T) {
	if testing.Short() {
		t.Skip("trains six SVMs on NSL-KDD")
	}
	train := readNSLKDDTable(t, "KDDTrain+_20Percent.txt")
	test := readNSLKDDTable(t, "KDDTest+.txt")
	start := time.Now()
	m, err := FitTabular(train, "KDDTrain+_20Percent.txt", "class", "normal", []string{"difficulty"}, DefaultTabularConfig())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("fit in %v", time.Since(start).Round(time.Millisecond))
	for _, c := range m.Selection {
		t.Logf("candidate %+v", c)
	}
	got := evalTabular(t, m, test)
	t.Logf("KDDTest+ (%s): %+v", m.OneClass.Use, got)
	oc := *m.OneClass
	for _, use := range []string{ScorerExact, ScorerRFF} {
		oc.Use = use
		mm := *m
		mm.OneClass = &oc
		t.Logf("KDDTest+ with %s: %+v", use, evalTabular(t, &mm, test))
	}
	if got.F1 < 0.92 {
		t.Errorf("F1 %.4f, want >= 0.92", got.F1)
	}
}

// TestNSLKDDSupervisedAcceptance trains supervised (with the novelty
// detector) on KDDTrain+_20Percent, hyper-parameters by k-fold on it, and
// requires accuracy ≥ 0.82 on KDDTest+; it logs the SVM alone too.
func TestNSLKDDSupervisedAcceptance(t *testing.T) {
	if testing.Short() {
		t.Skip("trains on NSL-KDD")
	}
	train := readNSLKDDTable(t, "KDDTrain+_20Percent.txt")
	test := readNSLKDDTable(t, "KDDTest+.txt")
	cfg := DefaultTabularConfig()
	cfg.Supervised = true
	start := time.Now()
	m, err := FitTabular(train, "KDDTrain+_20Percent.txt", "class", "normal", []string{"difficulty"}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("fit in %v", time.Since(start).Round(time.Millisecond))
	for _, c := range m.Selection {
		t.Logf("candidate %+v", c)
	}
	got := evalTabular(t, m, test)
	t.Logf("KDDTest+ supervised + novelty: %+v", got)
	alone := *m
	alone.OneClass = nil
	t.Logf("KDDTest+ supervised SVM alone: %+v", evalTabular(t, &alone, test))
	if got.Accuracy < 0.82 {
		t.Errorf("accuracy %.4f, want >= 0.82", got.Accuracy)
	}
}
