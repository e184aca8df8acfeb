package producers

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/riptide-nids/riptide/packet"
)

// Overflow says what a Queue does with a chunk when it is full.
type Overflow int

const (
	// Block makes Put wait until there is room: the capture falls behind
	// and the kernel drops what its ring cannot hold (counted there).
	Block Overflow = iota
	// Drop makes Put discard the chunk and count its packets in Dropped.
	Drop
)

// ParseOverflow parses "block" or "drop".
func ParseOverflow(s string) (Overflow, error) {
	switch s {
	case "block":
		return Block, nil
	case "drop":
		return Drop, nil
	}
	return 0, errors.New("producers: overflow " + s + ": use block or drop")
}

// Queue is a bounded queue of packet summaries between the goroutines that
// capture packets and the one that produces them: it holds at most chunks
// chunks of chunkSize summaries, allocated up front, so memory stays bounded
// however fast packets come. Put is safe for concurrent use; one goroutine
// reads with Live.
type Queue struct {
	full      chan []packet.Summary
	free      chan []packet.Summary
	chunkSize int
	overflow  Overflow
	dropped   atomic.Int64
	closeOnce sync.Once
}

// NewQueue returns a queue of chunks chunks of chunkSize summaries each.
func NewQueue(chunks, chunkSize int, overflow Overflow) *Queue {
	chunks, chunkSize = max(chunks, 1), max(chunkSize, 1)
	q := &Queue{full: make(chan []packet.Summary, chunks), free: make(chan []packet.Summary, chunks), chunkSize: chunkSize, overflow: overflow}
	for range chunks {
		q.free <- make([]packet.Summary, 0, chunkSize)
	}
	return q
}

// ChunkSize returns the most summaries one Put takes.
func (q *Queue) ChunkSize() int { return q.chunkSize }

// Put copies sums into free chunks and queues them. When no chunk is free
// it waits (Block; until ctx is done, when the rest is dropped and counted)
// or drops the rest at once and counts it (Drop). It reports whether every
// summary was queued. Put must not be called after Close.
func (q *Queue) Put(ctx context.Context, sums []packet.Summary) bool {
	for len(sums) > 0 {
		var c []packet.Summary
		select {
		case c = <-q.free:
		default:
			if q.overflow == Drop {
				q.dropped.Add(int64(len(sums)))
				return false
			}
			select {
			case c = <-q.free:
			case <-ctx.Done():
				q.dropped.Add(int64(len(sums)))
				return false
			}
		}
		n := min(len(sums), q.chunkSize)
		q.full <- append(c[:0], sums[:n]...)
		sums = sums[n:]
	}
	return true
}

// Dropped returns the packets Put discarded.
func (q *Queue) Dropped() int64 { return q.dropped.Load() }

// Close ends the queue: Live returns once it has produced what was queued.
// Call it after the last Put.
func (q *Queue) Close() { q.closeOnce.Do(func() { close(q.full) }) }

// LiveConfig configures Live.
type LiveConfig struct {
	// Tick is how often event time is advanced by the clock when no packet
	// moves it (default 100 ms).
	Tick time.Duration
	// Lag is how far behind the clock event time is advanced, so that
	// packets still on their way from the kernel are not late (default
	// 500 ms; keep it well under the windows' grace period).
	Lag time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Live produces the summaries of q with p until q is closed and drained,
// and advances p's event time with the clock while traffic is quiet (nothing
// queued), so that
// batches and watermarks keep flowing (see Producer.Advance). It does not
// close p. Producing uses ctx without its cancellation: stop by closing q,
// so that every queued packet is produced.
func Live(ctx context.Context, q *Queue, p *Producer, cfg LiveConfig) {
	if cfg.Tick <= 0 {
		cfg.Tick = 100 * time.Millisecond
	}
	if cfg.Lag <= 0 {
		cfg.Lag = 500 * time.Millisecond
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	ctx = context.WithoutCancel(ctx)
	tick := time.NewTicker(cfg.Tick)
	defer tick.Stop()
	for {
		select {
		case c, ok := <-q.full:
			if !ok {
				return
			}
			for i := range c {
				p.Add(ctx, &c[i])
			}
			q.free <- c[:0]
		case <-tick.C:
			// Only an idle link moves event time by the clock: with chunks
			// queued, their packets are behind the clock and would be late.
			if len(q.full) == 0 {
				p.Advance(ctx, cfg.Now().Add(-cfg.Lag).UnixNano())
			}
		}
	}
}
