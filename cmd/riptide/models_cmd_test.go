package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/riptide-nids/riptide/codecs"
	"github.com/riptide-nids/riptide/detect"
	"github.com/riptide-nids/riptide/internal/testenv"
	"github.com/riptide-nids/riptide/kclient"
	"github.com/riptide-nids/riptide/loadtest"
	"github.com/riptide-nids/riptide/packet"
	"github.com/riptide-nids/riptide/pipeline"
	"github.com/riptide-nids/riptide/processors/trainer"
	"github.com/riptide-nids/riptide/producers"
	"github.com/riptide-nids/riptide/topology"
	"github.com/riptide-nids/riptide/window"
)

type loadSource struct{ g *loadtest.Generator }

func (s loadSource) Next(p *packet.Summary) error {
	if s.g.Next(p) {
		return nil
	}
	return io.EOF
}

// TestLabelAndModelsCommands runs the pipeline in this process on kfake and
// drives it with the binary: five alerts of a brute force are labelled
// false positives with riptide label, riptide models list shows the
// retrained champion v2, rollback and promote switch between v1 and v2,
// show --out writes a readable model, and label --sample prints unalerted
// windows with the command to label them.
func TestLabelAndModelsCommands(t *testing.T) {
	const parts = 2
	ctx := testenv.Context(t, 3*time.Minute)
	brokers := testenv.Kafka(t, parts)
	env := append(os.Environ(), "RIPTIDE_BROKERS="+strings.Join(brokers, ","), "RIPTIDE_PREFIX=cli-models")
	if _, stderr, code := runWith(t, env, "topics", "create", "--partitions", "2"); code != 0 {
		t.Fatalf("topics create: exit %d: %s", code, stderr)
	}
	top := topology.MustNew("cli-models")
	kc := kclient.Config{Brokers: brokers}
	learn := 2 * time.Minute
	tc := trainer.DefaultConfig()
	tc.Learn, tc.Settle, tc.RetrainEvery = learn, 200*time.Millisecond, 0
	p, err := pipeline.New(top, pipeline.Config{Kafka: kc, Window: window.DefaultConfig(), Trainer: tc, Partitions: parts},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	pctx, stop := context.WithCancel(ctx)
	ran := make(chan struct{})
	go func() { defer close(ran); _ = p.Run(pctx, nil) }()
	defer func() { stop(); <-ran }()

	cl, err := kclient.NewClient(kc, kgo.ConsumeTopics(top.Anomalies.Name), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	cfg := loadtest.DefaultConfig(learn)
	cfg.Hosts = 25
	brute := cfg.Attacks[1]
	cfg.Attacks = []loadtest.Attack{brute}
	cfg.Duration = learn + 5*time.Minute
	g, err := loadtest.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	wc := window.DefaultConfig()
	prod, err := producers.New(cl, producers.Config{Topic: top.Packets.Name, Partitions: parts, FinalWatermark: wc.Size + wc.Grace})
	if err != nil {
		t.Fatal(err)
	}
	if err := producers.Replay(ctx, loadSource{g}, prod, 0, nil); err != nil {
		t.Fatal(err)
	}
	if err := prod.Close(ctx); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for len(ids) < 5 {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("only %d anomalies of the brute forcer", len(ids))
		}
		fs.EachRecord(func(r *kgo.Record) {
			if a, err := codecs.DecodeAnomaly(r.Value); err == nil && a.Host == brute.Attacker.String() && len(ids) < 5 {
				ids = append(ids, a.ID)
			}
		})
	}

	for _, id := range ids {
		out, stderr, code := runWith(t, env, "label", id, "--verdict", "false-positive", "--note", "password audit")
		if code != 0 || !strings.Contains(out, "labelled "+id) {
			t.Fatalf("label %s: exit %d: %s %s", id, code, out, stderr)
		}
	}
	deadline := time.Now().Add(time.Minute)
	var list string
	for !strings.Contains(list, "champion: default-v2") {
		if time.Now().After(deadline) {
			t.Fatalf("models list shows no v2 champion within a minute:\n%s", list)
		}
		var stderr string
		list, stderr, _ = runWith(t, env, "models", "list")
		if strings.Contains(stderr, "no trainer state") {
			t.Fatal(stderr)
		}
	}
	t.Logf("models list:\n%s", list)
	if !strings.Contains(list, "retired") || !strings.Contains(list, "labels") {
		t.Errorf("models list lacks v1 retired or v2's trigger:\n%s", list)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"models", "rollback"}, "champion is now default-v1 (was default-v2)"},
		{[]string{"models", "promote", "2"}, "champion is now default-v2 (was default-v1)"},
	} {
		out, stderr, code := runWith(t, env, c.args...)
		if code != 0 || !strings.Contains(out, c.want) {
			t.Errorf("%v: exit %d, %q %s; want %q", c.args, code, out, stderr, c.want)
		}
	}
	file := filepath.Join(t.TempDir(), "v1.json")
	out, stderr, code := runWith(t, env, "models", "show", "1", "--out", file)
	var shown struct {
		Name string `json:"name"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &shown) != nil || shown.Name != "default-v1" {
		t.Fatalf("models show 1: exit %d: %s %s", code, out, stderr)
	}
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	if _, err := detect.ReadModel(f); err != nil {
		t.Errorf("models show --out: %v", err)
	}

	out, stderr, code = runWith(t, env, "label", "--sample", "3", "--since", "1h", "--seed", "7")
	sc := bufio.NewScanner(strings.NewReader(out))
	n := 0
	for sc.Scan() {
		var line struct{ ID, Label string }
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil || !strings.Contains(line.Label, "riptide label "+line.ID) {
			t.Errorf("sample line %q: %v", sc.Text(), err)
		}
		for _, id := range ids {
			if line.ID == id {
				t.Errorf("sampled %s, which was alerted", id)
			}
		}
		n++
	}
	if code != 0 || n != 3 {
		t.Errorf("label --sample 3: exit %d, %d lines: %s", code, n, stderr)
	}
}
