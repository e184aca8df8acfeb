package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/riptide-nids/riptide/detect"
)

func newModelCmd(_ *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "model",
		Short: "Fit and score one-class SVM models on your own feature data (CSV)",
		Long: `model exposes riptide's one-class SVM (the same code the detector runs) to feature
data of your own: a CSV file with a header row and one numeric column per feature.`,
	}
	var csvPath, out, gamma, scale string
	var nu float64
	var log1p, calibrate bool
	lf := &labelledFlags{}
	fit := &cobra.Command{
		Use:   "fit --csv F [--label-column C --normal V [--supervised]] --out M",
		Short: "Train a model on the rows of a CSV file",
		Long: `fit trains a nu one-class SVM with an RBF kernel (solved as LIBSVM does) on every row
and writes the model as self-describing JSON. By default the model's own boundary is
its threshold (decision value < 0 is an anomaly, as in LIBSVM and scikit-learn);
--calibrate instead sets the threshold from out-of-sample scores at a 0.5% false
positive rate, as the detector does.

With --label-column, fit trains on a labelled table instead (see "Labelled data" in
README): one-class on the rows whose label is --normal, or, with --supervised, a
class-weighted linear SVM on random Fourier features of all rows (plus the one-class
detector for attacks it never saw, unless --novelty=false). Categorical columns are
one-hot encoded, non-negative counts log1p'd, columns standardised; nu, gamma, the
scorer (exact SVM or RFF) and the threshold are chosen on the training file alone
(held-out normal rows and its attack rows; k-fold for the supervised SVM). A CSV
without header needs --columns, except NSL-KDD's layout, which is recognised.`,
		Example: `  riptide model fit --csv normal.csv --out model.json
  riptide model fit --csv normal.csv --nu 0.01 --gamma scale --scale standard --log1p --out model.json
  riptide model fit --csv normal.csv --gamma 0.1 --scale none --out model.json
  riptide model fit --csv ../shared/datasets/nsl-kdd/KDDTrain+_20Percent.txt --label-column class --normal normal --out kdd.json
  riptide model fit --csv KDDTrain+_20Percent.txt --columns fields.txt --label-column class --supervised --out kdd-sup.json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if csvPath == "" || out == "" {
				return usagef("give both --csv and --out")
			}
			if lf.active(cmd) {
				return fitLabelled(csvPath, out, lf)
			}
			cfg := detect.DefaultTrainConfig()
			cfg.Nu, cfg.Log1p, cfg.Scale, cfg.MaxSamples = nu, log1p, scale, 0
			switch g := strings.ToLower(gamma); g {
			case "scale", "":
				cfg.Gamma = 0
			default:
				v, err := strconv.ParseFloat(g, 64)
				if err != nil || v <= 0 {
					return usagef("--gamma %q: use scale or a positive number", gamma)
				}
				cfg.Gamma = v
			}
			if err := cfg.Validate(); err != nil {
				return usageError{err}
			}
			names, X, err := readCSVFile(csvPath)
			if err != nil {
				return err
			}
			var m *detect.Model
			if calibrate {
				m, err = detect.Train(X, names, cfg)
			} else {
				m, err = detect.Fit(X, names, cfg)
			}
			if err != nil {
				return err
			}
			m.CodeVersion = "riptide " + version
			f, err := os.Create(out)
			if err != nil {
				return fmt.Errorf("model fit: %w", err)
			}
			if err := detect.WriteModel(f, m); err != nil {
				_ = f.Close()
				return err
			}
			if err := f.Close(); err != nil {
				return fmt.Errorf("model fit: %w", err)
			}
			fmt.Fprintf(os.Stderr, "model: %d rows, %d features, %d support vectors, gamma %.6g, rho %.6g, threshold %.6g -> %s\n",
				len(X), len(names), len(m.SV), m.Gamma, m.Rho, m.Threshold, out)
			return nil
		},
	}
	fit.Flags().StringVar(&csvPath, "csv", "", "training data: CSV with a header row")
	fit.Flags().StringVar(&out, "out", "", "write the model (JSON) here")
	fit.Flags().Float64Var(&nu, "nu", 0.02, "nu: upper bound on the fraction of training rows outside the boundary")
	fit.Flags().StringVar(&gamma, "gamma", "scale", "RBF gamma: a positive number or scale (1/(features x variance))")
	fit.Flags().StringVar(&scale, "scale", "standard", "feature scaling: standard or none")
	fit.Flags().BoolVar(&log1p, "log1p", false, "apply log1p to every value first (for counts)")
	fit.Flags().BoolVar(&calibrate, "calibrate", false, "set the threshold at a 0.5% out-of-sample false-positive rate")
	fit.Flags().StringVar(&lf.label, "label-column", "", "labelled data: the column saying normal or attack (default for NSL-KDD: class)")
	fit.Flags().StringVar(&lf.normal, "normal", "normal", "labelled data: label value of normal rows")
	fit.Flags().BoolVar(&lf.supervised, "supervised", false, "labelled data: learn attacks too (class-weighted SVM on random Fourier features)")
	fit.Flags().BoolVar(&lf.novelty, "novelty", true, "labelled data, --supervised: also flag what the one-class detector finds unlike normal rows")
	fit.Flags().StringVar(&lf.columns, "columns", "", "labelled data: file naming the columns of a CSV without header, one per line")
	fit.Flags().StringSliceVar(&lf.ignore, "ignore", nil, "labelled data: columns to leave out (default for NSL-KDD: difficulty)")
	fit.Flags().StringVar(&lf.scorer, "scorer", detect.ScorerAuto, "labelled data: one-class scorer exact, rff, or auto (rff when as good on validation)")
	fit.Flags().Uint64Var(&lf.seed, "seed", 1, "labelled data: seed of the hold-out split, random features and SGD")

	var modelPath, scorePath string
	var raw bool
	score := &cobra.Command{
		Use:   "score --model M --csv F",
		Short: "Print one decision value per CSV row (negative = anomaly)",
		Long: `score prints the decision value of every row, one per line, in row order: the LIBSVM
decision value minus the model's threshold, so a negative value is an anomaly either
way. The CSV must have the model's feature columns, by name, in any order.`,
		Example: `  riptide model score --model model.json --csv today.csv
  riptide model score --model model.json --csv today.csv | awk '$1 < 0' | wc -l`,
		Args: noArgs,
		RunE: func(_ *cobra.Command, _ []string) error {
			if modelPath == "" || scorePath == "" {
				return usagef("give both --model and --csv")
			}
			f, err := os.Open(modelPath)
			if err != nil {
				return fmt.Errorf("model score: %w", err)
			}
			m, err := detect.ReadModel(f)
			_ = f.Close()
			if err != nil {
				return err
			}
			names, X, err := readCSVFile(scorePath)
			if err != nil {
				return err
			}
			idx, err := columnOrder(m.FeatureNames, names)
			if err != nil {
				return err
			}
			w := bufio.NewWriter(os.Stdout)
			row := make([]float64, len(idx))
			for _, x := range X {
				for i, j := range idx {
					row[i] = x[j]
				}
				var v float64
				if m.TargetFPR > 0 && !raw {
					v = m.Score(row) - m.Threshold
				} else {
					v = m.Decision(row)
				}
				if _, err := fmt.Fprintln(w, strconv.FormatFloat(v, 'g', 10, 64)); err != nil {
					return fmt.Errorf("model score: %w", err)
				}
			}
			if err := w.Flush(); err != nil {
				return fmt.Errorf("model score: %w", err)
			}
			return nil
		},
	}
	score.Flags().StringVar(&modelPath, "model", "", "model file from `riptide model fit`")
	score.Flags().StringVar(&scorePath, "csv", "", "rows to score: CSV with a header row")
	score.Flags().BoolVar(&raw, "decision", false, "print the raw LIBSVM decision value even for calibrated models")
	cmd.AddCommand(fit, score, newModelEvalCmd())
	return cmd
}

func readCSVFile(path string) ([]string, [][]float64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("model: %w", err)
	}
	defer func() { _ = f.Close() }() // read only
	names, X, err := detect.ReadCSV(bufio.NewReaderSize(f, 1<<20))
	if err != nil {
		return nil, nil, fmt.Errorf("model: %s: %w", path, err)
	}
	return names, X, nil
}

// columnOrder maps the model's features to CSV columns by name.
func columnOrder(want, have []string) ([]int, error) {
	pos := map[string]int{}
	for i, n := range have {
		pos[n] = i
	}
	idx := make([]int, len(want))
	var missing []string
	for i, n := range want {
		j, ok := pos[n]
		if !ok {
			missing = append(missing, n)
		}
		idx[i] = j
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("model: the CSV lacks the model's columns %s: %w", strings.Join(missing, ", "), detect.ErrSchemaMismatch)
	}
	return idx, nil
}
