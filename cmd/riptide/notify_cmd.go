package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/lovoo/goka"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/riptide-nids/riptide/kclient"
	"github.com/riptide-nids/riptide/notify"
	"github.com/riptide-nids/riptide/ops"
	"github.com/riptide-nids/riptide/processors"
	"github.com/riptide-nids/riptide/processors/notifier"
	"github.com/riptide-nids/riptide/siem"
	"github.com/riptide-nids/riptide/topology"
)

// secretFlag is a secret given as a file (--NAME-file, env
// RIPTIDE_NAME_FILE) or as the value itself in the environment
// (RIPTIDE_NAME), never as a flag, so that it appears neither in --help,
// nor in `ps`, nor in shell history.
type secretFlag struct {
	flag, env string // "slack-webhook-url-file", "RIPTIDE_SLACK_WEBHOOK_URL"
	file      string
}

func (s *secretFlag) register(fs *pflag.FlagSet, what string) {
	fs.StringVar(&s.file, s.flag, envOr(s.env+"_FILE", ""), fmt.Sprintf("file holding %s (env %s_FILE; or the value itself in %s)", what, s.env, s.env))
}

// value returns the secret ("" if not given). A trailing newline of the
// file is dropped. Errors never carry the value.
func (s *secretFlag) value() (string, error) {
	env, hasEnv := os.LookupEnv(s.env)
	switch {
	case s.file != "" && hasEnv:
		return "", usagef("given twice, by --%s (or %s_FILE) and by %s: unset one", s.flag, s.env, s.env)
	case s.file != "":
		b, err := readFlagFile("--"+s.flag, s.file)
		if err != nil {
			return "", err
		}
		v := strings.TrimRight(string(b), "\r\n")
		if v == "" {
			return "", usagef("--%s %s is empty", s.flag, s.file)
		}
		return v, nil
	case hasEnv:
		if env == "" {
			return "", usagef("%s is set but empty", s.env)
		}
		return env, nil
	}
	return "", nil
}

// checkURL checks an endpoint URL without printing it (it may hold a
// token).
func checkURL(what, u string) error {
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" {
		return usagef("%s is not an http(s) URL (the value is not shown: it may be secret)", what)
	}
	return nil
}

type sinkFlags struct {
	minSeverity string
	rate        float64
}

func (s *sinkFlags) register(fs *pflag.FlagSet, name, sev string, rate float64) {
	fs.StringVar(&s.minSeverity, name+"-min-severity", sev, "send "+name+" alerts for incidents of at least this severity: info, warning, error, critical")
	fs.Float64Var(&s.rate, name+"-rate", rate, "at most this many "+name+" requests per second on average (0: no limit)")
}

type notifyFlags struct {
	slackURL, slackToken, pdKey, hookURL, hookKey secretFlag
	slackChannel, slackAPI, pdURL, hookFormat     string
	slack, pd, hook                               sinkFlags
	burst, queue, attempts                        int
	backoff, maxBackoff, timeout                  time.Duration
	quiet                                         int
	idle, updateEvery, interval                   time.Duration
	critical, errorMargin, warning                float64
}

