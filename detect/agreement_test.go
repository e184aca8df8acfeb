package detect

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// fixtureCase is one reference case written by testdata/gen_fixtures.py.
type fixtureCase struct {
	Nu           float64   `json:"nu"`
	Gamma        float64   `json:"gamma"`
	GammaScale   bool      `json:"gamma_scale"`
	Preprocessed bool      `json:"preprocessed"`
	NSV          int       `json:"n_sv"`
	Rho          float64   `json:"rho"`
	LibsvmRho    *float64  `json:"libsvm_rho"`
	Decision     []float64 `json:"decision"`
	RhoNoShrink  float64   `json:"rho_noshrink"`
	DecisionNS   []float64 `json:"decision_noshrink"`
}

func readCSVFile(t testing.TB, path string) ([]string, [][]float64) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	names, X, err := ReadCSV(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return names, X
}

// TestAgreementWithSklearn checks that decision values and ρ agree with
// scikit-learn's OneClassSVM (and ρ with LIBSVM's svm-train) within 1e-3.
func TestAgreementWithSklearn(t *testing.T) {
	const tol = 1e-3
	for _, name := range []string{"blobs2d", "outliers10d", "netcounts"} {
		raw, err := os.ReadFile(filepath.Join("testdata", name+".json"))
		if err != nil {
			t.Fatal(err)
		}
		var fx struct {
			Sklearn string        `json:"sklearn"`
			Cases   []fixtureCase `json:"cases"`
		}
		if err := json.Unmarshal(raw, &fx); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		names, train := readCSVFile(t, filepath.Join("testdata", name+"_train.csv"))
		_, test := readCSVFile(t, filepath.Join("testdata", name+"_test.csv"))
		for _, c := range fx.Cases {
			gname := fmt.Sprint(c.Gamma)
			if c.GammaScale {
				gname = "scale"
			}
			t.Run(fmt.Sprintf("%s/nu=%g/gamma=%s", name, c.Nu, gname), func(t *testing.T) {
				var decide func([]float64) float64
				var rho float64
				var nSV int
				if c.Preprocessed {
					cfg := DefaultTrainConfig()
					cfg.Nu = c.Nu
					if !c.GammaScale {
						cfg.Gamma = c.Gamma
					}
					m, err := Fit(train, names, cfg)
					if err != nil {
						t.Fatal(err)
					}
					if c.GammaScale && math.Abs(m.Gamma-c.Gamma) > 1e-9*c.Gamma {
						t.Errorf("gamma scale: got %v, sklearn %v", m.Gamma, c.Gamma)
					}
					decide, rho, nSV = m.Decision, m.Rho, len(m.SV)
				} else {
					gamma := c.Gamma
					if c.GammaScale {
						_, Z := fitPreprocess(train, false, ScaleNone)
						gamma = scaleGamma(Z)
						if math.Abs(gamma-c.Gamma) > 1e-9*c.Gamma {
							t.Errorf("gamma scale: got %v, sklearn %v", gamma, c.Gamma)
						}
					}
					s, err := FitOCSVM(train, c.Nu, gamma)
					if err != nil {
						t.Fatal(err)
					}
					decide, rho, nSV = s.Decision, s.Rho, len(s.SV)
				}
				if len(c.Decision) != len(test) || len(c.DecisionNS) != len(test) {
					t.Fatalf("%d and %d reference values for %d test rows", len(c.Decision), len(c.DecisionNS), len(test))
				}
				maxDiff, maxDiffNS := 0.0, 0.0
				for i, x := range test {
					f := decide(x)
					maxDiff = max(maxDiff, math.Abs(f-c.Decision[i]))
					maxDiffNS = max(maxDiffNS, math.Abs(f-c.DecisionNS[i]))
				}
				rhoDiff := math.Abs(rho - c.Rho)
				rhoDiffNS := math.Abs(rho - c.RhoNoShrink)
				libDiff := math.NaN()
				if c.LibsvmRho != nil {
					libDiff = math.Abs(rho - *c.LibsvmRho)
				}
				t.Logf("gamma=%.6g preprocessed=%v: max |decision diff| %.3g (sklearn shrinking=False %.3g), |rho diff| %.3g (shrinking=False %.3g, svm-train -h 0 %.3g), SVs %d (sklearn %d)",
					c.Gamma, c.Preprocessed, maxDiff, maxDiffNS, rhoDiff, rhoDiffNS, libDiff, nSV, c.NSV)
				if maxDiff > tol || maxDiffNS > tol {
					t.Errorf("max |decision diff| %v, without shrinking %v: want <= %v", maxDiff, maxDiffNS, tol)
				}
				if rhoDiff > tol || rhoDiffNS > tol {
					t.Errorf("rho %v, sklearn %v, without shrinking %v", rho, c.Rho, c.RhoNoShrink)
				}
				if libDiff > tol {
					t.Errorf("rho %v, svm-train %v", rho, *c.LibsvmRho)
				}
			})
		}
	}
}
