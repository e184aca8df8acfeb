package notify_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riptide-nids/riptide/codecs"
	"github.com/riptide-nids/riptide/notify"
	"github.com/riptide-nids/riptide/siem"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// anomaly returns host's anomaly for the window starting i windows (10 s)
// after t0, with score margin m below a threshold of -1.5.
func anomaly(host string, i int, m float64) *codecs.Anomaly {
	s := t0.Add(time.Duration(i) * 10 * time.Second)
	return &codecs.Anomaly{
		ID: host + "@" + itoa(s.UnixMilli()), Host: host, WindowStart: s, WindowEnd: s.Add(10 * time.Second),
		Score: -1.5 - m, Threshold: -1.5, ModelVersion: "default-v1",
		Reasons:    []codecs.Reason{{Feature: "syn_in", Value: 3000, Typical: 2, High: 9, Z: 30, Text: "syn_in = 3000 packets (typical 2, normal up to 9)"}},
		DetectedAt: s.Add(12 * time.Second),
	}
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

func actions(as []notify.Alert) []notify.Action {
	var out []notify.Action
	for _, a := range as {
		out = append(out, a.Action)
	}
	return out
}

func eq[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestFloodIsOneIncident: 60 anomalous windows of one host in a row make
// one trigger and updates at most every UpdateEvery (processing time), not
// an alert per window; repeats change nothing.
func TestFloodIsOneIncident(t *testing.T) {
	p := notify.DefaultPolicy()
	p.UpdateEvery = time.Minute
	var inc *notify.Incident
	var all []notify.Alert
	now := t0
	grouped := 0
	for i := range 60 {
		now = now.Add(2 * time.Second) // replayed faster than real time
		var as []notify.Alert
		var out notify.Outcome
		inc, as, out = p.Observe(inc, anomaly("10.10.10.10", i, 5), now)
		if out == notify.Grouped {
			grouped++
		}
		all = append(all, as...)
		// a redelivery of the same window
		var rep notify.Outcome
		inc, as, rep = p.Observe(inc, anomaly("10.10.10.10", i, 5), now)
		if rep != notify.Repeat || len(as) != 0 {
			t.Fatalf("window %d repeated: outcome %v, alerts %v", i, rep, actions(as))
		}
	}
	want := []notify.Action{notify.ActionTrigger, notify.ActionUpdate}
	if !eq(actions(all), want) {
		t.Fatalf("alerts %v, want %v (120 s of processing time, an update per minute)", actions(all), want)
	}
	if inc.Windows != 60 || grouped != 58 || inc.Suppressed != 58 {
		t.Errorf("windows %d grouped %d suppressed %d, want 60, 58, 58", inc.Windows, grouped, inc.Suppressed)
	}
	if inc.ID != anomaly("10.10.10.10", 0, 5).ID || all[1].Incident.ID != inc.ID {
		t.Errorf("incident id %q (update %q), want the first anomaly's id", inc.ID, all[1].Incident.ID)
	}
	if inc.Severity != siem.SeverityError {
		t.Errorf("severity %s, want error (margin 5)", inc.Severity)
	}
}

func TestEscalationUpdatesAtOnce(t *testing.T) {
	p := notify.DefaultPolicy()
	inc, as, _ := p.Observe(nil, anomaly("h", 0, 1.5), t0)
	if !eq(actions(as), []notify.Action{notify.ActionTrigger}) || inc.Severity != siem.SeverityWarning {
		t.Fatalf("first: %v %s", actions(as), inc.Severity)
	}
	inc, as, _ = p.Observe(inc, anomaly("h", 1, 1.6), t0.Add(time.Second))
	if len(as) != 0 {
		t.Fatalf("same severity alerted: %v", actions(as))
	}
	inc, as, _ = p.Observe(inc, anomaly("h", 2, 9), t0.Add(2*time.Second))
	if !eq(actions(as), []notify.Action{notify.ActionUpdate}) || inc.Severity != siem.SeverityCritical {
		t.Fatalf("escalation: %v %s", actions(as), inc.Severity)
	}
	if inc.Worst.ID != anomaly("h", 2, 9).ID {
		t.Errorf("worst = %s, want the critical window", inc.Worst.ID)
	}
}

// TestNewEpisodeAfterQuiet: an anomaly QuietWindows windows after the last
// one resolves the old incident and opens a new one with a new id.
func TestNewEpisodeAfterQuiet(t *testing.T) {
	p := notify.DefaultPolicy() // 6 windows
	inc, _, _ := p.Observe(nil, anomaly("h", 0, 5), t0)
	inc, as, _ := p.Observe(inc, anomaly("h", 6, 5), t0.Add(time.Second)) // starts 5 windows after the end of window 0
	if len(as) != 0 || inc.Windows != 2 {
		t.Fatalf("gap of 5 windows: %v, windows %d; want grouped", actions(as), inc.Windows)
	}
	first := inc.ID
	inc, as, out := p.Observe(inc, anomaly("h", 13, 5), t0.Add(2*time.Second)) // 6 windows after the end of window 6
	if !eq(actions(as), []notify.Action{notify.ActionResolve, notify.ActionTrigger}) || out != notify.Opened {
		t.Fatalf("gap of 6 windows: %v (outcome %v), want resolve then trigger", actions(as), out)
	}
	if as[0].Incident.ID != first || as[1].Incident.ID == first || inc.ID != as[1].Incident.ID {
		t.Errorf("resolve %s, trigger %s, stored %s; want the old id resolved and a new one opened", as[0].Incident.ID, as[1].Incident.ID, inc.ID)
	}
	// An old window of the first episode, redelivered, is a repeat.
	if _, as, out := p.Observe(inc, anomaly("h", 0, 5), t0.Add(3*time.Second)); out != notify.Repeat || len(as) != 0 {
		t.Errorf("old window: %v %v", out, actions(as))
	}
}

func TestExpire(t *testing.T) {
	p := notify.DefaultPolicy()
	p.IdleResolve = time.Minute
	inc, _, _ := p.Observe(nil, anomaly("h", 0, 5), t0)
	end := inc.LastEnd
	if a := p.Expire(inc, end.Add(59*time.Second), t0.Add(59*time.Second)); a != nil {
		t.Fatalf("resolved too early: %+v", a.Incident)
	}
	// Event time: the partition's stream time 6 windows past the last end.
	c := *inc
	a := p.Expire(&c, end.Add(60*time.Second), t0.Add(time.Second))
	if a == nil || a.Action != notify.ActionResolve || !c.Resolved || !strings.Contains(c.ResolveReason, "6 windows of event time") {
		t.Fatalf("stream time 6 windows on: %+v, reason %q", a, c.ResolveReason)
	}
	if a.Anomaly == nil || a.Anomaly.ID != inc.Worst.ID {
		t.Errorf("resolve alert shows %v, want the worst window", a.Anomaly)
	}
	if p.Expire(&c, end.Add(time.Hour), t0.Add(time.Hour)) != nil {
		t.Error("resolved twice")
	}
	// Processing time: stream time unknown, IdleResolve passed.
	d := *inc
	if a := p.Expire(&d, time.Time{}, t0.Add(time.Minute)); a == nil || !strings.Contains(d.ResolveReason, "1m0s") {
		t.Fatalf("idle: %+v %q", a, d.ResolveReason)
	}
}

func TestLimiter(t *testing.T) {
	l := notify.NewLimiter(1, 2) // 1 per second, bursts of 2
	now := t0
	var waits []time.Duration
	for range 5 {
		w := l.Reserve(now)
		waits = append(waits, w)
		now = now.Add(w)
	}
	want := []time.Duration{0, 0, time.Second, time.Second, time.Second}
	if !eq(waits, want) {
		t.Errorf("waits %v, want %v", waits, want)
	}
	if w := l.Reserve(now.Add(10 * time.Second)); w != 0 {
		t.Errorf("after a pause: wait %v, want 0", w)
	}
	if w := notify.NewLimiter(0, 1).Reserve(now); w != 0 {
		t.Errorf("no limit: wait %v", w)
	}
}

func TestBackoff(t *testing.T) {
	r := notify.Retry{Attempts: 8, Base: time.Second, Max: 10 * time.Second}
	var got []time.Duration
	for n := 1; n <= 6; n++ {
		got = append(got, r.Backoff(n, errors.New("x")))
	}
	if want := []time.Duration{1, 2, 4, 8, 10, 10}; !eq(got, scale(want)) {
		t.Errorf("backoff %v, want %v s", got, want)
	}
	if d := r.Backoff(1, &notify.HTTPError{Status: 429, RetryAfter: 7 * time.Second}); d != 7*time.Second {
		t.Errorf("Retry-After 7 s: backoff %v", d)
	}
	if d := r.Backoff(1, &notify.HTTPError{Status: 429, RetryAfter: time.Hour}); d != 10*time.Second {
		t.Errorf("Retry-After 1 h: backoff %v, want the 10 s cap", d)
	}
}

func scale(s []time.Duration) []time.Duration {
	out := make([]time.Duration, len(s))
	for i, d := range s {
		out[i] = d * time.Second
	}
	return out
}

func TestHTTPErrorPermanence(t *testing.T) {
	for status, perm := range map[int]bool{400: true, 401: true, 403: true, 404: true, 408: false, 429: false, 500: false, 503: false} {
		if got := errors.Is(&notify.HTTPError{Status: status}, notify.ErrPermanent); got != perm {
			t.Errorf("HTTP %d permanent = %v, want %v", status, got, perm)
		}
	}
}

// fakeClock advances when slept on, and records the sleeps.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sleeps = append(c.sleeps, d)
	c.now = c.now.Add(d)
	return ctx.Err()
}
func (c *fakeClock) slept() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.sleeps...)
}

