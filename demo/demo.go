// Package demo runs the whole riptide pipeline in one process on an
// embedded broker: topics, processors (windower, trainer, detector), a
// producer fed by a packet source (synthetic traffic or capture files), and
// a reader of the anomalies topic. It is what `riptide demo` runs, and what
// end-to-end tests and the throughput benchmark drive.
package demo

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/riptide-nids/riptide/codecs"
	"github.com/riptide-nids/riptide/embedded"
	"github.com/riptide-nids/riptide/kclient"
	"github.com/riptide-nids/riptide/ops"
	"github.com/riptide-nids/riptide/pipeline"
	"github.com/riptide-nids/riptide/processors/trainer"
	"github.com/riptide-nids/riptide/producers"
	"github.com/riptide-nids/riptide/topology"
	"github.com/riptide-nids/riptide/window"
)

// Options configure a demo run.
type Options struct {
	// Source yields the packets to replay (in capture order).
	Source producers.Source
	// Window and Learn configure windowing and the learning period.
	Window window.Config
	Learn  time.Duration
	// Trainer overrides the trainer configuration (Learn and Window are set
	// from the fields above).
	Trainer *trainer.Config
	// Partitions per topic (default 4).
	Partitions int32
	// Brokers, if set, uses that cluster instead of starting an embedded
	// broker.
	Brokers []string
	// Security is how to reach Brokers (TLS, SASL); unused with the
	// embedded broker.
	Security kclient.Security
	// Prefix of topics and groups (default "riptide").
	Prefix string
	// OnAnomaly is called for every anomaly read back from the anomalies
	// topic, with its raw JSON.
	OnAnomaly func(a *codecs.Anomaly, raw []byte)
	// OnProduced is called every 100,000 packets produced.
	OnProduced func(n int64)
	// Log receives progress and processor logs.
	Log *slog.Logger
	// Metrics, if not nil, is updated by the processors and the producer.
	Metrics *ops.Metrics
}

// Summary is what a demo run did.
type Summary struct {
	Packets          int64   `json:"packets"`
	Windows          int64   `json:"windows"`
	Anomalies        int64   `json:"anomalies"`
	LatePackets      int64   `json:"late_packets"`
	DeadLetters      int64   `json:"dead_letters"`
	ModelTrained     bool    `json:"model_trained"`
	ElapsedSeconds   float64 `json:"elapsed_seconds"`
	PacketsPerSecond float64 `json:"packets_per_second"`
	// StartupSeconds is the time to start the broker and processors, which
	// is not part of the elapsed time.
	StartupSeconds float64 `json:"startup_seconds"`
}

