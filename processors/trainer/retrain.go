package trainer

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/lovoo/goka"

	"github.com/riptide-nids/riptide/codecs"
	"github.com/riptide-nids/riptide/detect"
	"github.com/riptide-nids/riptide/learning"
	"github.com/riptide-nids/riptide/processors"
	"github.com/riptide-nids/riptide/window"
)

// Statuses of a model in State.History.
const (
	StatusChampion   = "champion"    // the model the detector uses
	StatusRetired    = "retired"     // a former champion, replaced by a better one or by promote
	StatusRejected   = "rejected"    // a challenger that was worse on the labelled windows
	StatusRolledBack = "rolled-back" // a former champion replaced by rollback
)

// Entry is one model version in State.History.
type Entry struct {
	Version uint64 `json:"version"`
	Status  string `json:"status"`
	// CreatedAt is when the model was trained; DecidedAt when its status
	// last changed.
	CreatedAt time.Time `json:"created_at"`
	DecidedAt time.Time `json:"decided_at"`
	// Trigger says why it was trained: "learning", "labels", "schedule".
	Trigger string `json:"trigger"`
	// Eval is the model's evaluation on the labelled windows when it was
	// trained; Champion that of the champion it was compared with.
	Eval     learning.Eval `json:"eval"`
	Champion learning.Eval `json:"champion_eval"`
	// Reason explains the decision.
	Reason string `json:"reason"`
	// NTrain is the number of training rows, Copies how often each benign
	// labelled window was repeated in them, From and To the span of the
	// recent windows trained on (ns).
	NTrain   int   `json:"n_train"`
	Labelled int   `json:"labelled_benign"`
	Copies   int   `json:"copies"`
	From     int64 `json:"from_ns"`
	To       int64 `json:"to_ns"`
	// Model is kept for the newest non-champion versions (Config.KeepModels)
	// so they can be promoted or rolled back to; nil for the champion (it
	// is State.Model) and for pruned versions.
	Model *detect.Model `json:"model,omitempty"`
}

// maxHistory bounds State.History.
const maxHistory = 50

// Command is a record of the control topic (key: model name), JSON. The
// trainer applies it to the model's table entry.
type Command struct {
	// V is CommandVersion.
	V int `json:"v"`
	// Command is CommandPromote or CommandRollback.
	Command string `json:"command"`
	// Version is the model version to promote (promote only).
	Version uint64 `json:"version,omitempty"`
	// By and At say who sent it and when.
	By string    `json:"by,omitempty"`
	At time.Time `json:"at"`
}

// Commands and their format version.
const (
	CommandVersion  = 1
	CommandPromote  = "promote"
	CommandRollback = "rollback"
)

// loopRecord tells loopback JSON records apart: feedback has a verdict, a
// command a command. Feature vectors on the loop are binary and start with
// codecs.VectorMagic, never '{'.
type loopRecord struct {
	Verdict string `json:"verdict"`
	Command string `json:"command"`
}

func (p *Processor) onFeedback(ctx goka.Context, msg any) {
	p.consumedFeedback.Inc()
	ctx.Loopback(DefaultModel, msg)
}

func (p *Processor) onControl(ctx goka.Context, msg any) {
	p.consumedControl.Inc()
	ctx.Loopback(ctx.Key(), msg)
}

// onLoopJSON handles feedback and commands on the model's partition.
func (p *Processor) onLoopJSON(ctx goka.Context, raw []byte) {
	var r loopRecord
	if err := json.Unmarshal(raw, &r); err != nil {
		p.deadLetter(ctx, raw, fmt.Errorf("trainer: loop record: %w: %w", codecs.ErrCorrupt, err))
		return
	}
	st, _ := ctx.Value().(*State)
	if st == nil {
		st = &State{}
	}
	st = st.clone()
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case r.Command != "":
		var c Command
		if err := json.Unmarshal(raw, &c); err != nil || c.V != CommandVersion {
			p.deadLetter(ctx, raw, fmt.Errorf("trainer: command v%d: %w", c.V, codecs.ErrUnknownVersion))
			return
		}
		if err := p.apply(st, &c); err != nil {
			p.log.Warn("trainer: command refused", "command", c.Command, "version", c.Version, "err", err)
			p.deadLetter(ctx, raw, err)
			return
		}
		ctx.SetValue(st)
	default:
		f, err := codecs.DecodeFeedback(raw)
		if err != nil {
			p.deadLetter(ctx, raw, fmt.Errorf("trainer: %w", err))
			return
		}
		if err := p.label(st, f); err != nil {
			p.deadLetter(ctx, raw, err)
			return
		}
		p.m.Feedback(f.Verdict)
		if st.Model != nil && p.cfg.RetrainLabels > 0 && st.NewLabels >= p.cfg.RetrainLabels {
			p.retrain(st, "labels")
		}
		p.quality(st)
		ctx.SetValue(st)
	}
}

