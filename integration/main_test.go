//go:build integration

// Package integration holds riptide's multi-process integration tests: the
// riptide binary runs as separate processes (broker, topics, run, capture)
// against a standalone broker, and third-party clients (kcat, franz-go) read
// what it writes. Run them with
//
//	go test -count=1 -tags integration ./integration/...
//
// Each test starts its own `riptide broker` (kfake) unless KAFKA_BROKERS names
// a real Kafka cluster, which every test then shares under a topic and group
// prefix of its own (it-<test>-<random>; see cluster_test.go):
//
//	KAFKA_BROKERS=$(integration/kafka/kafka.sh up | tail -n1) go test -count=1 -tags integration ./integration/...
//	integration/kafka/kafka.sh down
//
// TestMain builds the binary once; the shared datasets are found by walking
// up from the working directory to a directory holding shared/datasets (the
// repository's sibling ../shared/datasets). Their absence is a failure, not a
// skip.
package integration

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

var (
	// riptideBin is the binary built by TestMain.
	riptideBin string
	// datasets is the shared datasets directory.
	datasets string
)

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	wd, err := os.Getwd()
	if err != nil {
		fmt.Fprintln(os.Stderr, "integration:", err)
		return 1
	}
	root, err := findUp(wd, "go.mod")
	if err != nil {
		fmt.Fprintln(os.Stderr, "integration: repository root:", err)
		return 1
	}
	ds, err := findUp(wd, filepath.Join("shared", "datasets"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "integration: the shared datasets are missing (want ../shared/datasets next to the repository):", err)
		return 1
	}
	datasets = filepath.Join(ds, "shared", "datasets")
	tmp, err := os.MkdirTemp("", "riptide-integration-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "integration:", err)
		return 1
	}
	defer func() { _ = os.RemoveAll(tmp) }()
	riptideBin = filepath.Join(tmp, "riptide")
	t0 := time.Now()
	build := exec.Command("go", "build", "-o", riptideBin, "./cmd/riptide")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "integration: go build ./cmd/riptide: %v\n%s", err, out)
		return 1
	}
	fmt.Fprintf(os.Stderr, "integration: built %s in %.1f s; datasets at %s\n", riptideBin, time.Since(t0).Seconds(), datasets)
	return m.Run()
}

// findUp returns the first directory at or above dir that holds rel.
func findUp(dir, rel string) (string, error) {
	for d := dir; ; {
		if _, err := os.Stat(filepath.Join(d, rel)); err == nil {
			return d, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", fmt.Errorf("no %s at or above %s", rel, dir)
		}
		d = parent
	}
}

// dataset returns the path of a file under the shared datasets and fails the
// test if it is not there.
func dataset(t *testing.T, rel string) string {
	t.Helper()
	p := filepath.Join(datasets, rel)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("shared dataset missing: %v", err)
	}
	return p
}

// freeAddr returns a loopback address with a port that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("free port: %v", err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatalf("free port: %v", err)
	}
	return addr
}

// proc is a riptide subprocess running in its own process group, with
// stdout and stderr in files.
type proc struct {
	name           string
	cmd            *exec.Cmd
	stdout, stderr string
	done           chan struct{} // closed when the process has exited
	waitErr        error         // Wait's result, valid after done
}

// startProc starts the riptide binary with args. The process (group) is
// killed at the end of the test if it still runs; if the test failed, the
// tail of its stderr is logged.
func startProc(t *testing.T, name string, args ...string) *proc {
	t.Helper()
	dir := t.TempDir()
	p := &proc{name: name, stdout: filepath.Join(dir, "stdout"), stderr: filepath.Join(dir, "stderr"), done: make(chan struct{})}
	so, err := os.Create(p.stdout)
	if err != nil {
		t.Fatal(err)
	}
	se, err := os.Create(p.stderr)
	if err != nil {
		t.Fatal(err)
	}
	p.cmd = exec.Command(riptideBin, args...)
	p.cmd.Stdout, p.cmd.Stderr = so, se
	p.cmd.Env = cleanEnv()
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() {
		p.waitErr = p.cmd.Wait()
		_ = so.Close()
		_ = se.Close()
		close(p.done)
	}()
	t.Cleanup(func() {
		if p.running() {
			p.kill(syscall.SIGKILL)
			select {
			case <-p.done:
			case <-time.After(10 * time.Second):
				t.Errorf("%s (pid %d) did not die after SIGKILL", name, p.cmd.Process.Pid)
			}
		}
		if t.Failed() {
			t.Logf("%s stderr (tail):\n%s", name, tail(readFile(p.stderr), 40))
		}
	})
	return p
}

