package learning

import (
	"math/rand/v2"
	"testing"

	"github.com/riptide-nids/riptide/detect"
)

func TestNotWorse(t *testing.T) {
	champ := Eval{TP: 3, FP: 5, FN: 1}
	for _, c := range []struct {
		name string
		ch   Eval
		want bool
	}{
		{"fewer false alerts", Eval{TP: 3, FP: 0, FN: 1}, true},
		{"same", champ, true},
		{"misses an attack", Eval{TP: 2, FP: 0, FN: 2}, false},
		{"more false alerts", Eval{TP: 4, FP: 6}, false},
	} {
		if got, why := NotWorse(c.ch, champ); got != c.want {
			t.Errorf("%s: %v (%s), want %v", c.name, got, why, c.want)
		}
	}
}

func TestRecent(t *testing.T) {
	r := NewRecent(3)
	for i := range 5 {
		r.Add(string(rune('a'+i)), int64(i), []float64{float64(i)})
	}
	if r.Len() != 3 || r.From != 0 || r.To != 4 {
		t.Fatalf("len %d from %d to %d", r.Len(), r.From, r.To)
	}
	got := map[float64]bool{}
	for _, x := range r.Sample(10, 1) {
		got[x[0]] = true
	}
	if !got[2] || !got[3] || !got[4] {
		t.Errorf("kept %v, want the newest three", got)
	}
	if !r.Remove("d") || r.Remove("a") || r.Len() != 2 {
		t.Errorf("remove: len %d", r.Len())
	}
	r.Add("f", 5, []float64{5})
	if r.Len() != 3 {
		t.Errorf("len %d after adding to a set with room", r.Len())
	}
}

// TestTrainingSetAcceptsLabelledWindows: windows far from the benign data,
// repeated as TrainingSet does, end inside the trained model's threshold.
func TestTrainingSetAcceptsLabelledWindows(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	r := NewRecent(2000)
	names := []string{"a", "b", "c"}
	for i := range 600 {
		r.Add(string(rune(i)), int64(i), []float64{10 + rng.NormFloat64(), 20 + rng.NormFloat64(), 5 + rng.NormFloat64()})
	}
	benign := [][]float64{{100, 3, 40}, {90, 2, 45}, {0, 0, 0}}
	cfg := detect.DefaultTrainConfig()
	cfg.Folds, cfg.Repeats = 3, 1
	before, err := detect.Train(r.Sample(600, 1), names, cfg)
	if err != nil {
		t.Fatal(err)
	}
	rows, copies := TrainingSet(r, benign, cfg.Nu, cfg.MaxSamples, 1)
	if copies <= int(cfg.Nu*float64(len(rows))) {
		t.Fatalf("%d copies in %d rows: not more than nu*l = %v", copies, len(rows), cfg.Nu*float64(len(rows)))
	}
	m, err := detect.Train(rows, names, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range benign {
		if !before.IsAnomaly(before.Score(x)) {
			t.Errorf("%v is not flagged before; the test needs outliers", x)
		}
		if s := m.Score(x); m.IsAnomaly(s) {
			t.Errorf("%v still flagged: score %.3f < %.3f", x, s, m.Threshold)
		}
	}
	e := Evaluate(m, []Labelled{{Values: benign[0]}, {Values: benign[1], Attack: true}, {Values: []float64{10, 20, 5}}})
	if e.FN != 1 || e.TN != 2 || e.Recall != 0 || e.Precision != -1 {
		t.Errorf("evaluate: %+v", e)
	}
}
