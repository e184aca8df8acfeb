package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/riptide-nids/riptide/detect"
	"github.com/riptide-nids/riptide/kclient"
	"github.com/riptide-nids/riptide/learning"
	"github.com/riptide-nids/riptide/models"
	"github.com/riptide-nids/riptide/processors/trainer"
	"github.com/riptide-nids/riptide/topology"
)

func newModelsCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "models (list | show [VERSION] | promote VERSION | rollback)",
		Short: "Inspect the trainer's model versions, promote one or roll back",
		Long: `models reads the trainer table (the champion model, every version with its
evaluation on the labelled windows) and changes the champion through the trainer:
promote and rollback write a command to the control topic, the trainer applies it to
its table and the detectors switch to the new champion without a restart. The
commands wait (--wait) until the table shows the change.

The trainer keeps the models of the newest former champions and rejected challengers
(--keep-models on riptide run, default 3); older versions are listed without a model
and cannot be promoted.`,
		Example: `  riptide models list --brokers kafka:9092
  riptide models show --brokers kafka:9092            # the champion
  riptide models show 3 --brokers kafka:9092 --out v3.json
  riptide models promote 4 --brokers kafka:9092
  riptide models rollback --brokers kafka:9092`,
		Args: noArgs,
	}
	var wait time.Duration
	var out string
	connect := func(ctx context.Context) (*topology.Topology, kclient.Config, *kgo.Client, error) {
		top, kc, err := g.cluster()
		if err != nil {
			return nil, kc, nil, err
		}
		cl, err := kclient.NewClient(kc)
		if err != nil {
			return nil, kc, nil, err
		}
		if err := kclient.Ping(ctx, cl, kc.Brokers); err != nil {
			cl.Close()
			return nil, kc, nil, err
		}
		return top, kc, cl, nil
	}
	list := &cobra.Command{
		Use:     "list",
		Short:   "List model versions, newest last",
		Example: `  riptide models list --brokers kafka:9092`,
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			top, kc, cl, err := connect(cmd.Context())
			if err != nil {
				return err
			}
			defer cl.Close()
			st, err := models.Read(cmd.Context(), kc, cl, top, trainer.DefaultModel)
			if err != nil {
				return err
			}
			printVersions(st)
			return nil
		},
	}
	show := &cobra.Command{
		Use:   "show [VERSION]",
		Short: "Show one version (default: the champion) as JSON",
		Example: `  riptide models show --brokers kafka:9092
  riptide models show 2 --brokers kafka:9092 --out v2.json   # the full model, for riptide model score`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return usagef("show takes at most one version")
			}
			top, kc, cl, err := connect(cmd.Context())
			if err != nil {
				return err
			}
			defer cl.Close()
			st, err := models.Read(cmd.Context(), kc, cl, top, trainer.DefaultModel)
			if err != nil {
				return err
			}
			v := st.Version
			if len(args) == 1 {
				if v, err = strconv.ParseUint(args[0], 10, 64); err != nil {
					return usagef("version %q: want a number from riptide models list", args[0])
				}
			}
			e, m := entry(st, v)
			if e == nil {
				return fmt.Errorf("models: no version %d (see riptide models list)", v)
			}
			if out != "" {
				if m == nil {
					return fmt.Errorf("models: the model of version %d was pruned; only its record is kept", v)
				}
				f, err := os.Create(out)
				if err != nil {
					return err
				}
				if err := detect.WriteModel(f, m); err != nil {
					_ = f.Close()
					return err
				}
				if err := f.Close(); err != nil {
					return err
				}
			}
			return printEntry(e, m, st)
		},
	}
	show.Flags().StringVar(&out, "out", "", "also write the full model JSON to this file")
	promote := &cobra.Command{
		Use:     "promote VERSION",
		Short:   "Make a kept version the champion",
		Example: `  riptide models promote 4 --brokers kafka:9092`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("promote needs one version (see riptide models list)")
			}
			v, err := strconv.ParseUint(args[0], 10, 64)
			if err != nil || v == 0 {
				return usagef("version %q: want a positive number from riptide models list", args[0])
			}
			return sendCommand(cmd.Context(), connect, trainer.Command{Command: trainer.CommandPromote, Version: v, By: currentUser()}, wait,
				func(st *trainer.State) bool { return st.Version == v })
		},
	}
	rollback := &cobra.Command{
		Use:     "rollback",
		Short:   "Make the newest former champion the champion again",
		Example: `  riptide models rollback --brokers kafka:9092`,
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return sendCommand(cmd.Context(), connect, trainer.Command{Command: trainer.CommandRollback, By: currentUser()}, wait, nil)
		},
	}
	for _, c := range []*cobra.Command{promote, rollback} {
		c.Flags().DurationVar(&wait, "wait", 30*time.Second, "wait this long for the trainer to apply the command; 0 does not wait")
	}
	cmd.AddCommand(list, show, promote, rollback)
	return cmd
}

