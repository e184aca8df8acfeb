package detect

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"runtime/debug"
	"slices"
	"sort"
	"sync"
	"time"
)

// TrainConfig configures Fit and Train. Start from DefaultTrainConfig; the
// zero value is not valid.
type TrainConfig struct {
	// Nu is the SVM's ν in (0, 1]: an upper bound on the fraction of
	// training points outside the boundary.
	Nu float64 `yaml:"nu" json:"nu"`
	// Gamma is the RBF kernel parameter; 0 selects "scale", 1/(d·Var) over
	// all entries of the preprocessed training matrix.
	Gamma float64 `yaml:"gamma" json:"gamma"`
	// Log1p applies sign(x)·log1p(|x|) to raw values first.
	Log1p bool `yaml:"log1p" json:"log1p"`
	// Scale is ScaleStandard or ScaleNone.
	Scale string `yaml:"scale" json:"scale"`
	// TargetFPR is the fraction of benign windows the calibrated threshold
	// may flag, in (0, 1). Train only.
	TargetFPR float64 `yaml:"target_fpr" json:"target_fpr"`
	// MaxSamples caps the training rows; larger sets are subsampled
	// deterministically (from Seed). 0 means no cap. Train only.
	MaxSamples int `yaml:"max_samples" json:"max_samples"`
	// Folds and Repeats define the repeated k-fold calibration: Folds ≥ 2,
	// Repeats ≥ 1. Train only.
	Folds   int `yaml:"folds" json:"folds"`
	Repeats int `yaml:"repeats" json:"repeats"`
	// Seed drives subsampling and fold assignment.
	Seed uint64 `yaml:"seed" json:"seed"`
	// CacheMB is the total kernel cache budget in megabytes, shared by the
	// calibration fits that run in parallel.
	CacheMB int `yaml:"cache_mb" json:"cache_mb"`
}

// DefaultTrainConfig returns the defaults: ν 0.02, γ "scale", log1p and
// standard scaling, target false-positive rate 0.5%, at most 3000 samples,
// 5 folds repeated 3 times, seed 1, 200 MB of kernel cache.
func DefaultTrainConfig() TrainConfig {
	return TrainConfig{
		Nu:         0.02,
		Gamma:      0,
		Log1p:      true,
		Scale:      ScaleStandard,
		TargetFPR:  0.005,
		MaxSamples: 3000,
		Folds:      5,
		Repeats:    3,
		Seed:       1,
		CacheMB:    DefaultCacheMB,
	}
}

// Validate returns an error wrapping ErrInvalidConfig that names the first
// bad field, or nil.
func (c TrainConfig) Validate() error {
	bad := func(field string, v any, want string) error {
		return fmt.Errorf("detect: config %s = %v: %s: %w", field, v, want, ErrInvalidConfig)
	}
	switch {
	case !(c.Nu > 0 && c.Nu <= 1):
		return bad("Nu", c.Nu, "want 0 < nu <= 1")
	case !(c.Gamma >= 0) || math.IsInf(c.Gamma, 0):
		return bad("Gamma", c.Gamma, "want 0 (scale) or a positive number")
	case c.Scale != ScaleStandard && c.Scale != ScaleNone:
		return bad("Scale", fmt.Sprintf("%q", c.Scale), fmt.Sprintf("want %q or %q", ScaleStandard, ScaleNone))
	case !(c.TargetFPR > 0 && c.TargetFPR < 1):
		return bad("TargetFPR", c.TargetFPR, "want 0 < rate < 1")
	case c.MaxSamples < 0:
		return bad("MaxSamples", c.MaxSamples, "want 0 (no cap) or more")
	case c.Folds < 2:
		return bad("Folds", c.Folds, "want at least 2")
	case c.Repeats < 1:
		return bad("Repeats", c.Repeats, "want at least 1")
	case c.CacheMB < 1:
		return bad("CacheMB", c.CacheMB, "want at least 1")
	}
	return nil
}

// checkInput validates cfg, X and that names has one entry per column.
func checkInput(X [][]float64, names []string, cfg TrainConfig) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	d, err := checkMatrix(X)
	if err != nil {
		return err
	}
	if len(names) != d {
		return fmt.Errorf("detect: %d feature names for %d columns: %w", len(names), d, ErrInvalidInput)
	}
	return nil
}

// Fit fits the preprocessing and the one-class SVM on all rows of X, with
// cfg's Nu, Gamma, Log1p, Scale and CacheMB, and returns a model whose
// Threshold is 0: the SVM's own boundary. It neither subsamples nor
// calibrates; see Train. names must have one entry per column of X.
func Fit(X [][]float64, names []string, cfg TrainConfig) (*Model, error) {
	if err := checkInput(X, names, cfg); err != nil {
		return nil, err
	}
	return fit(X, names, cfg, cfg.CacheMB)
}

// fit is Fit on checked input.
func fit(X [][]float64, names []string, cfg TrainConfig, cacheMB int) (*Model, error) {
	if len(X) < 2 {
		return nil, fmt.Errorf("detect: %d training rows, want at least 2: %w", len(X), ErrInvalidInput)
	}
	pre, Z := fitPreprocess(X, cfg.Log1p, cfg.Scale)
	gamma := cfg.Gamma
	if gamma == 0 {
		gamma = scaleGamma(Z)
	}
	s, err := FitOCSVM(Z, cfg.Nu, gamma, WithCacheMB(cacheMB))
	if err != nil {
		return nil, err
	}
	if !(s.Rho > 0) {
		return nil, fmt.Errorf("detect: rho %v is not positive: %w", s.Rho, ErrNotConverged)
	}
	m := &Model{
		FormatVersion: FormatVersion,
		FeatureNames:  slices.Clone(names),
		Preprocess:    pre,
		Gamma:         gamma,
		GammaScale:    cfg.Gamma == 0,
		Nu:            cfg.Nu,
		Rho:           s.Rho,
		Alpha:         s.Alpha,
		NTrain:        len(X),
		CreatedAt:     time.Now().UTC(),
		CodeVersion:   codeVersion(),
	}
	// Copy the support vectors out of Z so the model does not pin it.
	d := len(names)
	flat := make([]float64, len(s.SV)*d)
	m.SV = make([][]float64, len(s.SV))
	for i, sv := range s.SV {
		m.SV[i] = flat[i*d : (i+1)*d : (i+1)*d]
		copy(m.SV[i], sv)
	}
	m.RawMedian, m.RawP95 = rawStats(X)
	return m, nil
}

