package detect

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"time"
)

// TabularFormatVersion is the version of the labelled-data model format
// (TabularModel) this build writes and reads.
const TabularFormatVersion = 1

// TabularKind marks a TabularModel file, to tell it from a window Model.
const TabularKind = "riptide-tabular-model"

// Modes of a TabularModel.
const (
	// ModeOneClass models learn the normal rows only.
	ModeOneClass = "one-class"
	// ModeSupervised models learn normal and attack rows.
	ModeSupervised = "supervised"
)

// Scorers of a one-class detector.
const (
	// ScorerExact is the exact ν one-class SVM (Model).
	ScorerExact = "exact"
	// ScorerRFF is the linear one-class SVM on random Fourier features.
	ScorerRFF = "rff"
	// ScorerAuto picks RFF when its validation ROC AUC is within 0.005 of
	// the exact model's, and the exact model otherwise.
	ScorerAuto = "auto"
)

// OneClass is a one-class detector on encoded features: the exact SVM and
// its RFF challenger, trained on the same rows with the same ν and γ, and
// which of them decides. Scores are lower for more anomalous rows; a row is
// flagged when its score is below Threshold.
type OneClass struct {
	// Use is ScorerExact or ScorerRFF: the scorer that decides.
	Use string `json:"use"`
	// Exact is the exact model; its own Threshold is unused here.
	Exact *Model `json:"exact"`
	// RFF is the challenger and RFFPre its preprocessing (the same
	// standardisation as Exact's).
	RFF *Linear `json:"rff,omitempty"`
	// Threshold applies to the score of the scorer in Use.
	Threshold float64 `json:"threshold"`
	// ThresholdRFF applies to the RFF score when both are reported.
	ThresholdRFF float64 `json:"threshold_rff"`
}

// ScoreExact returns the exact model's log-sum-exp score.
func (o *OneClass) ScoreExact(x []float64) float64 { return o.Exact.Score(x) }

// ScoreRFF returns the RFF challenger's score w·z(x) − ρ.
func (o *OneClass) ScoreRFF(x []float64) float64 {
	d := len(x)
	var buf [stackDim]float64
	var z []float64
	if d <= stackDim {
		z = buf[:d]
	} else {
		z = make([]float64, d)
	}
	o.Exact.Preprocess.apply(z, x)
	return o.RFF.Score(z)
}

// Score returns the deciding scorer's score minus its threshold: negative
// means anomalous.
func (o *OneClass) Score(x []float64) float64 {
	if o.Use == ScorerRFF {
		return o.ScoreRFF(x) - o.ThresholdRFF
	}
	return o.ScoreExact(x) - o.Threshold
}

// Supervised is a class-weighted linear SVM on random Fourier features of
// the standardised encoded features; its score is positive for normal rows.
type Supervised struct {
	Preprocess Preprocess `json:"preprocess"`
	SVM        *Linear    `json:"svm"`
	// Lambda is the regularisation it was trained with.
	Lambda float64 `json:"lambda"`
}

// Score returns the SVM's decision value: negative means attack.
func (s *Supervised) Score(x []float64) float64 {
	d := len(x)
	var buf [stackDim]float64
	var z []float64
	if d <= stackDim {
		z = buf[:d]
	} else {
		z = make([]float64, d)
	}
	s.Preprocess.apply(z, x)
	return s.SVM.Score(z)
}

// Candidate is one hyper-parameter setting tried during model selection,
// with its validation results (on training data only).
type Candidate struct {
	Scorer string  `json:"scorer"`
	Nu     float64 `json:"nu,omitempty"`
	Gamma  float64 `json:"gamma"`
	Lambda float64 `json:"lambda,omitempty"`
	// ValROCAUC is the ROC AUC on the validation rows (one-class: held-out
	// normal rows and the training file's attack rows); ValAccuracy is the
	// k-fold cross-validated accuracy (supervised).
	ValROCAUC   float64 `json:"val_roc_auc,omitempty"`
	ValF1       float64 `json:"val_f1,omitempty"`
	ValAccuracy float64 `json:"val_accuracy,omitempty"`
	Chosen      bool    `json:"chosen,omitempty"`
}

