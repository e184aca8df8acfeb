//go:build integration

package integration

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/riptide-nids/riptide/codecs"
	"github.com/riptide-nids/riptide/notify"
)

// The flood's victim in syn-flood-spoofed.pcap.
const floodVictim = "10.10.10.10"

// endpoint is a local HTTP server standing in for Slack, PagerDuty and a
// SIEM webhook. It records every request; the webhook answers 500.
type endpoint struct {
	srv *httptest.Server
	mu  sync.Mutex
	req map[string][]recorded
}

type recorded struct {
	body []byte
	hdr  http.Header
}

func newEndpoint(t *testing.T) *endpoint {
	e := &endpoint{req: map[string][]recorded{}}
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		e.mu.Lock()
		e.req[r.URL.Path] = append(e.req[r.URL.Path], recorded{body: b, hdr: r.Header.Clone()})
		e.mu.Unlock()
		switch r.URL.Path {
		case "/slack/services/T0/B0/slacksecret":
			_, _ = w.Write([]byte("ok"))
		case "/pagerduty/v2/enqueue":
			w.WriteHeader(http.StatusAccepted)
			_, _ = w.Write([]byte(`{"status":"success","message":"Event processed"}`))
		default: // the webhook: always failing
			http.Error(w, "upstream unavailable", http.StatusInternalServerError)
		}
	}))
	t.Cleanup(e.srv.Close)
	return e
}

func (e *endpoint) get(path string) []recorded {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]recorded(nil), e.req[path]...)
}

// pdEvents returns the PagerDuty events received, decoded.
func (e *endpoint) pdEvents(t *testing.T) []map[string]any {
	var out []map[string]any
	for _, r := range e.get("/pagerduty/v2/enqueue") {
		var m map[string]any
		if err := json.Unmarshal(r.body, &m); err != nil {
			t.Errorf("PagerDuty event is not JSON: %v: %s", err, r.body)
			continue
		}
		out = append(out, m)
	}
	return out
}

