// Package trainer is the goka processor that learns the detector's model.
//
// Group: <prefix>-trainer. Inputs: <prefix>.features (key: host address),
// <prefix>.feedback (key: window id, value: codecs.Feedback JSON) and
// <prefix>.control (key: model name, value: Command JSON).
// Loopback: <prefix>-trainer-loop (key: model name, value: a feature vector,
// feedback or command): every record is re-keyed to the model name so that
// one partition sees the windows of all hosts and every label. Table:
// <prefix>-trainer-table (key: model name, value: State: the champion model,
// the version history with the models kept for rollback, and the labelled
// windows). Detectors read the table with a goka lookup, so a promoted model
// reaches them without a restart.
//
// Learning: the earliest vector seen starts the learning period (event time);
// the period is fixed (and written to the table) once every windower
// partition's watermark has passed its start, so that a partition running
// ahead of the others cannot start it late.
// Vectors of windows that start inside it are kept in memory (a bounded
// reservoir); once a vector arrives that starts two windows after the period
// ended, the model is trained (detect.Train) and stored in the table, so a
// restart does not retrain. A restart during the learning period loses the
// vectors collected so far and learning continues with those that follow.
//
// Retraining: after the first model, windows the champion does not flag and
// no analyst called an attack are kept in memory (Config.Recent, newest
// first; lost on a restart and refilled from the windows that follow).
// Labels are kept in the table (Config.MaxLabels). After
// Config.RetrainLabels new labels, or Config.RetrainEvery after the last
// training, a challenger is trained on the recent windows plus every
// benign-labelled window (false positives, true negatives), each repeated so
// often that the one-class SVM cannot leave it outside its boundary (see
// learning.TrainingSet). Challenger and champion are evaluated on all
// labelled windows; the challenger is promoted when it detects no fewer
// labelled attacks and raises no more false alerts on labelled benign
// windows (learning.NotWorse), and kept as rejected otherwise. The newest
// Config.KeepModels former champions and rejected challengers keep their
// model, for the promote and rollback commands.
package trainer

import (
	"bytes"
	"context"
	"encoding/binary"
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
	"github.com/riptide-nids/riptide/detect"
	"github.com/riptide-nids/riptide/learning"
	"github.com/riptide-nids/riptide/ops"
	"github.com/riptide-nids/riptide/processors"
	"github.com/riptide-nids/riptide/topology"
	"github.com/riptide-nids/riptide/window"
)

// DefaultModel is the name (table key) of the model the detector uses.
const DefaultModel = "default"

// Config configures the trainer.
type Config struct {
	// Learn is the learning period in event time.
	Learn time.Duration
	// Window is the windowing configuration: training waits until every
	// windower partition's watermark has passed the end of the learning
	// period plus one window and the grace period.
	Window window.Config
	// Settle is how long (processing time) training waits after that, for
	// vectors still in flight between partitions.
	Settle time.Duration
	// Train configures the model.
	Train detect.TrainConfig
	// MaxSamples bounds the in-memory learning reservoir.
	MaxSamples int
	// MinSamples is the fewest windows a model is trained on; with fewer,
	// learning is extended by another period (and retraining waits).
	MinSamples int
	// Recent bounds the recent benign-looking windows kept in memory for
	// retraining (windows the champion did not flag and no analyst called
	// an attack; the newest replace the oldest).
	Recent int
	// RetrainLabels retrains after this many new labels; 0 disables.
	RetrainLabels int
	// RetrainEvery retrains when this much processing time has passed since
	// the last (re)training, checked as windows arrive; 0 disables.
	RetrainEvery time.Duration
	// MaxLabels bounds the labelled windows kept in the table (oldest
	// dropped first).
	MaxLabels int
	// KeepModels is how many non-champion versions keep their model in
	// the table for promote and rollback.
	KeepModels int
}

