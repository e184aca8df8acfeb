package detect

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

func gaussian(rng *rand.Rand, n, d int, mean, sd float64) [][]float64 {
	X := make([][]float64, n)
	for i := range X {
		X[i] = make([]float64, d)
		for k := range X[i] {
			X[i][k] = mean + sd*rng.NormFloat64()
		}
	}
	return X
}

func TestFitOCSVMDualConstraints(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	X := gaussian(rng, 300, 5, 0, 1)
	for _, tc := range []struct {
		name  string
		nu    float64
		gamma float64
	}{
		{"small nu", 0.02, 0.2},
		{"nu 0.1", 0.1, 0.5},
		{"nu 0.5", 0.5, 1},
		{"nu 1", 1, 0.2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := FitOCSVM(X, tc.nu, tc.gamma)
			if err != nil {
				t.Fatal(err)
			}
			var sum float64
			for _, a := range s.Alpha {
				if !(a > 0 && a <= 1) {
					t.Fatalf("alpha %v outside (0, 1]", a)
				}
				sum += a
			}
			if want := tc.nu * float64(len(X)); math.Abs(sum-want) > 1e-9 {
				t.Errorf("sum alpha = %v, want nu*l = %v", sum, want)
			}
			// ν is a lower bound on the fraction of support vectors and an
			// upper bound on the fraction of outliers (up to the tolerance).
			if frac := float64(len(s.SV)) / float64(len(X)); frac < tc.nu-1e-9 {
				t.Errorf("support vector fraction %v < nu %v", frac, tc.nu)
			}
			out := 0
			for _, x := range X {
				if s.Decision(x) < -1e-3 {
					out++
				}
			}
			if frac := float64(out) / float64(len(X)); frac > tc.nu+1e-9 {
				t.Errorf("outlier fraction %v > nu %v", frac, tc.nu)
			}
			if !(s.Rho > 0) {
				t.Errorf("rho %v not positive", s.Rho)
			}
		})
	}
}

// TestFitOCSVMSmallCache checks that a cache of two rows gives the same
// solution as one holding the whole kernel matrix.
func TestFitOCSVMSmallCache(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	X := gaussian(rng, 2000, 4, 0, 1)
	full, err := FitOCSVM(X, 0.05, 0.25)
	if err != nil {
		t.Fatal(err)
	}
	// 1 MB holds 65 rows of 2000 float64.
	small, err := FitOCSVM(X, 0.05, 0.25, WithCacheMB(1))
	if err != nil {
		t.Fatal(err)
	}
	if full.Rho != small.Rho || full.Iter != small.Iter || len(full.SV) != len(small.SV) {
		t.Errorf("cache changed the result: rho %v/%v, iter %d/%d, SVs %d/%d",
			full.Rho, small.Rho, full.Iter, small.Iter, len(full.SV), len(small.SV))
	}
}

func TestRowCacheLRU(t *testing.T) {
	X := [][]float64{{0}, {1}, {2}, {3}}
	c := newRowCache(X, 1, 1)
	c.max = 2
	r0 := c.row(0)
	c.row(1)
	c.row(0) // 0 most recent, 1 least
	c.row(2) // evicts 1
	if c.rows[1] != nil || c.rows[0] == nil || c.rows[2] == nil {
		t.Fatalf("wrong eviction: cached %v %v %v", c.rows[0] != nil, c.rows[1] != nil, c.rows[2] != nil)
	}
	if &r0[0] != &c.row(0)[0] || c.hits != 2 || c.misses != 3 {
		t.Errorf("hits %d misses %d, want 2 and 3", c.hits, c.misses)
	}
	if got, want := c.row(3)[1], math.Exp(-4); got != want {
		t.Errorf("K(x3, x1) = %v, want %v", got, want)
	}
}

func TestFitOCSVMErrors(t *testing.T) {
	ok := [][]float64{{0, 1}, {1, 0}, {2, 2}}
	for _, tc := range []struct {
		name  string
		X     [][]float64
		nu    float64
		gamma float64
		opts  []FitOption
		want  error
	}{
		{"no rows", nil, 0.5, 1, nil, ErrInvalidInput},
		{"ragged", [][]float64{{1, 2}, {3}}, 0.5, 1, nil, ErrInvalidInput},
		{"NaN", [][]float64{{1, 2}, {math.NaN(), 1}}, 0.5, 1, nil, ErrInvalidInput},
		{"nu zero", ok, 0, 1, nil, ErrInvalidConfig},
		{"nu above 1", ok, 1.5, 1, nil, ErrInvalidConfig},
		{"gamma zero", ok, 0.5, 0, nil, ErrInvalidConfig},
		{"cache zero", ok, 0.5, 1, []FitOption{WithCacheMB(0)}, ErrInvalidConfig},
		{"eps zero", ok, 0.5, 1, []FitOption{WithEps(0)}, ErrInvalidConfig},
		{"iteration cap", gaussian(rand.New(rand.NewPCG(5, 6)), 100, 3, 0, 1), 0.3, 1, []FitOption{WithMaxIter(1)}, ErrNotConverged},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := FitOCSVM(tc.X, tc.nu, tc.gamma, tc.opts...)
			if !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

// TestLogKernelSum checks the log-sum-exp against the direct sum where the
// latter is accurate, and that it keeps ranking where the direct sum
// underflows.
func TestLogKernelSum(t *testing.T) {
	sv := [][]float64{{0, 0}, {1, 0}, {0, 2}}
	alpha := []float64{0.5, 1, 0.25}
	for _, x := range [][]float64{{0, 0}, {0.5, 0.5}, {3, -1}} {
		got := logKernelSum(x, sv, alpha, 0.7)
		want := math.Log(kernelSum(x, sv, alpha, 0.7))
		if math.Abs(got-want) > 1e-12 {
			t.Errorf("x=%v: %v, want %v", x, got, want)
		}
	}
	near := logKernelSum([]float64{100, 0}, sv, alpha, 0.7)
	far := logKernelSum([]float64{200, 0}, sv, alpha, 0.7)
	if kernelSum([]float64{100, 0}, sv, alpha, 0.7) != 0 {
		t.Fatal("test point not far enough for the direct sum to underflow")
	}
	if math.IsInf(near, 0) || !(far < near) {
		t.Errorf("far %v not below near %v", far, near)
	}
}