// TestNotifierOneIncidentPerFlood replays 16 minutes of the benchmark's
// benign traffic (the learning period; it ends before the benchmark's first
// attack) merged by time with syn-flood-spoofed.pcap shifted to start just
// after learning, through `riptide run` and `riptide notify` with Slack,
// PagerDuty and an OCSF webhook on a local HTTP server. The webhook answers
// 500 throughout. It checks:
//   - PagerDuty gets one trigger for the victim and, once the host is quiet,
//     one resolve with the same dedup_key, not an event per window; every
//     event carries the fields the Events API v2 requires;
//   - Slack gets readable messages (text with host, window, score, reasons,
//     the label command);
//   - the webhook's requests are signed (the HMAC verifies) and OCSF
//     Detection Findings that validate against the schema;
//   - with the webhook failing, detection goes on (all anomalies of the
//     flood arrive) and the webhook's alerts end in the dead-letter topic
//     after the retries, with the reason;
//   - no secret appears in the notifier's logs.
func TestNotifierOneIncidentPerFlood(t *testing.T) {
	start := time.Now()
	c := newCluster(t, "it-notify")
	c.createTopics(t, 4)
	benign, flood := learningAndFlood(t)

	ep := newEndpoint(t)
	dir := t.TempDir()
	secret := func(name, v string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(v+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	const (
		routingKey = "R0UT1NGKEYsecret0123456789abcdef"
		hmacKey    = "hmac-secret-4f1c"
	)
	slackURL := ep.srv.URL + "/slack/services/T0/B0/slacksecret"
	hookURL := ep.srv.URL + "/siem/ingest?token=hooksecret"

	run := startProc(t, "run", c.args("run", "--idle-flush", "5s")...)
	nt := startProc(t, "notify", c.args("notify",
		"--slack-webhook-url-file", secret("slack", slackURL), "--slack-min-severity", "info",
		"--pagerduty-routing-key-file", secret("pd", routingKey), "--pagerduty-url", ep.srv.URL+"/pagerduty/v2/enqueue",
		"--pagerduty-min-severity", "warning",
		"--webhook-url-file", secret("hook", hookURL), "--webhook-hmac-key-file", secret("hmac", hmacKey),
		"--webhook-format", "ocsf", "--attempts", "3", "--backoff", "200ms",
		"--resolve-idle", "5s", "--check-interval", "250ms", "--log-level", "debug")...)
	if !waitFor(60*time.Second+c.slack(1), 50*time.Millisecond, func() bool {
		return strings.Contains(readFile(nt.stderr), "notifier ready") || !nt.running()
	}) || !nt.running() {
		t.Fatalf("notify not ready; stderr:\n%s", tail(readFile(nt.stderr), 30))
	}
	out, errOut, code := riptide(t, 3*time.Minute, c.args("capture", "--pcap", benign, "--pcap", flood)...)
	if code != 0 {
		t.Fatalf("capture: exit %d\n%s\n%s", code, out, errOut)
	}

	// Detection goes on with the webhook failing: the flood's windows are
	// scored and alerted.
	anoms := collect(t, c.brokers, c.top.Anomalies.Name, 3*time.Minute+c.slack(1), func(rs []*kgo.Record) bool {
		n := 0
		for _, r := range rs {
			if string(r.Key) == floodVictim {
				n++
			}
		}
		return n >= 2
	})
	victimWindows := 0
	for _, r := range anoms {
		if string(r.Key) == floodVictim {
			victimWindows++
		}
	}

	// One incident: a trigger, then (after --resolve-idle) a resolve.
	var victimEvents []map[string]any
	if !waitFor(time.Minute, 100*time.Millisecond, func() bool {
		victimEvents = victimEvents[:0]
		for _, ev := range ep.pdEvents(t) {
			if strings.HasPrefix(ev["dedup_key"].(string), c.prefix+"/"+floodVictim+"@") {
				victimEvents = append(victimEvents, ev)
			}
		}
		return len(victimEvents) > 0 && victimEvents[len(victimEvents)-1]["event_action"] == "resolve"
	}) {
		t.Fatalf("no PagerDuty resolve for %s; events: %v", floodVictim, ep.pdEvents(t))
	}
	triggers, resolves := 0, 0
	keys := map[string]bool{}
	for _, ev := range victimEvents {
		keys[ev["dedup_key"].(string)] = true
		if ev["routing_key"] != routingKey {
			t.Errorf("routing_key %v", ev["routing_key"])
		}
		switch ev["event_action"] {
		case "trigger":
			triggers++
			pl, _ := ev["payload"].(map[string]any)
			for _, f := range []string{"summary", "source", "severity"} {
				if s, _ := pl[f].(string); s == "" {
					t.Errorf("trigger payload lacks %s: %v", f, ev)
				}
			}
			if sev := pl["severity"]; sev != "critical" && sev != "error" && sev != "warning" && sev != "info" {
				t.Errorf("payload.severity %v is not one of PagerDuty's", sev)
			}
			if pl["source"] != floodVictim {
				t.Errorf("payload.source %v, want %s", pl["source"], floodVictim)
			}
		case "resolve":
			resolves++
		default:
			t.Errorf("event_action %v", ev["event_action"])
		}
	}
	if len(keys) != 1 || triggers != 1 || resolves != 1 {
		t.Errorf("PagerDuty for %s: %d dedup keys, %d triggers, %d resolves over %d anomalous windows; want 1, 1, 1",
			floodVictim, len(keys), triggers, resolves, victimWindows)
	}

	// Slack: readable messages.
	slack := ep.get("/slack/services/T0/B0/slacksecret")
	if len(slack) == 0 {
		t.Fatal("no Slack message")
	}
	var sawTrigger bool
	for _, r := range slack {
		var m struct {
			Text   string           `json:"text"`
			Blocks []map[string]any `json:"blocks"`
		}
		if err := json.Unmarshal(r.body, &m); err != nil || (m.Text == "" && len(m.Blocks) == 0) {
			t.Errorf("Slack message without text or blocks: %s", r.body)
		}
		if strings.Contains(m.Text, "Anomalous traffic on "+floodVictim) {
			sawTrigger = true
			for _, want := range []string{"score ", "threshold ", "syn_in", "riptide label " + floodVictim + "@", "UTC"} {
				if !strings.Contains(m.Text, want) {
					t.Errorf("Slack text lacks %q:\n%s", want, m.Text)
				}
			}
		}
	}
	if !sawTrigger {
		t.Errorf("no Slack trigger for %s among %d messages", floodVictim, len(slack))
	}

	// The webhook: signed OCSF findings, every one answered 500.
	hooks := ep.get("/siem/ingest")
	if len(hooks) == 0 {
		t.Fatal("no webhook request")
	}
	schema := ocsfSchema(t)
	for _, r := range hooks {
		if err := notify.Verify([]byte(hmacKey), r.hdr.Get(notify.HeaderTimestamp), r.hdr.Get(notify.HeaderSignature), r.body, time.Now(), 5*time.Minute); err != nil {
			t.Errorf("webhook HMAC: %v", err)
		}
		v, err := jsonschema.UnmarshalJSON(bytes.NewReader(r.body))
		if err != nil {
			t.Fatal(err)
		}
		if err := schema.Validate(v); err != nil {
			t.Errorf("webhook body is not a valid OCSF Detection Finding: %v", err)
		}
	}
	// Each alert is tried 3 times, then dead-lettered: wait for the
	// victim's trigger and resolve there.
	victimHook := func(r *kgo.Record) (*notify.WebhookBody, bool) {
		var body notify.WebhookBody
		if headers(r)["riptide-sink"] != "webhook" || json.Unmarshal(r.Value, &body) != nil {
			return nil, false
		}
		return &body, body.Incident.Host == floodVictim
	}
	dead := collect(t, c.brokers, c.top.DeadLetter.Name, time.Minute, func(rs []*kgo.Record) bool {
		acts := map[notify.Action]bool{}
		for _, r := range rs {
			if b, ok := victimHook(r); ok {
				acts[b.Action] = true
			}
		}
		return acts[notify.ActionTrigger] && acts[notify.ActionResolve]
	})
	var deadHook []*kgo.Record
	for _, r := range dead {
		if _, ok := victimHook(r); ok {
			deadHook = append(deadHook, r)
		}
	}
	tries := 0
	for _, r := range ep.get("/siem/ingest") {
		var f struct {
			FindingInfo struct {
				UID string `json:"uid"`
			} `json:"finding_info"`
		}
		if json.Unmarshal(r.body, &f) == nil && strings.HasPrefix(f.FindingInfo.UID, floodVictim+"@") {
			tries++
		}
	}
	if tries != 3*len(deadHook) {
		t.Errorf("%d webhook requests for %s's %d dead-lettered alerts; want 3 attempts each", tries, floodVictim, len(deadHook))
	}
	for _, r := range deadHook {
		h := headers(r)
		if !strings.Contains(h["riptide-reason"], "3 attempts") || !strings.Contains(h["riptide-reason"], "HTTP 500") || h["riptide-source"] != c.top.Anomalies.Name {
			t.Errorf("dead letter headers %v", h)
		}
		body, _ := victimHook(r)
		if _, err := codecs.DecodeAnomaly(body.Anomaly); err != nil {
			t.Errorf("dead letter anomaly: %v", err)
		}
	}
	// riptide tail --format ocsf prints the same anomalies as findings.
	tl := startProc(t, "tail", c.args("tail", "--format", "ocsf", "--from-beginning")...)
	var lines []string
	if !waitFor(30*time.Second, 50*time.Millisecond, func() bool {
		lines = nonEmptyLines(readFile(tl.stdout))
		return len(lines) >= len(anoms)
	}) {
		t.Fatalf("tail --format ocsf printed %d lines for %d anomalies; stderr:\n%s", len(lines), len(anoms), readFile(tl.stderr))
	}
	tl.kill(syscall.SIGTERM)
	for _, l := range lines {
		v, err := jsonschema.UnmarshalJSON(strings.NewReader(l))
		if err != nil {
			t.Fatalf("tail --format ocsf: %v: %s", err, l)
		}
		if err := schema.Validate(v); err != nil {
			t.Errorf("tail --format ocsf: not a valid Detection Finding: %v", err)
		}
	}
	if !run.running() || !nt.running() {
		t.Fatal("run or notify exited")
	}
	logs := readFile(nt.stderr)
	for _, s := range []string{routingKey, hmacKey, "slacksecret", "hooksecret"} {
		if strings.Contains(logs, s) {
			t.Errorf("notify's log contains the secret %q", s)
		}
	}
	t.Logf("%d anomalous windows of %s; PagerDuty %d events (%d trigger, %d resolve) for it, %d in all; Slack %d messages; webhook %d requests for it, %d of its alerts dead-lettered; %.1f s on %s",
		victimWindows, floodVictim, len(victimEvents), triggers, resolves, len(ep.pdEvents(t)), len(slack), tries, len(deadHook), time.Since(start).Seconds(), c.kind())
}

func ocsfSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "siem", "testdata", "ocsf", "detection_finding-1.8.0.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("df.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("df.json")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// learningAndFlood writes two captures for a learning period followed by an
// attack: the benchmark's first 16 minutes (benign only; its first attack
// starts at 09:16:10) and syn-flood-spoofed.pcap (2021) shifted in time to
// 09:15:20, 10 s after the default 15-minute learning period ends. capture
// merges them by time.
func learningAndFlood(t *testing.T) (benign, flood string) {
	t.Helper()
	dir := t.TempDir()
	bench := dataset(t, "bench/dev-mixed.pcap")
	first := pcapFirst(t, bench)
	learnEnd := time.Unix(first, 0).Truncate(10 * time.Second).Add(15 * time.Minute)
	cut := time.Date(2026, 3, 2, 9, 16, 5, 0, time.UTC)
	benign = filepath.Join(dir, "benign.pcap")
	rewritePcap(t, bench, benign, func(sec uint32) (uint32, bool) { return sec, int64(sec) < cut.Unix() })
	src := dataset(t, "pcap/attacks/syn-flood-spoofed.pcap")
	shift := learnEnd.Add(10*time.Second).Unix() - pcapFirst(t, src)
	flood = filepath.Join(dir, "flood.pcap")
	rewritePcap(t, src, flood, func(sec uint32) (uint32, bool) { return uint32(int64(sec) + shift), true })
	return benign, flood
}

// pcapFirst returns the first packet's time (Unix seconds) of a classic
// little-endian pcap file.
func pcapFirst(t *testing.T, path string) int64 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 40 || binary.LittleEndian.Uint32(b) != 0xa1b2c3d4 {
		t.Fatalf("%s: not a little-endian microsecond pcap", path)
	}
	return int64(binary.LittleEndian.Uint32(b[24:]))
}

// rewritePcap copies a classic little-endian pcap, mapping each record's
// seconds with f and keeping the records f accepts.
func rewritePcap(t *testing.T, in, out string, f func(sec uint32) (uint32, bool)) {
	t.Helper()
	b, err := os.ReadFile(in)
	if err != nil {
		t.Fatal(err)
	}
	if binary.LittleEndian.Uint32(b) != 0xa1b2c3d4 {
		t.Fatalf("%s: not a little-endian microsecond pcap", in)
	}
	w := append([]byte(nil), b[:24]...)
	for off := 24; off+16 <= len(b); {
		n := int(binary.LittleEndian.Uint32(b[off+8:]))
		if off+16+n > len(b) {
			break
		}
		if sec, ok := f(binary.LittleEndian.Uint32(b[off:])); ok {
			rec := append([]byte(nil), b[off:off+16+n]...)
			binary.LittleEndian.PutUint32(rec, sec)
			w = append(w, rec...)
		}
		off += 16 + n
	}
	if err := os.WriteFile(out, w, 0o644); err != nil {
		t.Fatal(err)
	}
}
