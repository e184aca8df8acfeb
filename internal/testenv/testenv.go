// Package testenv holds what several of riptide's test packages need: the
// shared captures, logs and labels in ../shared/datasets and the independent
// scorer in ../shared/tools (outside the repository), an in-process Kafka
// cluster, and test-bound contexts. The shared files are part of the
// test setup, in CI too, so their absence fails the test instead of skipping
// it.
package testenv

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
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

// Kafka starts a one-broker kfake cluster, seeded with topics of the given
// partition count, for the rest of the test and returns its addresses.
func Kafka(tb testing.TB, partitions int32, topics ...string) []string {
	tb.Helper()
	opts := []kfake.Opt{kfake.NumBrokers(1)}
	if len(topics) > 0 {
		opts = append(opts, kfake.SeedTopics(partitions, topics...))
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(c.Close)
	return c.ListenAddrs()
}

// Context returns a context that ends after d or with the test.
func Context(tb testing.TB, d time.Duration) context.Context {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	tb.Cleanup(cancel)
	return ctx
}
