//go:build integration

package integration

import (
	"encoding/json"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/riptide-nids/riptide/codecs"
)

// TestFeedbackRetrainsAsProcesses runs the feedback loop as processes:
// riptide run and capture of the benchmark capture, then five alerted
// windows labelled false positives with riptide label. The trainer
// retrains; riptide models shows v2 as champion, with five false alerts on
// the labelled windows for v1 and none for v2; rollback makes v1 the
// champion again.
func TestFeedbackRetrainsAsProcesses(t *testing.T) {
	pcap := dataset(t, "bench/dev-mixed.pcap")
	start := time.Now()
	c := newCluster(t, "feedback-it")
	c.createTopics(t, 2)
	rt := startProc(t, "run", c.args("run")...)
	if out, errOut, code := riptide(t, 120*time.Second, c.args("capture", "--pcap", pcap)...); code != 0 {
		t.Fatalf("riptide capture: exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	var ids []string
	collect(t, c.brokers, c.top.Anomalies.Name, 90*time.Second+c.slack(2), func(rs []*kgo.Record) bool {
		ids = ids[:0]
		seen := map[string]bool{}
		for _, r := range rs {
			if a, err := codecs.DecodeAnomaly(r.Value); err == nil && !seen[a.ID] {
				seen[a.ID] = true
				ids = append(ids, a.ID)
			}
		}
		return len(ids) >= 5
	})
	for _, id := range ids[:5] {
		out, errOut, code := riptide(t, 60*time.Second, c.args("label", id, "--verdict", "false-positive", "--note", "integration")...)
		if code != 0 || !strings.Contains(out, "labelled "+id) {
			t.Fatalf("riptide label %s: exit %d\nstdout: %s\nstderr: %s", id, code, out, errOut)
		}
	}
	var list string
	if !waitFor(60*time.Second+c.slack(1), time.Second, func() bool {
		list, _, _ = riptide(t, 60*time.Second, c.args("models", "list")...)
		return strings.Contains(list, "champion: default-v2")
	}) {
		t.Fatalf("no retrained champion within the deadline; models list:\n%s", list)
	}
	t.Logf("models list:\n%s", list)
	out, errOut, code := riptide(t, 60*time.Second, c.args("models", "show")...)
	var shown struct {
		Name  string `json:"name"`
		Entry struct {
			Eval     struct{ FP, TN int } `json:"eval"`
			Champion struct{ FP int }     `json:"champion_eval"`
			Trigger  string               `json:"trigger"`
		} `json:"entry"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &shown) != nil {
		t.Fatalf("models show: exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	if shown.Name != "default-v2" || shown.Entry.Champion.FP != 5 || shown.Entry.Eval.FP != 0 || shown.Entry.Eval.TN != 5 || shown.Entry.Trigger != "labels" {
		t.Errorf("models show: %s\nwant v2 without false alerts on the five windows v1 flagged", out)
	}
	out, errOut, code = riptide(t, 60*time.Second, c.args("models", "rollback", "--wait", (60*time.Second+c.slack(1)).String())...)
	if code != 0 || !strings.Contains(out, "champion is now default-v1") {
		t.Errorf("models rollback: exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	if err := rt.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code, err := rt.wait(20 * time.Second); err != nil || code != 0 {
		t.Errorf("riptide run after SIGTERM: exit %d, %v", code, err)
	}
	t.Logf("feedback loop as processes: %.1f s on %s", time.Since(start).Seconds(), c.kind())
}