// TabularModel is a self-describing model trained on a labelled table:
// encoding (schema, vocabularies, log1p), preprocessing, hyper-parameters
// and how they were chosen, SVM coefficients or RFF weights (with seed),
// thresholds, what it was trained on and the code that trained it.
type TabularModel struct {
	Kind          string `json:"kind"`
	FormatVersion int    `json:"format_version"`
	// SchemaID is Encoding.SchemaID().
	SchemaID string    `json:"schema_id"`
	Mode     string    `json:"mode"`
	Encoding *Encoding `json:"encoding"`
	// OneClass is the novelty detector, trained on normal rows only. In a
	// supervised model it flags what the SVM has never seen (an attack is
	// flagged when either flags it); nil for a supervised model without it.
	OneClass *OneClass `json:"one_class,omitempty"`
	// Supervised is set in ModeSupervised.
	Supervised *Supervised `json:"supervised,omitempty"`
	// Selection lists every candidate tried and how the threshold was set.
	Selection       []Candidate `json:"selection"`
	ThresholdMethod string      `json:"threshold_method"`
	// TrainSource names the training data; TrainRows and TrainNormal count
	// its rows and normal rows; HeldOut counts normal rows held out for
	// validation.
	TrainSource string    `json:"train_source"`
	TrainRows   int       `json:"train_rows"`
	TrainNormal int       `json:"train_normal"`
	HeldOut     int       `json:"held_out"`
	CreatedAt   time.Time `json:"created_at"`
	CodeVersion string    `json:"code_version"`
}

// Score returns the model's score of an encoded row: negative means attack.
// A supervised model with a novelty detector returns the smaller of the two
// scores.
func (m *TabularModel) Score(x []float64) float64 {
	switch {
	case m.Supervised != nil && m.OneClass != nil:
		return min(m.Supervised.Score(x), m.OneClass.Score(x))
	case m.Supervised != nil:
		return m.Supervised.Score(x)
	default:
		return m.OneClass.Score(x)
	}
}

// Validate checks the model's consistency; errors wrap ErrInvalidModel or
// ErrUnsupportedFormat.
func (m *TabularModel) Validate() error {
	if m.Kind != TabularKind {
		return fmt.Errorf("detect: kind %q is not a labelled-data model (%q): a window model from `riptide model fit --csv` without --label-column, or the trainer, scores with `riptide model score`: %w", m.Kind, TabularKind, ErrInvalidModel)
	}
	if m.FormatVersion != TabularFormatVersion {
		return fmt.Errorf("detect: labelled-data model format %d, this build reads %d: %w", m.FormatVersion, TabularFormatVersion, ErrUnsupportedFormat)
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("detect: "+format+": %w", append(args, ErrInvalidModel)...)
	}
	if m.Encoding == nil {
		return bad("no encoding")
	}
	if err := m.Encoding.validate(); err != nil {
		return bad("%v", err)
	}
	if m.SchemaID != m.Encoding.SchemaID() {
		return bad("schema id %q does not match its encoding (%q): the file was edited", m.SchemaID, m.Encoding.SchemaID())
	}
	d := m.Encoding.Dim()
	if m.OneClass == nil && m.Supervised == nil {
		return bad("neither a one-class nor a supervised detector")
	}
	if oc := m.OneClass; oc != nil {
		if oc.Exact == nil {
			return bad("one-class detector without its exact model")
		}
		if err := oc.Exact.Validate(); err != nil {
			return err
		}
		if err := oc.Exact.Check(m.Encoding.FeatureNames()); err != nil {
			return bad("exact model: %v", err)
		}
		if oc.Use != ScorerExact && oc.Use != ScorerRFF {
			return bad("one-class scorer %q", oc.Use)
		}
		if oc.RFF != nil {
			if err := oc.RFF.validate(); err != nil {
				return bad("%v", err)
			}
			if oc.RFF.Map.In != d {
				return bad("rff input dimension %d, encoding %d", oc.RFF.Map.In, d)
			}
		} else if oc.Use == ScorerRFF {
			return bad("scorer rff without rff weights")
		}
	}
	if s := m.Supervised; s != nil {
		if err := s.Preprocess.validate(d); err != nil {
			return bad("%v", err)
		}
		if s.SVM == nil {
			return bad("supervised detector without weights")
		}
		if err := s.SVM.validate(); err != nil {
			return bad("%v", err)
		}
		if s.SVM.Map.In != d {
			return bad("svm input dimension %d, encoding %d", s.SVM.Map.In, d)
		}
	}
	return nil
}

