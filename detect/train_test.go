package detect

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestTrainConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edit  func(*TrainConfig)
		field string // "" for valid
	}{
		{"default", func(*TrainConfig) {}, ""},
		{"explicit gamma", func(c *TrainConfig) { c.Gamma = 0.1 }, ""},
		{"no cap", func(c *TrainConfig) { c.MaxSamples = 0 }, ""},
		{"nu zero", func(c *TrainConfig) { c.Nu = 0 }, "Nu"},
		{"nu NaN", func(c *TrainConfig) { c.Nu = math.NaN() }, "Nu"},
		{"negative gamma", func(c *TrainConfig) { c.Gamma = -1 }, "Gamma"},
		{"scale", func(c *TrainConfig) { c.Scale = "robust" }, "Scale"},
		{"empty scale", func(c *TrainConfig) { c.Scale = "" }, "Scale"},
		{"fpr zero", func(c *TrainConfig) { c.TargetFPR = 0 }, "TargetFPR"},
		{"fpr one", func(c *TrainConfig) { c.TargetFPR = 1 }, "TargetFPR"},
		{"max samples", func(c *TrainConfig) { c.MaxSamples = -1 }, "MaxSamples"},
		{"one fold", func(c *TrainConfig) { c.Folds = 1 }, "Folds"},
		{"no repeats", func(c *TrainConfig) { c.Repeats = 0 }, "Repeats"},
		{"cache", func(c *TrainConfig) { c.CacheMB = 0 }, "CacheMB"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultTrainConfig()
			tc.edit(&c)
			err := c.Validate()
			if tc.field == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), "config "+tc.field+" ") {
				t.Errorf("err = %v, want ErrInvalidConfig naming %s", err, tc.field)
			}
		})
	}
	if err := (TrainConfig{}).Validate(); err == nil {
		t.Error("zero config accepted")
	}
}

