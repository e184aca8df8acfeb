// Package learning decides which windows a model learns from and when it is
// trained: the learning period starts with the earliest window seen before the
// period is fixed (windows of several partitions arrive out of event-time
// order, so the first one to arrive need not be the earliest) and lasts a
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
	starts     []int64 // window start of each sample
	seen       int
	fixed      bool
	rng        *rand.Rand
}

// New returns a learner for a period of learn, windows of size win, and a
// reservoir of at most max windows.
func New(learn, win time.Duration, max int) *Learner {
	return &Learner{learn: int64(learn), window: int64(win), max: max, rng: rand.New(rand.NewPCG(1, 2))}
}

// Resume sets the period from persisted state (start and end in ns) and
// fixes it.
func (l *Learner) Resume(start, end int64) { l.Start, l.End, l.fixed = start, end, true }

// Fix fixes the period's start: earlier windows no longer move it.
func (l *Learner) Fix() { l.fixed = true }

// Fixed reports whether the period's start is fixed.
func (l *Learner) Fixed() bool { return l.fixed }

// Offer considers one window. Until the period is fixed, a window earlier
// than the period's start moves the period to begin with it (kept windows
// that fall after the moved period's end are dropped).
func (l *Learner) Offer(v *window.Vector) Decision {
	if l.Start == 0 || (!l.fixed && v.Start < l.Start) {
		l.begin(v.Start)
	}
	switch {
	case v.Start < l.End:
		if v.Start >= l.Start {
			l.keep(v.Values, v.Start)
		}
		return Kept
	case v.Start < l.End+2*l.window:
		return Waiting
	default:
		return Due
	}
}

// begin starts the period at start, dropping kept windows after its end.
func (l *Learner) begin(start int64) {
	l.Start, l.End = start, start+l.learn
	k := 0
	for i := range l.samples {
		if l.starts[i] < l.End {
			l.samples[k], l.starts[k] = l.samples[i], l.starts[i]
			k++
		}
	}
	l.seen -= len(l.samples) - k
	l.samples, l.starts = l.samples[:k], l.starts[:k]
}

func (l *Learner) keep(x []float64, start int64) {
	l.seen++
	if len(l.samples) < l.max {
		l.samples = append(l.samples, append([]float64(nil), x...))
		l.starts = append(l.starts, start)
		return
	}
	if j := l.rng.IntN(l.seen); j < len(l.samples) {
		l.samples[j] = append(l.samples[j][:0], x...)
		l.starts[j] = start
	}
}

// Samples returns the kept windows' values (shared; do not modify), sorted
// lexicographically: windows reach the learner in an order that depends on
// how partitions interleave, and sorting makes the model depend only on which
// windows were kept (the pipeline and a backtest of the same traffic then
// train the same model).
func (l *Learner) Samples() [][]float64 {
	idx := make([]int, len(l.samples))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int { return slices.Compare(l.samples[a], l.samples[b]) })
	samples, starts := make([][]float64, len(idx)), make([]int64, len(idx))
	for i, j := range idx {
		samples[i], starts[i] = l.samples[j], l.starts[j]
	}
	l.samples, l.starts = samples, starts
	return l.samples
}

// Extend lengthens the period by another learning span (when there was too
// little to learn from).
func (l *Learner) Extend() { l.End += l.learn }

// Reset drops the samples after training.
func (l *Learner) Reset() { l.samples, l.starts, l.seen = nil, nil, 0 }
