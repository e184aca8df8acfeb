// Package kread reads bounded ranges of Kafka partitions with franz-go: the
// records between two offsets, the end offsets of a topic, offsets by
// timestamp. It serves the one-shot readers (label look-ups, samples,
// model tables), not the stream processors.
package kread

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/riptide-nids/riptide/kclient"
)

// Bounds are the start (oldest retained) and end (next to be written)
// offsets of every partition of a topic.
type Bounds map[int32][2]int64

// Offsets returns the bounds of topic's partitions.
func Offsets(ctx context.Context, cl *kgo.Client, topic string) (Bounds, error) {
	adm := kadm.NewClient(cl)
	starts, err := adm.ListStartOffsets(ctx, topic)
	if err == nil {
		err = starts.Error()
	}
	if err != nil {
		return nil, fmt.Errorf("kread: start offsets of %s: %w", topic, err)
	}
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return nil, fmt.Errorf("kread: end offsets of %s: %w", topic, err)
	}
	b := Bounds{}
	starts.Each(func(o kadm.ListedOffset) {
		b[o.Partition] = [2]int64{o.Offset, o.Offset}
	})
	ends.Each(func(o kadm.ListedOffset) {
		v := b[o.Partition]
		v[1] = o.Offset
		b[o.Partition] = v
	})
	if len(b) == 0 {
		return nil, fmt.Errorf("kread: topic %s has no partitions (create it with riptide topics create)", topic)
	}
	return b, nil
}

// After returns, per partition, the first offset whose record timestamp is
// at or after t (the end offset when there is none).
func After(ctx context.Context, cl *kgo.Client, topic string, t time.Time) (map[int32]int64, error) {
	listed, err := kadm.NewClient(cl).ListOffsetsAfterMilli(ctx, t.UnixMilli(), topic)
	if err == nil {
		err = listed.Error()
	}
	if err != nil {
		return nil, fmt.Errorf("kread: offsets of %s after %v: %w", topic, t, err)
	}
	out := map[int32]int64{}
	listed.Each(func(o kadm.ListedOffset) { out[o.Partition] = o.Offset })
	return out, nil
}

// ErrStop ends a Read early without error when a callback returns it.
var ErrStop = errors.New("kread: stop")

// idle is how long Read waits for more records before it takes a range as
// read: compaction and transaction markers leave gaps, so the last offset
// of a range may never arrive.
const idle = 2 * time.Second

// Read calls f for every record of topic in [from[p], to[p]) of each
// partition p in from, in offset order per partition, and returns once
// every range is read (or nothing arrived for 2 s: the rest of a range was
// compacted away), f returned an error (ErrStop: nil) or ctx ended.
func Read(ctx context.Context, kc kclient.Config, topic string, from, to map[int32]int64, f func(*kgo.Record) error) error {
	offsets := map[int32]kgo.Offset{}
	left := map[int32]bool{}
	for p, o := range from {
		if o < to[p] {
			offsets[p] = kgo.NewOffset().At(o)
			left[p] = true
		}
	}
	if len(offsets) == 0 {
		return nil
	}
	cl, err := kclient.NewClient(kc, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: offsets}))
	if err != nil {
		return err
	}
	defer cl.Close()
	for len(left) > 0 {
		pctx, cancel := context.WithTimeout(ctx, idle)
		fs := cl.PollFetches(pctx)
		timedOut := pctx.Err() != nil
		cancel()
		if ctx.Err() != nil {
			return fmt.Errorf("kread: read %s: %w", topic, ctx.Err())
		}
		if timedOut && fs.NumRecords() == 0 {
			return nil
		}
		var ferr error
		fs.EachError(func(t string, p int32, err error) {
			if ferr == nil && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
				ferr = fmt.Errorf("kread: read %s partition %d: %w", t, p, err)
			}
		})
		if ferr != nil {
			return ferr
		}
		var stop error
		fs.EachRecord(func(r *kgo.Record) {
			if stop != nil || !left[r.Partition] || r.Offset >= to[r.Partition] {
				return
			}
			if err := f(r); err != nil {
				stop = err
			}
			if r.Offset+1 >= to[r.Partition] {
				delete(left, r.Partition)
			}
		})
		if errors.Is(stop, ErrStop) {
			return nil
		}
		if stop != nil {
			return stop
		}
	}
	return nil
}
