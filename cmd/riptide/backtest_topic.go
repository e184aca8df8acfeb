package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/riptide-nids/riptide/backtest"
	"github.com/riptide-nids/riptide/replay"
)

// timeRange is the --from/--to range of `backtest --topic` (zero: open).
type timeRange struct{ from, to time.Time }

func parseRange(from, to string) (timeRange, error) {
	var r timeRange
	var err error
	if r.from, err = replay.ParseTime(from); err != nil {
		return r, usagef("--from: %v", err)
	}
	if r.to, err = replay.ParseTime(to); err != nil {
		return r, usagef("--to: %v", err)
	}
	if !r.from.IsZero() && !r.to.IsZero() && !r.from.Before(r.to) {
		return r, usagef("--from %s is not before --to %s: the range is empty", fmtBound(r.from, ""), fmtBound(r.to, ""))
	}
	return r, nil
}

func fmtBound(t time.Time, zero string) string {
	if t.IsZero() {
		return zero
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// openTopic opens the packets topic for a backtest: it reads partitions
// directly and writes nothing, so the live pipeline is not disturbed.
func openTopic(ctx context.Context, g *globals, log *slog.Logger, topic string, r timeRange) (*replay.Source, error) {
	kc, err := g.kafka()
	if err != nil {
		return nil, err
	}
	kc.ClientID = "riptide-backtest"
	src, err := replay.Open(ctx, kc, replay.Config{Topic: topic, From: r.from, To: r.to, Log: log})
	if err != nil {
		if errors.Is(err, replay.ErrNoTopic) {
			if top, terr := g.topology(); terr == nil && top.Packets.Name != topic {
				return nil, fmt.Errorf("backtest: %w; with --prefix %s it is %s", err, top.Prefix, top.Packets.Name)
			}
		}
		return nil, fmt.Errorf("backtest: %w", err)
	}
	return src, nil
}

// emptyTopicRange explains a topic range that held no packet.
func emptyTopicRange(st replay.Stats, r timeRange) error {
	msg := fmt.Sprintf("backtest: no packets in %s between %s and %s (%d records read",
		st.Topic, fmtBound(r.from, "its start"), fmtBound(r.to, "its end"), st.Records)
	if n := st.CorruptRecords(); n > 0 {
		msg += fmt.Sprintf(", %d of them not packet batches: is %s a packets topic?", n, st.Topic)
	}
	return errors.New(msg + ")")
}

// printTopicSource prints what was read from the topic, before the report.
func printTopicSource(st replay.Stats, r timeRange) {
	fmt.Printf("topic             %s [%s, %s): %d records (%d watermarks), %d corrupt%s\n",
		st.Topic, fmtBound(r.from, "start"), fmtBound(r.to, "end"), st.Records, st.Watermarks, st.CorruptRecords(), corruptDetail(st.Corrupt))
}

func corruptDetail(c map[string]int64) string {
	if len(c) == 0 {
		return ""
	}
	var parts []string
	for k, v := range c {
		parts = append(parts, fmt.Sprintf("%s %d", k, v))
	}
	sort.Strings(parts)
	return " (" + strings.Join(parts, ", ") + ")"
}

// labelsInRange keeps the labels that overlap the range: attacks outside
// the packets read cannot be detected, and would count as missed.
func labelsInRange(labels []backtest.Label, r timeRange) (in []backtest.Label, dropped int) {
	for _, l := range labels {
		if (!r.to.IsZero() && !l.Start.Before(r.to)) || (!r.from.IsZero() && l.End.Before(r.from)) {
			dropped++
			continue
		}
		in = append(in, l)
	}
	return in, dropped
}
