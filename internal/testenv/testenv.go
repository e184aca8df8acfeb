// Package testenv finds what riptide's tests read from outside the
// repository: the shared captures, logs and labels in ../shared/datasets and
// the independent scorer in ../shared/tools. They are part of the test setup,
// in CI too, so their absence fails the test instead of skipping it.
package testenv

import (
	"os"
	"path/filepath"
	"testing"
)

// Shared returns the absolute path of the shared directory (the sibling
// "shared" of the repository), found by walking up from the working
// directory.
func Shared(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		cand := filepath.Join(dir, "shared", "datasets")
		if fi, err := os.Stat(cand); err == nil && fi.IsDir() {
			return filepath.Join(dir, "shared")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatal("testenv: shared/datasets not found above the working directory; the tests read ../shared/datasets next to the repository")
		}
		dir = parent
	}
}

// Datasets returns the path of a file or directory under shared/datasets.
func Datasets(tb testing.TB, elem ...string) string {
	tb.Helper()
	return filepath.Join(append([]string{Shared(tb), "datasets"}, elem...)...)
}

// Tool returns the path of a tool under shared/tools.
func Tool(tb testing.TB, name string) string {
	tb.Helper()
	return filepath.Join(Shared(tb), "tools", name)
}
