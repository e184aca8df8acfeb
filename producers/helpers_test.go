package producers_test

import (
	"context"
	"testing"
	"time"

	"github.com/riptide-nids/riptide/internal/testenv"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

func datasetsDir(tb testing.TB) string {
	tb.Helper()
	return testenv.Datasets(tb)
}

func cluster(t *testing.T, partitions int32, topics ...string) []string {
	t.Helper()
	return testenv.Kafka(t, partitions, topics...)
}

func ctxTimeout(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	return testenv.Context(t, d)
}

// consumeAll reads every record of topic: it asks the broker for the end
// offsets and consumes from the start up to them. It fails the test at the
// context's deadline.
func consumeAll(ctx context.Context, t *testing.T, brokers []string, topic string) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	ends.Each(func(o kadm.ListedOffset) {
		if o.Err != nil {
			t.Fatalf("end offset of %s/%d: %v", o.Topic, o.Partition, o.Err)
		}
		n += int(o.Offset)
	})
	var out []*kgo.Record
	for len(out) < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("consumed %d of %d records of %s before the deadline", len(out), n, topic)
		}
		fs.EachError(func(tp string, p int32, err error) { t.Fatalf("fetch %s/%d: %v", tp, p, err) })
		out = append(out, fs.Records()...)
	}
	return out
}
