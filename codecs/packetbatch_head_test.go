package codecs_test

import (
	"errors"
	"testing"

	"github.com/riptide-nids/riptide/codecs"
	"github.com/riptide-nids/riptide/packet"
)

// checkHead compares PacketBatchHead with a full decode of b: when the
// decode succeeds the head must agree with it, and when the head is rejected
// the decode must fail too.
func checkHead(t *testing.T, b []byte) {
	t.Helper()
	n, first, herr := codecs.PacketBatchHead(b)
	sums, derr := codecs.DecodePacketBatch(b, nil)
	if herr != nil {
		if !errors.Is(herr, codecs.ErrTruncated) && !errors.Is(herr, codecs.ErrCorrupt) && !errors.Is(herr, codecs.ErrUnknownVersion) {
			t.Fatalf("error wraps no sentinel: %v", herr)
		}
		if derr == nil {
			t.Fatalf("head rejected (%v), but the batch decodes: % x", herr, b)
		}
		return
	}
	if derr != nil {
		return // damage beyond the header
	}
	want := int64(0)
	if len(sums) > 0 {
		want = sums[0].Time
	}
	if n != uint64(len(sums)) || first != want {
		t.Fatalf("head: %d summaries, first at %d; decode: %d, first at %d", n, first, len(sums), want)
	}
}

func TestPacketBatchHead(t *testing.T) {
	batches := [][]packet.Summary{nil, fixedBatch(), {{Time: t0 + 1}}, {{Time: -5_000}, {Time: t0}}}
	for seed := range uint64(20) {
		batches = append(batches, randomBatch(1+int(seed)*7, seed))
	}
	for _, sums := range batches {
		b := codecs.AppendPacketBatch(nil, sums)
		n, first, err := codecs.PacketBatchHead(b)
		if err != nil {
			t.Fatalf("batch of %d: %v", len(sums), err)
		}
		if len(sums) > 0 && first != sums[0].Time || n != uint64(len(sums)) {
			t.Fatalf("batch of %d: head says %d summaries, first at %d", len(sums), n, first)
		}
		for cut := range len(b) {
			checkHead(t, b[:cut])
		}
		for i := range min(len(b), 24) {
			c := append([]byte(nil), b...)
			c[i] ^= 0xa5
			checkHead(t, c)
		}
	}
}

func FuzzPacketBatchHead(f *testing.F) {
	f.Add(codecs.AppendPacketBatch(nil, fixedBatch()))
	f.Add(codecs.AppendPacketBatch(nil, nil))
	f.Add([]byte{'P', 1, 1, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 2, 0, 0, 0, 0, 0})
	f.Fuzz(checkHead)
}
