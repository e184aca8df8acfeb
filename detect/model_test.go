package detect

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func featureNames(d int) []string {
	names := make([]string, d)
	for k := range names {
		names[k] = fmt.Sprintf("f%d", k)
	}
	return names
}

// countData returns n rows of d non-negative count-like features.
func countData(rng *rand.Rand, n, d int) [][]float64 {
	X := make([][]float64, n)
	for i := range X {
		X[i] = make([]float64, d)
		base := math.Exp(2 + 0.5*rng.NormFloat64())
		for k := range X[i] {
			X[i][k] = math.Round(base * math.Exp(0.3*rng.NormFloat64()) * float64(k%4+1))
		}
	}
	return X
}

func fitCounts(t testing.TB, n, d int) (*Model, [][]float64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(11, 12))
	X := countData(rng, n, d)
	cfg := DefaultTrainConfig()
	cfg.Nu = 0.05
	m, err := Fit(X, featureNames(d), cfg)
	if err != nil {
		t.Fatal(err)
	}
	m.SchemaID = "test-v1"
	return m, X
}

func TestScoreMatchesDecisionSign(t *testing.T) {
	m, X := fitCounts(t, 400, 8)
	rng := rand.New(rand.NewPCG(13, 14))
	for _, x := range append(X[:50], countData(rng, 50, 8)...) {
		f, s := m.Decision(x), m.Score(x)
		// Score = log(f + ρ) − log ρ exactly, so the signs agree.
		if want := math.Log(f+m.Rho) - math.Log(m.Rho); math.Abs(s-want) > 1e-9 {
			t.Fatalf("score %v, log(f+rho)-log(rho) %v", s, want)
		}
		if (f < 0) != (s < 0) {
			t.Fatalf("decision %v and score %v disagree in sign", f, s)
		}
	}
}

func TestScoreRanksFarPoints(t *testing.T) {
	m, _ := fitCounts(t, 400, 8)
	typical := append([]float64(nil), m.RawMedian...)
	prev := m.Score(typical)
	// Up to the clip at ±10 standard deviations (a factor of ~1e3 here)
	// every step out lowers the score; beyond it the score saturates but
	// stays anomalous.
	for _, factor := range []float64{3, 10, 30, 100, 300} {
		x := append([]float64(nil), typical...)
		x[3] *= factor
		s := m.Score(x)
		if !(s < prev) {
			t.Errorf("feature 3 × %g: score %v not below %v", factor, s, prev)
		}
		if factor >= 30 && !m.IsAnomaly(s) {
			t.Errorf("feature 3 × %g: score %v not anomalous at threshold %v", factor, s, m.Threshold)
		}
		prev = s
	}
	if s := m.Score([]float64{0, 0, 0, 1e9, 0, 0, 0, 0}); !m.IsAnomaly(s) || !(s < prev) {
		t.Errorf("extreme point: score %v, want anomalous and below %v", s, prev)
	}
	if m.IsAnomaly(m.Score(typical)) {
		t.Errorf("typical point flagged")
	}
	if !m.IsAnomaly(math.NaN()) {
		t.Errorf("NaN score not flagged")
	}
}

func TestExplainPicksPerturbedFeature(t *testing.T) {
	m, _ := fitCounts(t, 400, 8)
	for _, tc := range []struct {
		name    string
		feature int
		value   float64
		sign    float64
	}{
		{"flood", 5, 1e5, 1},
		{"silence", 2, 0, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x := append([]float64(nil), m.RawMedian...)
			x[tc.feature] = tc.value
			rs := m.Explain(x, 3)
			if len(rs) != 3 {
				t.Fatalf("%d reasons, want 3", len(rs))
			}
			r := rs[0]
			if r.Feature != m.FeatureNames[tc.feature] || r.Value != tc.value || r.Z*tc.sign < 3 {
				t.Errorf("top reason %+v, want %s with z of sign %v", r, m.FeatureNames[tc.feature], tc.sign)
			}
			if r.Typical != m.RawMedian[tc.feature] || r.High != m.RawP95[tc.feature] {
				t.Errorf("typical/high %v/%v, want %v/%v", r.Typical, r.High, m.RawMedian[tc.feature], m.RawP95[tc.feature])
			}
			for i := 1; i < len(rs); i++ {
				if math.Abs(rs[i].Z) > math.Abs(rs[i-1].Z) {
					t.Errorf("reasons not sorted by |z|: %+v", rs)
				}
			}
		})
	}
	if got := len(m.Explain(m.RawMedian, 0)); got != m.Dim() {
		t.Errorf("k=0 gave %d reasons, want all %d", got, m.Dim())
	}
}

