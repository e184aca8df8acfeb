package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/user"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/riptide-nids/riptide/codecs"
	"github.com/riptide-nids/riptide/feedback"
	"github.com/riptide-nids/riptide/kclient"
	"github.com/riptide-nids/riptide/ops"
	"github.com/riptide-nids/riptide/window"
)

// labeler connects to the cluster of the global flags.
func (g *globals) labeler(ctx context.Context) (*feedback.Labeler, *kgo.Client, error) {
	top, kc, err := g.cluster()
	if err != nil {
		return nil, nil, err
	}
	cl, err := kclient.NewClient(kc)
	if err != nil {
		return nil, nil, err
	}
	if err := kclient.Ping(ctx, cl, kc.Brokers); err != nil {
		cl.Close()
		return nil, nil, err
	}
	return feedback.New(kc, cl, top), cl, nil
}

func currentUser() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return ""
}

func newLabelCmd(g *globals) *cobra.Command {
	var verdict, note, by string
	var sample int
	var since time.Duration
	var seed uint64
	cmd := &cobra.Command{
		Use:   "label (ALERT_ID --verdict VERDICT [--note TEXT] | --sample N [--since DURATION])",
		Short: "Record an analyst's verdict on a window, or sample unalerted windows to review",
		Long: `label writes a verdict on one window to the feedback topic, keyed by the window id
(the anomaly's "id": host@window-start-ms). It looks the window's feature vector up on
the features topic and stores it with the verdict, so the trainer can learn from the
label whenever it arrives. Verdicts:

  true-positive    an alert that is a real attack
  false-positive   an alert on benign traffic (the trainer learns it as normal)
  true-negative    a sampled, unalerted window that is benign
  false-negative   a sampled, unalerted window that is an attack (a miss)

Labelling the same window again replaces the verdict (the topic is compacted).

Alerts alone cannot tell how many attacks were missed: --sample N prints N windows
drawn at random from those written since --since ago that were not alerted, one JSON
object per line with the command to label each. Review them and label them
true-negative or false-negative; the trainer's recall then counts the misses.`,
		Example: `  riptide label 10.1.0.17@1772443270000 --verdict false-positive --note "our vulnerability scanner"
  riptide label 10.1.0.33@1772443290000 --verdict true-positive
  riptide label --sample 20 --since 24h > review.jsonl`,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if sample > 0 {
				if len(args) > 0 || verdict != "" {
					return usagef("--sample takes no window id or --verdict; label the printed windows one by one")
				}
				if since <= 0 {
					return usagef("--since %v: must be positive, e.g. 24h", since)
				}
				l, cl, err := g.labeler(ctx)
				if err != nil {
					return err
				}
				defer cl.Close()
				if seed == 0 {
					seed = uint64(time.Now().UnixNano())
				}
				vs, err := l.Sample(ctx, sample, time.Now().Add(-since), seed)
				if err != nil {
					return err
				}
				enc := json.NewEncoder(os.Stdout)
				for _, v := range vs {
					if err := enc.Encode(sampleLine(v)); err != nil {
						return err
					}
				}
				if len(vs) < sample {
					fmt.Fprintf(os.Stderr, "riptide: label: only %d unalerted windows since %s\n", len(vs), time.Now().Add(-since).UTC().Format(time.RFC3339))
				}
				return nil
			}
			if len(args) != 1 {
				return usagef("label needs one window id (an anomaly's id, host@window-start-ms), or --sample N")
			}
			if !slices.Contains(codecs.Verdicts, verdict) {
				return usagef("--verdict %q: use one of %s", verdict, strings.Join(codecs.Verdicts, ", "))
			}
			if _, _, err := feedback.ParseID(args[0]); err != nil {
				return usageError{err}
			}
			l, cl, err := g.labeler(ctx)
			if err != nil {
				return err
			}
			defer cl.Close()
			f, err := l.Label(ctx, feedback.Verdict{ID: args[0], Verdict: verdict, Note: note, By: by})
			if err != nil {
				return err
			}
			fmt.Printf("labelled %s (%s, window %s) %s\n", f.ID, f.Host, f.WindowStart.Format(time.RFC3339), f.Verdict)
			return nil
		},
	}
	cmd.Flags().StringVar(&verdict, "verdict", "", "true-positive, false-positive, true-negative or false-negative")
	cmd.Flags().StringVar(&note, "note", "", "free text stored with the verdict")
	cmd.Flags().StringVar(&by, "by", currentUser(), "who gives the verdict")
	cmd.Flags().IntVar(&sample, "sample", 0, "print this many random unalerted windows to review instead of labelling")
	cmd.Flags().DurationVar(&since, "since", 24*time.Hour, "with --sample: draw from windows written this long ago until now")
	cmd.Flags().Uint64Var(&seed, "seed", 0, "with --sample: random seed (default: from the clock)")
	return cmd
}

