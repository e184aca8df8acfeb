package detect

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// RFF is a random Fourier feature map (Rahimi and Recht 2007) whose inner
// products approximate the RBF kernel exp(−γ‖x − y‖²):
// z(x) = √(2/D) cos(Wx + b) with W ~ √(2γ)·N(0, 1) and b ~ U(0, 2π). W and
// b are drawn from Seed; both are stored so a model reads back bit for bit.
// An RFF is immutable and safe for concurrent use.
type RFF struct {
	// Seed drew W and B.
	Seed uint64 `json:"seed"`
	// Gamma is the RBF parameter approximated.
	Gamma float64 `json:"gamma"`
	// In is the input dimension, D the number of features.
	In int `json:"in"`
	D  int `json:"d"`
	// W holds the D×In projection, row-major; B the D phases.
	W []float64 `json:"w"`
	B []float64 `json:"b"`
}

// NewRFF draws a map of D features for inputs of dimension in.
func NewRFF(in, d int, gamma float64, seed uint64) (*RFF, error) {
	if in < 1 || d < 1 {
		return nil, fmt.Errorf("detect: random features %d for input dimension %d: both must be positive: %w", d, in, ErrInvalidConfig)
	}
	if !(gamma > 0) || math.IsInf(gamma, 0) {
		return nil, fmt.Errorf("detect: random features: gamma %v: must be positive: %w", gamma, ErrInvalidConfig)
	}
	rng := rand.New(rand.NewPCG(seed, 0xf0f1e2))
	r := &RFF{Seed: seed, Gamma: gamma, In: in, D: d, W: make([]float64, d*in), B: make([]float64, d)}
	s := math.Sqrt(2 * gamma)
	for i := range r.W {
		r.W[i] = s * rng.NormFloat64()
	}
	for i := range r.B {
		r.B[i] = 2 * math.Pi * rng.Float64()
	}
	return r, nil
}

// Map writes z(x) into dst (length D); x must have length In.
func (r *RFF) Map(dst, x []float64) {
	x = x[:r.In]
	dst = dst[:r.D]
	c := math.Sqrt(2 / float64(r.D))
	for j := range dst {
		w := r.W[j*r.In : (j+1)*r.In : (j+1)*r.In]
		var s0, s1 float64
		k := 0
		for ; k+1 < len(x); k += 2 {
			s0 += w[k] * x[k]
			s1 += w[k+1] * x[k+1]
		}
		if k < len(x) {
			s0 += w[k] * x[k]
		}
		dst[j] = c * fastCos(s0+s1+r.B[j])
	}
}

// validate checks the map's dimensions and values.
func (r *RFF) validate() error {
	if r.In < 1 || r.D < 1 || len(r.W) != r.In*r.D || len(r.B) != r.D {
		return fmt.Errorf("random features: in %d, d %d, %d weights, %d phases", r.In, r.D, len(r.W), len(r.B))
	}
	for _, v := range r.W {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("random features: weight %v", v)
		}
	}
	return nil
}

// fastCos is cos(x) to about 1e-7 absolute: range reduction to [−π, π]
// and a minimax-style polynomial. It is several times faster than math.Cos,
// which matters when D cosines are taken per scored row.
func fastCos(x float64) float64 {
	const twoPi = 2 * math.Pi
	x -= twoPi * math.Floor(x/twoPi+0.5) // x in [−π, π]
	// cos(x) = −cos(x − π) for x > π/2, and symmetric: fold to [0, π/2].
	if x < 0 {
		x = -x
	}
	sign := 1.0
	if x > math.Pi/2 {
		x = math.Pi - x
		sign = -1
	}
	x2 := x * x
	// Taylor series to x^16 on [0, π/2]: error below 1e-9.
	p := 1 + x2*(-1.0/2+x2*(1.0/24+x2*(-1.0/720+x2*(1.0/40320+x2*(-1.0/3628800+x2*(1.0/479001600+x2*(-1.0/87178291200+x2*(1.0/20922789888000))))))))
	return sign * p
}

