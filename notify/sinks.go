package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/riptide-nids/riptide/codecs"
	"github.com/riptide-nids/riptide/siem"
)

// Default endpoints.
const (
	SlackAPIURL        = "https://slack.com/api/chat.postMessage"
	PagerDutyEventsURL = "https://events.pagerduty.com/v2/enqueue"
)

// post sends body as JSON and returns the response body (up to 64 kB). Its
// errors never carry the URL (a webhook URL is a secret): transport errors
// are unwrapped from *url.Error.
func post(ctx context.Context, c *http.Client, u string, body []byte, hdr http.Header) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return nil, errors.New("bad endpoint URL") // the URL itself stays out of the error
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "riptide-notifier")
	for k, v := range hdr {
		req.Header[k] = v
	}
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			return nil, fmt.Errorf("%s: %w", strings.ToLower(ue.Op), ue.Err)
		}
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		he := &HTTPError{Status: resp.StatusCode, Body: strings.TrimSpace(string(b[:min(len(b), 200)]))}
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
			he.RetryAfter = time.Duration(s) * time.Second
		}
		return nil, he
	}
	return b, nil
}

// LabelCommand is the command that labels the alert's window, shown in
// messages for people.
func LabelCommand(a *Alert) string {
	id := a.Incident.Latest
	if a.Anomaly != nil {
		id = a.Anomaly.ID
	}
	return "riptide label " + id + " --verdict true-positive|false-positive"
}

// Text is the alert as a message for people (Slack mrkdwn): what happened
// to which host, the window, score and threshold, the top reasons and the
// command to label it.
func Text(a *Alert) string {
	inc := a.Incident
	an := a.Anomaly
	var b strings.Builder
	sev := strings.ToUpper(inc.Severity)
	switch a.Action {
	case ActionTrigger:
		fmt.Fprintf(&b, ":rotating_light: *[%s] Anomalous traffic on %s*\n", sev, inc.Host)
	case ActionUpdate:
		fmt.Fprintf(&b, ":warning: *[%s] Still anomalous: %s* (%d windows so far)\n", sev, inc.Host, inc.Windows)
	case ActionResolve:
		fmt.Fprintf(&b, ":white_check_mark: *Resolved: %s is normal again* (%s; %d anomalous windows from %s to %s)\n",
			inc.Host, inc.ResolveReason, inc.Windows, clock(inc.FirstStart), clock(inc.LastEnd))
	}
	if an != nil {
		what := "Window"
		if a.Action == ActionResolve {
			what = "Worst window"
		}
		fmt.Fprintf(&b, "%s %s – %s UTC, score %.2f (threshold %.2f), model %s\n",
			what, an.WindowStart.UTC().Format("2006-01-02 15:04:05"), an.WindowEnd.UTC().Format("15:04:05"),
			an.Score, an.Threshold, an.ModelVersion)
		for i, r := range an.Reasons {
			if i == 3 {
				break
			}
			fmt.Fprintf(&b, "• %s\n", r.Text)
		}
	}
	fmt.Fprintf(&b, "Incident `%s`", inc.ID)
	if a.Action != ActionResolve {
		fmt.Fprintf(&b, " · label it: `%s`", LabelCommand(a))
	}
	return b.String()
}

func clock(t time.Time) string { return t.UTC().Format("15:04:05") }

// Slack posts alerts to Slack: to an incoming webhook (WebhookURL) or with
// a bot token through chat.postMessage (Token and Channel).
type Slack struct {
	WebhookURL string
	Token      string
	Channel    string
	// APIURL is chat.postMessage's URL (default SlackAPIURL).
	APIURL string
	Client *http.Client
}

// Name implements Sink.
func (s *Slack) Name() string { return "slack" }

type slackMessage struct {
	Channel string       `json:"channel,omitempty"`
	Text    string       `json:"text"`
	Blocks  []slackBlock `json:"blocks"`
}

type slackBlock struct {
	Type string     `json:"type"`
	Text *slackText `json:"text,omitempty"`
}

type slackText struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// Message returns the Slack message of a: text (the notification's
// fallback) and one section block with the same mrkdwn.
func (s *Slack) Message(a *Alert) ([]byte, error) {
	t := Text(a)
	return json.Marshal(slackMessage{
		Channel: s.Channel, Text: t,
		Blocks: []slackBlock{{Type: "section", Text: &slackText{Type: "mrkdwn", Text: t}}},
	})
}

