package kclient_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/riptide-nids/riptide/internal/testenv"

	"github.com/IBM/sarama"
	"github.com/lovoo/goka"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/riptide-nids/riptide/kclient"
	"github.com/riptide-nids/riptide/topology"
)

// randomHost returns a random host address in canonical text form, the key
// riptide's host-keyed topics use; about a third are IPv6.
func randomHost(rng *rand.Rand) string {
	if rng.IntN(3) == 0 {
		var b [16]byte
		for i := range b {
			b[i] = byte(rng.UintN(256))
		}
		return netip.AddrFrom16(b).String()
	}
	return netip.AddrFrom4([4]byte{byte(rng.UintN(256)), byte(rng.UintN(256)), byte(rng.UintN(256)), byte(rng.UintN(256))}).String()
}

func TestPartitionAgreesWithSarama(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	keys := make([]string, 0, 5000)
	for range 4000 {
		keys = append(keys, randomHost(rng))
	}
	// Keys whose FNV-1a hash is negative as an int32 exercise the sign
	// handling; make sure there are many.
	keys = append(keys, "", "0.0.0.0", "::", "255.255.255.255", "10.0.0.1", "fe80::1%eth0")
	neg := 0
	for _, k := range keys {
		h := int32(fnvSum(k))
		if h < 0 {
			neg++
		}
	}
	if neg < len(keys)/4 {
		t.Fatalf("only %d of %d keys hash negative; the test would not cover the sign handling", neg, len(keys))
	}
	sar := sarama.NewHashPartitioner("t")
	gk := sarama.NewCustomHashPartitioner(goka.DefaultHasher())("t") // what goka's producer uses
	for n := int32(1); n <= 64; n++ {
		for _, k := range keys {
			got := kclient.Partition([]byte(k), int(n))
			msg := &sarama.ProducerMessage{Key: sarama.StringEncoder(k)}
			want, err := sar.Partition(msg, n)
			if err != nil {
				t.Fatal(err)
			}
			wantGoka, err := gk.Partition(msg, n)
			if err != nil {
				t.Fatal(err)
			}
			if int32(got) != want || want != wantGoka {
				t.Fatalf("Partition(%q, %d) = %d; sarama hash partitioner %d, goka's %d", k, n, got, want, wantGoka)
			}
			if got < 0 || got >= int(n) {
				t.Fatalf("Partition(%q, %d) = %d out of range", k, n, got)
			}
		}
	}
}

func fnvSum(k string) uint32 {
	h := goka.DefaultHasher()()
	_, _ = h.Write([]byte(k))
	return h.Sum32()
}

func BenchmarkPartition(b *testing.B) {
	key := []byte("2001:db8::1234:5678")
	b.ReportAllocs()
	for b.Loop() {
		_ = kclient.Partition(key, 12)
	}
}

func TestParseBrokers(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{" , ,", nil},
		{"localhost:9092", []string{"localhost:9092"}},
		{"a:1,b:2", []string{"a:1", "b:2"}},
		{" a:1 ,, b:2 ,", []string{"a:1", "b:2"}},
		{"[::1]:9092,10.0.0.1:9093", []string{"[::1]:9092", "10.0.0.1:9093"}},
	}
	for _, tt := range tests {
		if got := kclient.ParseBrokers(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("ParseBrokers(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		cfg     kclient.Config
		wantErr error  // sentinel, if any
		errText string // text the error must contain, if not ""
	}{
		{name: "ok", cfg: kclient.Config{Brokers: []string{"a:1"}}},
		{name: "ok replication", cfg: kclient.Config{Brokers: []string{"a:1"}, Replication: 3, ClientID: "x"}},
		{name: "no brokers", cfg: kclient.Config{}, wantErr: kclient.ErrNoBrokers},
		{name: "empty brokers", cfg: kclient.Config{Brokers: []string{}}, wantErr: kclient.ErrNoBrokers},
		{name: "negative replication", cfg: kclient.Config{Brokers: []string{"a:1"}, Replication: -1}, errText: "replication -1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			switch {
			case tt.wantErr == nil && tt.errText == "":
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
			case tt.wantErr != nil && !errors.Is(err, tt.wantErr):
				t.Fatalf("Validate() = %v, want %v", err, tt.wantErr)
			case tt.errText != "" && (err == nil || !strings.Contains(err.Error(), tt.errText)):
				t.Fatalf("Validate() = %v, want an error containing %q", err, tt.errText)
			}
			// NewClient validates too.
			cl, nerr := kclient.NewClient(tt.cfg)
			if cl != nil {
				cl.Close()
			}
			if (err == nil) != (nerr == nil) {
				t.Errorf("NewClient error %v, Validate error %v", nerr, err)
			}
		})
	}
}

