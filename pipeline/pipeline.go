// Package pipeline assembles riptide's consumer groups (windower, trainer,
// detector) into one runnable unit for `riptide run` and `riptide demo`:
// each selected group runs under a supervisor that rebuilds it after a
// failure, and all stop together when the context ends.
package pipeline

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/lovoo/goka"

	"github.com/riptide-nids/riptide/kclient"
	"github.com/riptide-nids/riptide/ops"
	"github.com/riptide-nids/riptide/processors"
	"github.com/riptide-nids/riptide/processors/detector"
	"github.com/riptide-nids/riptide/processors/trainer"
	"github.com/riptide-nids/riptide/processors/windower"
	"github.com/riptide-nids/riptide/topology"
	"github.com/riptide-nids/riptide/window"
)

// Group names accepted by Config.Groups.
const (
	GroupWindower = "windower"
	GroupTrainer  = "trainer"
	GroupDetector = "detector"
)

// AllGroups lists every group in pipeline order.
var AllGroups = []string{GroupWindower, GroupTrainer, GroupDetector}

// Config configures a Pipeline.
type Config struct {
	Kafka   kclient.Config
	Window  window.Config
	Trainer trainer.Config
	// Groups selects which groups this process runs (default: all).
	Groups []string
	// Partitions is the partition count of the packets topic.
	Partitions int32
	// IdleFlush is how long a partition may receive nothing before the
	// windower closes its open windows (see windower.SetIdleFlush); 0 uses
	// windower.DefaultIdleFlush, negative disables it.
	IdleFlush time.Duration
	// Metrics, if not nil, is updated by every processor, polled consumer
	// lag and readiness (ready while every group's processor runs).
	Metrics *ops.Metrics
	// LagInterval is how often consumer lag is polled when Metrics is set
	// (default DefaultLagInterval).
	LagInterval time.Duration
}

