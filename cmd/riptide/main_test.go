package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/riptide-nids/riptide/internal/testenv"
)

var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "riptide-cli")
	if err != nil {
		panic(err)
	}
	bin = filepath.Join(dir, "riptide")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		_, _ = os.Stderr.Write(out)
		panic(err)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

func datasets(t *testing.T) string {
	t.Helper()
	return testenv.Datasets(t)
}

// run runs the binary and returns stdout, stderr and the exit code.
func run(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	return runWith(t, append(os.Environ(), "RIPTIDE_BROKERS="), args...)
}

// runWith runs the binary in environment env and returns stdout, stderr and
// the exit code.
func runWith(t *testing.T, env []string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

func TestEverySubcommandHasHelpWithExamples(t *testing.T) {
	cmds := [][]string{
		{"broker"}, {"topics", "create"}, {"topics", "list"}, {"capture"}, {"run"}, {"tail"},
		{"demo"}, {"backtest"}, {"model", "fit"}, {"model", "score"}, {"model", "eval"}, {"notify"},
	}
	for _, c := range cmds {
		out, _, code := run(t, append(c, "--help")...)
		name := strings.Join(c, " ")
		if code != 0 {
			t.Errorf("%s --help: exit %d", name, code)
		}
		if !strings.Contains(out, "Examples:") || !strings.Contains(out, "riptide "+c[0]) {
			t.Errorf("%s --help has no examples:\n%s", name, out)
		}
	}
}

func TestExitCodes(t *testing.T) {
	ds := datasets(t)
	cases := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"unknown flag", []string{"demo", "--no-such-flag"}, 2, "unknown flag"},
		{"bad speed", []string{"capture", "--pcap", "x.pcap", "--speed", "fast", "--dry-run"}, 2, "speed"},
		{"no brokers", []string{"run"}, 2, "--brokers"},
		{"unknown group", []string{"run", "--brokers", "127.0.0.1:1", "--groups", "windower,magic"}, 2, "unknown group"},
		{"bad window", []string{"backtest", "--pcap", "x.pcap", "--window", "0s"}, 2, "size 0s"},
		{"missing capture", []string{"capture", "--pcap", "/nonexistent.pcap", "--dry-run"}, 1, "nonexistent.pcap"},
		{"broker down", []string{"topics", "create", "--brokers", "127.0.0.1:1"}, 1, "no broker answers"},
		{"stray argument", []string{"run", "extra", "--brokers", "b:1"}, 2, "no arguments"},
		{"not a capture", []string{"capture", "--dry-run", "--pcap", filepath.Join(ds, "README.md")}, 1, "packet"},
		{"pcap and topic", []string{"backtest", "--pcap", "x.pcap", "--topic", "riptide.packets", "--brokers", "b:1"}, 2, "mutually exclusive"},
		{"topic without brokers", []string{"backtest", "--topic", "riptide.packets"}, 2, "--brokers"},
		{"from without topic", []string{"backtest", "--pcap", "x.pcap", "--from", "1772442000000"}, 2, "--topic"},
		{"bad from", []string{"backtest", "--topic", "riptide.packets", "--brokers", "b:1", "--from", "noon"}, 2, "RFC 3339"},
		{"from after to", []string{"backtest", "--topic", "riptide.packets", "--brokers", "b:1", "--from", "2026-03-02T10:00:00Z", "--to", "1772442000000"}, 2, "not before --to"},
		{"topic broker down", []string{"backtest", "--topic", "riptide.packets", "--brokers", "127.0.0.1:1"}, 1, "no broker answers"},
		{"iface and pcap", []string{"capture", "--iface", "lo", "--pcap", "x.pcap", "--brokers", "b:1"}, 2, "--iface captures live"},
		{"bpf without iface", []string{"capture", "--pcap", "x.pcap", "--bpf", "tcp", "--dry-run"}, 2, "needs --iface"},
		{"loop with iface", []string{"capture", "--iface", "lo", "--loop", "2", "--brokers", "b:1"}, 2, "--loop is for replaying"},
		{"bad fanout", []string{"capture", "--iface", "lo", "--fanout", "0", "--brokers", "b:1"}, 2, "--fanout 0"},
		{"bad overflow", []string{"capture", "--iface", "lo", "--overflow", "spill", "--brokers", "b:1"}, 2, "block or drop"},
		{"bad bpf program", []string{"capture", "--iface", "lo", "--bpf", "2\n6 0 0 0", "--brokers", "b:1"}, 2, "tcpdump -ddd"},
		{"no such iface", []string{"capture", "--iface", "nosuchif0", "--brokers", "b:1"}, 1, "no network interface"},
		{"negative loop", []string{"capture", "--pcap", "x.pcap", "--loop", "-1", "--dry-run"}, 2, "--loop -1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, stderr, code := run(t, c.args...)
			if code != c.code {
				t.Errorf("exit %d, want %d; stderr: %s", code, c.code, stderr)
			}
			if !strings.Contains(stderr, c.msg) {
				t.Errorf("stderr %q does not mention %q", stderr, c.msg)
			}
		})
	}
}

func TestCaptureDryRunCountsEveryFile(t *testing.T) {
	ds := datasets(t)
	files, err := filepath.Glob(filepath.Join(ds, "pcap", "*", "*"))
	if err != nil || len(files) < 20 {
		t.Fatalf("found %d captures: %v", len(files), err)
	}
	for _, f := range files {
		out, stderr, code := run(t, "capture", "--dry-run", "--pcap", f)
		if code != 0 {
			t.Errorf("%s: exit %d: %s", f, code, stderr)
			continue
		}
		var got struct {
			Packets     uint64            `json:"packets"`
			Decoded     uint64            `json:"decoded"`
			Undecodable map[string]uint64 `json:"undecodable"`
		}
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Errorf("%s: output is not one JSON object: %v\n%s", f, err, out)
			continue
		}
		sum := got.Decoded
		for _, n := range got.Undecodable {
			sum += n
		}
		if got.Packets == 0 || sum != got.Packets {
			t.Errorf("%s: packets %d, decoded %d + undecodable %v", f, got.Packets, got.Decoded, got.Undecodable)
		}
	}
}