// fakeSink fails the first fails sends with err, then succeeds; each send
// may block on gate.
type fakeSink struct {
	mu    sync.Mutex
	fails int
	err   error
	sent  []*notify.Alert
	tries int
	gate  chan struct{}
	in    atomic.Int32 // sends begun
}

func (s *fakeSink) Name() string { return "fake" }
func (s *fakeSink) Send(ctx context.Context, a *notify.Alert) error {
	s.in.Add(1)
	if s.gate != nil {
		select {
		case <-s.gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tries++
	if s.tries <= s.fails {
		return s.err
	}
	s.sent = append(s.sent, a)
	return nil
}
func (s *fakeSink) counts() (tries, sent int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tries, len(s.sent)
}

type counter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *counter) Notification(sink, result string) {
	c.mu.Lock()
	c.n[sink+"/"+result]++
	c.mu.Unlock()
}
func (c *counter) Retried(sink string)     { c.mu.Lock(); c.n[sink+"/retry"]++; c.mu.Unlock() }
func (c *counter) QueueLength(string, int) {}
func (c *counter) get(k string) int        { c.mu.Lock(); defer c.mu.Unlock(); return c.n[k] }

type deadLetters struct {
	mu   sync.Mutex
	errs []error
}

func (d *deadLetters) add(_ context.Context, _ *notify.Alert, _ string, err error) error {
	d.mu.Lock()
	d.errs = append(d.errs, err)
	d.mu.Unlock()
	return nil
}
func (d *deadLetters) list() []error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]error(nil), d.errs...)
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func alert(sev string) *notify.Alert {
	a := anomaly("h", 0, 5)
	return &notify.Alert{Action: notify.ActionTrigger, Anomaly: a, Incident: notify.Incident{ID: a.ID, Host: "h", Severity: sev, Worst: a, Windows: 1}}
}

