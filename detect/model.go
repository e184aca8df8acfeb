package detect

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"sync"
	"time"
)

// FormatVersion is the version of the model JSON format this build writes
// and the only one it reads.
const FormatVersion = 1

// stackDim is the largest dimension scored without touching the heap.
const stackDim = 128

// Model is a trained, self-describing detector: preprocessing, one-class SVM,
// calibrated threshold and the metadata needed to audit it. A Model is
// immutable after Train (or ReadModel) returns it and safe for concurrent
// use; it serialises to JSON with encoding/json.
type Model struct {
	// FormatVersion is the JSON format version (FormatVersion).
	FormatVersion int `json:"format_version"`
	// SchemaID identifies the feature schema; it is set by the caller.
	SchemaID string `json:"schema_id"`
	// FeatureNames names the raw input features, in input order.
	FeatureNames []string `json:"feature_names"`
	// Preprocess maps raw values into the SVM's space.
	Preprocess Preprocess `json:"preprocess"`
	// Gamma is the RBF kernel parameter, resolved (never "scale").
	Gamma float64 `json:"gamma"`
	// GammaScale records that Gamma was derived with gamma = "scale".
	GammaScale bool `json:"gamma_scale"`
	// Nu is the ν the SVM was trained with.
	Nu float64 `json:"nu"`
	// Rho is the SVM offset (scikit-learn's offset_).
	Rho float64 `json:"rho"`
	// SV holds the support vectors in preprocessed space.
	SV [][]float64 `json:"sv"`
	// Alpha holds the dual coefficients, 0 < α ≤ 1, Σα = ν·l.
	Alpha []float64 `json:"alpha"`
	// Threshold is the alert threshold on Score: anomalous iff Score < Threshold.
	// Fit sets it to 0 (the SVM's own sign); Train calibrates it.
	Threshold float64 `json:"threshold"`
	// TargetFPR is the false-positive rate the threshold was calibrated
	// for; 0 when not calibrated.
	TargetFPR float64 `json:"target_fpr"`
	// NCalibration is the number of pooled out-of-sample scores the
	// threshold was derived from.
	NCalibration int `json:"n_calibration"`
	// RawMedian and RawP95 are the median and 95th percentile of every raw
	// training feature, for explanations.
	RawMedian []float64 `json:"raw_median"`
	RawP95    []float64 `json:"raw_p95"`
	// NTrain is the number of training rows the final SVM saw.
	NTrain int `json:"n_train"`
	// TrainStart and TrainEnd bound the training data in nanoseconds since
	// the epoch; they are set by the caller.
	TrainStart int64 `json:"train_start_ns"`
	TrainEnd   int64 `json:"train_end_ns"`
	// CreatedAt is when the model was trained.
	CreatedAt time.Time `json:"created_at"`
	// CodeVersion identifies the code that trained the model.
	CodeVersion string `json:"code_version"`
}

// Dim returns the number of raw features the model expects.
func (m *Model) Dim() int { return len(m.FeatureNames) }

// bigBufs holds scratch vectors for models with more than stackDim features.
var bigBufs sync.Pool

// withPreprocessed calls f with raw mapped through the model's
// preprocessing, using a stack buffer (or a pooled one for large d).
func (m *Model) withPreprocessed(raw []float64, f func(z []float64) float64) float64 {
	if len(raw) != len(m.FeatureNames) {
		panic(fmt.Sprintf("detect: input has %d features, model %d", len(raw), len(m.FeatureNames)))
	}
	if len(raw) <= stackDim {
		var buf [stackDim]float64
		z := buf[:len(raw)]
		m.Preprocess.apply(z, raw)
		return f(z)
	}
	p, _ := bigBufs.Get().(*[]float64)
	if p == nil || cap(*p) < len(raw) {
		s := make([]float64, len(raw))
		p = &s
	}
	z := (*p)[:len(raw)]
	m.Preprocess.apply(z, raw)
	v := f(z)
	bigBufs.Put(p)
	return v
}

// Decision returns the LIBSVM decision value Σ αᵢ K(svᵢ, z) − ρ of raw after
// the model's preprocessing z. It panics if len(raw) != m.Dim().
func (m *Model) Decision(raw []float64) float64 {
	if len(raw) <= stackDim && len(raw) == len(m.FeatureNames) {
		var buf [stackDim]float64
		z := buf[:len(raw)]
		m.Preprocess.apply(z, raw)
		return kernelSum(z, m.SV, m.Alpha, m.Gamma) - m.Rho
	}
	return m.withPreprocessed(raw, func(z []float64) float64 {
		return kernelSum(z, m.SV, m.Alpha, m.Gamma) - m.Rho
	})
}

// Score returns log(Σ αᵢ K(svᵢ, z)) − log ρ for raw after preprocessing z,
// computed with a log-sum-exp. It has the sign of Decision, decreases
// without bound with the distance to the support vectors, and is what
// Threshold applies to. It does not allocate for up to 128 features and
// panics if len(raw) != m.Dim().
func (m *Model) Score(raw []float64) float64 {
	if len(raw) <= stackDim && len(raw) == len(m.FeatureNames) {
		var buf [stackDim]float64
		z := buf[:len(raw)]
		m.Preprocess.apply(z, raw)
		return logKernelSum(z, m.SV, m.Alpha, m.Gamma) - math.Log(m.Rho)
	}
	return m.withPreprocessed(raw, func(z []float64) float64 {
		return logKernelSum(z, m.SV, m.Alpha, m.Gamma) - math.Log(m.Rho)
	})
}

// IsAnomaly reports whether score (from Score) is below the model's
// threshold. A NaN score counts as anomalous.
func (m *Model) IsAnomaly(score float64) bool {
	return !(score >= m.Threshold)
}

