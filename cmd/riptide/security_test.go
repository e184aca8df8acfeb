package main

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/riptide-nids/riptide/codecs"
	"github.com/riptide-nids/riptide/internal/testenv"
	"github.com/riptide-nids/riptide/kclient"
	"github.com/riptide-nids/riptide/topology"
)

// secureEnv returns the test process's environment without riptide's
// broker and security variables, plus env.
func secureEnv(env ...string) []string {
	var out []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "RIPTIDE_BROKERS=") || strings.HasPrefix(kv, "RIPTIDE_TLS") || strings.HasPrefix(kv, "RIPTIDE_SASL") {
			continue
		}
		out = append(out, kv)
	}
	return append(out, env...)
}

// runEnv runs the binary with env and returns stdout, stderr and the exit
// code.
func runEnv(t *testing.T, env []string, args ...string) (string, string, int) {
	t.Helper()
	return runWith(t, secureEnv(env...), args...)
}

func writeFile(t *testing.T, dir, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSecurityFlagErrors(t *testing.T) {
	const pw = "s3cret-do-not-print"
	dir := t.TempDir()
	pki := testenv.NewPKI(t)
	ca := writeFile(t, dir, "ca.pem", pki.CA)
	cert := writeFile(t, dir, "client.pem", pki.ClientCert)
	key := writeFile(t, dir, "client.key", pki.ClientKey)
	pwFile := writeFile(t, dir, "password", []byte(pw+"\n"))
	empty := writeFile(t, dir, "empty", []byte("\n"))
	notPEM := writeFile(t, dir, "not.pem", []byte(pw))
	base := []string{"run", "--brokers", "127.0.0.1:1"}
	cases := []struct {
		name string
		env  []string
		args []string
		code int
		msg  string
	}{
		{"cert without key", nil, []string{"--tls-cert", cert}, 2, "without its key"},
		{"key without cert", nil, []string{"--tls-key", key}, 2, "without its certificate"},
		{"key from env without cert", []string{"RIPTIDE_TLS_KEY=" + key}, nil, 2, "without its certificate"},
		{"ca not PEM", nil, []string{"--tls-ca", notPEM}, 2, "no PEM certificate"},
		{"ca missing", nil, []string{"--tls-ca", filepath.Join(dir, "nope.pem")}, 1, "--tls-ca"},
		{"bad RIPTIDE_TLS", []string{"RIPTIDE_TLS=maybe"}, nil, 2, "RIPTIDE_TLS"},
		{"unknown mechanism", []string{"RIPTIDE_SASL_PASSWORD=" + pw}, []string{"--sasl-mechanism", "gssapi", "--sasl-username", "u"}, 2, `unknown SASL mechanism "gssapi"`},
		{"no password", nil, []string{"--sasl-mechanism", "scram-sha-256", "--sasl-username", "u"}, 2, "needs a password"},
		{"no username", []string{"RIPTIDE_SASL_PASSWORD=" + pw}, []string{"--sasl-mechanism", "plain"}, 2, "needs a username"},
		{"no mechanism", nil, []string{"--sasl-username", "u", "--sasl-password-file", pwFile}, 2, "without a mechanism"},
		{"password twice", []string{"RIPTIDE_SASL_PASSWORD=" + pw}, []string{"--sasl-mechanism", "plain", "--sasl-username", "u", "--sasl-password-file", pwFile}, 2, "given twice"},
		{"empty password file", nil, []string{"--sasl-mechanism", "plain", "--sasl-username", "u", "--sasl-password-file", empty}, 2, "is empty"},
		{"password file missing", nil, []string{"--sasl-mechanism", "plain", "--sasl-username", "u", "--sasl-password-file", pwFile + ".gone"}, 1, "--sasl-password-file"},
		// Valid settings get as far as the (absent) broker.
		{"valid", []string{"RIPTIDE_SASL_USERNAME=u", "RIPTIDE_SASL_MECHANISM=SCRAM-SHA-512"}, []string{"--tls-ca", ca, "--tls-cert", cert, "--tls-key", key, "--sasl-password-file", pwFile}, 1, "no broker answers"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			stdout, stderr, code := runEnv(t, c.env, append(append([]string{}, base...), c.args...)...)
			if code != c.code {
				t.Errorf("exit %d, want %d; stderr: %s", code, c.code, stderr)
			}
			if !strings.Contains(stderr, c.msg) {
				t.Errorf("stderr %q does not mention %q", stderr, c.msg)
			}
			if strings.Contains(stdout+stderr, pw) || strings.Contains(stdout+stderr, "PRIVATE KEY") {
				t.Errorf("a secret was printed: %s%s", stdout, stderr)
			}
		})
	}
}