type connectFunc func(context.Context) (*topology.Topology, kclient.Config, *kgo.Client, error)

func sendCommand(ctx context.Context, connect connectFunc, c trainer.Command, wait time.Duration, done func(*trainer.State) bool) error {
	top, kc, cl, err := connect(ctx)
	if err != nil {
		return err
	}
	defer cl.Close()
	before, err := models.Read(ctx, kc, cl, top, trainer.DefaultModel)
	if err != nil {
		return err
	}
	if done == nil { // rollback: any change of champion
		done = func(st *trainer.State) bool { return st.Version != before.Version }
	}
	if err := models.Send(ctx, cl, top, trainer.DefaultModel, c); err != nil {
		return err
	}
	if wait <= 0 {
		fmt.Printf("sent %s to the trainer\n", c.Command)
		return nil
	}
	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	st, err := models.Wait(wctx, kc, cl, top, trainer.DefaultModel, done)
	if err != nil {
		return fmt.Errorf("%w; the trainer refuses unknown or pruned versions (see the dead-letter topic and its log) and applies nothing while it is not running", err)
	}
	fmt.Printf("champion is now %s (was %s)\n", st.ModelVersion(), before.ModelVersion())
	return nil
}

// entry returns the history entry of version v and its model (the champion's
// is st.Model).
func entry(st *trainer.State, v uint64) (*trainer.Entry, *detect.Model) {
	for i := range st.History {
		if e := &st.History[i]; e.Version == v {
			if v == st.Version {
				return e, st.Model
			}
			return e, e.Model
		}
	}
	if v == st.Version && st.Model != nil { // a state from before versions were kept
		return &trainer.Entry{Version: v, Status: trainer.StatusChampion, CreatedAt: st.Model.CreatedAt, NTrain: st.Model.NTrain}, st.Model
	}
	return nil, nil
}

func measure(x float64) string {
	if x < 0 {
		return "-"
	}
	return fmt.Sprintf("%.3f", x)
}

func printVersions(st *trainer.State) {
	fmt.Printf("champion: %s; %d labelled windows\n", st.ModelVersion(), len(st.Labels))
	w := tabwriter.NewWriter(os.Stdout, 2, 4, 2, ' ', 0)
	_, _ = fmt.Fprintln(w, "VERSION\tSTATUS\tCREATED\tTRIGGER\tROWS\tPRECISION\tRECALL\tF1\tTP/FP/TN/FN\tMODEL\tREASON")
	hist := st.History
	if len(hist) == 0 && st.Model != nil {
		e, _ := entry(st, st.Version)
		hist = []trainer.Entry{*e}
	}
	for _, e := range hist {
		kept := "pruned"
		if e.Model != nil || e.Version == st.Version {
			kept = "kept"
		}
		_, _ = fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t%d/%d/%d/%d\t%s\t%s\n", e.Version, e.Status, e.CreatedAt.UTC().Format(time.RFC3339),
			e.Trigger, e.NTrain, measure(e.Eval.Precision), measure(e.Eval.Recall), measure(e.Eval.F1),
			e.Eval.TP, e.Eval.FP, e.Eval.TN, e.Eval.FN, kept, e.Reason)
	}
	_ = w.Flush()
}

func printEntry(e *trainer.Entry, m *detect.Model, st *trainer.State) error {
	out := map[string]any{"name": fmt.Sprintf("%s-v%d", trainer.DefaultModel, e.Version), "entry": entryJSON(e)}
	if m != nil {
		out["model"] = map[string]any{
			"threshold": m.Threshold, "target_fpr": m.TargetFPR, "nu": m.Nu, "gamma": m.Gamma,
			"support_vectors": len(m.SV), "n_train": m.NTrain, "schema_id": m.SchemaID,
			"created_at": m.CreatedAt, "code_version": m.CodeVersion,
		}
		out["now"] = learning.Evaluate(m, st.Labels)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func entryJSON(e *trainer.Entry) trainer.Entry {
	c := *e
	c.Model = nil
	return c
}
