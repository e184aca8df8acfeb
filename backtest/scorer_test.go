package backtest_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/riptide-nids/riptide/backtest"
	"github.com/riptide-nids/riptide/codecs"
)

// scorerOutput is what ../shared/tools/score-anomalies prints.
type scorerOutput struct {
	Precision       float64 `json:"precision"`
	TruePositives   int     `json:"true_positive_windows"`
	FalsePositives  int     `json:"false_positive_windows"`
	Neutral         int     `json:"neutral_windows"`
	Recall          float64 `json:"recall"`
	PositiveWindows int     `json:"positive_windows"`
	F1              float64 `json:"f1"`
	Attacks         map[string]struct {
		Detected     bool     `json:"detected"`
		TimeToDetect *float64 `json:"time_to_detect_s"`
	} `json:"attacks"`
}

// score runs the benchmark's independent scorer with 10 s windows.
func score(t *testing.T, labels, anomalies string) scorerOutput {
	t.Helper()
	const python = "/usr/bin/python3"
	tool := filepath.Join(sharedDir(t), "tools", "score-anomalies")
	if _, err := os.Stat(tool); err != nil {
		t.Fatalf("the reference scorer is missing: %v", err)
	}
	cmd := exec.Command(python, tool, labels, anomalies, "--window", "10")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v\n%s", cmd, err, stderr.Bytes())
	}
	var so scorerOutput
	if err := json.Unmarshal(out, &so); err != nil {
		t.Fatalf("scorer output %q: %v", out, err)
	}
	return so
}

// round rounds as Python's round(x, digits) does: to the nearest decimal of
// the exact binary value.
func round(x float64, digits int) float64 {
	r, err := strconv.ParseFloat(strconv.FormatFloat(x, 'f', digits, 64), 64)
	if err != nil {
		panic(err)
	}
	return r
}