// CheckSchema returns nil if enc encodes as the model does, and otherwise
// an error wrapping ErrSchemaMismatch.
func (m *TabularModel) CheckSchema(enc *Encoding) error {
	if enc.SchemaID() != m.SchemaID {
		return fmt.Errorf("detect: data schema %s, model schema %s: %w", enc.SchemaID(), m.SchemaID, ErrSchemaMismatch)
	}
	return nil
}

// WriteTabularModel validates m and writes it as indented JSON.
func WriteTabularModel(w io.Writer, m *TabularModel) error {
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

// ReadTabularModel reads and validates a TabularModel.
func ReadTabularModel(r io.Reader) (*TabularModel, error) {
	var m TabularModel
	if err := json.NewDecoder(r).Decode(&m); err != nil {
		return nil, fmt.Errorf("detect: read model: %w", err)
	}
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("detect: read model: %w", err)
	}
	return &m, nil
}

// TabularConfig configures FitTabular. Start from DefaultTabularConfig.
type TabularConfig struct {
	// Supervised trains a class-weighted SVM on all rows; otherwise only
	// the normal rows are learnt.
	Supervised bool
	// Novelty adds, to a supervised model, the one-class detector trained
	// on the normal rows (an attack is flagged when either flags it).
	Novelty bool
	// Scorer is ScorerExact, ScorerRFF or ScorerAuto for the one-class
	// detector.
	Scorer string
	// Nus and GammaFactors span the one-class grid; γ is a factor times
	// scikit-learn's "scale" (1/(d·Var)) of the standardised training rows.
	Nus          []float64
	GammaFactors []float64
	// Lambdas and SupGammaFactors span the supervised grid.
	Lambdas         []float64
	SupGammaFactors []float64
	// HoldOut is the share of normal rows held out for validation.
	HoldOut float64
	// Folds is k of the supervised k-fold cross-validation.
	Folds int
	// TargetFPR sets the threshold at this quantile of held-out normal
	// scores when the training data has no attack rows.
	TargetFPR float64
	// RFFDim is the number of random features; Epochs the SGD passes.
	RFFDim int
	Epochs int
	// MaxSamples caps the rows the exact one-class SVM learns (0: no cap).
	MaxSamples int
	// Seed drives splits, random features and SGD.
	Seed uint64
}

// DefaultTabularConfig returns the defaults used by `riptide model fit`.
func DefaultTabularConfig() TabularConfig {
	return TabularConfig{
		Novelty:         true,
		Scorer:          ScorerAuto,
		Nus:             []float64{0.01, 0.05},
		GammaFactors:    []float64{1, 3, 10},
		Lambdas:         []float64{1e-4, 1e-5},
		SupGammaFactors: []float64{1, 3},
		HoldOut:         0.2,
		Folds:           3,
		TargetFPR:       0.01,
		RFFDim:          1024,
		Epochs:          20,
		MaxSamples:      20000,
		Seed:            1,
	}
}

// Validate names the first bad field.
func (c TabularConfig) Validate() error {
	bad := func(field string, v any, want string) error {
		return fmt.Errorf("detect: config %s = %v: %s: %w", field, v, want, ErrInvalidConfig)
	}
	pos := func(s []float64) bool {
		for _, v := range s {
			if !(v > 0) || math.IsInf(v, 0) {
				return false
			}
		}
		return len(s) > 0
	}
	switch {
	case c.Scorer != ScorerExact && c.Scorer != ScorerRFF && c.Scorer != ScorerAuto:
		return bad("Scorer", c.Scorer, "want exact, rff or auto")
	case !pos(c.Nus) || slices.Max(c.Nus) > 1:
		return bad("Nus", c.Nus, "want values in (0, 1]")
	case !pos(c.GammaFactors):
		return bad("GammaFactors", c.GammaFactors, "want positive values")
	case !pos(c.Lambdas):
		return bad("Lambdas", c.Lambdas, "want positive values")
	case !pos(c.SupGammaFactors):
		return bad("SupGammaFactors", c.SupGammaFactors, "want positive values")
	case !(c.HoldOut > 0 && c.HoldOut < 1):
		return bad("HoldOut", c.HoldOut, "want 0 < share < 1")
	case c.Folds < 2:
		return bad("Folds", c.Folds, "want at least 2")
	case !(c.TargetFPR > 0 && c.TargetFPR < 1):
		return bad("TargetFPR", c.TargetFPR, "want 0 < rate < 1")
	case c.RFFDim < 1 || c.Epochs < 1:
		return bad("RFFDim/Epochs", fmt.Sprint(c.RFFDim, "/", c.Epochs), "want positive")
	case c.MaxSamples < 0:
		return bad("MaxSamples", c.MaxSamples, "want 0 or more")
	}
	return nil
}

