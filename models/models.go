// Package models reads the trainer's model table and sends commands to the
// trainer, for `riptide models`. The table is only ever written by the
// trainer group (goka's rule); commands travel on the control topic, which
// the trainer consumes and applies to its own table.
package models

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/lovoo/goka"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/riptide-nids/riptide/internal/kread"
	"github.com/riptide-nids/riptide/kclient"
	"github.com/riptide-nids/riptide/processors/trainer"
	"github.com/riptide-nids/riptide/topology"
)

// ErrNoModel is returned by Read when the table holds no state for the
// model name (the trainer has not started learning).
var ErrNoModel = errors.New("models: no trainer state in the table yet")

// Read returns the latest trainer state of model name from the trainer
// table.
func Read(ctx context.Context, kc kclient.Config, cl *kgo.Client, top *topology.Topology, name string) (*trainer.State, error) {
	topic := string(goka.GroupTable(top.Trainer))
	b, err := kread.Offsets(ctx, cl, topic)
	if err != nil {
		return nil, err
	}
	p := int32(kclient.Partition([]byte(name), len(b)))
	var last []byte
	err = kread.Read(ctx, kc, topic, map[int32]int64{p: b[p][0]}, map[int32]int64{p: b[p][1]}, func(r *kgo.Record) error {
		if string(r.Key) == name {
			last = r.Value
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if last == nil {
		return nil, fmt.Errorf("%w (%s in %s)", ErrNoModel, name, topic)
	}
	v, err := trainer.NewStateCodec().Decode(last)
	if err != nil {
		return nil, fmt.Errorf("models: %s: %w", topic, err)
	}
	return v.(*trainer.State), nil
}

// Send writes a command for model name to the control topic and waits for
// the acknowledgement.
func Send(ctx context.Context, cl *kgo.Client, top *topology.Topology, name string, c trainer.Command) error {
	c.V = trainer.CommandVersion
	if c.At.IsZero() {
		c.At = time.Now().UTC()
	}
	b, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("models: %w", err)
	}
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: top.Control.Name, Key: []byte(name), Value: b}).FirstErr(); err != nil {
		return fmt.Errorf("models: write %s: %w", top.Control.Name, err)
	}
	return nil
}

// Wait reads the table every 500 ms until done returns true for the state
// or ctx ends.
func Wait(ctx context.Context, kc kclient.Config, cl *kgo.Client, top *topology.Topology, name string, done func(*trainer.State) bool) (*trainer.State, error) {
	for {
		st, err := Read(ctx, kc, cl, top, name)
		if err != nil && !errors.Is(err, ErrNoModel) {
			return nil, err
		}
		if st != nil && done(st) {
			return st, nil
		}
		select {
		case <-ctx.Done():
			return st, fmt.Errorf("models: waiting for the trainer: %w", ctx.Err())
		case <-time.After(500 * time.Millisecond):
		}
	}
}
