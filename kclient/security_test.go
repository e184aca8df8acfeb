package kclient_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/lovoo/goka"
	"github.com/lovoo/goka/codec"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/riptide-nids/riptide/internal/testenv"
	"github.com/riptide-nids/riptide/kclient"
)

func TestSecurityValidateNamesTheConflict(t *testing.T) {
	pki := testenv.NewPKI(t)
	cases := []struct {
		name string
		sec  kclient.Security
		want string // "" means valid
	}{
		{"zero", kclient.Security{}, ""},
		{"tls system roots", kclient.Security{TLS: kclient.TLS{Enable: true}}, ""},
		{"tls ca", kclient.Security{TLS: kclient.TLS{CA: pki.CA}}, ""},
		{"mutual tls", kclient.Security{TLS: kclient.TLS{CA: pki.CA, Cert: pki.ClientCert, Key: kclient.Secret(pki.ClientKey)}}, ""},
		{"cert without key", kclient.Security{TLS: kclient.TLS{Cert: pki.ClientCert}}, "without its key"},
		{"key without cert", kclient.Security{TLS: kclient.TLS{Key: kclient.Secret(pki.ClientKey)}}, "without its certificate"},
		{"ca not pem", kclient.Security{TLS: kclient.TLS{CA: []byte("hello")}}, "no PEM certificate"},
		{"key does not match", kclient.Security{TLS: kclient.TLS{Cert: pki.CA, Key: kclient.Secret(pki.ClientKey)}}, "certificate and key"},
		{"sasl plain", kclient.Security{SASL: kclient.SASL{Mechanism: "PLAIN", Username: "u", Password: "p"}}, ""},
		{"sasl lower case", kclient.Security{SASL: kclient.SASL{Mechanism: "scram-sha-512", Username: "u", Password: "p"}}, ""},
		{"unknown mechanism", kclient.Security{SASL: kclient.SASL{Mechanism: "GSSAPI", Username: "u", Password: "p"}}, `unknown SASL mechanism "GSSAPI"`},
		{"no username", kclient.Security{SASL: kclient.SASL{Mechanism: "SCRAM-SHA-256", Password: "p"}}, "needs a username"},
		{"no password", kclient.Security{SASL: kclient.SASL{Mechanism: "SCRAM-SHA-256", Username: "u"}}, "needs a password"},
		{"credentials without mechanism", kclient.Security{SASL: kclient.SASL{Username: "u", Password: "p"}}, "without a mechanism"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.sec.Validate()
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case c.want != "" && err == nil:
				t.Fatalf("no error, want one mentioning %q", c.want)
			case c.want != "" && !strings.Contains(err.Error(), c.want):
				t.Fatalf("error %q does not mention %q", err, c.want)
			}
			// Config.Validate, NewClient and SaramaConfig agree.
			cfg := kclient.Config{Brokers: []string{"127.0.0.1:1"}, Security: c.sec}
			if gotErr := cfg.Validate(); (gotErr == nil) != (err == nil) {
				t.Errorf("Config.Validate: %v, Security.Validate: %v", gotErr, err)
			}
			if _, serr := kclient.SaramaConfig(cfg); (serr == nil) != (err == nil) {
				t.Errorf("SaramaConfig: %v, Security.Validate: %v", serr, err)
			}
		})
	}
}

func TestSecretsAreNeverPrinted(t *testing.T) {
	const pw, key = "hunter2-password", "-----BEGIN EC PRIVATE KEY-----\nsecret-key-bytes\n-----END EC PRIVATE KEY-----\n"
	cfg := kclient.Config{Brokers: []string{"b:1"}, Security: kclient.Security{
		TLS:  kclient.TLS{Key: key, Cert: []byte("not a cert")},
		SASL: kclient.SASL{Mechanism: "SCRAM-SHA-256", Username: "alice", Password: pw},
	}}
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("config", "kafka", cfg, "password", cfg.Security.SASL.Password)
	js, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, verr := kclient.SaramaConfig(cfg)
	for _, out := range []string{
		fmt.Sprint(cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg), fmt.Sprintf("%s|%q", cfg.Security.SASL.Password, cfg.Security.SASL.Password),
		logs.String(), string(js), verr.Error(),
	} {
		if strings.Contains(out, pw) || strings.Contains(out, "secret-key-bytes") {
			t.Errorf("a secret leaked: %s", out)
		}
	}
	if !strings.Contains(fmt.Sprint(cfg), "[redacted]") || !strings.Contains(logs.String(), "[redacted]") {
		t.Errorf("secrets are not marked redacted: %v / %s", cfg, logs.String())
	}
	if cfg.Security.SASL.Password.Reveal() != pw {
		t.Error("Reveal does not return the value")
	}
}

