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
	// Orthogonal records that W was drawn as orthogonal random features.
	Orthogonal bool `json:"orthogonal"`
	// Structured marks structured orthogonal random features (SORF, Yu et
	// al. 2016): Wx = √(2γ)/N · H S₁ H S₂ H S₃ x per block of N features,
	// H the N×N Walsh-Hadamard matrix (N the power of two ≥ In and ≥ 64, x padded
	// with zeros) and Sᵢ random sign diagonals, stored in W (3N signs per
	// block). It costs O(D log N) per row instead of O(D·In).
	Structured bool `json:"structured,omitempty"`
	N          int  `json:"n,omitempty"`
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
	r := &RFF{Seed: seed, Gamma: gamma, In: in, D: d, Orthogonal: true, W: make([]float64, d*in), B: make([]float64, d)}
	s := math.Sqrt(2 * gamma)
	// Orthogonal random features (Yu et al. 2016): blocks of in rows are
	// orthogonalised Gaussian rows rescaled to the norms of independent
	// Gaussian vectors. Every row is still N(0, I)-distributed, so the
	// kernel estimate stays unbiased, but its variance is smaller.
	g := make([]float64, in)
	for b0 := 0; b0 < d; b0 += in {
		n := min(in, d-b0)
		for i := 0; i < n; i++ {
			row := r.W[(b0+i)*in : (b0+i+1)*in]
			for {
				for k := range row {
					row[k] = rng.NormFloat64()
				}
				for j := 0; j < i; j++ { // Gram-Schmidt against earlier rows
					prev := r.W[(b0+j)*in : (b0+j+1)*in]
					p := dot(row, prev)
					for k := range row {
						row[k] -= p * prev[k]
					}
				}
				if nrm := math.Sqrt(dot(row, row)); nrm > 1e-6 {
					for k := range row {
						row[k] /= nrm
					}
					break
				}
			}
		}
		for i := 0; i < n; i++ {
			for k := range g {
				g[k] = rng.NormFloat64()
			}
			norm := math.Sqrt(dot(g, g))
			row := r.W[(b0+i)*in : (b0+i+1)*in]
			for k := range row {
				row[k] *= s * norm
			}
		}
	}
	for i := range r.B {
		r.B[i] = 2 * math.Pi * rng.Float64()
	}
	return r, nil
}

// maxSORF is the largest block size of structured features (stack buffer).
const maxSORF = 256

// NewSORF draws structured orthogonal random features (see RFF.Structured)
// for inputs of dimension in ≤ 256; larger inputs get NewRFF's dense
// orthogonal features.
func NewSORF(in, d int, gamma float64, seed uint64) (*RFF, error) {
	n := 64 // padding small inputs makes the rows' norms nearly chi-distributed, as Gaussian rows' are
	for n < in {
		n <<= 1
	}
	if in < 1 || d < 1 || n > maxSORF {
		return NewRFF(in, d, gamma, seed)
	}
	if !(gamma > 0) || math.IsInf(gamma, 0) {
		return nil, fmt.Errorf("detect: random features: gamma %v: must be positive: %w", gamma, ErrInvalidConfig)
	}
	rng := rand.New(rand.NewPCG(seed, 0x50af))
	blocks := (d + n - 1) / n
	r := &RFF{Seed: seed, Gamma: gamma, In: in, D: d, Orthogonal: true, Structured: true, N: n, W: make([]float64, 3*n*blocks), B: make([]float64, d)}
	for i := range r.W {
		r.W[i] = 1
		if rng.Uint64()&1 == 1 {
			r.W[i] = -1
		}
	}
	for i := range r.B {
		r.B[i] = 2 * math.Pi * rng.Float64()
	}
	return r, nil
}

// fwht is the unnormalised fast Walsh-Hadamard transform of v in place;
// len(v) is a power of two. Radix-4 passes (two stages each) halve the
// loads and stores of the textbook radix-2 loop.
func fwht(v []float64) { fwhtFrom(v, 1) }

