package windower

import (
	"sync"
	"testing"
	"time"

	"github.com/riptide-nids/riptide/ops"
	"github.com/riptide-nids/riptide/processors/internal/gokatest"
)

// clock is a settable wall clock for Processor.now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// TestMetrics: the windower counts consumed records, closed windows with
// the wall time since stream time passed their end plus grace, late packets
// and dead letters by reason.
func TestMetrics(t *testing.T) {
	m, reg := gokatest.Metrics(t)
	clk := &clock{t: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)}
	f := newFixture(t, func(p *Processor) {
		p.now = clk.now
		p.SetMetrics(m)
	})
	sample := func(name string, labels ...string) float64 {
		t.Helper()
		return gokatest.Sample(t, reg, name, labels...)
	}
	const a, c = "10.0.0.1", "10.0.0.3"
	f.send(a, tcp(1*time.Second, a, "192.0.2.1")) // a: window [0, 10) opens
	f.send(c, tcp(13*time.Second, c, "192.0.2.1"))
	// Stream time 13 s passed 10 s + 2 s grace now; a's window closes at the
	// next visit, 3 s of wall time later.
	clk.add(3 * time.Second)
	f.visit()
	if got := sample("riptide_windows_closed_total"); got != 1 {
		t.Fatalf("windows closed %v, want 1", got)
	}
	if n, s := sample("riptide_window_close_latency_seconds_count"), sample("riptide_window_close_latency_seconds_sum"); n != 1 || s != 3 {
		t.Errorf("close latency: %v observations summing to %v s, want 1 of 3 s", n, s)
	}
	// c's packet at 25 s moves stream time past c's window [10, 20): it
	// closes in the same callback, no wall time later.
	f.send(c, tcp(25*time.Second, c, "192.0.2.1"))
	if n, s := sample("riptide_window_close_latency_seconds_count"), sample("riptide_window_close_latency_seconds_sum"); n != 2 || s != 3 {
		t.Errorf("close latency: %v observations summing to %v s, want 2 summing to 3 s", n, s)
	}
	f.send(a, tcp(2*time.Second, a, "192.0.2.1"), tcp(3*time.Second, a, "192.0.2.1")) // late
	f.tt.Consume(f.top.Packets.Name, a, []byte("garbage"))
	f.tt.Consume(f.top.Packets.Name, "not-a-host", batch(tcp(26*time.Second, a, "192.0.2.1")))
	f.watermark(30 * time.Second)

	if got := sample("riptide_late_records_total"); got != 2 {
		t.Errorf("late %v, want 2", got)
	}
	if got := sample("riptide_deadletters_total", "reason", ops.ReasonUndecodable); got != 1 {
		t.Errorf("undecodable dead letters %v, want 1", got)
	}
	if got := sample("riptide_deadletters_total", "reason", ops.ReasonBadKey); got != 1 {
		t.Errorf("bad-key dead letters %v, want 1", got)
	}
	want := float64(f.p.Stats().Records)
	if got := sample("riptide_records_consumed_total", "group", string(f.top.Windower), "topic", f.top.Packets.Name); got != want || want != 7 {
		t.Errorf("consumed %v, stats say %v records, want 7", got, want)
	}
	if got, want := sample("riptide_windows_closed_total"), float64(f.p.Stats().Windows); got != want || want != 2 {
		t.Errorf("windows closed %v, stats say %v, want 2", got, want)
	}
}

// TestMetricsIdleFlushNotTimed: a window closed by an idle flush counts as
// closed but has no close latency (stream time never passed it).
func TestMetricsIdleFlushNotTimed(t *testing.T) {
	m, reg := gokatest.Metrics(t)
	clk := &clock{t: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)}
	f := newFixture(t, func(p *Processor) {
		p.now = clk.now
		p.SetMetrics(m)
		p.SetIdleFlush(time.Minute)
	})
	const a = "10.0.0.1"
	f.send(a, tcp(1*time.Second, a, "192.0.2.1"))
	clk.add(2 * time.Minute)
	f.visit()
	if got := gokatest.Sample(t, reg, "riptide_windows_closed_total"); got != 1 {
		t.Fatalf("windows closed %v, want 1 (flushed)", got)
	}
	if got := gokatest.Sample(t, reg, "riptide_window_close_latency_seconds_count"); got != 0 {
		t.Errorf("%v close latencies observed for a flushed window, want 0", got)
	}
}

// TestNoMetrics: without SetMetrics (or with nil) the windower runs as
// before.
func TestNoMetrics(t *testing.T) {
	f := newFixture(t, func(p *Processor) { p.SetMetrics(nil) })
	const a = "10.0.0.1"
	f.send(a, tcp(1*time.Second, a, "192.0.2.1"))
	f.send(a, tcp(13*time.Second, a, "192.0.2.1"))
	if s := f.p.Stats(); s.Windows != 1 {
		t.Errorf("stats %+v, want 1 window", s)
	}
}