// DefaultConfig returns the default trainer configuration.
func DefaultConfig() Config {
	return Config{Learn: 15 * time.Minute, Window: window.DefaultConfig(), Settle: 2 * time.Second,
		Train: detect.DefaultTrainConfig(), MaxSamples: 100_000, MinSamples: 50,
		Recent: 20_000, RetrainLabels: 5, RetrainEvery: 6 * time.Hour, MaxLabels: 500, KeepModels: 3}
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	switch {
	case c.Learn <= 0:
		return fmt.Errorf("trainer: learn %v: must be positive", c.Learn)
	case c.Settle < 0:
		return fmt.Errorf("trainer: settle %v: must not be negative", c.Settle)
	case c.MaxSamples < c.MinSamples || c.MinSamples < 1:
		return fmt.Errorf("trainer: samples: need 1 <= min (%d) <= max (%d)", c.MinSamples, c.MaxSamples)
	case c.Recent < c.MinSamples:
		return fmt.Errorf("trainer: recent windows %d: need at least min samples (%d)", c.Recent, c.MinSamples)
	case c.RetrainLabels < 0 || c.RetrainEvery < 0:
		return fmt.Errorf("trainer: retrain after %d labels, every %v: must not be negative", c.RetrainLabels, c.RetrainEvery)
	case c.MaxLabels < 1 || c.KeepModels < 0:
		return fmt.Errorf("trainer: max labels %d, keep models %d: need at least 1 label and 0 models", c.MaxLabels, c.KeepModels)
	}
	if err := c.Window.Validate(); err != nil {
		return fmt.Errorf("trainer: %w", err)
	}
	return c.Train.Validate()
}

// State is the trainer table's value for one model name.
type State struct {
	// LearnStart and LearnEnd bound the learning period (ns since epoch).
	LearnStart int64 `json:"learn_start"`
	LearnEnd   int64 `json:"learn_end"`
	// Version is the champion's version; 0 while learning.
	Version uint64 `json:"version"`
	// Model is the champion, the model the detector uses; nil while
	// learning.
	Model *detect.Model `json:"model,omitempty"`
	// Trained is the highest version number given to a model (champion or
	// not); 0 in states written before versions were kept (then Version).
	Trained uint64 `json:"trained,omitempty"`
	// History lists the versions, oldest first (bounded).
	History []Entry `json:"history,omitempty"`
	// Labels are the labelled windows, oldest first (Config.MaxLabels).
	Labels []learning.Labelled `json:"labels,omitempty"`
	// NewLabels counts labels since the last retraining.
	NewLabels int `json:"new_labels,omitempty"`
	// RetrainedAt is when the last retraining ran (processing time, ns).
	RetrainedAt int64 `json:"retrained_at,omitempty"`
}

// ModelVersion names the model ("default-v1").
func (st *State) ModelVersion() string { return fmt.Sprintf("%s-v%d", DefaultModel, st.Version) }

// Processor is the trainer.
type Processor struct {
	top *topology.Topology
	cfg Config
	log *slog.Logger

	mu        sync.Mutex
	learner   *learning.Learner
	wm        map[int32]int64 // watermark per windower partition
	parts     int32
	dueAt     time.Time
	fixAt     time.Time // when the learning period became ready to fix
	trained   atomic.Int64
	forwarded atomic.Int64
	looped    atomic.Int64
	// recent holds the benign-looking windows seen since this instance
	// took the model's partition (retraining data; not persisted).
	recent *learning.Recent
	// early holds windows after the learning period that arrived before
	// the model was trained; they go to recent once it is.
	early []window.Vector
	// fit trains a model (detect.Train; tests replace it).
	fit func(X [][]float64, names []string, cfg detect.TrainConfig) (*detect.Model, error)
	// now is the processing-time clock of the retraining schedule.
	now func() time.Time

	m                                                           *ops.Metrics
	consumedIn, consumedLoop, consumedFeedback, consumedControl prometheus.Counter
}