func newNotifyCmd(g *globals) *cobra.Command {
	f := notifyFlags{
		slackURL:   secretFlag{flag: "slack-webhook-url-file", env: "RIPTIDE_SLACK_WEBHOOK_URL"},
		slackToken: secretFlag{flag: "slack-token-file", env: "RIPTIDE_SLACK_TOKEN"},
		pdKey:      secretFlag{flag: "pagerduty-routing-key-file", env: "RIPTIDE_PAGERDUTY_ROUTING_KEY"},
		hookURL:    secretFlag{flag: "webhook-url-file", env: "RIPTIDE_WEBHOOK_URL"},
		hookKey:    secretFlag{flag: "webhook-hmac-key-file", env: "RIPTIDE_WEBHOOK_HMAC_KEY"},
	}
	var mf metricsFlag
	cmd := &cobra.Command{
		Use:   "notify --brokers B [sinks...]",
		Short: "Send anomalies to Slack, PagerDuty and webhooks as incidents",
		Long: `notify runs the notifier consumer group (<prefix>-notifier) on the anomalies topic.
It groups the anomalous windows of a host into one incident per attack episode and
sends an alert when the incident opens (trigger), at most every --update-every while
it goes on or at once when its severity rises (update), and when the host is normal
again (resolve): no anomaly for --quiet-windows windows of event time on its
partition, or for --resolve-idle of wall-clock time.

Severity comes from the score margin (threshold minus score): at least
--critical-margin is critical, --error-margin error, --warning-margin warning, else
info; two reasons 10 standard deviations out make at least error. Each sink takes the
incidents of at least its --<sink>-min-severity.

Sinks (any combination, at least one):
  Slack      an incoming webhook (RIPTIDE_SLACK_WEBHOOK_URL) or a bot token
             (RIPTIDE_SLACK_TOKEN with --slack-channel) through chat.postMessage
  PagerDuty  Events API v2 (RIPTIDE_PAGERDUTY_ROUTING_KEY); dedup_key
             <prefix>/<incident id>, so one PagerDuty incident per riptide incident
  webhook    JSON POST (RIPTIDE_WEBHOOK_URL) in --webhook-format riptide, ocsf or ecs,
             signed with HMAC-SHA256 when RIPTIDE_WEBHOOK_HMAC_KEY is set: header
             X-Riptide-Signature: v1=hex(HMAC(key, X-Riptide-Timestamp + "." + body))

Secrets (webhook URLs, token, routing key, HMAC key) come from the environment or
from files (the --*-file flags), never from flags, and never appear in logs or errors.
Every sink has its own bounded queue, rate limit and retries with exponential
back-off (Retry-After honoured); an alert that fails every attempt, or fails for good
(a 4xx), goes to the dead-letter topic with the reason. A slow or failing endpoint
delays only its own alerts: detection runs in other groups, and this group's
consumption never waits for an endpoint (a full queue drops alerts, counted in
riptide_notifications_total{result="dropped"}).`,
		Example: `  export RIPTIDE_SLACK_WEBHOOK_URL_FILE=/run/secrets/slack-webhook
  export RIPTIDE_PAGERDUTY_ROUTING_KEY_FILE=/run/secrets/pagerduty-key
  riptide notify --brokers kafka:9092 --pagerduty-min-severity error

  # Slack bot and a signed OCSF webhook for the SIEM
  RIPTIDE_SLACK_TOKEN=... RIPTIDE_WEBHOOK_URL=https://siem.example/ingest \
  RIPTIDE_WEBHOOK_HMAC_KEY=... riptide notify --brokers kafka:9092 \
    --slack-channel '#soc' --webhook-format ocsf
` + metricsExample + `  riptide notify --brokers kafka:9092 --metrics-addr :9400`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := g.logger(os.Stderr)
			if err != nil {
				return err
			}
			top, kc, err := g.cluster()
			if err != nil {
				return err
			}
			routes, err := f.routes(top, version)
			if err != nil {
				return err
			}
			pol, err := f.policy()
			if err != nil {
				return err
			}
			var nm *ops.NotifyMetrics
			m, stopMetrics, err := mf.start(cmd.Context(), log, func(reg prometheus.Registerer) (err error) {
				nm, err = ops.NewNotify(reg)
				return err
			})
			if err != nil {
				return err
			}
			defer stopMetrics()
			cl, err := kclient.NewClient(kc)
			if err != nil {
				return err
			}
			defer cl.Close()
			if err := kclient.Ping(cmd.Context(), cl, kc.Brokers); err != nil {
				return err
			}
			dead := deadLetterWriter(cl, top, m)
			disp, err := notify.NewDispatcher(routes, dead, nil, nm, log)
			if err != nil {
				return usageError{err}
			}
			p, err := notifier.New(top, pol, disp.Submit, log)
			if err != nil {
				return usageError{err}
			}
			p.Interval = f.interval
			p.SetMetrics(m, nm)
			opts := processors.Options(kc, log)
			r := p.Runnable(func(gg *goka.GroupGraph) (*goka.Processor, error) {
				return goka.NewProcessor(kc.Brokers, gg, opts...)
			})
			r.Running = func(on bool) {
				if on {
					m.SetReady(true, "")
				} else {
					m.SetReady(false, "notifier not running")
				}
			}
			names := make([]string, len(routes))
			for i, rt := range routes {
				names[i] = rt.Sink.Name() + "≥" + rt.MinSeverity
			}
			log.Info("starting notifier", "group", top.Notifier, "sinks", strings.Join(names, ","))
			ctx := cmd.Context()
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				disp.Run(ctx)
			}()
			ready := make(chan struct{})
			go func() {
				select {
				case <-ready:
					log.Info("notifier ready")
				case <-ctx.Done():
				}
			}()
			err = processors.Supervise(ctx, log, r, ready)
			wg.Wait()
			return err
		},
	}
	fs := cmd.Flags()
	f.slackURL.register(fs, "the Slack incoming-webhook URL")
	f.slackToken.register(fs, "a Slack bot token (xoxb-...) for chat.postMessage")
	fs.StringVar(&f.slackChannel, "slack-channel", "", "channel for chat.postMessage (with a bot token)")
	fs.StringVar(&f.slackAPI, "slack-api-url", notify.SlackAPIURL, "chat.postMessage endpoint")
	f.slack.register(fs, "slack", siem.SeverityWarning, 1)
	f.pdKey.register(fs, "the PagerDuty Events API v2 routing key")
	fs.StringVar(&f.pdURL, "pagerduty-url", notify.PagerDutyEventsURL, "PagerDuty Events API v2 endpoint")
	f.pd.register(fs, "pagerduty", siem.SeverityError, 2)
	f.hookURL.register(fs, "the webhook URL")
	f.hookKey.register(fs, "the webhook's HMAC-SHA256 key")
	fs.StringVar(&f.hookFormat, "webhook-format", string(siem.FormatRiptide), "webhook body: riptide, ocsf or ecs")
	f.hook.register(fs, "webhook", siem.SeverityInfo, 10)
	fs.IntVar(&f.burst, "burst", 5, "requests a sink may send at once above its rate")
	fs.IntVar(&f.queue, "queue", 1000, "alerts waiting per sink; more are dropped and counted")
	fs.IntVar(&f.attempts, "attempts", 5, "delivery attempts per alert before it goes to the dead-letter topic")
	fs.DurationVar(&f.backoff, "backoff", time.Second, "wait after the first failed attempt; doubles after each further one")
	fs.DurationVar(&f.maxBackoff, "max-backoff", time.Minute, "longest wait between attempts")
	fs.DurationVar(&f.timeout, "timeout", 10*time.Second, "time limit of one request")
	def := notify.DefaultPolicy()
	fs.IntVar(&f.quiet, "quiet-windows", def.QuietWindows, "windows of event time without an anomaly after which a host is normal again")
	fs.DurationVar(&f.idle, "resolve-idle", def.IdleResolve, "resolve an incident after this long without an anomaly of its host (wall clock)")
	fs.DurationVar(&f.updateEvery, "update-every", def.UpdateEvery, "least time between two updates of an incident (a rise in severity updates at once)")
	fs.DurationVar(&f.interval, "check-interval", time.Second, "how often incidents are checked for resolution")
	fs.Float64Var(&f.critical, "critical-margin", def.Severity.Critical, "score margin (threshold minus score) of a critical anomaly")
	fs.Float64Var(&f.errorMargin, "error-margin", def.Severity.Error, "score margin of an error-severity anomaly")
	fs.Float64Var(&f.warning, "warning-margin", def.Severity.Warning, "score margin of a warning-severity anomaly")
	mf.register(fs)
	return cmd
}

