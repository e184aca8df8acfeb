//go:build integration

package integration

import (
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/riptide-nids/riptide/backtest"
	"github.com/riptide-nids/riptide/internal/testenv"
	"github.com/riptide-nids/riptide/topology"
	"github.com/riptide-nids/riptide/window"
)

// secureCluster is a broker that only speaks TLS and requires SASL, and the
// flags riptide's clients need for it.
type secureCluster struct {
	brokers  string
	flags    []string
	password string
	real     bool
}

// newSecureCluster returns the broker for a TLS and SASL test. With
// KAFKA_SECURE_BROKERS set it is that listener (a SASL_SSL listener of a
// real cluster) with KAFKA_SECURE_CA, KAFKA_SECURE_MECHANISM,
// KAFKA_SECURE_USER and KAFKA_SECURE_PASSWORD_FILE; otherwise `riptide
// broker` with a server certificate from a CA made for the test and a
// SCRAM-SHA-512 user. KAFKA_BROKERS, a plaintext listener, does not serve
// this test.
//
// A real cluster for it (checked with Apache Kafka 4.4 from kafka.sh): a CA
// and a broker certificate for 127.0.0.1 made with openssl (PKCS#8 key), and
//
//	KAFKA_EXTRA_CONFIG='listeners=PLAINTEXT://127.0.0.1:P,CONTROLLER://127.0.0.1:P+1,SASL_SSL://127.0.0.1:P+2
//	advertised.listeners=PLAINTEXT://127.0.0.1:P,SASL_SSL://127.0.0.1:P+2
//	listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SASL_SSL:SASL_SSL
//	sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512
//	listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_alice="PASSWORD";
//	listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
//	listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
//	ssl.keystore.type=PEM
//	ssl.keystore.location=KEY_THEN_CERT.pem' KAFKA_PORT=P integration/kafka/kafka.sh up
//
// then the SCRAM credentials of alice created over the PLAINTEXT listener
// (kadm's AlterUserSCRAMs, one request per mechanism).
func newSecureCluster(t *testing.T) *secureCluster {
	t.Helper()
	if b := os.Getenv("KAFKA_SECURE_BROKERS"); b != "" {
		pwFile := os.Getenv("KAFKA_SECURE_PASSWORD_FILE")
		pw, err := os.ReadFile(pwFile)
		if err != nil {
			t.Fatalf("KAFKA_SECURE_PASSWORD_FILE: %v", err)
		}
		c := &secureCluster{brokers: b, real: true, password: strings.TrimRight(string(pw), "\r\n"), flags: []string{
			"--tls-ca", os.Getenv("KAFKA_SECURE_CA"), "--sasl-mechanism", os.Getenv("KAFKA_SECURE_MECHANISM"),
			"--sasl-username", os.Getenv("KAFKA_SECURE_USER"), "--sasl-password-file", pwFile,
		}}
		t.Logf("broker: real Kafka SASL_SSL listener at %s (KAFKA_SECURE_BROKERS), %s", b, os.Getenv("KAFKA_SECURE_MECHANISM"))
		return c
	}
	dir := t.TempDir()
	pki := testenv.NewPKI(t)
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	c := &secureCluster{password: rand.Text()}
	c.flags = []string{"--sasl-mechanism", "scram-sha-512", "--sasl-username", "riptide", "--sasl-password-file", write("password", []byte(c.password+"\n"))}
	b := startProc(t, "broker", append([]string{"broker", "--listen", freeAddr(t),
		"--server-cert", write("broker.pem", pki.ServerCert), "--server-key", write("broker.key", pki.ServerKey)}, c.flags...)...)
	if !waitFor(20*time.Second, 20*time.Millisecond, func() bool {
		out := readFile(b.stdout)
		if i := strings.IndexByte(out, '\n'); i >= 0 {
			c.brokers = strings.TrimSpace(out[:i])
		}
		return c.brokers != "" || !b.running()
	}) || c.brokers == "" {
		t.Fatalf("secure broker printed no address; stderr:\n%s", readFile(b.stderr))
	}
	c.flags = append(c.flags, "--tls-ca", write("ca.pem", pki.CA))
	t.Logf("broker: embedded kfake (riptide broker) with TLS and SASL/SCRAM-SHA-512 at %s", c.brokers)
	return c
}

