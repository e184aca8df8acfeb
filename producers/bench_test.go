package producers_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/riptide-nids/riptide/internal/testenv"
	"github.com/riptide-nids/riptide/kclient"
	"github.com/riptide-nids/riptide/producers"
)

// BenchmarkReplayIntoKafka is `riptide capture --pcap dev-mixed.pcap` in
// process: the benchmark capture read, merged, reordered, batched per host
// and produced to an in-process kfake broker, acknowledged. It reports
// packets per second of wall time; run with -cpu 1 and compare with the
// process CPU time for packets per core (the broker runs in the same
// process here).
func BenchmarkReplayIntoKafka(b *testing.B) {
	path := filepath.Join(datasetsDir(b), "bench", "dev-mixed.pcap")
	const parts = 12
	topic := "packets-bench"
	brokers := testenv.Kafka(b, parts, topic)
	cl, err := kclient.NewClient(kclient.Config{Brokers: brokers}, kgo.MaxBufferedBytes(64<<20))
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	ctx := context.Background()
	b.ReportAllocs()
	var packets int64
	start := time.Now()
	for b.Loop() {
		src, err := producers.MergeFiles([]string{path}, producers.MergeOptions{}, nil)
		if err != nil {
			b.Fatal(err)
		}
		p, err := producers.New(cl, producers.Config{Topic: topic, Partitions: parts, FinalWatermark: 12 * time.Second})
		if err != nil {
			b.Fatal(err)
		}
		if err := producers.Replay(ctx, producers.Reorder(src, time.Minute, 4_000_000), p, 0, nil); err != nil {
			b.Fatal(err)
		}
		if err := p.Close(ctx); err != nil {
			b.Fatal(err)
		}
		packets += p.Stats().Packets
	}
	b.ReportMetric(float64(packets)/time.Since(start).Seconds(), "packets/s")
	b.ReportMetric(float64(time.Since(start).Nanoseconds())/float64(packets), "ns/packet")
}
