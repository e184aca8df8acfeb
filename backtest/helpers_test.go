package backtest_test

import (
	"path/filepath"
	"testing"

	"github.com/riptide-nids/riptide/internal/testenv"
)

func sharedDir(tb testing.TB) string {
	tb.Helper()
	return testenv.Shared(tb)
}

func devMixed(tb testing.TB) (pcap, labels string) {
	tb.Helper()
	b := filepath.Join(sharedDir(tb), "datasets", "bench")
	return filepath.Join(b, "dev-mixed.pcap"), filepath.Join(b, "dev-mixed.labels.csv")
}