// New returns a trainer.
func New(top *topology.Topology, cfg Config, log *slog.Logger) (*Processor, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	p := &Processor{top: top, cfg: cfg, log: log, learner: learning.New(cfg.Learn, cfg.Window.Size, cfg.MaxSamples), wm: map[int32]int64{},
		recent: learning.NewRecent(cfg.Recent), fit: detect.Train, now: time.Now}
	p.SetMetrics(nil)
	return p, nil
}

// SetMetrics makes the trainer update m (nil: no metrics): records
// consumed (features and loopback), the version of the model in its table
// and dead letters. Call it before the processor runs.
func (p *Processor) SetMetrics(m *ops.Metrics) {
	p.m = m
	p.consumedIn = m.Consumed(string(p.top.Trainer), p.top.Features.Name)
	p.consumedLoop = m.Consumed(string(p.top.Trainer), p.top.TrainerLoop())
	p.consumedFeedback = m.Consumed(string(p.top.Trainer), p.top.Feedback.Name)
	p.consumedControl = m.Consumed(string(p.top.Trainer), p.top.Control.Name)
}

// Graph returns the goka group graph.
func (p *Processor) Graph() *goka.GroupGraph {
	return goka.DefineGroup(p.top.Trainer,
		goka.Input(p.top.Features.Stream(), codecs.Bytes{}, p.onVector),
		goka.Input(p.top.Feedback.Stream(), codecs.Bytes{}, p.onFeedback),
		goka.Input(p.top.Control.Stream(), codecs.Bytes{}, p.onControl),
		goka.Loop(codecs.Bytes{}, p.onLoop),
		goka.Visitor(visitTrain, p.onVisit),
		goka.Output(p.top.DeadLetter.Stream(), p.top.DeadLetter.Codec),
		goka.Persist(NewStateCodec()),
	)
}

// Trained returns how many models this instance trained.
func (p *Processor) Trained() int64 { return p.trained.Load() }

func (p *Processor) onVector(ctx goka.Context, msg any) {
	p.forwarded.Add(1)
	p.consumedIn.Inc()
	ctx.Loopback(DefaultModel, msg)
}

// Busy reports whether fixing the learning period or training is due and
// waiting for in-flight vectors (Settle), or running.
func (p *Processor) Busy() bool {
	if !p.mu.TryLock() {
		return true
	}
	defer p.mu.Unlock()
	return !p.dueAt.IsZero() || !p.fixAt.IsZero()
}

// Looped returns how many vectors and watermarks reached the learning
// partition.
func (p *Processor) Looped() int64 { return p.looped.Load() }

