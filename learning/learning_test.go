package learning_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/riptide-nids/riptide/learning"
	"github.com/riptide-nids/riptide/window"
)

const (
	learn = 60 * time.Second
	win   = 10 * time.Second
)

// s0 is the start of the first window in most tests: window-aligned, but
// not aligned to the learning span.
var s0 = time.Date(2026, 3, 2, 9, 0, 20, 0, time.UTC).UnixNano()

func at(d time.Duration) int64 { return s0 + int64(d) }

func vec(start int64, x float64) *window.Vector {
	return &window.Vector{Host: "10.0.0.1", Start: start, End: start + int64(win), Values: []float64{x, -x}}
}

// decision prints a learning.Decision by name in failures.
type decision learning.Decision

func (d decision) String() string {
	if d < 0 || int(d) >= 3 {
		return fmt.Sprintf("Decision(%d)", int(d))
	}
	return [...]string{"Kept", "Waiting", "Due"}[d]
}

func TestOfferByWindowStart(t *testing.T) {
	type offer struct {
		start  time.Duration // from s0
		want   learning.Decision
		sample bool // whether it stays in the reservoir
		fix    bool // Fix() before this offer
	}
	tests := []struct {
		name   string
		resume bool          // Resume(s0, s0+learn) first
		period time.Duration // start of the period in the end (0: s0)
		offers []offer
	}{
		{
			name: "period from the first window",
			offers: []offer{
				{start: 0, want: learning.Kept, sample: true},
				{start: 10 * time.Second, want: learning.Kept, sample: true},
				{start: learn - win, want: learning.Kept, sample: true},
				{start: learn - 1, want: learning.Kept, sample: true},
				{start: learn, want: learning.Waiting},
				{start: learn + 2*win - 1, want: learning.Waiting},
				{start: learn + 2*win, want: learning.Due},
				{start: time.Hour, want: learning.Due},
			},
		},
		{
			name:   "stragglers; an earlier window moves the period",
			period: -win,
			offers: []offer{
				{start: 0, want: learning.Kept, sample: true},
				{start: learn + win, want: learning.Waiting},
				{start: 30 * time.Second, want: learning.Kept, sample: true}, // late, but inside the period
				{start: -win, want: learning.Kept, sample: true},             // earlier: the period starts here
				{start: learn + 3*win, want: learning.Due},
				{start: 20 * time.Second, want: learning.Kept, sample: true}, // the caller stops offering after Due
			},
		},
		{
			name: "a fixed period ignores earlier windows",
			offers: []offer{
				{start: 0, want: learning.Kept, sample: true},
				{start: -win, want: learning.Kept, fix: true}, // before the period: not learnt from
				{start: learn + 2*win, want: learning.Due},
			},
		},
		{
			name: "a late first window starts the period until an earlier one comes",
			offers: []offer{
				{start: learn, want: learning.Kept},           // kept, then dropped: after the moved period
				{start: 0, want: learning.Kept, sample: true}, // the period starts here now
				{start: 2 * learn, want: learning.Due},
			},
		},
		{
			name:   "resumed period",
			resume: true,
			offers: []offer{
				{start: learn + 2*win, want: learning.Due}, // the first window does not restart the period
				{start: learn, want: learning.Waiting},
				{start: -1, want: learning.Kept}, // a resumed period is fixed
				{start: 0, want: learning.Kept, sample: true},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := learning.New(learn, win, 100)
			if tt.resume {
				l.Resume(s0, s0+int64(learn))
			}
			var want [][]float64
			for i, o := range tt.offers {
				if o.fix {
					l.Fix()
				}
				v := vec(at(o.start), float64(i+1))
				if got := l.Offer(v); got != o.want {
					t.Errorf("offer %d (start %+v): %v, want %v", i, o.start, decision(got), decision(o.want))
				}
				if o.sample {
					want = append(want, slices.Clone(v.Values))
				}
				v.Values[0] = -99 // the learner keeps a copy
			}
			if !equalSamples(l.Samples(), want) {
				t.Errorf("Samples() = %v, want %v", l.Samples(), want)
			}
			first := tt.period
			if l.Start != at(first) || l.End != at(first+learn) {
				t.Errorf("period [%d, %d), want [%d, %d)", l.Start, l.End, at(first), at(first+learn))
			}
		})
	}
}

func equalSamples(a, b [][]float64) bool {
	return slices.EqualFunc(a, b, func(x, y []float64) bool { return slices.Equal(x, y) })
}

func TestZeroValueBeforeFirstWindow(t *testing.T) {
	l := learning.New(learn, win, 10)
	if l.Start != 0 || l.End != 0 || len(l.Samples()) != 0 {
		t.Errorf("new learner: period [%d, %d), %d samples; want zero", l.Start, l.End, len(l.Samples()))
	}
}

