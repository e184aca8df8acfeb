package window

import (
	"math"
	"sync"
)

// Host history: connection starts kept across windows, for the features that
// a single 10 s window cannot see (beacons, password guessing over encrypted
// protocols; see Schema). It lives in State, so it is bounded and encoded.
//
// The sizes follow from the features, not from any capture:
//   - The look-back is 60 s, as in the prototype's periodicity feature: long
//     enough to see at least 3 starts of a beacon with a period up to 30 s
//     (the regularity needs n >= 3), and six default windows.
//   - Starts are counted in epoch-aligned 10 s buckets (the default window
//     size, so a default window's look-back [end-60 s, end) is exact), with
//     two buckets more than the look-back needs for the windows still open
//     during the grace period.
//   - histTimes keeps the latest 16 start times per service, to estimate the
//     coefficient of variation of the gaps: 15 gaps give it to within about
//     ±20% of its value, enough to tell a fixed period (CV near 0) from
//     irregular traffic (CV near or above 1). The n of the regularity is the
//     exact count of the buckets, not capped at 16.
//   - histSlots tracks 8 services per side. When all are taken, a new service
//     replaces one with no start in the look-back, else the one with the
//     fewest starts in its buckets: a scan churns through the low-count
//     slots and cannot push out a beacon or a password guesser.
const (
	histLookbackMS = 60_000
	histBucketMS   = 10_000
	histBuckets    = 8
	histTimes      = 16
	histSlots      = 8
	// histMinStarts is the least number of starts for a regularity.
	histMinStarts = 3
)

// svcHist is the start history of one service: one (peer, port) pair, whose
// key is in hist.keys.
type svcHist struct {
	n     uint8
	times [histTimes]int64    // ms since the epoch, ascending: the latest n starts
	cnt   [histBuckets]uint32 // starts in bucket b at cnt[b mod histBuckets], for b in (newest-histBuckets, newest]
}

// latest returns the time of the latest start (s.n > 0).
func (s *svcHist) latest() int64 { return s.times[s.n-1] }

// newest returns the bucket of the latest start (s.n > 0).
func (s *svcHist) newest() int64 { return floorDiv(s.latest(), histBucketMS) }

// starts returns the starts counted in the buckets that begin in [from, to)
// (ms).
func (s *svcHist) starts(from, to int64) uint64 {
	nb := s.newest()
	var sum uint64
	for b := nb - histBuckets + 1; b <= nb; b++ {
		if t := b * histBucketMS; t >= from && t < to {
			sum += uint64(s.cnt[bucketIdx(b)])
		}
	}
	return sum
}

// cv returns the number of kept start times in [from, to) (ms) and the
// coefficient of variation of the gaps between them; ok is false if there
// are fewer than histMinStarts or the gaps are all 0.
func (s *svcHist) cv(from, to int64) (n int, cv float64, ok bool) {
	i, j := 0, int(s.n)
	for i < j && s.times[i] < from {
		i++
	}
	for j > i && s.times[j-1] >= to {
		j--
	}
	n = j - i
	if n < histMinStarts {
		return n, 0, false
	}
	g := float64(n - 1)
	mean := float64(s.times[j-1]-s.times[i]) / g
	if mean <= 0 {
		return n, 0, false
	}
	var ss float64
	for k := i + 1; k < j; k++ {
		d := float64(s.times[k]-s.times[k-1]) - mean
		ss += d * d
	}
	return n, math.Sqrt(ss/g) / mean, true
}

// hist is one side's (sent or received) start history. What add scans on
// every start sits in small arrays: each service's key, total of its bucket
// counts (saturating) and latest start time.
type hist struct {
	n    uint8
	keys [histSlots]uint32
	tot  [histSlots]uint32
	last [histSlots]int64
	s    [histSlots]svcHist
}

var histPool = sync.Pool{New: func() any { return new(hist) }}

func newHist() *hist { return histPool.Get().(*hist) }

