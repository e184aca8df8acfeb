package producers

import (
	"errors"
	"io"
	"time"

	"github.com/riptide-nids/riptide/packet"
)

// Reorder returns a Source that yields src's packets in time order as long
// as none is more than span behind the latest one seen: packets are held in a
// heap until the newest packet time is span past theirs. Merged or
// multi-interface captures are often out of order by tens of seconds, while
// windows accept late packets for only a short grace period. At most
// maxHeld packets are held (the oldest is released early beyond that, and
// may then arrive late downstream, where it is counted).
func Reorder(src Source, span time.Duration, maxHeld int) Source {
	if span <= 0 {
		return src
	}
	return &reorder{src: src, span: int64(span), max: maxHeld}
}

type reorder struct {
	src    Source
	span   int64
	max    int
	h      sumHeap // packets that arrived out of order
	fifo   []packet.Summary
	head   int // fifo[head:] are held, in time order (each was the newest when it came)
	newest int64
	eof    bool
	err    error
	in     packet.Summary
}

// held returns how many packets are held.
func (r *reorder) held() int { return len(r.h) + len(r.fifo) - r.head }

// oldest returns the time of the oldest held packet.
func (r *reorder) oldest() int64 {
	switch {
	case len(r.h) == 0:
		return r.fifo[r.head].Time
	case r.head == len(r.fifo):
		return r.h[0].Time
	}
	return min(r.h[0].Time, r.fifo[r.head].Time)
}

func (r *reorder) Next(s *packet.Summary) error {
	for !r.eof {
		if n := r.held(); n > 0 && (r.newest-r.oldest() >= r.span || (r.max > 0 && n >= r.max)) {
			break
		}
		if err := r.src.Next(&r.in); err != nil {
			r.eof = true
			if !errors.Is(err, io.EOF) {
				r.err = err
			}
			break
		}
		// Packets in time order, the common case, queue in a FIFO; only
		// those that arrive out of order pay for the heap.
		if r.in.Time >= r.newest {
			r.newest = r.in.Time
			if r.head > 0 && r.head == len(r.fifo) {
				r.fifo, r.head = r.fifo[:0], 0
			} else if r.head > 4096 && r.head*2 > len(r.fifo) {
				r.fifo, r.head = append(r.fifo[:0], r.fifo[r.head:]...), 0
			}
			r.fifo = append(r.fifo, r.in)
			continue
		}
		r.h.push(&r.in)
	}
	if r.held() == 0 {
		if r.err != nil {
			return r.err
		}
		return io.EOF
	}
	// Ties go to the FIFO: it holds the earlier arrivals.
	if r.head < len(r.fifo) && (len(r.h) == 0 || r.fifo[r.head].Time <= r.h[0].Time) {
		*s = r.fifo[r.head]
		r.head++
		return nil
	}
	r.h.pop(s)
	return nil
}

// sumHeap is a min-heap of summaries by time, typed to avoid boxing every
// packet (container/heap would allocate per push).
type sumHeap []packet.Summary

func (h *sumHeap) push(s *packet.Summary) {
	*h = append(*h, *s)
	a := *h
	i := len(a) - 1
	for i > 0 {
		p := (i - 1) / 2
		if a[p].Time <= a[i].Time {
			break
		}
		a[p], a[i] = a[i], a[p]
		i = p
	}
}

func (h *sumHeap) pop(s *packet.Summary) {
	a := *h
	*s = a[0]
	n := len(a) - 1
	a[0] = a[n]
	a = a[:n]
	for i := 0; ; {
		l, m := 2*i+1, i
		if l < n && a[l].Time < a[m].Time {
			m = l
		}
		if r := l + 1; r < n && a[r].Time < a[m].Time {
			m = r
		}
		if m == i {
			break
		}
		a[i], a[m] = a[m], a[i]
		i = m
	}
	*h = a
}
