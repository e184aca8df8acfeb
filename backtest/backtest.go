// Package backtest runs riptide's windowing, learning and detection over a
// capture without Kafka, and scores the anomalies against labels. It uses the
// same core code as the processors (window, learning, detect), so what a
// backtest reports is what the pipeline does on the same traffic, give or take
// the cross-partition ordering of windows.
package backtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/riptide-nids/riptide/codecs"
	"github.com/riptide-nids/riptide/detect"
	"github.com/riptide-nids/riptide/learning"
	"github.com/riptide-nids/riptide/packet"
	"github.com/riptide-nids/riptide/processors/detector"
	"github.com/riptide-nids/riptide/window"
)

// ErrNoModel is returned when the capture ended before the learning period
// did, so nothing could be scored.
var ErrNoModel = errors.New("backtest: the capture ended before the learning period did (use a shorter --learn)")

// Config configures a backtest.
type Config struct {
	Window     window.Config
	Learn      time.Duration
	Train      detect.TrainConfig
	MaxSamples int
	Reasons    int
}

// DefaultConfig mirrors the pipeline's defaults.
func DefaultConfig() Config {
	return Config{Window: window.DefaultConfig(), Learn: 15 * time.Minute, Train: detect.DefaultTrainConfig(), MaxSamples: 100_000, Reasons: 3}
}

// Source yields packet summaries in capture order (io.EOF at the end).
type Source interface {
	Next(s *packet.Summary) error
}

// Scored is one scored window.
type Scored struct {
	Host       string
	Start, End int64
	Score      float64
	Anomaly    bool
}

// Result is what a backtest saw and found.
type Result struct {
	Packets      int64
	Windows      int64
	Late         int64
	Learning     int64
	Scored       []Scored
	Anomalies    []*codecs.Anomaly
	Model        *detect.Model
	LearnStart   int64
	LearnEnd     int64
	TrainSamples int
	TrainTime    time.Duration
	Elapsed      time.Duration
}

// Run reads src to the end. onAnomaly, if not nil, sees each anomaly as it
// is found; progress, if not nil, is called every 100,000 packets.
func Run(ctx context.Context, src Source, cfg Config, onAnomaly func(*codecs.Anomaly), progress func(packets int64)) (*Result, error) {
	start := time.Now()
	res := &Result{}
	lr := learning.New(cfg.Learn, cfg.Window.Size, cfg.MaxSamples)
	var pending []*window.Vector
	var runErr error
	score := func(v *window.Vector) {
		if v.Start < res.Model.TrainEnd {
			res.Learning++
			return
		}
		s := res.Model.Score(v.Values)
		an := res.Model.IsAnomaly(s)
		res.Scored = append(res.Scored, Scored{Host: v.Host, Start: v.Start, End: v.End, Score: s, Anomaly: an})
		if an {
			a := detector.Anomaly(v, res.Model, "backtest-v1", s, cfg.Reasons)
			res.Anomalies = append(res.Anomalies, a)
			if onAnomaly != nil {
				onAnomaly(a)
			}
		}
	}
	train := func() {
		t0 := time.Now()
		X := lr.Samples()
		res.TrainSamples = len(X)
		m, err := detect.Train(X, window.Names(), cfg.Train)
		if err != nil {
			runErr = fmt.Errorf("backtest: train on %d windows: %w", len(X), err)
			return
		}
		m.SchemaID = window.SchemaID()
		m.TrainStart, m.TrainEnd = lr.Start, lr.End
		res.Model, res.TrainTime = m, time.Since(t0)
		res.LearnStart, res.LearnEnd = lr.Start, lr.End
		lr.Reset()
		for _, v := range pending {
			score(v)
		}
		pending = nil
	}
	agg := window.NewAggregator(cfg.Window, func(v *window.Vector) {
		res.Windows++
		if runErr != nil {
			return
		}
		if res.Model != nil {
			score(v)
			return
		}
		switch lr.Offer(v) {
		case learning.Kept:
			res.Learning++
		case learning.Waiting:
			c := *v
			c.Values = append([]float64(nil), v.Values...)
			pending = append(pending, &c)
		case learning.Due:
			c := *v
			c.Values = append([]float64(nil), v.Values...)
			pending = append(pending, &c)
			train()
		}
	})
	var s packet.Summary
	for {
		err := src.Next(&s)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		agg.Add(&s)
		res.Packets++
		if res.Packets&8191 == 0 {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if progress != nil && res.Packets%100_000 < 8192 {
				progress(res.Packets)
			}
		}
		if runErr != nil {
			return nil, runErr
		}
	}
	agg.Flush()
	if runErr != nil {
		return nil, runErr
	}
	if res.Model == nil && len(pending) > 0 {
		train() // the capture ended while waiting for stragglers
	}
	if runErr != nil {
		return nil, runErr
	}
	res.Late = int64(agg.Stats().Late)
	res.Elapsed = time.Since(start)
	if res.Model == nil {
		return res, ErrNoModel
	}
	return res, nil
}

// Flags returns the flagged windows of a result, for Evaluate.
func (r *Result) Flags() []Flag {
	out := make([]Flag, 0, len(r.Anomalies))
	for _, a := range r.Anomalies {
		out = append(out, Flag{Host: a.Host, Start: a.WindowStart, End: a.WindowEnd})
	}
	return out
}

// Negatives counts scored windows that overlap no labelled span of their host.
func (r *Result) Negatives(labels []Label) int {
	byHost := map[string][]Label{}
	for _, l := range labels {
		byHost[l.Host] = append(byHost[l.Host], l)
	}
	n := 0
	for _, s := range r.Scored {
		neg := true
		for _, l := range byHost[s.Host] {
			if s.Start <= l.End.UnixNano() && s.End > l.Start.UnixNano() {
				neg = false
				break
			}
		}
		if neg {
			n++
		}
	}
	return n
}
