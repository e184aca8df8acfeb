// Package notifier is the goka processor that turns anomalies into alerts.
//
// Group: <prefix>-notifier. Input: <prefix>.anomalies (key: host address,
// value: JSON anomaly). Table: <prefix>-notifier-table (key: host address,
// value: the host's incident as JSON, notify.Incident). Output:
// <prefix>.deadletter (anomalies that do not decode; alerts that could not
// be delivered are written there by the caller's notify.DeadLetterFunc).
//
// Anomalies are keyed by host, so one host's anomalies meet in one
// partition and its incident lives with them: members of the group share
// the partitions like every other group. The callback only updates the
// incident and hands alerts to a non-blocking submit function (a
// notify.Dispatcher), so a slow endpoint never holds up consumption. A
// visitor on a ticker resolves the incidents of hosts that are normal
// again (notify.Policy.Expire), judging event time by the largest window
// end seen on each partition.
package notifier

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lovoo/goka"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/riptide-nids/riptide/codecs"
	"github.com/riptide-nids/riptide/notify"
	"github.com/riptide-nids/riptide/ops"
	"github.com/riptide-nids/riptide/processors"
	"github.com/riptide-nids/riptide/topology"
)

const visitExpire = "expire"

// ForgetAfter is how long a resolved incident stays in the table (so that
// late redeliveries of its windows are recognised as repeats).
const ForgetAfter = 24 * time.Hour

// Stats are the notifier's counters since start.
type Stats struct {
	Anomalies, Repeats, Opened, Updated, Grouped, Resolved, DeadLetters int64
}

// Processor is the notifier.
type Processor struct {
	top    *topology.Topology
	log    *slog.Logger
	policy notify.Policy
	submit func(*notify.Alert)
	// Now is the processing-time clock (default time.Now).
	Now func() time.Time
	// Interval is how often the visitor checks for incidents to resolve
	// (default 1 s).
	Interval time.Duration

	mu     sync.Mutex
	stream map[int32]time.Time // largest window end seen per partition

	anomalies, repeats, opened, updated, grouped, resolved, dead atomic.Int64

	m        *ops.Metrics
	nm       *ops.NotifyMetrics
	consumed prometheus.Counter
}

// New returns a notifier that hands every alert to submit, which must not
// block (notify.Dispatcher.Submit does not).
func New(top *topology.Topology, policy notify.Policy, submit func(*notify.Alert), log *slog.Logger) (*Processor, error) {
	if err := policy.Validate(); err != nil {
		return nil, err
	}
	if submit == nil {
		return nil, errors.New("notifier: no submit function")
	}
	p := &Processor{top: top, log: log, policy: policy, submit: submit, Now: time.Now, Interval: time.Second, stream: map[int32]time.Time{}}
	p.SetMetrics(nil, nil)
	return p, nil
}

// SetMetrics makes the notifier update m and nm (either may be nil).
func (p *Processor) SetMetrics(m *ops.Metrics, nm *ops.NotifyMetrics) {
	p.m, p.nm = m, nm
	p.consumed = m.Consumed(string(p.top.Notifier), p.top.Anomalies.Name)
}

// Stats returns the counters.
func (p *Processor) Stats() Stats {
	return Stats{
		Anomalies: p.anomalies.Load(), Repeats: p.repeats.Load(), Opened: p.opened.Load(), Updated: p.updated.Load(),
		Grouped: p.grouped.Load(), Resolved: p.resolved.Load(), DeadLetters: p.dead.Load(),
	}
}

// Graph returns the goka group graph.
func (p *Processor) Graph() *goka.GroupGraph {
	return goka.DefineGroup(p.top.Notifier,
		goka.Input(p.top.Anomalies.Stream(), codecs.Bytes{}, p.onAnomaly),
		goka.Visitor(visitExpire, p.onVisit),
		goka.Output(p.top.DeadLetter.Stream(), p.top.DeadLetter.Codec),
		goka.Persist(IncidentCodec{}),
	)
}

