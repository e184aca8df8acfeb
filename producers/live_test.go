package producers_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/riptide-nids/riptide/kclient"
	"github.com/riptide-nids/riptide/packet"
	"github.com/riptide-nids/riptide/producers"
)

func TestQueueDropCounts(t *testing.T) {
	q := producers.NewQueue(2, 4, producers.Drop)
	sums := make([]packet.Summary, 10) // 3 chunks: 4, 4, 2
	if q.Put(context.Background(), sums) {
		t.Error("Put of 3 chunks into a queue of 2 reported success")
	}
	if q.Dropped() != 2 {
		t.Errorf("Dropped() = %d, want the 2 summaries that found no chunk", q.Dropped())
	}
}

func TestQueueBlockWaitsUntilContextEnds(t *testing.T) {
	q := producers.NewQueue(1, 4, producers.Block)
	ctx, cancel := context.WithCancel(context.Background())
	if !q.Put(ctx, make([]packet.Summary, 4)) {
		t.Fatal("first chunk not queued")
	}
	done := make(chan bool)
	go func() { done <- q.Put(ctx, make([]packet.Summary, 3)) }()
	select {
	case <-done:
		t.Fatal("Put returned although the queue is full (Block)")
	case <-time.After(50 * time.Millisecond): // a blocked Put must not return; nothing else to wait on
	}
	cancel()
	if <-done {
		t.Error("Put reported success after its context ended")
	}
	if q.Dropped() != 3 {
		t.Errorf("Dropped() = %d, want 3", q.Dropped())
	}
}

// TestLiveProducesEverything feeds a Queue from several goroutines, as
// capture sockets do, and checks that Live produces every summary and that
// the clock moves event time (watermarks) while no packet comes.
func TestLiveProducesEverything(t *testing.T) {
	const parts = 2
	topic := "packets-live"
	brokers := cluster(t, parts, topic)
	ctx := ctxTimeout(t, 30*time.Second)
	cl, err := kclient.NewClient(kclient.Config{Brokers: brokers})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	p, err := producers.New(cl, producers.Config{Topic: topic, Partitions: parts})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	now := time.Unix(0, t0)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	q := producers.NewQueue(4, 16, producers.Block)
	done := make(chan struct{})
	go func() {
		defer close(done)
		producers.Live(ctx, q, p, producers.LiveConfig{Tick: time.Millisecond, Lag: time.Nanosecond, Now: clock})
	}()
	var want []packet.Summary
	var wg sync.WaitGroup
	for g := range 3 {
		var mine []packet.Summary
		for i := range 100 {
			mine = append(mine, sum(t0+int64(i)*int64(time.Millisecond)+int64(g), hostA, hostB, uint32(g*1000+i)))
		}
		want = append(want, mine...)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < len(mine); i += 7 {
				q.Put(ctx, mine[i:min(i+7, len(mine))])
			}
		}()
	}
	wg.Wait()
	// Event time moves with the clock: 3 s later, with no packet, the
	// batches are flushed and a watermark goes out.
	mu.Lock()
	now = now.Add(3 * time.Second)
	mu.Unlock()
	if !waitCond(5*time.Second, func() bool {
		for _, r := range consumeAll(ctx, t, brokers, topic) {
			if r.Key == nil {
				return true
			}
		}
		return false
	}) {
		t.Error("no watermark although the clock passed the interval")
	}
	q.Close()
	<-done
	if err := p.Close(ctx); err != nil {
		t.Fatal(err)
	}
	var got []packet.Summary
	for _, r := range consumeAll(ctx, t, brokers, topic) {
		if r.Key != nil && string(r.Key) == hostA.String() {
			got = append(got, decode(t, r)...)
		}
	}
	key := func(a, b packet.Summary) int { return int(a.Length) - int(b.Length) }
	slices.SortFunc(got, key)
	slices.SortFunc(want, key)
	if !slices.Equal(got, want) {
		t.Errorf("host A's batches hold %d summaries, want the %d queued", len(got), len(want))
	}
}

func waitCond(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return true
}

// TestProducerMaxHeld flushes every batch early when the summaries held
// reach MaxHeld.
func TestProducerMaxHeld(t *testing.T) {
	var sums []packet.Summary
	for i := range 10 { // ten hosts in one interval
		src := hostA.Next()
		for range i {
			src = src.Next()
		}
		sums = append(sums, sum(t0+int64(i)*int64(time.Millisecond), src, src, 60))
	}
	recs, _ := scenario{partitions: 1, cfg: producers.Config{MaxHeld: 4}, sums: sums}.run(t)
	n := 0
	for _, r := range recs {
		if r.Key != nil {
			n++
		}
	}
	// One batch per host (each record holds one host's summary); flushing
	// early must lose nothing.
	if n != 10 {
		t.Errorf("%d records, want 10", n)
	}
}