func TestHelpShowsSecurityFlagsNotSecrets(t *testing.T) {
	const pw = "s3cret-do-not-print"
	dir := t.TempDir()
	pwFile := writeFile(t, dir, "password", []byte(pw))
	out, _, code := runEnv(t, []string{"RIPTIDE_SASL_PASSWORD=" + pw, "RIPTIDE_SASL_PASSWORD_FILE=" + pwFile}, "run", "--help")
	if code != 0 {
		t.Fatalf("run --help: exit %d", code)
	}
	for _, f := range []string{"--tls ", "--tls-ca", "--tls-cert", "--tls-key", "--tls-server-name", "--sasl-mechanism", "--sasl-username", "--sasl-password-file", "RIPTIDE_SASL_PASSWORD"} {
		if !strings.Contains(out, f) {
			t.Errorf("run --help does not mention %s", f)
		}
	}
	if strings.Contains(out, pw) {
		t.Errorf("run --help prints the password:\n%s", out)
	}
	root, _, _ := runEnv(t, nil, "--help")
	if !strings.Contains(root, "--sasl-mechanism scram-sha-512") {
		t.Errorf("riptide --help has no TLS/SASL example:\n%s", root)
	}
}

// TestTopicsCreateAndTailOverTLSAndSCRAM runs `riptide topics create` and
// `riptide tail` against a broker that requires TLS and SASL: one with
// flags and a password file, the other with environment variables.
func TestTopicsCreateAndTailOverTLSAndSCRAM(t *testing.T) {
	s := testenv.SecureKafka(t, testenv.SecureOptions{})
	dir := t.TempDir()
	ca := writeFile(t, dir, "ca.pem", s.PKI.CA)
	pwFile := writeFile(t, dir, "password", []byte(s.Password+"\n"))
	brokers := strings.Join(s.Addrs, ",")
	prefix := "sec"

	out, stderr, code := runEnv(t, nil, "topics", "create", "--brokers", brokers, "--prefix", prefix, "--partitions", "2",
		"--tls-ca", ca, "--sasl-mechanism", "scram-sha-256", "--sasl-username", s.User, "--sasl-password-file", pwFile)
	if code != 0 {
		t.Fatalf("topics create: exit %d: %s", code, stderr)
	}
	top := topology.MustNew(prefix)
	if want := len(top.All()); !strings.Contains(out, "topics ready") || strings.Count(out, "created ") != want {
		t.Fatalf("topics create printed %q, want %d topics created", out, want)
	}

	// The wrong password fails fast with a hint, and is never printed.
	start := time.Now()
	_, stderr, code = runEnv(t, []string{"RIPTIDE_SASL_PASSWORD=wrong-" + s.Password}, "topics", "create", "--brokers", brokers, "--prefix", prefix,
		"--tls-ca", ca, "--sasl-mechanism", "scram-sha-256", "--sasl-username", s.User)
	if code != 1 || !strings.Contains(stderr, "password") || strings.Contains(stderr, s.Password) {
		t.Errorf("wrong password: exit %d, stderr %q", code, stderr)
	}
	if el := time.Since(start); el > 15*time.Second {
		t.Errorf("wrong password took %v to fail", el)
	}

	// An anomaly on the topic, produced over SCRAM-SHA-512.
	kc := kclient.Config{Brokers: s.Addrs, Security: kclient.Security{
		TLS:  kclient.TLS{CA: s.PKI.CA},
		SASL: kclient.SASL{Mechanism: kclient.MechanismSCRAMSHA512, Username: s.User, Password: kclient.Secret(s.Password)},
	}}
	ws := time.Date(2026, 3, 2, 9, 16, 0, 0, time.UTC)
	raw, err := codecs.EncodeAnomaly(&codecs.Anomaly{ID: "10.1.0.17@1772442960000", Host: "10.1.0.17", WindowStart: ws, WindowEnd: ws.Add(10 * time.Second),
		Score: -8.6, Threshold: -0.5, ModelVersion: "test"})
	if err != nil {
		t.Fatal(err)
	}
	cl, err := kclient.NewClient(kc)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx := testenv.Context(t, 30*time.Second)
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: top.Anomalies.Name, Key: []byte("10.1.0.17"), Value: raw}).FirstErr(); err != nil {
		t.Fatal(err)
	}

	tail := exec.Command(bin, "tail", "--prefix", prefix, "--from-beginning", "--json")
	tail.Env = secureEnv("RIPTIDE_BROKERS="+brokers, "RIPTIDE_TLS_CA="+ca, "RIPTIDE_SASL_MECHANISM=plain",
		"RIPTIDE_SASL_USERNAME="+s.User, "RIPTIDE_SASL_PASSWORD="+s.Password)
	stdout, err := tail.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var tailErr bytes.Buffer
	tail.Stderr = &tailErr
	if err := tail.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	deadline := time.After(30 * time.Second)
	for found := false; !found; {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("tail ended before printing the anomaly: %s", tailErr.String())
			}
			found = strings.Contains(l, `"id":"10.1.0.17@1772442960000"`)
		case <-deadline:
			_ = tail.Process.Kill()
			t.Fatalf("tail printed no anomaly within 30 s: %s", tailErr.String())
		}
	}
	if err := tail.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	go func() { // drain until tail exits
		for range lines {
		}
	}()
	if err := tail.Wait(); err != nil {
		t.Errorf("tail after SIGINT: %v; stderr: %s", err, tailErr.String())
	}
}

