package detect

import (
	"fmt"
	"slices"
)

// OnlineOneClass keeps training a one-class RFF model window by window:
// the same averaged SGD as FitSGDOneClass, one step per Update, so a
// challenger can follow benign-looking traffic continuously. It is not safe
// for concurrent use; Snapshot returns an immutable Linear for scoring.
type OnlineOneClass struct {
	pre  Preprocess
	mp   *RFF
	nu   float64
	sg   scaledSGD
	rho  float64
	avgR float64
	t    float64
	z, x []float64
}

// NewOnlineOneClass starts from a trained challenger (its map, weights and
// bias) and the exact model whose preprocessing and ν it shares; the step
// continues from steps already taken (e.g. epochs × rows of the batch fit).
func NewOnlineOneClass(oc *OneClass, steps int) (*OnlineOneClass, error) {
	if oc == nil || oc.Exact == nil || oc.RFF == nil {
		return nil, fmt.Errorf("detect: online one-class: need an exact model and its RFF challenger: %w", ErrInvalidConfig)
	}
	if err := oc.RFF.validate(); err != nil {
		return nil, fmt.Errorf("detect: online one-class: %w: %w", err, ErrInvalidModel)
	}
	return &OnlineOneClass{
		pre: oc.Exact.Preprocess, mp: oc.RFF.Map, nu: oc.Exact.Nu,
		sg:  newScaledSGD(slices.Clone(oc.RFF.W), slices.Clone(oc.RFF.W)),
		rho: -oc.RFF.Bias, avgR: -oc.RFF.Bias, t: float64(steps),
		z: make([]float64, oc.RFF.Map.D), x: make([]float64, oc.RFF.Map.In),
	}, nil
}

// Update takes one SGD step on the raw row x (which must have the model's
// dimension) and folds it into the running average with weight 1/(t+1) of
// the steps since the start of the batch fit's averaging.
func (o *OnlineOneClass) Update(x []float64) {
	o.pre.apply(o.x, x)
	o.mp.Map(o.z, o.x)
	eta := 1 / (o.nu * (1/o.nu + o.t))
	o.rho = oneClassStep(&o.sg, o.rho, o.z, eta, o.nu)
	o.t++
	f := 1 / (o.t / 2) // the average spans the second half of all steps
	o.sg.average(f)
	o.avgR += f * (o.rho - o.avgR)
}

// Snapshot returns the current averaged model.
func (o *OnlineOneClass) Snapshot() *Linear {
	return &Linear{Map: o.mp, W: slices.Clone(o.sg.avg), Bias: -o.avgR}
}
