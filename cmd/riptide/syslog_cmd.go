package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"log/slog"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/sync/errgroup"

	"github.com/riptide-nids/riptide/kclient"
	"github.com/riptide-nids/riptide/syslog"
	"github.com/riptide-nids/riptide/syslog/relay"
)

// syslogFlags are the flags of riptide syslog.
type syslogFlags struct {
	listen             string
	cert, key          string
	files              []string
	fromStart, replay  bool
	year               int
	timezone           string
	maxSize            int
	overflow           string
	udpBuffer          int
	maxConns           int
	hostAddrs          []string
	noEvents           bool
	flushTimeout       time.Duration
	maxBufferedRecords int
}

func newSyslogCmd(g *globals) *cobra.Command {
	var sf syslogFlags
	var mf metricsFlag
	cmd := &cobra.Command{
		Use:   "syslog --listen udp://ADDR,tcp://ADDR[,tls://ADDR] [--file PATH...] --brokers B",
		Short: "Receive syslog (UDP, TCP, TLS, log files) and produce it to Kafka",
		Long: `syslog receives RFC 5424 and RFC 3164 messages over UDP (one message per datagram),
TCP and TLS (RFC 6587 framing: octet counting "LEN MSG" or one message per line,
detected per message; TLS as in RFC 5425) and from log files, which it follows
across rotation like tail -F. Every message becomes one record on the syslog topic:
key = the reporting host (HOSTNAME, else the sender's address), value = the raw
message, timestamp = the message's time.

RFC 3164 timestamps carry no year. By default the year is the current one, or the
previous one for a timestamp more than a month ahead of now (December messages
read in January). Replaying an old file, give its year with --year.

Security events found in the messages (sshd failed and accepted logins, invalid
users, POSSIBLE BREAK-IN warnings, PAM authentication failures, sudo failures) go
to the events topic, one record per event and host concerned: a failed login from
A on server B is a record keyed A (role source) and one keyed B (role target). The
server's address is its HOSTNAME if that is an address, else --host-addr NAME=ADDR,
else the sender's address.

Messages that do not parse, or are longer than --max-size, go to the dead-letter
topic with the raw bytes and the reason (header riptide-reason); the listeners keep
running. When Kafka cannot keep up, --overflow block slows the inputs down (TCP
back-pressure; the kernel's UDP buffer fills and drops) and --overflow drop drops
messages; both are counted. SIGINT/SIGTERM stop the listeners and flush what was
received. On exit it prints one JSON object of counts.`,
		Example: `  riptide syslog --listen udp://:514,tcp://:514 --brokers kafka:9092
  riptide syslog --listen tls://:6514 --listen-cert relay.pem --listen-key relay.key --brokers kafka:9092
  riptide syslog --file /var/log/auth.log --host-addr "$(hostname)=10.0.0.5" --brokers kafka:9092
  # replay an old log file once, from its start, with its year
  riptide syslog --file OpenSSH_2k.log --replay --year 2016 --brokers 127.0.0.1:9092
` + metricsExample + `  riptide syslog --listen udp://:514 --brokers kafka:9092 --metrics-addr :9400`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := g.logger(os.Stderr)
			if err != nil {
				return err
			}
			rc, eps, fc, tlsCfg, err := sf.config()
			if err != nil {
				return err
			}
			top, kc, err := g.cluster()
			if err != nil {
				return err
			}
			rc.Topic, rc.DeadLetter = top.Syslog.Name, top.DeadLetter.Name
			if !sf.noEvents {
				rc.Events = top.Events.Name
			}
			ctx := cmd.Context()
			m, stopMetrics, err := mf.start(ctx, log)
			if err != nil {
				return err
			}
			defer stopMetrics()
			opts := []kgo.Opt{kgo.MaxBufferedRecords(sf.maxBufferedRecords)}
			if m != nil {
				opts = append(opts, kgo.WithHooks(connReadiness{m}))
			}
			cl, err := kclient.NewClient(kc, opts...)
			if err != nil {
				return err
			}
			defer cl.Close()
			if err := kclient.Ping(ctx, cl, kc.Brokers); err != nil {
				return err
			}
			for _, t := range []string{rc.Topic, rc.Events, rc.DeadLetter} {
				if t == "" {
					continue
				}
				if _, err := kclient.PartitionCount(ctx, cl, t); err != nil {
					return err
				}
			}
			rc.Metrics, rc.Log = m, log
			r, err := relay.New(cl, rc)
			if err != nil {
				return err
			}
			var ls []*relay.Listener
			for _, e := range eps {
				l, err := relay.Listen(ctx, e, relay.ListenConfig{TLS: tlsCfg, UDPBuffer: sf.udpBuffer, MaxConns: sf.maxConns})
				if err != nil {
					return err
				}
				log.Info("listening", "listener", e.Transport+"://"+l.Addr().String())
				ls = append(ls, l)
			}
			m.SetReady(true, "")
			// On SIGINT/SIGTERM the inputs stop and what they took is flushed;
			// if Kafka has not taken it within --flush-timeout, give up.
			stopAbort := context.AfterFunc(ctx, func() { time.AfterFunc(sf.flushTimeout, r.Abort) })
			defer stopAbort()
			start := time.Now()
			eg, ectx := errgroup.WithContext(ctx)
			for _, l := range ls {
				eg.Go(func() error { return r.Serve(ectx, l) })
			}
			for _, f := range sf.files {
				eg.Go(func() error { return r.Follow(ectx, f, fc) })
			}
			err = eg.Wait()
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sf.flushTimeout)
			defer cancel()
			ferr := r.Flush(fctx)
			st := r.Stats()
			el := time.Since(start)
			log.Info("syslog stopped", "received", st.Received, "produced", st.Produced, "events", st.Events,
				"dead_lettered", st.DeadLettered, "dropped", st.Dropped, "failed", st.Failed)
			if jerr := json.NewEncoder(os.Stdout).Encode(map[string]any{"syslog": st, "elapsed_s": el.Seconds(),
				"lines_per_second": float64(st.Received) / el.Seconds()}); jerr != nil {
				return jerr
			}
			return errors.Join(err, ferr)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&sf.listen, "listen", "", "listeners, comma-separated: udp://HOST:PORT, tcp://HOST:PORT, tls://HOST:PORT")
	fs.StringVar(&sf.cert, "listen-cert", "", "certificate (PEM) of tls:// listeners")
	fs.StringVar(&sf.key, "listen-key", "", "private key (PEM) of tls:// listeners")
	fs.StringSliceVar(&sf.files, "file", nil, "log file to follow across rotation (new lines only unless --from-start); repeat for several")
	fs.BoolVar(&sf.fromStart, "from-start", false, "read --file files from their beginning, then follow them")
	fs.BoolVar(&sf.replay, "replay", false, "read --file files once from beginning to end and exit (no --listen)")
	fs.IntVar(&sf.year, "year", 0, "year of RFC 3164 timestamps, which have none (0: the current year, or the previous one for dates over a month ahead)")
	fs.StringVar(&sf.timezone, "timezone", "UTC", "time zone of RFC 3164 timestamps (IANA name, e.g. Europe/Berlin, or Local)")
	fs.IntVar(&sf.maxSize, "max-size", syslog.DefaultMaxSize, "longest message in bytes; longer ones are dead-lettered")
	fs.StringVar(&sf.overflow, "overflow", "block", "when Kafka cannot keep up: block (back-pressure) or drop (counted)")
	fs.IntVar(&sf.maxBufferedRecords, "buffer-records", 100_000, "records held for Kafka at most (bounds memory: about this many times the message size)")
	fs.IntVar(&sf.udpBuffer, "udp-buffer", 8<<20, "socket receive buffer of udp:// listeners in bytes (capped by net.core.rmem_max)")
	fs.IntVar(&sf.maxConns, "max-conns", relay.DefaultMaxConns, "connections served at once per tcp:// or tls:// listener; more wait in the kernel's backlog")
	fs.StringSliceVar(&sf.hostAddrs, "host-addr", nil, "address of a reporting host that names itself by name, NAME=ADDR (for events about the server); repeat for several")
	fs.BoolVar(&sf.noEvents, "no-events", false, "do not extract security events")
	fs.DurationVar(&sf.flushTimeout, "flush-timeout", 30*time.Second, "on exit, how long to wait for Kafka to take the records received")
	mf.register(fs)
	return cmd
}

