package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/riptide-nids/riptide/kclient"
	"github.com/riptide-nids/riptide/topology"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// usageError marks errors in the command line (exit code 2).
type usageError struct{ error }

func usagef(format string, a ...any) error { return usageError{fmt.Errorf(format, a...)} }

// globals are the flags every subcommand shares.
type globals struct {
	brokers   string
	prefix    string
	logLevel  string
	logFormat string
	sec       securityFlags
}

func (g *globals) logger(w io.Writer) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(g.logLevel)); err != nil {
		return nil, usagef("--log-level %q: use debug, info, warn or error", g.logLevel)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	switch g.logFormat {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, usagef("--log-format %q: use text or json", g.logFormat)
}

func (g *globals) topology() (*topology.Topology, error) {
	t, err := topology.New(g.prefix)
	if err != nil {
		return nil, usageError{err}
	}
	return t, nil
}

func (g *globals) kafka() (kclient.Config, error) {
	kc := kclient.Config{Brokers: kclient.ParseBrokers(g.brokers), ClientID: "riptide"}
	if len(kc.Brokers) == 0 {
		return kc, usageError{kclient.ErrNoBrokers}
	}
	sec, err := g.sec.security()
	kc.Security = sec
	return kc, err
}

// cluster returns the topology and the Kafka settings of the global flags.
func (g *globals) cluster() (*topology.Topology, kclient.Config, error) {
	top, err := g.topology()
	if err != nil {
		return nil, kclient.Config{}, err
	}
	kc, err := g.kafka()
	return top, kc, err
}

func newRoot() *cobra.Command {
	g := &globals{}
	root := &cobra.Command{
		Use:   "riptide",
		Short: "Real-time network anomaly detection on Kafka",
		Long: `riptide watches network traffic, learns what normal looks like per host, and raises an
alert within seconds when a host starts scanning, flooding, brute-forcing or beaconing.

It runs as Kafka consumer groups (windower, trainer, detector) fed by producers
(riptide capture), and everything can run in one process on an embedded broker
(riptide demo).`,
		Example: `  # everything in one process, synthetic traffic with injected attacks
  riptide demo

  # replay a real capture through the embedded broker
  riptide demo --pcap capture.pcap --json

  # score the detector against labelled traffic
  riptide backtest --pcap bench.pcap --labels bench.labels.csv

  # a cluster with TLS and SASL/SCRAM (password from a file or RIPTIDE_SASL_PASSWORD)
  riptide run --brokers kafka1:9093 --tls-ca ca.pem \
    --sasl-mechanism scram-sha-512 --sasl-username riptide --sasl-password-file /run/secrets/kafka`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version,
	}
	pf := root.PersistentFlags()
	pf.StringVar(&g.brokers, "brokers", envOr("RIPTIDE_BROKERS", ""), "Kafka bootstrap brokers, comma-separated (env RIPTIDE_BROKERS)")
	pf.StringVar(&g.prefix, "prefix", envOr("RIPTIDE_PREFIX", topology.DefaultPrefix), "name prefix of every topic and group (env RIPTIDE_PREFIX)")
	pf.StringVar(&g.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	pf.StringVar(&g.logFormat, "log-format", "text", "log format on stderr: text or json")
	g.sec.register(pf)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(
		newBrokerCmd(g), newTopicsCmd(g), newCaptureCmd(g), newRunCmd(g), newTailCmd(g),
		newDemoCmd(g), newBacktestCmd(g), newModelCmd(g), newSyslogCmd(g),
		newNotifyCmd(g),
	)
	root.AddCommand(newLabelCmd(g), newFeedbackAPICmd(g), newModelsCmd(g))
	return root
}

func envOr(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}

// noArgs rejects positional arguments with a usage error.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usagef("%s takes no arguments, got %q (see --help)", cmd.CommandPath(), strings.Join(args, " "))
	}
	return nil
}