// secureConfig returns a client configuration for s with the given mechanism.
func secureConfig(s *testenv.Secure, mech string) kclient.Config {
	return kclient.Config{Brokers: s.Addrs, ClientID: "riptide-test", Security: kclient.Security{
		TLS:  kclient.TLS{CA: s.PKI.CA},
		SASL: kclient.SASL{Mechanism: mech, Username: s.User, Password: kclient.Secret(s.Password)},
	}}
}

// roundTripFranz produces n records with a franz-go client and reads them
// back with another.
func roundTripFranz(t *testing.T, kc kclient.Config, topic string) {
	t.Helper()
	ctx := testenv.Context(t, 30*time.Second)
	cl, err := kclient.NewClient(kc, kgo.DefaultProduceTopic(topic))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := kclient.Ping(ctx, cl, kc.Brokers); err != nil {
		t.Fatal(err)
	}
	const n = 20
	for i := range n {
		if err := cl.ProduceSync(ctx, &kgo.Record{Key: fmt.Appendf(nil, "10.0.0.%d", i), Value: []byte("v")}).FirstErr(); err != nil {
			t.Fatalf("produce: %v", err)
		}
	}
	rd, err := kclient.NewClient(kc, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	got := 0
	for got < n {
		fs := rd.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d of %d records before the deadline", got, n)
		}
		if err := fs.Err0(); err != nil {
			t.Fatalf("fetch: %v", err)
		}
		got += fs.NumRecords()
	}
}

// roundTripSarama produces and consumes with sarama clients configured by
// SaramaConfig, as goka's processors are.
// Besides its own n records it reads the n roundTripFranz wrote.
func roundTripSarama(t *testing.T, kc kclient.Config, topic string) {
	t.Helper()
	cfg, err := kclient.SaramaConfig(kc)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Producer.Return.Successes = true
	pr, err := sarama.NewSyncProducer(kc.Brokers, cfg)
	if err != nil {
		t.Fatalf("sarama producer: %v", err)
	}
	defer func() { _ = pr.Close() }()
	const n = 20
	for i := range n {
		if _, _, err := pr.SendMessage(&sarama.ProducerMessage{Topic: topic, Key: sarama.StringEncoder(fmt.Sprint(i)), Value: sarama.StringEncoder("v")}); err != nil {
			t.Fatalf("sarama produce: %v", err)
		}
	}
	ccfg, err := kclient.SaramaConfig(kc)
	if err != nil {
		t.Fatal(err)
	}
	co, err := sarama.NewConsumer(kc.Brokers, ccfg)
	if err != nil {
		t.Fatalf("sarama consumer: %v", err)
	}
	defer func() { _ = co.Close() }()
	parts, err := co.Partitions(topic)
	if err != nil {
		t.Fatal(err)
	}
	got := 0
	deadline := time.After(30 * time.Second)
	for _, p := range parts {
		pc, err := co.ConsumePartition(topic, p, sarama.OffsetOldest)
		if err != nil {
			t.Fatal(err)
		}
		hw := pc.HighWaterMarkOffset()
		for off := int64(0); off < hw; {
			select {
			case m := <-pc.Messages():
				off = m.Offset + 1
				got++
			case <-deadline:
				t.Fatalf("read %d of %d records before the deadline", got, 2*n)
			}
		}
		_ = pc.Close()
	}
	if got != 2*n {
		t.Fatalf("sarama read %d records, want %d", got, 2*n)
	}
}

func TestTLSAndSASLEveryMechanism(t *testing.T) {
	topics := []string{"secure-0", "secure-1", "secure-2"}
	s := testenv.SecureKafka(t, testenv.SecureOptions{Opts: []kfake.Opt{kfake.SeedTopics(3, topics...)}})
	for i, mech := range kclient.Mechanisms {
		t.Run(mech, func(t *testing.T) {
			kc := secureConfig(s, mech)
			topic := topics[i]
			roundTripFranz(t, kc, topic)
			roundTripSarama(t, kc, topic)
		})
	}
}

// pingFails checks that Ping fails within a bounded time with an error
// that mentions every one of want and never the password.
func pingFails(t *testing.T, kc kclient.Config, want ...string) {
	t.Helper()
	cl, err := kclient.NewClient(kc)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	start := time.Now()
	err = kclient.Ping(context.Background(), cl, kc.Brokers)
	el := time.Since(start)
	if err == nil {
		t.Fatal("Ping succeeded")
	}
	if el > 11*time.Second {
		t.Errorf("Ping took %v to fail", el)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not mention %q", err, w)
		}
	}
	if pw := kc.Security.SASL.Password.Reveal(); pw != "" && strings.Contains(err.Error(), pw) {
		t.Errorf("error reveals the password: %v", err)
	}
}

