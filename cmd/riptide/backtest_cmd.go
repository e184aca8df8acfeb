package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"time"

	"github.com/spf13/cobra"

	"github.com/riptide-nids/riptide/backtest"
	"github.com/riptide-nids/riptide/backtest/charts"
	"github.com/riptide-nids/riptide/codecs"
	"github.com/riptide-nids/riptide/producers"
	"github.com/riptide-nids/riptide/replay"
)

type backtestReport struct {
	Files            []string          `json:"files,omitempty"`
	From             time.Time         `json:"from,omitzero"`
	To               time.Time         `json:"to,omitzero"`
	Packets          int64             `json:"packets"`
	Decode           any               `json:"decode"`
	Windows          int64             `json:"windows"`
	LearningWindows  int64             `json:"learning_windows"`
	ScoredWindows    int               `json:"scored_windows"`
	LatePackets      int64             `json:"late_packets"`
	LearnStart       time.Time         `json:"learn_start"`
	LearnEnd         time.Time         `json:"learn_end"`
	TrainWindows     int               `json:"train_windows"`
	TrainSeconds     float64           `json:"train_seconds"`
	SupportVectors   int               `json:"support_vectors"`
	Threshold        float64           `json:"threshold"`
	Anomalies        int               `json:"anomalies"`
	Score            *backtest.Score   `json:"score,omitempty"`
	AveragePrecision float64           `json:"average_precision,omitempty"`
	ElapsedSeconds   float64           `json:"elapsed_seconds"`
	PacketsPerSecond float64           `json:"packets_per_second"`
	AnomalyList      []*codecs.Anomaly `json:"-"`
}

