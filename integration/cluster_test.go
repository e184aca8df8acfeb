//go:build integration

package integration

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/riptide-nids/riptide/kclient"
	"github.com/riptide-nids/riptide/topology"
)

// kafkaBrokers is $KAFKA_BROKERS. When set, every test runs against that
// Kafka cluster (integration/kafka/kafka.sh up starts one) under a prefix of
// its own; when empty, every test starts its own `riptide broker` (kfake).
var kafkaBrokers = strings.TrimSpace(os.Getenv("KAFKA_BROKERS"))

// Real Kafka rebalances much more slowly than riptide broker: goka waits 5 s
// after a consumer-group session ends before it joins again, and a member
// that died without leaving (SIGKILL) is dropped only when its session times
// out, so one rebalance takes 6–16 s, and riptide run's "all processors ready"
// can come before a second round. Deadlines grow by cluster.slack on real
// Kafka, never on kfake.
const gokaRejoinDelay = 5 * time.Second

// sessionTimeout is the consumer-group session timeout riptide's processors
// use.
var sessionTimeout = func() time.Duration {
	cfg, err := kclient.SaramaConfig(kclient.Config{})
	if err != nil {
		panic(err) // the zero configuration has no security settings to get wrong
	}
	return cfg.Consumer.Group.Session.Timeout
}()

// cluster is the Kafka cluster one test runs against and the topic and group
// prefix it uses there.
type cluster struct {
	brokers string
	// prefix is the topic and group prefix of the test.
	prefix string
	// real is true for an external Kafka cluster (KAFKA_BROKERS).
	real bool
	top  *topology.Topology
	// broker is the embedded broker's process (nil on real Kafka).
	broker *proc
	// noRestartReason says why the broker cannot be restarted in a test
	// (set by kafkaSh).
	noRestartReason string
}

// newCluster returns the cluster for test t. With KAFKA_BROKERS set it is
// that cluster, under the prefix it-<test>-<random> so that no two tests and
// no two runs share a topic or a group (the topics are deleted when the test
// passes, kept for inspection when it fails). Otherwise it starts `riptide
// broker` for the test alone and uses kfakePrefix, as the tests always did.
// Either way it logs which kind of broker the test runs against.
func newCluster(t *testing.T, kfakePrefix string) *cluster {
	t.Helper()
	if kafkaBrokers == "" {
		t0 := time.Now()
		b, addr := startBroker(t)
		c := &cluster{brokers: addr, prefix: kfakePrefix, top: topology.MustNew(kfakePrefix), broker: b}
		t.Logf("broker: embedded kfake (riptide broker) at %s, started in %.1f s; prefix %s", addr, time.Since(t0).Seconds(), c.prefix)
		return c
	}
	c := &cluster{brokers: kafkaBrokers, prefix: uniquePrefix(t), real: true}
	c.top = topology.MustNew(c.prefix)
	t.Logf("broker: real Kafka at %s (KAFKA_BROKERS), %s; prefix %s", c.brokers, c.version(t), c.prefix)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("real Kafka: topics and groups under prefix %s kept for inspection", c.prefix)
			return
		}
		c.deleteTopics(t)
	})
	return c
}

// kind names the broker for log lines.
func (c *cluster) kind() string {
	if c.real {
		return "real Kafka"
	}
	return "kfake"
}

// slack is extra time for a deadline that spans n consumer-group rebalances:
// a session timeout plus goka's rejoin delay each on real Kafka, nothing on
// kfake (whose rebalances are as quick as before).
func (c *cluster) slack(n int) time.Duration {
	if !c.real {
		return 0
	}
	return time.Duration(n) * (sessionTimeout + gokaRejoinDelay + time.Second)
}

// args returns a riptide subcommand's arguments with --brokers and, unless it
// is the default, --prefix appended.
func (c *cluster) args(args ...string) []string {
	args = append(args, "--brokers", c.brokers)
	if c.prefix != topology.DefaultPrefix {
		args = append(args, "--prefix", c.prefix)
	}
	return args
}

// createTopics runs `riptide topics create` for the cluster's prefix with
// the given partition count (--replication 1 on real Kafka, whose test
// broker is a single node). The topics keep riptide's own configuration,
// retention included: Kafka applies time retention by record timestamp, and
// its first retention check runs 30 s after the broker started
// (log.initial.task.delay.ms) whatever log.retention.check.interval.ms says,
// so riptide's event-time topics must keep a replayed capture from March by
// themselves (they have no time retention).
func (c *cluster) createTopics(t *testing.T, partitions int) string {
	t.Helper()
	var extra []string
	if c.prefix != topology.DefaultPrefix {
		extra = append(extra, "--prefix", c.prefix)
	}
	if c.real {
		extra = append(extra, "--replication", "1")
	}
	return createTopics(t, c.brokers, partitions, extra...)
}

// deleteTopics deletes every topic under the test's prefix (best effort).
func (c *cluster) deleteTopics(t *testing.T) {
	adm, closeAdm := c.admin(t)
	defer closeAdm()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var names []string
	for _, tp := range c.top.All() {
		names = append(names, tp.Name)
	}
	resps, err := adm.DeleteTopics(ctx, names...)
	if err == nil {
		err = resps.Error()
	}
	if err != nil {
		t.Logf("real Kafka: deleting the topics under prefix %s: %v", c.prefix, err)
	}
}

func (c *cluster) admin(t *testing.T) (*kadm.Client, func()) {
	t.Helper()
	cl, err := kclient.NewClient(kclient.Config{Brokers: kclient.ParseBrokers(c.brokers), ClientID: "integration-admin"})
	if err != nil {
		t.Fatal(err)
	}
	return kadm.NewClient(cl), cl.Close
}

// version describes the brokers' Kafka version as franz-go guesses it from
// their API versions.
func (c *cluster) version(t *testing.T) string {
	t.Helper()
	adm, closeAdm := c.admin(t)
	defer closeAdm()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	vs, err := adm.ApiVersions(ctx)
	if err != nil {
		t.Fatalf("real Kafka at %s does not answer: %v", c.brokers, err)
	}
	var out []string
	for _, v := range vs.Sorted() {
		if v.Err != nil {
			out = append(out, fmt.Sprintf("broker %d: %v", v.NodeID, v.Err))
			continue
		}
		out = append(out, fmt.Sprintf("broker %d: Kafka %s", v.NodeID, strings.TrimPrefix(v.VersionGuess(), "v")))
	}
	return strings.Join(out, ", ")
}

var nonPrefixChars = regexp.MustCompile(`[^a-z0-9]+`)

// uniquePrefix returns it-<test>-<random> for t.
func uniquePrefix(t *testing.T) string {
	t.Helper()
	name := nonPrefixChars.ReplaceAllString(strings.ToLower(strings.TrimPrefix(t.Name(), "Test")), "-")
	if len(name) > 60 {
		name = name[:60]
	}
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "it-" + strings.Trim(name, "-") + "-" + hex.EncodeToString(b)
}
