//go:build integration

package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/riptide-nids/riptide/backtest"
	"github.com/riptide-nids/riptide/codecs"
	"github.com/riptide-nids/riptide/kclient"
	"github.com/riptide-nids/riptide/producers"
)

// faultReplaySpeed paces the replay of the 38-minute benchmark capture so
// that it lasts about 90 s: long enough for a kill, a broker restart and a
// join to happen while packets still flow.
const faultReplaySpeed = "25"

// TestConsumerGroupsUnderFaults runs three `riptide run` instances of all
// groups against one cluster while `riptide capture` replays the benchmark
// capture at 25 times its pace. Once the first anomaly is out, one instance
// is killed with SIGKILL; on real Kafka managed by kafka.sh the broker is
// then stopped and started again; then a fourth instance joins. Afterwards
// every (host, window) of the capture has a feature vector downstream (a
// repeat only with the same id and values), the anomalies are exactly those
// the pure core finds in the same capture (each id at least once; repeats
// counted), and the surviving instances recovered by themselves. Rebalance
// and recovery times are logged.
func TestConsumerGroupsUnderFaults(t *testing.T) {
	pcap := dataset(t, "bench/dev-mixed.pcap")
	start := time.Now()

	want := expectedWindows(t, pcap)
	wantAnomalies := expectedAnomalies(t, pcap)
	t.Logf("pure core: %d windows, %d anomalies (%.1f s)", len(want), len(wantAnomalies), time.Since(start).Seconds())

	c := newCluster(t, uniquePrefix(t))
	c.createTopics(t, 6)
	broker := c.kafkaSh(t)

	fr := readFeatures(t, c.brokers, c.top.Features.Name)
	ar := readAnomalies(t, c.brokers, c.top.Anomalies.Name)

	runArgs := c.args("run", "--idle-flush", "5s")
	groups := []string{string(c.top.Windower), string(c.top.Trainer), string(c.top.Detector)}

	// Three instances, all in their groups before the first packet: a
	// rebalance during the learning period would cost the trainer the
	// windows it had collected in memory (see processors/trainer).
	var inst []*proc
	t0 := time.Now()
	for i := 1; i <= 3; i++ {
		inst = append(inst, startProc(t, fmt.Sprintf("run#%d", i), runArgs...))
	}
	joinWait := 60*time.Second + c.slack(3)
	for _, p := range inst {
		if !waitFor(joinWait, 50*time.Millisecond, func() bool { return strings.Contains(readFile(p.stderr), "all processors ready") || !p.running() }) || !p.running() {
			t.Fatalf("%s not ready within %v", p.name, joinWait)
		}
	}
	if d, ok := c.waitGroups(t, groups, 3, joinWait); !ok {
		t.Fatalf("the groups did not settle with 3 members each within %v", joinWait)
	} else {
		t.Logf("3 instances started and their groups stable with 3 members each in %.1f s (last settle %.1f s)", time.Since(t0).Seconds(), d.Seconds())
	}

	capture := startProc(t, "capture", c.args("capture", "--pcap", pcap, "--speed", faultReplaySpeed)...)
	replayStart := time.Now()

	// Fault 1: SIGKILL one instance when the first anomaly is out (the
	// model is trained and stored, windows are being scored).
	firstAnomaly := 120*time.Second + c.slack(1)
	if !waitFor(firstAnomaly, 50*time.Millisecond, func() bool { return ar.distinct() > 0 || !capture.running() && fr.distinct() >= len(want) }) || ar.distinct() == 0 {
		t.Fatalf("no anomaly within %v of the replay start (%d windows so far)", firstAnomaly, fr.distinct())
	}
	victim := inst[1]
	victim.kill(syscall.SIGKILL)
	if _, err := victim.wait(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	t.Logf("fault 1: SIGKILL %s %.1f s into the replay, at the first anomaly; %d of %d windows out", victim.name, killed.Sub(replayStart).Seconds(), fr.distinct(), len(want))
	settle := 60*time.Second + c.slack(2)
	if d, ok := c.waitGroups(t, groups, 2, settle); !ok {
		t.Errorf("the groups did not settle with 2 members within %v of the kill", settle)
	} else {
		t.Logf("fault 1: rebalanced to 2 members %.1f s after the kill", d.Seconds())
	}

	// Fault 2: the broker stops and starts again (real Kafka under
	// kafka.sh only: the embedded broker keeps no data across a restart).
	if broker != nil {
		before := fr.snapshot().records
		t1 := time.Now()
		broker.stop(t)
		down := time.Since(t1)
		t2 := time.Now()
		broker.start(t)
		t.Logf("fault 2: broker stopped in %.1f s, down %.1f s in all, %.1f s into the replay", down.Seconds(), time.Since(t1).Seconds(), t1.Sub(replayStart).Seconds())
		flowing := 120*time.Second + c.slack(2)
		if !waitFor(flowing, 50*time.Millisecond, func() bool { return fr.snapshot().records > before || fr.hasAll(want) }) {
			t.Errorf("no feature vector within %v of the broker's restart", flowing)
		} else {
			t.Logf("fault 2: feature vectors flowing again %.1f s after the broker was back", time.Since(t2).Seconds())
		}
	} else {
		t.Logf("fault 2 (broker restart) not run: %s", c.noRestartReason)
	}

	// Fault 3: a fourth instance joins while the replay goes on.
	t3 := time.Now()
	joiner := startProc(t, "run#4", runArgs...)
	inst = append(inst, joiner)
	if d, ok := c.waitGroups(t, groups, 3, joinWait); !ok {
		t.Errorf("the groups did not settle with 3 members within %v of run#4 joining", joinWait)
	} else {
		t.Logf("fault 3: run#4 joined, groups stable with 3 members %.1f s later (%.1f s into the replay)", d.Seconds(), t3.Sub(replayStart).Seconds())
	}

	captureWait := 300*time.Second + c.slack(2)
	code, err := capture.wait(captureWait)
	if err != nil {
		t.Fatalf("capture: %v", err)
	}
	if code != 0 {
		t.Fatalf("capture exited %d:\n%s", code, tail(readFile(capture.stderr), 20))
	}
	t.Logf("capture: replay done in %.1f s", time.Since(replayStart).Seconds())

	// Every window, then quiet on both topics.
	completeWait := 120*time.Second + c.slack(2)
	if !waitFor(completeWait, 100*time.Millisecond, func() bool { return fr.hasAll(want) }) {
		t.Errorf("the features topic lacks windows %v after the capture ended", completeWait)
	}
	fr.waitQuiet(3*time.Second, 30*time.Second)
	waitFor(60*time.Second+c.slack(1), 100*time.Millisecond, func() bool { return ar.hasAll(wantAnomalies) })
	ar.waitQuiet(5*time.Second, 30*time.Second)
	t.Logf("recovery: every window and anomaly out %.1f s after the replay start", time.Since(replayStart).Seconds())

	// The survivors recovered by themselves: still running, and they stop
	// cleanly on SIGTERM.
	for _, p := range inst {
		if p == victim {
			continue
		}
		if !p.running() {
			t.Errorf("%s exited during the test:\n%s", p.name, tail(readFile(p.stderr), 20))
			continue
		}
		p.kill(syscall.SIGTERM)
	}
	for _, p := range inst {
		if p == victim {
			continue
		}
		if code, err := p.wait(60 * time.Second); err != nil || code != 0 {
			t.Errorf("%s after SIGTERM: exit %d, %v", p.name, code, err)
		}
	}

	fr.stop()
	got := fr.result()
	var missing, unexpected, differ []string
	repeats := 0
	for id := range want {
		if _, ok := got.byID[id]; !ok {
			missing = append(missing, id)
		}
	}
	for id, e := range got.byID {
		if !want[id] {
			unexpected = append(unexpected, id)
		}
		repeats += e.count - 1
		if e.differ > 0 {
			differ = append(differ, id+": "+e.diff)
		}
	}
	sort.Strings(missing)
	sort.Strings(unexpected)
	sort.Strings(differ)
	t.Logf("features: %d vector records, %d distinct of %d expected; missing %d, unexpected %d, repeats %d, repeats with other values %d",
		got.vectors, len(got.byID), len(want), len(missing), len(unexpected), repeats, len(differ))
	if len(missing) > 0 {
		t.Errorf("lost %d windows, e.g. %s", len(missing), strings.Join(first5(missing), ", "))
		explainLoss(t, c.brokers, c.top, missing)
	}
	if len(unexpected) > 0 {
		t.Errorf("%d windows the core does not produce, e.g. %s", len(unexpected), strings.Join(first5(unexpected), ", "))
	}
	if len(differ) > 0 {
		t.Errorf("%d windows repeated with other values, e.g. %s", len(differ), strings.Join(first5(differ), "; "))
	}
	if got.decodeErrs > 0 {
		t.Errorf("%d undecodable records on the features topic", got.decodeErrs)
	}

	ar.stop()
	ga := ar.result()
	var lostA, extraA []string
	for id := range wantAnomalies {
		if ga.count[id] == 0 {
			lostA = append(lostA, id)
		}
	}
	aRepeats := 0
	for id, n := range ga.count {
		if !wantAnomalies[id] {
			extraA = append(extraA, id)
		}
		aRepeats += n - 1
	}
	sort.Strings(lostA)
	sort.Strings(extraA)
	t.Logf("anomalies: %d records, %d distinct ids of %d expected; lost %d, unexpected %d, repeats %d (one alert each after de-duplication by id); %d malformed",
		ga.records, len(ga.count), len(wantAnomalies), len(lostA), len(extraA), aRepeats, ga.bad)
	if len(lostA) > 0 {
		t.Errorf("lost %d anomalies: %s", len(lostA), strings.Join(first5(lostA), ", "))
	}
	if len(extraA) > 0 {
		t.Errorf("%d anomalies the core does not find: %s", len(extraA), strings.Join(first5(extraA), ", "))
	}
	if ga.bad > 0 {
		t.Errorf("%d malformed anomaly records", ga.bad)
	}
	t.Logf("whole test %.1f s on %s", time.Since(start).Seconds(), c.kind())
}

// expectedAnomalies runs the capture through the pure core as `riptide
// backtest` does, with the pipeline's defaults, and returns the anomaly ids.
func expectedAnomalies(t *testing.T, pcap string) map[string]bool {
	t.Helper()
	src, err := producers.OpenFiles([]string{pcap}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	res, err := backtest.Run(context.Background(), producers.Reorder(src, time.Minute, 4_000_000), backtest.DefaultConfig(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, a := range res.Anomalies {
		out[a.ID] = true
	}
	return out
}

// waitGroups waits until every group is Stable with n members and returns
// how long that took.
func (c *cluster) waitGroups(t *testing.T, groups []string, n int, timeout time.Duration) (time.Duration, bool) {
	t.Helper()
	adm, closeAdm := c.admin(t)
	defer closeAdm()
	t0 := time.Now()
	ok := waitFor(timeout, 100*time.Millisecond, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		ds, err := adm.DescribeGroups(ctx, groups...)
		if err != nil {
			return false
		}
		for _, g := range groups {
			d, ok := ds[g]
			if !ok || d.Err != nil || d.State != "Stable" || len(d.Members) != n {
				return false
			}
		}
		return true
	})
	return time.Since(t0), ok
}

// kafkaBroker stops and starts the real Kafka broker of the test cluster
// through integration/kafka/kafka.sh (stop keeps the data).
type kafkaBroker struct{ script string }

// kafkaSh returns the cluster's broker when it is a real Kafka broker that
// kafka.sh (with this environment's KAFKA_STATE and KAFKA_PORT) manages,
// and nil (with c.noRestartReason set) otherwise.
func (c *cluster) kafkaSh(t *testing.T) *kafkaBroker {
	t.Helper()
	if !c.real {
		c.noRestartReason = "the embedded broker keeps no data across a restart"
		return nil
	}
	script, err := filepath.Abs("kafka/kafka.sh")
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(script, "status").Output()
	addr := strings.TrimSpace(string(out))
	if err != nil || addr != c.brokers {
		c.noRestartReason = fmt.Sprintf("KAFKA_BROKERS=%s is not the broker kafka.sh manages here (status: %q, %v)", c.brokers, addr, err)
		return nil
	}
	return &kafkaBroker{script: script}
}

func (b *kafkaBroker) stop(t *testing.T)  { b.do(t, "stop") }
func (b *kafkaBroker) start(t *testing.T) { b.do(t, "start") }

func (b *kafkaBroker) do(t *testing.T, verb string) {
	t.Helper()
	_, errOut, code := run(t, 150*time.Second, b.script, verb)
	if code != 0 {
		t.Fatalf("kafka.sh %s: exit %d\n%s", verb, code, errOut)
	}
}

// anomalyReader reads the anomalies topic from the start, without a
// consumer group, and counts each anomaly id.
type anomalyReader struct {
	cl       *kgo.Client
	cancel   context.CancelFunc
	done     chan struct{}
	stopOnce sync.Once

	mu         sync.Mutex
	count      map[string]int
	records    int
	bad        int
	lastRecord time.Time
}

type anomalyResult struct {
	count        map[string]int
	records, bad int
}

func readAnomalies(t *testing.T, brokers, topic string) *anomalyReader {
	t.Helper()
	cl, err := kclient.NewClient(kclient.Config{Brokers: []string{brokers}, ClientID: "integration-anomalies"},
		kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ar := &anomalyReader{cl: cl, cancel: cancel, done: make(chan struct{}), count: map[string]int{}, lastRecord: time.Now()}
	go func() {
		defer close(ar.done)
		for {
			fs := cl.PollFetches(ctx)
			if ctx.Err() != nil {
				return
			}
			ar.mu.Lock()
			fs.EachRecord(func(r *kgo.Record) {
				ar.records++
				ar.lastRecord = time.Now()
				var a codecs.Anomaly
				if err := json.Unmarshal(r.Value, &a); err != nil || a.ID == "" || string(r.Key) != a.Host {
					ar.bad++
					return
				}
				ar.count[a.ID]++
			})
			ar.mu.Unlock()
		}
	}()
	t.Cleanup(ar.stop)
	return ar
}

func (ar *anomalyReader) stop() {
	ar.stopOnce.Do(func() {
		ar.cancel()
		<-ar.done
		ar.cl.Close()
	})
}

func (ar *anomalyReader) distinct() int {
	ar.mu.Lock()
	defer ar.mu.Unlock()
	return len(ar.count)
}

func (ar *anomalyReader) hasAll(want map[string]bool) bool {
	ar.mu.Lock()
	defer ar.mu.Unlock()
	for id := range want {
		if ar.count[id] == 0 {
			return false
		}
	}
	return true
}

func (ar *anomalyReader) waitQuiet(quiet, timeout time.Duration) {
	waitFor(timeout, 20*time.Millisecond, func() bool {
		ar.mu.Lock()
		defer ar.mu.Unlock()
		return time.Since(ar.lastRecord) >= quiet
	})
}

func (ar *anomalyReader) result() anomalyResult {
	ar.mu.Lock()
	defer ar.mu.Unlock()
	return anomalyResult{count: maps.Clone(ar.count), records: ar.records, bad: ar.bad}
}
