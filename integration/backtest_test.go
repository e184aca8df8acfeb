//go:build integration

package integration

import (
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/riptide-nids/riptide/backtest"
	"github.com/riptide-nids/riptide/packet"
	"github.com/riptide-nids/riptide/producers"
	"github.com/riptide-nids/riptide/window"
)

// backtestJSON is what the comparison reads of `riptide backtest --json`.
type backtestJSON struct {
	Packets         int64           `json:"packets"`
	Windows         int64           `json:"windows"`
	LearningWindows int64           `json:"learning_windows"`
	ScoredWindows   int             `json:"scored_windows"`
	LatePackets     int64           `json:"late_packets"`
	SupportVectors  int             `json:"support_vectors"`
	Threshold       float64         `json:"threshold"`
	Anomalies       int             `json:"anomalies"`
	Score           *backtest.Score `json:"score"`
	Decode          struct {
		Records    int64            `json:"records"`
		Watermarks int64            `json:"watermarks"`
		Corrupt    map[string]int64 `json:"corrupt"`
	} `json:"decode"`
}

// TestBacktestTopicMatchesPcap captures the benchmark to the cluster with
// `riptide capture`, then runs `riptide backtest --topic` and `riptide
// backtest --pcap` as separate processes: the evaluation and the anomalies
// must be the same.
func TestBacktestTopicMatchesPcap(t *testing.T) {
	pcap := dataset(t, "bench/dev-mixed.pcap")
	labels := dataset(t, "bench/dev-mixed.labels.csv")
	c := newCluster(t, "bt")
	c.createTopics(t, 6)
	out, errOut, code := riptide(t, 120*time.Second, c.args("capture", "--pcap", pcap)...)
	if code != 0 {
		t.Fatalf("riptide capture: exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	t.Logf("capture: %s", strings.TrimSpace(out))

	dir := t.TempDir()
	backtestRun := func(name string, args ...string) (backtestJSON, []string) {
		t.Helper()
		anomalies := filepath.Join(dir, name+".jsonl")
		args = append(args, "--labels", labels, "--json", "--anomalies", anomalies)
		t0 := time.Now()
		out, errOut, code := riptide(t, 180*time.Second, args...)
		if code != 0 {
			t.Fatalf("riptide %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, out, errOut)
		}
		var rep backtestJSON
		if err := json.Unmarshal([]byte(out), &rep); err != nil || rep.Score == nil {
			t.Fatalf("riptide %s: output is not a report with a score (%v):\n%s", strings.Join(args, " "), err, out)
		}
		s := rep.Score
		t.Logf("%-5s (%.1f s): precision %.4f recall %.4f F1 %.4f; windows %d TP, %d FP, %d FN, %d TN; attacks %d of %d; %d packets, %d windows, %d anomalies",
			name, time.Since(t0).Seconds(), s.Precision, s.Recall, s.F1, s.TruePositives, s.FalsePositives, s.FalseNegatives, s.TrueNegatives,
			s.AttacksDetected, len(s.Attacks), rep.Packets, rep.Windows, rep.Anomalies)
		b, err := os.ReadFile(anomalies)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, line := range nonEmptyLines(string(b)) {
			var a struct {
				ID    string  `json:"id"`
				Score float64 `json:"score"`
			}
			if err := json.Unmarshal([]byte(line), &a); err != nil {
				t.Fatalf("%s: anomaly line %q: %v", anomalies, line, err)
			}
			ids = append(ids, a.ID)
		}
		return rep, ids
	}
	topic, topicIDs := backtestRun("topic", c.args("backtest", "--topic", c.top.Packets.Name)...)
	file, fileIDs := backtestRun("pcap", "backtest", "--pcap", pcap)

	ts, fs := topic.Score, file.Score
	if ts.Precision != fs.Precision || ts.Recall != fs.Recall || ts.F1 != fs.F1 {
		t.Errorf("precision/recall/F1: topic %v/%v/%v, pcap %v/%v/%v", ts.Precision, ts.Recall, ts.F1, fs.Precision, fs.Recall, fs.F1)
	}
	tj, _ := json.Marshal(ts)
	fj, _ := json.Marshal(fs)
	if string(tj) != string(fj) {
		t.Errorf("evaluations differ:\ntopic %s\npcap  %s", tj, fj)
	}
	if topic.Windows != file.Windows || topic.ScoredWindows != file.ScoredWindows || topic.LearningWindows != file.LearningWindows ||
		topic.LatePackets != file.LatePackets || topic.SupportVectors != file.SupportVectors || topic.Threshold != file.Threshold {
		t.Errorf("reports differ:\ntopic %+v\npcap  %+v", topic, file)
	}
	if !slices.Equal(topicIDs, fileIDs) {
		t.Errorf("anomaly ids differ:\ntopic %q\npcap  %q", topicIDs, fileIDs)
	}
	if fs.TruePositives == 0 {
		t.Error("the pcap backtest found no attack window: the comparison proves little")
	}
	// Packets with no host endpoint are not written to the topic.
	sums := hostSummaries(t, pcap)
	if topic.Packets != int64(len(sums)) || file.Packets != benchPackets {
		t.Errorf("topic backtest read %d packets, want the capture's %d with a host endpoint; pcap backtest %d, want %d",
			topic.Packets, len(sums), file.Packets, benchPackets)
	}
	if topic.Decode.Watermarks == 0 || len(topic.Decode.Corrupt) != 0 {
		t.Errorf("topic reader: %d records, %d watermarks, corrupt %v", topic.Decode.Records, topic.Decode.Watermarks, topic.Decode.Corrupt)
	}

	// A time range, one bound in RFC 3339 and one in unix milliseconds:
	// exactly the capture's packets in it are read.
	from := time.Unix(0, sums[0].Time).UTC().Truncate(time.Minute).Add(12 * time.Minute)
	to := from.Add(10*time.Minute + 250*time.Millisecond)
	in := 0
	for _, s := range sums {
		if s.Time >= from.UnixNano() && s.Time < to.UnixNano() {
			in++
		}
	}
	ranged, _ := backtestRun("range", c.args("backtest", "--topic", c.top.Packets.Name, "--learn", "5m",
		"--from", from.Format(time.RFC3339), "--to", strconv.FormatInt(to.UnixMilli(), 10))...)
	if ranged.Packets != int64(in) {
		t.Errorf("[%s, %s): read %d packets, the capture has %d in the range", from.Format(time.RFC3339Nano), to.Format(time.RFC3339Nano), ranged.Packets, in)
	}
}

// hostSummaries reads the capture in time order (as riptide capture does)
// and returns its packets with at least one endpoint that is a host: only
// those are written to the packets topic.
func hostSummaries(t *testing.T, pcap string) []packet.Summary {
	t.Helper()
	files, err := producers.OpenFiles([]string{pcap}, nil)
	if err != nil {
		t.Fatal(err)
	}
	src := producers.Reorder(files, time.Minute, 4_000_000)
	var out []packet.Summary
	var s packet.Summary
	for {
		err := src.Next(&s)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if window.IsHost(s.Src) || window.IsHost(s.Dst) {
			out = append(out, s)
		}
	}
}
