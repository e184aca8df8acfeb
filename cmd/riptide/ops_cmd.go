package main

import (
	"context"
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/pflag"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/riptide-nids/riptide/ops"
)

// metricsFlag is --metrics-addr, shared by the long-running subcommands.
type metricsFlag struct{ addr string }

// metricsExample is the --help example line of --metrics-addr.
const metricsExample = "  # Prometheus metrics on :9400/metrics, probes on /healthz and /readyz\n"

func (f *metricsFlag) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.addr, "metrics-addr", envOr("RIPTIDE_METRICS_ADDR", ""),
		"serve Prometheus /metrics, /healthz and /readyz on this address, e.g. :9400 or 127.0.0.1:0 (env RIPTIDE_METRICS_ADDR; default: no server)")
}

// start starts the metrics server when --metrics-addr is set and returns
// the metrics to update (nil without the flag) and a function that stops
// the server and waits for it. The process starts not ready ("starting").
// register, if given, add collectors of their own to the same registry.
func (f *metricsFlag) start(ctx context.Context, log *slog.Logger, register ...func(prometheus.Registerer) error) (*ops.Metrics, func(), error) {
	if f.addr == "" {
		return nil, func() {}, nil
	}
	if _, _, err := net.SplitHostPort(f.addr); err != nil {
		return nil, nil, usagef("--metrics-addr %q: want host:port, e.g. :9400 or 127.0.0.1:9400 (%v)", f.addr, err)
	}
	reg := ops.NewRegistry()
	m, err := ops.New(reg)
	if err != nil {
		return nil, nil, err
	}
	for _, r := range register {
		if err := r(reg); err != nil {
			return nil, nil, err
		}
	}
	srv, err := ops.Listen(f.addr, m.Handler(reg, log))
	if err != nil {
		return nil, nil, err
	}
	log.Info("serving metrics", "addr", srv.Addr())
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(sctx); err != nil {
			log.Error("metrics server stopped", "err", err)
		}
	}()
	return m, func() { cancel(); <-done }, nil
}

// connReadiness is a franz-go hook that keeps a producer's readiness in m:
// ready while its last connection attempt to a broker succeeded, not ready
// (with the broker and error) while it fails.
type connReadiness struct{ m *ops.Metrics }

var _ kgo.HookBrokerConnect = connReadiness{}

// OnBrokerConnect implements kgo.HookBrokerConnect.
func (c connReadiness) OnBrokerConnect(meta kgo.BrokerMetadata, _ time.Duration, _ net.Conn, err error) {
	if err != nil {
		c.m.SetReady(false, "cannot connect to Kafka broker "+net.JoinHostPort(meta.Host, strconv.Itoa(int(meta.Port)))+": "+err.Error())
		return
	}
	c.m.SetReady(true, "")
}
