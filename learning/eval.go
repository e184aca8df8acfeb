package learning

import (
	"fmt"
	"math/rand/v2"

	"github.com/riptide-nids/riptide/detect"
)

// Labelled is a window with an analyst's verdict.
type Labelled struct {
	// ID is the window id (host@start-ms).
	ID string `json:"id"`
	// Attack is the verdict: true for an attack (true positive or false
	// negative), false for benign (false positive or true negative).
	Attack bool `json:"attack"`
	// Verdict is the verdict as given (codecs.Verdict*).
	Verdict string `json:"verdict"`
	// Values are the window's raw feature values.
	Values []float64 `json:"values"`
	// At is when the verdict was given (ns since the epoch).
	At int64 `json:"at"`
}

// Eval is a model's confusion matrix on labelled windows, and the measures
// derived from it. A measure whose denominator is zero is reported as -1
// (undefined).
type Eval struct {
	TP, FP, TN, FN int
	Precision      float64 `json:"precision"`
	Recall         float64 `json:"recall"`
	F1             float64 `json:"f1"`
}

// String formats the measures for logs.
func (e Eval) String() string {
	return fmt.Sprintf("tp=%d fp=%d tn=%d fn=%d precision=%.3f recall=%.3f f1=%.3f", e.TP, e.FP, e.TN, e.FN, e.Precision, e.Recall, e.F1)
}

// Evaluate scores every labelled window with m (m.IsAnomaly is the
// prediction) and returns the confusion matrix and measures.
func Evaluate(m *detect.Model, labels []Labelled) Eval {
	var e Eval
	for i := range labels {
		l := &labels[i]
		if len(l.Values) != m.Dim() {
			continue
		}
		flagged := m.IsAnomaly(m.Score(l.Values))
		switch {
		case l.Attack && flagged:
			e.TP++
		case l.Attack:
			e.FN++
		case flagged:
			e.FP++
		default:
			e.TN++
		}
	}
	e.Precision, e.Recall, e.F1 = -1, -1, -1
	if e.TP+e.FP > 0 {
		e.Precision = float64(e.TP) / float64(e.TP+e.FP)
	}
	if e.TP+e.FN > 0 {
		e.Recall = float64(e.TP) / float64(e.TP+e.FN)
	}
	if e.TP+e.FP+e.FN > 0 {
		e.F1 = 2 * float64(e.TP) / float64(2*e.TP+e.FP+e.FN)
	}
	return e
}

// NotWorse decides whether a challenger with evaluation ch may replace a
// champion with evaluation champ on the same labelled windows: it must
// catch at least as many labelled attacks (recall not lower) and raise no
// more false alerts on labelled benign windows; F1 then cannot be lower
// either. With no labels at all every challenger is not worse. The reason
// says why in words.
func NotWorse(ch, champ Eval) (bool, string) {
	switch {
	case ch.TP < champ.TP:
		return false, fmt.Sprintf("misses labelled attacks: %d detected, champion %d (recall %.3f < %.3f)", ch.TP, champ.TP, ch.Recall, champ.Recall)
	case ch.FP > champ.FP:
		return false, fmt.Sprintf("more false alerts on labelled benign windows: %d, champion %d", ch.FP, champ.FP)
	}
	return true, fmt.Sprintf("not worse on %d labelled windows: tp %d (champion %d), fp %d (champion %d)",
		ch.TP+ch.FP+ch.TN+ch.FN, ch.TP, champ.TP, ch.FP, champ.FP)
}

// Recent is a bounded set of the most recent benign-looking windows, the
// training data of retraining: once full, each new window replaces the
// oldest. Windows can be removed by id (a window later confirmed as an
// attack). Recent is not safe for concurrent use.
type Recent struct {
	max  int
	ids  []string
	rows [][]float64
	next int
	// From and To bound the window starts held (ns), approximately: From
	// is not raised when old windows are replaced.
	From, To int64
}

// NewRecent returns an empty set of at most max windows.
func NewRecent(max int) *Recent { return &Recent{max: max} }

// Len returns the number of windows held.
func (r *Recent) Len() int { return len(r.rows) }

// Add adds a window (values are copied).
func (r *Recent) Add(id string, start int64, values []float64) {
	if len(r.rows) == 0 && r.From == 0 && r.To == 0 {
		r.From, r.To = start, start
	}
	r.From, r.To = min(r.From, start), max(r.To, start)
	x := append([]float64(nil), values...)
	if len(r.rows) < r.max {
		r.ids, r.rows = append(r.ids, id), append(r.rows, x)
		return
	}
	r.ids[r.next], r.rows[r.next] = id, x
	r.next = (r.next + 1) % r.max
}

// Remove drops the window with id, if held.
func (r *Recent) Remove(id string) bool {
	for i, v := range r.ids {
		if v == id {
			last := len(r.ids) - 1
			r.ids[i], r.rows[i] = r.ids[last], r.rows[last]
			r.ids, r.rows = r.ids[:last], r.rows[:last]
			if r.next > len(r.rows) {
				r.next = 0
			}
			return true
		}
	}
	return false
}

// Sample returns at most n of the windows, chosen uniformly without
// replacement with a generator seeded by seed (shared rows; do not modify).
func (r *Recent) Sample(n int, seed uint64) [][]float64 {
	if n >= len(r.rows) {
		return append([][]float64(nil), r.rows...)
	}
	rng := rand.New(rand.NewPCG(seed, 0x7ec))
	idx := rng.Perm(len(r.rows))[:n]
	out := make([][]float64, n)
	for i, j := range idx {
		out[i] = r.rows[j]
	}
	return out
}

// TrainingSet returns the rows to retrain on: recent benign-looking windows
// plus copies of every benign labelled window (benign holds their values).
// Each labelled window is repeated often enough that the one-class SVM
// cannot leave it outside its boundary (ν bounds the fraction of training
// rows outside it: k copies with k > ν·l cannot all be outside, and copies
// score the same). The set has at most maxRows rows (0: no cap); recent
// windows are subsampled to make room. copies is the repeat count used.
func TrainingSet(recent *Recent, benign [][]float64, nu float64, maxRows int, seed uint64) (rows [][]float64, copies int) {
	r := recent.Len()
	if maxRows > 0 && r > maxRows {
		r = maxRows
	}
	nb := float64(len(benign))
	copies = 1
	if len(benign) > 0 && nu*nb < 0.5 {
		copies = int(nu*float64(r)/(1-nu*nb)) + 1
	}
	if maxRows > 0 && len(benign)*copies > maxRows/2 {
		copies = max(1, maxRows/2/max(1, len(benign)))
	}
	room := r
	if maxRows > 0 {
		room = min(r, maxRows-len(benign)*copies)
	}
	rows = recent.Sample(max(room, 0), seed)
	for _, x := range benign {
		for range copies {
			rows = append(rows, x)
		}
	}
	return rows, copies
}