// Check returns nil if names are the model's feature names, in order, and
// otherwise an error wrapping ErrSchemaMismatch that names the first
// difference.
func (m *Model) Check(names []string) error {
	n := min(len(names), len(m.FeatureNames))
	for k := 0; k < n; k++ {
		if names[k] != m.FeatureNames[k] {
			return fmt.Errorf("detect: feature %d is %q, model expects %q: %w", k, names[k], m.FeatureNames[k], ErrSchemaMismatch)
		}
	}
	switch {
	case len(names) > n:
		return fmt.Errorf("detect: %d features, model expects %d (extra %q): %w", len(names), len(m.FeatureNames), names[n], ErrSchemaMismatch)
	case len(m.FeatureNames) > n:
		return fmt.Errorf("detect: %d features, model expects %d (missing %q): %w", len(names), len(m.FeatureNames), m.FeatureNames[n], ErrSchemaMismatch)
	}
	return nil
}

// Reason explains one feature's contribution to an alert.
type Reason struct {
	// Feature is the feature's name.
	Feature string `json:"feature"`
	// Value is the raw value scored.
	Value float64 `json:"value"`
	// Typical and High are the median and 95th percentile of the raw
	// feature in the training data.
	Typical float64 `json:"typical"`
	High    float64 `json:"high"`
	// Z is the value's z-score in preprocessed space (after log1p when the
	// model uses it, before clipping), relative to the training mean and
	// standard deviation. Negative when the value is below normal.
	Z float64 `json:"z"`
}

// Explain returns the k features of raw that deviate most from the training
// data, by |Z| in decreasing order (ties by feature order). Deviations in
// both directions are reported: a missing reply is as telling as a flood;
// the sign of Z says which. k ≤ 0 or k > m.Dim() returns every feature.
// Explain allocates its result and panics if len(raw) != m.Dim().
func (m *Model) Explain(raw []float64, k int) []Reason {
	if len(raw) != len(m.FeatureNames) {
		panic(fmt.Sprintf("detect: input has %d features, model %d", len(raw), len(m.FeatureNames)))
	}
	rs := make([]Reason, len(raw))
	p := &m.Preprocess
	for i, v := range raw {
		rs[i] = Reason{
			Feature: m.FeatureNames[i],
			Value:   v,
			Z:       (p.transform1(v) - p.Mean[i]) / p.Std[i],
		}
		if i < len(m.RawMedian) {
			rs[i].Typical = m.RawMedian[i]
		}
		if i < len(m.RawP95) {
			rs[i].High = m.RawP95[i]
		}
	}
	sort.SliceStable(rs, func(a, b int) bool { return math.Abs(rs[a].Z) > math.Abs(rs[b].Z) })
	if k > 0 && k < len(rs) {
		rs = rs[:k]
	}
	return rs
}

// Validate checks the model's internal consistency: format version,
// dimensions, finite parameters. ReadModel calls it; errors wrap
// ErrUnsupportedFormat or ErrInvalidModel.
func (m *Model) Validate() error {
	if m.FormatVersion != FormatVersion {
		return fmt.Errorf("detect: model format version %d, this build reads %d: %w", m.FormatVersion, FormatVersion, ErrUnsupportedFormat)
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("detect: "+format+": %w", append(args, ErrInvalidModel)...)
	}
	d := len(m.FeatureNames)
	if d == 0 {
		return bad("no feature names")
	}
	if err := m.Preprocess.validate(d); err != nil {
		return bad("%v", err)
	}
	if !(m.Gamma > 0) || math.IsInf(m.Gamma, 0) {
		return bad("gamma %v", m.Gamma)
	}
	if !(m.Rho > 0) || math.IsInf(m.Rho, 0) {
		return bad("rho %v: must be positive", m.Rho)
	}
	if len(m.SV) == 0 || len(m.SV) != len(m.Alpha) {
		return bad("%d support vectors and %d coefficients", len(m.SV), len(m.Alpha))
	}
	for i, sv := range m.SV {
		if len(sv) != d {
			return bad("support vector %d has %d values, want %d", i, len(sv), d)
		}
		if !(m.Alpha[i] > 0) || m.Alpha[i] > 1 {
			return bad("alpha %d is %v, want (0, 1]", i, m.Alpha[i])
		}
	}
	if math.IsNaN(m.Threshold) || math.IsInf(m.Threshold, 0) {
		return bad("threshold %v", m.Threshold)
	}
	if len(m.RawMedian) != d || len(m.RawP95) != d {
		return bad("%d medians and %d 95th percentiles for %d features", len(m.RawMedian), len(m.RawP95), d)
	}
	return nil
}

// WriteModel validates m and writes it to w as indented JSON.
func WriteModel(w io.Writer, m *Model) error {
	if err := m.Validate(); err != nil {
		return fmt.Errorf("detect: write model: %w", err)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", " ")
	if err := enc.Encode(m); err != nil {
		return fmt.Errorf("detect: write model: %w", err)
	}
	return nil
}

// ReadModel reads one JSON model from r and validates it. Unknown fields
// are ignored; a different FormatVersion is rejected.
func ReadModel(r io.Reader) (*Model, error) {
	var raw json.RawMessage
	if err := json.NewDecoder(r).Decode(&raw); err != nil {
		return nil, fmt.Errorf("detect: read model: %w", err)
	}
	var probe struct {
		Kind string `json:"kind"`
	}
	if json.Unmarshal(raw, &probe) == nil && probe.Kind == TabularKind {
		return nil, fmt.Errorf("detect: read model: a labelled-data model (from `riptide model fit --label-column`), not a window model: evaluate it with `riptide model eval`: %w", ErrInvalidModel)
	}
	var m Model
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("detect: read model: %w", err)
	}
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("detect: read model: %w", err)
	}
	return &m, nil
}
