//go:build integration

package integration

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/riptide-nids/riptide/codecs"
	"github.com/riptide-nids/riptide/kclient"
	"github.com/riptide-nids/riptide/packet"
	"github.com/riptide-nids/riptide/processors/windower"
	"github.com/riptide-nids/riptide/producers"
	"github.com/riptide-nids/riptide/topology"
	"github.com/riptide-nids/riptide/window"
)

// TestKillAndRestartLosesNoWindow replays a capture into the packets topic,
// runs the windower (`riptide run --groups windower`), kills it with SIGKILL
// part-way through, starts it again, and checks the features topic against
// the windows the pure core computes from the same capture: no (host,
// window) is lost, none appears that should not, and a (host, window)
// emitted twice carries the same id and the same values.
func TestKillAndRestartLosesNoWindow(t *testing.T) {
	pcap := dataset(t, "bench/dev-mixed.pcap")
	start := time.Now()

	want := expectedWindows(t, pcap)
	t.Logf("expected windows (pure core: OpenFiles, Reorder 1m, Aggregator): %d, computed in %.1f s", len(want), time.Since(start).Seconds())

	c := newCluster(t, topology.DefaultPrefix)
	brokers, top := c.brokers, c.top
	c.createTopics(t, 4)

	out, errOut, code := riptide(t, 120*time.Second, c.args("capture", "--pcap", pcap)...)
	if code != 0 {
		t.Fatalf("riptide capture: exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}

	fr := readFeatures(t, brokers, top.Features.Name)

	// First run: kill it once a fifth of the windows is out. It first joins
	// its group (one rebalance, maybe two on real Kafka).
	first := startProc(t, "run#1", c.args("run", "--groups", "windower")...)
	runStart := time.Now()
	killAt := len(want) / 5
	firstWait := 60*time.Second + c.slack(2)
	if !waitFor(firstWait, 5*time.Millisecond, func() bool { return fr.distinct() >= killAt || !first.running() }) {
		t.Fatalf("the windower emitted %d of %d windows in %v; want %d before the kill", fr.distinct(), len(want), firstWait, killAt)
	}
	if !first.running() {
		t.Fatalf("riptide run --groups windower exited before the kill")
	}
	first.kill(syscall.SIGKILL)
	if _, err := first.wait(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	atKill := fr.snapshot()
	t.Logf("kill point: SIGKILL %.2f s after the first start, when the reader had %d distinct windows (%.0f%% of %d) in %d records (%d watermarks)",
		killed.Sub(runStart).Seconds(), atKill.distinct, 100*float64(atKill.distinct)/float64(len(want)), len(want), atKill.records, atKill.watermarks)
	// Let the reader catch up with what the killed process had written
	// before judging how far it got.
	settle := fr.waitQuiet(2*time.Second, 20*time.Second)
	t.Logf("after the kill the reader settled at %d distinct windows (%.0f%%) in %d records (%.1f s)",
		settle.distinct, 100*float64(settle.distinct)/float64(len(want)), settle.records, time.Since(killed).Seconds())
	// How far the killed windower got through its input: when it had
	// committed every packets record, the restarted one has nothing left to
	// consume, and only what the killed one left in its table can complete
	// the windows.
	if committed, end, err := groupProgress(brokers, string(top.Windower), top.Packets.Name); err != nil {
		t.Logf("kill point: committed offsets of %s: %v", top.Windower, err)
	} else {
		t.Logf("kill point: the killed windower had committed %d of %d packets records (%.0f%%)", committed, end, 100*float64(committed)/float64(max(end, 1)))
	}
	if settle.distinct >= len(want)*9/10 {
		t.Fatalf("the first run had emitted %d of %d windows before dying: the kill came too late to test a restart", settle.distinct, len(want))
	}

	// Second run: it must complete the set. On real Kafka the killed member
	// stays in the group until its session times out, and only then does the
	// rebalance that hands its partitions to the new member complete; a
	// further round costs goka's 5 s rejoin delay on top: both are in the
	// deadline, and in the quiet time that counts as given up.
	restart := time.Now()
	// When the killed windower had already committed its whole input, the
	// restarted one has nothing to consume: its idle flush (3 s here, 30 s
	// by default) closes the windows its predecessor left open.
	second := startProc(t, "run#2", c.args("run", "--groups", "windower", "--idle-flush", "3s")...)
	// Complete, or given up on: the restarted windower wrote something and
	// then nothing more for 15 s (plus a rebalance on real Kafka).
	before := fr.snapshot().records
	complete := false
	restartWait := 90*time.Second + c.slack(2)
	quietGiveUp := 15*time.Second + c.slack(1)
	waitFor(restartWait, 50*time.Millisecond, func() bool {
		complete = fr.hasAll(want)
		return complete || !second.running() || fr.quietSince(before) >= quietGiveUp
	})
	if !second.running() {
		t.Fatalf("riptide run --groups windower (restart) exited")
	}
	toComplete := time.Since(restart)
	if fr.snapshot().records == before {
		// The restarted windower wrote nothing at all: show where the group
		// stands and where the process is stuck (SIGQUIT dumps goroutines).
		t.Errorf("the restarted windower wrote nothing to the features topic in %.0f s", toComplete.Seconds())
		describeGroup(t, brokers, string(top.Windower), top.Packets.Name)
		second.kill(syscall.SIGQUIT)
		_, _ = second.wait(10 * time.Second)
		t.Logf("goroutines of the restarted windower (goka and riptide frames):\n%s", goroutines(readFile(second.stderr)))
	}
	// Then wait until nothing more arrives, so that late duplicates count.
	final := fr.waitQuiet(3*time.Second, 30*time.Second)
	if complete {
		t.Logf("restart to complete: %.1f s; total records %d (%d watermarks), %d distinct windows", toComplete.Seconds(), final.records, final.watermarks, final.distinct)
	} else {
		t.Errorf("the features topic did not hold every expected window %.0f s after the restart (%d distinct)", toComplete.Seconds(), final.distinct)
	}

	fr.stop()
	got := fr.result()
	var missing, unexpected []string
	for id := range want {
		if _, ok := got.byID[id]; !ok {
			missing = append(missing, id)
		}
	}
	for id := range got.byID {
		if !want[id] {
			unexpected = append(unexpected, id)
		}
	}
	sort.Strings(missing)
	sort.Strings(unexpected)
	dups, differ, extra := 0, 0, 0
	var differIDs []string
	for id, e := range got.byID {
		if e.count > 1 {
			dups++
			extra += e.count - 1
		}
		if e.differ > 0 {
			differ++
			differIDs = append(differIDs, id)
		}
	}
	sort.Strings(differIDs)
	t.Logf("features topic: %d vector records, %d distinct (host, window) ids; expected %d; missing %d, unexpected %d; "+
		"%d ids emitted more than once (%d extra records), %d of them with values differing from the first emission",
		got.vectors, len(got.byID), len(want), len(missing), len(unexpected), dups, extra, differ)
	if len(got.badKey) > 0 {
		t.Errorf("%d vectors whose record key is not their host, e.g. %s", len(got.badKey), strings.Join(first5(got.badKey), ", "))
	}
	if got.decodeErrs > 0 {
		t.Errorf("%d records on the features topic do not decode as vectors", got.decodeErrs)
	}
	if len(missing) > 0 {
		t.Errorf("lost %d windows, e.g. %s", len(missing), strings.Join(first5(missing), ", "))
		explainLoss(t, brokers, top, missing)
	}
	if len(unexpected) > 0 {
		t.Errorf("%d windows that the core does not produce, e.g. %s", len(unexpected), strings.Join(first5(unexpected), ", "))
	}
	if differ > 0 {
		for _, id := range first5(differIDs) {
			t.Logf("differing duplicate %s: %s", id, got.byID[id].diff)
		}
		t.Errorf("%d windows were re-emitted with values different from their first emission", differ)
	}
	t.Logf("whole test %.1f s on %s", time.Since(start).Seconds(), c.kind())
}

// expectedWindows computes the ids of every (host, window) of the capture
// with the pure core, as riptide capture and the windower see it.
func expectedWindows(t *testing.T, pcap string) map[string]bool {
	t.Helper()
	src, err := producers.OpenFiles([]string{pcap}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	agg := window.NewAggregator(window.DefaultConfig(), func(v *window.Vector) { want[v.ID()] = true })
	ordered := producers.Reorder(src, time.Minute, 4_000_000)
	var s packet.Summary
	for {
		err := ordered.Next(&s)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		agg.Add(&s)
	}
	agg.Flush()
	return want
}

// featureReader reads the features topic from the start, without a
// consumer group, and keeps every vector by id.
type featureReader struct {
	cl       *kgo.Client
	cancel   context.CancelFunc
	done     chan struct{}
	stopOnce sync.Once

	mu         sync.Mutex
	byID       map[string]*emission
	vectors    int
	records    int
	watermarks int
	decodeErrs int
	badKey     []string
	lastRecord time.Time
}

// emission is what the reader saw of one (host, window) id.
type emission struct {
	first  window.Vector
	count  int
	differ int
	diff   string
}

type readerCounts struct{ distinct, records, watermarks int }

func readFeatures(t *testing.T, brokers, topic string) *featureReader {
	t.Helper()
	cl, err := kclient.NewClient(kclient.Config{Brokers: []string{brokers}, ClientID: "integration-reader"},
		kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	fr := &featureReader{cl: cl, cancel: cancel, done: make(chan struct{}), byID: map[string]*emission{}, lastRecord: time.Now()}
	go fr.loop(ctx)
	t.Cleanup(fr.stop)
	return fr
}

func (fr *featureReader) loop(ctx context.Context) {
	defer close(fr.done)
	for {
		fs := fr.cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return
		}
		fr.mu.Lock()
		fs.EachRecord(func(r *kgo.Record) {
			fr.records++
			fr.lastRecord = time.Now()
			var v window.Vector
			if err := codecs.DecodeVector(r.Value, &v); err != nil {
				fr.decodeErrs++
				return
			}
			if _, _, _, ok := v.Watermark(); ok {
				fr.watermarks++
				return
			}
			fr.vectors++
			if string(r.Key) != v.Host {
				fr.badKey = append(fr.badKey, v.ID()+" key "+string(r.Key))
			}
			id := v.ID()
			e := fr.byID[id]
			if e == nil {
				fr.byID[id] = &emission{first: v, count: 1}
				return
			}
			e.count++
			if d := vectorDiff(&e.first, &v); d != "" {
				e.differ++
				if e.diff == "" {
					e.diff = d
				}
			}
		})
		fr.mu.Unlock()
	}
}

// vectorDiff describes how b differs from a, or returns "" if they are
// identical (values compared bit for bit).
func vectorDiff(a, b *window.Vector) string {
	if a.Host != b.Host || a.Start != b.Start || a.End != b.End {
		return "bounds differ"
	}
	if len(a.Values) != len(b.Values) {
		return "value counts differ"
	}
	names := window.Names()
	var ds []string
	for i := range a.Values {
		if math.Float64bits(a.Values[i]) != math.Float64bits(b.Values[i]) {
			n := "?"
			if i < len(names) {
				n = names[i]
			}
			ds = append(ds, n+": "+ftoa(a.Values[i])+" then "+ftoa(b.Values[i]))
		}
	}
	return strings.Join(ds, "; ")
}

func (fr *featureReader) stop() {
	fr.stopOnce.Do(func() {
		fr.cancel()
		<-fr.done
		fr.cl.Close()
	})
}

func (fr *featureReader) distinct() int {
	fr.mu.Lock()
	defer fr.mu.Unlock()
	return len(fr.byID)
}

func (fr *featureReader) snapshot() readerCounts {
	fr.mu.Lock()
	defer fr.mu.Unlock()
	return readerCounts{distinct: len(fr.byID), records: fr.records, watermarks: fr.watermarks}
}

func (fr *featureReader) hasAll(want map[string]bool) bool {
	fr.mu.Lock()
	defer fr.mu.Unlock()
	if len(fr.byID) < len(want) {
		return false
	}
	for id := range want {
		if _, ok := fr.byID[id]; !ok {
			return false
		}
	}
	return true
}

// quietSince returns how long no record has arrived, if more than n
// records have arrived in all, and 0 otherwise.
func (fr *featureReader) quietSince(n int) time.Duration {
	fr.mu.Lock()
	defer fr.mu.Unlock()
	if fr.records <= n {
		return 0
	}
	return time.Since(fr.lastRecord)
}

// waitQuiet waits until no record has arrived for quiet (at most timeout)
// and returns the counts then.
func (fr *featureReader) waitQuiet(quiet, timeout time.Duration) readerCounts {
	waitFor(timeout, 20*time.Millisecond, func() bool {
		fr.mu.Lock()
		defer fr.mu.Unlock()
		return time.Since(fr.lastRecord) >= quiet
	})
	return fr.snapshot()
}

type readerResult struct {
	byID       map[string]*emission
	vectors    int
	decodeErrs int
	badKey     []string
}

func (fr *featureReader) result() readerResult {
	fr.mu.Lock()
	defer fr.mu.Unlock()
	return readerResult{byID: fr.byID, vectors: fr.vectors, decodeErrs: fr.decodeErrs, badKey: fr.badKey}
}

func first5(s []string) []string {
	if len(s) > 5 {
		return s[:5]
	}
	return s
}

func ftoa(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// readTopic reads every record of topic up to its current end offsets.
func readTopic(t *testing.T, brokers, topic string) []*kgo.Record {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cl, err := kclient.NewClient(kclient.Config{Brokers: []string{brokers}, ClientID: "integration-diag"},
		kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatalf("list end offsets of %s: %v", topic, err)
	}
	left := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Offset > 0 {
			left[o.Partition] = o.Offset
		}
	})
	var out []*kgo.Record
	for len(left) > 0 {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %s: %v (partitions left: %v)", topic, ctx.Err(), left)
		}
		fs.EachRecord(func(r *kgo.Record) {
			out = append(out, r)
			if end, ok := left[r.Partition]; ok && r.Offset+1 >= end {
				delete(left, r.Partition)
			}
		})
	}
	return out
}

// explainLoss logs, for a few lost windows, the history of the host in the
// windower's table changelog and on the packets topic, to tell a window that
// was never opened from one that was closed without its vector reaching the
// features topic.
func explainLoss(t *testing.T, brokers string, top *topology.Topology, missing []string) {
	t.Helper()
	hosts := map[string]bool{}
	for _, id := range first5(missing) {
		hosts[id[:strings.IndexByte(id, '@')]] = true
	}
	packets := map[string][]string{}
	for _, r := range readTopic(t, brokers, top.Packets.Name) {
		if k := string(r.Key); hosts[k] {
			sums, err := codecs.DecodePacketBatch(r.Value, nil)
			desc := "undecodable"
			if err == nil && len(sums) > 0 {
				desc = strconv.Itoa(len(sums)) + " packets from " + time.Unix(0, sums[0].Time).UTC().Format("15:04:05.000")
			}
			packets[k] = append(packets[k], "p"+strconv.Itoa(int(r.Partition))+"@"+strconv.FormatInt(r.Offset, 10)+" ("+desc+")")
		}
	}
	changes := map[string][]string{}
	for _, r := range readTopic(t, brokers, string(top.Windower)+"-table") {
		if k := string(r.Key); hosts[k] {
			desc := "tombstone"
			if r.Value != nil {
				// The table's values are windower.HostState (a window.State
				// and the recently closed vectors), in the windower's codec.
				v, err := windower.StateCodec{}.Decode(r.Value)
				if err != nil {
					desc = "undecodable: " + err.Error()
				} else {
					st := v.(*windower.HostState)
					desc = "last_offset " + strconv.FormatInt(st.LastOffset, 10) + ", open windows " + strconv.Itoa(st.Open()) +
						", recently closed " + strconv.Itoa(len(st.Recent))
				}
			}
			changes[k] = append(changes[k], "@"+strconv.FormatInt(r.Offset, 10)+" "+desc+" (written "+r.Timestamp.UTC().Format("15:04:05.000")+")")
		}
	}
	for _, id := range first5(missing) {
		h := id[:strings.IndexByte(id, '@')]
		t.Logf("lost %s: packets records %v; windower-table changelog %v", id, packets[h], changes[h])
	}
}

// groupProgress returns the offsets group has committed on topic, summed
// over the partitions, and the sum of the topic's end offsets.
func groupProgress(brokers, group, topic string) (committed, end int64, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cl, err := kclient.NewClient(kclient.Config{Brokers: []string{brokers}, ClientID: "integration-diag"})
	if err != nil {
		return 0, 0, err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		return 0, 0, err
	}
	offs, err := adm.FetchOffsets(ctx, group)
	if err != nil {
		return 0, 0, err
	}
	ends.Each(func(o kadm.ListedOffset) {
		end += o.Offset
		if c, ok := offs.Lookup(topic, o.Partition); ok && c.At > 0 {
			committed += c.At
		}
	})
	return committed, end, nil
}

// describeGroup logs the committed offsets of group on topic against the
// topic's end offsets.
func describeGroup(t *testing.T, brokers, group, topic string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cl, err := kclient.NewClient(kclient.Config{Brokers: []string{brokers}, ClientID: "integration-diag"})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		t.Logf("describe group: end offsets: %v", err)
		return
	}
	committed, err := adm.FetchOffsets(ctx, group)
	if err != nil {
		t.Logf("describe group: committed offsets: %v", err)
		return
	}
	ends.Each(func(o kadm.ListedOffset) {
		c, ok := committed.Lookup(topic, o.Partition)
		t.Logf("group %s %s[%d]: committed %v (found %v), end %d", group, topic, o.Partition, c.At, ok, o.Offset)
	})
	dg, err := adm.DescribeGroups(ctx, group)
	if err == nil {
		for _, g := range dg {
			t.Logf("group %s: state %s, protocol %s, %d members", g.Group, g.State, g.Protocol, len(g.Members))
		}
	}
}

// goroutines returns the goroutines of a Go stack dump that run goka's or
// riptide's code, a few frames each.
func goroutines(dump string) string {
	i := strings.Index(dump, "goroutine ")
	if i < 0 {
		return "(no goroutine dump)"
	}
	var out []string
	for _, g := range strings.Split(dump[i:], "\n\n") {
		if !strings.Contains(g, "lovoo/goka") && !strings.Contains(g, "riptide-nids") {
			continue
		}
		ls := strings.Split(g, "\n")
		if len(ls) > 25 {
			ls = append(ls[:25], "\t...")
		}
		out = append(out, strings.Join(ls, "\n"))
	}
	return strings.Join(out, "\n\n")
}
