// Package detector is the goka processor that scores feature vectors and
// emits anomalies.
//
// Group: <prefix>-detector. Input: <prefix>.features (key: host address,
// value: feature vector). Lookup: <prefix>-trainer-table (the model).
// Table: <prefix>-detector-table (key: host address, value: the start of
// the last scored window, for de-duplication, and windows waiting for a
// model). Outputs: <prefix>.anomalies (key: host address, value: JSON
// anomaly) and <prefix>.deadletter.
//
// Windows inside the learning period are not scored (they are the training
// data). Windows that arrive after it but before the model has reached this
// instance wait in the table and are scored as soon as it has. A window that
// was scored already (a repeat after a restart upstream) is dropped, so each
// (host, window) is scored once; a repeat of a window that was anomalous is
// alerted again with the same id (goka writes the anomaly and the table
// asynchronously, so a crash can keep the table's "scored" while the
// anomaly never reached Kafka; re-alerting the repeat makes delivery at
// least once). Consumers drop repeats by id.
package detector

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/lovoo/goka"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/riptide-nids/riptide/codecs"
	"github.com/riptide-nids/riptide/detect"
	"github.com/riptide-nids/riptide/ops"
	"github.com/riptide-nids/riptide/processors"
	"github.com/riptide-nids/riptide/processors/trainer"
	"github.com/riptide-nids/riptide/topology"
	"github.com/riptide-nids/riptide/window"
)

const (
	visitPending = "pending"
	// maxPending bounds the windows a host keeps while waiting for a model.
	maxPending = 64
)

// Stats are the detector's counters since start.
type Stats struct {
	Vectors, Scored, Anomalies, Duplicates, Learning, Pending, Dropped, DeadLetters int64
	// Realerted counts anomalies emitted again for repeated windows.
	Realerted int64
}

// Processor is the detector.
type Processor struct {
	top *topology.Topology
	log *slog.Logger
	// Reasons is how many features explain each anomaly.
	Reasons int

	vectors, scored, anomalies, duplicates, learning, dropped, dead, realerted atomic.Int64
	waiting                                                                    atomic.Int64
	badSchema                                                                  atomic.Bool
	// usable is the last model found fit to score with (the trainer's codec
	// returns the same pointer for the same model), so it is checked once.
	usable atomic.Pointer[detect.Model]

	m        *ops.Metrics
	consumed prometheus.Counter
}

// New returns a detector.
func New(top *topology.Topology, log *slog.Logger) *Processor {
	p := &Processor{top: top, log: log, Reasons: 3}
	p.SetMetrics(nil)
	return p
}

// SetMetrics makes the detector update m (nil: no metrics): records
// consumed, windows scored, anomalies, the score histogram, the model in
// use and dead letters. Call it before the processor runs.
func (p *Processor) SetMetrics(m *ops.Metrics) {
	p.m = m
	p.consumed = m.Consumed(string(p.top.Detector), p.top.Features.Name)
}

// Graph returns the goka group graph.
func (p *Processor) Graph() *goka.GroupGraph {
	return goka.DefineGroup(p.top.Detector,
		goka.Input(p.top.Features.Stream(), codecs.Bytes{}, p.onVector),
		goka.Lookup(goka.GroupTable(p.top.Trainer), trainer.NewStateCodec()),
		goka.Visitor(visitPending, p.onVisit),
		goka.Output(p.top.Anomalies.Stream(), p.top.Anomalies.Codec),
		goka.Output(p.top.DeadLetter.Stream(), p.top.DeadLetter.Codec),
		goka.Persist(StateCodec{}),
	)
}

// Stats returns the counters.
func (p *Processor) Stats() Stats {
	return Stats{
		Vectors: p.vectors.Load(), Scored: p.scored.Load(), Anomalies: p.anomalies.Load(),
		Duplicates: p.duplicates.Load(), Learning: p.learning.Load(), Pending: p.waiting.Load(),
		Realerted: p.realerted.Load(),
		Dropped:   p.dropped.Load(), DeadLetters: p.dead.Load(),
	}
}

// State is the detector table's value for one host.
type State struct {
	// Scored is true once a window of the host was scored; LastStart is the
	// start of the latest scored window.
	Scored    bool
	LastStart int64
	// Pending holds windows waiting for a model, oldest first.
	Pending []window.Vector
}

