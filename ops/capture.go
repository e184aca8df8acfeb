package ops

import (
	"github.com/prometheus/client_golang/prometheus"
)

// CaptureCounters are the counters of a live capture, read when Prometheus
// scrapes (see RegisterCapture).
type CaptureCounters struct {
	// KernelPackets and KernelDrops are the kernel's counters of the
	// capture sockets: packets passed to the rings after the filter, and
	// packets dropped because a ring was full. KernelFreezes counts ring
	// freezes.
	KernelPackets, KernelDrops, KernelFreezes uint64
	// Frames are the frames read from the rings, Undecodable those of
	// them that did not decode.
	Frames, Undecodable uint64
	// QueueDrops are packets decoded but dropped in user space because
	// the queue to the producer was full (--overflow drop).
	QueueDrops uint64
}

// RegisterCapture registers riptide_capture_* metrics of the live capture
// on iface on the registry m was built with; read is called on every scrape
// and must be safe for concurrent use. A nil *Metrics does nothing.
func (m *Metrics) RegisterCapture(iface string, read func() CaptureCounters) error {
	if m == nil {
		return nil
	}
	return m.reg.Register(&captureCollector{iface: iface, read: read})
}

var (
	descKernelPackets = prometheus.NewDesc("riptide_capture_kernel_packets_total",
		"Packets the kernel passed to the capture sockets' rings (after the BPF filter), drops included.", []string{"interface"}, nil)
	descKernelDrops = prometheus.NewDesc("riptide_capture_kernel_drops_total",
		"Packets the kernel dropped because a capture ring was full.", []string{"interface"}, nil)
	descKernelFreezes = prometheus.NewDesc("riptide_capture_kernel_freezes_total",
		"Times a TPACKET_V3 ring froze (all blocks full).", []string{"interface"}, nil)
	descFrames = prometheus.NewDesc("riptide_capture_frames_total",
		"Frames read from the capture rings.", []string{"interface"}, nil)
	descUndecodable = prometheus.NewDesc("riptide_capture_undecodable_total",
		"Frames read from the capture rings that did not decode (not IP or ARP, corrupt).", []string{"interface"}, nil)
	descQueueDrops = prometheus.NewDesc("riptide_capture_queue_drops_total",
		"Decoded packets dropped in user space because the queue to the Kafka producer was full.", []string{"interface"}, nil)
)

type captureCollector struct {
	iface string
	read  func() CaptureCounters
}

func (c *captureCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descKernelPackets, descKernelDrops, descKernelFreezes, descFrames, descUndecodable, descQueueDrops} {
		ch <- d
	}
}

func (c *captureCollector) Collect(ch chan<- prometheus.Metric) {
	v := c.read()
	for _, x := range []struct {
		d *prometheus.Desc
		n uint64
	}{
		{descKernelPackets, v.KernelPackets}, {descKernelDrops, v.KernelDrops}, {descKernelFreezes, v.KernelFreezes},
		{descFrames, v.Frames}, {descUndecodable, v.Undecodable}, {descQueueDrops, v.QueueDrops},
	} {
		ch <- prometheus.MustNewConstMetric(x.d, prometheus.CounterValue, float64(x.n), c.iface)
	}
}