func (f *notifyFlags) policy() (notify.Policy, error) {
	p := notify.DefaultPolicy()
	p.QuietWindows, p.IdleResolve, p.UpdateEvery = f.quiet, f.idle, f.updateEvery
	p.Severity.Critical, p.Severity.Error, p.Severity.Warning = f.critical, f.errorMargin, f.warning
	if !(f.critical >= f.errorMargin && f.errorMargin >= f.warning) {
		return p, usagef("severity margins must satisfy --critical-margin ≥ --error-margin ≥ --warning-margin (got %g, %g, %g)", f.critical, f.errorMargin, f.warning)
	}
	if f.interval <= 0 {
		return p, usagef("--check-interval %v: must be positive", f.interval)
	}
	if err := p.Validate(); err != nil {
		return p, usageError{err}
	}
	return p, nil
}

// routes builds the sinks the secrets enable.
func (f *notifyFlags) routes(top *topology.Topology, version string) ([]notify.Route, error) {
	if f.attempts < 1 || f.queue < 1 || f.burst < 1 || f.backoff <= 0 || f.maxBackoff < f.backoff || f.timeout <= 0 {
		return nil, usagef("--attempts, --queue and --burst must be at least 1, --backoff and --timeout positive, --max-backoff at least --backoff")
	}
	retry := notify.Retry{Attempts: f.attempts, Base: f.backoff, Max: f.maxBackoff, Timeout: f.timeout}
	route := func(s notify.Sink, sf sinkFlags) (notify.Route, error) {
		if _, err := siem.ParseSeverity(sf.minSeverity); err != nil {
			return notify.Route{}, usagef("--%s-min-severity: %w", s.Name(), err)
		}
		if sf.rate < 0 {
			return notify.Route{}, usagef("--%s-rate %g: must not be negative", s.Name(), sf.rate)
		}
		return notify.Route{Sink: s, MinSeverity: sf.minSeverity, Rate: sf.rate, Burst: f.burst, Retry: retry, Queue: f.queue}, nil
	}
	var routes []notify.Route
	add := func(s notify.Sink, sf sinkFlags) error {
		r, err := route(s, sf)
		routes = append(routes, r)
		return err
	}
	slackURL, err := f.slackURL.value()
	if err != nil {
		return nil, err
	}
	token, err := f.slackToken.value()
	if err != nil {
		return nil, err
	}
	if f.slackChannel != "" && token == "" {
		return nil, usagef("--slack-channel needs a bot token (RIPTIDE_SLACK_TOKEN or --slack-token-file); an incoming webhook posts to its own channel")
	}
	switch {
	case slackURL != "" && token != "":
		return nil, usagef("Slack is configured twice: give a webhook URL or a bot token, not both")
	case slackURL != "":
		if err := checkURL("the Slack webhook URL", slackURL); err != nil {
			return nil, err
		}
		if err := add(&notify.Slack{WebhookURL: slackURL}, f.slack); err != nil {
			return nil, err
		}
	case token != "":
		if f.slackChannel == "" {
			return nil, usagef("a Slack bot token needs --slack-channel")
		}
		if err := checkURL("--slack-api-url", f.slackAPI); err != nil {
			return nil, err
		}
		if err := add(&notify.Slack{Token: token, Channel: f.slackChannel, APIURL: f.slackAPI}, f.slack); err != nil {
			return nil, err
		}
	}
	key, err := f.pdKey.value()
	if err != nil {
		return nil, err
	}
	if key != "" {
		if err := checkURL("--pagerduty-url", f.pdURL); err != nil {
			return nil, err
		}
		if err := add(&notify.PagerDuty{RoutingKey: key, URL: f.pdURL, Prefix: top.Prefix}, f.pd); err != nil {
			return nil, err
		}
	}
	hookURL, err := f.hookURL.value()
	if err != nil {
		return nil, err
	}
	hookKey, err := f.hookKey.value()
	if err != nil {
		return nil, err
	}
	format, err := siem.ParseFormat(f.hookFormat)
	if err != nil {
		return nil, usagef("--webhook-format: %w", err)
	}
	switch {
	case hookURL != "":
		if err := checkURL("the webhook URL", hookURL); err != nil {
			return nil, err
		}
		if err := add(&notify.Webhook{URL: hookURL, Key: []byte(hookKey), Format: format, Version: version}, f.hook); err != nil {
			return nil, err
		}
	case hookKey != "":
		return nil, usagef("a webhook HMAC key without a webhook URL (RIPTIDE_WEBHOOK_URL or --webhook-url-file)")
	}
	if len(routes) == 0 {
		return nil, usagef("no sink configured: set RIPTIDE_SLACK_WEBHOOK_URL, RIPTIDE_SLACK_TOKEN, RIPTIDE_PAGERDUTY_ROUTING_KEY or RIPTIDE_WEBHOOK_URL (or their *_FILE forms; see --help)")
	}
	return routes, nil
}

// deadLetterWriter returns the function that writes undeliverable alerts to
// the dead-letter topic: key the host, value the alert as a riptide-format
// webhook body, the reason in riptide-reason, the anomalies topic in
// riptide-source and the sink in riptide-sink.
func deadLetterWriter(cl *kgo.Client, top *topology.Topology, m *ops.Metrics) notify.DeadLetterFunc {
	body := &notify.Webhook{Format: siem.FormatRiptide}
	return func(ctx context.Context, a *notify.Alert, sink string, reason error) error {
		v, err := body.Body(a)
		if err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		r := &kgo.Record{Topic: top.DeadLetter.Name, Key: []byte(a.Incident.Host), Value: v, Headers: []kgo.RecordHeader{
			{Key: processors.HeaderReason, Value: []byte(reason.Error())},
			{Key: processors.HeaderSource, Value: []byte(top.Anomalies.Name)},
			{Key: HeaderSink, Value: []byte(sink)},
		}}
		if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
			return err
		}
		m.DeadLetter(ops.ReasonNotifyFailed)
		return nil
	}
}

// HeaderSink names the sink on a dead-lettered alert.
const HeaderSink = "riptide-sink"