func (p *Processor) deadLetter(ctx goka.Context, raw []byte, err error) {
	p.m.DeadLetter(processors.DeadLetterReason(err))
	processors.DeadLetter(ctx, p.top, p.top.TrainerLoop(), raw, err)
}

// clone copies the parts of st the trainer modifies (decoded states may be
// shared with the codec's cache).
func (st *State) clone() *State {
	c := *st
	c.History = slices.Clone(st.History)
	c.Labels = slices.Clone(st.Labels)
	return &c
}

// label records f in st.Labels (replacing an earlier verdict on the same
// window) and keeps confirmed attacks out of the training windows.
func (p *Processor) label(st *State, f *codecs.Feedback) error {
	if !slices.Equal(f.Features, window.Names()) {
		return fmt.Errorf("trainer: feedback on %s has %d features that are not this build's window schema: %w", f.ID, len(f.Features), codecs.ErrInvalid)
	}
	l := learning.Labelled{ID: f.ID, Attack: f.Attack(), Verdict: f.Verdict, Values: f.Values, At: f.LabelledAt.UnixNano()}
	st.Labels = slices.DeleteFunc(st.Labels, func(o learning.Labelled) bool { return o.ID == f.ID })
	st.Labels = append(st.Labels, l)
	if n := len(st.Labels) - p.cfg.MaxLabels; n > 0 {
		st.Labels = slices.Delete(st.Labels, 0, n)
	}
	st.NewLabels++
	if l.Attack {
		p.recent.Remove(f.ID)
	}
	p.log.Info("trainer: label", "id", f.ID, "verdict", f.Verdict, "labels", len(st.Labels), "new", st.NewLabels)
	return nil
}

// offerRecent keeps v as a training window if the champion does not flag it
// and no analyst called it an attack; it retrains when the schedule says
// so. p.mu is held. It reports whether st changed.
func (p *Processor) offerRecent(st *State, v *window.Vector) bool {
	m := st.Model
	if m.Dim() != len(v.Values) || m.IsAnomaly(m.Score(v.Values)) {
		return false
	}
	id := v.ID()
	for i := range st.Labels {
		if st.Labels[i].ID == id && st.Labels[i].Attack {
			return false
		}
	}
	p.recent.Add(id, v.Start, v.Values)
	p.m.TrainingWindows(p.recent.Len())
	if p.recent.Len() < p.cfg.MinSamples {
		return false
	}
	if p.cfg.RetrainLabels > 0 && st.NewLabels >= p.cfg.RetrainLabels {
		p.retrain(st, "labels") // labels came while there were too few windows (after a restart)
		return true
	}
	if p.cfg.RetrainEvery <= 0 {
		return false
	}
	last := st.RetrainedAt
	if last == 0 {
		last = m.CreatedAt.UnixNano()
	}
	if p.now().Sub(time.Unix(0, last)) < p.cfg.RetrainEvery {
		return false
	}
	p.retrain(st, "schedule")
	return true
}

// retrain trains a challenger on the recent benign-looking windows and the
// benign labelled windows, evaluates it and the champion on every labelled
// window and promotes it if it is not worse. p.mu is held.
func (p *Processor) retrain(st *State, trigger string) {
	if p.recent.Len() < p.cfg.MinSamples {
		// The labels stay counted: retraining runs once enough windows came.
		p.log.Warn("trainer: too few recent windows to retrain; waiting for more", "windows", p.recent.Len(), "min", p.cfg.MinSamples)
		p.m.Retrained("skipped")
		return
	}
	st.NewLabels = 0
	st.RetrainedAt = p.now().UnixNano()
	var benign [][]float64
	for _, l := range st.Labels {
		if !l.Attack {
			benign = append(benign, l.Values)
		}
	}
	st.ensureHistory()
	X, copies := learning.TrainingSet(p.recent, benign, p.cfg.Train.Nu, p.cfg.Train.MaxSamples, st.Trained+1)
	start := time.Now()
	m, err := p.fit(X, window.Names(), p.cfg.Train)
	if err != nil {
		p.m.Retrained("failed")
		p.log.Error("trainer: retraining failed; the champion stays", "err", err)
		return
	}
	m.SchemaID = window.SchemaID()
	// The detector does not score windows before TrainEnd: keep the
	// learning period, which every later model also follows.
	m.TrainStart, m.TrainEnd = st.LearnStart, st.LearnEnd
	st.Trained++
	e := Entry{Version: st.Trained, CreatedAt: m.CreatedAt, DecidedAt: time.Now().UTC(), Trigger: trigger,
		Eval: learning.Evaluate(m, st.Labels), Champion: learning.Evaluate(st.Model, st.Labels),
		NTrain: len(X), Labelled: len(benign), Copies: copies, From: p.recent.From, To: p.recent.To}
	ok, reason := learning.NotWorse(e.Eval, e.Champion)
	e.Reason = reason
	if ok {
		e.Status = StatusChampion
		st.install(e, m, StatusRetired)
		p.m.Retrained("promoted")
		p.m.SetModel(st.Version, st.ModelVersion(), m.CreatedAt)
		p.quality(st)
	} else {
		e.Status = StatusRejected
		e.Model = m
		st.History = append(st.History, e)
		p.m.Retrained("rejected")
	}
	st.prune(p.cfg.KeepModels)
	p.trained.Add(1)
	p.log.Info("trainer: retrained", "trigger", trigger, "version", e.Version, "status", e.Status, "reason", reason,
		"challenger", e.Eval.String(), "champion", e.Champion.String(), "rows", len(X), "copies", copies,
		"took", time.Since(start).Round(time.Millisecond))
}