// TestMultiProcessOverTLSAndSASL runs topics create, run, capture and tail
// as separate processes against a broker that only speaks TLS and requires
// SASL, and checks that the anomalies tail prints detect the benchmark's
// attacks. No process may print the password.
func TestMultiProcessOverTLSAndSASL(t *testing.T) {
	pcap := dataset(t, "bench/dev-mixed.pcap")
	labels, err := backtest.ReadLabelsFile(dataset(t, "bench/dev-mixed.labels.csv"))
	if err != nil {
		t.Fatal(err)
	}
	c := newSecureCluster(t)
	prefix := topology.DefaultPrefix
	if c.real {
		prefix = uniquePrefix(t)
	}
	args := func(a ...string) []string {
		return append(append(a, "--brokers", c.brokers, "--prefix", prefix), c.flags...)
	}
	create := args("topics", "create", "--partitions", "4")
	if c.real {
		create = append(create, "--replication", "1")
	}
	if out, errOut, code := riptide(t, 60*time.Second, create...); code != 0 {
		t.Fatalf("riptide topics create: exit %d\n%s%s", code, out, errOut)
	}
	rt := startProc(t, "run", args("run")...)
	tl := startProc(t, "tail", args("tail", "--from-beginning", "--json")...)
	if out, errOut, code := riptide(t, 120*time.Second, args("capture", "--pcap", pcap)...); code != 0 {
		t.Fatalf("riptide capture: exit %d\n%s%s", code, out, errOut)
	}

	slack := time.Duration(0)
	if c.real {
		slack = 2 * (sessionTimeout + gokaRejoinDelay + time.Second)
	}
	var (
		score    backtest.Score
		n        int
		lastGrow = time.Now()
	)
	waitFor(90*time.Second+slack, 500*time.Millisecond, func() bool {
		var flags []backtest.Flag
		lines := nonEmptyLines(readFile(tl.stdout))
		for _, l := range lines {
			if a, err := decodeAnomalyLine(l); err == nil {
				flags = append(flags, backtest.Flag{Host: a.Host, Start: a.WindowStart, End: a.WindowEnd})
			}
		}
		if len(lines) > n {
			n, lastGrow = len(lines), time.Now()
		}
		score = backtest.Evaluate(labels, flags, window.DefaultConfig().Size, 0, 0)
		return score.AttacksDetected >= 5 && time.Since(lastGrow) >= 5*time.Second+slack/2
	})
	t.Logf("tail printed %d anomalies: %d of %d attacks detected, precision %.3f", n, score.AttacksDetected, len(score.Attacks), score.Precision)
	if score.AttacksDetected < 5 {
		t.Errorf("attacks detected: %d, want at least 5", score.AttacksDetected)
	}
	if score.Precision < 0.5 {
		t.Errorf("precision %.3f, want at least 0.5", score.Precision)
	}

	for _, p := range []*proc{rt, tl} {
		if !p.running() {
			code, _ := p.wait(0)
			t.Fatalf("riptide %s exited early with code %d", p.name, code)
		}
		p.kill(syscall.SIGTERM)
		if code, err := p.wait(10 * time.Second); err != nil || code != 0 {
			t.Errorf("riptide %s after SIGTERM: exit %d, %v", p.name, code, err)
		}
		for _, f := range []string{p.stdout, p.stderr} {
			if strings.Contains(readFile(f), c.password) {
				t.Errorf("riptide %s printed the password", p.name)
			}
		}
	}
}
