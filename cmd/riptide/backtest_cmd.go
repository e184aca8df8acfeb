package main

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"time"

	"github.com/spf13/cobra"

	"github.com/riptide-nids/riptide/backtest"
	"github.com/riptide-nids/riptide/codecs"
	"github.com/riptide-nids/riptide/producers"
)

type backtestReport struct {
	Files            []string          `json:"files"`
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
	ElapsedSeconds   float64           `json:"elapsed_seconds"`
	PacketsPerSecond float64           `json:"packets_per_second"`
	AnomalyList      []*codecs.Anomaly `json:"-"`
}

func newBacktestCmd(g *globals) *cobra.Command {
	var pcaps []string
	var labelsPath, reportPath, anomaliesPath string
	var wf windowFlags
	var asJSON bool
	var reorder time.Duration
	cmd := &cobra.Command{
		Use:   "backtest --pcap FILE... --labels CSV",
		Short: "Score the detector on a capture against labelled attacks",
		Long: `backtest runs the same windowing, learning and detection code as the pipeline over
capture files (without Kafka) and scores the anomalies against labels: precision,
recall and F1 over (host, window) pairs, per-attack detection and time to detect,
confusion counts and packets per second.

Labels are CSV with the header host,start,end,attack,role (RFC 3339 times; role is
attacker, victim or participant; participants' windows count neither way).`,
		Example: `  riptide backtest --pcap ../shared/datasets/bench/dev-mixed.pcap \
      --labels ../shared/datasets/bench/dev-mixed.labels.csv
  riptide backtest --pcap day.pcap --labels day.csv --learn 30m --report out.json --anomalies out.jsonl`,
		RunE: func(cmd *cobra.Command, args []string) error {
			log, err := g.logger(os.Stderr)
			if err != nil {
				return err
			}
			files, err := requireCaptureFiles(args, pcaps)
			if err != nil {
				return err
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
			}
			src, err := producers.OpenFiles(files, log)
			if err != nil {
				return err
			}
			cfg := backtest.DefaultConfig()
			cfg.Window, cfg.Learn = wc, wf.learn
			prog := newProgress("backtest", 0)
			res, err := backtest.Run(cmd.Context(), producers.Reorder(src, reorder, maxReorderHeld), cfg, nil, prog.packets)
			prog.done()
			if err != nil {
				return err
			}
			rep := backtestReport{
				Files: files, Packets: res.Packets, Decode: src.Stats(), Windows: res.Windows,
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
			printBacktest(&rep)
			return nil
		},
	}
	cmd.Flags().StringSliceVar(&pcaps, "pcap", nil, "capture files, in time order")
	cmd.Flags().StringVar(&labelsPath, "labels", "", "labels CSV (host,start,end,attack,role)")
	cmd.Flags().StringVar(&reportPath, "report", "", "also write the report as JSON to this file")
	cmd.Flags().StringVar(&anomaliesPath, "anomalies", "", "write the anomalies as JSON lines to this file")
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
	fmt.Printf("\nprecision %.3f   recall %.3f   F1 %.3f\n", s.Precision, s.Recall, s.F1)
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