func TestReservoirBoundedAndUniform(t *testing.T) {
	const (
		n   = 50_000
		max = 1_000
		bin = 10
	)
	// Every window is inside a long period.
	l := learning.New(time.Duration(n+1)*win, win, max)
	for i := range n {
		if d := l.Offer(vec(at(time.Duration(i)*win), float64(i))); d != learning.Kept {
			t.Fatalf("window %d: %v", i, decision(d))
		}
		if got := len(l.Samples()); got > max {
			t.Fatalf("after %d windows the reservoir holds %d > %d", i+1, got, max)
		}
	}
	xs := l.Samples()
	if len(xs) != max {
		t.Fatalf("reservoir holds %d, want %d", len(xs), max)
	}
	seen := map[float64]bool{}
	var counts [bin]int
	sum := 0.0
	for _, x := range xs {
		v := x[0]
		if v < 0 || v >= n || v != float64(int(v)) || x[1] != -v {
			t.Fatalf("sample %v was never offered", x)
		}
		if seen[v] {
			t.Fatalf("window %v sampled twice", v)
		}
		seen[v] = true
		counts[int(v)*bin/n]++
		sum += v
	}
	// Chi-square against uniform over 10 bins: 9 degrees of freedom,
	// 27.9 is the 0.999 quantile.
	exp := float64(max) / bin
	chi := 0.0
	for _, c := range counts {
		chi += (float64(c) - exp) * (float64(c) - exp) / exp
	}
	mean := sum / max
	t.Logf("bins %v, chi-square %.1f, mean %.0f (uniform: %d)", counts, chi, mean, (n-1)/2)
	if chi > 27.9 {
		t.Errorf("chi-square %.1f over bins %v: the sample is not uniform", chi, counts)
	}
	// The mean of 1000 uniform draws from [0, n) is within 4 standard
	// errors (n/sqrt(12*1000) each) of n/2.
	if se := float64(n) / 109.5; mean < float64(n)/2-4*se || mean > float64(n)/2+4*se {
		t.Errorf("mean sampled window %.0f, want about %d", mean, n/2)
	}
}

func TestReservoirKeepsAllBelowMax(t *testing.T) {
	l := learning.New(learn, win, 10)
	var want [][]float64
	for i := range 6 {
		v := vec(at(time.Duration(i)*win), float64(i))
		l.Offer(v)
		want = append(want, slices.Clone(v.Values))
	}
	if !equalSamples(l.Samples(), want) {
		t.Errorf("Samples() = %v, want every window in order %v", l.Samples(), want)
	}
}

func TestExtend(t *testing.T) {
	l := learning.New(learn, win, 100)
	l.Offer(vec(at(0), 1))
	if d := l.Offer(vec(at(learn), 2)); d != learning.Waiting {
		t.Fatalf("window at the end of the period: %v, want Waiting", decision(d))
	}
	l.Extend()
	if l.Start != at(0) || l.End != at(2*learn) {
		t.Errorf("after Extend the period is [%d, %d), want [%d, %d)", l.Start, l.End, at(0), at(2*learn))
	}
	tests := []struct {
		start time.Duration
		want  learning.Decision
	}{
		{learn, learning.Kept},
		{2*learn - 1, learning.Kept},
		{2 * learn, learning.Waiting},
		{2*learn + 2*win, learning.Due},
	}
	for _, tt := range tests {
		if d := l.Offer(vec(at(tt.start), 3)); d != tt.want {
			t.Errorf("after Extend, window at +%v: %v, want %v", tt.start, decision(d), decision(tt.want))
		}
	}
	// The window that waited before Extend was not sampled; the ones after are.
	if got := len(l.Samples()); got != 3 {
		t.Errorf("%d samples, want 3", got)
	}
}

func TestReset(t *testing.T) {
	const max = 5
	l := learning.New(learn, win, max)
	for i := range 20 {
		l.Offer(vec(at(time.Duration(i)*time.Second), float64(i)))
	}
	if len(l.Samples()) != max {
		t.Fatalf("%d samples before Reset, want %d", len(l.Samples()), max)
	}
	start, end := l.Start, l.End
	l.Reset()
	if len(l.Samples()) != 0 {
		t.Errorf("%d samples after Reset", len(l.Samples()))
	}
	if l.Start != start || l.End != end {
		t.Errorf("Reset moved the period to [%d, %d)", l.Start, l.End)
	}
	// After Reset the reservoir starts over: the next max windows are all
	// kept, in order (a stale count would make it replace some of them).
	var want [][]float64
	for i := range max {
		v := vec(at(time.Duration(i)*time.Second), float64(100+i))
		if d := l.Offer(v); d != learning.Kept {
			t.Fatalf("offer after Reset: %v", decision(d))
		}
		want = append(want, slices.Clone(v.Values))
	}
	if !equalSamples(l.Samples(), want) {
		t.Errorf("Samples() after Reset = %v, want %v", l.Samples(), want)
	}
}

func BenchmarkOffer(b *testing.B) {
	for _, max := range []int{1_000, 100_000} {
		b.Run(fmt.Sprint(max), func(b *testing.B) {
			l := learning.New(time.Duration(1<<40), win, max)
			v := vec(s0, 1)
			v.Values = make([]float64, len(window.Names()))
			for range max { // fill the reservoir: the steady state
				l.Offer(v)
			}
			b.ReportAllocs()
			for b.Loop() {
				l.Offer(v)
			}
		})
	}
}