// FitTabular trains a model on the table t with label column label (value
// normal for normal rows), leaving out the ignored columns. Every choice is
// made on t alone:
//
// One-class: a share HoldOut of the normal rows is held out; for every ν
// and γ of the grid, the exact SVM and its RFF challenger are fitted on the
// rest and scored on the held-out normal rows and t's attack rows. The
// candidate with the best validation ROC AUC wins; the threshold is the one
// that maximises F1 on those validation rows. Without attack rows in t, the
// first ν and γ factor are used and the threshold is the TargetFPR quantile
// of the held-out normal scores.
//
// Supervised: λ and γ of the Pegasos SVM on random features are chosen by
// k-fold cross-validated accuracy, and the SVM is refitted on all rows; with
// Novelty, the one-class detector above is added.
func FitTabular(t *Table, source, label, normal string, ignore []string, cfg TabularConfig) (*TabularModel, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	li := t.Index(label)
	if li < 0 {
		return nil, fmt.Errorf("detect: label column %q is not among the columns %v: %w", label, t.Columns, ErrInvalidInput)
	}
	var normalRows, all []int
	for i, rec := range t.Rows {
		all = append(all, i)
		if rec[li] == normal {
			normalRows = append(normalRows, i)
		}
	}
	if len(normalRows) < 10 {
		return nil, fmt.Errorf("detect: %d rows with %s = %q, want at least 10 normal rows (check --normal): %w", len(normalRows), label, normal, ErrInvalidInput)
	}
	encRows := normalRows
	if cfg.Supervised {
		encRows = all
	}
	enc, err := InferEncoding(t, encRows, label, normal, ignore)
	if err != nil {
		return nil, err
	}
	data, err := enc.Encode(t)
	if err != nil {
		return nil, err
	}
	m := &TabularModel{
		Kind:          TabularKind,
		FormatVersion: TabularFormatVersion,
		SchemaID:      enc.SchemaID(),
		Mode:          ModeOneClass,
		Encoding:      enc,
		TrainSource:   source,
		TrainRows:     len(t.Rows),
		TrainNormal:   len(normalRows),
		CreatedAt:     time.Now().UTC(),
		CodeVersion:   codeVersion(),
	}
	if cfg.Supervised {
		m.Mode = ModeSupervised
		if err := fitSupervised(m, data, cfg); err != nil {
			return nil, err
		}
		if !cfg.Novelty {
			return m, nil
		}
	}
	if err := fitOneClass(m, data, cfg); err != nil {
		return nil, err
	}
	return m, nil
}