// fwhtSigned is fwht of v multiplied elementwise by the signs s (len(s) ≥
// len(v) ≥ 4), the multiplication folded into the first pass.
func fwhtSigned(v, s []float64) {
	s = s[:len(v)]
	for i := 0; i+3 < len(v); i += 4 {
		a, b, c, d := v[i]*s[i], v[i+1]*s[i+1], v[i+2]*s[i+2], v[i+3]*s[i+3]
		p, q, r, t := a+b, a-b, c+d, c-d
		v[i], v[i+1], v[i+2], v[i+3] = p+r, q+t, p-r, q-t
	}
	if len(v) < 16 {
		fwhtFrom(v, 4)
		return
	}
	// The span-4 pass, unrolled over blocks of 16.
	for i := 0; i+15 < len(v); i += 16 {
		w := v[i : i+16 : i+16]
		p0, q0, r0, t0 := w[0]+w[4], w[0]-w[4], w[8]+w[12], w[8]-w[12]
		w[0], w[4], w[8], w[12] = p0+r0, q0+t0, p0-r0, q0-t0
		p1, q1, r1, t1 := w[1]+w[5], w[1]-w[5], w[9]+w[13], w[9]-w[13]
		w[1], w[5], w[9], w[13] = p1+r1, q1+t1, p1-r1, q1-t1
		p2, q2, r2, t2 := w[2]+w[6], w[2]-w[6], w[10]+w[14], w[10]-w[14]
		w[2], w[6], w[10], w[14] = p2+r2, q2+t2, p2-r2, q2-t2
		p3, q3, r3, t3 := w[3]+w[7], w[3]-w[7], w[11]+w[15], w[11]-w[15]
		w[3], w[7], w[11], w[15] = p3+r3, q3+t3, p3-r3, q3-t3
	}
	fwhtFrom(v, 16)
}

// fwhtFrom runs the transform's passes from butterfly span h on.
func fwhtFrom(v []float64, h int) {
	n := len(v)
	for ; 4*h <= n; h *= 4 {
		for i := 0; i < n; i += 4 * h {
			a, b, c, d := v[i:i+h], v[i+h:i+2*h], v[i+2*h:i+3*h], v[i+3*h:i+4*h]
			b, c, d = b[:len(a)], c[:len(a)], d[:len(a)]
			for j := range a {
				p, q, r, s := a[j]+b[j], a[j]-b[j], c[j]+d[j], c[j]-d[j]
				a[j], b[j], c[j], d[j] = p+r, q+s, p-r, q-s
			}
		}
	}
	if h < n {
		a, b := v[:h], v[h:2*h]
		b = b[:len(a)]
		for j := range a {
			x, y := a[j], b[j]
			a[j], b[j] = x+y, x-y
		}
	}
}

// Map writes z(x) into dst (length D); x must have length In.
func (r *RFF) Map(dst, x []float64) {
	x = x[:r.In]
	dst = dst[:r.D]
	if r.Structured {
		r.mapSORF(dst, x)
		return
	}
	// Projections first, then the cosines in a loop of independent
	// iterations: both keep the floating-point units busy.
	for j := range dst {
		w := r.W[j*r.In : (j+1)*r.In : (j+1)*r.In]
		dst[j] = dot4(w, x) + r.B[j]
	}
	c := math.Sqrt(2 / float64(r.D))
	for j, v := range dst {
		dst[j] = c * fastCos(v)
	}
}

// dot4 is a·b with four accumulators, unrolled by eight over reslices (no
// bounds checks in the loop); b must be at least as long as a.
func dot4(a, b []float64) float64 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float64
	for len(a) >= 8 && len(b) >= 8 {
		s0 += a[0]*b[0] + a[4]*b[4]
		s1 += a[1]*b[1] + a[5]*b[5]
		s2 += a[2]*b[2] + a[6]*b[6]
		s3 += a[3]*b[3] + a[7]*b[7]
		a, b = a[8:], b[8:]
	}
	for k := range a {
		s0 += a[k] * b[k]
	}
	return (s0 + s1) + (s2 + s3)
}

