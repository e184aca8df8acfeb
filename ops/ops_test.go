package ops_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/riptide-nids/riptide/ops"
	"github.com/riptide-nids/riptide/ops/opstest"
)

// serve starts a server on a free loopback port and returns its base URL
// and a function that stops it and returns Serve's result.
func serve(t *testing.T) (*ops.Metrics, string, func() error) {
	t.Helper()
	reg := ops.NewRegistry()
	m, err := ops.New(reg)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := ops.Listen("127.0.0.1:0", m.Handler(reg, slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ctx) }()
	var once bool
	var serr error
	stop := func() error {
		if !once {
			once = true
			cancel()
			select {
			case serr = <-errc:
			case <-time.After(10 * time.Second):
				t.Fatal("Serve did not return within 10 s of its context ending")
			}
		}
		return serr
	}
	t.Cleanup(func() { _ = stop() })
	return m, "http://" + srv.Addr(), stop
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	cl := &http.Client{Timeout: 10 * time.Second}
	resp, err := cl.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func TestHealthAndReadiness(t *testing.T) {
	m, base, _ := serve(t)
	if code, body := get(t, base+"/healthz"); code != 200 || strings.TrimSpace(body) != "ok" {
		t.Errorf("/healthz: %d %q, want 200 ok", code, body)
	}
	for _, step := range []struct {
		ready    bool
		reason   string
		code     int
		body     string
		gaugeVal float64
	}{
		{false, "", 503, "starting", 0}, // the initial state, before any SetReady
		{true, "", 200, "ok", 1},
		{false, "processors not running: riptide-trainer", 503, "processors not running: riptide-trainer", 0},
		{true, "ignored", 200, "ok", 1},
	} {
		if step.body != "starting" {
			m.SetReady(step.ready, step.reason)
		}
		code, body := get(t, base+"/readyz")
		if code != step.code || strings.TrimSpace(body) != step.body {
			t.Errorf("/readyz after SetReady(%v, %q): %d %q, want %d %q", step.ready, step.reason, code, body, step.code, step.body)
		}
		if got := opstest.Scrape(t, base+"/metrics").Sample(t, "riptide_ready"); got != step.gaugeVal {
			t.Errorf("riptide_ready %v, want %v", got, step.gaugeVal)
		}
	}
}

// TestMetricsEndpoint: /metrics serves every riptide metric of the
// operations contract, the Go runtime and process collectors, and only to
// GET.
func TestMetricsEndpoint(t *testing.T) {
	m, base, _ := serve(t)
	m.Consumed("riptide-windower", "riptide.packets").Add(3)
	m.Produced("riptide.packets").Inc()
	m.SetLag("riptide-windower", map[string]map[int32]int64{"riptide.packets": {0: 5}})
	m.WindowClosed(20 * time.Millisecond)
	m.Late(2)
	m.Scored(-3, true)
	m.DeadLetter(ops.ReasonBadKey)
	m.SetModel(2, "default-v2", time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC))
	fs := opstest.Scrape(t, base+"/metrics")
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"riptide_records_consumed_total", []string{"group", "riptide-windower", "topic", "riptide.packets"}, 3},
		{"riptide_records_produced_total", []string{"topic", "riptide.packets"}, 1},
		{"riptide_consumer_lag", []string{"group", "riptide-windower", "topic", "riptide.packets", "partition", "0"}, 5},
		{"riptide_window_close_latency_seconds_count", nil, 1},
		{"riptide_window_close_latency_seconds_sum", nil, 0.02},
		{"riptide_windows_closed_total", nil, 1},
		{"riptide_late_records_total", nil, 2},
		{"riptide_windows_scored_total", nil, 1},
		{"riptide_anomalies_total", nil, 1},
		{"riptide_anomaly_score_count", nil, 1},
		{"riptide_anomaly_score_sum", nil, -3},
		{"riptide_deadletters_total", []string{"reason", "bad_key"}, 1},
		{"riptide_deadletters_total", []string{"reason", "undecodable"}, 0},
		{"riptide_model_version", nil, 2},
		{"riptide_model_info", []string{"version", "default-v2", "trained_at", "2026-11-25T10:00:00Z"}, 1},
		{"riptide_ready", nil, 0},
	} {
		if got := fs.Sample(t, c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	for _, r := range ops.Reasons {
		if !hasSeries(fs, "riptide_deadletters_total", "reason", r) {
			t.Errorf("no riptide_deadletters_total series for reason %q before any dead letter", r)
		}
	}
	for _, name := range []string{"go_goroutines", "go_memstats_heap_alloc_bytes", "process_cpu_seconds_total", "process_resident_memory_bytes"} {
		if _, ok := fs[name]; !ok {
			t.Errorf("no %s (Go runtime and process collectors)", name)
		}
	}
	resp, err := http.Post(base+"/metrics", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /metrics: %s, want 405", resp.Status)
	}
}

// hasSeries reports whether fs has a series of name with label = value.
func hasSeries(fs opstest.Families, name, label, value string) bool {
	for _, m := range fs[name].GetMetric() {
		for _, lp := range m.GetLabel() {
			if lp.GetName() == label && lp.GetValue() == value {
				return true
			}
		}
	}
	return false
}

func TestServeShutsDownOnCancel(t *testing.T) {
	_, base, stop := serve(t)
	if code, _ := get(t, base+"/healthz"); code != 200 {
		t.Fatalf("/healthz: %d", code)
	}
	if err := stop(); err != nil {
		t.Fatalf("Serve returned %v after its context ended, want nil", err)
	}
	cl := &http.Client{Timeout: 2 * time.Second}
	if resp, err := cl.Get(base + "/healthz"); err == nil {
		_ = resp.Body.Close()
		t.Fatal("server still answers after shutdown")
	}
}

func TestListenBadAddress(t *testing.T) {
	if _, err := ops.Listen("127.0.0.1:notaport", http.NotFoundHandler()); err == nil {
		t.Fatal("Listen accepted a bad address")
	}
}

func TestNewTwiceOnOneRegistryFails(t *testing.T) {
	reg := ops.NewRegistry()
	if _, err := ops.New(reg); err != nil {
		t.Fatal(err)
	}
	if _, err := ops.New(reg); err == nil {
		t.Fatal("second New on the same registry succeeded; want a duplicate registration error")
	}
}

// TestLagSeriesReplaced: a partition that is no longer reported loses its
// series; other groups keep theirs.
func TestLagSeriesReplaced(t *testing.T) {
	reg := ops.NewRegistry()
	m, err := ops.New(reg)
	if err != nil {
		t.Fatal(err)
	}
	m.SetLag("g1", map[string]map[int32]int64{"t": {0: 1, 1: 2}})
	m.SetLag("g2", map[string]map[int32]int64{"t": {0: 7}})
	m.SetLag("g1", map[string]map[int32]int64{"t": {1: 4}})
	fs := opstest.Gather(t, reg)
	if n := len(fs["riptide_consumer_lag"].GetMetric()); n != 2 {
		t.Errorf("%d lag series, want 2 (g1 t/1, g2 t/0)", n)
	}
	if got := fs.Sample(t, "riptide_consumer_lag", "group", "g1", "partition", "1"); got != 4 {
		t.Errorf("g1 t/1 lag %v, want 4", got)
	}
	if got := fs.Sample(t, "riptide_consumer_lag", "group", "g2"); got != 7 {
		t.Errorf("g2 lag %v, want 7", got)
	}
}

// TestModelInfoReplaced: a new model replaces the info series of the old.
func TestModelInfoReplaced(t *testing.T) {
	reg := ops.NewRegistry()
	m, err := ops.New(reg)
	if err != nil {
		t.Fatal(err)
	}
	t1 := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	m.SetModel(0, "default-v0", time.Time{}) // learning: no info series
	if fs := opstest.Gather(t, reg); len(fs["riptide_model_info"].GetMetric()) != 0 {
		t.Error("model info while learning")
	}
	m.SetModel(1, "default-v1", t1)
	m.SetModel(1, "default-v1", t1)
	m.SetModel(2, "default-v2", t1.Add(time.Hour))
	fs := opstest.Gather(t, reg)
	if n := len(fs["riptide_model_info"].GetMetric()); n != 1 {
		t.Errorf("%d model info series, want 1", n)
	}
	if got := fs.Sample(t, "riptide_model_info", "version", "default-v2", "trained_at", "2026-11-25T11:00:00Z"); got != 1 {
		t.Errorf("model info of default-v2: %v, want 1", got)
	}
	if got := fs.Sample(t, "riptide_model_version"); got != 2 {
		t.Errorf("model version %v, want 2", got)
	}
}

// TestNilMetrics: a nil *Metrics records nothing and never panics.
func TestNilMetrics(t *testing.T) {
	var m *ops.Metrics
	m.Consumed("g", "t").Inc()
	m.Produced("t").Inc()
	m.WindowClosed(time.Second)
	m.Late(1)
	m.Scored(1, false)
	m.DeadLetter(ops.ReasonOther)
	m.SetModel(1, "v", time.Now())
	m.SetLag("g", nil)
	m.SetReady(true, "")
	if ok, reason := m.Ready(); ok || reason == "" {
		t.Errorf("nil Metrics ready = %v %q, want not ready with a reason", ok, reason)
	}
}