// ParseGroups parses a comma-separated group list.
func ParseGroups(s string) ([]string, error) {
	var out []string
	for _, g := range strings.Split(s, ",") {
		g = strings.TrimSpace(g)
		if g == "" {
			continue
		}
		if !slices.Contains(AllGroups, g) {
			return nil, fmt.Errorf("pipeline: unknown group %q (choose from %s)", g, strings.Join(AllGroups, ","))
		}
		if !slices.Contains(out, g) {
			out = append(out, g)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("pipeline: no groups given (choose from %s)", strings.Join(AllGroups, ","))
	}
	return out, nil
}

// Pipeline is a set of running groups.
type Pipeline struct {
	cfg      Config
	top      *topology.Topology
	log      *slog.Logger
	Windower *windower.Processor
	Trainer  *trainer.Processor
	Detector *detector.Processor

	mu      sync.Mutex
	running map[string]bool // per group: its processor is running
}

// New builds the selected processors.
func New(top *topology.Topology, cfg Config, log *slog.Logger) (*Pipeline, error) {
	if len(cfg.Groups) == 0 {
		cfg.Groups = AllGroups
	}
	if err := cfg.Kafka.Validate(); err != nil {
		return nil, err
	}
	p := &Pipeline{cfg: cfg, top: top, log: log}
	var err error
	if slices.Contains(cfg.Groups, GroupWindower) {
		if p.Windower, err = windower.New(top, cfg.Window, cfg.Partitions, log); err != nil {
			return nil, err
		}
		switch {
		case cfg.IdleFlush > 0:
			p.Windower.SetIdleFlush(cfg.IdleFlush)
		case cfg.IdleFlush < 0:
			p.Windower.SetIdleFlush(0)
		}
	}
	if slices.Contains(cfg.Groups, GroupTrainer) {
		tc := cfg.Trainer
		tc.Window = cfg.Window
		if p.Trainer, err = trainer.New(top, tc, log); err != nil {
			return nil, err
		}
	}
	if slices.Contains(cfg.Groups, GroupDetector) {
		p.Detector = detector.New(top, log)
	}
	if m := cfg.Metrics; m != nil {
		if p.Windower != nil {
			p.Windower.SetMetrics(m)
		}
		if p.Trainer != nil {
			p.Trainer.SetMetrics(m)
		}
		if p.Detector != nil {
			p.Detector.SetMetrics(m)
		}
	}
	return p, nil
}

func (p *Pipeline) runnables() []processors.Runnable {
	opts := processors.Options(p.cfg.Kafka, p.log)
	build := func(g *goka.GroupGraph) func() (*goka.Processor, error) {
		return func() (*goka.Processor, error) { return goka.NewProcessor(p.cfg.Kafka.Brokers, g, opts...) }
	}
	var rs []processors.Runnable
	if p.Windower != nil {
		w := p.Windower
		wopts := append(slices.Clip(opts), goka.WithRebalanceCallback(func(a goka.Assignment) {
			p.log.Debug("windower: partitions assigned", "partitions", len(a))
			w.Rebalanced(a)
		}))
		g := w.Graph()
		rs = append(rs, processors.Runnable{Name: string(p.top.Windower), Ticker: w.Ticker,
			Build: func() (*goka.Processor, error) {
				w.Restarted()
				return goka.NewProcessor(p.cfg.Kafka.Brokers, g, wopts...)
			}})
	}
	if p.Trainer != nil {
		rs = append(rs, processors.Runnable{Name: string(p.top.Trainer), Build: build(p.Trainer.Graph()), Ticker: p.Trainer.Ticker})
	}
	if p.Detector != nil {
		rs = append(rs, processors.Runnable{Name: string(p.top.Detector), Build: build(p.Detector.Graph()), Ticker: p.Detector.Ticker})
	}
	p.running = make(map[string]bool, len(rs))
	for i := range rs {
		name := rs[i].Name
		p.running[name] = false
		rs[i].Running = func(on bool) { p.setRunning(name, on) }
	}
	p.setRunning("", false)
	return rs
}

// setRunning records whether group's processor runs and updates readiness.
func (p *Pipeline) setRunning(group string, on bool) {
	p.mu.Lock()
	if group != "" {
		p.running[group] = on
	}
	var down []string
	for g, ok := range p.running {
		if !ok {
			down = append(down, g)
		}
	}
	p.mu.Unlock()
	if len(down) == 0 {
		p.cfg.Metrics.SetReady(true, "")
		return
	}
	slices.Sort(down)
	p.cfg.Metrics.SetReady(false, "processors not running: "+strings.Join(down, ", "))
}

// Run runs the groups until ctx ends. ready, if not nil, is called once when
// every group is ready for the first time.
func (p *Pipeline) Run(ctx context.Context, ready func()) error {
	if p.Windower != nil {
		em, err := goka.NewEmitter(p.cfg.Kafka.Brokers, p.top.Features.Stream(), p.top.Features.Codec, kclient.GokaEmitterOptions(p.cfg.Kafka)...)
		if err != nil {
			return fmt.Errorf("pipeline: watermark emitter: %w", err)
		}
		defer func() { _ = em.Finish() }()
		// Watermarks go to the features topic with an empty key, after the
		// windows they cover have been emitted and acknowledged.
		p.Windower.SetWatermarkSink(func(_ context.Context, w *window.Vector) error {
			return em.EmitSync("", w)
		})
	}
	rs := p.runnables()
	var wg sync.WaitGroup
	if p.cfg.Metrics != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.pollLag(ctx)
		}()
	}
	readies := make([]chan struct{}, len(rs))
	for i, r := range rs {
		readies[i] = make(chan struct{})
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = processors.Supervise(ctx, p.log, r, readies[i])
		}()
	}
	go func() {
		for _, c := range readies {
			select {
			case <-c:
			case <-ctx.Done():
				return
			}
		}
		if ready != nil {
			ready()
		}
	}()
	wg.Wait()
	return nil
}
