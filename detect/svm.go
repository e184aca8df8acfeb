package detect

import (
	"fmt"
	"math"
)

// Solver defaults, as in LIBSVM.
const (
	// DefaultEps is the SMO stopping tolerance (LIBSVM's -e, scikit-learn's tol).
	DefaultEps = 1e-3
	// DefaultCacheMB is the default kernel cache size in megabytes.
	DefaultCacheMB = 200
	// tau replaces a non-positive curvature in working-set selection.
	tau = 1e-12
)

// SVM is a trained ν one-class SVM with RBF kernel K(x, y) = exp(−γ‖x − y‖²),
// in LIBSVM's scaling: 0 < Alpha[i] ≤ 1 and Σ Alpha = ν·l for l training
// points. An SVM is immutable and safe for concurrent use.
type SVM struct {
	// SV holds the support vectors: the training rows with α > 0, in
	// training order. The rows alias the caller's training data.
	SV [][]float64
	// SVIndex holds the index of every support vector in the training data.
	SVIndex []int
	// Alpha holds the dual coefficient of every support vector.
	Alpha []float64
	// Rho is the offset: Decision(x) = Σ Alpha[i] K(SV[i], x) − Rho.
	Rho float64
	// Gamma is the RBF kernel parameter.
	Gamma float64
	// Nu is the ν the SVM was trained with.
	Nu float64
	// Iter is the number of SMO iterations the solver took.
	Iter int
}

// Decision returns LIBSVM's decision value Σ αᵢ K(svᵢ, x) − ρ, which is also
// scikit-learn's OneClassSVM.decision_function: negative for outliers.
func (s *SVM) Decision(x []float64) float64 {
	return kernelSum(x, s.SV, s.Alpha, s.Gamma) - s.Rho
}

// Score returns log(Σ αᵢ K(svᵢ, x)) − log ρ: the sign of Decision, but it
// keeps ranking points far from every support vector.
func (s *SVM) Score(x []float64) float64 {
	return logKernelSum(x, s.SV, s.Alpha, s.Gamma) - math.Log(s.Rho)
}

// FitOption configures FitOCSVM.
type FitOption func(*fitOptions)

type fitOptions struct {
	cacheMB int
	eps     float64
	maxIter int
}

// WithCacheMB bounds the kernel row cache to mb megabytes (default
// DefaultCacheMB). The cache always holds at least two rows.
func WithCacheMB(mb int) FitOption { return func(o *fitOptions) { o.cacheMB = mb } }

// WithEps sets the stopping tolerance on the maximal KKT violation (default
// DefaultEps).
func WithEps(eps float64) FitOption { return func(o *fitOptions) { o.eps = eps } }

// WithMaxIter caps the number of SMO iterations; 0 (the default) uses
// LIBSVM's cap max(10⁷, 100·l).
func WithMaxIter(n int) FitOption { return func(o *fitOptions) { o.maxIter = n } }

func (o *fitOptions) validate() error {
	switch {
	case o.cacheMB < 1:
		return fmt.Errorf("detect: cache size %d MB: must be at least 1: %w", o.cacheMB, ErrInvalidConfig)
	case !(o.eps > 0) || math.IsInf(o.eps, 0):
		return fmt.Errorf("detect: eps %v: must be positive: %w", o.eps, ErrInvalidConfig)
	case o.maxIter < 0:
		return fmt.Errorf("detect: max iterations %d: must not be negative: %w", o.maxIter, ErrInvalidConfig)
	}
	return nil
}