// writeAnomalies writes flags as the anomalies topic's JSON lines, with a
// few lines the scorer must ignore.
func writeAnomalies(t *testing.T, flags []backtest.Flag) string {
	t.Helper()
	var buf bytes.Buffer
	buf.WriteString("# riptide anomalies\n\n")
	for i, f := range flags {
		a := &codecs.Anomaly{
			ID: fmt.Sprintf("%s@%d", f.Host, f.Start.UnixMilli()), Host: f.Host, WindowStart: f.Start, WindowEnd: f.End,
			Score: 1 + float64(i), Threshold: 0.5, ModelVersion: "test",
		}
		b, err := codecs.EncodeAnomaly(a)
		if err != nil {
			t.Fatal(err)
		}
		buf.Write(b)
		buf.WriteByte('\n')
	}
	buf.WriteString("{not json\n")
	path := filepath.Join(t.TempDir(), "anomalies.jsonl")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// agree checks that Evaluate scores flags as the reference scorer does.
func agree(t *testing.T, labelsPath string, labels []backtest.Label, flags []backtest.Flag) backtest.Score {
	t.Helper()
	ours := backtest.Evaluate(labels, flags, 10*time.Second, 0, 0)
	theirs := score(t, labelsPath, writeAnomalies(t, flags))
	t.Logf("ours:   precision %.4f recall %.4f F1 %.4f TP %d FP %d neutral %d positives %d, %d attacks detected",
		ours.Precision, ours.Recall, ours.F1, ours.TruePositives, ours.FalsePositives, ours.Neutral, ours.PositiveWindows, ours.AttacksDetected)
	t.Logf("scorer: precision %.4f recall %.4f F1 %.4f TP %d FP %d neutral %d positives %d",
		theirs.Precision, theirs.Recall, theirs.F1, theirs.TruePositives, theirs.FalsePositives, theirs.Neutral, theirs.PositiveWindows)
	checks := []struct {
		what        string
		ours, their float64
	}{
		{"precision", round(ours.Precision, 4), theirs.Precision},
		{"recall", round(ours.Recall, 4), theirs.Recall},
		{"F1", round(ours.F1, 4), theirs.F1},
		{"true positives", float64(ours.TruePositives), float64(theirs.TruePositives)},
		{"false positives", float64(ours.FalsePositives), float64(theirs.FalsePositives)},
		{"neutral", float64(ours.Neutral), float64(theirs.Neutral)},
		{"positive windows", float64(ours.PositiveWindows), float64(theirs.PositiveWindows)},
	}
	for _, c := range checks {
		if c.ours != c.their {
			t.Errorf("%s: ours %v, scorer %v", c.what, c.ours, c.their)
		}
	}
	var names, theirNames []string
	for name := range ours.Attacks {
		names = append(names, name)
	}
	for name := range theirs.Attacks {
		theirNames = append(theirNames, name)
	}
	slices.Sort(names)
	slices.Sort(theirNames)
	if !slices.Equal(names, theirNames) {
		t.Fatalf("attacks: ours %v, scorer %v", names, theirNames)
	}
	for _, name := range names {
		a, b := ours.Attacks[name], theirs.Attacks[name]
		if a.Detected != b.Detected {
			t.Errorf("%s: detected %v, scorer %v", name, a.Detected, b.Detected)
			continue
		}
		if !a.Detected {
			continue
		}
		if b.TimeToDetect == nil {
			t.Errorf("%s: the scorer gives no time to detect", name)
			continue
		}
		if got := round(a.TimeToDetect, 1); got != *b.TimeToDetect {
			t.Errorf("%s: time to detect %.1f s (%.6f), scorer %.1f s", name, got, a.TimeToDetect, *b.TimeToDetect)
		}
	}
	return ours
}

func TestAgreementWithScorerOnBacktest(t *testing.T) {
	r := runDevMixed(t)
	flags := r.res.Flags()
	if len(flags) == 0 {
		t.Fatal("the backtest flagged nothing; nothing to compare")
	}
	agree(t, r.labelsPath, r.labels, flags)
}

func TestAgreementWithScorerOnSyntheticFlags(t *testing.T) {
	_, labelsPath := devMixed(t)
	labels, err := backtest.ReadLabelsFile(labelsPath)
	if err != nil {
		t.Fatal(err)
	}
	const w = 10 * time.Second
	rng := rand.New(rand.NewPCG(42, 7))
	aligned := func(t time.Time) time.Time { return t.Truncate(w) }
	var flags []backtest.Flag
	add := func(host string, start time.Time, end time.Time) {
		flags = append(flags, backtest.Flag{Host: host, Start: start, End: end})
		if rng.IntN(10) == 0 { // the same window reported again
			flags = append(flags, backtest.Flag{Host: host, Start: start, End: end})
		}
	}
	addWindow := func(host string, start time.Time) { add(host, start, start.Add(w)) }
	hosts := map[string]bool{}
	var participants []backtest.Label
	skipAttack := "c2-beacon" // left undetected
	for _, l := range labels {
		hosts[l.Host] = true
		if !l.Principal() {
			participants = append(participants, l)
			continue
		}
		if l.Attack == skipAttack {
			continue
		}
		// About half the positive windows, in random order.
		var ws []time.Time
		for s := aligned(l.Start); !s.After(l.End); s = s.Add(w) {
			ws = append(ws, s)
		}
		rng.Shuffle(len(ws), func(i, j int) { ws[i], ws[j] = ws[j], ws[i] })
		for _, s := range ws[:max(1, len(ws)/2)] {
			addWindow(l.Host, s)
		}
		// The same host well before and after its attack (false
		// positives unless another label covers them).
		addWindow(l.Host, aligned(l.Start).Add(-5*time.Minute))
		addWindow(l.Host, aligned(l.End).Add(3*time.Minute))
		// Boundaries: a window ending exactly at the start (not
		// overlapping) and one starting exactly at the last packet
		// (overlapping; not aligned, so not a positive window).
		add(l.Host, l.Start.Add(-w), l.Start)
		add(l.Host, l.End, l.End.Add(w))
	}
	// Participants: windows during their attack are neutral.
	for range 300 {
		l := participants[rng.IntN(len(participants))]
		addWindow(l.Host, aligned(l.Start))
	}
	// Unlabelled hosts and random windows of labelled ones over the
	// capture's 38 minutes.
	day := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	var labelled []string
	for h := range hosts {
		labelled = append(labelled, h)
	}
	slices.Sort(labelled)
	for range 500 {
		s := day.Add(time.Duration(rng.IntN(38*6)) * w)
		if rng.IntN(2) == 0 {
			addWindow(fmt.Sprintf("192.0.2.%d", rng.IntN(256)), s)
		} else {
			addWindow(labelled[rng.IntN(len(labelled))], s)
		}
	}
	rng.Shuffle(len(flags), func(i, j int) { flags[i], flags[j] = flags[j], flags[i] })

	s := agree(t, labelsPath, labels, flags)
	// The mix must exercise every outcome for the comparison to mean
	// something.
	if s.TruePositives == 0 || s.FalsePositives == 0 || s.Neutral == 0 || s.AttacksDetected == 0 || s.AttacksDetected == len(s.Attacks) || s.Recall == 0 || s.Recall == 1 {
		t.Errorf("the synthetic flags do not cover every case: %+v", s)
	}
	if len(flags) == len(uniqueFlags(flags)) {
		t.Error("no duplicate flags")
	}
}

func uniqueFlags(fs []backtest.Flag) map[string]bool {
	m := map[string]bool{}
	for _, f := range fs {
		m[f.Host+"@"+strconv.FormatInt(f.Start.UnixMicro(), 10)] = true
	}
	return m
}

func BenchmarkEvaluate(b *testing.B) {
	_, labelsPath := devMixed(b)
	labels, err := backtest.ReadLabelsFile(labelsPath)
	if err != nil {
		b.Fatal(err)
	}
	// A flag for every tenth label: mostly syn-flood participants.
	var flags []backtest.Flag
	for i := 0; i < len(labels); i += 10 {
		s := labels[i].Start.Truncate(10 * time.Second)
		flags = append(flags, backtest.Flag{Host: labels[i].Host, Start: s, End: s.Add(10 * time.Second)})
	}
	b.ReportAllocs()
	for b.Loop() {
		backtest.Evaluate(labels, flags, 10*time.Second, 0, 0)
	}
}
