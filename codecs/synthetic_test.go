package codecs_test

import (
	"testing"
	"time"

	"github.com/riptide-nids/riptide/codecs"
	"github.com/riptide-nids/riptide/loadtest"
	"github.com/riptide-nids/riptide/packet"
)

// syntheticBatches returns the batches a capture would send for the first
// minute of loadtest's demo traffic: per host (source or destination) and
// second, the host's summaries.
func syntheticBatches(tb testing.TB) [][]packet.Summary {
	tb.Helper()
	cfg := loadtest.DefaultConfig(time.Minute)
	cfg.Duration = time.Minute
	g, err := loadtest.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	type key struct {
		host string
		sec  int64
	}
	byKey := map[key][]packet.Summary{}
	var order []key
	var s packet.Summary
	for g.Next(&s) {
		for _, h := range []string{s.Src.String(), s.Dst.String()} {
			k := key{h, s.Time / 1e9}
			if _, ok := byKey[k]; !ok {
				order = append(order, k)
			}
			byKey[k] = append(byKey[k], s)
		}
	}
	batches := make([][]packet.Summary, len(order))
	for i, k := range order {
		batches[i] = byKey[k]
	}
	return batches
}

func TestPacketBatchSyntheticTraffic(t *testing.T) {
	var size, n int
	var buf []byte
	var dst []packet.Summary
	for _, batch := range syntheticBatches(t) {
		buf = codecs.AppendPacketBatch(buf[:0], batch)
		size += len(buf)
		n += len(batch)
		var err error
		if dst, err = codecs.DecodePacketBatch(buf, dst); err != nil {
			t.Fatal(err)
		}
		for i := range dst {
			if dst[i] != batch[i] {
				t.Fatalf("summary %d: got %+v, want %+v", i, dst[i], batch[i])
			}
		}
	}
	t.Logf("loadtest demo traffic, per-host 1 s batches: %d summaries, %.2f bytes/summary including batch headers", n, float64(size)/float64(n))
	if per := float64(size) / float64(n); per > 24 {
		t.Errorf("%.2f bytes per summary, want <= 24", per)
	}
}
