package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/riptide-nids/riptide/siem"
)

// Sink delivers alerts to one endpoint.
type Sink interface {
	// Name names the sink in logs, metrics and dead letters ("slack",
	// "pagerduty", "webhook").
	Name() string
	// Send delivers one alert, once. It must honour ctx. An error wrapping
	// ErrPermanent is not retried; an *HTTPError carries the status and a
	// Retry-After the server asked for.
	Send(ctx context.Context, a *Alert) error
}

// ErrPermanent marks a delivery error that retrying cannot fix (a bad
// request, a revoked token): the alert goes to the dead-letter topic at
// once.
var ErrPermanent = errors.New("permanent")

// HTTPError is a response with an unexpected status.
type HTTPError struct {
	Status int
	// RetryAfter is the server's Retry-After, if any.
	RetryAfter time.Duration
	// Body is the start of the response body (endpoints do not echo
	// secrets back; it is cut at 200 bytes).
	Body string
}

func (e *HTTPError) Error() string {
	s := fmt.Sprintf("HTTP %d", e.Status)
	if e.Body != "" {
		s += ": " + e.Body
	}
	return s
}

// Is makes 4xx responses other than 408 and 429 permanent.
func (e *HTTPError) Is(target error) bool {
	return target == ErrPermanent && e.Status >= 400 && e.Status < 500 &&
		e.Status != http.StatusRequestTimeout && e.Status != http.StatusTooManyRequests
}

// Clock is the time source of the dispatcher: the real one in production,
// a fake one in tests.
type Clock interface {
	Now() time.Time
	// Sleep waits d or until ctx ends (then it returns ctx.Err()).
	Sleep(ctx context.Context, d time.Duration) error
}

// RealClock is the wall clock.
type RealClock struct{}

// Now implements Clock.
func (RealClock) Now() time.Time { return time.Now() }

// Sleep implements Clock.
func (RealClock) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Limiter is a token bucket: Rate alerts per second on average, Burst at
// once. It is not safe for concurrent use (each sink's worker owns one).
type Limiter struct {
	rate   float64
	burst  float64
	tokens float64
	last   time.Time
}

// NewLimiter returns a full bucket; rate <= 0 means no limit.
func NewLimiter(rate float64, burst int) *Limiter {
	if burst < 1 {
		burst = 1
	}
	return &Limiter{rate: rate, burst: float64(burst), tokens: float64(burst)}
}

// Reserve takes a token at now and returns how long to wait before using
// it (0 if one was available).
func (l *Limiter) Reserve(now time.Time) time.Duration {
	if l.rate <= 0 {
		return 0
	}
	if !l.last.IsZero() {
		l.tokens = min(l.burst, l.tokens+now.Sub(l.last).Seconds()*l.rate)
	}
	l.last = now
	l.tokens--
	if l.tokens >= 0 {
		return 0
	}
	return time.Duration(-l.tokens / l.rate * float64(time.Second))
}

// Retry is the retry schedule of a sink.
type Retry struct {
	// Attempts is how many times an alert is tried in all (default 5).
	Attempts int
	// Base is the wait after the first failure; it doubles after each
	// further one, up to Max (defaults 1 s and 1 min). A Retry-After from
	// the server is honoured up to Max.
	Base, Max time.Duration
	// Timeout bounds each attempt (default 10 s).
	Timeout time.Duration
}

// DefaultRetry returns the default schedule: 5 attempts, waits of 1, 2, 4
// and 8 s, 10 s per attempt.
func DefaultRetry() Retry {
	return Retry{Attempts: 5, Base: time.Second, Max: time.Minute, Timeout: 10 * time.Second}
}

// Backoff returns the wait after failed attempt n (1-based).
func (r Retry) Backoff(n int, err error) time.Duration {
	d := r.Base
	for i := 1; i < n && d < r.Max; i++ {
		d *= 2
	}
	var he *HTTPError
	if errors.As(err, &he) && he.RetryAfter > d {
		d = he.RetryAfter
	}
	return min(d, r.Max)
}

// Route sends the alerts of incidents at or above MinSeverity to Sink, at
// most Rate per second (Burst at once), with the Retry schedule.
type Route struct {
	Sink        Sink
	MinSeverity string
	Rate        float64
	Burst       int
	Retry       Retry
	// Queue bounds the alerts waiting for this sink (default 1000); when
	// it is full, new alerts are dropped and counted.
	Queue int
}

// DeadLetterFunc hands an alert that could not be delivered to the
// dead-letter topic. err says why (the last error, after every retry).
type DeadLetterFunc func(ctx context.Context, a *Alert, sink string, err error) error

// Metrics is what the dispatcher reports; ops.NotifyMetrics implements it
// and a nil value is fine.
type Metrics interface {
	Notification(sink, result string)
	Retried(sink string)
	QueueLength(sink string, n int)
}

// Results of Metrics.Notification.
const (
	ResultSent       = "sent"
	ResultDeadLetter = "deadletter"
	ResultDropped    = "dropped"
)

// Dispatcher delivers alerts to routes. Submit never blocks: every route
// has its own bounded queue and worker, so a slow or failing endpoint
// delays only its own alerts and never the consumer that submits them.
type Dispatcher struct {
	routes []*route
	clock  Clock
	dead   DeadLetterFunc
	m      Metrics
	log    *slog.Logger
}

