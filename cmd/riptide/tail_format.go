package main

import (
	"context"
	"fmt"
	"os"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/riptide-nids/riptide/codecs"
	"github.com/riptide-nids/riptide/siem"
)

// tailFormat prints anomalies from cl in format f, one JSON object per
// line, until ctx ends (riptide tail --format).
func tailFormat(ctx context.Context, cl *kgo.Client, f siem.Format) error {
	for {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return nil
		}
		for _, e := range fs.Errors() {
			fmt.Fprintf(os.Stderr, "riptide: tail: %s[%d]: %v\n", e.Topic, e.Partition, e.Err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			a, err := codecs.DecodeAnomaly(r.Value)
			if err != nil {
				fmt.Fprintf(os.Stderr, "riptide: tail: skipping a record that is not an anomaly (%s[%d]@%d): %v\n", r.Topic, r.Partition, r.Offset, err)
				return
			}
			b, err := siem.Encode(f, a, siem.Options{ProductVersion: version})
			if err != nil {
				fmt.Fprintf(os.Stderr, "riptide: tail: %v\n", err)
				return
			}
			fmt.Println(string(b))
		})
	}
}