// Send implements Sink.
func (s *Slack) Send(ctx context.Context, a *Alert) error {
	body, err := s.Message(a)
	if err != nil {
		return fmt.Errorf("slack: %w: %w", ErrPermanent, err)
	}
	if s.WebhookURL != "" {
		if _, err := post(ctx, s.Client, s.WebhookURL, body, nil); err != nil {
			return fmt.Errorf("slack webhook: %w", err)
		}
		return nil
	}
	u := s.APIURL
	if u == "" {
		u = SlackAPIURL
	}
	resp, err := post(ctx, s.Client, u, body, http.Header{"Authorization": {"Bearer " + s.Token}})
	if err != nil {
		return fmt.Errorf("slack chat.postMessage: %w", err)
	}
	var r struct {
		OK    bool   `json:"ok"`
		Error string `json:"error"`
	}
	if err := json.Unmarshal(resp, &r); err != nil {
		return fmt.Errorf("slack chat.postMessage: unreadable answer: %w", err)
	}
	if !r.OK {
		// Slack answers 200 with ok=false; rate limits and its own outages
		// are worth retrying, everything else (invalid_auth,
		// channel_not_found, ...) is not.
		switch r.Error {
		case "ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout":
			return fmt.Errorf("slack chat.postMessage: %s", r.Error)
		}
		return fmt.Errorf("slack chat.postMessage: %s: %w", r.Error, ErrPermanent)
	}
	return nil
}

// PagerDuty sends Events API v2 events: trigger for a new incident and its
// updates (same dedup_key, so PagerDuty keeps one incident), resolve when
// the host is normal again.
type PagerDuty struct {
	RoutingKey string
	// URL is the events endpoint (default PagerDutyEventsURL).
	URL string
	// Prefix goes before the incident id in dedup_key ("riptide").
	Prefix string
	Client *http.Client
}

// Name implements Sink.
func (p *PagerDuty) Name() string { return "pagerduty" }

// DedupKey returns the PagerDuty dedup_key of an incident.
func (p *PagerDuty) DedupKey(inc *Incident) string { return p.Prefix + "/" + inc.ID }

type pdEvent struct {
	RoutingKey  string     `json:"routing_key"`
	EventAction string     `json:"event_action"`
	DedupKey    string     `json:"dedup_key"`
	Payload     *pdPayload `json:"payload,omitempty"`
	Client      string     `json:"client,omitempty"`
}

type pdPayload struct {
	Summary       string         `json:"summary"`
	Source        string         `json:"source"`
	Severity      string         `json:"severity"`
	Timestamp     string         `json:"timestamp,omitempty"`
	Component     string         `json:"component,omitempty"`
	Group         string         `json:"group,omitempty"`
	Class         string         `json:"class,omitempty"`
	CustomDetails map[string]any `json:"custom_details,omitempty"`
}

// Event returns the Events API v2 body of a.
func (p *PagerDuty) Event(a *Alert) ([]byte, error) {
	inc := a.Incident
	ev := pdEvent{RoutingKey: p.RoutingKey, DedupKey: p.DedupKey(&inc), Client: "riptide"}
	if a.Action == ActionResolve {
		ev.EventAction = "resolve"
		return json.Marshal(ev)
	}
	ev.EventAction = "trigger"
	an := a.Anomaly
	summary := siem.Summary(an)
	if len(summary) > 1024 {
		summary = summary[:1024]
	}
	class := ""
	reasons := make([]string, 0, len(an.Reasons))
	for _, r := range an.Reasons {
		if class == "" {
			class = r.Feature
		}
		reasons = append(reasons, r.Text)
	}
	ev.Payload = &pdPayload{
		Summary: summary, Source: an.Host, Severity: inc.Severity,
		Timestamp: an.WindowEnd.UTC().Format(codecs.TimeFormat),
		Component: "riptide-detector", Group: "network", Class: class,
		CustomDetails: map[string]any{
			"incident": inc.ID, "anomaly": an.ID, "windows": inc.Windows,
			"window_start": an.WindowStart.UTC().Format(codecs.TimeFormat),
			"window_end":   an.WindowEnd.UTC().Format(codecs.TimeFormat),
			"score":        an.Score, "threshold": an.Threshold, "model_version": an.ModelVersion,
			"reasons": reasons, "label": LabelCommand(a),
		},
	}
	return json.Marshal(ev)
}

// Send implements Sink.
func (p *PagerDuty) Send(ctx context.Context, a *Alert) error {
	body, err := p.Event(a)
	if err != nil {
		return fmt.Errorf("pagerduty: %w: %w", ErrPermanent, err)
	}
	u := p.URL
	if u == "" {
		u = PagerDutyEventsURL
	}
	if _, err := post(ctx, p.Client, u, body, nil); err != nil {
		return fmt.Errorf("pagerduty: %w", err)
	}
	return nil
}

