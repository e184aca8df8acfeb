// Package processors holds what riptide's goka processors share: running a
// processor under a supervisor that rebuilds it after failures, the common
// goka options, and dead-letter emission. Each consumer group lives in its
// own sub-package (windower, trainer, detector) as a thin adapter around the
// pure core packages.
package processors

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/lovoo/goka"

	"github.com/riptide-nids/riptide/codecs"
	"github.com/riptide-nids/riptide/kclient"
	"github.com/riptide-nids/riptide/ops"
	"github.com/riptide-nids/riptide/processors/memstore"
	"github.com/riptide-nids/riptide/topology"
)

// Headers of dead-letter records.
const (
	HeaderReason = "riptide-reason"
	HeaderSource = "riptide-source"
)

// DeadLetter emits raw to the dead-letter topic with the reason, keeping
// the original key. Processing goes on.
func DeadLetter(ctx goka.Context, top *topology.Topology, source string, raw []byte, reason error) {
	ctx.Emit(top.DeadLetter.Stream(), ctx.Key(), raw, goka.WithCtxEmitHeaders(goka.Headers{
		HeaderReason: []byte(reason.Error()),
		HeaderSource: []byte(source),
	}))
}

// DeadLetterReason classifies a dead-letter reason for the reason label of
// riptide_deadletters_total (the header keeps the full text): codec errors
// by their sentinel, ErrBadVector as invalid, anything else as other.
func DeadLetterReason(err error) string {
	switch {
	case errors.Is(err, codecs.ErrUnknownVersion):
		return ops.ReasonUnknownVersion
	case errors.Is(err, codecs.ErrTruncated), errors.Is(err, codecs.ErrCorrupt):
		return ops.ReasonUndecodable
	case errors.Is(err, ErrBadVector), errors.Is(err, codecs.ErrInvalid):
		return ops.ReasonInvalid
	}
	return ops.ReasonOther
}

// Options returns the goka options every riptide processor runs with:
// connection settings and fresh in-memory storage (tables are rebuilt from
// their compacted changelogs on start, so no stale local cache can survive a
// cluster reset).
func Options(kc kclient.Config, log *slog.Logger) []goka.ProcessorOption {
	opts := kclient.GokaOptions(kc)
	opts = append(opts,
		goka.WithStorageBuilder(memstore.Builder()),
		goka.WithLogger(gokaLogger{log}),
	)
	return opts
}

type gokaLogger struct{ l *slog.Logger }

func (g gokaLogger) Print(v ...any)            { g.l.Debug(fmt.Sprint(v...)) }
func (g gokaLogger) Println(v ...any)          { g.l.Debug(fmt.Sprint(v...)) }
func (g gokaLogger) Printf(f string, v ...any) { g.l.Debug(fmt.Sprintf(f, v...)) }

// Runnable is a goka processor under construction: Build returns a fresh
// processor (goka processors run once).
type Runnable struct {
	Name  string
	Build func() (*goka.Processor, error)
	// Ticker, if set, runs alongside the processor while it runs (e.g. a
	// visitor that closes idle windows) and stops with it.
	Ticker func(ctx context.Context, p *goka.Processor)
	// Running, if set, is called with true each time a built processor is
	// ready and with false each time it stops (readiness probes).
	Running func(running bool)
}

// Supervise runs r until ctx ends, rebuilding and restarting the processor
// with exponential back-off (1 s to 30 s) whenever it fails. ready is closed
// the first time the processor is ready (may be nil). It returns nil when ctx
// ends.
func Supervise(ctx context.Context, log *slog.Logger, r Runnable, ready chan<- struct{}) error {
	backoff := time.Second
	first := true
	for {
		start := time.Now()
		err := runOnce(ctx, log, r, func() {
			if first && ready != nil {
				close(ready)
			}
			first = false
		})
		if ctx.Err() != nil {
			return nil
		}
		if time.Since(start) > time.Minute {
			backoff = time.Second
		}
		log.Error("processor failed; restarting", "group", r.Name, "err", err, "backoff", backoff)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 30*time.Second)
	}
}

func runOnce(ctx context.Context, log *slog.Logger, r Runnable, onReady func()) error {
	p, err := r.Build()
	if err != nil {
		return fmt.Errorf("build %s: %w", r.Name, err)
	}
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if r.Running != nil {
		defer r.Running(false)
	}
	done := make(chan error, 1)
	go func() { done <- p.Run(pctx) }()
	readyErr := make(chan error, 1)
	go func() { readyErr <- p.WaitForReadyContext(pctx) }()
	for {
		select {
		case err := <-done:
			if err == nil && ctx.Err() == nil {
				err = errors.New("processor stopped without error")
			}
			return err
		case err := <-readyErr:
			readyErr = nil
			if err == nil {
				log.Info("processor ready", "group", r.Name)
				if r.Running != nil {
					r.Running(true) // before onReady: readiness holds when Run's ready callback runs
				}
				onReady()
				if r.Ticker != nil {
					go r.Ticker(pctx, p)
				}
			}
		}
	}
}

// ErrNotRunning is returned by VisitAll when the processor is not running
// (starting, rebalancing or stopping); the visit was skipped.
var ErrNotRunning = errors.New("processors: processor not running; visit skipped")

// VisitAll runs goka's VisitAll on gp only while gp is running. goka v1.1.17
// can panic with "send on closed channel" when a visit starts while a
// partition processor is being stopped (a rebalance, or a failure after a
// broker outage): PartitionProcessor.Stop closes the visit channel once its
// runner group is done, and a visit that registers with that group after
// the wait enqueues into the closed channel. The check narrows that window
// to the instant between it and the visit's start; tickers simply try again.
func VisitAll(ctx context.Context, gp *goka.Processor, name string) error {
	if gp.StateReader().State() != goka.ProcStateRunning {
		return ErrNotRunning
	}
	return gp.VisitAll(ctx, name, nil)
}