func TestSaramaConfig(t *testing.T) {
	cfg, err := kclient.SaramaConfig(kclient.Config{Brokers: []string{"a:1"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("sarama config invalid: %v", err)
	}
	if !cfg.Version.IsAtLeast(sarama.V2_1_0_0) {
		t.Errorf("version %v: Kafka 4 needs at least 2.1", cfg.Version)
	}
	if cfg.Consumer.Offsets.Initial != sarama.OffsetOldest {
		t.Errorf("initial offset %d, want oldest", cfg.Consumer.Offsets.Initial)
	}
	if cfg.Producer.RequiredAcks != sarama.WaitForAll {
		t.Errorf("acks %d, want all", cfg.Producer.RequiredAcks)
	}
	if cfg.ClientID != "riptide" {
		t.Errorf("client id %q, want riptide", cfg.ClientID)
	}
	if got := len(kclient.GokaOptions(kclient.Config{Brokers: []string{"a:1"}})); got == 0 {
		t.Error("GokaOptions returned no options")
	}
}

func cluster(t *testing.T, partitions int32, topics ...string) []string {
	t.Helper()
	return testenv.Kafka(t, partitions, topics...)
}

func ctxTimeout(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	return testenv.Context(t, d)
}

// consumeAll reads n records of topic from the start, failing the test at
// the context's deadline.
func consumeAll(ctx context.Context, t *testing.T, brokers []string, topic string, n int) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var out []*kgo.Record
	for len(out) < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("consumed %d of %d records of %s before the deadline", len(out), n, topic)
		}
		fs.EachError(func(tp string, p int32, err error) { t.Fatalf("fetch %s/%d: %v", tp, p, err) })
		out = append(out, fs.Records()...)
	}
	if len(out) != n {
		t.Fatalf("consumed %d records of %s, want %d", len(out), topic, n)
	}
	return out
}

func TestProducedRecordsLandWhereGokaReads(t *testing.T) {
	const topic = "kclient-partitioning"
	for _, parts := range []int32{1, 3, 12} {
		t.Run(fmt.Sprint(parts), func(t *testing.T) {
			brokers := cluster(t, parts, topic)
			ctx := ctxTimeout(t, 30*time.Second)
			cl, err := kclient.NewClient(kclient.Config{Brokers: brokers})
			if err != nil {
				t.Fatal(err)
			}
			defer cl.Close()
			rng := rand.New(rand.NewPCG(uint64(parts), 3))
			const keyed = 500
			var recs []*kgo.Record
			for i := range keyed {
				recs = append(recs, &kgo.Record{Topic: topic, Key: []byte(randomHost(rng)), Value: []byte(fmt.Sprint(i))})
			}
			// Keyless records (watermarks) go to the partition set on them.
			for p := range parts {
				for range 3 {
					recs = append(recs, &kgo.Record{Topic: topic, Partition: p, Value: []byte("wm")})
				}
			}
			if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
				t.Fatal(err)
			}
			got := consumeAll(ctx, t, brokers, topic, len(recs))
			perPart := map[int32]int{}
			wm := map[int32]int{}
			for _, r := range got {
				perPart[r.Partition]++
				if r.Key == nil {
					wm[r.Partition]++
					continue
				}
				msg := &sarama.ProducerMessage{Key: sarama.ByteEncoder(r.Key)}
				want, err := sarama.NewHashPartitioner(topic).Partition(msg, parts)
				if err != nil {
					t.Fatal(err)
				}
				if r.Partition != want {
					t.Errorf("key %q landed on partition %d; goka reads it from %d", r.Key, r.Partition, want)
				}
			}
			for p := range parts {
				if wm[p] != 3 {
					t.Errorf("partition %d got %d keyless records, want 3", p, wm[p])
				}
			}
			if parts > 1 && len(perPart) != int(parts) {
				t.Errorf("records spread over %d of %d partitions", len(perPart), parts)
			}
		})
	}
}

