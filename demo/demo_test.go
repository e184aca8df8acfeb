package demo_test

import (
	"context"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/riptide-nids/riptide/internal/testenv"

	"github.com/riptide-nids/riptide/backtest"
	"github.com/riptide-nids/riptide/codecs"
	"github.com/riptide-nids/riptide/demo"
	"github.com/riptide-nids/riptide/loadtest"
	"github.com/riptide-nids/riptide/producers"
	"github.com/riptide-nids/riptide/window"
)

func datasets(t *testing.T) string {
	t.Helper()
	return testenv.Datasets(t)
}

type collector struct {
	mu sync.Mutex
	as []*codecs.Anomaly
}

func (c *collector) add(a *codecs.Anomaly, _ []byte) {
	c.mu.Lock()
	c.as = append(c.as, a)
	c.mu.Unlock()
}

func (c *collector) flags() []backtest.Flag {
	c.mu.Lock()
	defer c.mu.Unlock()
	var fs []backtest.Flag
	for _, a := range c.as {
		fs = append(fs, backtest.Flag{Host: a.Host, Start: a.WindowStart, End: a.WindowEnd})
	}
	return fs
}

// TestSyntheticAttacksFlagged runs the default demo scenario (shortened) on
// the embedded broker and checks that the injected port scan and brute force
// are flagged while they happen.
func TestSyntheticAttacksFlagged(t *testing.T) {
	learn := 3 * time.Minute
	cfg := loadtest.DefaultConfig(learn)
	cfg.Hosts = 40
	cfg.Attacks = slices.DeleteFunc(cfg.Attacks, func(a loadtest.Attack) bool { return a.Kind == loadtest.SYNFlood })
	cfg.Duration = learn + 5*time.Minute
	g, err := loadtest.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var c collector
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	sum, err := demo.Run(ctx, demo.Options{Source: loadtest.Source(g), Window: window.DefaultConfig(), Learn: learn, OnAnomaly: c.add})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("summary: %+v", *sum)
	if !sum.ModelTrained {
		t.Fatal("no model was trained")
	}
	var labels []backtest.Label
	for _, l := range g.Labels() {
		labels = append(labels, backtest.Label{Host: l.Host.String(), Start: l.Start, End: l.End, Attack: l.Attack, Role: l.Role})
	}
	s := backtest.Evaluate(labels, c.flags(), 10*time.Second, 0, 0)
	t.Logf("precision %.3f recall %.3f F1 %.3f attacks %+v", s.Precision, s.Recall, s.F1, s.Attacks)
	for _, kind := range []loadtest.AttackKind{loadtest.PortScan, loadtest.SSHBruteForce} {
		a := s.Attacks[string(kind)]
		if !a.Detected {
			t.Errorf("%s not detected", kind)
			continue
		}
		if a.TimeToDetect > 20 {
			t.Errorf("%s detected after %.1f s, want within two windows", kind, a.TimeToDetect)
		}
	}
	if sum.Anomalies != int64(len(c.as)) {
		t.Errorf("summary says %d anomalies, the anomalies topic had %d", sum.Anomalies, len(c.as))
	}
}

// TestBenchmarkReplay replays the shared benchmark capture through Kafka and
// checks the acceptance bar of the pipeline issue, and that the pipeline and
// the backtest (same core, no Kafka) find the same attacks.
func TestBenchmarkReplay(t *testing.T) {
	ds := datasets(t)
	pcap := filepath.Join(ds, "bench", "dev-mixed.pcap")
	labels, err := backtest.ReadLabelsFile(filepath.Join(ds, "bench", "dev-mixed.labels.csv"))
	if err != nil {
		t.Fatal(err)
	}
	open := func() producers.Source {
		f, err := producers.OpenFiles([]string{pcap}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return producers.Reorder(f, time.Minute, 4_000_000)
	}
	var c collector
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	sum, err := demo.Run(ctx, demo.Options{Source: open(), Window: window.DefaultConfig(), Learn: 15 * time.Minute, OnAnomaly: c.add})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("summary: %+v", *sum)
	if sum.Packets != 113080 {
		t.Errorf("replayed %d packets, want the 113080 decodable ones", sum.Packets)
	}
	got := backtest.Evaluate(labels, c.flags(), 10*time.Second, 0, 0)
	t.Logf("pipeline: precision %.3f recall %.3f F1 %.3f detected %d/7", got.Precision, got.Recall, got.F1, got.AttacksDetected)
	if got.AttacksDetected < 5 {
		t.Errorf("pipeline detected %d of 7 attacks, want at least 5", got.AttacksDetected)
	}
	if got.Precision < 0.5 {
		t.Errorf("pipeline precision %.3f, want at least 0.5", got.Precision)
	}

	res, err := backtest.Run(ctx, open(), backtest.DefaultConfig(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	bt := backtest.Evaluate(labels, res.Flags(), 10*time.Second, 0, 0)
	t.Logf("backtest: precision %.3f recall %.3f F1 %.3f detected %d/7", bt.Precision, bt.Recall, bt.F1, bt.AttacksDetected)
	for name, a := range bt.Attacks {
		if a.Detected != got.Attacks[name].Detected {
			t.Errorf("%s: backtest detected=%v, pipeline detected=%v", name, a.Detected, got.Attacks[name].Detected)
		}
	}
	if res.Windows != sum.Windows {
		t.Errorf("backtest closed %d windows, pipeline %d", res.Windows, sum.Windows)
	}
}
