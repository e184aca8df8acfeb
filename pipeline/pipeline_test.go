package pipeline_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/riptide-nids/riptide/internal/testenv"
	"github.com/riptide-nids/riptide/kclient"
	"github.com/riptide-nids/riptide/loadtest"
	"github.com/riptide-nids/riptide/ops"
	"github.com/riptide-nids/riptide/ops/opstest"
	"github.com/riptide-nids/riptide/pipeline"
	"github.com/riptide-nids/riptide/processors/trainer"
	"github.com/riptide-nids/riptide/producers"
	"github.com/riptide-nids/riptide/topology"
	"github.com/riptide-nids/riptide/window"
)

func status(t *testing.T, url string) int {
	t.Helper()
	cl := &http.Client{Timeout: 5 * time.Second}
	resp, err := cl.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	_ = resp.Body.Close()
	return resp.StatusCode
}

// TestRunWithMetrics runs every group on kfake with metrics served over
// HTTP, replays synthetic traffic through a producer, and scrapes /metrics
// until the windows are scored: records consumed, windows closed and
// scored, records produced and consumer lag are all reported, and /readyz
// follows the processors (503 before they run and after they stop).
func TestRunWithMetrics(t *testing.T) {
	const parts = 2
	ctx := testenv.Context(t, 2*time.Minute)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	top := topology.MustNew("metrics-test")
	kc := kclient.Config{Brokers: testenv.Kafka(t, parts), ClientID: "metrics-test"}
	cl, err := kclient.NewClient(kc)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if _, err := kclient.CreateTopics(ctx, cl, kc, top.All(), parts); err != nil {
		t.Fatal(err)
	}

	reg := ops.NewRegistry()
	m, err := ops.New(reg)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := ops.Listen("127.0.0.1:0", m.Handler(reg, log))
	if err != nil {
		t.Fatal(err)
	}
	sctx, stopServer := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(sctx) }()
	defer func() {
		stopServer()
		if err := <-served; err != nil {
			t.Errorf("metrics server: %v", err)
		}
	}()
	base := "http://" + srv.Addr()
	if code := status(t, base+"/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz before the pipeline runs: %d, want 503", code)
	}

	learn := 2 * time.Minute
	tc := trainer.DefaultConfig()
	tc.Learn = learn
	tc.Settle = 200 * time.Millisecond
	wc := window.DefaultConfig()
	p, err := pipeline.New(top, pipeline.Config{Kafka: kc, Window: wc, Trainer: tc, Partitions: parts,
		Metrics: m, LagInterval: 200 * time.Millisecond}, log)
	if err != nil {
		t.Fatal(err)
	}
	pctx, stop := context.WithCancel(ctx)
	ready := make(chan struct{})
	ran := make(chan struct{})
	go func() {
		defer close(ran)
		_ = p.Run(pctx, func() { close(ready) })
	}()
	defer func() { stop(); <-ran }()
	select {
	case <-ready:
	case <-ctx.Done():
		t.Fatal("the pipeline was not ready within the test's deadline")
	}
	if code := status(t, base+"/readyz"); code != http.StatusOK {
		t.Errorf("/readyz with every processor running: %d, want 200", code)
	}

	gcfg := loadtest.DefaultConfig(learn)
	gcfg.Hosts = 20
	gcfg.Attacks = nil
	gcfg.Duration = learn + 2*time.Minute
	g, err := loadtest.New(gcfg)
	if err != nil {
		t.Fatal(err)
	}
	prod, err := producers.New(cl, producers.Config{Topic: top.Packets.Name, Partitions: parts,
		FinalWatermark: wc.Size + wc.Grace, Metrics: m})
	if err != nil {
		t.Fatal(err)
	}
	if err := producers.Replay(ctx, loadtest.Source(g), prod, 0, nil); err != nil {
		t.Fatal(err)
	}
	if err := prod.Close(ctx); err != nil {
		t.Fatal(err)
	}
	written := prod.Stats().Records + prod.Stats().Watermarks

	// Scrape until the windows after the learning period are scored and the
	// lag poller has reported the windower's partitions.
	var fs opstest.Families
	deadline := time.Now().Add(90 * time.Second)
	for {
		fs = opstest.Scrape(t, base+"/metrics")
		lagSeries := 0
		for _, s := range fs["riptide_consumer_lag"].GetMetric() {
			var group, topic string
			for _, l := range s.GetLabel() {
				switch l.GetName() {
				case "group":
					group = l.GetValue()
				case "topic":
					topic = l.GetValue()
				}
			}
			// The windower reads the events topic too: count the packets topic's partitions.
			if group == string(top.Windower) && topic == top.Packets.Name {
				lagSeries++
			}
		}
		if fs.Sample(t, "riptide_windows_scored_total") > 0 && lagSeries == parts {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no windows scored or no lag for %d windower partitions within 90 s; windower %+v, detector %+v",
				parts, p.Windower.Stats(), p.Detector.Stats())
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, c := range []struct {
		name   string
		labels []string
	}{
		{"riptide_records_consumed_total", []string{"group", string(top.Windower), "topic", top.Packets.Name}},
		{"riptide_records_consumed_total", []string{"group", string(top.Trainer), "topic", top.Features.Name}},
		{"riptide_records_consumed_total", []string{"group", string(top.Detector), "topic", top.Features.Name}},
		{"riptide_windows_closed_total", nil},
		{"riptide_window_close_latency_seconds_count", nil},
		{"riptide_windows_scored_total", nil},
		{"riptide_anomaly_score_count", nil},
		{"riptide_model_version", nil},
		{"riptide_ready", nil},
	} {
		if got := fs.Sample(t, c.name, c.labels...); got <= 0 {
			t.Errorf("%s%v = %v, want > 0", c.name, c.labels, got)
		}
	}
	if got := fs.Sample(t, "riptide_records_produced_total", "topic", top.Packets.Name); got != float64(written) {
		t.Errorf("records produced %v, the producer wrote %d", got, written)
	}
	if code := status(t, base+"/readyz"); code != http.StatusOK {
		t.Errorf("/readyz while running: %d, want 200", code)
	}

	stop()
	<-ran
	if code := status(t, base+"/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz after the pipeline stopped: %d, want 503", code)
	}
}
