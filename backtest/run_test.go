package backtest_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/netip"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/riptide-nids/riptide/backtest"
	"github.com/riptide-nids/riptide/codecs"
	"github.com/riptide-nids/riptide/packet"
	"github.com/riptide-nids/riptide/producers"
)

type devMixedResult struct {
	res        *backtest.Result
	labels     []backtest.Label
	labelsPath string
	seen       []*codecs.Anomaly
	progress   []int64
}

// The backtest of dev-mixed with the defaults, as `riptide backtest` runs it
// (reorder span one minute), is shared by the tests that need it.
var (
	devMixedOnce sync.Once
	devMixedRes  *devMixedResult
	devMixedErr  error
)

func runDevMixed(t *testing.T) *devMixedResult {
	t.Helper()
	pcap, labelsPath := devMixed(t) // fails the test if the datasets are absent
	devMixedOnce.Do(func() {
		devMixedRes, devMixedErr = backtestDevMixed(pcap, labelsPath)
	})
	if devMixedErr != nil {
		t.Fatalf("backtest of dev-mixed: %v", devMixedErr)
	}
	return devMixedRes
}

func backtestDevMixed(pcap, labelsPath string) (*devMixedResult, error) {
	labels, err := backtest.ReadLabelsFile(labelsPath)
	if err != nil {
		return nil, err
	}
	src, err := producers.OpenFiles([]string{pcap}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return nil, err
	}
	r := &devMixedResult{labels: labels, labelsPath: labelsPath}
	r.res, err = backtest.Run(context.Background(), producers.Reorder(src, time.Minute, 4_000_000), backtest.DefaultConfig(),
		func(a *codecs.Anomaly) { r.seen = append(r.seen, a) },
		func(n int64) { r.progress = append(r.progress, n) })
	if err != nil {
		return nil, err
	}
	return r, nil
}

func TestRunDevMixed(t *testing.T) {
	r := runDevMixed(t)
	res := r.res
	cfg := backtest.DefaultConfig()
	sc := backtest.Evaluate(r.labels, res.Flags(), cfg.Window.Size, res.Negatives(r.labels), 0)
	t.Logf("%d packets, %d windows (%d learning, %d scored, %d late), %d anomalies, trained on %d windows in %v, run %v",
		res.Packets, res.Windows, res.Learning, len(res.Scored), res.Late, len(res.Anomalies), res.TrainSamples, res.TrainTime, res.Elapsed)
	t.Logf("precision %.3f recall %.3f F1 %.3f, TP %d FP %d neutral %d TN %d, %d/%d attacks, median time to detect %.1f s",
		sc.Precision, sc.Recall, sc.F1, sc.TruePositives, sc.FalsePositives, sc.Neutral, sc.TrueNegatives, sc.AttacksDetected, len(sc.Attacks), sc.MedianTTD)
	for name, a := range sc.Attacks {
		t.Logf("  %-15s detected %-5v after %5.1f s, %d windows", name, a.Detected, a.TimeToDetect, a.FlaggedWindows)
	}

	if sc.AttacksDetected < 5 {
		t.Errorf("%d of %d attacks detected, want at least 5", sc.AttacksDetected, len(sc.Attacks))
	}
	if sc.Precision < 0.5 {
		t.Errorf("precision %.3f, want at least 0.5", sc.Precision)
	}

	// Bookkeeping.
	if res.Windows != res.Learning+int64(len(res.Scored)) {
		t.Errorf("%d windows, but %d learning + %d scored", res.Windows, res.Learning, len(res.Scored))
	}
	if res.Model == nil || res.LearnEnd-res.LearnStart != int64(cfg.Learn) || res.Model.TrainEnd != res.LearnEnd {
		t.Errorf("learning period [%d, %d), model trained to %v; want %v long", res.LearnStart, res.LearnEnd, res.Model, cfg.Learn)
	}
	if res.TrainSamples == 0 || res.TrainSamples > cfg.MaxSamples {
		t.Errorf("trained on %d windows", res.TrainSamples)
	}
	flagged := 0
	for _, s := range res.Scored {
		if s.Start < res.LearnEnd {
			t.Fatalf("window %s@%d inside the learning period was scored", s.Host, s.Start)
		}
		if s.Anomaly {
			flagged++
		}
	}
	if flagged != len(res.Anomalies) || len(r.seen) != len(res.Anomalies) {
		t.Errorf("%d windows flagged, %d anomalies, %d passed to onAnomaly", flagged, len(res.Anomalies), len(r.seen))
	}
	for i, a := range res.Anomalies {
		if r.seen[i] != a {
			t.Errorf("onAnomaly saw anomaly %d out of order", i)
			break
		}
		if _, err := codecs.EncodeAnomaly(a); err != nil {
			t.Errorf("anomaly %d: %v", i, err)
		}
	}
	// Progress comes about every 100,000 packets (at the next multiple of
	// 8192).
	if n := res.Packets / 100_000; int64(len(r.progress)) < n-1 || int64(len(r.progress)) > n {
		t.Errorf("progress called %d times for %d packets: %v", len(r.progress), res.Packets, r.progress)
	}
	for i, n := range r.progress {
		if n%100_000 >= 8192 || n/100_000 != int64(i+1) {
			t.Errorf("progress %d at %d packets", i, n)
		}
	}
}

