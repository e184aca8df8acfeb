package kclient

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// SASL mechanisms riptide's clients speak.
const (
	MechanismPlain       = "PLAIN"
	MechanismSCRAMSHA256 = "SCRAM-SHA-256"
	MechanismSCRAMSHA512 = "SCRAM-SHA-512"
)

// Mechanisms lists the supported SASL mechanisms.
var Mechanisms = []string{MechanismPlain, MechanismSCRAMSHA256, MechanismSCRAMSHA512}

// ParseMechanism returns the SASL mechanism named by s, in any case
// ("scram-sha-256" is SCRAM-SHA-256).
func ParseMechanism(s string) (string, error) {
	for _, m := range Mechanisms {
		if strings.EqualFold(strings.TrimSpace(s), m) {
			return m, nil
		}
	}
	return "", fmt.Errorf("kclient: unknown SASL mechanism %q (use plain, scram-sha-256 or scram-sha-512)", s)
}

// Secret is a string that is never printed: fmt, log/slog and encoders see
// "[redacted]". Read its value with Reveal.
type Secret string

const redacted = "[redacted]"

// Reveal returns the secret's value.
func (s Secret) Reveal() string { return string(s) }

// String implements fmt.Stringer without revealing the value.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// GoString implements fmt.GoStringer without revealing the value.
func (s Secret) GoString() string { return fmt.Sprintf("%q", s.String()) }

// LogValue implements slog.LogValuer without revealing the value.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalText implements encoding.TextMarshaler without revealing the value.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Security says how riptide's clients encrypt traffic to the brokers and
// authenticate. The zero value is plaintext without authentication.
type Security struct {
	TLS  TLS
	SASL SASL
}

// TLS configures encrypted connections to the brokers. The certificates and
// key are PEM text, not file names: the command line reads the files.
type TLS struct {
	// Enable turns TLS on. Any other field set implies it.
	Enable bool
	// CA holds the PEM certificates that sign the brokers' certificates;
	// empty trusts the system's roots.
	CA []byte
	// Cert and Key are the client's certificate chain and private key (PEM),
	// for brokers that require client certificates (mutual TLS). Both or
	// neither.
	Cert []byte
	Key  Secret
	// ServerName is the name expected in the brokers' certificates; empty
	// uses the host of each broker address.
	ServerName string
}

// Enabled reports whether connections use TLS.
func (t *TLS) Enabled() bool {
	return t.Enable || len(t.CA) > 0 || len(t.Cert) > 0 || t.Key != "" || t.ServerName != ""
}

// Validate checks the settings and parses the certificates and key.
func (t *TLS) Validate() error {
	_, err := t.Config()
	return err
}

// Config returns the client TLS configuration, or nil when TLS is off.
func (t *TLS) Config() (*tls.Config, error) {
	if !t.Enabled() {
		return nil, nil
	}
	c := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: t.ServerName}
	if len(t.CA) > 0 {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(t.CA) {
			return nil, errors.New("kclient: TLS CA: no PEM certificate found (want a file with -----BEGIN CERTIFICATE-----)")
		}
		c.RootCAs = pool
	}
	switch {
	case len(t.Cert) > 0 && t.Key == "":
		return nil, errors.New("kclient: TLS client certificate given without its key (give both --tls-cert and --tls-key, or neither)")
	case len(t.Cert) == 0 && t.Key != "":
		return nil, errors.New("kclient: TLS client key given without its certificate (give both --tls-cert and --tls-key, or neither)")
	case len(t.Cert) > 0:
		// The error of X509KeyPair never quotes the key.
		pair, err := tls.X509KeyPair(t.Cert, []byte(t.Key.Reveal()))
		if err != nil {
			return nil, fmt.Errorf("kclient: TLS client certificate and key: %w", err)
		}
		c.Certificates = []tls.Certificate{pair}
	}
	return c, nil
}

// SASL configures authentication to the brokers.
type SASL struct {
	// Mechanism is PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512; empty turns SASL
	// off.
	Mechanism string
	// Username and Password are the credentials.
	Username string
	Password Secret
}

// Enabled reports whether clients authenticate with SASL.
func (s *SASL) Enabled() bool { return s.Mechanism != "" }