// config checks the flags and returns the relay settings.
func (sf *syslogFlags) config() (relay.Config, []relay.Endpoint, relay.FollowConfig, *tls.Config, error) {
	var rc relay.Config
	var fc relay.FollowConfig
	eps, err := relay.ParseEndpoints(sf.listen)
	if err != nil {
		return rc, nil, fc, nil, usageError{err}
	}
	switch {
	case len(eps) == 0 && len(sf.files) == 0:
		return rc, nil, fc, nil, usagef("nothing to receive: give --listen udp://:514 (or tcp://, tls://) or --file PATH")
	case sf.replay && len(eps) > 0:
		return rc, nil, fc, nil, usagef("--replay reads files once and exits: it cannot be combined with --listen")
	case sf.replay && len(sf.files) == 0:
		return rc, nil, fc, nil, usagef("--replay needs --file")
	case (sf.cert == "") != (sf.key == ""):
		return rc, nil, fc, nil, usagef("--listen-cert and --listen-key go together")
	case sf.year < 0 || sf.year > 9999:
		return rc, nil, fc, nil, usagef("--year %d: give a year such as 2016, or 0 for the current year", sf.year)
	case sf.maxSize < 480:
		return rc, nil, fc, nil, usagef("--max-size %d: must be at least 480 (RFC 5426)", sf.maxSize)
	case sf.maxBufferedRecords < 1:
		return rc, nil, fc, nil, usagef("--buffer-records %d: must be positive", sf.maxBufferedRecords)
	case sf.maxConns < 1:
		return rc, nil, fc, nil, usagef("--max-conns %d: must be positive", sf.maxConns)
	}
	var tlsCfg *tls.Config
	hasTLS := false
	for _, e := range eps {
		hasTLS = hasTLS || e.Transport == "tls"
	}
	switch {
	case hasTLS && sf.cert == "":
		return rc, nil, fc, nil, usagef("a tls:// listener needs --listen-cert and --listen-key")
	case !hasTLS && sf.cert != "":
		return rc, nil, fc, nil, usagef("--listen-cert and --listen-key are for tls:// listeners; add one to --listen")
	case hasTLS:
		pair, err := tls.LoadX509KeyPair(sf.cert, sf.key)
		if err != nil {
			return rc, nil, fc, nil, usagef("--listen-cert/--listen-key: %v", err)
		}
		tlsCfg = &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}
	}
	loc, err := time.LoadLocation(sf.timezone)
	if err != nil {
		return rc, nil, fc, nil, usagef("--timezone %q: %v", sf.timezone, err)
	}
	ov, err := relay.ParseOverflow(sf.overflow)
	if err != nil {
		return rc, nil, fc, nil, usageError{err}
	}
	hosts := map[string]netip.Addr{}
	for _, h := range sf.hostAddrs {
		name, a, ok := strings.Cut(h, "=")
		addr, err := netip.ParseAddr(a)
		if !ok || name == "" || err != nil {
			return rc, nil, fc, nil, usagef("--host-addr %q: use NAME=ADDR, e.g. LabSZ=10.0.0.5", h)
		}
		hosts[name] = addr.Unmap()
	}
	rc = relay.Config{
		Parser:    syslog.ParserConfig{Year: sf.year, Location: loc},
		MaxSize:   sf.maxSize,
		Overflow:  ov,
		HostAddrs: hosts,
		Log:       slog.Default(),
	}
	fc = relay.FollowConfig{FromStart: sf.fromStart, Once: sf.replay}
	return rc, eps, fc, tlsCfg, nil
}