// saramaFails checks that a sarama client configured like goka's fails to
// connect within a bounded time.
func saramaFails(t *testing.T, kc kclient.Config) {
	t.Helper()
	cfg, err := kclient.SaramaConfig(kc)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	sc, err := sarama.NewClient(kc.Brokers, cfg)
	if err == nil {
		_ = sc.Close()
		t.Fatal("sarama connected")
	}
	if el := time.Since(start); el > 11*time.Second {
		t.Errorf("sarama took %v to fail", el)
	}
	if pw := kc.Security.SASL.Password.Reveal(); pw != "" && strings.Contains(err.Error(), pw) {
		t.Errorf("error reveals the password: %v", err)
	}
}

func TestWrongPasswordFailsFast(t *testing.T) {
	s := testenv.SecureKafka(t, testenv.SecureOptions{})
	for _, mech := range kclient.Mechanisms {
		t.Run(mech, func(t *testing.T) {
			kc := secureConfig(s, mech)
			kc.Security.SASL.Password = "wrong-password"
			pingFails(t, kc, s.Addrs[0], "password")
			saramaFails(t, kc)
			// goka's clients, built by kclient, fail with a hint.
			start := time.Now()
			_, err := goka.NewEmitter(kc.Brokers, "secure", new(codec.String), kclient.GokaEmitterOptions(kc)...)
			if err == nil || !strings.Contains(err.Error(), "check the --tls and --sasl settings") || strings.Contains(err.Error(), "wrong-password") {
				t.Errorf("goka emitter with a wrong password: %v", err)
			}
			if el := time.Since(start); el > 11*time.Second {
				t.Errorf("goka emitter took %v to fail", el)
			}
			kc = secureConfig(s, mech)
			kc.Security.SASL.Username = "mallory"
			pingFails(t, kc, "username")
			saramaFails(t, kc)
		})
	}
}

func TestTLSMismatchesFailFast(t *testing.T) {
	s := testenv.SecureKafka(t, testenv.SecureOptions{})
	t.Run("plaintext client", func(t *testing.T) {
		kc := secureConfig(s, kclient.MechanismSCRAMSHA256)
		kc.Security.TLS = kclient.TLS{}
		pingFails(t, kc, "--tls")
		saramaFails(t, kc)
	})
	t.Run("no SASL", func(t *testing.T) {
		// The broker really requires authentication: the other tests'
		// successes are not for free.
		kc := secureConfig(s, kclient.MechanismSCRAMSHA256)
		kc.Security.SASL = kclient.SASL{}
		pingFails(t, kc, "--sasl-mechanism")
		saramaFails(t, kc)
	})
	t.Run("untrusted CA", func(t *testing.T) {
		kc := secureConfig(s, kclient.MechanismSCRAMSHA256)
		kc.Security.TLS.CA = testenv.NewPKI(t).CA
		pingFails(t, kc, "unknown authority", "--tls-ca")
		saramaFails(t, kc)
	})
	plain := testenv.Kafka(t, 1)
	t.Run("TLS client, plaintext broker", func(t *testing.T) {
		kc := kclient.Config{Brokers: plain, Security: kclient.Security{TLS: kclient.TLS{CA: s.PKI.CA}}}
		// sarama is not checked here: its TLS handshake against a plaintext
		// listener waits for Net.DialTimeout on each of its retries (two
		// minutes in all); riptide's commands ping with franz-go first.
		pingFails(t, kc, "TLS on this port")
	})
}

func TestTLSServerNameAndClientCertificates(t *testing.T) {
	s := testenv.SecureKafka(t, testenv.SecureOptions{
		Names:             []string{"kafka.riptide.test"},
		RequireClientCert: true,
		Opts:              []kfake.Opt{kfake.SeedTopics(2, "mtls")},
	})
	kc := secureConfig(s, kclient.MechanismSCRAMSHA512)
	kc.Security.TLS.Cert, kc.Security.TLS.Key = s.PKI.ClientCert, kclient.Secret(s.PKI.ClientKey)
	t.Run("certificate names another host", func(t *testing.T) {
		pingFails(t, kc, "certificate is for kafka.riptide.test, not 127.0.0.1", "--tls-server-name")
		saramaFails(t, kc)
	})
	kc.Security.TLS.ServerName = "kafka.riptide.test"
	t.Run("no client certificate", func(t *testing.T) {
		kc := kc
		kc.Security.TLS.Cert, kc.Security.TLS.Key = nil, ""
		pingFails(t, kc, "--tls-cert")
		saramaFails(t, kc)
	})
	t.Run("server name and client certificate", func(t *testing.T) {
		roundTripFranz(t, kc, "mtls")
		roundTripSarama(t, kc, "mtls")
	})
}