// Run runs the demo until the source is exhausted and every packet has made
// its way through the pipeline (or ctx ends).
func Run(ctx context.Context, o Options) (*Summary, error) {
	t0 := time.Now()
	if o.Partitions <= 0 {
		o.Partitions = 4
	}
	if o.Prefix == "" {
		o.Prefix = topology.DefaultPrefix
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	top, err := topology.New(o.Prefix)
	if err != nil {
		return nil, err
	}
	brokers, sec := o.Brokers, o.Security
	if len(brokers) == 0 {
		sec = kclient.Security{}
		b, err := embedded.Start(embedded.Options{})
		if err != nil {
			return nil, err
		}
		defer b.Close()
		brokers = b.Addrs()
	}
	kc := kclient.Config{Brokers: brokers, ClientID: "riptide-demo", Security: sec}
	cl, err := kclient.NewClient(kc, kgo.MaxBufferedRecords(100_000), kgo.ProducerBatchMaxBytes(4<<20))
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	if err := kclient.Ping(ctx, cl, brokers); err != nil {
		return nil, err
	}
	if _, err := kclient.CreateTopics(ctx, cl, kc, top.All(), o.Partitions); err != nil {
		return nil, err
	}

	tc := trainer.DefaultConfig()
	if o.Trainer != nil {
		tc = *o.Trainer
	}
	tc.Learn = o.Learn
	if o.Trainer == nil {
		// One process: vectors in flight between partitions arrive within
		// milliseconds, so the trainer need not wait long after the
		// watermarks say the learning period is complete.
		tc.Settle = 500 * time.Millisecond
	}
	p, err := pipeline.New(top, pipeline.Config{Kafka: kc, Window: o.Window, Trainer: tc, Partitions: o.Partitions, Metrics: o.Metrics}, o.Log)
	if err != nil {
		return nil, err
	}
	pctx, stop := context.WithCancel(ctx)
	defer stop()
	ready := make(chan struct{})
	runDone := make(chan struct{})
	go func() {
		defer close(runDone)
		_ = p.Run(pctx, func() { close(ready) })
	}()
	defer func() { stop(); <-runDone }()
	select {
	case <-ready:
	case <-ctx.Done():
		return nil, ctx.Err()
	}

	// Read anomalies back from the topic, as a user's consumer would.
	tl, err := kclient.NewClient(kc, kgo.ConsumeTopics(top.Anomalies.Name), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		return nil, err
	}
	defer tl.Close()
	var read atomic.Int64
	readCtx, stopRead := context.WithCancel(ctx)
	defer stopRead()
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		for {
			fs := tl.PollFetches(readCtx)
			if readCtx.Err() != nil {
				return
			}
			fs.EachRecord(func(r *kgo.Record) {
				read.Add(1)
				a, err := codecs.DecodeAnomaly(r.Value)
				if err != nil {
					o.Log.Warn("demo: undecodable anomaly", "err", err)
					return
				}
				if o.OnAnomaly != nil {
					o.OnAnomaly(a, r.Value)
				}
			})
		}
	}()
	startup := time.Since(t0)

	start := time.Now()
	prod, err := producers.New(cl, producers.Config{
		Topic: top.Packets.Name, Partitions: int(o.Partitions),
		FinalWatermark: o.Window.Size + o.Window.Grace, Metrics: o.Metrics,
	})
	if err != nil {
		return nil, err
	}
	rerr := producers.Replay(ctx, o.Source, prod, 0, o.OnProduced)
	if cerr := prod.Close(ctx); rerr == nil {
		rerr = cerr
	}
	if rerr != nil {
		return nil, rerr
	}
	st := prod.Stats()
	final := prod.FinalWatermark()
	if err := waitDrained(ctx, p, final, o.Log); err != nil {
		return nil, err
	}
	elapsed := time.Since(start)
	// Wait until the reader has every anomaly the detector emitted.
	want := p.Detector.Stats().Anomalies
	for read.Load() < want && ctx.Err() == nil {
		time.Sleep(10 * time.Millisecond)
	}
	stopRead()
	<-readDone

	ws, ds := p.Windower.Stats(), p.Detector.Stats()
	return &Summary{
		Packets: st.Packets, Windows: ws.Windows, Anomalies: ds.Anomalies, LatePackets: ws.Late,
		DeadLetters:    ws.DeadLetters + ds.DeadLetters,
		ModelTrained:   p.Trainer.Trained() > 0,
		ElapsedSeconds: elapsed.Seconds(), PacketsPerSecond: float64(st.Packets) / elapsed.Seconds(),
		StartupSeconds: startup.Seconds(),
	}, nil
}

// waitDrained waits until the windower has closed every window up to final
// and the trainer and detector have consumed every feature vector it emitted.
// It counts in process, which is exact for a demo that runs every group.
func waitDrained(ctx context.Context, p *pipeline.Pipeline, final int64, log *slog.Logger) error {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	stable := 0
	for n := 0; ; n++ {
		if n%500 == 499 {
			log.Info("demo: waiting for the pipeline to drain", "windower", p.Windower.Stats(), "detector", p.Detector.Stats(),
				"trainer_looped", p.Trainer.Looped(), "settled", p.Windower.Settled(final))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
		ws := p.Windower.Stats()
		ds := p.Detector.Stats()
		done := p.Windower.Settled(final) &&
			ds.Vectors+ds.DeadLetters >= ws.Windows &&
			p.Trainer.Looped() >= ws.Windows+ws.Announced &&
			!p.Trainer.Busy() &&
			(ds.Pending <= 0 || p.Trainer.Trained() == 0)
		if done {
			stable++
		} else {
			stable = 0
		}
		if stable >= 3 {
			return nil
		}
	}
}
