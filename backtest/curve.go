package backtest

import (
	"math"
	"slices"
	"time"
)

// CurvePoint is one operating point of the precision-recall curve: the
// windows whose score is below Threshold are flagged.
type CurvePoint struct {
	Threshold float64 `json:"threshold"`
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	Flagged   int     `json:"flagged"`
}

// Curve is the precision-recall curve of a backtest's scored windows over
// every threshold, with the semantics of Evaluate (a flagged window of an
// attacker or victim overlapping its attack is a true positive, one
// overlapping only participants' spans is neutral, any other a false
// positive; recall is over the labels' positive (host, window) pairs).
type Curve struct {
	Points []CurvePoint `json:"points"`
	// AveragePrecision is the area under the curve as the sum of precision
	// times recall gained at each point (the usual PR AUC estimate).
	AveragePrecision float64 `json:"average_precision"`
	// Positives is the number of positive (host, window) pairs.
	Positives int `json:"positive_windows"`
}

// PRCurve computes the precision-recall curve of scored over all thresholds.
// Windows are flagged in order of score (lower is more anomalous); windows
// with equal scores are flagged together.
func PRCurve(labels []Label, scored []Scored, win time.Duration) Curve {
	byHost := map[string][]*Label{}
	for i := range labels {
		byHost[labels[i].Host] = append(byHost[labels[i].Host], &labels[i])
	}
	type key struct {
		host  string
		start int64
	}
	w := win.Microseconds()
	pos := map[key]bool{}
	for _, l := range labels {
		if !l.Principal() {
			continue
		}
		for k := l.Start.UnixMicro() / w; k <= l.End.UnixMicro()/w; k++ {
			pos[key{l.Host, k * w}] = true
		}
	}
	order := make([]int, len(scored))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		switch sa, sb := scored[a].Score, scored[b].Score; {
		case sa < sb:
			return -1
		case sa > sb:
			return 1
		}
		return 0
	})
	c := Curve{Positives: len(pos)}
	seen := map[key]bool{}
	tp, fp, hit, flagged := 0, 0, 0, 0
	lastRecall := 0.0
	for i, idx := range order {
		s := scored[idx]
		k := key{s.Host, time.Unix(0, s.Start).UnixMicro()}
		if !seen[k] {
			seen[k] = true
			flagged++
			var principal, over bool
			for _, l := range byHost[s.Host] {
				if s.Start <= l.End.UnixNano() && s.End > l.Start.UnixNano() {
					over = true
					principal = principal || l.Principal()
				}
			}
			switch {
			case principal:
				tp++
			case !over:
				fp++
			}
			if pos[k] {
				hit++
			}
		}
		if i+1 < len(order) && scored[order[i+1]].Score == s.Score {
			continue // flag ties together
		}
		p := CurvePoint{Threshold: math.Nextafter(s.Score, math.Inf(1)), Flagged: flagged}
		if tp+fp > 0 {
			p.Precision = float64(tp) / float64(tp+fp)
		}
		if c.Positives > 0 {
			p.Recall = float64(hit) / float64(c.Positives)
		}
		c.AveragePrecision += p.Precision * (p.Recall - lastRecall)
		lastRecall = p.Recall
		c.Points = append(c.Points, p)
	}
	return c
}

// At returns the curve's point for threshold t: the last point whose
// threshold is at most t (the windows scored below t flagged), and false
// if no window scores below t.
func (c Curve) At(t float64) (CurvePoint, bool) {
	var out CurvePoint
	ok := false
	for _, p := range c.Points {
		if p.Threshold > t {
			break
		}
		out, ok = p, true
	}
	return out, ok
}
