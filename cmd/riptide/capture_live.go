package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"time"

	"github.com/spf13/pflag"

	"github.com/riptide-nids/riptide/capture"
	"github.com/riptide-nids/riptide/ops"
	"github.com/riptide-nids/riptide/packet"
	"github.com/riptide-nids/riptide/producers"
	"github.com/riptide-nids/riptide/window"
)

// liveFlags are capture's live-capture flags.
type liveFlags struct {
	iface      string
	bpf        string
	fanout     int
	promisc    bool
	queue      int
	overflow   string
	statsEvery time.Duration
}

// maxBufferedBytes bounds what a capture's Kafka client holds unacknowledged;
// beyond it producing blocks (back-pressure to the queue).
const maxBufferedBytes = 64 << 20

func (f *liveFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.iface, "iface", "", "capture live from this network interface (AF_PACKET, Linux; needs CAP_NET_RAW) instead of replaying files")
	fs.StringVar(&f.bpf, "bpf", "", "kernel packet filter for --iface: tcpdump -ddd output, or a tcpdump expression in builds with -tags pcap")
	fs.IntVar(&f.fanout, "fanout", 1, "capture sockets in one kernel fanout group (by flow hash), each decoded on its own goroutine")
	fs.BoolVar(&f.promisc, "promisc", false, "put --iface into promiscuous mode (SPAN ports, taps)")
	fs.IntVar(&f.queue, "queue", 4096, "chunks of 256 packets queued between capture and producer (bounds memory)")
	fs.StringVar(&f.overflow, "overflow", "block", "when the queue is full: block (the kernel ring fills and drops, counted by the kernel) or drop (counted as queue drops)")
	fs.DurationVar(&f.statsEvery, "stats-interval", 10*time.Second, "log capture counters (kernel packets and drops, queue drops, produced) this often; 0 disables")
}

// liveCapture captures from f.iface until ctx ends (SIGINT/SIGTERM), then
// produces what it holds, sends the closing watermark, prints the counts
// as JSON and returns nil.
func liveCapture(ctx context.Context, g *globals, f *liveFlags, interval time.Duration, mf *metricsFlag, log *slog.Logger) error {
	if f.fanout < 1 || f.fanout > 64 {
		return usagef("--fanout %d: use 1 to 64 sockets", f.fanout)
	}
	if f.queue < 1 {
		return usagef("--queue %d: must be at least 1", f.queue)
	}
	over, err := producers.ParseOverflow(f.overflow)
	if err != nil {
		return usageError{err}
	}
	top, kc, err := g.cluster()
	if err != nil {
		return err
	}
	filter, err := capture.CompileFilter(f.bpf, f.iface)
	if err != nil {
		return usageError{err}
	}
	h, err := capture.Open(capture.Config{Interface: f.iface, Fanout: f.fanout, Filter: filter, Promiscuous: f.promisc})
	if err != nil {
		return err
	}
	defer h.Close()
	m, stopMetrics, err := mf.start(ctx, log)
	if err != nil {
		return err
	}
	defer stopMetrics()
	cl, parts, err := packetsClient(ctx, kc, m, top.Packets.Name)
	if err != nil {
		return err
	}
	defer cl.Close()
	def := window.DefaultConfig()
	p, err := producers.New(cl, producers.Config{Topic: top.Packets.Name, Partitions: parts, Interval: interval, FinalWatermark: def.Size + def.Grace, Metrics: m})
	if err != nil {
		return err
	}
	q := producers.NewQueue(f.queue, 256, over)
	counters := func() (ops.CaptureCounters, capture.Stats) {
		st, err := h.Stats()
		if err != nil {
			log.Warn("capture statistics", "err", err)
		}
		var undec uint64
		for _, n := range st.Decode.Undecodable {
			undec += n
		}
		return ops.CaptureCounters{KernelPackets: st.KernelPackets, KernelDrops: st.KernelDrops, KernelFreezes: st.Freezes,
			Frames: st.Decode.Packets, Undecodable: undec, QueueDrops: uint64(q.Dropped())}, st
	}
	if err := m.RegisterCapture(f.iface, func() ops.CaptureCounters { c, _ := counters(); return c }); err != nil {
		return err
	}
	m.SetReady(true, "")
	log.Info("capturing", "iface", f.iface, "sockets", f.fanout, "filter_instructions", len(filter), "topic", top.Packets.Name, "partitions", parts)

	start := time.Now()
	produced := make(chan struct{})
	go func() {
		defer close(produced)
		producers.Live(ctx, q, p, producers.LiveConfig{})
	}()
	stopLog := make(chan struct{})
	logged := make(chan struct{})
	go func() {
		defer close(logged)
		logCaptureStats(log, f.statsEvery, stopLog, counters, p)
	}()
	runErr := h.Run(ctx, func(sums []packet.Summary) { q.Put(ctx, sums) })
	q.Close()
	<-produced
	close(stopLog)
	<-logged
	cerr := p.Close(context.WithoutCancel(ctx))
	c, st := counters()
	if runErr != nil {
		return runErr
	}
	if cerr != nil {
		return cerr
	}
	log.Info("capture stopped; everything queued was produced", "iface", f.iface, "kernel_packets", c.KernelPackets, "kernel_drops", c.KernelDrops, "queue_drops", c.QueueDrops)
	ps := p.Stats()
	el := time.Since(start)
	out := map[string]any{"interface": f.iface, "produced": ps, "capture": st, "queue_drops": c.QueueDrops,
		"elapsed_s": el.Seconds(), "packets_per_second": float64(ps.Packets) / el.Seconds()}
	return json.NewEncoder(os.Stdout).Encode(out)
}

// logCaptureStats logs the capture's counters every interval until stop is
// closed, at warning level when packets were dropped since the last line.
func logCaptureStats(log *slog.Logger, every time.Duration, stop <-chan struct{}, counters func() (ops.CaptureCounters, capture.Stats), p *producers.Producer) {
	if every <= 0 {
		<-stop
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	var last ops.CaptureCounters
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		c, _ := counters()
		packets, records, failed := p.Counts()
		lvl := slog.LevelInfo
		if c.KernelDrops > last.KernelDrops || c.QueueDrops > last.QueueDrops {
			lvl = slog.LevelWarn
		}
		log.Log(context.Background(), lvl, "capture stats",
			"kernel_packets", c.KernelPackets, "kernel_drops", c.KernelDrops, "kernel_freezes", c.KernelFreezes,
			"frames", c.Frames, "undecodable", c.Undecodable, "queue_drops", c.QueueDrops,
			"packets_produced", packets, "records", records, "failed", failed)
		last = c
	}
}