// TestBrokerWithTLSAndSASL starts `riptide broker` with a server
// certificate and a SCRAM user and talks to it with `riptide topics create`.
func TestBrokerWithTLSAndSASL(t *testing.T) {
	dir := t.TempDir()
	pki := testenv.NewPKI(t)
	ca := writeFile(t, dir, "ca.pem", pki.CA)
	cert := writeFile(t, dir, "broker.pem", pki.ServerCert)
	key := writeFile(t, dir, "broker.key", pki.ServerKey)
	pwFile := writeFile(t, dir, "pw.txt", []byte("correct horse\n"))
	env := []string{"RIPTIDE_SASL_MECHANISM=scram-sha-512", "RIPTIDE_SASL_USERNAME=alice", "RIPTIDE_SASL_PASSWORD_FILE=" + pwFile}

	if _, stderr, code := runEnv(t, env, "broker", "--listen", "127.0.0.1:0", "--server-cert", cert); code != 2 || !strings.Contains(stderr, "--server-key") {
		t.Errorf("--server-cert alone: exit %d, stderr %q", code, stderr)
	}

	broker := exec.Command(bin, "broker", "--listen", "127.0.0.1:0", "--server-cert", cert, "--server-key", key)
	broker.Env = secureEnv(env...)
	stdout, err := broker.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var brokerErr bytes.Buffer
	broker.Stderr = &brokerErr
	if err := broker.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = broker.Process.Signal(os.Interrupt)
		if err := broker.Wait(); err != nil {
			t.Errorf("broker after SIGINT: %v; stderr: %s", err, brokerErr.String())
		}
	}()
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			addr <- sc.Text()
		}
		close(addr)
	}()
	var brokers string
	select {
	case a, ok := <-addr:
		if !ok {
			t.Fatalf("broker printed no address: %s", brokerErr.String())
		}
		brokers = a
	case <-time.After(30 * time.Second):
		t.Fatalf("broker printed no address within 30 s: %s", brokerErr.String())
	}

	out, stderr, code := runEnv(t, env, "topics", "create", "--brokers", brokers, "--tls-ca", ca, "--partitions", "2")
	if code != 0 || !strings.Contains(out, "topics ready") {
		t.Fatalf("topics create over TLS and SCRAM: exit %d: %s%s", code, out, stderr)
	}
	// The system roots do not trust the test CA.
	_, stderr, code = runEnv(t, env, "topics", "create", "--brokers", brokers, "--tls", "--partitions", "2")
	if code != 1 || !strings.Contains(stderr, "--tls-ca") {
		t.Errorf("without the CA: exit %d, stderr %q", code, stderr)
	}
	// Plaintext SASL is refused.
	_, stderr, code = runEnv(t, env, "topics", "create", "--brokers", brokers, "--partitions", "2")
	if code != 1 || strings.Contains(stderr, "correct horse") {
		t.Errorf("without TLS: exit %d, stderr %q", code, stderr)
	}
	if strings.Contains(brokerErr.String(), "correct horse") {
		t.Errorf("the broker logged the password: %s", brokerErr.String())
	}
}
