package main

import (
	"bytes"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/riptide-nids/riptide/ops/opstest"
)

func TestMetricsAddrUsage(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ln.Close() }()
	for _, c := range []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"no port", []string{"broker", "--listen", "127.0.0.1:0", "--metrics-addr", "localhost"}, 2, "--metrics-addr"},
		{"port taken", []string{"broker", "--listen", "127.0.0.1:0", "--metrics-addr", ln.Addr().String()}, 1, "metrics listener"},
		{"run without brokers", []string{"run", "--metrics-addr", "127.0.0.1:0"}, 2, "--brokers"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, stderr, code := run(t, c.args...)
			if code != c.code || !strings.Contains(stderr, c.msg) {
				t.Errorf("exit %d, want %d; stderr %q should mention %q", code, c.code, stderr, c.msg)
			}
		})
	}
}

// lockedBuffer is a stderr sink safe to read while the process writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

var servingRE = regexp.MustCompile(`msg="serving metrics" addr=(\S+)`)

// TestBrokerServesMetrics: `riptide broker` with RIPTIDE_METRICS_ADDR
// logs the bound address, serves /metrics, /healthz and /readyz there, and
// stops cleanly on SIGTERM.
func TestBrokerServesMetrics(t *testing.T) {
	cmd := exec.Command(bin, "broker", "--listen", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "RIPTIDE_METRICS_ADDR=127.0.0.1:0")
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	exited := false
	defer func() {
		if !exited {
			_ = cmd.Process.Kill()
			if err := <-done; err != nil {
				t.Logf("broker killed: %v", err)
			}
		}
	}()
	var addr string
	deadline := time.Now().Add(20 * time.Second)
	for addr == "" {
		if m := servingRE.FindStringSubmatch(stderr.String()); m != nil {
			addr = m[1]
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no \"serving metrics\" line within 20 s; stderr:\n%s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	base := "http://" + addr
	cl := &http.Client{Timeout: 5 * time.Second}
	var code int
	for deadline := time.Now().Add(20 * time.Second); ; {
		resp, err := cl.Get(base + "/readyz")
		if err != nil {
			t.Fatalf("GET /readyz: %v", err)
		}
		_ = resp.Body.Close()
		if code = resp.StatusCode; code == http.StatusOK || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if code != http.StatusOK {
		t.Errorf("/readyz of a running broker: %d, want 200", code)
	}
	resp, err := cl.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("/healthz: %s", resp.Status)
	}
	fs := opstest.Scrape(t, base+"/metrics")
	if got := fs.Sample(t, "riptide_ready"); got != 1 {
		t.Errorf("riptide_ready %v, want 1", got)
	}
	if _, ok := fs["go_goroutines"]; !ok {
		t.Error("no Go runtime metrics")
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		exited = true
		if err != nil {
			t.Errorf("broker after SIGTERM: %v; stderr:\n%s", err, stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("broker still running 20 s after SIGTERM")
	}
}
