// Package kclient builds the Kafka clients riptide uses: franz-go clients for
// producers, administration and tailing, and the sarama configuration goka's
// processors run with. Both sides partition keys the same way (sarama's FNV-1a
// hash), so a host's records from any producer meet its state in goka, and
// both connect with the same TLS and SASL settings (Security).
package kclient

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"hash"
	"hash/fnv"
	"net"
	"strings"
	"time"

	"github.com/IBM/sarama"
	"github.com/lovoo/goka"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"

	"github.com/riptide-nids/riptide/topology"
)

// ErrNoBrokers is returned when a Config names no broker.
var ErrNoBrokers = errors.New("kclient: no brokers given (use --brokers host:port)")

// Config says how to reach a Kafka cluster.
type Config struct {
	// Brokers are seed broker addresses (host:port).
	Brokers []string
	// ClientID identifies riptide's clients in broker logs and quotas.
	ClientID string
	// Replication is the replication factor of topics riptide creates.
	Replication int
	// Retention is how long topics stamped with processing time keep
	// records (default 7 days).
	Retention time.Duration
	// EventRetentionBytes bounds, per partition, the topics stamped with
	// event time (packets, syslog, flows; default 8 GiB). Kafka judges time
	// retention by record timestamps, so time retention would delete a
	// replayed capture from last month as soon as it is written: these
	// topics are retained by size only.
	EventRetentionBytes int64
	// Security configures TLS and SASL (default: plaintext, no
	// authentication).
	Security Security
}

// ParseBrokers splits a comma-separated broker list, dropping blanks.
func ParseBrokers(s string) []string {
	var out []string
	for _, b := range strings.Split(s, ",") {
		if b = strings.TrimSpace(b); b != "" {
			out = append(out, b)
		}
	}
	return out
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	if len(c.Brokers) == 0 {
		return ErrNoBrokers
	}
	if c.Replication < 0 {
		return fmt.Errorf("kclient: replication %d: must be at least 1", c.Replication)
	}
	return c.Security.Validate()
}

func (c *Config) clientID() string {
	if c.ClientID == "" {
		return "riptide"
	}
	return c.ClientID
}

func (c *Config) retention() time.Duration {
	if c.Retention <= 0 {
		return 7 * 24 * time.Hour
	}
	return c.Retention
}

func (c *Config) eventRetentionBytes() int64 {
	if c.EventRetentionBytes <= 0 {
		return 8 << 30
	}
	return c.EventRetentionBytes
}

func (c *Config) replication() int {
	if c.Replication <= 0 {
		return 1
	}
	return c.Replication
}

// Partition returns the partition goka (sarama's hash partitioner) assigns to
// key among n partitions.
func Partition(key []byte, n int) int {
	h := fnv.New32a()
	_, _ = h.Write(key)
	p := int32(h.Sum32()) % int32(n)
	if p < 0 {
		p = -p
	}
	return int(p)
}

// gokaPartitioner partitions keyed records like goka and sends keyless
// records (watermarks) to the partition set on the record.
type gokaPartitioner struct{}

func (gokaPartitioner) ForTopic(string) kgo.TopicPartitioner { return gokaPartitioner{} }

func (gokaPartitioner) RequiresConsistency(*kgo.Record) bool { return true }

func (gokaPartitioner) Partition(r *kgo.Record, n int) int {
	if r.Key == nil {
		if int(r.Partition) < n && r.Partition >= 0 {
			return int(r.Partition)
		}
		return 0
	}
	return Partition(r.Key, n)
}

