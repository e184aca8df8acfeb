// Package gokatest runs riptide's processors on goka's tester for their
// tests: a topology unique to the test, the processor running until the test
// ends, and a silent goka logger.
package gokatest

import (
	"context"
	"regexp"
	"testing"
	"time"

	"github.com/lovoo/goka"
	"github.com/lovoo/goka/tester"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/riptide-nids/riptide/ops"
	"github.com/riptide-nids/riptide/ops/opstest"
	"github.com/riptide-nids/riptide/topology"
)

// T0 is the event time processor tests start at (the shared benchmark's
// first minute), in ns since the epoch.
var T0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC).UnixNano()

// At returns T0 + d.
func At(d time.Duration) int64 { return T0 + int64(d) }

var nonName = regexp.MustCompile(`[^a-zA-Z0-9._-]+`)

// Topology returns a topology whose names are unique to the test.
func Topology(t *testing.T) *topology.Topology {
	return topology.MustNew(nonName.ReplaceAllString(t.Name(), "_"))
}

// Quiet is a goka logger that discards everything.
type Quiet struct{}

// Print implements goka.Logger.
func (Quiet) Print(...any) {}

// Println implements goka.Logger.
func (Quiet) Println(...any) {}

// Printf implements goka.Logger.
func (Quiet) Printf(string, ...any) {}

// Run starts a processor for g on a new tester and stops it when the test
// ends, failing the test if the processor returned an error. The context
// ends with the processor.
func Run(t *testing.T, g *goka.GroupGraph) (*tester.Tester, *goka.Processor, context.Context) {
	t.Helper()
	tt := tester.New(t)
	gp, err := goka.NewProcessor(nil, g, goka.WithTester(tt), goka.WithLogger(Quiet{}))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- gp.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("processor: %v", err)
		}
	})
	return tt, gp, ctx
}

// Metrics returns riptide's collectors on a registry of their own.
func Metrics(t *testing.T) (*ops.Metrics, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	m, err := ops.New(reg)
	if err != nil {
		t.Fatal(err)
	}
	return m, reg
}

// Sample returns opstest's Sample of the metric name in reg.
func Sample(t *testing.T, reg prometheus.Gatherer, name string, labels ...string) float64 {
	t.Helper()
	return opstest.Gather(t, reg).Sample(t, name, labels...)
}