func TestCreateTopics(t *testing.T) {
	brokers := cluster(t, 0)
	ctx := ctxTimeout(t, 30*time.Second)
	cfg := kclient.Config{Brokers: brokers, Replication: 1}
	cl, err := kclient.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	top := topology.MustNew("kclient-create")
	all := top.All()
	var names []string
	for _, tp := range all {
		names = append(names, tp.Name)
	}

	created, err := kclient.CreateTopics(ctx, cl, cfg, all, 4)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(created, names) {
		t.Errorf("created %q, want %q", created, names)
	}

	adm := kadm.NewClient(cl)
	td, err := adm.ListTopics(ctx, names...)
	if err != nil {
		t.Fatal(err)
	}
	rcs, err := adm.DescribeTopicConfigs(ctx, names...)
	if err != nil {
		t.Fatal(err)
	}
	policy, retMS, retBytes := map[string]string{}, map[string]string{}, map[string]string{}
	for _, rc := range rcs {
		if rc.Err != nil {
			t.Fatalf("describe %s: %v", rc.Name, rc.Err)
		}
		for _, c := range rc.Configs {
			if c.Value == nil {
				continue
			}
			switch c.Key {
			case "cleanup.policy":
				policy[rc.Name] = *c.Value
			case "retention.ms":
				retMS[rc.Name] = *c.Value
			case "retention.bytes":
				retBytes[rc.Name] = *c.Value
			}
		}
	}
	for _, tp := range all {
		d, ok := td[tp.Name]
		if !ok || d.Err != nil {
			t.Errorf("%s: not listed (%v)", tp.Name, d.Err)
			continue
		}
		if len(d.Partitions) != 4 {
			t.Errorf("%s: %d partitions, want 4", tp.Name, len(d.Partitions))
		}
		if policy[tp.Name] != tp.Cleanup {
			t.Errorf("%s: cleanup.policy %q, want %q", tp.Name, policy[tp.Name], tp.Cleanup)
		}
		// Event-time topics (capture timestamps, possibly long past) must not
		// be retained by time, or Kafka deletes a replay as it is written.
		switch {
		case tp.Cleanup != topology.CleanupDelete:
		case tp.EventTime:
			if retMS[tp.Name] != "-1" || retBytes[tp.Name] != fmt.Sprint(int64(8<<30)) {
				t.Errorf("%s: retention.ms %q, retention.bytes %q; want -1 and 8 GiB", tp.Name, retMS[tp.Name], retBytes[tp.Name])
			}
		default:
			if retMS[tp.Name] != fmt.Sprint((7 * 24 * time.Hour).Milliseconds()) {
				t.Errorf("%s: retention.ms %q, want 7 days", tp.Name, retMS[tp.Name])
			}
		}
		n, err := kclient.PartitionCount(ctx, cl, tp.Name)
		if err != nil || n != 4 {
			t.Errorf("PartitionCount(%s) = %d, %v; want 4", tp.Name, n, err)
		}
	}

	// Idempotent: a second call creates nothing and succeeds.
	created, err = kclient.CreateTopics(ctx, cl, cfg, all, 4)
	if err != nil {
		t.Fatalf("second CreateTopics: %v", err)
	}
	if len(created) != 0 {
		t.Errorf("second CreateTopics created %q", created)
	}

	// Another partition count for existing topics fails, naming the topic.
	_, err = kclient.CreateTopics(ctx, cl, cfg, []topology.Topic{top.Packets}, 6)
	if err == nil {
		t.Fatal("CreateTopics with 6 partitions over a 4-partition topic succeeded")
	}
	for _, want := range []string{top.Packets.Name, "4 partitions", "want 6"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}

	// A mix: new topics are created, and the mismatch is still reported.
	other := topology.MustNew("kclient-create2")
	created, err = kclient.CreateTopics(ctx, cl, cfg, []topology.Topic{other.Packets, top.Features}, 6)
	if err == nil || !strings.Contains(err.Error(), top.Features.Name) {
		t.Errorf("mixed CreateTopics error = %v, want one naming %s", err, top.Features.Name)
	}
	if !slices.Equal(created, []string{other.Packets.Name}) {
		t.Errorf("mixed CreateTopics created %q, want [%s]", created, other.Packets.Name)
	}
}

func TestPartitionCountMissingTopic(t *testing.T) {
	brokers := cluster(t, 0)
	ctx := ctxTimeout(t, 20*time.Second)
	cl, err := kclient.NewClient(kclient.Config{Brokers: brokers})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := kclient.Ping(ctx, cl, brokers); err != nil {
		t.Fatal(err)
	}
	n, err := kclient.PartitionCount(ctx, cl, "no-such-topic")
	if err == nil || !strings.Contains(err.Error(), "no-such-topic") {
		t.Fatalf("PartitionCount of a missing topic = %d, %v; want an error naming it", n, err)
	}
}

func TestPingNoBroker(t *testing.T) {
	// An address nothing listens on: take a kfake port and close the cluster.
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	addrs := c.ListenAddrs()
	c.Close()
	cl, err := kclient.NewClient(kclient.Config{Brokers: addrs}, kgo.RetryTimeout(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx := ctxTimeout(t, 3*time.Second)
	err = kclient.Ping(ctx, cl, addrs)
	if err == nil || !strings.Contains(err.Error(), addrs[0]) {
		t.Fatalf("Ping = %v, want an error naming %s", err, addrs[0])
	}
}