func (h *hist) release() {
	*h = hist{}
	histPool.Put(h)
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func bucketIdx(b int64) int { return int(uint64(b) % histBuckets) }

func satInc(c *uint32) {
	if *c < math.MaxUint32 {
		*c++
	}
}

// add records a connection start to the service key at t ms, first dropping
// the services whose latest start is before keepFrom (see State.Add).
func (h *hist) add(key uint32, t, keepFrom int64) {
	h.prune(keepFrom)
	b := floorDiv(t, histBucketMS)
	idx := -1
	for i := 0; i < int(h.n); i++ {
		if h.keys[i] == key {
			idx = i
			break
		}
	}
	if idx < 0 {
		idx = h.slotFor(t)
		h.keys[idx], h.tot[idx], h.last[idx] = key, 1, t
		s := &h.s[idx]
		s.n = 1
		s.times[0] = t // times beyond n are never read
		s.cnt = [histBuckets]uint32{}
		s.cnt[bucketIdx(b)] = 1
		return
	}
	s, tot := &h.s[idx], &h.tot[idx]
	nb := s.newest()
	switch {
	case b > nb:
		for x := nb + 1; x <= b && x <= nb+histBuckets; x++ {
			c := &s.cnt[bucketIdx(x)]
			*tot -= min(*c, *tot)
			*c = 0
		}
		s.cnt[bucketIdx(b)] = 1
		satInc(tot)
	case b > nb-histBuckets:
		satInc(&s.cnt[bucketIdx(b)])
		satInc(tot)
	}
	// Insert t keeping the latest histTimes times, ascending.
	n := int(s.n)
	if n == histTimes {
		if t <= s.times[0] {
			return
		}
		copy(s.times[:], s.times[1:])
		n--
	}
	i := n
	for i > 0 && s.times[i-1] > t {
		s.times[i] = s.times[i-1]
		i--
	}
	s.times[i] = t
	s.n = uint8(n + 1)
	h.last[idx] = s.times[s.n-1]
}

// slotFor returns the index of the slot for a new service starting at t: a
// free one, else the one with no start in the look-back before t or else
// the fewest starts in its buckets, the least recent on ties (then the
// smallest key, so the choice does not depend on slot order).
func (h *hist) slotFor(t int64) int {
	if h.n < histSlots {
		h.n++
		return int(h.n) - 1
	}
	from := t - histLookbackMS
	best, bestC := 0, uint64(math.MaxUint64)
	for i, l := range h.last {
		var c uint64
		if l >= from {
			c = uint64(h.tot[i])
		}
		if c < bestC || c == bestC && (l < h.last[best] || l == h.last[best] && h.keys[i] < h.keys[best]) {
			best, bestC = i, c
		}
	}
	return best
}

// features returns the most starts to one service and the highest
// regularity over services in the look-back before end (ms). A service's
// regularity is n·max(0, 1 - CV), n its starts in the look-back (from the
// buckets) and CV that of the gaps between its kept start times there.
func (h *hist) features(end int64) (maxStarts uint64, maxReg float64) {
	if h == nil {
		return 0, 0
	}
	from := end - histLookbackMS
	for i := 0; i < int(h.n); i++ {
		s := &h.s[i]
		n := s.starts(from, end)
		maxStarts = max(maxStarts, n)
		if _, cv, ok := s.cv(from, end); ok {
			maxReg = max(maxReg, float64(n)*max(0, 1-cv))
		}
	}
	return maxStarts, maxReg
}

// prune drops the services whose latest start is before t (ms) and reports
// whether any is left.
func (h *hist) prune(t int64) bool {
	k := 0
	for i := 0; i < int(h.n); i++ {
		if h.last[i] >= t {
			if k != i {
				h.s[k], h.keys[k], h.tot[k], h.last[k] = h.s[i], h.keys[i], h.tot[i], h.last[i]
			}
			k++
		}
	}
	for i := k; i < int(h.n); i++ {
		h.keys[i], h.tot[i], h.last[i] = 0, 0, 0
	}
	h.n = uint8(k)
	return k > 0
}

// latest returns the latest start time (ms) of the side, or math.MinInt64.
func (h *hist) latest() int64 {
	t := int64(math.MinInt64)
	if h == nil {
		return t
	}
	for i := 0; i < int(h.n); i++ {
		t = max(t, h.last[i])
	}
	return t
}