func TestModelJSONRoundTrip(t *testing.T) {
	m, X := fitCounts(t, 300, 6)
	m.TrainStart, m.TrainEnd = 1772442000000000000, 1772442900000000000
	var buf bytes.Buffer
	if err := WriteModel(&buf, m); err != nil {
		t.Fatal(err)
	}
	got, err := ReadModel(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if got.SchemaID != m.SchemaID || got.TrainEnd != m.TrainEnd || !got.CreatedAt.Equal(m.CreatedAt) || got.Threshold != m.Threshold {
		t.Errorf("metadata changed: %+v", got)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	for _, x := range append(X[:20], countData(rng, 20, 6)...) {
		if a, b := m.Score(x), got.Score(x); a != b {
			t.Fatalf("score %v after round trip, %v before", b, a)
		}
		if a, b := m.Decision(x), got.Decision(x); a != b {
			t.Fatalf("decision %v after round trip, %v before", b, a)
		}
	}
}

func TestReadModelRejects(t *testing.T) {
	m, _ := fitCounts(t, 100, 3)
	var buf bytes.Buffer
	if err := WriteModel(&buf, m); err != nil {
		t.Fatal(err)
	}
	good := buf.String()
	for _, tc := range []struct {
		name string
		edit func(string) string
		want error
	}{
		{"future version", func(s string) string {
			return strings.Replace(s, `"format_version": 1`, `"format_version": 2`, 1)
		}, ErrUnsupportedFormat},
		{"negative rho", func(s string) string {
			return strings.Replace(s, `"rho": `, `"rho": -`, 1)
		}, ErrInvalidModel},
		{"bad scale", func(s string) string {
			return strings.Replace(s, `"scale": "standard"`, `"scale": "robust"`, 1)
		}, ErrInvalidModel},
		{"missing feature", func(s string) string {
			return strings.Replace(s, `"f0",`, ``, 1)
		}, ErrInvalidModel},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := tc.edit(good)
			if bad == good {
				t.Fatal("edit did not apply")
			}
			_, err := ReadModel(strings.NewReader(bad))
			if !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
		})
	}
	if _, err := ReadModel(strings.NewReader("{")); err == nil {
		t.Error("truncated JSON accepted")
	}
}

// TestReadModelGolden reads a committed model file, so format changes that
// break old files show up here.
func TestReadModelGolden(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "model_v1.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	m, err := ReadModel(f)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Check([]string{"packets", "bytes"}); err != nil {
		t.Fatal(err)
	}
	// Two support vectors at ±1 (preprocessed), α = 1 each, γ = 0.5,
	// ρ = 1: at z = 0 the kernel sum is 2·e^{−0.5}.
	x := []float64{math.Expm1(2), math.Expm1(10)} // log1p → (2, 10) → z = (0, 0)
	want := 2*math.Exp(-0.5) - 1
	if got := m.Decision(x); math.Abs(got-want) > 1e-12 {
		t.Errorf("decision %v, want %v", got, want)
	}
	if got, want := m.Score(x), math.Log(2*math.Exp(-0.5)); math.Abs(got-want) > 1e-12 {
		t.Errorf("score %v, want %v", got, want)
	}
}

func TestCheck(t *testing.T) {
	m := &Model{FeatureNames: []string{"a", "b", "c"}}
	for _, tc := range []struct {
		name  string
		names []string
		want  string
	}{
		{"same", []string{"a", "b", "c"}, ""},
		{"renamed", []string{"a", "x", "c"}, `feature 1 is "x", model expects "b"`},
		{"reordered", []string{"b", "a", "c"}, `feature 0 is "b"`},
		{"extra", []string{"a", "b", "c", "d"}, `extra "d"`},
		{"missing", []string{"a", "b"}, `missing "c"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := m.Check(tc.names)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, ErrSchemaMismatch) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want ErrSchemaMismatch mentioning %s", err, tc.want)
			}
		})
	}
}

func TestScoreConcurrent(t *testing.T) {
	m, X := fitCounts(t, 300, 6)
	want := make([]float64, len(X))
	for i, x := range X {
		want[i] = m.Score(x)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i, x := range X {
				if s := m.Score(x); s != want[i] {
					errs <- fmt.Errorf("row %d: %v, want %v", i, s, want[i])
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestScoreDoesNotAllocate(t *testing.T) {
	m, X := fitCounts(t, 300, 6)
	if n := testing.AllocsPerRun(100, func() { m.Score(X[0]) }); n != 0 {
		t.Errorf("Score allocates %v times", n)
	}
	if n := testing.AllocsPerRun(100, func() { m.Decision(X[0]) }); n != 0 {
		t.Errorf("Decision allocates %v times", n)
	}
}

func TestScoreWideInput(t *testing.T) {
	// More features than the stack buffer holds.
	d := stackDim + 10
	rng := rand.New(rand.NewPCG(21, 22))
	X := gaussian(rng, 200, d, 5, 1)
	cfg := DefaultTrainConfig()
	cfg.Nu = 0.1
	m, err := Fit(X, featureNames(d), cfg)
	if err != nil {
		t.Fatal(err)
	}
	z := make([]float64, d)
	m.Preprocess.apply(z, X[7])
	if got, want := m.Score(X[7]), logKernelSum(z, m.SV, m.Alpha, m.Gamma)-math.Log(m.Rho); got != want {
		t.Errorf("score %v, want %v", got, want)
	}
}
