package main

import (
	"os"
	"strings"
	"testing"

	"github.com/riptide-nids/riptide/internal/testenv"
)

func TestFeedbackCommandsHelpAndUsage(t *testing.T) {
	for _, c := range [][]string{{"label"}, {"feedback-api"}, {"models", "list"}, {"models", "show"}, {"models", "promote"}, {"models", "rollback"}} {
		out, _, code := run(t, append(c, "--help")...)
		if code != 0 || !strings.Contains(out, "Examples:") || !strings.Contains(out, "riptide "+c[0]) {
			t.Errorf("%v --help: exit %d, no examples:\n%s", c, code, out)
		}
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"label"}, "needs one window id"},
		{[]string{"label", "10.0.0.1@1", "--verdict", "maybe"}, "--verdict"},
		{[]string{"label", "nohost", "--verdict", "true-positive"}, "bad window id"},
		{[]string{"label", "--sample", "3", "10.0.0.1@1"}, "--sample takes no window id"},
		{[]string{"models", "promote"}, "needs one version"},
		{[]string{"models", "promote", "x"}, "want a positive number"},
		{[]string{"feedback-api", "--brokers", "127.0.0.1:1"}, "RIPTIDE_FEEDBACK_TOKEN"},
	} {
		_, stderr, code := run(t, c.args...)
		if code != 2 || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", c.args, code, stderr, c.want)
		}
	}
}

// TestFeedbackCommandsOnEmptyCluster: on a cluster with riptide's topics but
// no traffic, label finds no window, sample finds none and models has no
// state; each says so.
func TestFeedbackCommandsOnEmptyCluster(t *testing.T) {
	brokers := strings.Join(testenv.Kafka(t, 2), ",")
	env := append(os.Environ(), "RIPTIDE_BROKERS="+brokers)
	if _, stderr, code := runWith(t, env, "topics", "create", "--partitions", "2"); code != 0 {
		t.Fatalf("topics create: exit %d: %s", code, stderr)
	}
	_, stderr, code := runWith(t, env, "label", "10.0.0.1@1772443270000", "--verdict", "false-positive")
	if code != 1 || !strings.Contains(stderr, "window not found on the features topic") {
		t.Errorf("label of a missing window: exit %d, %s", code, stderr)
	}
	out, stderr, code := runWith(t, env, "label", "--sample", "5", "--since", "1h")
	if code != 0 || out != "" || !strings.Contains(stderr, "only 0 unalerted windows") {
		t.Errorf("sample on an empty topic: exit %d, out %q, err %q", code, out, stderr)
	}
	_, stderr, code = runWith(t, env, "models", "list")
	if code != 1 || !strings.Contains(stderr, "no trainer state") {
		t.Errorf("models list without a trainer: exit %d, %s", code, stderr)
	}
}
