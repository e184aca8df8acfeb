package ops_test

import (
	"testing"

	"github.com/riptide-nids/riptide/ops"
	"github.com/riptide-nids/riptide/ops/opstest"
)

func TestCaptureMetrics(t *testing.T) {
	m, base, _ := serve(t)
	c := ops.CaptureCounters{KernelPackets: 10, KernelDrops: 2, KernelFreezes: 1, Frames: 8, Undecodable: 3, QueueDrops: 4}
	if err := m.RegisterCapture("eth1", func() ops.CaptureCounters { return c }); err != nil {
		t.Fatal(err)
	}
	if err := m.RegisterCapture("eth1", func() ops.CaptureCounters { return c }); err == nil {
		t.Error("registering the same interface twice succeeded")
	}
	c.Frames = 9 // read on every scrape
	fs := opstest.Scrape(t, base+"/metrics")
	for name, want := range map[string]float64{
		"riptide_capture_kernel_packets_total": 10, "riptide_capture_kernel_drops_total": 2, "riptide_capture_kernel_freezes_total": 1,
		"riptide_capture_frames_total": 9, "riptide_capture_undecodable_total": 3, "riptide_capture_queue_drops_total": 4,
	} {
		if got := fs.Sample(t, name, "interface", "eth1"); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	var nilm *ops.Metrics
	if err := nilm.RegisterCapture("eth1", nil); err != nil {
		t.Errorf("nil Metrics: %v", err)
	}
}