// fitOneClass selects and fits the one-class detector of m.
func fitOneClass(m *TabularModel, data *Encoded, cfg TabularConfig) error {
	names := m.Encoding.FeatureNames()
	var normalX, attackX [][]float64
	for i, x := range data.X {
		if data.Attack[i] {
			attackX = append(attackX, x)
		} else {
			normalX = append(normalX, x)
		}
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x401d))
	perm := rng.Perm(len(normalX))
	nHold := max(1, int(cfg.HoldOut*float64(len(normalX))))
	var fitX, holdX [][]float64
	for k, i := range perm {
		if k < nHold {
			holdX = append(holdX, normalX[i])
		} else {
			fitX = append(fitX, normalX[i])
		}
	}
	fitX = subsample(fitX, cfg.MaxSamples, cfg.Seed)
	m.HeldOut = len(holdX)
	valX := append(slices.Clone(holdX), attackX...)
	valAttack := make([]bool, len(valX))
	for i := len(holdX); i < len(valX); i++ {
		valAttack[i] = true
	}
	_, Zfit := fitPreprocess(fitX, false, ScaleStandard)
	scale := scaleGamma(Zfit)

	type result struct {
		cand                  Candidate
		oc                    *OneClass
		exactScores, rffScore []float64
		aucExact, aucRFF      float64
		err                   error
	}
	nus, gfs := cfg.Nus, cfg.GammaFactors
	if len(attackX) == 0 {
		nus, gfs = nus[:1], gfs[:1]
	}
	var grid []result
	for _, gf := range gfs {
		for _, nu := range nus {
			grid = append(grid, result{cand: Candidate{Nu: nu, Gamma: gf * scale}})
		}
	}
	work := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < min(runtime.GOMAXPROCS(0), len(grid)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for gi := range work {
				r := &grid[gi]
				tc := DefaultTrainConfig()
				tc.Nu, tc.Gamma, tc.Log1p = r.cand.Nu, r.cand.Gamma, false
				tc.CacheMB = max(DefaultCacheMB/runtime.GOMAXPROCS(0), 16)
				ex, err := Fit(fitX, names, tc)
				if err != nil {
					r.err = err
					continue
				}
				ex.SchemaID = m.SchemaID
				oc := &OneClass{Use: ScorerExact, Exact: ex}
				rff, err := fitRFFOneClass(fitX, ex, cfg)
				if err != nil {
					r.err = err
					continue
				}
				oc.RFF = rff
				r.oc = oc
				r.exactScores = make([]float64, len(valX))
				r.rffScore = make([]float64, len(valX))
				for i, x := range valX {
					r.exactScores[i] = oc.ScoreExact(x)
					r.rffScore[i] = oc.ScoreRFF(x)
				}
				if len(attackX) > 0 {
					r.aucExact, _ = aucs(r.exactScores, valAttack)
					r.aucRFF, _ = aucs(r.rffScore, valAttack)
				}
			}
		}()
	}
	for i := range grid {
		work <- i
	}
	close(work)
	wg.Wait()
	best, bestAUC := -1, math.Inf(-1)
	for i := range grid {
		if grid[i].err != nil {
			return fmt.Errorf("detect: one-class nu %g gamma %g: %w", grid[i].cand.Nu, grid[i].cand.Gamma, grid[i].err)
		}
		auc := grid[i].aucExact
		if cfg.Scorer == ScorerRFF {
			auc = grid[i].aucRFF
		}
		if auc > bestAUC {
			best, bestAUC = i, auc
		}
	}
	r := grid[best]
	oc := r.oc
	switch cfg.Scorer {
	case ScorerRFF:
		oc.Use = ScorerRFF
	case ScorerAuto:
		if len(attackX) > 0 && r.aucRFF >= r.aucExact-0.005 {
			oc.Use = ScorerRFF
		}
	}
	if len(attackX) > 0 {
		m.ThresholdMethod = fmt.Sprintf("maximal F1 on %d held-out normal and %d attack rows of the training data", len(holdX), len(attackX))
		oc.Threshold, _ = BestF1Threshold(r.exactScores, valAttack)
		oc.ThresholdRFF, _ = BestF1Threshold(r.rffScore, valAttack)
	} else {
		m.ThresholdMethod = fmt.Sprintf("%g quantile of the scores of %d held-out normal rows (no attack rows to validate on)", cfg.TargetFPR, len(holdX))
		oc.Threshold = quantileOf(r.exactScores, cfg.TargetFPR)
		oc.ThresholdRFF = quantileOf(r.rffScore, cfg.TargetFPR)
	}
	oc.Exact.Threshold = oc.Threshold
	for i := range grid {
		g := grid[i]
		for _, sc := range []struct {
			name   string
			auc    float64
			scores []float64
		}{{ScorerExact, g.aucExact, g.exactScores}, {ScorerRFF, g.aucRFF, g.rffScore}} {
			c := g.cand
			c.Scorer = sc.name
			if len(attackX) > 0 {
				c.ValROCAUC = sc.auc
				_, c.ValF1 = BestF1Threshold(sc.scores, valAttack)
			}
			c.Chosen = i == best && sc.name == oc.Use
			m.Selection = append(m.Selection, c)
		}
	}
	m.OneClass = oc
	return nil
}

