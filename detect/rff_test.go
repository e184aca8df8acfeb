package detect

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestRFFApproximatesKernel checks z(x)·z(y) against exp(−γ‖x − y‖²) for
// dense and structured orthogonal features.
func TestRFFApproximatesKernel(t *testing.T) {
	const in, d, gamma = 41, 4096, 0.05
	rng := rand.New(rand.NewPCG(7, 8))
	dense, err := NewRFF(in, d, gamma, 1)
	if err != nil {
		t.Fatal(err)
	}
	sorf, err := NewSORF(in, d, gamma, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !sorf.Structured || sorf.N != 64 || sorf.validate() != nil || dense.validate() != nil {
		t.Fatalf("structured %v n %d: %v %v", sorf.Structured, sorf.N, sorf.validate(), dense.validate())
	}
	for _, r := range []*RFF{dense, sorf} {
		var worst, mse float64
		zx, zy := make([]float64, d), make([]float64, d)
		const pairs = 200
		for range pairs {
			x, y := make([]float64, in), make([]float64, in)
			for k := range x {
				x[k] = rng.NormFloat64()
				y[k] = x[k] + 0.6*rng.NormFloat64()
			}
			r.Map(zx, x)
			r.Map(zy, y)
			diff := dot(zx, zy) - math.Exp(-gamma*sqDist(x, y))
			worst = max(worst, math.Abs(diff))
			mse += diff * diff / pairs
		}
		t.Logf("structured=%v: kernel error max %.4f, rms %.4f", r.Structured, worst, math.Sqrt(mse))
		// The fused scoring path agrees with Map and a dot product.
		w := make([]float64, d)
		for k := range w {
			w[k] = rng.NormFloat64()
		}
		x := make([]float64, in)
		for k := range x {
			x[k] = rng.NormFloat64()
		}
		r.Map(zx, x)
		l := &Linear{Map: r, W: w, Bias: 0.5}
		if got, want := l.Score(x), dot(w, zx)+0.5; math.Abs(got-want) > 1e-9 {
			t.Errorf("structured=%v: Score %v, Map and dot %v", r.Structured, got, want)
		}
		if worst > 0.06 {
			t.Errorf("structured=%v: kernel error %.4f", r.Structured, worst)
		}
	}
}

// TestSGDOneClassFlagsOutliers trains on a Gaussian cloud and checks that
// far points score below near ones and that about ν of the training points
// fall outside.
func TestSGDOneClassFlagsOutliers(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	X := gaussian(rng, 2000, 5, 0, 1)
	mp, err := NewSORF(5, 256, 0.2, 1)
	if err != nil {
		t.Fatal(err)
	}
	const nu = 0.05
	w, b, err := FitSGDOneClass(mp.mapAll(X), nu, SGDConfig{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	l := &Linear{Map: mp, W: w, Bias: b}
	out := 0
	for _, x := range X {
		if l.Score(x) < 0 {
			out++
		}
	}
	frac := float64(out) / float64(len(X))
	near, far := l.Score(make([]float64, 5)), l.Score([]float64{6, -6, 6, -6, 6})
	t.Logf("outside %.3f (nu %v), score at centre %.4f, far %.4f", frac, nu, near, far)
	if frac > 3*nu || frac < nu/3 || !(near > 0 && far < 0) {
		t.Errorf("outside %.3f, centre %.4f, far %.4f", frac, near, far)
	}
	if _, _, err := FitSGDOneClass(mp.mapAll(X), 0, SGDConfig{}); err == nil {
		t.Error("nu 0 accepted")
	}
}

// TestPegasosSeparatesClasses trains on two Gaussian clouds of unequal size.
func TestPegasosSeparatesClasses(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	X := append(gaussian(rng, 1800, 4, 0, 1), gaussian(rng, 200, 4, 3, 1)...)
	y := make([]float64, len(X))
	for i := range y {
		y[i] = 1
		if i >= 1800 {
			y[i] = -1
		}
	}
	mp, err := NewSORF(4, 256, 0.25, 1)
	if err != nil {
		t.Fatal(err)
	}
	w, b, err := FitPegasos(mp.mapAll(X), y, 1e-4, SGDConfig{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	l := &Linear{Map: mp, W: w, Bias: b}
	var correct [2]int
	for i, x := range X {
		if (l.Score(x) >= 0) == (y[i] > 0) {
			correct[i/1800]++
		}
	}
	recallNormal, recallAttack := float64(correct[0])/1800, float64(correct[1])/200
	t.Logf("normal %.3f, attack %.3f correct", recallNormal, recallAttack)
	if recallNormal < 0.9 || recallAttack < 0.9 {
		t.Errorf("normal %.3f, attack %.3f correct", recallNormal, recallAttack)
	}
	if _, _, err := FitPegasos(mp.mapAll(X[:1800]), y[:1800], 1e-4, SGDConfig{}); err == nil {
		t.Error("one class accepted")
	}
}

// TestFWHT compares the fast transform with the Hadamard matrix product.
func TestFWHT(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{1, 2, 4, 8, 16, 32, 64, 128} {
		v := make([]float64, n)
		for k := range v {
			v[k] = rng.NormFloat64()
		}
		want := make([]float64, n)
		for i := range want {
			for j := range v {
				sign := 1.0
				if popcount(i&j)%2 == 1 {
					sign = -1
				}
				want[i] += sign * v[j]
			}
		}
		signs := make([]float64, n)
		for k := range signs {
			signs[k] = float64(1 - 2*(k%3%2))
		}
		w := make([]float64, n)
		for k := range w {
			w[k] = v[k] / signs[k]
		}
		if n >= 4 {
			fwhtSigned(w, signs)
			for i := range w {
				if math.Abs(w[i]-want[i]) > 1e-9 {
					t.Fatalf("n=%d signed: element %d is %v, want %v", n, i, w[i], want[i])
				}
			}
		}
		fwht(v)
		for i := range v {
			if math.Abs(v[i]-want[i]) > 1e-9 {
				t.Fatalf("n=%d: element %d is %v, want %v", n, i, v[i], want[i])
			}
		}
	}
}

func popcount(x int) int {
	n := 0
	for ; x > 0; x &= x - 1 {
		n++
	}
	return n
}

// TestOnlineOneClassFollowsDrift starts from a challenger trained on one
// cloud, streams rows of a shifted cloud through Update, and checks that
// the snapshot now accepts the new cloud better than the old model did.
func TestOnlineOneClassFollowsDrift(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	names := featureNames(4)
	X := gaussian(rng, 1000, 4, 0, 1)
	cfg := DefaultTrainConfig()
	cfg.Log1p = false
	m, err := Fit(X, names, cfg)
	if err != nil {
		t.Fatal(err)
	}
	oc, err := NewChallenger(X, m, 256, 1)
	if err != nil {
		t.Fatal(err)
	}
	on, err := NewOnlineOneClass(oc, 20*len(X))
	if err != nil {
		t.Fatal(err)
	}
	shifted := gaussian(rng, 20000, 4, 1.5, 1)
	for _, x := range shifted {
		on.Update(x)
	}
	snap := on.Snapshot()
	probe := gaussian(rng, 500, 4, 1.5, 1)
	before, after := 0, 0
	z := make([]float64, 4)
	for _, x := range probe {
		m.Preprocess.apply(z, x)
		if oc.RFF.Score(z) < 0 {
			before++
		}
		if snap.Score(z) < 0 {
			after++
		}
	}
	t.Logf("shifted rows outside: %d of %d before, %d after 20,000 updates", before, len(probe), after)
	if after*2 > before {
		t.Errorf("outside before %d, after %d: the online model did not follow the shift", before, after)
	}
	if _, err := NewOnlineOneClass(&OneClass{}, 0); err == nil {
		t.Error("empty one-class accepted")
	}
}