// ensureHistory records the champion of a state trained before versions
// were kept.
func (st *State) ensureHistory() {
	if st.Trained < st.Version {
		st.Trained = st.Version
	}
	if st.Model != nil && len(st.History) == 0 {
		st.History = append(st.History, Entry{Version: st.Version, Status: StatusChampion, CreatedAt: st.Model.CreatedAt,
			DecidedAt: st.Model.CreatedAt, Trigger: "learning", NTrain: st.Model.NTrain, From: st.LearnStart, To: st.LearnEnd})
	}
}

// install makes m (entry e, already appended or not) the champion; the
// current champion gets status old and keeps its model in the history.
func (st *State) install(e Entry, m *detect.Model, old string) {
	for i := range st.History {
		h := &st.History[i]
		if h.Status == StatusChampion && h.Version == st.Version {
			h.Status, h.DecidedAt, h.Model = old, e.DecidedAt, st.Model
		}
	}
	e.Model = nil
	if i := st.find(e.Version); i >= 0 {
		st.History[i] = e
	} else {
		st.History = append(st.History, e)
	}
	st.Version, st.Model = e.Version, m
}

func (st *State) find(version uint64) int {
	for i := range st.History {
		if st.History[i].Version == version {
			return i
		}
	}
	return -1
}

// prune keeps the models of the keep newest non-champion versions and at
// most maxHistory entries.
func (st *State) prune(keep int) {
	n := 0
	for i := len(st.History) - 1; i >= 0; i-- {
		h := &st.History[i]
		if h.Model == nil {
			continue
		}
		if n++; n > keep {
			h.Model = nil
		}
	}
	if over := len(st.History) - maxHistory; over > 0 {
		st.History = slices.Delete(st.History, 0, over)
	}
}

// apply runs a control command. p.mu is held.
func (p *Processor) apply(st *State, c *Command) error {
	if st.Model == nil {
		return fmt.Errorf("trainer: %s: no model trained yet", c.Command)
	}
	st.ensureHistory()
	var target int
	switch c.Command {
	case CommandPromote:
		target = st.find(c.Version)
		if target < 0 {
			return fmt.Errorf("trainer: promote: no version %d in the history", c.Version)
		}
		if c.Version == st.Version {
			return nil
		}
	case CommandRollback:
		target = -1
		for i := len(st.History) - 1; i >= 0; i-- {
			if h := st.History[i]; h.Status == StatusRetired && h.Model != nil && h.Version != st.Version {
				target = i
				break
			}
		}
		if target < 0 {
			return fmt.Errorf("trainer: rollback: no former champion with a kept model")
		}
	default:
		return fmt.Errorf("trainer: unknown command %q (use %s or %s): %w", c.Command, CommandPromote, CommandRollback, codecs.ErrInvalid)
	}
	e := st.History[target]
	if e.Model == nil {
		return fmt.Errorf("trainer: %s: the model of version %d was pruned", c.Command, e.Version)
	}
	if err := e.Model.Validate(); err != nil {
		return fmt.Errorf("trainer: %s: version %d: %w", c.Command, e.Version, err)
	}
	m := e.Model
	old := StatusRetired
	if c.Command == CommandRollback {
		old = StatusRolledBack
	}
	e.Status, e.DecidedAt = StatusChampion, time.Now().UTC()
	e.Reason = fmt.Sprintf("%s by %s", c.Command, c.By)
	st.install(e, m, old)
	st.prune(p.cfg.KeepModels)
	p.m.SetModel(st.Version, st.ModelVersion(), m.CreatedAt)
	p.quality(st)
	p.log.Info("trainer: champion changed", "command", c.Command, "version", st.ModelVersion(), "by", c.By)
	return nil
}

// quality exports the champion's measures on the labelled windows.
func (p *Processor) quality(st *State) {
	if st.Model == nil || p.m == nil {
		return
	}
	e := learning.Evaluate(st.Model, st.Labels)
	p.m.SetQuality(e.Precision, e.Recall, e.F1, e.TP, e.FP, e.TN, e.FN)
}
