package detect

import (
	"math/rand/v2"
	"testing"
)

// syntheticModel returns a model over d standardised features with nSV
// random support vectors; scoring cost depends only on these sizes.
func syntheticModel(nSV, d int) *Model {
	rng := rand.New(rand.NewPCG(uint64(nSV), uint64(d)))
	m := &Model{
		FormatVersion: FormatVersion,
		FeatureNames:  featureNames(d),
		Preprocess:    Preprocess{Log1p: true, Scale: ScaleStandard, Mean: make([]float64, d), Std: make([]float64, d), Clip: DefaultClip},
		Gamma:         1 / float64(d),
		Rho:           1,
		SV:            gaussian(rng, nSV, d, 0, 1),
		Alpha:         make([]float64, nSV),
	}
	for k := 0; k < d; k++ {
		m.Preprocess.Mean[k], m.Preprocess.Std[k] = 2, 1
	}
	for i := range m.Alpha {
		m.Alpha[i] = rng.Float64()
	}
	return m
}

func benchmarkScore(b *testing.B, nSV int) {
	const d = 40
	m := syntheticModel(nSV, d)
	X := countData(rand.New(rand.NewPCG(1, 1)), 64, d)
	b.ReportAllocs()
	var sink float64
	for i := 0; b.Loop(); i++ {
		sink += m.Score(X[i%len(X)])
	}
	_ = sink
}

func BenchmarkScore100SV(b *testing.B)  { benchmarkScore(b, 100) }
func BenchmarkScore2000SV(b *testing.B) { benchmarkScore(b, 2000) }

// benchData returns n rows of 40 features of one of two kinds: "counts"
// (log-normal counts driven by a shared activity level, the shape of window
// features) or "gaussian" (independent standard normals: many support
// vectors, the harder case for the solver), and the matching configuration.
func benchData(kind string, n int) ([][]float64, TrainConfig) {
	const d = 40
	cfg := DefaultTrainConfig()
	rng := rand.New(rand.NewPCG(2, uint64(n)))
	if kind == "gaussian" {
		cfg.Log1p = false
		return gaussian(rng, n, d, 0, 1), cfg
	}
	return countData(rng, n, d), cfg
}

func benchmarkFit(b *testing.B, n int) {
	for _, kind := range []string{"counts", "gaussian"} {
		b.Run(kind, func(b *testing.B) {
			X, cfg := benchData(kind, n)
			b.ReportAllocs()
			for b.Loop() {
				m, err := Fit(X, featureNames(len(X[0])), cfg)
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(len(m.SV)), "SVs")
			}
		})
	}
}

func BenchmarkFit2000(b *testing.B) { benchmarkFit(b, 2000) }
func BenchmarkFit5000(b *testing.B) { benchmarkFit(b, 5000) }

// BenchmarkTrainDefault3000x40 is Train with DefaultTrainConfig on 3000 rows
// of 40 features: 15 calibration fits on 2400 rows and the final fit.
func BenchmarkTrainDefault3000x40(b *testing.B) {
	for _, kind := range []string{"counts", "gaussian"} {
		b.Run(kind, func(b *testing.B) {
			X, cfg := benchData(kind, 3000)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Train(X, featureNames(len(X[0])), cfg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