// TestTrainCalibration trains on gaussian data and checks that fresh samples
// from the same distribution are flagged at about the target rate, while far
// points are flagged.
func TestTrainCalibration(t *testing.T) {
	const d = 5
	rng := rand.New(rand.NewPCG(31, 32))
	X := gaussian(rng, 2000, d, 0, 1)
	cfg := DefaultTrainConfig()
	cfg.Log1p = false // gaussian data is not count data
	cfg.TargetFPR = 0.01
	m, err := Train(X, featureNames(d), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if m.NCalibration != cfg.Repeats*len(X) || m.TargetFPR != cfg.TargetFPR || m.NTrain != len(X) {
		t.Errorf("calibration over %d scores, target %v, %d rows", m.NCalibration, m.TargetFPR, m.NTrain)
	}
	fresh := gaussian(rng, 20000, d, 0, 1)
	flagged, ownSign := 0, 0
	for _, x := range fresh {
		s := m.Score(x)
		if m.IsAnomaly(s) {
			flagged++
		}
		if s < 0 {
			ownSign++
		}
	}
	rate := float64(flagged) / float64(len(fresh))
	t.Logf("threshold %.4f, fresh samples flagged %.4f (target %v), by the SVM's own sign %.4f, %d SVs",
		m.Threshold, rate, cfg.TargetFPR, float64(ownSign)/float64(len(fresh)), len(m.SV))
	if rate < cfg.TargetFPR/3 || rate > cfg.TargetFPR*3 {
		t.Errorf("flagged %v of fresh samples, want about %v", rate, cfg.TargetFPR)
	}
	for _, r := range []float64{6, 10, 50} {
		x := make([]float64, d)
		x[0] = r
		if s := m.Score(x); !m.IsAnomaly(s) {
			t.Errorf("point at distance %v: score %v above threshold %v", r, s, m.Threshold)
		}
	}
}

func TestTrainDeterministic(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	X := countData(rng, 500, 4)
	cfg := DefaultTrainConfig()
	cfg.MaxSamples = 300
	cfg.Folds, cfg.Repeats = 3, 2
	a, err := Train(X, featureNames(4), cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Train(X, featureNames(4), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if a.Threshold != b.Threshold || a.Rho != b.Rho || len(a.SV) != len(b.SV) || a.NTrain != 300 {
		t.Errorf("runs differ: threshold %v/%v, rho %v/%v, SVs %d/%d, n %d", a.Threshold, b.Threshold, a.Rho, b.Rho, len(a.SV), len(b.SV), a.NTrain)
	}
	cfg.Seed++
	c, err := Train(X, featureNames(4), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if c.Threshold == a.Threshold {
		t.Errorf("another seed gave the same threshold %v", c.Threshold)
	}
}

func TestTrainErrors(t *testing.T) {
	ok := countData(rand.New(rand.NewPCG(1, 2)), 50, 3)
	for _, tc := range []struct {
		name  string
		X     [][]float64
		names []string
		want  error
	}{
		{"too few rows", ok[:7], featureNames(3), ErrInvalidInput},
		{"names", ok, featureNames(2), ErrInvalidInput},
		{"ragged", append([][]float64{{1}}, ok...), featureNames(3), ErrInvalidInput},
		{"inf", append([][]float64{{1, math.Inf(1), 2}}, ok...), featureNames(3), ErrInvalidInput},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Train(tc.X, tc.names, DefaultTrainConfig())
			if !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestSubsample(t *testing.T) {
	X := make([][]float64, 100)
	for i := range X {
		X[i] = []float64{float64(i)}
	}
	got := subsample(X, 10, 7)
	if len(got) != 10 {
		t.Fatalf("%d rows", len(got))
	}
	for i := 1; i < len(got); i++ {
		if got[i][0] <= got[i-1][0] {
			t.Fatalf("order not kept: %v", got)
		}
	}
	again := subsample(X, 10, 7)
	for i := range got {
		if got[i][0] != again[i][0] {
			t.Fatal("not deterministic")
		}
	}
	if len(subsample(X, 0, 7)) != 100 || len(subsample(X, 200, 7)) != 100 {
		t.Error("cap of 0 or above the size changed the data")
	}
}

func TestQuantileSorted(t *testing.T) {
	s := []float64{1, 2, 3, 4, 5}
	for _, tc := range []struct{ p, want float64 }{
		{0, 1}, {0.5, 3}, {1, 5}, {0.1, 1.4}, {0.95, 4.8},
	} {
		if got := quantileSorted(s, tc.p); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("q(%v) = %v, want %v", tc.p, got, tc.want)
		}
	}
}

func TestPreprocess(t *testing.T) {
	X := [][]float64{{0, -3, 5}, {1, 3, 5}, {3, 0, 5}, {1e9, 0, 5}}
	p, Z := fitPreprocess(X, true, ScaleStandard)
	if p.Std[2] != 1 || p.Mean[2] != math.Log1p(5) {
		t.Errorf("constant feature: mean %v std %v, want log1p(5) and 1", p.Mean[2], p.Std[2])
	}
	if Z[0][1] != -Z[1][1] || Z[0][1] >= 0 {
		t.Errorf("signed log1p not symmetric: %v %v", Z[0][1], Z[1][1])
	}
	z := make([]float64, 3)
	for i, x := range X {
		p.apply(z, x)
		for k := range z {
			if z[k] != Z[i][k] {
				t.Fatalf("apply(%v) = %v, fitted %v", x, z, Z[i])
			}
		}
	}
	clip := p.Clip
	p.Clip = 5
	p.apply(z, []float64{1e300, 0, 5})
	if z[0] != 5 {
		t.Errorf("not clipped at 5: %v", z[0])
	}
	p.Clip = clip
	_, Zn := fitPreprocess(X, false, ScaleNone)
	if Zn[3][0] != 1e9 {
		t.Errorf("scale none changed a value: %v", Zn[3][0])
	}
	if g := scaleGamma([][]float64{{2, 2}, {2, 2}}); g != 1 {
		t.Errorf("gamma scale of constant data %v, want 1", g)
	}
}
