//go:build integration

package integration

import (
	"context"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/riptide-nids/riptide/codecs"
	"github.com/riptide-nids/riptide/kclient"
	"github.com/riptide-nids/riptide/packet"
	"github.com/riptide-nids/riptide/processors"
	"github.com/riptide-nids/riptide/topology"
	"github.com/riptide-nids/riptide/window"
)

// TestDeadLetterOnGarbage produces a record whose value is not a packet
// batch and one whose key is not a host address to the packets topic of a
// running windower (under a non-default prefix): both must land on the
// dead-letter topic with the reason in a header, and a good record produced
// after them must still become a feature vector. On kfake the prefix is
// it-deadletter; on real Kafka it is the test's own it-deadletterongarbage-<random>.
func TestDeadLetterOnGarbage(t *testing.T) {
	const parts = 4
	start := time.Now()
	c := newCluster(t, "it-deadletter")
	if c.prefix == topology.DefaultPrefix {
		t.Fatalf("prefix %q: this test is about a non-default prefix", c.prefix)
	}
	brokers, top := c.brokers, c.top
	c.createTopics(t, parts)
	startProc(t, "run", c.args("run", "--groups", "windower")...)

	cl, err := kclient.NewClient(kclient.Config{Brokers: []string{brokers}, ClientID: "integration-producer"})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	const host = "10.1.2.3"
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 500_000_000, time.UTC)
	good := codecs.AppendPacketBatch(nil, []packet.Summary{{
		Time: t0.UnixNano(), Src: netip.MustParseAddr(host), Dst: netip.MustParseAddr("10.1.2.4"),
		SrcPort: 40000, DstPort: 443, Length: 120, Proto: packet.ProtoTCP, TCPFlags: packet.TCPSyn,
	}})
	garbage := []byte("this is not a packet batch \x00\xff\xfe")
	recs := []*kgo.Record{
		{Topic: top.Packets.Name, Key: []byte(host), Value: garbage, Timestamp: t0},
		{Topic: top.Packets.Name, Key: []byte("not-an-address"), Value: good, Timestamp: t0},
		{Topic: top.Packets.Name, Key: []byte(host), Value: good, Timestamp: t0},
	}
	// Watermarks past the window's end plus grace on every partition, so that
	// the good record's window closes.
	wm := t0.Add(window.DefaultConfig().Size + window.DefaultConfig().Grace + time.Second)
	for p := int32(0); p < parts; p++ {
		recs = append(recs, &kgo.Record{Topic: top.Packets.Name, Partition: p, Value: codecs.AppendPacketBatch(nil, nil), Timestamp: wm})
	}
	// One at a time, so that the garbage precedes the good record of the
	// same host on its partition.
	for _, r := range recs {
		if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
			t.Fatalf("produce: %v", err)
		}
	}

	// The windower joins its group while the records are produced: two
	// rebalances' worth of slack on real Kafka.
	wait := 60*time.Second + c.slack(2)
	dead := collect(t, brokers, top.DeadLetter.Name, wait, func(rs []*kgo.Record) bool { return len(rs) >= 2 })
	feats := collect(t, brokers, top.Features.Name, wait, func(rs []*kgo.Record) bool {
		for _, r := range rs {
			if string(r.Key) == host {
				return true
			}
		}
		return false
	})

	byKey := map[string]*kgo.Record{}
	for _, r := range dead {
		byKey[string(r.Key)] = r
	}
	if len(dead) != 2 {
		t.Errorf("dead-letter topic holds %d records, want 2", len(dead))
	}
	for key, val := range map[string][]byte{host: garbage, "not-an-address": good} {
		r := byKey[key]
		if r == nil {
			t.Errorf("no dead letter with key %q", key)
			continue
		}
		h := headers(r)
		t.Logf("dead letter %q: %s=%q %s=%q", key, processors.HeaderReason, h[processors.HeaderReason], processors.HeaderSource, h[processors.HeaderSource])
		if strings.TrimSpace(h[processors.HeaderReason]) == "" {
			t.Errorf("dead letter %q has no %s header", key, processors.HeaderReason)
		}
		if h[processors.HeaderSource] != top.Packets.Name {
			t.Errorf("dead letter %q: %s header %q, want %q", key, processors.HeaderSource, h[processors.HeaderSource], top.Packets.Name)
		}
		if string(r.Value) != string(val) {
			t.Errorf("dead letter %q does not carry the original value", key)
		}
	}

	var vectors []string
	for _, r := range feats {
		var v window.Vector
		if err := codecs.DecodeVector(r.Value, &v); err != nil {
			t.Errorf("features record does not decode: %v", err)
			continue
		}
		if _, _, _, ok := v.Watermark(); ok {
			continue
		}
		vectors = append(vectors, v.ID())
	}
	wantID := host + "@" + strconv.FormatInt(window.DefaultConfig().Start(t0.UnixNano())/int64(time.Millisecond), 10)
	if len(vectors) != 1 || vectors[0] != wantID {
		t.Errorf("feature vectors %v, want exactly [%s]", vectors, wantID)
	}
	t.Logf("dead letters: %d; vectors after them: %v; %.1f s on %s", len(dead), vectors, time.Since(start).Seconds(), c.kind())
}

// collect reads topic from the start until done holds for what was read or
// timeout passes (which fails the test).
func collect(t *testing.T, brokers, topic string, timeout time.Duration, done func([]*kgo.Record) bool) []*kgo.Record {
	t.Helper()
	cl, err := kclient.NewClient(kclient.Config{Brokers: []string{brokers}, ClientID: "integration-reader"},
		kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var rs []*kgo.Record
	for !done(rs) {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("%s: condition not met within %v; read %d records", topic, timeout, len(rs))
		}
		fs.EachRecord(func(r *kgo.Record) { rs = append(rs, r) })
	}
	// Give records that arrive right behind a short chance to be counted.
	ctx2, cancel2 := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel2()
	fs := cl.PollFetches(ctx2)
	fs.EachRecord(func(r *kgo.Record) { rs = append(rs, r) })
	return rs
}

func headers(r *kgo.Record) map[string]string {
	m := map[string]string{}
	for _, h := range r.Headers {
		m[h.Key] = string(h.Value)
	}
	return m
}
