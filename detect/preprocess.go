package detect

import (
	"fmt"
	"math"
)

// Scaling modes for Preprocess.Scale and TrainConfig.Scale.
const (
	// ScaleStandard standardises every feature with the mean and standard
	// deviation of the training data, then clips to ±Clip.
	ScaleStandard = "standard"
	// ScaleNone leaves the (optionally log1p-transformed) values as they are.
	ScaleNone = "none"
)

const (
	// DefaultClip bounds standardised values to ±DefaultClip. It is a guard
	// against numerical trouble, not a modelling choice: log1p already
	// compresses heavy tails, and the log-sum-exp score is meant to keep
	// ranking points far from everything seen. A clip at 10 standard
	// deviations made every strong outlier of a rare feature look alike (a
	// beacon's regularity of 25 against a normal maximum of 3.5 scored as a
	// mild oddity).
	DefaultClip = 100
	// stdFloor is the smallest standard deviation used for scaling; constant
	// features get a standard deviation of 1 instead.
	stdFloor = 1e-9
)

// Preprocess describes how raw feature values are mapped into the space the
// SVM works in: optional signed log1p, then optional standardisation and
// clipping.
type Preprocess struct {
	// Log1p applies sign(x)·log1p(|x|) to every value first.
	Log1p bool `json:"log1p"`
	// Scale is ScaleStandard or ScaleNone.
	Scale string `json:"scale"`
	// Mean and Std are the per-feature mean and (population) standard
	// deviation of the training data after the log1p step. They are stored
	// for every model, used for scaling only with ScaleStandard, and always
	// used for the z-scores of Explain. Std is never below 1e-9: constant
	// features have Std 1.
	Mean []float64 `json:"mean"`
	Std  []float64 `json:"std"`
	// Clip bounds the standardised values to ±Clip; 0 means no clipping.
	Clip float64 `json:"clip"`
}

// transform1 returns the value after the log1p step.
func (p *Preprocess) transform1(v float64) float64 {
	if !p.Log1p {
		return v
	}
	if v < 0 {
		return -math.Log1p(-v)
	}
	return math.Log1p(v)
}

// apply writes the preprocessed raw into dst, which must be as long as raw.
func (p *Preprocess) apply(dst, raw []float64) {
	dst = dst[:len(raw)]
	standard := p.Scale == ScaleStandard
	for k, v := range raw {
		v = p.transform1(v)
		if standard {
			v = (v - p.Mean[k]) / p.Std[k]
			if p.Clip > 0 {
				v = max(-p.Clip, min(p.Clip, v))
			}
		}
		dst[k] = v
	}
}

// fitPreprocess returns the preprocessing fitted on X (rows checked by the
// caller) and X mapped through it, as a new matrix.
func fitPreprocess(X [][]float64, log1p bool, scale string) (Preprocess, [][]float64) {
	d := len(X[0])
	p := Preprocess{Log1p: log1p, Scale: scale, Mean: make([]float64, d), Std: make([]float64, d)}
	if scale == ScaleStandard {
		p.Clip = DefaultClip
	}
	n := float64(len(X))
	flat := make([]float64, len(X)*d)
	Z := make([][]float64, len(X))
	for i, row := range X {
		z := flat[i*d : (i+1)*d : (i+1)*d]
		for k, v := range row {
			z[k] = p.transform1(v)
		}
		Z[i] = z
	}
	for k := 0; k < d; k++ {
		var s float64
		for _, z := range Z {
			s += z[k]
		}
		mean := s / n
		var ss float64
		for _, z := range Z {
			dv := z[k] - mean
			ss += dv * dv
		}
		std := math.Sqrt(ss / n)
		if std < stdFloor {
			std = 1
		}
		p.Mean[k], p.Std[k] = mean, std
	}
	if scale == ScaleStandard {
		for _, z := range Z {
			for k, v := range z {
				v = (v - p.Mean[k]) / p.Std[k]
				z[k] = max(-p.Clip, min(p.Clip, v))
			}
		}
	}
	return p, Z
}

// validate checks p against a model of dimension d.
func (p *Preprocess) validate(d int) error {
	if p.Scale != ScaleStandard && p.Scale != ScaleNone {
		return fmt.Errorf("preprocess: scale %q: want %q or %q", p.Scale, ScaleStandard, ScaleNone)
	}
	if len(p.Mean) != d || len(p.Std) != d {
		return fmt.Errorf("preprocess: %d means and %d standard deviations for %d features", len(p.Mean), len(p.Std), d)
	}
	for k := range p.Std {
		if !(p.Std[k] > 0) || math.IsInf(p.Std[k], 0) || math.IsNaN(p.Mean[k]) || math.IsInf(p.Mean[k], 0) {
			return fmt.Errorf("preprocess: feature %d: mean %v, std %v", k, p.Mean[k], p.Std[k])
		}
	}
	if !(p.Clip >= 0) {
		return fmt.Errorf("preprocess: clip %v", p.Clip)
	}
	return nil
}

// scaleGamma returns scikit-learn's gamma = "scale": 1/(d·Var(Z)) over all
// entries of Z, or 1 when the variance is 0.
func scaleGamma(Z [][]float64) float64 {
	d := len(Z[0])
	var s float64
	for _, z := range Z {
		for _, v := range z {
			s += v
		}
	}
	n := float64(len(Z) * d)
	mean := s / n
	var ss float64
	for _, z := range Z {
		for _, v := range z {
			dv := v - mean
			ss += dv * dv
		}
	}
	v := ss / n
	if v == 0 {
		return 1
	}
	return 1 / (float64(d) * v)
}