func newBacktestCmd(g *globals) *cobra.Command {
	var pcaps []string
	var labelsPath, reportPath, anomaliesPath, plotDir string
	var topic, from, to string
	var wf windowFlags
	var asJSON bool
	var reorder time.Duration
	cmd := &cobra.Command{
		Use:   "backtest (--pcap FILE... | --brokers B --topic T [--from T1] [--to T2]) --labels CSV",
		Short: "Score the detector on a capture or a packets topic against labelled attacks",
		Long: `backtest runs the same windowing, learning and detection code as the pipeline over
capture files (without Kafka) and scores the anomalies against labels: precision,
recall and F1 over (host, window) pairs, per-attack detection and time to detect,
confusion counts and packets per second.

With --topic it reads the packets instead from a packets topic that riptide capture
wrote (riptide.packets under the default prefix), limited to the packets whose time
is in [--from, --to) (RFC 3339 times or unix milliseconds; without them, the whole
topic as it is when the command starts). It reads the partitions directly, with no
consumer group, and writes nothing to the cluster: the live pipeline's state and
offsets are untouched, and the backtest starts from fresh state of its own, as
with capture files. The same traffic gives the same report either way (except
the packet count: packets with no host endpoint, such as DHCP discovers, are
never written to the topic). Records that are not packet batches are counted
and skipped.

Labels are CSV with the header host,start,end,attack,role (RFC 3339 times; role is
attacker, victim or participant; participants' windows count neither way).`,
		Example: `  riptide backtest --pcap ../shared/datasets/bench/dev-mixed.pcap \
      --labels ../shared/datasets/bench/dev-mixed.labels.csv
  riptide backtest --pcap day.pcap --labels day.csv --learn 30m --report out.json --anomalies out.jsonl
  riptide backtest --pcap bench.pcap --labels bench.labels.csv --plot plots/   # PNGs: pr.png, timeline-<host>.png

  # the same capture, written to Kafka by riptide capture
  riptide backtest --brokers 127.0.0.1:9092 --topic riptide.packets \
      --labels ../shared/datasets/bench/dev-mixed.labels.csv
  riptide backtest --brokers kafka:9092 --topic riptide.packets \
      --from 2026-03-02T09:00:00Z --to 2026-03-02T10:00:00Z --learn 15m --json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			log, err := g.logger(os.Stderr)
			if err != nil {
				return err
			}
			fromTopic := topic != ""
			switch {
			case fromTopic && len(captureFiles(args, pcaps)) > 0:
				return usagef("--pcap and --topic are mutually exclusive: backtest capture files or a packets topic")
			case !fromTopic && (from != "" || to != ""):
				return usagef("--from and --to select a time range of --topic; with --pcap, give the capture files of that range")
			case fromTopic && reorder <= 0:
				return usagef("--reorder %v with --topic: a topic's records are out of time order by up to a batch interval (1 s by default); keep --reorder above that", reorder)
			}
			var files []string
			var rng timeRange
			if fromTopic {
				if rng, err = parseRange(from, to); err != nil {
					return err
				}
			} else {
				if files, err = requireCaptureFiles(args, pcaps); err != nil {
					return err
				}
			}
			wc, err := wf.window()
			if err != nil {
				return err
			}
			var labels []backtest.Label
			if labelsPath != "" {
				if labels, err = backtest.ReadLabelsFile(labelsPath); err != nil {
					return err
				}
				if fromTopic {
					var dropped int
					if labels, dropped = labelsInRange(labels, rng); dropped > 0 {
						log.Info("backtest: labels outside --from/--to not evaluated", "dropped", dropped, "kept", len(labels))
					}
				}
			}
			var src backtest.Source
			var decodeStats func() any
			var topicSrc *replay.Source
			if fromTopic {
				if topicSrc, err = openTopic(cmd.Context(), g, log, topic, rng); err != nil {
					return err
				}
				defer topicSrc.Close()
				src, decodeStats = topicSrc, func() any { return topicSrc.Stats() }
			} else {
				fsrc, err := producers.OpenFiles(files, log)
				if err != nil {
					return err
				}
				src, decodeStats = fsrc, func() any { return fsrc.Stats() }
			}
			cfg := backtest.DefaultConfig()
			cfg.Window, cfg.Learn = wc, wf.learn
			prog := newProgress("backtest", 0)
			res, err := backtest.Run(cmd.Context(), producers.Reorder(src, reorder, maxReorderHeld), cfg, nil, prog.packets)
			prog.done()
			if topicSrc != nil && (err == nil || errors.Is(err, backtest.ErrNoModel)) {
				if st := topicSrc.Stats(); st.Packets == 0 {
					return emptyTopicRange(st, rng)
				}
				if err != nil {
					return fmt.Errorf("backtest: %s [%s, %s) ends before the learning period does (use a wider range or a shorter --learn)",
						topic, fmtBound(rng.from, "start"), fmtBound(rng.to, "end"))
				}
			}
			if err != nil {
				return err
			}
			rep := backtestReport{
				Files: files, From: rng.from, To: rng.to, Packets: res.Packets, Decode: decodeStats(), Windows: res.Windows,
				LearningWindows: res.Learning, ScoredWindows: len(res.Scored), LatePackets: res.Late,
				LearnStart: time.Unix(0, res.LearnStart).UTC(), LearnEnd: time.Unix(0, res.LearnEnd).UTC(),
				TrainWindows: res.TrainSamples, TrainSeconds: res.TrainTime.Seconds(),
				SupportVectors: len(res.Model.SV), Threshold: res.Model.Threshold,
				Anomalies: len(res.Anomalies), ElapsedSeconds: res.Elapsed.Seconds(),
				PacketsPerSecond: float64(res.Packets) / res.Elapsed.Seconds(), AnomalyList: res.Anomalies,
			}
			if labels != nil {
				span := time.Duration(0)
				if n := len(res.Scored); n > 0 {
					span = time.Duration(res.Scored[n-1].End - res.LearnEnd)
				}
				sc := backtest.Evaluate(labels, res.Flags(), wc.Size, res.Negatives(labels), span.Hours())
				rep.Score = &sc
				rep.AveragePrecision = backtest.PRCurve(labels, res.Scored, wc.Size).AveragePrecision
			}
			if plotDir != "" {
				paths, err := charts.Write(plotDir, res, labels, wc.Size)
				if err != nil {
					return err
				}
				fmt.Fprintf(os.Stderr, "backtest: wrote %d plots to %s (pr.png, timeline-<host>.png)\n", len(paths), plotDir)
			}
			if anomaliesPath != "" {
				if err := writeAnomalies(anomaliesPath, res.Anomalies); err != nil {
					return err
				}
			}
			if reportPath != "" {
				b, _ := json.MarshalIndent(rep, "", "  ")
				if err := os.WriteFile(reportPath, append(b, '\n'), 0o644); err != nil {
					return fmt.Errorf("backtest: write report: %w", err)
				}
			}
			if asJSON {
				return json.NewEncoder(os.Stdout).Encode(rep)
			}
			if topicSrc != nil {
				printTopicSource(topicSrc.Stats(), rng)
			}
			printBacktest(&rep)
			return nil
		},
	}
	cmd.Flags().StringSliceVar(&pcaps, "pcap", nil, "capture files, in time order")
	cmd.Flags().StringVar(&topic, "topic", "", "read the packets from this packets topic instead of capture files (e.g. riptide.packets; needs --brokers)")
	cmd.Flags().StringVar(&from, "from", "", "with --topic: first packet time to read, RFC 3339 or unix milliseconds (default: the start of the topic)")
	cmd.Flags().StringVar(&to, "to", "", "with --topic: read packets before this time, RFC 3339 or unix milliseconds (default: the end of the topic when the command starts)")
	cmd.Flags().StringVar(&labelsPath, "labels", "", "labels CSV (host,start,end,attack,role)")
	cmd.Flags().StringVar(&reportPath, "report", "", "also write the report as JSON to this file")
	cmd.Flags().StringVar(&anomaliesPath, "anomalies", "", "write the anomalies as JSON lines to this file")
	cmd.Flags().StringVar(&plotDir, "plot", "", "write PNG plots into this directory: the precision-recall curve (pr.png, needs --labels) and a score timeline per flagged host with its labelled attacks shaded")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON instead of a table")
	wf.register(cmd.Flags())
	registerReorder(cmd.Flags(), &reorder)
	return cmd
}

func writeAnomalies(path string, as []*codecs.Anomaly) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("backtest: %w", err)
	}
	enc := json.NewEncoder(f)
	for _, a := range as {
		if err := enc.Encode(a); err != nil {
			_ = f.Close()
			return fmt.Errorf("backtest: write anomalies: %w", err)
		}
	}
	return f.Close()
}

func printBacktest(r *backtestReport) {
	fmt.Printf("packets           %d (%.0f packets/s, %.1f s)\n", r.Packets, r.PacketsPerSecond, r.ElapsedSeconds)
	fmt.Printf("windows           %d (%d learning, %d scored, %d late packets)\n", r.Windows, r.LearningWindows, r.ScoredWindows, r.LatePackets)
	fmt.Printf("learning          %s to %s, trained on %d windows in %.1f s, %d support vectors\n",
		r.LearnStart.Format(time.RFC3339), r.LearnEnd.Format(time.RFC3339), r.TrainWindows, r.TrainSeconds, r.SupportVectors)
	fmt.Printf("anomalies         %d\n", r.Anomalies)
	if r.Score == nil {
		return
	}
	s := r.Score
	fmt.Printf("\nprecision %.3f   recall %.3f   F1 %.3f   (PR AUC over all thresholds %.3f)\n", s.Precision, s.Recall, s.F1, r.AveragePrecision)
	fmt.Printf("windows: %d true positive, %d false positive, %d neutral, %d false negative, %d true negative; %.1f false positives/hour\n",
		s.TruePositives, s.FalsePositives, s.Neutral, s.FalseNegatives, s.TrueNegatives, s.FPPerHour)
	fmt.Printf("attacks detected: %d of %d, median time to detect %.1f s\n\n", s.AttacksDetected, len(s.Attacks), s.MedianTTD)
	names := make([]string, 0, len(s.Attacks))
	for n := range s.Attacks {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Printf("%-24s %-9s %-16s %s\n", "ATTACK", "DETECTED", "TIME TO DETECT", "FLAGGED WINDOWS")
	for _, n := range names {
		a := s.Attacks[n]
		ttd := "-"
		if a.Detected {
			ttd = fmt.Sprintf("%.1f s", a.TimeToDetect)
		}
		fmt.Printf("%-24s %-9v %-16s %d\n", n, a.Detected, ttd, a.FlaggedWindows)
	}
}