func TestModelFitAndScore(t *testing.T) {
	dir := t.TempDir()
	var train, test bytes.Buffer
	train.WriteString("a,b\n")
	for i := range 200 {
		x := float64(i%20) / 10
		train.WriteString(strconv.FormatFloat(x, 'f', 2, 64) + "," + strconv.FormatFloat(2-x, 'f', 2, 64) + "\n")
	}
	test.WriteString("b,a\n1,1\n40,-30\n")
	tp, sp, mp := filepath.Join(dir, "train.csv"), filepath.Join(dir, "test.csv"), filepath.Join(dir, "m.json")
	if err := os.WriteFile(tp, train.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(sp, test.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, stderr, code := run(t, "model", "fit", "--csv", tp, "--nu", "0.1", "--gamma", "scale", "--out", mp); code != 0 {
		t.Fatalf("fit: exit %d: %s", code, stderr)
	}
	out, stderr, code := run(t, "model", "score", "--model", mp, "--csv", sp)
	if code != 0 {
		t.Fatalf("score: exit %d: %s", code, stderr)
	}
	lines := strings.Fields(out)
	if len(lines) != 2 {
		t.Fatalf("want 2 decision values, got %q", out)
	}
	in, _ := strconv.ParseFloat(lines[0], 64)
	far, _ := strconv.ParseFloat(lines[1], 64)
	if in <= far || far >= 0 {
		t.Errorf("decision values: typical row %v, far row %v; want the far row negative and lower", in, far)
	}
	if _, stderr, code := run(t, "model", "score", "--model", mp, "--csv", tp+".missing"); code != 1 || !strings.Contains(stderr, "missing") {
		t.Errorf("missing CSV: exit %d, stderr %q", code, stderr)
	}
}

// TestModelLabelledFitAndEval fits a one-class model on a small labelled
// CSV with a categorical column, evaluates it, writes the JSON report, and
// checks that data of another schema is refused.
func TestModelLabelledFitAndEval(t *testing.T) {
	dir := t.TempDir()
	rows := func(n int, seed int) string {
		var b strings.Builder
		b.WriteString("proto,bytes,rate,label\n")
		for i := range n {
			proto := []string{"tcp", "udp"}[i%2]
			bytes := 100 + (i*37+seed)%50
			label := "benign"
			rate := float64((i*13+seed)%10) / 100
			if i%5 == 4 {
				proto, bytes, rate, label = "icmp", 90000+i, 0.9, "attack"
			}
			fmt.Fprintf(&b, "%s,%d,%.2f,%s\n", proto, bytes, rate, label)
		}
		return b.String()
	}
	tp, sp, mp, rp := filepath.Join(dir, "train.csv"), filepath.Join(dir, "test.csv"), filepath.Join(dir, "m.json"), filepath.Join(dir, "r.json")
	if err := os.WriteFile(tp, []byte(rows(300, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(sp, []byte(rows(200, 7)), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, stderr, code := run(t, "model", "fit", "--csv", tp, "--label-column", "label", "--normal", "benign", "--out", mp); code != 0 {
		t.Fatalf("fit: exit %d: %s", code, stderr)
	}
	out, stderr, code := run(t, "model", "eval", "--model", mp, "--csv", sp, "--report", rp)
	if code != 0 {
		t.Fatalf("eval: exit %d: %s", code, stderr)
	}
	for _, want := range []string{"200 rows, 40 attacks", "precision", "ROC AUC", "one-class exact", "one-class rff"} {
		if !strings.Contains(out, want) {
			t.Errorf("eval output lacks %q:\n%s", want, out)
		}
	}
	var rep struct {
		Metrics map[string]map[string]float64 `json:"metrics"`
	}
	b, err := os.ReadFile(rp)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if m, ok := rep.Metrics["model"]; !ok || m["roc_auc"] < 0.9 || m["recall"] < 0.9 {
		t.Errorf("report: model metrics %v; want the far attack rows found: %s", m, b)
	}
	// Another schema: the categorical column is missing.
	other := filepath.Join(dir, "other.csv")
	if err := os.WriteFile(other, []byte("bytes,rate,label\n1,0.1,benign\n2,0.2,attack\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, stderr, code := run(t, "model", "eval", "--model", mp, "--csv", other); code != 1 || !strings.Contains(stderr, "proto") || !strings.Contains(stderr, "schema") {
		t.Errorf("other schema: exit %d, stderr %q", code, stderr)
	}
	// A window model (no label column) is not a labelled-data model.
	num, wm := filepath.Join(dir, "num.csv"), filepath.Join(dir, "window.json")
	if err := os.WriteFile(num, []byte("a,b\n1,2\n2,1\n1,1\n2,2\n1.5,1.5\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, stderr, code := run(t, "model", "fit", "--csv", num, "--out", wm); code != 0 {
		t.Fatalf("window fit: exit %d: %s", code, stderr)
	}
	if _, stderr, code := run(t, "model", "eval", "--model", wm, "--csv", sp); code != 1 || !strings.Contains(stderr, "not a labelled-data model") {
		t.Errorf("window model: exit %d, stderr %q", code, stderr)
	}
	if _, stderr, code := run(t, "model", "eval", "--model", mp); code != 2 || !strings.Contains(stderr, "--csv") {
		t.Errorf("eval without --csv: exit %d, stderr %q", code, stderr)
	}
}