// mapSORF is Map for structured features.
func (r *RFF) mapSORF(dst, x []float64) {
	var buf [maxSORF]float64
	n := r.N
	v := buf[:n]
	f := math.Sqrt(2*r.Gamma) / float64(n)
	c := math.Sqrt(2 / float64(r.D))
	for b0, blk := 0, 0; b0 < len(dst); b0, blk = b0+n, blk+1 {
		s := r.W[3*n*blk : 3*n*(blk+1)]
		s1, s2, s3 := s[:n], s[n:2*n], s[2*n:3*n]
		copy(v, x)
		for k := len(x); k < n; k++ {
			v[k] = 0
		}
		fwhtSigned(v, s3)
		fwhtSigned(v, s2)
		fwhtSigned(v, s1)
		out := dst[b0:min(b0+n, len(dst))]
		bb := r.B[b0 : b0+len(out)]
		for j := range out {
			out[j] = c * fastCos(f*v[j]+bb[j])
		}
	}
}

// dotSORF returns w·z(x) for structured features without storing z, the
// cosine inlined (as fastCos): the scoring hot path.
func (r *RFF) dotSORF(w, x []float64) float64 {
	const (
		inv2Pi = 1 / (2 * math.Pi)
		magic  = 0x1.8p52
	)
	var buf [maxSORF]float64
	n := r.N
	v := buf[:n]
	f := math.Sqrt(2*r.Gamma) / float64(n)
	var s0, s1 float64
	for b0, blk := 0, 0; b0 < r.D; b0, blk = b0+n, blk+1 {
		s := r.W[3*n*blk : 3*n*(blk+1)]
		copy(v, x)
		for k := len(x); k < n; k++ {
			v[k] = 0
		}
		fwhtSigned(v, s[2*n:3*n])
		fwhtSigned(v, s[n:2*n])
		fwhtSigned(v, s[:n])
		m := min(n, r.D-b0)
		vv, bb, ww := v[:m], r.B[b0:b0+m], w[b0:b0+m]
		bb, ww = bb[:len(vv)], ww[:len(vv)]
		for j := 0; j+1 < len(vv); j += 2 {
			x0, x1 := f*vv[j]+bb[j], f*vv[j+1]+bb[j+1]
			k0, k1 := (x0*inv2Pi+magic)-magic, (x1*inv2Pi+magic)-magic
			t0, t1 := math.Abs(x0-k0*2*math.Pi)-math.Pi/2, math.Abs(x1-k1*2*math.Pi)-math.Pi/2
			u0, u1 := t0*t0, t1*t1
			w0, w1 := u0*u0, u1*u1
			c0 := t0 * ((1 - u0*(1.0/6)) + w0*((1.0/120-u0*(1.0/5040))+w0*(1.0/362880-u0*(1.0/39916800))))
			c1 := t1 * ((1 - u1*(1.0/6)) + w1*((1.0/120-u1*(1.0/5040))+w1*(1.0/362880-u1*(1.0/39916800))))
			s0 -= ww[j] * c0
			s1 -= ww[j+1] * c1
		}
		if len(vv)%2 == 1 {
			j := len(vv) - 1
			s0 += ww[j] * fastCos(f*vv[j]+bb[j])
		}
	}
	return (s0 + s1) * math.Sqrt(2/float64(r.D))
}