// FitOCSVM trains a ν one-class SVM with RBF kernel on the rows of X, which
// must all have the same length and finite values, with 0 < nu ≤ 1 and
// gamma > 0. It follows LIBSVM's solve_one_class exactly (without
// shrinking), so the result matches svm-train -s 2 -t 2 -h 0 and
// scikit-learn's OneClassSVM up to the stopping tolerance. X is not copied:
// the returned SV rows alias it. FitOCSVM applies no preprocessing; see Fit.
func FitOCSVM(X [][]float64, nu, gamma float64, opts ...FitOption) (*SVM, error) {
	o := fitOptions{cacheMB: DefaultCacheMB, eps: DefaultEps}
	for _, opt := range opts {
		opt(&o)
	}
	if err := o.validate(); err != nil {
		return nil, err
	}
	if !(nu > 0 && nu <= 1) {
		return nil, fmt.Errorf("detect: nu %v: must be in (0, 1]: %w", nu, ErrInvalidConfig)
	}
	if !(gamma > 0) || math.IsInf(gamma, 0) {
		return nil, fmt.Errorf("detect: gamma %v: must be positive and finite: %w", gamma, ErrInvalidConfig)
	}
	if _, err := checkMatrix(X); err != nil {
		return nil, err
	}
	l := len(X)
	maxIter := o.maxIter
	if maxIter == 0 {
		maxIter = max(10_000_000, 100*l)
	}

	// Initial point, as LIBSVM: α = 1 for the first ⌊νl⌋ points, the
	// remainder on the next one, 0 elsewhere.
	alpha := make([]float64, l)
	n := int(nu * float64(l))
	for i := 0; i < n; i++ {
		alpha[i] = 1
	}
	if n < l {
		alpha[n] = nu*float64(l) - float64(n)
	}

	cache := newRowCache(X, gamma, o.cacheMB)
	G := make([]float64, l)
	for i := 0; i < l; i++ {
		if alpha[i] > 0 {
			qi := cache.row(i)
			a := alpha[i]
			for k := range G {
				G[k] += a * qi[k]
			}
		}
	}

	iter := 0
	for {
		// Working set selection 2 of Fan, Chen and Lin, as LIBSVM's
		// select_working_set for y = +1 throughout. Ties go to the last
		// index, as in LIBSVM.
		gmax := math.Inf(-1)
		gmax2 := math.Inf(-1)
		iIdx, jIdx := -1, -1
		for t, a := range alpha {
			if a < 1 && -G[t] >= gmax {
				gmax = -G[t]
				iIdx = t
			}
		}
		var qi []float64
		if iIdx >= 0 {
			qi = cache.row(iIdx)
		}
		objMin := math.Inf(1)
		for j, a := range alpha {
			if a > 0 {
				if G[j] >= gmax2 {
					gmax2 = G[j]
				}
				b := gmax + G[j]
				if b > 0 {
					quad := 2 - 2*qi[j] // K_ii = K_jj = 1 for RBF
					var obj float64
					if quad > 0 {
						obj = -(b * b) / quad
					} else {
						obj = -(b * b) / tau
					}
					if obj <= objMin {
						jIdx = j
						objMin = obj
					}
				}
			}
		}
		if gmax+gmax2 < o.eps || jIdx == -1 {
			break
		}
		if iter >= maxIter {
			return nil, fmt.Errorf("detect: %d iterations, violation %.3g: %w", iter, gmax+gmax2, ErrNotConverged)
		}
		iter++

		i, j := iIdx, jIdx
		qi = cache.row(i)
		qj := cache.row(j)
		oldI, oldJ := alpha[i], alpha[j]
		quad := 2 - 2*qi[j]
		if quad <= 0 {
			quad = tau
		}
		delta := (G[i] - G[j]) / quad
		sum := alpha[i] + alpha[j]
		alpha[i] -= delta
		alpha[j] += delta
		// Clip into the box keeping the sum (LIBSVM, case y_i = y_j, C = 1).
		if sum > 1 {
			if alpha[i] > 1 {
				alpha[i] = 1
				alpha[j] = sum - 1
			}
		} else if alpha[j] < 0 {
			alpha[j] = 0
			alpha[i] = sum
		}
		if sum > 1 {
			if alpha[j] > 1 {
				alpha[j] = 1
				alpha[i] = sum - 1
			}
		} else if alpha[i] < 0 {
			alpha[i] = 0
			alpha[j] = sum
		}
		dI, dJ := alpha[i]-oldI, alpha[j]-oldJ
		for k := range G {
			G[k] += qi[k]*dI + qj[k]*dJ
		}
	}

	s := &SVM{Rho: calculateRho(alpha, G), Gamma: gamma, Nu: nu, Iter: iter}
	for i, a := range alpha {
		if a > 0 {
			s.SV = append(s.SV, X[i])
			s.SVIndex = append(s.SVIndex, i)
			s.Alpha = append(s.Alpha, a)
		}
	}
	return s, nil
}

// calculateRho returns LIBSVM's ρ: the mean gradient over free α, or the
// midpoint of the bounds the KKT conditions put on it when no α is free.
func calculateRho(alpha, G []float64) float64 {
	ub, lb := math.Inf(1), math.Inf(-1)
	var sumFree float64
	nFree := 0
	for i, a := range alpha {
		switch {
		case a >= 1:
			lb = max(lb, G[i])
		case a <= 0:
			ub = min(ub, G[i])
		default:
			nFree++
			sumFree += G[i]
		}
	}
	if nFree > 0 {
		return sumFree / float64(nFree)
	}
	return (ub + lb) / 2
}

// checkMatrix verifies that X is a non-empty matrix of finite values with at
// least one column, and returns its number of columns.
func checkMatrix(X [][]float64) (int, error) {
	if len(X) == 0 {
		return 0, fmt.Errorf("detect: no rows: %w", ErrInvalidInput)
	}
	d := len(X[0])
	if d == 0 {
		return 0, fmt.Errorf("detect: no columns: %w", ErrInvalidInput)
	}
	for i, row := range X {
		if len(row) != d {
			return 0, fmt.Errorf("detect: row %d has %d values, row 0 has %d: %w", i, len(row), d, ErrInvalidInput)
		}
		for k, v := range row {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return 0, fmt.Errorf("detect: row %d column %d: value %v: %w", i, k, v, ErrInvalidInput)
			}
		}
	}
	return d, nil
}

// kernelSum returns Σ αᵢ exp(−γ‖x − svᵢ‖²).
func kernelSum(x []float64, sv [][]float64, alpha []float64, gamma float64) float64 {
	var s float64
	for i, v := range sv {
		s += alpha[i] * fastExp(-gamma*sqDist(x, v))
	}
	return s
}

// logKernelSum returns log Σ αᵢ exp(−γ‖x − svᵢ‖²) with a log-sum-exp, so
// that it stays finite however far x is from every support vector. It
// returns −Inf when there are no support vectors. Support vectors are taken
// in blocks: exponents and their maximum first, then the sum, so the
// iterations of each pass are independent.
func logKernelSum(x []float64, sv [][]float64, alpha []float64, gamma float64) float64 {
	const block = 256
	var e [block]float64
	m := math.Inf(-1) // largest exponent seen
	var s float64     // Σ αᵢ exp(eᵢ − m)
	for b0 := 0; b0 < len(sv); b0 += block {
		n := min(block, len(sv)-b0)
		bm := math.Inf(-1)
		for i := 0; i < n; i++ {
			v := -gamma * sqDist(x, sv[b0+i])
			e[i] = v
			bm = max(bm, v)
		}
		if bm > m {
			s *= fastExp(m - bm)
			m = bm
		}
		a := alpha[b0 : b0+n]
		for i := 0; i < n; i++ {
			s += a[i] * fastExp(e[i]-m)
		}
	}
	return m + math.Log(s)
}
