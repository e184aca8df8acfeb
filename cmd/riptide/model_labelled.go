package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/riptide-nids/riptide/detect"
)

// labelledFlags are the flags of `model fit` and `model eval` for labelled
// tables.
type labelledFlags struct {
	label      string
	normal     string
	columns    string
	ignore     []string
	supervised bool
	novelty    bool
	scorer     string
	seed       uint64
}

// active reports whether any labelled-data flag was given to fit.
func (f *labelledFlags) active(cmd *cobra.Command) bool {
	for _, n := range []string{"label-column", "supervised", "columns", "ignore", "scorer", "novelty"} {
		if cmd.Flags().Changed(n) {
			return true
		}
	}
	return false
}

// readTable reads a labelled CSV, with the column names of --columns if
// given (one per line, as NSL-KDD's fields.txt).
func readTable(path, columnsPath string) (*detect.Table, error) {
	var names []string
	if columnsPath != "" {
		b, err := os.ReadFile(columnsPath)
		if err != nil {
			return nil, fmt.Errorf("model: --columns: %w", err)
		}
		for _, l := range strings.Split(string(b), "\n") {
			if l = strings.TrimSpace(l); l != "" {
				names = append(names, l)
			}
		}
		if len(names) == 0 {
			return nil, usagef("--columns %s names no column (one name per line)", columnsPath)
		}
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	defer func() { _ = f.Close() }() // read only
	t, err := detect.ReadTable(bufio.NewReaderSize(f, 1<<20), names)
	if err != nil {
		return nil, fmt.Errorf("model: %s: %w", path, err)
	}
	return t, nil
}

// fitLabelled is `model fit` with --label-column.
func fitLabelled(csvPath, out string, lf *labelledFlags) error {
	t, err := readTable(csvPath, lf.columns)
	if err != nil {
		return err
	}
	label := lf.label
	if label == "" && t.Layout == "nsl-kdd" {
		label = "class"
	}
	if label == "" {
		return usagef("give --label-column: the column that says normal or attack (columns: %s)", strings.Join(t.Columns, ", "))
	}
	if t.Index(label) < 0 {
		return usagef("--label-column %q is not a column of %s (columns: %s)", label, csvPath, strings.Join(t.Columns, ", "))
	}
	ignore := lf.ignore
	if len(ignore) == 0 && t.Layout != "header" && t.Index("difficulty") >= 0 && label != "difficulty" {
		ignore = []string{"difficulty"} // NSL-KDD's difficulty level is not a feature
	}
	cfg := detect.DefaultTabularConfig()
	cfg.Supervised, cfg.Novelty, cfg.Scorer, cfg.Seed = lf.supervised, lf.novelty, lf.scorer, lf.seed
	if err := cfg.Validate(); err != nil {
		return usageError{err}
	}
	start := time.Now()
	m, err := detect.FitTabular(t, filepath.Base(csvPath), label, lf.normal, ignore, cfg)
	if err != nil {
		return fmt.Errorf("model fit: %w", err)
	}
	m.CodeVersion = "riptide " + version
	f, err := os.Create(out)
	if err != nil {
		return fmt.Errorf("model fit: %w", err)
	}
	if err := detect.WriteTabularModel(f, m); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("model fit: %w", err)
	}
	fmt.Fprintf(os.Stderr, "model: %s, %d rows (%d normal), layout %s, %d features, schema %s, trained in %v -> %s\n",
		m.Mode, m.TrainRows, m.TrainNormal, t.Layout, m.Encoding.Dim(), m.SchemaID, time.Since(start).Round(time.Millisecond), out)
	for _, c := range m.Selection {
		switch {
		case c.Chosen && c.Lambda > 0:
			fmt.Fprintf(os.Stderr, "model: supervised: chose gamma %.4g lambda %g (%d-fold accuracy %.4f)\n", c.Gamma, c.Lambda, cfg.Folds, c.ValAccuracy)
		case c.Chosen:
			fmt.Fprintf(os.Stderr, "model: one-class: chose %s nu %g gamma %.4g (validation ROC AUC %.4f, F1 %.4f)\n", c.Scorer, c.Nu, c.Gamma, c.ValROCAUC, c.ValF1)
		}
	}
	if m.OneClass != nil {
		fmt.Fprintf(os.Stderr, "model: threshold: %s\n", m.ThresholdMethod)
	}
	return nil
}

// evalReport is the JSON written by `model eval --report`.
type evalReport struct {
	Model    string                    `json:"model"`
	Data     string                    `json:"data"`
	Mode     string                    `json:"mode"`
	SchemaID string                    `json:"schema_id"`
	Rows     int                       `json:"rows"`
	Attacks  int                       `json:"attacks"`
	Unseen   int                       `json:"unseen_categories"`
	Decides  string                    `json:"decides"`
	Metrics  map[string]detect.Metrics `json:"metrics"`
	Order    []string                  `json:"scorers"`
}