// Validate names the conflict in the settings, if any.
func (s *SASL) Validate() error {
	if !s.Enabled() {
		if s.Username != "" || s.Password != "" {
			return errors.New("kclient: SASL username or password given without a mechanism (add --sasl-mechanism plain, scram-sha-256 or scram-sha-512)")
		}
		return nil
	}
	if _, err := ParseMechanism(s.Mechanism); err != nil {
		return err
	}
	if s.Username == "" {
		return fmt.Errorf("kclient: SASL %s needs a username (--sasl-username or RIPTIDE_SASL_USERNAME)", s.mechanism())
	}
	if s.Password == "" {
		return fmt.Errorf("kclient: SASL %s needs a password (--sasl-password-file or RIPTIDE_SASL_PASSWORD)", s.mechanism())
	}
	return nil
}

func (s *SASL) mechanism() string {
	m, err := ParseMechanism(s.Mechanism)
	if err != nil {
		return s.Mechanism
	}
	return m
}

// Validate checks the TLS and SASL settings.
func (s *Security) Validate() error {
	if err := s.TLS.Validate(); err != nil {
		return err
	}
	return s.SASL.Validate()
}

// kgoOpts returns the franz-go options for the security settings.
func (s *Security) kgoOpts() ([]kgo.Opt, error) {
	var opts []kgo.Opt
	tc, err := s.TLS.Config()
	if err != nil {
		return nil, err
	}
	if tc != nil {
		opts = append(opts, kgo.DialTLSConfig(tc))
	}
	if err := s.SASL.Validate(); err != nil {
		return nil, err
	}
	if s.SASL.Enabled() {
		var m sasl.Mechanism
		switch s.SASL.mechanism() {
		case MechanismPlain:
			m = plain.Auth{User: s.SASL.Username, Pass: s.SASL.Password.Reveal()}.AsMechanism()
		case MechanismSCRAMSHA256:
			m = scram.Auth{User: s.SASL.Username, Pass: s.SASL.Password.Reveal()}.AsSha256Mechanism()
		case MechanismSCRAMSHA512:
			m = scram.Auth{User: s.SASL.Username, Pass: s.SASL.Password.Reveal()}.AsSha512Mechanism()
		}
		opts = append(opts, kgo.SASL(m))
	}
	return opts, nil
}

// applySarama sets the security settings on a sarama configuration.
func (s *Security) applySarama(cfg *sarama.Config) error {
	tc, err := s.TLS.Config()
	if err != nil {
		return err
	}
	if tc != nil {
		cfg.Net.TLS.Enable = true
		cfg.Net.TLS.Config = tc
	}
	if err := s.SASL.Validate(); err != nil {
		return err
	}
	if !s.SASL.Enabled() {
		return nil
	}
	cfg.Net.SASL.Enable = true
	cfg.Net.SASL.Handshake = true
	cfg.Net.SASL.Version = sarama.SASLHandshakeV1
	cfg.Net.SASL.User = s.SASL.Username
	cfg.Net.SASL.Password = s.SASL.Password.Reveal()
	switch m := s.SASL.mechanism(); m {
	case MechanismPlain:
		cfg.Net.SASL.Mechanism = sarama.SASLTypePlaintext
	case MechanismSCRAMSHA256, MechanismSCRAMSHA512:
		cfg.Net.SASL.Mechanism = sarama.SASLMechanism(m)
		cfg.Net.SASL.SCRAMClientGeneratorFunc = func() sarama.SCRAMClient { return &scramClient{sha512: m == MechanismSCRAMSHA512} }
	}
	return nil
}

// scramClient is sarama's SCRAM client over franz-go's SCRAM implementation,
// so both kinds of client authenticate with the same code.
type scramClient struct {
	sha512 bool
	sess   sasl.Session
	first  []byte
	step   int
	done   bool
}

// Begin starts a conversation; sarama passes the configured credentials.
func (c *scramClient) Begin(user, pass, authzID string) error {
	a := scram.Auth{Zid: authzID, User: user, Pass: pass}
	m := a.AsSha256Mechanism()
	if c.sha512 {
		m = a.AsSha512Mechanism()
	}
	sess, first, err := m.Authenticate(context.Background(), "")
	if err != nil {
		return err
	}
	c.sess, c.first, c.step, c.done = sess, first, 0, false
	return nil
}

// Step returns the client-first message on the first call, then answers
// each server message.
func (c *scramClient) Step(challenge string) (string, error) {
	c.step++
	if c.step == 1 {
		return string(c.first), nil
	}
	done, resp, err := c.sess.Challenge([]byte(challenge))
	if err != nil {
		return "", fmt.Errorf("kclient: SCRAM: %w", err)
	}
	c.done = done
	return string(resp), nil
}

// Done reports whether the server has been verified.
func (c *scramClient) Done() bool { return c.done }