// Train subsamples X to cfg.MaxSamples rows (deterministically from
// cfg.Seed, keeping their order), calibrates the threshold out of sample and
// fits the final model on all the (subsampled) rows.
//
// Calibration is repeated k-fold: for each of cfg.Repeats shuffles, every
// one of cfg.Folds folds is scored with a model fitted (preprocessing, γ and
// SVM) on the other folds; the threshold is the cfg.TargetFPR quantile
// (linear interpolation) of all pooled held-out scores, so that Score <
// Threshold flags about that fraction of windows like the training data.
// The fold fits run on GOMAXPROCS goroutines. The caller sets SchemaID,
// TrainStart and TrainEnd on the result.
func Train(X [][]float64, names []string, cfg TrainConfig) (*Model, error) {
	if err := checkInput(X, names, cfg); err != nil {
		return nil, err
	}
	if len(X) < 2*cfg.Folds {
		return nil, fmt.Errorf("detect: %d training rows, want at least 2·Folds = %d: %w", len(X), 2*cfg.Folds, ErrInvalidInput)
	}
	X = subsample(X, cfg.MaxSamples, cfg.Seed)

	scores, err := calibrate(X, names, cfg)
	if err != nil {
		return nil, err
	}
	m, err := fit(X, names, cfg, cfg.CacheMB)
	if err != nil {
		return nil, fmt.Errorf("detect: final fit: %w", err)
	}
	slices.Sort(scores)
	m.Threshold = quantileSorted(scores, cfg.TargetFPR)
	m.TargetFPR = cfg.TargetFPR
	m.NCalibration = len(scores)
	return m, nil
}

// subsample returns at most n rows of X chosen uniformly without
// replacement from seed, in their original order; n == 0 means all.
func subsample(X [][]float64, n int, seed uint64) [][]float64 {
	if n == 0 || len(X) <= n {
		return X
	}
	rng := rand.New(rand.NewPCG(seed, 0x5eed5a3b1e))
	idx := rng.Perm(len(X))[:n]
	sort.Ints(idx)
	out := make([][]float64, n)
	for i, j := range idx {
		out[i] = X[j]
	}
	return out
}

// calibrate returns the pooled out-of-sample scores of repeated k-fold.
func calibrate(X [][]float64, names []string, cfg TrainConfig) ([]float64, error) {
	l := len(X)
	type job struct{ rep, fold int }
	// fold[r][i] is the fold of row i in repeat r.
	folds := make([][]int, cfg.Repeats)
	for r := range folds {
		rng := rand.New(rand.NewPCG(cfg.Seed, uint64(r)+1))
		perm := rng.Perm(l)
		f := make([]int, l)
		for pos, i := range perm {
			f[i] = pos % cfg.Folds
		}
		folds[r] = f
	}
	jobs := make(chan job)
	scores := make([]float64, cfg.Repeats*l)
	workers := min(runtime.GOMAXPROCS(0), cfg.Folds*cfg.Repeats)
	cacheMB := max(cfg.CacheMB/workers, 1)

	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for jb := range jobs {
				f := folds[jb.rep]
				var trainX [][]float64
				for i, x := range X {
					if f[i] != jb.fold {
						trainX = append(trainX, x)
					}
				}
				m, err := fit(trainX, names, cfg, cacheMB)
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("detect: calibration repeat %d fold %d: %w", jb.rep, jb.fold, err)
					}
					mu.Unlock()
					continue
				}
				for i, x := range X {
					if f[i] == jb.fold {
						scores[jb.rep*l+i] = m.Score(x)
					}
				}
			}
		}()
	}
	for r := 0; r < cfg.Repeats; r++ {
		for k := 0; k < cfg.Folds; k++ {
			jobs <- job{r, k}
		}
	}
	close(jobs)
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	return scores, nil
}

// quantileSorted returns the p quantile of sorted s with linear
// interpolation between order statistics (NumPy's default).
func quantileSorted(s []float64, p float64) float64 {
	if len(s) == 1 {
		return s[0]
	}
	h := p * float64(len(s)-1)
	lo := int(math.Floor(h))
	if lo >= len(s)-1 {
		return s[len(s)-1]
	}
	return s[lo] + (h-float64(lo))*(s[lo+1]-s[lo])
}

// rawStats returns the median and 95th percentile of every column of X.
func rawStats(X [][]float64) (median, p95 []float64) {
	d := len(X[0])
	median = make([]float64, d)
	p95 = make([]float64, d)
	col := make([]float64, len(X))
	for k := 0; k < d; k++ {
		for i, x := range X {
			col[i] = x[k]
		}
		slices.Sort(col)
		median[k] = quantileSorted(col, 0.5)
		p95[k] = quantileSorted(col, 0.95)
	}
	return median, p95
}

// codeVersion returns the main module's version and VCS revision, if the
// binary carries build information.
func codeVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	v := bi.Main.Version
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" {
			v += "+" + s.Value
		}
	}
	return v
}