func (p *Processor) onLoop(ctx goka.Context, msg any) {
	p.looped.Add(1)
	p.consumedLoop.Inc()
	raw, _ := msg.([]byte)
	if len(raw) > 0 && raw[0] == '{' {
		p.onLoopJSON(ctx, raw)
		return
	}
	var v window.Vector
	if err := codecs.DecodeVector(raw, &v); err != nil {
		p.m.DeadLetter(processors.DeadLetterReason(err))
		processors.DeadLetter(ctx, p.top, p.top.TrainerLoop(), raw, fmt.Errorf("trainer: %w", err))
		return
	}
	st, _ := ctx.Value().(*State)
	if st == nil {
		st = &State{}
	}
	if st.Model != nil {
		p.m.SetModel(st.Version, st.ModelVersion(), st.Model.CreatedAt)
		if _, _, _, ok := v.Watermark(); ok || processors.CheckVector(&v) != nil {
			return
		}
		p.mu.Lock()
		defer p.mu.Unlock()
		if cl := st.clone(); p.offerRecent(cl, &v) {
			ctx.SetValue(cl)
		}
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if part, parts, t, ok := v.Watermark(); ok {
		if t > p.wm[part] {
			p.wm[part] = t
		}
		p.parts = parts
		p.maybeFix(ctx, st)
		p.maybeTrain(ctx, st)
		return
	}
	if err := processors.CheckVector(&v); err != nil {
		p.m.DeadLetter(processors.DeadLetterReason(err))
		processors.DeadLetter(ctx, p.top, p.top.TrainerLoop(), raw, fmt.Errorf("trainer: %w", err))
		return
	}
	if st.LearnStart != 0 && p.learner.Start != st.LearnStart {
		p.learner.Resume(st.LearnStart, st.LearnEnd) // restarted, or another instance's partition
	}
	if ctx.Value() == nil {
		// The key exists from the first vector on (empty: no period yet), so
		// that the ticker's visits reach it when fixing the period is due.
		ctx.SetValue(st)
	}
	// When to train is decided by watermarks, below.
	if p.learner.Offer(&v) != learning.Kept && len(p.early) < p.cfg.Recent {
		p.early = append(p.early, v) // after the period: retraining data once the model exists
	}
	p.maybeFix(ctx, st)
	p.maybeTrain(ctx, st)
}

// maybeFix fixes the learning period once every windower partition has
// passed its provisional start (plus a window and the grace period) and
// Settle has elapsed since: every window that starts earlier has been
// emitted by then, so the period starts with the earliest window of the
// stream, not with whichever window arrived first (partitions replaying a
// backlog run ahead of each other by minutes). The period is written to the
// table only then; until it is (the table holds an empty state), detectors
// keep windows pending. p.mu is held.
func (p *Processor) maybeFix(ctx goka.Context, st *State) {
	if st.LearnStart != 0 || p.learner.Start == 0 || !p.passed(p.learner.Start+int64(p.cfg.Window.Size+p.cfg.Window.Grace)) {
		return
	}
	if p.fixAt.IsZero() {
		p.fixAt = time.Now()
	}
	if time.Since(p.fixAt) < p.cfg.Settle {
		return
	}
	p.fixAt = time.Time{}
	p.learner.Fix()
	st.LearnStart, st.LearnEnd = p.learner.Start, p.learner.End
	ctx.SetValue(st)
	p.log.Info("trainer: learning", "from", time.Unix(0, st.LearnStart).UTC(), "until", time.Unix(0, st.LearnEnd).UTC())
}

// passed reports whether every windower partition has announced a
// watermark at or after t; p.mu is held.
func (p *Processor) passed(t int64) bool {
	if p.parts == 0 || int32(len(p.wm)) < p.parts {
		return false
	}
	for _, w := range p.wm {
		if w < t {
			return false
		}
	}
	return true
}

const visitTrain = "train"

func (p *Processor) onVisit(ctx goka.Context, _ any) {
	st, _ := ctx.Value().(*State)
	if st == nil || st.Model != nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.maybeFix(ctx, st)
	p.maybeTrain(ctx, st)
}

// maybeTrain trains once every windower partition has passed the learning
// period (plus a window and the grace period) and Settle has elapsed since;
// p.mu is held.
func (p *Processor) maybeTrain(ctx goka.Context, st *State) {
	if st.LearnStart == 0 || !p.passed(st.LearnEnd+int64(p.cfg.Window.Size+p.cfg.Window.Grace)) {
		return
	}
	if p.dueAt.IsZero() {
		p.dueAt = time.Now()
	}
	if time.Since(p.dueAt) < p.cfg.Settle {
		return
	}
	p.dueAt = time.Time{}
	p.train(ctx, st)
}

// Ticker lets training happen when no more vectors arrive (the end of a
// replay): every 250 ms it visits the trainer table. Run it while the
// processor runs.
func (p *Processor) Ticker(ctx context.Context, gp *goka.Processor) {
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			p.mu.Lock()
			waiting := !p.dueAt.IsZero() || !p.fixAt.IsZero()
			p.mu.Unlock()
			if !waiting {
				continue
			}
			if err := processors.VisitAll(ctx, gp, visitTrain); err != nil && ctx.Err() == nil && !errors.Is(err, processors.ErrNotRunning) {
				p.log.Warn("trainer: visit", "err", err)
			}
		}
	}
}

