package detect

import (
	"bufio"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/riptide-nids/riptide/internal/testenv"
)

// readNSLKDD returns the numeric features of every record (the three
// categorical columns dropped) and whether the record is normal traffic.
func readNSLKDD(t testing.TB, name string) (X [][]float64, normal []bool) {
	t.Helper()
	f, err := os.Open(testenv.Datasets(t, "nsl-kdd", name))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		cells := strings.Split(sc.Text(), ",")
		if len(cells) != 43 {
			t.Fatalf("%s:%d: %d fields", name, line, len(cells))
		}
		var row []float64
		for k := 0; k < 41; k++ {
			if k >= 1 && k <= 3 {
				continue
			}
			v, err := strconv.ParseFloat(cells[k], 64)
			if err != nil {
				t.Fatalf("%s:%d: field %d: %v", name, line, k+1, err)
			}
			row = append(row, v)
		}
		X = append(X, row)
		normal = append(normal, cells[41] == "normal")
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return X, normal
}

// TestNSLKDD trains with the default configuration on normal records of the
// NSL-KDD training set and checks, on the test set, that attacks are
// flagged far more often than normal records, and that training stays fast.
func TestNSLKDD(t *testing.T) {
	trainX, trainNormal := readNSLKDD(t, "KDDTrain+_20Percent.txt")
	var benign [][]float64
	for i, x := range trainX {
		if trainNormal[i] {
			benign = append(benign, x)
		}
	}
	start := time.Now()
	m, err := Train(benign, featureNames(len(benign[0])), DefaultTrainConfig())
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)

	testX, testNormal := readNSLKDD(t, "KDDTest+.txt")
	var fp, nNormal, tp, nAttack, tpOwn, fpOwn int
	var normScores, attackScores []float64
	for i, x := range testX {
		s := m.Score(x)
		flagged := m.IsAnomaly(s)
		if testNormal[i] {
			normScores = append(normScores, s)
			if s < 0 {
				fpOwn++
			}
		} else {
			attackScores = append(attackScores, s)
			if s < 0 {
				tpOwn++
			}
		}
		if testNormal[i] {
			nNormal++
			if flagged {
				fp++
			}
		} else {
			nAttack++
			if flagged {
				tp++
			}
		}
	}
	fpr := float64(fp) / float64(nNormal)
	recall := float64(tp) / float64(nAttack)
	auc := rocAUC(attackScores, normScores)
	t.Logf("trained on %d of %d normal records in %v: %d SVs, threshold %.3f; test: %.4f of %d normal and %.3f of %d attacks flagged (own sign: %.3f and %.3f), ROC AUC %.3f",
		m.NTrain, len(benign), took.Round(time.Millisecond), len(m.SV), m.Threshold, fpr, nNormal, recall, nAttack,
		float64(fpOwn)/float64(nNormal), float64(tpOwn)/float64(nAttack), auc)
	if took > 30*time.Second {
		t.Errorf("training took %v", took)
	}
	// KDDTest+ is known to be hard (its normal records drift from the
	// training set); require clear separation, not a benchmark result.
	if recall < 10*fpr || auc < 0.8 {
		t.Errorf("attacks flagged %.3f, normal %.3f, ROC AUC %.3f: no separation", recall, fpr, auc)
	}
}

// rocAUC returns the probability that a random positive scores lower (more
// anomalous) than a random negative, ties counting one half.
func rocAUC(pos, neg []float64) float64 {
	type item struct {
		s   float64
		pos bool
	}
	all := make([]item, 0, len(pos)+len(neg))
	for _, s := range pos {
		all = append(all, item{s, true})
	}
	for _, s := range neg {
		all = append(all, item{s, false})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].s < all[j].s })
	// Sum of ranks of negatives (1-based, ties averaged): Mann-Whitney U.
	var rankSum float64
	for i := 0; i < len(all); {
		j := i
		for j < len(all) && all[j].s == all[i].s {
			j++
		}
		avg := float64(i+j+1) / 2
		for k := i; k < j; k++ {
			if !all[k].pos {
				rankSum += avg
			}
		}
		i = j
	}
	nn, np := float64(len(neg)), float64(len(pos))
	u := rankSum - nn*(nn+1)/2
	return u / (nn * np)
}

func TestRocAUC(t *testing.T) {
	for _, tc := range []struct {
		name     string
		pos, neg []float64
		want     float64
	}{
		{"perfect", []float64{-3, -2}, []float64{1, 2}, 1},
		{"inverted", []float64{1, 2}, []float64{-3, -2}, 0},
		{"ties", []float64{0}, []float64{0}, 0.5},
		{"mixed", []float64{-1, 1}, []float64{0}, 0.5},
	} {
		if got := rocAUC(tc.pos, tc.neg); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
