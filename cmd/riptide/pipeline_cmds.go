package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/riptide-nids/riptide/kclient"
	"github.com/riptide-nids/riptide/ops"
	"github.com/riptide-nids/riptide/packet"
	"github.com/riptide-nids/riptide/pipeline"
	"github.com/riptide-nids/riptide/processors/trainer"
	"github.com/riptide-nids/riptide/processors/windower"
	"github.com/riptide-nids/riptide/producers"
	"github.com/riptide-nids/riptide/window"
)

// windowFlags are the windowing and learning settings shared by run, demo
// and backtest.
type windowFlags struct {
	size, grace, learn time.Duration
}

func (w *windowFlags) register(fs *pflag.FlagSet) {
	def := window.DefaultConfig()
	fs.DurationVar(&w.size, "window", def.Size, "window size (tumbling, event time)")
	fs.DurationVar(&w.grace, "grace", def.Grace, "how long after its end a window accepts late packets")
	fs.DurationVar(&w.learn, "learn", 15*time.Minute, "learning period (event time) before scoring starts")
}

func (w *windowFlags) window() (window.Config, error) {
	c := window.Config{Size: w.size, Grace: w.grace}
	if err := c.Validate(); err != nil {
		return c, usageError{err}
	}
	if w.learn <= 0 {
		return c, usagef("--learn %v: must be positive", w.learn)
	}
	return c, nil
}

// captureFiles returns the capture files given with --pcap and as arguments.
func captureFiles(args, pcaps []string) []string {
	return append(append([]string{}, pcaps...), args...)
}

// requireCaptureFiles is captureFiles for commands that need at least one.
func requireCaptureFiles(args, pcaps []string) ([]string, error) {
	files := captureFiles(args, pcaps)
	if len(files) == 0 {
		return nil, usagef("no capture files: give --pcap FILE")
	}
	return files, nil
}

// maxReorderHeld caps the packets the reorder buffer holds (about 300 MB).
const maxReorderHeld = 4_000_000

func registerReorder(fs *pflag.FlagSet, d *time.Duration) {
	fs.DurationVar(d, "reorder", time.Minute, "put capture packets back in time order across this span (merged captures are often out of order); 0 disables")
}

