package detect

import (
	"math/rand/v2"
	"runtime"
	"testing"
)

// perCPU runs score in a b.Loop on a locked OS thread and reports, besides
// ns/op, the rows scored per second of that thread's CPU time: the
// throughput of one core, even when other processes share the machine.
func perCPU(b *testing.B, score func(i int) float64) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	b.ReportAllocs()
	var sink float64
	n := 0
	c0 := threadCPU()
	for b.Loop() {
		sink += score(n)
		n++
	}
	if cpu := threadCPU() - c0; cpu > 0 {
		b.ReportMetric(float64(n)/cpu.Seconds(), "rows/cpu-s")
	}
	_ = sink
}

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
	perCPU(b, func(i int) float64 { return m.Score(X[i%len(X)]) })
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

// BenchmarkScoreRFF scores windows of 40 features with the RFF
// challenger of DefaultRFFDim orthogonal random features.
func BenchmarkScoreRFF(b *testing.B) {
	const d = 40
	X, cfg := benchData("counts", 2000)
	m, err := Fit(X, featureNames(d), cfg)
	if err != nil {
		b.Fatal(err)
	}
	oc, err := NewChallenger(X, m, DefaultRFFDim, 1)
	if err != nil {
		b.Fatal(err)
	}
	perCPU(b, func(i int) float64 { return oc.ScoreRFF(X[i%len(X)]) })
}

// BenchmarkChallenger50000 trains the RFF challenger on 50,000 windows of 40
// features (the exact model it shadows trained on a 3,000-row subsample,
// as Train does by default, is outside the timing).
func BenchmarkChallenger50000(b *testing.B) {
	const d = 40
	X, cfg := benchData("counts", 50000)
	m, err := Fit(subsample(X, 3000, 1), featureNames(d), cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := NewChallenger(X, m, 1024, 1); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTrainDefault50000 is Train with DefaultTrainConfig on 50,000
// windows of 40 features (it subsamples to MaxSamples = 3,000).
func BenchmarkTrainDefault50000(b *testing.B) {
	X, cfg := benchData("counts", 50000)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Train(X, featureNames(len(X[0])), cfg); err != nil {
			b.Fatal(err)
		}
	}
}
