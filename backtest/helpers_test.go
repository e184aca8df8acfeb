package backtest_test

import (
	"os"
	"path/filepath"
	"testing"
)

// sharedDir returns the repository's ../shared directory (datasets, tools),
// found by walking up from the package directory. It is part of the test
// setup, in CI too: its absence fails the test.
func sharedDir(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		cand := filepath.Join(dir, "shared")
		if fi, err := os.Stat(filepath.Join(cand, "datasets")); err == nil && fi.IsDir() {
			return cand
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatal("shared/datasets not found above the package directory (see ../shared/datasets/README.md)")
		}
		dir = parent
	}
}

func devMixed(tb testing.TB) (pcap, labels string) {
	tb.Helper()
	b := filepath.Join(sharedDir(tb), "datasets", "bench")
	return filepath.Join(b, "dev-mixed.pcap"), filepath.Join(b, "dev-mixed.labels.csv")
}