func run(t *testing.T, d *notify.Dispatcher) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { d.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

// TestRetriesThenDeadLetter: a sink failing with 500s is tried Attempts
// times with exponential back-off on the fake clock, then the alert goes
// to the dead letters with the reason; a later alert is delivered.
func TestRetriesThenDeadLetter(t *testing.T) {
	clk := &fakeClock{now: t0}
	sink := &fakeSink{fails: 4, err: &notify.HTTPError{Status: 500, Body: "boom"}}
	var dl deadLetters
	m := &counter{n: map[string]int{}}
	d, err := notify.NewDispatcher([]notify.Route{{Sink: sink, Retry: notify.Retry{Attempts: 4, Base: time.Second, Max: time.Minute}}}, dl.add, clk, m, quiet())
	if err != nil {
		t.Fatal(err)
	}
	run(t, d)
	d.Submit(alert(siem.SeverityError))
	waitUntil(t, "the dead letter", func() bool { return len(dl.list()) == 1 })
	if got, want := clk.slept(), scale([]time.Duration{1, 2, 4}); !eq(got, want) {
		t.Errorf("back-off %v, want %v", got, want)
	}
	if e := dl.list()[0].Error(); !strings.Contains(e, "4 attempts") || !strings.Contains(e, "HTTP 500") {
		t.Errorf("dead-letter reason %q", e)
	}
	d.Submit(alert(siem.SeverityError))
	waitUntil(t, "delivery", func() bool { _, n := sink.counts(); return n == 1 })
	if m.get("fake/retry") != 3 || m.get("fake/deadletter") != 1 || m.get("fake/sent") != 1 {
		t.Errorf("metrics %v", m.n)
	}
}

func TestPermanentErrorIsNotRetried(t *testing.T) {
	clk := &fakeClock{now: t0}
	sink := &fakeSink{fails: 1, err: &notify.HTTPError{Status: 400}}
	var dl deadLetters
	d, _ := notify.NewDispatcher([]notify.Route{{Sink: sink}}, dl.add, clk, nil, quiet())
	run(t, d)
	d.Submit(alert(siem.SeverityError))
	waitUntil(t, "the dead letter", func() bool { return len(dl.list()) == 1 })
	if tries, _ := sink.counts(); tries != 1 || len(clk.slept()) != 0 {
		t.Errorf("tries %d sleeps %v, want 1 try, no back-off", tries, clk.slept())
	}
}

// TestRateLimit: alerts beyond the burst wait for tokens on the clock.
func TestRateLimit(t *testing.T) {
	clk := &fakeClock{now: t0}
	sink := &fakeSink{}
	d, _ := notify.NewDispatcher([]notify.Route{{Sink: sink, Rate: 0.5, Burst: 1}}, nil, clk, nil, quiet())
	run(t, d)
	for range 3 {
		d.Submit(alert(siem.SeverityError))
	}
	waitUntil(t, "3 deliveries", func() bool { _, n := sink.counts(); return n == 3 })
	if got, want := clk.slept(), scale([]time.Duration{2, 2}); !eq(got, want) {
		t.Errorf("rate-limit waits %v, want %v", got, want)
	}
}

// TestSlowSinkNeverBlocksSubmit: with the sink stuck, Submit returns at
// once; alerts beyond the queue are dropped and counted; another route
// keeps delivering.
func TestSlowSinkNeverBlocksSubmit(t *testing.T) {
	stuck := &fakeSink{gate: make(chan struct{})}
	fast := &namedSink{fakeSink: &fakeSink{}, name: "fast"}
	m := &counter{n: map[string]int{}}
	d, _ := notify.NewDispatcher([]notify.Route{{Sink: stuck, Queue: 2}, {Sink: fast, Queue: 100}}, nil, &fakeClock{now: t0}, m, quiet())
	run(t, d)
	start := time.Now()
	d.Submit(alert(siem.SeverityError))
	waitUntil(t, "the stuck sink's first send", func() bool { return stuck.in.Load() == 1 })
	for range 9 {
		d.Submit(alert(siem.SeverityError))
	}
	if el := time.Since(start); el > time.Second {
		t.Errorf("10 submits took %v", el)
	}
	waitUntil(t, "the fast sink", func() bool { _, n := fast.counts(); return n == 10 })
	// One alert is in the stuck sink's Send, two wait in its queue.
	waitUntil(t, "drops counted", func() bool { return m.get("fake/dropped") == 7 })
	close(stuck.gate)
	waitUntil(t, "the stuck sink drains", func() bool { _, n := stuck.counts(); return n == 3 })
}

type namedSink struct {
	*fakeSink
	name string
}

func (n *namedSink) Name() string { return n.name }

func TestRoutingBySeverity(t *testing.T) {
	pager := &namedSink{fakeSink: &fakeSink{}, name: "pager"}
	chat := &namedSink{fakeSink: &fakeSink{}, name: "chat"}
	d, err := notify.NewDispatcher([]notify.Route{{Sink: pager, MinSeverity: siem.SeverityError}, {Sink: chat, MinSeverity: siem.SeverityWarning}}, nil, &fakeClock{now: t0}, nil, quiet())
	if err != nil {
		t.Fatal(err)
	}
	run(t, d)
	for _, s := range []string{siem.SeverityInfo, siem.SeverityWarning, siem.SeverityError, siem.SeverityCritical} {
		d.Submit(alert(s))
	}
	waitUntil(t, "deliveries", func() bool {
		_, p := pager.counts()
		_, c := chat.counts()
		return p == 2 && c == 3
	})
	if _, err := notify.NewDispatcher([]notify.Route{{Sink: chat, MinSeverity: "high"}}, nil, nil, nil, quiet()); err == nil {
		t.Error("unknown severity accepted")
	}
}

func TestSignAndVerify(t *testing.T) {
	key := []byte("s3cret")
	body := []byte(`{"action":"trigger"}`)
	now := time.Unix(1772443285, 0)
	ts := "1772443285"
	sig := notify.Sign(key, ts, body)
	if !strings.HasPrefix(sig, "v1=") || len(sig) != 3+64 {
		t.Fatalf("signature %q", sig)
	}
	if err := notify.Verify(key, ts, sig, body, now.Add(time.Minute), 5*time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := notify.Verify(key, ts, sig, []byte(`{"action":"resolve"}`), now, 5*time.Minute); !errors.Is(err, notify.ErrBadSignature) {
		t.Errorf("tampered body: %v", err)
	}
	if err := notify.Verify([]byte("other"), ts, sig, body, now, 5*time.Minute); !errors.Is(err, notify.ErrBadSignature) {
		t.Errorf("other key: %v", err)
	}
	if err := notify.Verify(key, ts, sig, body, now.Add(time.Hour), 5*time.Minute); !errors.Is(err, notify.ErrStale) {
		t.Errorf("replayed an hour later: %v", err)
	}
}

// TestSinkPayloads checks the bodies the sinks send against what the APIs
// require, over HTTP, and that no error carries the secret URL.
func TestSinkPayloads(t *testing.T) {
	var mu sync.Mutex
	bodies := map[string]map[string]any{}
	headers := map[string]http.Header{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Errorf("%s: body is not JSON: %v", r.URL.Path, err)
		}
		mu.Lock()
		bodies[r.URL.Path], headers[r.URL.Path] = m, r.Header.Clone()
		mu.Unlock()
		switch r.URL.Path {
		case "/api/chat.postMessage":
			_, _ = w.Write([]byte(`{"ok":true}`))
		case "/pd":
			w.WriteHeader(http.StatusAccepted)
			_, _ = w.Write([]byte(`{"status":"success","message":"Event processed"}`))
		case "/hook":
			ts, sig := r.Header.Get(notify.HeaderTimestamp), r.Header.Get(notify.HeaderSignature)
			if err := notify.Verify([]byte("k"), ts, sig, b, time.Now(), time.Minute); err != nil {
				t.Errorf("webhook signature: %v", err)
			}
		case "/bad":
			_, _ = w.Write([]byte(`{"ok":false,"error":"invalid_auth"}`))
		}
	}))
	defer srv.Close()
	ctx := context.Background()
	a := alert(siem.SeverityError)
	if err := (&notify.Slack{WebhookURL: srv.URL + "/slack"}).Send(ctx, a); err != nil {
		t.Fatal(err)
	}
	if err := (&notify.Slack{Token: "xoxb-1", Channel: "#soc", APIURL: srv.URL + "/api/chat.postMessage"}).Send(ctx, a); err != nil {
		t.Fatal(err)
	}
	pd := &notify.PagerDuty{RoutingKey: "R0UT1NGKEY0123456789012345678901", URL: srv.URL + "/pd", Prefix: "riptide"}
	if err := pd.Send(ctx, a); err != nil {
		t.Fatal(err)
	}
	if err := (&notify.Webhook{URL: srv.URL + "/hook", Key: []byte("k"), Format: siem.FormatOCSF}).Send(ctx, a); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	for _, p := range []string{"/slack", "/api/chat.postMessage"} {
		txt, _ := bodies[p]["text"].(string)
		for _, want := range []string{"*[ERROR] Anomalous traffic on h*", "score -6.50", "threshold -1.50", "syn_in = 3000", "riptide label h@", "2026-03-02 09:00:00 – 09:00:10 UTC"} {
			if !strings.Contains(txt, want) {
				t.Errorf("%s text lacks %q:\n%s", p, want, txt)
			}
		}
	}
	if bodies["/api/chat.postMessage"]["channel"] != "#soc" || headers["/api/chat.postMessage"].Get("Authorization") != "Bearer xoxb-1" {
		t.Errorf("chat.postMessage: channel %v, auth %q", bodies["/api/chat.postMessage"]["channel"], headers["/api/chat.postMessage"].Get("Authorization"))
	}
	ev := bodies["/pd"]
	pl, _ := ev["payload"].(map[string]any)
	if ev["routing_key"] != pd.RoutingKey || ev["event_action"] != "trigger" || ev["dedup_key"] != "riptide/"+a.Incident.ID ||
		pl["summary"] == "" || pl["source"] != "h" || pl["severity"] != "error" {
		t.Errorf("PagerDuty event %v", ev)
	}
	if bodies["/hook"]["class_uid"] != 2004.0 {
		t.Errorf("webhook OCSF body %v", bodies["/hook"])
	}
	mu.Unlock()
	// Errors name neither the URL nor the token.
	err := (&notify.Slack{Token: "xoxb-1", APIURL: srv.URL + "/bad"}).Send(ctx, a)
	if !errors.Is(err, notify.ErrPermanent) || strings.Contains(err.Error(), "xoxb") {
		t.Errorf("invalid_auth: %v", err)
	}
	secret := "http://127.0.0.1:1/services/T000/B000/SECRET"
	err = (&notify.Slack{WebhookURL: secret}).Send(ctx, a)
	if err == nil || strings.Contains(err.Error(), "SECRET") {
		t.Errorf("connection refused error %v carries the URL", err)
	}
}

func TestPagerDutyResolve(t *testing.T) {
	pd := &notify.PagerDuty{RoutingKey: "rk", Prefix: "riptide"}
	a := alert(siem.SeverityError)
	a.Action = notify.ActionResolve
	b, err := pd.Event(a)
	if err != nil {
		t.Fatal(err)
	}
	var ev map[string]any
	_ = json.Unmarshal(b, &ev)
	if ev["event_action"] != "resolve" || ev["dedup_key"] != "riptide/"+a.Incident.ID || ev["routing_key"] != "rk" {
		t.Errorf("resolve event %s", b)
	}
}