func newModelEvalCmd() *cobra.Command {
	var modelPath, csvPath, report string
	lf := &labelledFlags{}
	cmd := &cobra.Command{
		Use:   "eval --model M --csv F [--label-column C --normal V] [--report OUT.json]",
		Short: "Score a labelled CSV with a model from `model fit --label-column` and print detection quality",
		Long: `eval scores every row of a labelled CSV (attack = positive) and prints precision, recall,
F1 and accuracy at the model's threshold, and ROC AUC and PR AUC (average precision) of
its scores. The first line is the model's decision; the exact one-class SVM, its random
Fourier feature challenger and the supervised SVM, when the model has them, are scored
side by side. The CSV must have the columns the model was trained on (by name, any
order); a model trained on another schema is refused. The label column and normal value
default to the model's.`,
		Example: `  riptide model eval --model kdd.json --csv ../shared/datasets/nsl-kdd/KDDTest+.txt
  riptide model eval --model m.json --csv test.csv --label-column label --normal benign --report eval.json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if modelPath == "" || csvPath == "" {
				return usagef("give both --model and --csv")
			}
			f, err := os.Open(modelPath)
			if err != nil {
				return fmt.Errorf("model eval: %w", err)
			}
			m, err := detect.ReadTabularModel(f)
			_ = f.Close()
			if err != nil {
				return fmt.Errorf("model eval: %s: %w", modelPath, err)
			}
			t, err := readTable(csvPath, lf.columns)
			if err != nil {
				return err
			}
			enc := *m.Encoding
			if lf.label != "" {
				enc.Label = lf.label
			}
			if cmd.Flags().Changed("normal") {
				enc.Normal = lf.normal
			}
			data, err := enc.Encode(t)
			if err != nil {
				return fmt.Errorf("model eval: %s: %w", csvPath, err)
			}
			r := evalReport{Model: modelPath, Data: csvPath, Mode: m.Mode, SchemaID: m.SchemaID, Rows: len(data.X), Unseen: data.Unseen, Metrics: map[string]detect.Metrics{}}
			for _, a := range data.Attack {
				if a {
					r.Attacks++
				}
			}
			if r.Attacks == 0 || r.Attacks == r.Rows {
				return fmt.Errorf("model eval: %s: %d of %d rows are attacks (label %q, normal %q): need both classes (check --label-column and --normal)", csvPath, r.Attacks, r.Rows, enc.Label, enc.Normal)
			}
			type scorer struct {
				name  string
				score func([]float64) float64
			}
			scorers := []scorer{{"model", m.Score}}
			if oc := m.OneClass; oc != nil {
				r.Decides = "one-class " + oc.Use
				scorers = append(scorers, scorer{"one-class exact", func(x []float64) float64 { return oc.ScoreExact(x) - oc.Threshold }})
				if oc.RFF != nil {
					scorers = append(scorers, scorer{"one-class rff", func(x []float64) float64 { return oc.ScoreRFF(x) - oc.ThresholdRFF }})
				}
			}
			if s := m.Supervised; s != nil {
				if m.OneClass != nil {
					r.Decides = "supervised svm or one-class " + m.OneClass.Use
				} else {
					r.Decides = "supervised svm"
				}
				scorers = append(scorers, scorer{"supervised svm", s.Score})
			}
			scores := make([]float64, len(data.X))
			for _, sc := range scorers {
				for i, x := range data.X {
					scores[i] = sc.score(x)
				}
				r.Metrics[sc.name] = detect.Evaluate(scores, data.Attack, 0)
				r.Order = append(r.Order, sc.name)
			}
			if err := printEval(os.Stdout, &r); err != nil {
				return fmt.Errorf("model eval: %w", err)
			}
			if report != "" {
				b, err := json.MarshalIndent(&r, "", " ")
				if err != nil {
					return fmt.Errorf("model eval: %w", err)
				}
				if err := os.WriteFile(report, append(b, '\n'), 0o644); err != nil {
					return fmt.Errorf("model eval: %w", err)
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&modelPath, "model", "", "model file from `riptide model fit --label-column`")
	cmd.Flags().StringVar(&csvPath, "csv", "", "labelled rows to score (header row, --columns, or NSL-KDD's layout)")
	cmd.Flags().StringVar(&lf.label, "label-column", "", "label column (default: the model's)")
	cmd.Flags().StringVar(&lf.normal, "normal", "", "label value of normal rows (default: the model's)")
	cmd.Flags().StringVar(&lf.columns, "columns", "", "file naming the columns of a CSV without header, one per line")
	cmd.Flags().StringVar(&report, "report", "", "also write the metrics as JSON here")
	return cmd
}

func printEval(w io.Writer, r *evalReport) error {
	head := fmt.Sprintf("%s: %d rows, %d attacks (positive), %d normal; model %s (%s), decided by %s\n",
		r.Data, r.Rows, r.Attacks, r.Rows-r.Attacks, r.Mode, r.SchemaID, r.Decides)
	if r.Unseen > 0 {
		head += fmt.Sprintf("%d categorical values not seen in training (encoded as none)\n", r.Unseen)
	}
	var b strings.Builder
	b.WriteString(head)
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	lines := []string{"scorer\tprecision\trecall\tF1\taccuracy\tROC AUC\tPR AUC\tTP\tFP\tTN\tFN\t\n"}
	for _, name := range r.Order {
		m := r.Metrics[name]
		lines = append(lines, fmt.Sprintf("%s\t%.4f\t%.4f\t%.4f\t%.4f\t%.4f\t%.4f\t%d\t%d\t%d\t%d\t\n",
			name, m.Precision, m.Recall, m.F1, m.Accuracy, m.ROCAUC, m.PRAUC, m.TP, m.FP, m.TN, m.FN))
	}
	if _, err := io.WriteString(tw, strings.Join(lines, "")); err != nil {
		return err
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := io.WriteString(w, b.String())
	return err
}