func (p *Processor) model(ctx goka.Context) *trainer.State {
	v := ctx.Lookup(goka.GroupTable(p.top.Trainer), trainer.DefaultModel)
	st, _ := v.(*trainer.State)
	return st
}

func (p *Processor) onVector(ctx goka.Context, msg any) {
	p.consumed.Inc()
	raw, _ := msg.([]byte)
	v := new(window.Vector)
	if err := codecs.DecodeVector(raw, v); err != nil {
		p.dead.Add(1)
		p.m.DeadLetter(processors.DeadLetterReason(err))
		processors.DeadLetter(ctx, p.top, p.top.Features.Name, raw, fmt.Errorf("detector: %w", err))
		return
	}
	if _, _, _, ok := v.Watermark(); ok {
		return
	}
	if err := processors.CheckVector(v); err != nil {
		p.dead.Add(1)
		p.m.DeadLetter(processors.DeadLetterReason(err))
		processors.DeadLetter(ctx, p.top, p.top.Features.Name, raw, fmt.Errorf("detector: %w", err))
		return
	}
	p.vectors.Add(1)
	st, _ := ctx.Value().(*State)
	if st == nil {
		st = &State{}
	}
	if st.Scored && v.Start <= st.LastStart {
		p.duplicates.Add(1)
		p.realert(ctx, v)
		return
	}
	ms := p.model(ctx)
	if ms != nil && ms.Model == nil && v.Start < ms.LearnEnd {
		p.learning.Add(1) // a training window
		return
	}
	st.Pending = append(st.Pending, *v)
	p.waiting.Add(1)
	if n := len(st.Pending) - maxPending; n > 0 {
		p.dropped.Add(int64(n))
		p.waiting.Add(int64(-n))
		st.Pending = st.Pending[n:]
	}
	p.drain(ctx, st, ms)
	ctx.SetValue(st)
}

// drain scores the pending windows of st if there is a usable model.
func (p *Processor) drain(ctx goka.Context, st *State, ms *trainer.State) {
	before := len(st.Pending)
	defer func() { p.waiting.Add(int64(len(st.Pending) - before)) }()
	// waiting counts pending windows of this instance; after a restart it
	// starts at zero while the table may hold some, so it is a hint only.
	if ms == nil || ms.Model == nil {
		return
	}
	if err := p.check(ms.Model); err != nil {
		if !p.badSchema.Swap(true) {
			p.log.Error("detector: the model does not fit this version's features or is invalid; waiting for a new model", "err", err)
		}
		return
	}
	p.m.SetModel(ms.Version, ms.ModelVersion(), ms.Model.CreatedAt)
	for i := range st.Pending {
		v := &st.Pending[i]
		if st.Scored && v.Start <= st.LastStart {
			p.duplicates.Add(1)
			continue
		}
		if v.Start < ms.Model.TrainEnd {
			p.learning.Add(1)
			continue
		}
		p.score(ctx, v, ms)
		st.Scored, st.LastStart = true, v.Start
	}
	st.Pending = st.Pending[:0]
}

// check returns nil if m can score this build's vectors: the same features
// in the same order, and consistent dimensions (a model that is not would
// panic in Score and stop the processor on every retry).
func (p *Processor) check(m *detect.Model) error {
	if p.usable.Load() == m {
		return nil
	}
	if err := m.Check(window.Names()); err != nil {
		return err
	}
	if err := m.Validate(); err != nil {
		return err
	}
	p.usable.Store(m)
	return nil
}

func (p *Processor) score(ctx goka.Context, v *window.Vector, ms *trainer.State) {
	p.scored.Add(1)
	m := ms.Model
	s := m.Score(v.Values)
	anomalous := m.IsAnomaly(s)
	p.m.Scored(s-m.Threshold, anomalous)
	if !anomalous {
		return
	}
	p.anomalies.Add(1)
	a := Anomaly(v, m, ms.ModelVersion(), s, p.Reasons)
	ctx.Emit(p.top.Anomalies.Stream(), v.Host, a)
}

