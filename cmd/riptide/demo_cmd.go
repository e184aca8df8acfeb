package main

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/riptide-nids/riptide/codecs"
	"github.com/riptide-nids/riptide/demo"
	"github.com/riptide-nids/riptide/loadtest"
	"github.com/riptide-nids/riptide/producers"
)

func newDemoCmd(g *globals) *cobra.Command {
	var pcaps []string
	var wf windowFlags
	var duration time.Duration
	var asJSON bool
	var partitions int32
	var hosts int
	var reorder time.Duration
	var mf metricsFlag
	cmd := &cobra.Command{
		Use:   "demo [--pcap FILE...]",
		Short: "Run the whole pipeline in one process on an embedded broker",
		Long: `demo starts an embedded Kafka broker, creates the topics, runs the windower, trainer
and detector, and replays traffic through them at full speed, printing anomalies as
they arrive on the anomalies topic.

Without --pcap it generates a small office's traffic (clients, servers, DNS, web),
learns for --learn of event time, then injects a port scan and an SSH brute force.
With --pcap it replays real captures, event time taken from the capture.

With --json, stdout carries one JSON anomaly per line and a final line
{"summary": {...}}; logs go to stderr.`,
		Example: `  riptide demo
  riptide demo --json | jq -c 'select(.host) | [.host, .window_start, .score]'
  riptide demo --pcap ../shared/datasets/bench/dev-mixed.pcap --json > anomalies.jsonl
` + metricsExample + `  riptide demo --metrics-addr 127.0.0.1:9400`,
		RunE: func(cmd *cobra.Command, args []string) error {
			log, err := g.logger(os.Stderr)
			if err != nil {
				return err
			}
			wc, err := wf.window()
			if err != nil {
				return err
			}
			files := captureFiles(args, pcaps)
			var src producers.Source
			var gen *loadtest.Generator
			if len(files) > 0 {
				f, err := producers.OpenFiles(files, log)
				if err != nil {
					return err
				}
				src = producers.Reorder(f, reorder, maxReorderHeld)
			} else {
				cfg := loadtest.DefaultConfig(wf.learn)
				// The demo shows a port scan and a brute force; the generator's
				// spoofed flood (thousands of one-off sources) is for tests.
				cfg.Attacks = slices.DeleteFunc(cfg.Attacks, func(a loadtest.Attack) bool { return a.Kind == loadtest.SYNFlood })
				if cmd.Flags().Changed("duration") {
					cfg.Duration = duration
				}
				if hosts > 0 {
					cfg.Hosts = hosts
				}
				gen, err = loadtest.New(cfg)
				if err != nil {
					return usageError{err}
				}
				src = loadtest.Source(gen)
				if !asJSON {
					fmt.Printf("riptide demo: %d hosts, learning for %v of event time, then attacks:\n", cfg.Hosts, wf.learn)
					for _, a := range cfg.Attacks {
						fmt.Printf("  %-14s %s -> %s at +%v for %v\n", a.Kind, a.Attacker, a.Victim, a.Start.Sub(cfg.Start), a.Duration)
					}
					fmt.Println()
				}
			}
			m, stopMetrics, err := mf.start(cmd.Context(), log)
			if err != nil {
				return err
			}
			defer stopMetrics()
			var mu sync.Mutex
			prog := newProgress("demo", 0)
			opts := demo.Options{
				Source: src, Window: wc, Learn: wf.learn, Partitions: partitions, Prefix: g.prefix, Log: log, Metrics: m,
				OnProduced: prog.packets,
				OnAnomaly: func(a *codecs.Anomaly, raw []byte) {
					mu.Lock()
					defer mu.Unlock()
					prog.done()
					printAnomaly(a, raw, asJSON)
				},
			}
			if b := g.brokers; b != "" {
				kc, err := g.kafka()
				if err != nil {
					return err
				}
				opts.Brokers, opts.Security = kc.Brokers, kc.Security
			}
			if !asJSON {
				fmt.Println("starting the embedded broker and processors...")
			}
			sum, err := demo.Run(cmd.Context(), opts)
			prog.done()
			if err != nil {
				return err
			}
			if asJSON {
				return json.NewEncoder(os.Stdout).Encode(map[string]any{"summary": sum})
			}
			fmt.Printf("\n%d packets, %d windows, %d anomalies in %.1f s (%.0f packets/s end to end; startup %.1f s)\n",
				sum.Packets, sum.Windows, sum.Anomalies, sum.ElapsedSeconds, sum.PacketsPerSecond, sum.StartupSeconds)
			if !sum.ModelTrained {
				fmt.Println("no model was trained: the traffic ended before the learning period did (try a shorter --learn)")
			}
			return nil
		},
	}
	cmd.Flags().StringSliceVar(&pcaps, "pcap", nil, "replay these capture files instead of synthetic traffic")
	wf.register(cmd.Flags())
	cmd.Flags().DurationVar(&duration, "duration", 0, "event time of synthetic traffic (default: learning period + 6m)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "one JSON anomaly per line on stdout, then a summary line")
	cmd.Flags().Int32Var(&partitions, "partitions", 4, "partitions per topic")
	registerReorder(cmd.Flags(), &reorder)
	cmd.Flags().IntVar(&hosts, "hosts", 0, "number of synthetic client hosts (default from the generator)")
	mf.register(cmd.Flags())
	return cmd
}