// Linear is a linear scorer on random features, w·z(x) + b, trained either
// as a one-class SVM by SGD (FitSGDOneClass) or as a class-weighted SVM by
// Pegasos (FitPegasos). It is immutable and safe for concurrent use.
type Linear struct {
	// Map is the feature map.
	Map *RFF `json:"map"`
	// W and Bias define the score w·z + Bias.
	W    []float64 `json:"w"`
	Bias float64   `json:"bias"`
}

// Score returns w·z(x) + Bias. It does not allocate for D ≤ 2048.
func (l *Linear) Score(x []float64) float64 {
	if l.Map.D <= 2048 {
		var buf [2048]float64
		z := buf[:l.Map.D]
		l.Map.Map(z, x)
		return dot(l.W, z) + l.Bias
	}
	z := make([]float64, l.Map.D)
	l.Map.Map(z, x)
	return dot(l.W, z) + l.Bias
}

func (l *Linear) validate() error {
	if l.Map == nil {
		return fmt.Errorf("linear: no feature map")
	}
	if err := l.Map.validate(); err != nil {
		return err
	}
	if len(l.W) != l.Map.D {
		return fmt.Errorf("linear: %d weights for %d features", len(l.W), l.Map.D)
	}
	for _, v := range l.W {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("linear: weight %v", v)
		}
	}
	if math.IsNaN(l.Bias) || math.IsInf(l.Bias, 0) {
		return fmt.Errorf("linear: bias %v", l.Bias)
	}
	return nil
}

func dot(a, b []float64) float64 {
	b = b[:len(a)]
	var s0, s1 float64
	k := 0
	for ; k+1 < len(a); k += 2 {
		s0 += a[k] * b[k]
		s1 += a[k+1] * b[k+1]
	}
	if k < len(a) {
		s0 += a[k] * b[k]
	}
	return s0 + s1
}

// mapAll returns z(x) for every row of X, in one flat allocation.
func (r *RFF) mapAll(X [][]float64) [][]float64 {
	flat := make([]float64, len(X)*r.D)
	Z := make([][]float64, len(X))
	for i, x := range X {
		Z[i] = flat[i*r.D : (i+1)*r.D : (i+1)*r.D]
		r.Map(Z[i], x)
	}
	return Z
}

// SGDConfig configures the stochastic solvers.
type SGDConfig struct {
	// Epochs is the number of passes over the data (default 20).
	Epochs int
	// Seed shuffles the rows of every epoch.
	Seed uint64
}

func (c SGDConfig) epochs() int {
	if c.Epochs <= 0 {
		return 20
	}
	return c.Epochs
}

// FitSGDOneClass trains a linear one-class SVM on the mapped rows Z by
// averaged SGD, as scikit-learn's SGDOneClassSVM: it minimises
// (ν/2)‖w‖² − νρ + mean(max(0, ρ − w·z)) and returns w and bias −ρ, so
// that w·z − ρ < 0 marks an outlier. With the RFF map of an RBF kernel this
// approximates the exact ν one-class SVM with the same ν and γ (its w is
// Σαᵢz(xᵢ)/(νl)). The step is 1/(ν(t₀ + t)) with t₀ = 1/ν; the returned
// weights average the iterates of the second half of training.
func FitSGDOneClass(Z [][]float64, nu float64, cfg SGDConfig) (w []float64, bias float64, err error) {
	if !(nu > 0 && nu <= 1) {
		return nil, 0, fmt.Errorf("detect: sgd one-class: nu %v: must be in (0, 1]: %w", nu, ErrInvalidConfig)
	}
	if _, err := checkMatrix(Z); err != nil {
		return nil, 0, err
	}
	d := len(Z[0])
	w = make([]float64, d)
	avg := make([]float64, d)
	var rho, avgRho float64
	var scale = 1.0 // w is stored as scale·w to make the shrink O(1)
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x0c5c))
	epochs := cfg.epochs()
	total := epochs * len(Z)
	t0 := 1 / nu
	var nAvg float64
	for e, t := 0, 0; e < epochs; e++ {
		for _, i := range rng.Perm(len(Z)) {
			z := Z[i]
			eta := 1 / (nu * (t0 + float64(t)))
			margin := scale*dot(w, z) - rho
			scale *= 1 - eta*nu
			if margin < 0 {
				c := eta / scale
				for k, v := range z {
					w[k] += c * v
				}
				rho += eta * (nu - 1)
			} else {
				rho += eta * nu
			}
			if scale < 1e-9 {
				for k := range w {
					w[k] *= scale
				}
				scale = 1
			}
			t++
			if t > total/2 {
				nAvg++
				f := 1 / nAvg
				for k := range avg {
					avg[k] += f * (scale*w[k] - avg[k])
				}
				avgRho += f * (rho - avgRho)
			}
		}
	}
	return avg, -avgRho, nil
}