// realert scores a repeat of a window scored before and, if it is
// anomalous, emits its anomaly again (same id): the first emission may have
// been lost in a crash that kept the table's record of the scoring.
func (p *Processor) realert(ctx goka.Context, v *window.Vector) {
	ms := p.model(ctx)
	if ms == nil || ms.Model == nil || v.Start < ms.Model.TrainEnd || p.check(ms.Model) != nil {
		return
	}
	m := ms.Model
	s := m.Score(v.Values)
	if !m.IsAnomaly(s) {
		return
	}
	p.realerted.Add(1)
	ctx.Emit(p.top.Anomalies.Stream(), v.Host, Anomaly(v, m, ms.ModelVersion(), s, p.Reasons))
}

// Anomaly builds the anomaly record of a flagged window.
func Anomaly(v *window.Vector, m *detect.Model, version string, score float64, reasons int) *codecs.Anomaly {
	a := &codecs.Anomaly{
		ID:           v.ID(),
		Host:         v.Host,
		WindowStart:  time.Unix(0, v.Start).UTC(),
		WindowEnd:    time.Unix(0, v.End).UTC(),
		Score:        score,
		Threshold:    m.Threshold,
		ModelVersion: version,
		DetectedAt:   time.Now().UTC(),
	}
	for _, r := range m.Explain(v.Values, reasons) {
		a.Reasons = append(a.Reasons, codecs.Reason{
			Feature: r.Feature, Value: r.Value, Typical: r.Typical, High: r.High, Z: r.Z,
			Text: window.Describe(r.Feature, r.Value, r.Typical, r.High),
		})
	}
	return a
}

func (p *Processor) onVisit(ctx goka.Context, _ any) {
	st, _ := ctx.Value().(*State)
	if st == nil || len(st.Pending) == 0 {
		return
	}
	ms := p.model(ctx)
	if ms == nil || ms.Model == nil {
		return
	}
	p.drain(ctx, st, ms)
	ctx.SetValue(st)
}

// Ticker scores waiting windows once the model has arrived, for hosts that
// send nothing new. Run it while the processor runs.
func (p *Processor) Ticker(ctx context.Context, gp *goka.Processor) {
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for n := 0; ; n++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			// waiting is exact for this run; every 10 s visit anyway for
			// windows left pending by an earlier run.
			if p.waiting.Load() <= 0 && n%40 != 0 {
				continue
			}
			if err := processors.VisitAll(ctx, gp, visitPending); err != nil && ctx.Err() == nil && !errors.Is(err, processors.ErrNotRunning) {
				p.log.Warn("detector: scoring waiting windows", "err", err)
			}
		}
	}
}

// StateCodec is the goka codec of the detector table.
type StateCodec struct{}

const stateVersion = 1

// ErrBadState is returned for a detector table value that does not decode.
var ErrBadState = errors.New("detector: bad state record")

// Encode implements goka.Codec.
func (StateCodec) Encode(v any) ([]byte, error) {
	st, ok := v.(*State)
	if !ok {
		return nil, fmt.Errorf("detector: state codec: got %T, want *detector.State", v)
	}
	b := []byte{stateVersion, 0}
	if st.Scored {
		b[1] = 1
	}
	b = binary.AppendVarint(b, st.LastStart)
	b = binary.AppendUvarint(b, uint64(len(st.Pending)))
	for i := range st.Pending {
		enc, err := codecs.AppendVector(nil, &st.Pending[i])
		if err != nil {
			return nil, fmt.Errorf("detector: state codec: %w", err)
		}
		b = binary.AppendUvarint(b, uint64(len(enc)))
		b = append(b, enc...)
	}
	return b, nil
}

// Decode implements goka.Codec.
func (StateCodec) Decode(b []byte) (any, error) {
	if len(b) < 2 || b[0] != stateVersion {
		return nil, ErrBadState
	}
	st := &State{Scored: b[1] == 1}
	b = b[2:]
	var n int
	st.LastStart, n = binary.Varint(b)
	if n <= 0 {
		return nil, ErrBadState
	}
	b = b[n:]
	cnt, n := binary.Uvarint(b)
	if n <= 0 || cnt > maxPending+1 {
		return nil, ErrBadState
	}
	b = b[n:]
	for range cnt {
		l, n := binary.Uvarint(b)
		if n <= 0 || l > uint64(len(b)-n) {
			return nil, ErrBadState
		}
		var v window.Vector
		if err := codecs.DecodeVector(b[n:n+int(l)], &v); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrBadState, err)
		}
		st.Pending = append(st.Pending, v)
		b = b[n+int(l):]
	}
	return st, nil
}