func (p *Processor) onAnomaly(ctx goka.Context, msg any) {
	p.consumed.Inc()
	raw, _ := msg.([]byte)
	a, err := codecs.DecodeAnomaly(raw)
	if err == nil && a.Host != ctx.Key() {
		err = fmt.Errorf("key %q is not the anomaly's host %q: %w", ctx.Key(), a.Host, codecs.ErrInvalid)
	}
	if err != nil {
		p.dead.Add(1)
		p.m.DeadLetter(processors.DeadLetterReason(err))
		processors.DeadLetter(ctx, p.top, p.top.Anomalies.Name, raw, fmt.Errorf("notifier: %w", err))
		return
	}
	p.anomalies.Add(1)
	p.advance(ctx.Partition(), a.WindowEnd)
	inc, _ := ctx.Value().(*notify.Incident)
	next, alerts, out := p.policy.Observe(inc, a, p.Now())
	switch out {
	case notify.Repeat:
		p.repeats.Add(1)
		return
	case notify.Opened:
		p.opened.Add(1)
	case notify.Updated:
		p.updated.Add(1)
	case notify.Grouped:
		p.grouped.Add(1)
		p.nm.Grouped()
	}
	ctx.SetValue(next)
	for i := range alerts {
		p.send(&alerts[i])
	}
}

func (p *Processor) send(a *notify.Alert) {
	if a.Action == notify.ActionResolve {
		p.resolved.Add(1)
	}
	p.nm.Alert(string(a.Action))
	p.log.Info("notifier: incident "+string(a.Action), "incident", a.Incident.ID, "host", a.Incident.Host,
		"severity", a.Incident.Severity, "windows", a.Incident.Windows, "reason", a.Incident.ResolveReason)
	p.submit(a)
}

// advance moves partition part's stream time to end if it is later.
func (p *Processor) advance(part int32, end time.Time) {
	p.mu.Lock()
	if end.After(p.stream[part]) {
		p.stream[part] = end
	}
	p.mu.Unlock()
}

// StreamTime returns partition part's stream time (zero if unknown).
func (p *Processor) StreamTime(part int32) time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stream[part]
}

func (p *Processor) onVisit(ctx goka.Context, _ any) {
	inc, _ := ctx.Value().(*notify.Incident)
	if inc == nil {
		return
	}
	now := p.Now()
	if inc.Resolved {
		if now.Sub(inc.ResolvedAt) > ForgetAfter {
			ctx.Delete()
		}
		return
	}
	c := *inc
	if a := p.policy.Expire(&c, p.StreamTime(ctx.Partition()), now); a != nil {
		ctx.SetValue(&c)
		p.send(a)
	}
}

// Ticker resolves the incidents of hosts that are normal again. Run it
// while the processor runs.
func (p *Processor) Ticker(ctx context.Context, gp *goka.Processor) {
	t := time.NewTicker(p.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := processors.VisitAll(ctx, gp, visitExpire); err != nil && ctx.Err() == nil && !errors.Is(err, processors.ErrNotRunning) {
				p.log.Warn("notifier: checking incidents", "err", err)
			}
		}
	}
}

// Runnable returns the processor for processors.Supervise.
func (p *Processor) Runnable(build func(*goka.GroupGraph) (*goka.Processor, error)) processors.Runnable {
	g := p.Graph()
	return processors.Runnable{
		Name:   string(p.top.Notifier),
		Build:  func() (*goka.Processor, error) { return build(g) },
		Ticker: p.Ticker,
	}
}

// IncidentCodec is the goka codec of the notifier table: notify.Incident as
// JSON.
type IncidentCodec struct{}

// Encode implements goka.Codec.
func (IncidentCodec) Encode(v any) ([]byte, error) {
	inc, ok := v.(*notify.Incident)
	if !ok {
		return nil, fmt.Errorf("notifier: incident codec: got %T, want *notify.Incident", v)
	}
	return json.Marshal(inc)
}

// Decode implements goka.Codec.
func (IncidentCodec) Decode(b []byte) (any, error) {
	inc := new(notify.Incident)
	if err := json.Unmarshal(b, inc); err != nil {
		return nil, fmt.Errorf("notifier: incident codec: %w", err)
	}
	return inc, nil
}