// sampleLine is what --sample prints per window.
func sampleLine(v *window.Vector) map[string]any {
	feats := map[string]float64{}
	for i, n := range window.Names() {
		if i < len(v.Values) && v.Values[i] != 0 {
			feats[n] = v.Values[i]
		}
	}
	return map[string]any{
		"id": v.ID(), "host": v.Host,
		"window_start": time.Unix(0, v.Start).UTC().Format(codecs.TimeFormat),
		"window_end":   time.Unix(0, v.End).UTC().Format(codecs.TimeFormat),
		"features":     feats,
		"label":        fmt.Sprintf("riptide label %s --verdict true-negative  # or false-negative if it is an attack", v.ID()),
	}
}

func newFeedbackAPICmd(g *globals) *cobra.Command {
	var listen, tokenFile string
	cmd := &cobra.Command{
		Use:   "feedback-api --listen ADDR (--token-file FILE | env RIPTIDE_FEEDBACK_TOKEN)",
		Short: "Serve POST /v1/feedback for SOAR tools and chat bots",
		Long: `feedback-api serves the label command over HTTP: POST /v1/feedback with a JSON body
{"id": ALERT_ID, "verdict": VERDICT, "note": TEXT, "by": NAME} and the header
"Authorization: Bearer TOKEN". It answers 202 when the verdict is on the feedback
topic, 401 for a missing or wrong token, 400 for a bad body, id or verdict, 404 when
the window is not on the features topic, 502 when Kafka fails. The token comes from
RIPTIDE_FEEDBACK_TOKEN or --token-file (never from the command line) and is never
logged. /metrics, /healthz and /readyz are served on the same address.

It is its own process, not part of riptide run: it faces analysts' tools rather than
the data path, scales and restarts independently of the processors, and needs only
produce rights on the feedback topic and read rights on features and anomalies.
Put TLS in front of it (a reverse proxy or the ingress).`,
		Example: `  RIPTIDE_FEEDBACK_TOKEN=s3cret riptide feedback-api --brokers kafka:9092 --listen :8080
  curl -H "Authorization: Bearer s3cret" -d '{"id":"10.1.0.17@1772443270000","verdict":"false-positive"}' \
    http://localhost:8080/v1/feedback`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := g.logger(os.Stderr)
			if err != nil {
				return err
			}
			token, err := feedbackToken(tokenFile)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			l, cl, err := g.labeler(ctx)
			if err != nil {
				return err
			}
			defer cl.Close()
			return serveFeedback(ctx, listen, l, token, log)
		},
	}
	cmd.Flags().StringVar(&listen, "listen", envOr("RIPTIDE_FEEDBACK_LISTEN", ":8080"), "address to serve on (env RIPTIDE_FEEDBACK_LISTEN)")
	cmd.Flags().StringVar(&tokenFile, "token-file", "", "file holding the bearer token (default: env RIPTIDE_FEEDBACK_TOKEN)")
	return cmd
}

func feedbackToken(file string) (string, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", usagef("--token-file: %v", err)
		}
		if t := strings.TrimSpace(string(b)); t != "" {
			return t, nil
		}
		return "", usagef("--token-file %s is empty", file)
	}
	if t := strings.TrimSpace(os.Getenv("RIPTIDE_FEEDBACK_TOKEN")); t != "" {
		return t, nil
	}
	return "", usagef("no bearer token: set RIPTIDE_FEEDBACK_TOKEN or give --token-file FILE")
}

// serveFeedback serves the feedback API and the ops endpoints on addr
// until ctx ends.
func serveFeedback(ctx context.Context, addr string, rec feedback.Recorder, token string, log *slog.Logger) error {
	reg := ops.NewRegistry()
	m, err := ops.New(reg)
	if err != nil {
		return err
	}
	mux := newMux(m.Handler(reg, log), feedback.Handler(rec, token, log))
	srv, err := ops.Listen(addr, mux)
	if err != nil {
		return usageError{fmt.Errorf("--listen %q: %w", addr, err)}
	}
	m.SetReady(true, "")
	log.Info("serving the feedback API", "addr", srv.Addr())
	if err := srv.Serve(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// newMux routes POST /v1/feedback to api and everything else to opsH.
func newMux(opsH, api http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", opsH)
	mux.Handle("/v1/", api)
	return mux
}
