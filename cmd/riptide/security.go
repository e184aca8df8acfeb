package main

import (
	"crypto/tls"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/riptide-nids/riptide/embedded"
	"github.com/riptide-nids/riptide/kclient"
)

// Environment variables of the security settings. The password is read from
// envSASLPassword or from a file, never from a flag, so that it appears
// neither in `ps` nor in --help.
const (
	envTLS              = "RIPTIDE_TLS"
	envTLSCA            = "RIPTIDE_TLS_CA"
	envTLSCert          = "RIPTIDE_TLS_CERT"
	envTLSKey           = "RIPTIDE_TLS_KEY"
	envTLSServerName    = "RIPTIDE_TLS_SERVER_NAME"
	envSASLMechanism    = "RIPTIDE_SASL_MECHANISM"
	envSASLUsername     = "RIPTIDE_SASL_USERNAME"
	envSASLPassword     = "RIPTIDE_SASL_PASSWORD"
	envSASLPasswordFile = "RIPTIDE_SASL_PASSWORD_FILE"
)

// securityFlags are the global TLS and SASL flags.
type securityFlags struct {
	tls                       bool
	tlsEnvErr                 error
	ca, cert, key, serverName string
	mechanism, username       string
	passwordFile              string
}

func (s *securityFlags) register(fs *pflag.FlagSet) {
	if v, ok := os.LookupEnv(envTLS); ok && v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			s.tlsEnvErr = usagef("%s=%q: use true or false", envTLS, v)
		}
		s.tls = b
	}
	fs.BoolVar(&s.tls, "tls", s.tls, "connect to Kafka over TLS, trusting the system's CAs unless --tls-ca is given (env "+envTLS+"=true)")
	fs.StringVar(&s.ca, "tls-ca", envOr(envTLSCA, ""), "PEM file of the CA certificates that sign the brokers' certificates; implies --tls (env "+envTLSCA+")")
	fs.StringVar(&s.cert, "tls-cert", envOr(envTLSCert, ""), "PEM file of the client certificate, for brokers that require one; needs --tls-key (env "+envTLSCert+")")
	fs.StringVar(&s.key, "tls-key", envOr(envTLSKey, ""), "PEM file of the client certificate's private key (env "+envTLSKey+")")
	fs.StringVar(&s.serverName, "tls-server-name", envOr(envTLSServerName, ""), "name expected in the brokers' certificates (default: the host of each broker address) (env "+envTLSServerName+")")
	fs.StringVar(&s.mechanism, "sasl-mechanism", envOr(envSASLMechanism, ""), "authenticate with SASL: plain, scram-sha-256 or scram-sha-512 (env "+envSASLMechanism+")")
	fs.StringVar(&s.username, "sasl-username", envOr(envSASLUsername, ""), "SASL username (env "+envSASLUsername+")")
	fs.StringVar(&s.passwordFile, "sasl-password-file", envOr(envSASLPasswordFile, ""), "file holding the SASL password (env "+envSASLPasswordFile+"; or the password itself in "+envSASLPassword+")")
}

// security reads the files the flags name and returns the settings.
// Conflicts are usage errors; unreadable files are runtime errors. No error
// carries the password or a key.
func (s *securityFlags) security() (kclient.Security, error) {
	var sec kclient.Security
	if s.tlsEnvErr != nil {
		return sec, s.tlsEnvErr
	}
	var err error
	sec.TLS.Enable = s.tls
	sec.TLS.ServerName = s.serverName
	if sec.TLS.CA, err = readFlagFile("--tls-ca", s.ca); err != nil {
		return sec, err
	}
	if sec.TLS.Cert, err = readFlagFile("--tls-cert", s.cert); err != nil {
		return sec, err
	}
	key, err := readFlagFile("--tls-key", s.key)
	if err != nil {
		return sec, err
	}
	sec.TLS.Key = kclient.Secret(key)
	if err := sec.TLS.Validate(); err != nil {
		return sec, usageError{err}
	}

	if s.mechanism != "" {
		m, err := kclient.ParseMechanism(s.mechanism)
		if err != nil {
			return sec, usagef("--sasl-mechanism: %w", err)
		}
		sec.SASL.Mechanism = m
	}
	sec.SASL.Username = s.username
	envPW, hasEnvPW := os.LookupEnv(envSASLPassword)
	switch {
	case s.passwordFile != "" && hasEnvPW:
		return sec, usagef("the SASL password is given twice, by --sasl-password-file (or %s) and by %s: unset one", envSASLPasswordFile, envSASLPassword)
	case s.passwordFile != "":
		pw, err := readFlagFile("--sasl-password-file", s.passwordFile)
		if err != nil {
			return sec, err
		}
		// Editors and `echo` end files with a newline; it is not part of
		// the password.
		sec.SASL.Password = kclient.Secret(strings.TrimRight(string(pw), "\r\n"))
		if sec.SASL.Password == "" {
			return sec, usagef("--sasl-password-file %s is empty", s.passwordFile)
		}
	case hasEnvPW:
		if envPW == "" {
			return sec, usagef("%s is set but empty", envSASLPassword)
		}
		sec.SASL.Password = kclient.Secret(envPW)
	}
	if err := sec.SASL.Validate(); err != nil {
		return sec, usageError{err}
	}
	return sec, nil
}

// readFlagFile reads the file a flag names; an empty name reads nothing.
func readFlagFile(flag, name string) ([]byte, error) {
	if name == "" {
		return nil, nil
	}
	b, err := os.ReadFile(name)
	if err != nil {
		// The error names the file, never its content.
		return nil, fmt.Errorf("%s: %w", flag, err)
	}
	return b, nil
}

// brokerSecurity sets the embedded broker's TLS from its server certificate
// files and its SASL user from the global SASL settings.
func (g *globals) brokerSecurity(o *embedded.Options, certFile, keyFile string) error {
	if (certFile == "") != (keyFile == "") {
		return usagef("give both --server-cert and --server-key, or neither")
	}
	if certFile != "" {
		cert, err := readFlagFile("--server-cert", certFile)
		if err != nil {
			return err
		}
		key, err := readFlagFile("--server-key", keyFile)
		if err != nil {
			return err
		}
		pair, err := tls.X509KeyPair(cert, key)
		if err != nil {
			return usagef("--server-cert %s, --server-key %s: %w", certFile, keyFile, err)
		}
		o.TLS = &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}
	}
	sec, err := g.sec.security()
	if err != nil {
		return err
	}
	if s := sec.SASL; s.Enabled() {
		o.Users = []embedded.User{{Mechanism: s.Mechanism, Name: s.Username, Password: s.Password.Reveal()}}
	}
	return nil
}