// NewClient returns a franz-go client for the cluster whose partitioner agrees
// with goka's. Extra options are appended (and win).
func NewClient(c Config, opts ...kgo.Opt) (*kgo.Client, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	sec, err := c.Security.kgoOpts()
	if err != nil {
		return nil, err
	}
	base := []kgo.Opt{
		kgo.SeedBrokers(c.Brokers...),
		kgo.ClientID(c.clientID()),
		kgo.RecordPartitioner(gokaPartitioner{}),
		kgo.ProducerLinger(20 * time.Millisecond),
		kgo.ProducerBatchCompression(kgo.Lz4Compression(), kgo.SnappyCompression(), kgo.NoCompression()),
	}
	base = append(base, sec...)
	cl, err := kgo.NewClient(append(base, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("kclient: %w", err)
	}
	return cl, nil
}

// Ping checks that a broker answers, with a clear error when none does.
func Ping(ctx context.Context, cl *kgo.Client, brokers []string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := cl.Ping(ctx); err != nil {
		return fmt.Errorf("kclient: no broker answers at %s: %w (%s)", strings.Join(brokers, ","), err, pingHint(cl, err))
	}
	return nil
}

func ipStrings(ips []net.IP) []string {
	out := make([]string, len(ips))
	for i, ip := range ips {
		out[i] = ip.String()
	}
	return out
}

// pingHint says what to check when no broker answers. Brokers close the
// connection on a failed SASL authentication or TLS handshake, which the
// client sees as EOF, so the hint names the security settings in use.
func pingHint(cl *kgo.Client, err error) string {
	mechs, _ := cl.OptValue(kgo.SASL).([]sasl.Mechanism)
	tc, _ := cl.OptValue(kgo.DialTLSConfig).(*tls.Config)
	useSASL, useTLS := len(mechs) > 0, tc != nil
	var (
		unknownCA x509.UnknownAuthorityError
		badName   x509.HostnameError
	)
	switch {
	case errors.As(err, &badName) && badName.Certificate != nil:
		names := append(append([]string{}, badName.Certificate.DNSNames...), ipStrings(badName.Certificate.IPAddresses)...)
		return fmt.Sprintf("the broker's certificate is for %s, not %s: connect by that name or pass --tls-server-name", strings.Join(names, ", "), badName.Host)
	case errors.As(err, &unknownCA):
		return "the broker's certificate is not signed by a trusted CA: give the CA certificate with --tls-ca"
	case strings.Contains(err.Error(), "tls: certificate required"):
		return "the broker requires a client certificate: give --tls-cert and --tls-key"
	case errors.Is(err, kerr.SaslAuthenticationFailed):
		return "the broker rejected the SASL credentials: check the mechanism, --sasl-username and the password"
	case useSASL && useTLS:
		return "is Kafka running, with TLS on this port? A broker also closes the connection on a wrong SASL mechanism, username or password, or a client certificate it does not trust"
	case useSASL:
		return "is Kafka running, with SASL on this port? A broker also closes the connection on a wrong SASL mechanism, username or password; add --tls if the listener uses TLS"
	case useTLS:
		return "is Kafka running, with TLS on this port? Check --tls-ca and --tls-server-name; a broker also closes the connection when it requires SASL (--sasl-mechanism) or a client certificate (--tls-cert, --tls-key)"
	}
	return "is Kafka running? try `riptide broker`; a broker that requires TLS or SASL closes the connection: see --tls and --sasl-mechanism"
}

// SaramaConfig returns the sarama configuration goka's processors use:
// goka's defaults (co-partitioning rebalance strategy), a protocol version
// Kafka 4 accepts, reading new groups from the oldest offset, acks from all
// in-sync replicas, the given heartbeat and session timeouts, and the TLS
// and SASL settings of c.Security (the error names what is wrong with them).
func SaramaConfig(c Config) (*sarama.Config, error) {
	cfg := goka.DefaultConfig()
	cfg.ClientID = c.clientID()
	cfg.Version = sarama.V3_6_0_0
	cfg.Consumer.Offsets.Initial = sarama.OffsetOldest
	cfg.Consumer.Group.Heartbeat.Interval = 1 * time.Second
	cfg.Consumer.Group.Session.Timeout = 10 * time.Second
	cfg.Producer.RequiredAcks = sarama.WaitForAll
	// goka marks each input record's offset when that record's writes are
	// acknowledged, independently of the records before it, so a later
	// record can be committed while an earlier one's table write is still in
	// flight; a crash then loses the earlier record. With one request in
	// flight per broker, a broker acknowledges writes in the order they were
	// made, which closes that gap on a single broker and narrows it on
	// several (see README, Operations).
	cfg.Net.MaxOpenRequests = 1
	cfg.Producer.Compression = sarama.CompressionLZ4
	cfg.Producer.Flush.Frequency = 5 * time.Millisecond
	cfg.Producer.Flush.MaxMessages = 0
	cfg.Producer.MaxMessageBytes = 4 << 20
	cfg.Metadata.Retry.Backoff = 200 * time.Millisecond
	if err := c.Security.applySarama(cfg); err != nil {
		return nil, err
	}
	return cfg, nil
}

// GokaOptions returns the processor options that connect goka to the cluster
// with SaramaConfig and a topic manager that creates missing group topics with
// the configured replication factor.
func GokaOptions(c Config) []goka.ProcessorOption {
	b := newGokaBuilders(c)
	return []goka.ProcessorOption{
		goka.WithConsumerGroupBuilder(b.consumerGroup),
		goka.WithConsumerSaramaBuilder(b.consumer),
		goka.WithProducerBuilder(b.producer),
		goka.WithTopicManagerBuilder(b.topicManager),
		goka.WithClientID(c.clientID()),
	}
}

// GokaEmitterOptions returns the emitter options matching GokaOptions.
func GokaEmitterOptions(c Config) []goka.EmitterOption {
	b := newGokaBuilders(c)
	return []goka.EmitterOption{
		goka.WithEmitterProducerBuilder(b.producer),
		goka.WithEmitterTopicManagerBuilder(b.topicManager),
		goka.WithEmitterClientID(c.clientID()),
	}
}

// gokaBuilders give every sarama client goka builds a configuration of its
// own: goka's *WithConfig builders set ClientID (and the partitioner) on the
// configuration they are given, which races with clients already running on
// a shared one (go test -race found it).
type gokaBuilders struct {
	c   Config
	tmc *goka.TopicManagerConfig
}

func newGokaBuilders(c Config) gokaBuilders {
	tmc := goka.NewTopicManagerConfig()
	tmc.Table.Replication = c.replication()
	tmc.Stream.Replication = c.replication()
	tmc.Stream.Retention = c.retention()
	return gokaBuilders{c: c, tmc: tmc}
}

func (b gokaBuilders) consumerGroup(brokers []string, group, clientID string) (sarama.ConsumerGroup, error) {
	cfg, err := SaramaConfig(b.c)
	if err != nil {
		return nil, err
	}
	c, err := goka.ConsumerGroupBuilderWithConfig(cfg)(brokers, group, clientID)
	return c, b.hint(err)
}

func (b gokaBuilders) consumer(brokers []string, clientID string) (sarama.Consumer, error) {
	cfg, err := SaramaConfig(b.c)
	if err != nil {
		return nil, err
	}
	c, err := goka.SaramaConsumerBuilderWithConfig(cfg)(brokers, clientID)
	return c, b.hint(err)
}

func (b gokaBuilders) producer(brokers []string, clientID string, hasher func() hash.Hash32) (goka.Producer, error) {
	cfg, err := SaramaConfig(b.c)
	if err != nil {
		return nil, err
	}
	c, err := goka.ProducerBuilderWithConfig(cfg)(brokers, clientID, hasher)
	return c, b.hint(err)
}

func (b gokaBuilders) topicManager(brokers []string) (goka.TopicManager, error) {
	cfg, err := SaramaConfig(b.c)
	if err != nil {
		return nil, err
	}
	c, err := goka.TopicManagerBuilderWithConfig(cfg, b.tmc)(brokers)
	return c, b.hint(err)
}

// hint adds what to check to sarama's error when no broker would talk to a
// client with TLS or SASL on: brokers close the connection on a failed
// authentication or handshake, which sarama reports as running out of
// brokers.
func (b gokaBuilders) hint(err error) error {
	sec := &b.c.Security
	// goka wraps some builder errors with %v, so match the text too.
	out := err != nil && (errors.Is(err, sarama.ErrOutOfBrokers) || strings.Contains(err.Error(), sarama.ErrOutOfBrokers.Error()))
	if !out || (!sec.TLS.Enabled() && !sec.SASL.Enabled()) {
		return err
	}
	return fmt.Errorf("%w (with TLS or SASL on, a broker also closes the connection on wrong credentials or an untrusted certificate: check the --tls and --sasl settings)", err)
}

// CreateTopics creates the given topics with n partitions and the configured
// replication factor. Topics that already exist with the same partition count
// are fine; any other failure is returned, naming every topic that failed.
func CreateTopics(ctx context.Context, cl *kgo.Client, c Config, topics []topology.Topic, partitions int32) ([]string, error) {
	adm := kadm.NewClient(cl)
	var created, failed []string
	for _, t := range topics {
		cfg := map[string]*string{"cleanup.policy": kadm.StringPtr(t.Cleanup)}
		switch {
		case t.Cleanup != topology.CleanupDelete:
		case t.EventTime:
			cfg["retention.ms"] = kadm.StringPtr("-1")
			cfg["retention.bytes"] = kadm.StringPtr(fmt.Sprint(c.eventRetentionBytes()))
		default:
			cfg["retention.ms"] = kadm.StringPtr(fmt.Sprint(c.retention().Milliseconds()))
		}
		cfg["max.message.bytes"] = kadm.StringPtr(fmt.Sprint(8 << 20))
		resp, err := adm.CreateTopic(ctx, partitions, int16(c.replication()), cfg, t.Name)
		if err == nil {
			err = resp.Err
		}
		switch {
		case err == nil:
			created = append(created, t.Name)
		case errors.Is(err, kerr.TopicAlreadyExists):
			if derr := checkPartitions(ctx, adm, t.Name, partitions); derr != nil {
				failed = append(failed, derr.Error())
			}
		default:
			failed = append(failed, fmt.Sprintf("%s: %v", t.Name, err))
		}
	}
	if len(failed) > 0 {
		return created, fmt.Errorf("kclient: create topics: %s", strings.Join(failed, "; "))
	}
	return created, nil
}

func checkPartitions(ctx context.Context, adm *kadm.Client, topic string, want int32) error {
	td, err := adm.ListTopics(ctx, topic)
	if err != nil {
		return fmt.Errorf("%s: exists, but describing it failed: %w", topic, err)
	}
	d, ok := td[topic]
	if !ok {
		return fmt.Errorf("%s: exists, but the broker does not describe it", topic)
	}
	if got := int32(len(d.Partitions)); got != want {
		return fmt.Errorf("%s: exists with %d partitions, want %d (delete it or pass --partitions %d)", topic, got, want, got)
	}
	return nil
}

// PartitionCount returns the number of partitions of topic.
func PartitionCount(ctx context.Context, cl *kgo.Client, topic string) (int, error) {
	adm := kadm.NewClient(cl)
	td, err := adm.ListTopics(ctx, topic)
	if err != nil {
		return 0, fmt.Errorf("kclient: describe %s: %w", topic, err)
	}
	d, ok := td[topic]
	if !ok || d.Err != nil || len(d.Partitions) == 0 {
		return 0, fmt.Errorf("kclient: topic %s does not exist (run `riptide topics create`)", topic)
	}
	return len(d.Partitions), nil
}
