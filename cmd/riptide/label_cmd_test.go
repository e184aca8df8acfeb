package main

import (
	"bufio"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

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

// TestFeedbackAPIProcess runs riptide feedback-api as a process: it takes
// its token from the environment, refuses a wrong token, answers 404 for a
// window that is not on the features topic, serves /healthz and stops on
// SIGTERM.
func TestFeedbackAPIProcess(t *testing.T) {
	brokers := strings.Join(testenv.Kafka(t, 2), ",")
	env := append(os.Environ(), "RIPTIDE_BROKERS="+brokers, "RIPTIDE_FEEDBACK_TOKEN=s3cret")
	if _, stderr, code := runWith(t, env, "topics", "create", "--partitions", "2"); code != 0 {
		t.Fatalf("topics create: exit %d: %s", code, stderr)
	}
	cmd := exec.Command(bin, "feedback-api", "--listen", "127.0.0.1:0")
	cmd.Env = env
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	var logged strings.Builder
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("feedback-api after SIGTERM: %v", err)
			}
			if strings.Contains(logged.String(), "s3cret") {
				t.Errorf("the token is in the log:\n%s", logged.String())
			}
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			t.Error("feedback-api did not stop within 20 s of SIGTERM")
		}
	}()
	addrRE := regexp.MustCompile(`serving the feedback API.* addr=(\S+)`)
	sc := bufio.NewScanner(stderr)
	addr := ""
	for addr == "" && sc.Scan() {
		logged.WriteString(sc.Text() + "\n")
		if m := addrRE.FindStringSubmatch(sc.Text()); m != nil {
			addr = m[1]
		}
	}
	go func() {
		for sc.Scan() {
			logged.WriteString(sc.Text() + "\n")
		}
		done <- cmd.Wait()
	}()
	if addr == "" {
		t.Fatal("feedback-api did not log its address")
	}
	cl := &http.Client{Timeout: 30 * time.Second}
	post := func(token string) int {
		req, err := http.NewRequest(http.MethodPost, "http://"+addr+"/v1/feedback",
			strings.NewReader(`{"id":"10.0.0.1@1772443270000","verdict":"false-positive"}`))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := cl.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	if code := post("wrong"); code != http.StatusUnauthorized {
		t.Errorf("wrong token: %d, want 401", code)
	}
	if code := post("s3cret"); code != http.StatusNotFound {
		t.Errorf("unknown window: %d, want 404", code)
	}
	resp, err := cl.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("/healthz: %d", resp.StatusCode)
	}
}