// Webhook headers.
const (
	// HeaderTimestamp carries the Unix time (seconds) the request was
	// signed at.
	HeaderTimestamp = "X-Riptide-Timestamp"
	// HeaderSignature carries "v1=" and the hex HMAC-SHA256 of
	// timestamp + "." + body under the shared key.
	HeaderSignature = "X-Riptide-Signature"
	// HeaderEvent carries the action: trigger, update or resolve.
	HeaderEvent = "X-Riptide-Event"
)

// Webhook posts alerts as JSON in a chosen format, signed with HMAC-SHA256.
type Webhook struct {
	URL    string
	Key    []byte
	Format siem.Format
	// Version is riptide's build version, for the OCSF and ECS metadata.
	Version string
	Client  *http.Client
	// Now is the signing clock (default time.Now).
	Now func() time.Time
}

// Name implements Sink.
func (w *Webhook) Name() string { return "webhook" }

// WebhookBody is the riptide-format webhook body.
type WebhookBody struct {
	Action   Action          `json:"action"`
	Incident WebhookIncident `json:"incident"`
	Anomaly  json.RawMessage `json:"anomaly"`
}

// WebhookIncident is the incident in a riptide-format webhook body.
type WebhookIncident struct {
	ID            string `json:"id"`
	Host          string `json:"host"`
	Severity      string `json:"severity"`
	Status        string `json:"status"`
	Windows       int    `json:"windows"`
	FirstStart    string `json:"first_window_start"`
	LastEnd       string `json:"last_window_end"`
	ResolveReason string `json:"resolve_reason,omitempty"`
}

// Body returns the webhook body of a in the sink's format.
func (w *Webhook) Body(a *Alert) ([]byte, error) {
	switch w.Format {
	case siem.FormatOCSF, siem.FormatECS:
		return siem.Encode(w.Format, a.Anomaly, a.SIEM(w.Version))
	}
	an, err := codecs.EncodeAnomaly(a.Anomaly)
	if err != nil {
		return nil, err
	}
	inc := a.Incident
	status := "open"
	if inc.Resolved {
		status = "resolved"
	}
	return json.Marshal(WebhookBody{Action: a.Action, Anomaly: an, Incident: WebhookIncident{
		ID: inc.ID, Host: inc.Host, Severity: inc.Severity, Status: status, Windows: inc.Windows,
		FirstStart: inc.FirstStart.UTC().Format(codecs.TimeFormat), LastEnd: inc.LastEnd.UTC().Format(codecs.TimeFormat),
		ResolveReason: inc.ResolveReason,
	}})
}

// Send implements Sink.
func (w *Webhook) Send(ctx context.Context, a *Alert) error {
	body, err := w.Body(a)
	if err != nil {
		return fmt.Errorf("webhook: %w: %w", ErrPermanent, err)
	}
	now := time.Now
	if w.Now != nil {
		now = w.Now
	}
	ts := strconv.FormatInt(now().Unix(), 10)
	hdr := http.Header{HeaderEvent: {string(a.Action)}, HeaderTimestamp: {ts}}
	if len(w.Key) > 0 {
		hdr.Set(HeaderSignature, Sign(w.Key, ts, body))
	}
	if _, err := post(ctx, w.Client, w.URL, body, hdr); err != nil {
		return fmt.Errorf("webhook: %w", err)
	}
	return nil
}

// Sign returns the X-Riptide-Signature value of body sent at timestamp ts
// (Unix seconds, as text): "v1=" and hex(HMAC-SHA256(key, ts + "." + body)).
func Sign(key []byte, ts string, body []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return "v1=" + hex.EncodeToString(m.Sum(nil))
}

// Errors of Verify.
var (
	ErrBadSignature = errors.New("notify: webhook signature does not match")
	ErrStale        = errors.New("notify: webhook timestamp outside the tolerance")
)

// Verify checks a received webhook: sig (X-Riptide-Signature) must be the
// signature of body at ts (X-Riptide-Timestamp), and ts within tolerance of
// now, which stops replays of old requests. The comparison takes constant
// time.
func Verify(key []byte, ts, sig string, body []byte, now time.Time, tolerance time.Duration) error {
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: %q is not a Unix time", ErrStale, ts)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("%w: %v away", ErrStale, d.Round(time.Second))
	}
	if !hmac.Equal([]byte(Sign(key, ts, body)), []byte(sig)) {
		return ErrBadSignature
	}
	return nil
}