// validate checks the map's dimensions and values.
func (r *RFF) validate() error {
	if r.Structured {
		if r.N < r.In || r.N > maxSORF || r.N&(r.N-1) != 0 || len(r.W) != 3*r.N*((r.D+r.N-1)/r.N) || len(r.B) != r.D {
			return fmt.Errorf("random features: structured: in %d, n %d, d %d, %d signs, %d phases", r.In, r.N, r.D, len(r.W), len(r.B))
		}
		return nil
	}
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

// fastCos is cos(x) to about 1e-7 absolute for |x| < 2⁵⁰ (ample for
// random features, whose kernel estimate has an error near 1/√D), without
// branches: x is reduced to [−π, π] by rounding x/2π to the nearest integer
// (the 1.5·2⁵² trick), folded to |x| ∈ [0, π], and cos|x| = −sin(|x| − π/2)
// is a Taylor polynomial of degree 11 on [−π/2, π/2], evaluated in
// Estrin's scheme. It is several times faster than math.Cos.
func fastCos(x float64) float64 {
	const (
		inv2Pi = 1 / (2 * math.Pi)
		magic  = 0x1.8p52
	)
	k := (x*inv2Pi + magic) - magic
	t := math.Abs(x-k*2*math.Pi) - math.Pi/2
	t2 := t * t
	t4 := t2 * t2
	// sin t / t = (1 − t²/6) + t⁴(1/120 − t²/5040) + t⁸(1/362880 − t²/39916800)
	a := 1 - t2*(1.0/6)
	b := 1.0/120 - t2*(1.0/5040)
	c := 1.0/362880 - t2*(1.0/39916800)
	return -t * (a + t4*(b+t4*c))
}

// fastExp is exp(x) to about 1e-14 relative for x ≤ 0 (0 below −708):
// x = k·ln2 + r with |r| ≤ ln2/2, exp(r) by a Taylor polynomial of degree 11
// in Estrin's scheme, times 2ᵏ set in the exponent bits. Scoring calls it
// once per support vector; training keeps math.Exp.
func fastExp(x float64) float64 {
	if x < -708 {
		return 0
	}
	const (
		invLn2 = 1 / math.Ln2
		magic  = 0x1.8p52
	)
	k := (x*invLn2 + magic) - magic
	r := x - k*math.Ln2
	r2 := r * r
	r4 := r2 * r2
	p01 := 1 + r
	p23 := 1.0/2 + r*(1.0/6)
	p45 := 1.0/24 + r*(1.0/120)
	p67 := 1.0/720 + r*(1.0/5040)
	p89 := 1.0/40320 + r*(1.0/362880)
	p1011 := 1.0/3628800 + r*(1.0/39916800)
	p := (p01 + r2*p23) + r4*((p45+r2*p67)+r4*(p89+r2*p1011))
	return p * math.Float64frombits(uint64(int64(k)+1023)<<52)
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

// Score returns w·z(x) + Bias. It does not allocate for D ≤ 2048 (any D
// with structured features).
func (l *Linear) Score(x []float64) float64 {
	if l.Map.Structured {
		return l.Map.dotSORF(l.W, x) + l.Bias
	}
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
	sg := newScaledSGD(make([]float64, d), make([]float64, d))
	var rho, avgRho float64
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x0c5c))
	epochs := cfg.epochs()
	total := epochs * len(Z)
	t0 := 1 / nu
	var nAvg float64
	for e, t := 0, 0; e < epochs; e++ {
		for _, i := range rng.Perm(len(Z)) {
			z := Z[i]
			eta := 1 / (nu * (t0 + float64(t)))
			rho = oneClassStep(&sg, rho, z, eta, nu)
			t++
			if t > total/2 {
				nAvg++
				f := 1 / nAvg
				sg.average(f)
				avgRho += f * (rho - avgRho)
			}
		}
	}
	return sg.avg, -avgRho, nil
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
	sg := newScaledSGD(make([]float64, d), make([]float64, d))
	var b, avgB float64
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x9e9a))
	epochs := cfg.epochs()
	total := epochs * len(Z)
	t0 := 1 / lambda
	var nAvg float64
	for e, t := 0, 0; e < epochs; e++ {
		for _, i := range rng.Perm(len(Z)) {
			z := Z[i]
			eta := 1 / (lambda * (t0 + float64(t)))
			m := y[i] * (sg.dot(z) + b)
			sg.shrink(1 - eta*lambda)
			if m < 1 {
				c := cPos
				if y[i] < 0 {
					c = cNeg
				}
				step := eta * c * y[i]
				sg.add(step, z)
				b += step
			}
			sg.renorm()
			t++
			if t > total/2 {
				nAvg++
				f := 1 / nAvg
				sg.average(f)
				avgB += f * (b - avgB)
			}
		}
	}
	return sg.avg, avgB, nil
}