// running reports whether the process has not exited yet.
func (p *proc) running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// kill sends sig to the process group.
func (p *proc) kill(sig syscall.Signal) {
	_ = syscall.Kill(-p.cmd.Process.Pid, sig)
}

// wait waits up to d for the process to exit and returns its exit code.
func (p *proc) wait(d time.Duration) (int, error) {
	select {
	case <-p.done:
		return p.cmd.ProcessState.ExitCode(), nil
	case <-time.After(d):
		return -1, fmt.Errorf("%s still running after %v", p.name, d)
	}
}

// cleanEnv is the environment without riptide's own variables, so that the
// flags the tests pass are the only configuration.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "RIPTIDE_") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

func readFile(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}

func tail(s string, lines int) string {
	ls := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(ls) > lines {
		ls = ls[len(ls)-lines:]
	}
	return strings.Join(ls, "\n")
}

// run runs a command to completion (at most timeout) in its own process
// group and returns stdout, stderr and the exit code; a command that could
// not start or overran fails the test.
func run(t *testing.T, timeout time.Duration, name string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = cleanEnv()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("%s %s: no result within %v\nstderr: %s", name, strings.Join(args, " "), timeout, tail(se.String(), 20))
	}
	var ee *exec.ExitError
	switch {
	case err == nil:
		return so.String(), se.String(), 0
	case errors.As(err, &ee):
		return so.String(), se.String(), ee.ExitCode()
	}
	t.Fatalf("%s %s: %v", name, strings.Join(args, " "), err)
	return "", "", -1
}

// riptide runs the riptide binary to completion.
func riptide(t *testing.T, timeout time.Duration, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return run(t, timeout, riptideBin, args...)
}

// waitFor polls cond every interval until it holds or timeout passes, and
// reports whether it held.
func waitFor(timeout, interval time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(interval)
	}
}

// startBroker starts `riptide broker` on a free loopback port and returns
// the process and the address it printed on stdout. A port taken between
// choosing and binding it is retried with another.
func startBroker(t *testing.T) (*proc, string) {
	t.Helper()
	var lastErr string
	for attempt := 0; attempt < 3; attempt++ {
		addr := freeAddr(t)
		b := startProc(t, "broker", "broker", "--listen", addr, "--metrics-addr", "127.0.0.1:0")
		var printed string
		ok := waitFor(20*time.Second, 20*time.Millisecond, func() bool {
			out := readFile(b.stdout)
			if i := strings.IndexByte(out, '\n'); i >= 0 {
				printed = strings.TrimSpace(out[:i])
				return true
			}
			return !b.running()
		})
		if ok && printed != "" {
			if printed != addr {
				t.Fatalf("broker printed %q, want the --listen address %q", printed, addr)
			}
			return b, printed
		}
		if !ok {
			t.Fatalf("broker on %s printed no address within 20 s; stderr:\n%s", addr, readFile(b.stderr))
		}
		lastErr = readFile(b.stderr)
	}
	t.Fatalf("broker did not start in 3 attempts; last stderr:\n%s", lastErr)
	return nil, ""
}

// createTopics runs `riptide topics create` and fails the test unless it
// exits 0.
func createTopics(t *testing.T, brokers string, partitions int, extra ...string) string {
	t.Helper()
	args := append([]string{"topics", "create", "--brokers", brokers, "--partitions", fmt.Sprint(partitions)}, extra...)
	out, errOut, code := riptide(t, 60*time.Second, args...)
	if code != 0 {
		t.Fatalf("riptide %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}