// fitRFFOneClass trains the RFF challenger on the exact model's
// standardised rows with its ν and γ.
func fitRFFOneClass(X [][]float64, ex *Model, cfg TabularConfig) (*Linear, error) {
	Z := make([][]float64, len(X))
	for i, x := range X {
		Z[i] = make([]float64, len(x))
		ex.Preprocess.apply(Z[i], x)
	}
	mp, err := NewSORF(len(X[0]), cfg.RFFDim, ex.Gamma, cfg.Seed)
	if err != nil {
		return nil, err
	}
	w, b, err := FitSGDOneClass(mp.mapAll(Z), ex.Nu, SGDConfig{Epochs: cfg.Epochs, Seed: cfg.Seed})
	if err != nil {
		return nil, err
	}
	return &Linear{Map: mp, W: w, Bias: b}, nil
}

// fitSupervised selects λ and γ by k-fold accuracy and fits the SVM.
func fitSupervised(m *TabularModel, data *Encoded, cfg TabularConfig) error {
	pre, Z := fitPreprocess(data.X, false, ScaleStandard)
	y := make([]float64, len(Z))
	for i, a := range data.Attack {
		y[i] = 1
		if a {
			y[i] = -1
		}
	}
	scale := scaleGamma(Z)
	rng := rand.New(rand.NewPCG(cfg.Seed, 0xcf01d))
	fold := make([]int, len(Z))
	for pos, i := range rng.Perm(len(Z)) {
		fold[i] = pos % cfg.Folds
	}
	type job struct {
		cand Candidate
		err  error
	}
	var grid []job
	for _, gf := range cfg.SupGammaFactors {
		for _, l := range cfg.Lambdas {
			grid = append(grid, job{cand: Candidate{Scorer: ScorerRFF, Gamma: gf * scale, Lambda: l}})
		}
	}
	sgd := SGDConfig{Epochs: cfg.Epochs, Seed: cfg.Seed}
	work := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < min(runtime.GOMAXPROCS(0), len(grid)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for gi := range work {
				j := &grid[gi]
				mp, err := NewSORF(len(Z[0]), cfg.RFFDim, j.cand.Gamma, cfg.Seed)
				if err != nil {
					j.err = err
					continue
				}
				F := mp.mapAll(Z)
				correct := 0
				for k := 0; k < cfg.Folds; k++ {
					var fz [][]float64
					var fy []float64
					for i := range F {
						if fold[i] != k {
							fz = append(fz, F[i])
							fy = append(fy, y[i])
						}
					}
					w, b, err := FitPegasos(fz, fy, j.cand.Lambda, sgd)
					if err != nil {
						j.err = err
						break
					}
					for i := range F {
						if fold[i] == k && (dot(w, F[i])+b >= 0) == (y[i] > 0) {
							correct++
						}
					}
				}
				j.cand.ValAccuracy = float64(correct) / float64(len(F))
			}
		}()
	}
	for i := range grid {
		work <- i
	}
	close(work)
	wg.Wait()
	best := -1
	for i, j := range grid {
		if j.err != nil {
			return fmt.Errorf("detect: supervised gamma %g lambda %g: %w", j.cand.Gamma, j.cand.Lambda, j.err)
		}
		if best < 0 || j.cand.ValAccuracy > grid[best].cand.ValAccuracy {
			best = i
		}
	}
	grid[best].cand.Chosen = true
	c := grid[best].cand
	for _, j := range grid {
		m.Selection = append(m.Selection, j.cand)
	}
	mp, err := NewSORF(len(Z[0]), cfg.RFFDim, c.Gamma, cfg.Seed)
	if err != nil {
		return err
	}
	w, b, err := FitPegasos(mp.mapAll(Z), y, c.Lambda, sgd)
	if err != nil {
		return err
	}
	m.Supervised = &Supervised{Preprocess: pre, SVM: &Linear{Map: mp, W: w, Bias: b}, Lambda: c.Lambda}
	return nil
}

// quantileOf returns the p quantile of s (not modified).
func quantileOf(s []float64, p float64) float64 {
	c := slices.Clone(s)
	slices.Sort(c)
	return quantileSorted(c, p)
}
