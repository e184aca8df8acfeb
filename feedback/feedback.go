// Package feedback turns analysts' verdicts into records on the feedback
// topic: it finds the labelled window's feature vector on the features
// topic (so the record carries what the trainer needs to learn from it, long
// after the window left every processor's memory), writes the verdict keyed
// by window id, draws random samples of windows that were not alerted (the
// only way to measure recall), and serves the same over HTTP (Handler).
package feedback

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/riptide-nids/riptide/codecs"
	"github.com/riptide-nids/riptide/internal/kread"
	"github.com/riptide-nids/riptide/kclient"
	"github.com/riptide-nids/riptide/topology"
	"github.com/riptide-nids/riptide/window"
)

// Sentinel errors.
var (
	// ErrBadID: the id is not host@window-start-ms.
	ErrBadID = errors.New("feedback: bad window id")
	// ErrNotFound: the window is not (or no longer) on the features topic.
	ErrNotFound = errors.New("feedback: window not found on the features topic")
	// ErrBadVerdict: the verdict is not one of codecs.Verdicts.
	ErrBadVerdict = errors.New("feedback: bad verdict")
)

// chunk is how many records of a partition Find reads at a time, newest
// first.
const chunk = 20_000

// Labeler finds windows and writes verdicts. It is safe for concurrent use.
type Labeler struct {
	kc  kclient.Config
	cl  *kgo.Client
	top *topology.Topology
}

// New returns a labeler that produces with cl (a kclient client, so that
// keys land where goka expects them) and reads with clients of its own
// built from kc.
func New(kc kclient.Config, cl *kgo.Client, top *topology.Topology) *Labeler {
	return &Labeler{kc: kc, cl: cl, top: top}
}

// ParseID splits a window id (host "@" window start in Unix ms).
func ParseID(id string) (host string, start time.Time, err error) {
	i := strings.LastIndexByte(id, '@')
	if i <= 0 {
		return "", time.Time{}, fmt.Errorf("%w %q: want host@window-start-ms, as in an anomaly's id", ErrBadID, id)
	}
	ms, err := strconv.ParseInt(id[i+1:], 10, 64)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("%w %q: %w", ErrBadID, id, err)
	}
	return id[:i], time.UnixMilli(ms).UTC(), nil
}

// Find returns the feature vector of window id. It reads the host's
// partition of the features topic backwards in chunks and stops at a chunk
// whose windows all started before the one sought (windows reach a
// partition roughly in time order). It fails with ErrNotFound if the
// window is not there (never closed, or deleted by retention).
func (l *Labeler) Find(ctx context.Context, id string) (*window.Vector, error) {
	host, start, err := ParseID(id)
	if err != nil {
		return nil, err
	}
	want := start.UnixNano()
	topic := l.top.Features.Name
	b, err := kread.Offsets(ctx, l.cl, topic)
	if err != nil {
		return nil, err
	}
	p := int32(kclient.Partition([]byte(host), len(b)))
	lo, hi := b[p][0], b[p][1]
	for end := hi; end > lo; end -= chunk {
		from := max(lo, end-chunk)
		var found *window.Vector
		newest := int64(-1 << 63)
		err := kread.Read(ctx, l.kc, topic, map[int32]int64{p: from}, map[int32]int64{p: end}, func(r *kgo.Record) error {
			var v window.Vector
			if codecs.DecodeVector(r.Value, &v) != nil || v.Host == "" {
				return nil
			}
			newest = max(newest, v.Start)
			if v.Host == host && v.Start/int64(time.Millisecond) == want/int64(time.Millisecond) {
				found = &v // the latest copy wins (repeats are identical)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		if found != nil {
			return found, nil
		}
		if newest != int64(-1<<63) && newest < want {
			break
		}
	}
	return nil, fmt.Errorf("%w: %s (partition %d of %s; the window may not have closed yet or was deleted by retention)", ErrNotFound, id, p, topic)
}

// Verdict is a verdict to record.
type Verdict struct {
	ID      string `json:"id"`
	Verdict string `json:"verdict"`
	Note    string `json:"note,omitempty"`
	By      string `json:"by,omitempty"`
}

// Label finds the window of v.ID and writes the verdict with its feature
// values to the feedback topic (key: the id). It returns the record written.
func (l *Labeler) Label(ctx context.Context, v Verdict) (*codecs.Feedback, error) {
	if !codecs.ValidVerdict(v.Verdict) {
		return nil, fmt.Errorf("%w %q: use one of %s", ErrBadVerdict, v.Verdict, strings.Join(codecs.Verdicts, ", "))
	}
	vec, err := l.Find(ctx, v.ID)
	if err != nil {
		return nil, err
	}
	f := &codecs.Feedback{Version: codecs.FeedbackVersion, ID: vec.ID(), Host: vec.Host, WindowStart: time.Unix(0, vec.Start).UTC(),
		Verdict: v.Verdict, Note: v.Note, By: v.By, LabelledAt: time.Now().UTC(), Features: window.Names(), Values: vec.Values}
	if err := l.Write(ctx, f); err != nil {
		return nil, err
	}
	return f, nil
}

// Write produces f to the feedback topic and waits for the acknowledgement.
func (l *Labeler) Write(ctx context.Context, f *codecs.Feedback) error {
	b, err := codecs.EncodeFeedback(f)
	if err != nil {
		return err
	}
	r := &kgo.Record{Topic: l.top.Feedback.Name, Key: []byte(f.ID), Value: b}
	if err := l.cl.ProduceSync(ctx, r).FirstErr(); err != nil {
		return fmt.Errorf("feedback: write %s: %w", l.top.Feedback.Name, err)
	}
	return nil
}

// Sample returns up to n windows chosen uniformly at random among those
// written to the features topic since since (record time) that were not
// alerted (no anomaly with their id on the anomalies topic since then).
// seed drives the choice.
func (l *Labeler) Sample(ctx context.Context, n int, since time.Time, seed uint64) ([]*window.Vector, error) {
	alerted := map[string]bool{}
	err := l.readSince(ctx, l.top.Anomalies.Name, since, func(r *kgo.Record) {
		if a, err := codecs.DecodeAnomaly(r.Value); err == nil {
			alerted[a.ID] = true
		}
	})
	if err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(seed, 0x5a3e))
	var out []*window.Vector
	seen := 0
	ids := map[string]bool{} // repeats of a window count once
	err = l.readSince(ctx, l.top.Features.Name, since, func(r *kgo.Record) {
		var v window.Vector
		if codecs.DecodeVector(r.Value, &v) != nil || v.Host == "" || alerted[v.ID()] || ids[v.ID()] {
			return
		}
		ids[v.ID()] = true
		seen++
		if len(out) < n {
			out = append(out, &v)
		} else if j := rng.IntN(seen); j < n {
			out[j] = &v
		}
	})
	return out, err
}

func (l *Labeler) readSince(ctx context.Context, topic string, since time.Time, f func(*kgo.Record)) error {
	from, err := kread.After(ctx, l.cl, topic, since)
	if err != nil {
		return err
	}
	b, err := kread.Offsets(ctx, l.cl, topic)
	if err != nil {
		return err
	}
	to := map[int32]int64{}
	for p, o := range b {
		to[p] = o[1]
		if _, ok := from[p]; !ok {
			from[p] = o[1]
		}
	}
	return kread.Read(ctx, l.kc, topic, from, to, func(r *kgo.Record) error { f(r); return nil })
}