// FitPegasos trains a class-weighted linear SVM on the mapped rows Z with
// labels y (+1 normal, −1 attack) by averaged Pegasos (Shalev-Shwartz et
// al. 2007): it minimises (λ/2)‖w‖² + mean cᵧ·max(0, 1 − y(w·z + b)),
// where cᵧ = n/(2nᵧ) balances the classes. The bias is not regularised.
// The step is 1/(λ(t₀ + t)) with t₀ = 1/λ; the returned weights average the
// iterates of the second half of training.
func FitPegasos(Z [][]float64, y []float64, lambda float64, cfg SGDConfig) (w []float64, bias float64, err error) {
	if !(lambda > 0) || math.IsInf(lambda, 0) {
		return nil, 0, fmt.Errorf("detect: pegasos: lambda %v: must be positive: %w", lambda, ErrInvalidConfig)
	}
	if _, err := checkMatrix(Z); err != nil {
		return nil, 0, err
	}
	if len(y) != len(Z) {
		return nil, 0, fmt.Errorf("detect: pegasos: %d labels for %d rows: %w", len(y), len(Z), ErrInvalidInput)
	}
	var nPos, nNeg float64
	for _, v := range y {
		if v > 0 {
			nPos++
		} else {
			nNeg++
		}
	}
	if nPos == 0 || nNeg == 0 {
		return nil, 0, fmt.Errorf("detect: pegasos: %v normal and %v attack rows: need both: %w", nPos, nNeg, ErrInvalidInput)
	}
	n := float64(len(y))
	cPos, cNeg := n/(2*nPos), n/(2*nNeg)
	d := len(Z[0])
	w = make([]float64, d)
	avg := make([]float64, d)
	var b, avgB float64
	scale := 1.0
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x9e9a))
	epochs := cfg.epochs()
	total := epochs * len(Z)
	t0 := 1 / lambda
	var nAvg float64
	for e, t := 0, 0; e < epochs; e++ {
		for _, i := range rng.Perm(len(Z)) {
			z := Z[i]
			eta := 1 / (lambda * (t0 + float64(t)))
			m := y[i] * (scale*dot(w, z) + b)
			scale *= 1 - eta*lambda
			if m < 1 {
				c := cPos
				if y[i] < 0 {
					c = cNeg
				}
				step := eta * c * y[i]
				f := step / scale
				for k, v := range z {
					w[k] += f * v
				}
				b += step * 0.1 // a slower bias step keeps the intercept stable
			}
			if scale < 1e-9 {
				for k := range w {
					w[k] *= scale
				}
				scale = 1
			}
			t++
			if t > total/2 {
				nAvg++
				f := 1 / nAvg
				for k := range avg {
					avg[k] += f * (scale*w[k] - avg[k])
				}
				avgB += f * (b - avgB)
			}
		}
	}
	return avg, avgB, nil
}