// train trains on the learner's samples; p.mu is held.
func (p *Processor) train(ctx goka.Context, st *State) {
	X := p.learner.Samples()
	if len(X) < p.cfg.MinSamples {
		p.learner.Extend()
		st.LearnEnd = p.learner.End
		ctx.SetValue(st)
		p.log.Warn("trainer: too few windows to learn from; extending the learning period",
			"windows", len(X), "min", p.cfg.MinSamples, "until", time.Unix(0, st.LearnEnd).UTC())
		return
	}
	start := time.Now()
	m, err := p.fit(X, window.Names(), p.cfg.Train)
	if err != nil {
		p.learner.Extend()
		st.LearnEnd = p.learner.End
		ctx.SetValue(st)
		p.log.Error("trainer: training failed; extending the learning period", "err", err)
		return
	}
	m.SchemaID = window.SchemaID()
	m.TrainStart, m.TrainEnd = st.LearnStart, st.LearnEnd
	st.Version = max(st.Version, st.Trained) + 1
	st.Trained = st.Version
	st.Model = m
	st.History = append(st.History, Entry{Version: st.Version, Status: StatusChampion, CreatedAt: m.CreatedAt,
		DecidedAt: m.CreatedAt, Trigger: "learning", Reason: "first model", NTrain: m.NTrain, From: st.LearnStart, To: st.LearnEnd,
		Eval: learning.Evaluate(m, st.Labels)})
	ctx.SetValue(st)
	p.trained.Add(1)
	p.m.SetModel(st.Version, st.ModelVersion(), m.CreatedAt)
	p.learner.Reset()
	for i := range p.early {
		p.offerRecent(st, &p.early[i])
	}
	p.early = nil
	p.log.Info("trainer: model trained", "version", st.ModelVersion(), "windows", len(X),
		"support_vectors", len(m.SV), "threshold", m.Threshold, "took", time.Since(start).Round(time.Millisecond))
}

// StateCodec is the goka codec of the trainer table. Values start with a
// header carrying the model version, so that decoding the same trained model
// again (detectors look it up for every window) returns the cached value
// instead of parsing it.
type StateCodec struct {
	cache *atomic.Pointer[cached]
}

type cached struct {
	version uint64
	raw     []byte // the encoded value, compared in full: cheaper than a decode
	state   *State
}

// NewStateCodec returns a codec with its own decode cache.
func NewStateCodec() StateCodec { return StateCodec{cache: new(atomic.Pointer[cached])} }

var stateMagic = []byte("RTS1")

// ErrBadState is returned when a table value is not a trainer state.
var ErrBadState = errors.New("trainer: bad state record")

// Encode implements goka.Codec.
func (c StateCodec) Encode(v any) ([]byte, error) {
	st, ok := v.(*State)
	if !ok {
		return nil, fmt.Errorf("trainer: state codec: got %T, want *trainer.State", v)
	}
	var buf bytes.Buffer
	buf.Write(stateMagic)
	var ver [8]byte
	binary.BigEndian.PutUint64(ver[:], st.Version)
	buf.Write(ver[:])
	if err := json.NewEncoder(&buf).Encode(st); err != nil {
		return nil, fmt.Errorf("trainer: state codec: %w", err)
	}
	return buf.Bytes(), nil
}

// Decode implements goka.Codec. The returned state must not be modified by
// callers that did not decode it themselves (it may be shared).
func (c StateCodec) Decode(b []byte) (any, error) {
	if len(b) < len(stateMagic)+8 || !bytes.Equal(b[:len(stateMagic)], stateMagic) {
		return nil, ErrBadState
	}
	ver := binary.BigEndian.Uint64(b[len(stateMagic):])
	if c.cache != nil && ver > 0 {
		if hit := c.cache.Load(); hit != nil && hit.version == ver && bytes.Equal(hit.raw, b) {
			return hit.state, nil
		}
	}
	st := new(State)
	if err := json.Unmarshal(b[len(stateMagic)+8:], st); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadState, err)
	}
	if c.cache != nil && ver > 0 {
		c.cache.Store(&cached{version: ver, raw: bytes.Clone(b), state: st})
	}
	return st, nil
}