func newCaptureCmd(g *globals) *cobra.Command {
	var pcaps []string
	var speed string
	var dryRun bool
	var interval, reorder time.Duration
	var mf metricsFlag
	var live liveFlags
	var loops int
	var rebase bool
	cmd := &cobra.Command{
		Use:   "capture (--pcap FILE... | --iface IF) (--brokers B | --dry-run)",
		Short: "Capture live or decode capture files and produce packet summaries to Kafka",
		Long: `capture reads pcap and pcapng files (Ethernet, Linux cooked, raw IP, BSD loopback),
or captures live from a network interface (--iface: AF_PACKET with TPACKET_V3 rings,
no libpcap needed), decodes each packet into a summary (addresses, ports, protocol,
length, TCP flags, ICMP, ARP, DNS) and produces them batched per host to the packets
topic, with the capture time as record timestamp. Packets that cannot be decoded are
counted by reason. With --dry-run nothing is produced: it prints one JSON object of
counts. Several files are merged by packet time.

A live capture runs until SIGINT or SIGTERM, then produces everything it holds and
exits 0. Kernel drops (the ring was full) and queue drops are counted, logged every
--stats-interval and exported with --metrics-addr.`,
		Example: `  riptide capture --pcap monday.pcap --brokers 127.0.0.1:9092
  riptide capture --pcap a.pcap --pcap b.pcapng --speed realtime --brokers kafka:9092
  riptide capture --pcap suspicious.pcap --dry-run
  # live demo: replay a capture forever as if it happened now
  riptide capture --pcap office.pcap --loop 0 --rebase-time --speed realtime --brokers kafka:9092
  # live: two sockets in a fanout group, only TCP (filter compiled by tcpdump)
  riptide capture --iface eth1 --fanout 2 --bpf "$(tcpdump -i eth1 -ddd tcp)" --brokers kafka:9092
` + metricsExample + `  riptide capture --pcap monday.pcap --brokers kafka:9092 --speed realtime --metrics-addr :9400`,
		RunE: func(cmd *cobra.Command, args []string) error {
			log, err := g.logger(os.Stderr)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			if live.iface != "" {
				if len(captureFiles(args, pcaps)) > 0 || dryRun {
					return usagef("--iface captures live: it takes no --pcap files and no --dry-run")
				}
				for _, f := range []string{"speed", "loop", "rebase-time", "reorder"} {
					if cmd.Flags().Changed(f) {
						return usagef("--%s is for replaying --pcap files, not for --iface", f)
					}
				}
				return liveCapture(ctx, g, &live, interval, &mf, log)
			}
			for _, f := range []string{"bpf", "fanout", "promisc", "queue", "overflow", "stats-interval"} {
				if cmd.Flags().Changed(f) {
					return usagef("--%s is for live capture: it needs --iface", f)
				}
			}
			files, err := requireCaptureFiles(args, pcaps)
			if err != nil {
				return err
			}
			sp, err := producers.ParseSpeed(speed)
			if err != nil {
				return usageError{err}
			}
			if loops < 0 {
				return usagef("--loop %d: use 0 (forever) or a positive count", loops)
			}
			mo := producers.MergeOptions{Loops: loops}
			if loops == 0 {
				mo.Loops = producers.Forever
			}
			if rebase {
				mo.RebaseTo = time.Now()
			}
			src, err := producers.MergeFiles(files, mo, log)
			if err != nil {
				return err
			}
			defer func() { _ = src.Close() }()
			if dryRun {
				return dryRunCapture(ctx, src)
			}
			ordered := producers.Reorder(src, reorder, maxReorderHeld)
			top, kc, err := g.cluster()
			if err != nil {
				return err
			}
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
			m.SetReady(true, "")
			def := window.DefaultConfig()
			p, err := producers.New(cl, producers.Config{Topic: top.Packets.Name, Partitions: parts, Interval: interval, Speed: sp, FinalWatermark: def.Size + def.Grace, Metrics: m})
			if err != nil {
				return err
			}
			start := time.Now()
			prog := newProgress("capture", 0)
			err = producers.Replay(ctx, ordered, p, sp, prog.packets)
			cerr := p.Close(context.WithoutCancel(ctx))
			prog.done()
			// An interrupted replay did not finish (exit 1), except an endless
			// loop, which only a signal stops.
			stopped := loops == 0 && errors.Is(err, context.Canceled) && ctx.Err() != nil
			if err != nil && !stopped {
				return err
			}
			if cerr != nil {
				return cerr
			}
			st := p.Stats()
			el := time.Since(start)
			out := map[string]any{"produced": st, "decode": src.Stats(), "elapsed_s": el.Seconds(),
				"packets_per_second": float64(st.Packets) / el.Seconds()}
			if len(src.FileErrors) > 0 {
				out["file_errors"] = src.FileErrors
			}
			return json.NewEncoder(os.Stdout).Encode(out)
		},
	}
	cmd.Flags().StringSliceVar(&pcaps, "pcap", nil, "capture file (pcap or pcapng); repeat or comma-separate for several")
	cmd.Flags().StringVar(&speed, "speed", "max", "replay pace: max, realtime, or a factor such as 10")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "decode only and print counts as JSON; produce nothing")
	cmd.Flags().DurationVar(&interval, "batch-interval", time.Second, "event-time span of one record per host")
	cmd.Flags().IntVar(&loops, "loop", 1, "read the files this many times, each pass later in event time than the last; 0 loops until SIGINT/SIGTERM (then exits 0)")
	cmd.Flags().BoolVar(&rebase, "rebase-time", false, "shift packet times so that the first packet is now (live demos; use with --speed realtime)")
	registerReorder(cmd.Flags(), &reorder)
	mf.register(cmd.Flags())
	live.register(cmd.Flags())
	return cmd
}

