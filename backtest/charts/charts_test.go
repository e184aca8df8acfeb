package charts_test

import (
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/riptide-nids/riptide/backtest"
	"github.com/riptide-nids/riptide/backtest/charts"
	"github.com/riptide-nids/riptide/codecs"
	"github.com/riptide-nids/riptide/detect"
)

func TestWrite(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	win := 10 * time.Second
	res := &backtest.Result{Model: &detect.Model{Threshold: -1}}
	for i := range 30 {
		for _, h := range []string{"10.0.0.1", "10.0.0.2", "fe80::1"} {
			s := t0.Add(time.Duration(i) * win)
			score := 0.5
			if h != "10.0.0.2" && i >= 10 && i < 13 {
				score = -3
			}
			sc := backtest.Scored{Host: h, Start: s.UnixNano(), End: s.Add(win).UnixNano(), Score: score, Anomaly: score < -1}
			res.Scored = append(res.Scored, sc)
			if sc.Anomaly {
				res.Anomalies = append(res.Anomalies, &codecs.Anomaly{Host: h, WindowStart: s, WindowEnd: s.Add(win)})
			}
		}
	}
	labels := []backtest.Label{{Host: "10.0.0.1", Start: t0.Add(100 * time.Second), End: t0.Add(125 * time.Second), Attack: "scan", Role: "attacker"}}
	dir := filepath.Join(t.TempDir(), "plots")
	paths, err := charts.Write(dir, res, labels, win)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range paths {
		names = append(names, filepath.Base(p))
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(f)
		_ = f.Close()
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if b := img.Bounds(); b.Dx() < 500 || b.Dy() < 300 {
			t.Errorf("%s: %v", p, b)
		}
	}
	// The labelled attacker first; the unflagged host gets no timeline.
	want := []string{"pr.png", "timeline-10.0.0.1.png", "timeline-fe80--1.png"}
	if !slices.Equal(names, want) {
		t.Errorf("wrote %q, want %q", names, want)
	}

	// Without labels: timelines only.
	paths, err = charts.Write(t.TempDir(), res, nil, win)
	if err != nil || len(paths) != 2 {
		t.Errorf("without labels: %q, %v", paths, err)
	}
	if _, err := charts.Write(t.TempDir(), &backtest.Result{}, labels, win); err == nil {
		t.Error("no error without a model")
	}
}
