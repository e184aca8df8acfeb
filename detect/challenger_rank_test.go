package detect_test

import (
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/riptide-nids/riptide/detect"
	"github.com/riptide-nids/riptide/internal/testenv"
	"github.com/riptide-nids/riptide/packet"
	"github.com/riptide-nids/riptide/producers"
	"github.com/riptide-nids/riptide/window"
)

// benchmarkWindows returns the windows of dev-mixed as the backtest makes
// them (default window configuration, one-minute reordering): the rows of
// the 15-minute learning period and the rows scored after it.
func benchmarkWindows(t testing.TB) (learn, scored [][]float64) {
	t.Helper()
	pcap := filepath.Join(testenv.Datasets(t, "bench"), "dev-mixed.pcap")
	src, err := producers.OpenFiles([]string{pcap}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	var first, end int64
	agg := window.NewAggregator(window.DefaultConfig(), func(v *window.Vector) {
		if first == 0 {
			first, end = v.Start, v.Start+int64(15*time.Minute)
		}
		row := append([]float64(nil), v.Values...)
		if v.Start < end {
			learn = append(learn, row)
		} else {
			scored = append(scored, row)
		}
	})
	in := producers.Reorder(src, time.Minute, 4_000_000)
	var s packet.Summary
	for {
		err := in.Next(&s)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		agg.Add(&s)
	}
	agg.Flush()
	return learn, scored
}

// TestChallengerRanksLikeExact checks that the RFF challenger, trained on
// the learning windows of the shared benchmark with the default
// configuration, ranks the windows scored after them as the exact model
// does. The rank correlation depends on the random map, so five seeds are
// drawn and their median Spearman correlation with the exact decision
// value must be at least 0.95 (every seed is logged).
func TestChallengerRanksLikeExact(t *testing.T) {
	learn, scored := benchmarkWindows(t)
	m, err := detect.Train(learn, window.Names(), detect.DefaultTrainConfig())
	if err != nil {
		t.Fatal(err)
	}
	exact := make([]float64, len(scored))
	for i, x := range scored {
		exact[i] = m.Decision(x)
	}
	var rhos []float64
	for seed := uint64(1); seed <= 5; seed++ {
		oc, err := detect.NewChallenger(learn, m, 0, seed)
		if err != nil {
			t.Fatal(err)
		}
		rff := make([]float64, len(scored))
		for i, x := range scored {
			rff[i] = oc.ScoreRFF(x)
		}
		rho := detect.Spearman(exact, rff)
		rhos = append(rhos, rho)
		t.Logf("seed %d: %d learning and %d scored windows, %d SVs, D=%d: Spearman RFF vs exact decision %.4f",
			seed, len(learn), len(scored), len(m.SV), oc.RFF.Map.D, rho)
	}
	slices.Sort(rhos)
	if med := rhos[len(rhos)/2]; med < 0.95 {
		t.Errorf("median Spearman %.4f over seeds 1-5 (%v), want >= 0.95", med, rhos)
	}
}
