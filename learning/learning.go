// Package learning decides which windows a model learns from and when it is
// trained: the learning period starts with the first window seen and lasts a
// configured span of event time; windows inside it are kept in a bounded,
// uniformly sampled reservoir; training is due once a window arrives that
// starts two windows after the period ended (stragglers from other partitions
// have had their chance). The trainer processor, the backtest and the demo
// all use it, so they learn from the same windows.
package learning

import (
	"math/rand/v2"
	"slices"
	"time"

	"github.com/riptide-nids/riptide/window"
)

// Decision is what Offer did with a window.
type Decision int

// Decisions.
const (
	// Kept: the window is inside the learning period and was offered to the
	// reservoir.
	Kept Decision = iota
	// Waiting: the period is over, but stragglers may still come.
	Waiting
	// Due: training is due now (call Samples, train, then stop offering).
	Due
)

// Learner collects the windows of one learning period.
type Learner struct {
	learn, window int64
	max           int
	// Start and End bound the period in ns since the epoch; zero until the
	// first window.
	Start, End int64
	samples    [][]float64
	seen       int
	rng        *rand.Rand
}

// New returns a learner for a period of learn, windows of size win, and a
// reservoir of at most max windows.
func New(learn, win time.Duration, max int) *Learner {
	return &Learner{learn: int64(learn), window: int64(win), max: max, rng: rand.New(rand.NewPCG(1, 2))}
}

// Resume sets the period from persisted state (start and end in ns).
func (l *Learner) Resume(start, end int64) { l.Start, l.End = start, end }

// Offer considers one window.
func (l *Learner) Offer(v *window.Vector) Decision {
	if l.Start == 0 {
		l.Start, l.End = v.Start, v.Start+l.learn
	}
	switch {
	case v.Start < l.End:
		if v.Start >= l.Start {
			l.keep(v.Values)
		}
		return Kept
	case v.Start < l.End+2*l.window:
		return Waiting
	default:
		return Due
	}
}

func (l *Learner) keep(x []float64) {
	l.seen++
	if len(l.samples) < l.max {
		l.samples = append(l.samples, append([]float64(nil), x...))
		return
	}
	if j := l.rng.IntN(l.seen); j < len(l.samples) {
		l.samples[j] = append(l.samples[j][:0], x...)
	}
}

// Samples returns the kept windows' values (shared; do not modify), sorted
// lexicographically: windows reach the learner in an order that depends on
// how partitions interleave, and sorting makes the model depend only on which
// windows were kept (the pipeline and a backtest of the same traffic then
// train the same model).
func (l *Learner) Samples() [][]float64 {
	slices.SortFunc(l.samples, func(a, b []float64) int { return slices.Compare(a, b) })
	return l.samples
}

// Extend lengthens the period by another learning span (when there was too
// little to learn from).
func (l *Learner) Extend() { l.End += l.learn }

// Reset drops the samples after training.
func (l *Learner) Reset() { l.samples, l.seen = nil, 0 }
