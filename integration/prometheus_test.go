//go:build integration

package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestPrometheusScrapesRiptide runs a real Prometheus server (Debian's
// prometheus package) that scrapes `riptide run` and `riptide capture`, both
// started with --metrics-addr, every second, and asks Prometheus's HTTP API
// until every target is up and the windower's and the producer's counters
// have moved. Prometheus missing is a failure: CI installs it.
func TestPrometheusScrapesRiptide(t *testing.T) {
	promBin, err := exec.LookPath("prometheus")
	if err != nil {
		t.Fatalf("prometheus is not installed; run `apt-get install prometheus` (CI's .ci/run installs it): %v", err)
	}
	pcap := dataset(t, "bench/dev-mixed.pcap")
	c := newCluster(t, "prom")
	c.createTopics(t, 4)

	rt := startProc(t, "run", c.args("run", "--metrics-addr", "127.0.0.1:0")...)
	runAddr := metricsAddr(t, rt)
	deadline := 60*time.Second + c.slack(2)
	if !waitFor(deadline, 100*time.Millisecond, func() bool { return httpStatus(runAddr, "/readyz") == http.StatusOK }) {
		t.Fatalf("riptide run: /readyz not 200 within %v (last %d)", deadline, httpStatus(runAddr, "/readyz"))
	}

	// The benchmark capture spans 38 minutes of event time; at 30 times
	// real time it produces for over a minute, long enough to be scraped
	// while it runs.
	capt := startProc(t, "capture", c.args("capture", "--pcap", pcap, "--speed", "30", "--metrics-addr", "127.0.0.1:0")...)
	capAddr := metricsAddr(t, capt)

	dir := t.TempDir()
	cfg := filepath.Join(dir, "prometheus.yml")
	conf := fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: riptide-run
    static_configs:
      - targets: [%q]
  - job_name: riptide-capture
    static_configs:
      - targets: [%q]
`, runAddr, capAddr)
	targets := 2
	if c.broker != nil {
		// The embedded broker is a riptide process too.
		conf += fmt.Sprintf("  - job_name: riptide-broker\n    static_configs:\n      - targets: [%q]\n", metricsAddr(t, c.broker))
		targets++
	}
	if err := os.WriteFile(cfg, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	if promtool, err := exec.LookPath("promtool"); err == nil {
		if out, errOut, code := run(t, 30*time.Second, promtool, "check", "config", cfg); code != 0 {
			t.Fatalf("promtool check config: exit %d\n%s%s", code, out, errOut)
		}
	}
	promURL := startPrometheus(t, promBin, cfg, filepath.Join(dir, "data"))

	type want struct {
		query string
		ok    func(r promResult) bool
		desc  string
	}
	checks := []want{
		{"up", func(r promResult) bool { return len(r) == targets && r.all(func(v float64) bool { return v == 1 }) }, "every target up"},
		{"riptide_ready", func(r promResult) bool { return len(r) == targets && r.all(func(v float64) bool { return v == 1 }) }, "every target ready"},
		{"sum(riptide_windows_closed_total)", func(r promResult) bool { return len(r) == 1 && r[0].value > 0 }, "windows closed > 0"},
		{`sum(riptide_records_produced_total{job="riptide-capture"})`, func(r promResult) bool { return len(r) == 1 && r[0].value > 0 }, "records produced > 0"},
		{`sum(riptide_records_consumed_total{group=~".*-windower"})`, func(r promResult) bool { return len(r) == 1 && r[0].value > 0 }, "windower records consumed > 0"},
		// riptide run polls lag every 10 s: one series per partition of the
		// windower's input.
		{`count(riptide_consumer_lag{group=~".*-windower", topic=~".*[.]packets"})`, func(r promResult) bool { return len(r) == 1 && r[0].value == 4 }, "lag of 4 windower partitions"},
	}
	last := make([]promResult, len(checks))
	lastErr := make([]error, len(checks))
	deadline = 60*time.Second + c.slack(1)
	ok := waitFor(deadline, 250*time.Millisecond, func() bool {
		all := true
		for i, ch := range checks {
			last[i], lastErr[i] = promQuery(promURL, ch.query)
			if lastErr[i] != nil || !ch.ok(last[i]) {
				all = false
			}
		}
		if !capt.running() {
			return true // judged below
		}
		return all
	})
	for i, ch := range checks {
		switch {
		case lastErr[i] != nil:
			t.Errorf("%s: query %s: %v", ch.desc, ch.query, lastErr[i])
		case !ch.ok(last[i]):
			t.Errorf("%s: query %s returned %v", ch.desc, ch.query, last[i])
		default:
			t.Logf("%s: %s = %v", ch.desc, ch.query, last[i])
		}
	}
	if !ok {
		t.Errorf("Prometheus did not see every condition within %v", deadline)
	}
	if !capt.running() {
		t.Errorf("riptide capture ended before Prometheus saw every condition; stdout: %s", readFile(capt.stdout))
	}

	// The processes stop on SIGTERM, metrics server included. riptide run
	// exits 0; capture interrupted mid-replay exits 1 (the replay did not
	// finish).
	for _, s := range []struct {
		p        *proc
		wantCode int
	}{{capt, 1}, {rt, 0}} {
		s.p.kill(syscall.SIGTERM)
		if code, err := s.p.wait(30 * time.Second); err != nil {
			t.Errorf("%s after SIGTERM: %v", s.p.name, err)
		} else if code != s.wantCode {
			t.Errorf("%s after SIGTERM: exit %d, want %d", s.p.name, code, s.wantCode)
		}
	}
}

var servingRE = regexp.MustCompile(`msg="serving metrics" addr=(\S+)`)

// metricsAddr waits for p's "serving metrics" log line and returns the
// address it names.
func metricsAddr(t *testing.T, p *proc) string {
	t.Helper()
	var addr string
	waitFor(20*time.Second, 20*time.Millisecond, func() bool {
		if m := servingRE.FindStringSubmatch(readFile(p.stderr)); m != nil {
			addr = m[1]
			return true
		}
		return !p.running()
	})
	if addr == "" {
		t.Fatalf("%s logged no \"serving metrics\" line within 20 s; stderr:\n%s", p.name, tail(readFile(p.stderr), 20))
	}
	return addr
}

// httpStatus GETs http://addr+path and returns the status code, or 0 if the
// request failed.
func httpStatus(addr, path string) int {
	cl := &http.Client{Timeout: 5 * time.Second}
	resp, err := cl.Get("http://" + addr + path)
	if err != nil {
		return 0
	}
	_ = resp.Body.Close()
	return resp.StatusCode
}

// startPrometheus starts prometheus with the configuration on a free
// loopback port (retrying another port if the chosen one was taken) and
// returns its base URL once it reports ready.
func startPrometheus(t *testing.T, bin, cfg, data string) string {
	t.Helper()
	for attempt := 0; attempt < 3; attempt++ {
		addr := freeAddr(t)
		logPath := filepath.Join(t.TempDir(), "prometheus.log")
		lf, err := os.Create(logPath)
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin, "--config.file="+cfg, "--storage.tsdb.path="+data,
			"--web.listen-address="+addr, "--log.level=warn")
		cmd.Stdout, cmd.Stderr = lf, lf
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := cmd.Start(); err != nil {
			t.Fatalf("start prometheus: %v", err)
		}
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); _ = lf.Close(); close(done) }()
		exited := func() bool {
			select {
			case <-done:
				return true
			default:
				return false
			}
		}
		t.Cleanup(func() {
			if !exited() {
				_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
				select {
				case <-done:
				case <-time.After(15 * time.Second):
					_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
					<-done
				}
			}
			if t.Failed() {
				t.Logf("prometheus log (tail):\n%s", tail(readFile(logPath), 30))
			}
		})
		base := "http://" + addr
		ready := waitFor(30*time.Second, 100*time.Millisecond, func() bool {
			return exited() || httpStatus(addr, "/-/ready") == http.StatusOK
		})
		if ready && !exited() {
			return base
		}
		if !ready {
			t.Fatalf("prometheus on %s not ready within 30 s; log:\n%s", addr, tail(readFile(logPath), 30))
		}
		t.Logf("prometheus on %s exited (attempt %d); log:\n%s", addr, attempt+1, tail(readFile(logPath), 10))
	}
	t.Fatal("prometheus did not start in 3 attempts")
	return ""
}

// promSample is one series of an instant query result.
type promSample struct {
	labels map[string]string
	value  float64
}

func (s promSample) String() string { return fmt.Sprintf("%v=%g", s.labels, s.value) }

type promResult []promSample

func (r promResult) all(ok func(float64) bool) bool {
	for _, s := range r {
		if !ok(s.value) {
			return false
		}
	}
	return true
}

// promQuery runs an instant query against Prometheus's HTTP API.
func promQuery(base, query string) (promResult, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/v1/query?query="+url.QueryEscape(query), nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	var r struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			ResultType string `json:"resultType"`
			Result     []struct {
				Metric map[string]string `json:"metric"`
				Value  [2]any            `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("%s: %w: %s", resp.Status, err, body)
	}
	if r.Status != "success" {
		return nil, fmt.Errorf("%s: %s", r.Status, r.Error)
	}
	if r.Data.ResultType != "vector" {
		return nil, fmt.Errorf("result type %q, want vector", r.Data.ResultType)
	}
	out := make(promResult, 0, len(r.Data.Result))
	for _, s := range r.Data.Result {
		str, _ := s.Value[1].(string)
		v, err := strconv.ParseFloat(strings.TrimSpace(str), 64)
		if err != nil {
			return nil, fmt.Errorf("value %v: %w", s.Value, err)
		}
		out = append(out, promSample{labels: s.Metric, value: v})
	}
	return out, nil
}