type route struct {
	Route
	q   chan *Alert
	lim *Limiter
}

// NewDispatcher returns a dispatcher for routes; dead receives the alerts
// that fail every attempt. clock nil means the wall clock; m may be nil.
func NewDispatcher(routes []Route, dead DeadLetterFunc, clock Clock, m Metrics, log *slog.Logger) (*Dispatcher, error) {
	if clock == nil {
		clock = RealClock{}
	}
	d := &Dispatcher{clock: clock, dead: dead, m: m, log: log}
	for _, r := range routes {
		if r.Sink == nil {
			return nil, errors.New("notify: route without a sink")
		}
		if r.MinSeverity == "" {
			r.MinSeverity = siem.SeverityInfo
		}
		if _, err := siem.ParseSeverity(r.MinSeverity); err != nil {
			return nil, fmt.Errorf("notify: %s: %w", r.Sink.Name(), err)
		}
		def := DefaultRetry()
		if r.Retry.Attempts <= 0 {
			r.Retry.Attempts = def.Attempts
		}
		if r.Retry.Base <= 0 {
			r.Retry.Base = def.Base
		}
		if r.Retry.Max <= 0 {
			r.Retry.Max = def.Max
		}
		if r.Retry.Timeout <= 0 {
			r.Retry.Timeout = def.Timeout
		}
		if r.Queue <= 0 {
			r.Queue = 1000
		}
		d.routes = append(d.routes, &route{Route: r, q: make(chan *Alert, r.Queue), lim: NewLimiter(r.Rate, r.Burst)})
	}
	return d, nil
}

// Submit queues a for every route whose minimum severity the incident
// reaches. It never blocks: a full queue drops the alert and counts it.
func (d *Dispatcher) Submit(a *Alert) {
	for _, r := range d.routes {
		if siem.SeverityRank(a.Severity()) < siem.SeverityRank(r.MinSeverity) {
			continue
		}
		select {
		case r.q <- a:
			d.queueLen(r)
		default:
			d.count(r.Sink.Name(), ResultDropped)
			d.log.Warn("notify: queue full; alert dropped", "sink", r.Sink.Name(), "incident", a.Incident.ID, "action", a.Action, "queue", cap(r.q))
		}
	}
}

// Run delivers queued alerts until ctx ends. Alerts still queued then are
// dropped and counted (at-most-once; see the README).
func (d *Dispatcher) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, r := range d.routes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d.work(ctx, r)
		}()
	}
	wg.Wait()
	for _, r := range d.routes {
		for range len(r.q) {
			<-r.q
			d.count(r.Sink.Name(), ResultDropped)
		}
		d.queueLen(r)
	}
}

func (d *Dispatcher) work(ctx context.Context, r *route) {
	for {
		select {
		case <-ctx.Done():
			return
		case a := <-r.q:
			d.queueLen(r)
			d.deliver(ctx, r, a)
		}
	}
}

// deliver sends a with retries; after the last failure it goes to the
// dead-letter topic.
func (d *Dispatcher) deliver(ctx context.Context, r *route, a *Alert) {
	name := r.Sink.Name()
	var err error
	for n := 1; n <= r.Retry.Attempts; n++ {
		if wait := r.lim.Reserve(d.clock.Now()); wait > 0 {
			if d.clock.Sleep(ctx, wait) != nil {
				return
			}
		}
		actx, cancel := context.WithTimeout(ctx, r.Retry.Timeout)
		err = r.Sink.Send(actx, a)
		cancel()
		if err == nil {
			d.count(name, ResultSent)
			d.log.Info("notify: alert sent", "sink", name, "action", a.Action, "incident", a.Incident.ID, "severity", a.Severity(), "windows", a.Incident.Windows)
			return
		}
		if ctx.Err() != nil {
			return
		}
		if errors.Is(err, ErrPermanent) || n == r.Retry.Attempts {
			break
		}
		wait := r.Retry.Backoff(n, err)
		d.log.Warn("notify: delivery failed; retrying", "sink", name, "incident", a.Incident.ID, "attempt", n, "backoff", wait, "err", err)
		if d.m != nil {
			d.m.Retried(name)
		}
		if d.clock.Sleep(ctx, wait) != nil {
			return
		}
	}
	d.count(name, ResultDeadLetter)
	d.log.Error("notify: alert not delivered; sent to the dead-letter topic", "sink", name, "incident", a.Incident.ID, "action", a.Action, "err", err)
	if d.dead != nil {
		reason := fmt.Errorf("notify: %s: %s not delivered after %s: %w", name, a.Action, attempts(err, r.Retry.Attempts), err)
		if derr := d.dead(ctx, a, name, reason); derr != nil {
			d.log.Error("notify: dead-letter write failed; alert lost", "sink", name, "incident", a.Incident.ID, "err", derr)
		}
	}
}

func attempts(err error, n int) string {
	if errors.Is(err, ErrPermanent) {
		return "a permanent error"
	}
	return fmt.Sprintf("%d attempts", n)
}

func (d *Dispatcher) count(sink, result string) {
	if d.m != nil {
		d.m.Notification(sink, result)
	}
}

func (d *Dispatcher) queueLen(r *route) {
	if d.m != nil {
		d.m.QueueLength(r.Sink.Name(), len(r.q))
	}
}
