package detect

import (
	"math"
	"sort"
)

// Metrics are detection-quality measures over labelled rows, with attacks
// (anomalies) as the positive class.
type Metrics struct {
	// TP, FP, TN and FN count rows at the threshold.
	TP int `json:"tp"`
	FP int `json:"fp"`
	TN int `json:"tn"`
	FN int `json:"fn"`
	// Precision, Recall, F1 and Accuracy are computed from the counts; a
	// ratio with a zero denominator is 0.
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	F1        float64 `json:"f1"`
	Accuracy  float64 `json:"accuracy"`
	// ROCAUC is the area under the ROC curve of the scores (ties count one
	// half), PRAUC the average precision (scikit-learn's
	// average_precision_score), both independent of the threshold.
	ROCAUC float64 `json:"roc_auc"`
	PRAUC  float64 `json:"pr_auc"`
}

// Evaluate returns the metrics of scores against attack labels, where a row
// is flagged when its score is below threshold (lower scores are more
// anomalous, as for Model.Score). scores and attack must have the same
// length.
func Evaluate(scores []float64, attack []bool, threshold float64) Metrics {
	var m Metrics
	for i, s := range scores {
		flagged := !(s >= threshold)
		switch {
		case attack[i] && flagged:
			m.TP++
		case attack[i]:
			m.FN++
		case flagged:
			m.FP++
		default:
			m.TN++
		}
	}
	ratio := func(a, b int) float64 {
		if b == 0 {
			return 0
		}
		return float64(a) / float64(b)
	}
	m.Precision = ratio(m.TP, m.TP+m.FP)
	m.Recall = ratio(m.TP, m.TP+m.FN)
	if m.Precision+m.Recall > 0 {
		m.F1 = 2 * m.Precision * m.Recall / (m.Precision + m.Recall)
	}
	m.Accuracy = ratio(m.TP+m.TN, len(scores))
	m.ROCAUC, m.PRAUC = aucs(scores, attack)
	return m
}

// aucs returns the ROC AUC and the average precision of scores, lower
// meaning more likely an attack.
func aucs(scores []float64, attack []bool) (roc, pr float64) {
	idx := make([]int, len(scores))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return scores[idx[a]] < scores[idx[b]] })
	var nPos, nNeg float64
	for _, a := range attack {
		if a {
			nPos++
		} else {
			nNeg++
		}
	}
	if nPos == 0 || nNeg == 0 {
		return math.NaN(), math.NaN()
	}
	// Walk groups of tied scores from the most anomalous: ROC by the
	// trapezoid rule, average precision as Σ (R_k − R_{k−1}) P_k.
	var tp, fp, prevTP, prevFP float64
	for i := 0; i < len(idx); {
		j := i
		for j < len(idx) && scores[idx[j]] == scores[idx[i]] {
			if attack[idx[j]] {
				tp++
			} else {
				fp++
			}
			j++
		}
		roc += (fp - prevFP) * (tp + prevTP) / 2 // exact in float64 for counts below 2⁵³
		pr += (tp - prevTP) * tp / (tp + fp)
		prevTP, prevFP = tp, fp
		i = j
	}
	return roc / (nPos * nNeg), pr / nPos
}

// BestF1Threshold returns the threshold on scores (flagged when below it)
// that maximises F1 over the labelled rows, placed midway between adjacent
// distinct scores, and that F1.
func BestF1Threshold(scores []float64, attack []bool) (threshold, f1 float64) {
	idx := make([]int, len(scores))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return scores[idx[a]] < scores[idx[b]] })
	var nPos float64
	for _, a := range attack {
		if a {
			nPos++
		}
	}
	threshold = math.Inf(-1)
	var tp, fp float64
	for i := 0; i < len(idx); {
		j := i
		for j < len(idx) && scores[idx[j]] == scores[idx[i]] {
			if attack[idx[j]] {
				tp++
			} else {
				fp++
			}
			j++
		}
		if f := 2 * tp / (tp + fp + nPos); f > f1 {
			f1 = f
			if j < len(idx) {
				threshold = (scores[idx[j-1]] + scores[idx[j]]) / 2
			} else {
				threshold = math.Nextafter(scores[idx[j-1]], math.Inf(1))
			}
		}
		i = j
	}
	return threshold, f1
}

// Spearman returns Spearman's rank correlation of a and b (average ranks
// for ties), which must have the same length of at least 2.
func Spearman(a, b []float64) float64 {
	ra, rb := ranks(a), ranks(b)
	n := float64(len(a))
	var ma, mb float64
	for i := range ra {
		ma += ra[i]
		mb += rb[i]
	}
	ma /= n
	mb /= n
	var sab, saa, sbb float64
	for i := range ra {
		da, db := ra[i]-ma, rb[i]-mb
		sab += da * db
		saa += da * da
		sbb += db * db
	}
	return sab / math.Sqrt(saa*sbb)
}

// ranks returns the 1-based ranks of v, ties averaged.
func ranks(v []float64) []float64 {
	idx := make([]int, len(v))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return v[idx[a]] < v[idx[b]] })
	r := make([]float64, len(v))
	for i := 0; i < len(idx); {
		j := i
		for j < len(idx) && v[idx[j]] == v[idx[i]] {
			j++
		}
		avg := float64(i+j+1) / 2
		for k := i; k < j; k++ {
			r[idx[k]] = avg
		}
		i = j
	}
	return r
}