func dryRunCapture(ctx context.Context, src *producers.Merged) error {
	var s packet.Summary
	for {
		if err := src.Next(&s); err != nil {
			break
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	out := struct {
		packet.Stats
		FileErrors []string `json:"file_errors,omitempty"`
	}{src.Stats(), src.FileErrors}
	return json.NewEncoder(os.Stdout).Encode(out)
}

func newRunCmd(g *globals) *cobra.Command {
	var groups string
	var wf windowFlags
	var nu float64
	var idle time.Duration
	var mf metricsFlag
	var rf retrainFlags
	cmd := &cobra.Command{
		Use:   "run --brokers B [--groups windower,trainer,detector]",
		Short: "Run riptide's processors as Kafka consumer groups",
		Long: `run starts the selected consumer groups and keeps them running: each is supervised
and rebuilt with back-off when it fails, and all stop gracefully on SIGINT/SIGTERM.
Start as many run processes as you like: members of the same group share the
partitions. State lives in compacted Kafka tables and is rebuilt on start.`,
		Example: `  riptide run --brokers 127.0.0.1:9092
  riptide run --brokers kafka:9092 --groups windower --window 10s --grace 2s
  riptide run --brokers kafka:9092 --groups trainer,detector --learn 30m
` + metricsExample + `  riptide run --brokers kafka:9092 --metrics-addr :9400`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := g.logger(os.Stderr)
			if err != nil {
				return err
			}
			top, kc, err := g.cluster()
			if err != nil {
				return err
			}
			gs, err := pipeline.ParseGroups(groups)
			if err != nil {
				return usageError{err}
			}
			wc, err := wf.window()
			if err != nil {
				return err
			}
			tc := trainer.DefaultConfig()
			tc.Learn = wf.learn
			tc.Train.Nu = nu
			if err := rf.apply(&tc); err != nil {
				return err
			}
			if idle == 0 {
				idle = -1 // the flag's 0 disables the flush
			}
			m, stopMetrics, err := mf.start(cmd.Context(), log)
			if err != nil {
				return err
			}
			defer stopMetrics()
			parts, err := packetPartitions(cmd.Context(), kc, top.Packets.Name)
			if err != nil {
				return err
			}
			p, err := pipeline.New(top, pipeline.Config{Kafka: kc, Window: wc, Trainer: tc, Groups: gs, Partitions: parts, IdleFlush: idle, Metrics: m}, log)
			if err != nil {
				return err
			}
			log.Info("starting processors", "groups", groups, "brokers", g.brokers)
			return p.Run(cmd.Context(), func() { log.Info("all processors ready") })
		},
	}
	cmd.Flags().StringVar(&groups, "groups", "windower,trainer,detector", "groups to run in this process")
	wf.register(cmd.Flags())
	cmd.Flags().Float64Var(&nu, "nu", trainer.DefaultConfig().Train.Nu, "one-class SVM nu (upper bound on training outliers)")
	rf.register(cmd.Flags())
	mf.register(cmd.Flags())
	cmd.Flags().DurationVar(&idle, "idle-flush", windower.DefaultIdleFlush, "close a partition's open windows after this long without any record (producers stopped); 0 disables")
	return cmd
}

// packetPartitions asks the cluster how many partitions the packets topic has.
func packetPartitions(ctx context.Context, kc kclient.Config, topic string) (int32, error) {
	cl, err := kclient.NewClient(kc)
	if err != nil {
		return 0, err
	}
	defer cl.Close()
	if err := kclient.Ping(ctx, cl, kc.Brokers); err != nil {
		return 0, err
	}
	n, err := kclient.PartitionCount(ctx, cl, topic)
	return int32(n), err
}

// packetsClient connects the client a packets producer writes with (bounded
// buffering; readiness follows the broker connections when m is set) and
// returns it with the partition count of the packets topic.
func packetsClient(ctx context.Context, kc kclient.Config, m *ops.Metrics, topic string) (*kgo.Client, int, error) {
	opts := []kgo.Opt{kgo.MaxBufferedBytes(maxBufferedBytes)}
	if m != nil {
		opts = append(opts, kgo.WithHooks(connReadiness{m}))
	}
	cl, err := kclient.NewClient(kc, opts...)
	if err != nil {
		return nil, 0, err
	}
	if err := kclient.Ping(ctx, cl, kc.Brokers); err != nil {
		cl.Close()
		return nil, 0, err
	}
	parts, err := kclient.PartitionCount(ctx, cl, topic)
	if err != nil {
		cl.Close()
		return nil, 0, err
	}
	return cl, parts, nil
}