// sliceSource yields sums, then end (io.EOF when nil).
type sliceSource struct {
	sums []packet.Summary
	end  error
	i    int
}

func (s *sliceSource) Next(out *packet.Summary) error {
	if s.i >= len(s.sums) {
		if s.end != nil {
			return s.end
		}
		return io.EOF
	}
	*out = s.sums[s.i]
	s.i++
	return nil
}

// steady returns d of traffic from 10.0.0.1 to 10.0.0.2, a packet every
// 100 ms.
func steady(d time.Duration) []packet.Summary {
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC).UnixNano()
	a, b := netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2")
	var out []packet.Summary
	for t := int64(0); t < int64(d); t += int64(100 * time.Millisecond) {
		out = append(out, packet.Summary{Time: t0 + t, Src: a, Dst: b, SrcPort: 40000, DstPort: 443, Length: 100, Proto: packet.ProtoTCP})
	}
	return out
}

func TestRunNoModel(t *testing.T) {
	short := filepath.Join(sharedDir(t), "datasets", "pcap", "attacks", "ssh-bruteforce.pcap") // 13 s
	src, err := producers.OpenFiles([]string{short}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		src  backtest.Source
	}{
		{"13 s capture", src},
		{"synthetic, 14 of 15 minutes", &sliceSource{sums: steady(14 * time.Minute)}},
		{"empty", &sliceSource{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := backtest.Run(context.Background(), tt.src, backtest.DefaultConfig(), nil, nil)
			if !errors.Is(err, backtest.ErrNoModel) {
				t.Fatalf("Run = %v, want ErrNoModel", err)
			}
			if res == nil || res.Model != nil || len(res.Scored) != 0 || res.Windows != res.Learning {
				t.Fatalf("result %+v: want all windows learning, none scored", res)
			}
			t.Logf("%d packets, %d windows", res.Packets, res.Windows)
		})
	}
}

func TestRunTrainsWhenCaptureEndsWhileWaiting(t *testing.T) {
	// 15 min 5 s: the period is over, but no window starts two windows
	// after it; the capture's end trains the model and scores the waiting
	// windows.
	cfg := backtest.DefaultConfig()
	res, err := backtest.Run(context.Background(), &sliceSource{sums: steady(cfg.Learn + 5*time.Second)}, cfg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Model == nil || len(res.Scored) == 0 {
		t.Fatalf("no model or nothing scored: %+v", res)
	}
	for _, s := range res.Scored {
		if s.Start < res.LearnEnd {
			t.Errorf("window at %d inside the learning period (to %d) scored", s.Start, res.LearnEnd)
		}
	}
	if res.Windows != res.Learning+int64(len(res.Scored)) {
		t.Errorf("%d windows, but %d learning + %d scored", res.Windows, res.Learning, len(res.Scored))
	}
}

func TestRunErrors(t *testing.T) {
	boom := errors.New("capture device gone")
	if _, err := backtest.Run(context.Background(), &sliceSource{sums: steady(time.Minute), end: boom}, backtest.DefaultConfig(), nil, nil); !errors.Is(err, boom) {
		t.Errorf("Run with a failing source = %v, want %v", err, boom)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := backtest.Run(ctx, &sliceSource{sums: steady(30 * time.Minute)}, backtest.DefaultConfig(), nil, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("Run with a canceled context = %v, want context.Canceled", err)
	}
}
