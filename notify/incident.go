// Package notify turns anomalies into alerts people act on: it groups the
// anomalous windows of a host into incidents (one per host and attack
// episode), decides when to tell someone (trigger, update, resolve), and
// delivers the alerts to Slack, PagerDuty and generic webhooks with routing
// by severity, rate limits, retries with exponential back-off and a
// dead-letter hand-off after the last retry.
//
// The package is pure with respect to Kafka: the notifier processor
// (processors/notifier) feeds it anomalies and the stream's time, and gives
// it a dead-letter function. Time is passed in (Policy) or comes from a
// Clock (Dispatcher), so the logic is tested with a fake clock.
//
// # Incidents
//
// An incident is identified by the id of its first anomaly (host "@"
// window start in Unix ms, e.g. "10.10.10.10@1619605820000"); every
// anomaly keeps its own id (a window), which is what `riptide label`
// will take. PagerDuty's dedup_key is "<prefix>/<incident id>", so one
// incident per host and episode.
//
// A host is normal again when no anomaly of it was seen for
// Policy.QuietWindows windows of event time, judged from the anomalies
// topic's stream time (the largest window end seen on the host's
// partition), or, when the stream is silent (a calm network emits no
// anomalies to move its time on), for Policy.IdleResolve of processing
// time. An anomaly that comes after the quiet period starts a new
// incident.
//
// # HTTP
//
// The sinks use net/http and encoding/json rather than
// github.com/PagerDuty/go-pagerduty or github.com/slack-go/slack: each body
// is a handful of fields (one POST per sink), and the dispatcher decides
// retry, back-off and dead letter from the status code and Retry-After of
// each attempt; with the clients each would be read back out of the
// client's own error types, for a large dependency (slack-go covers the
// whole Web API). Errors are stripped of the URL, which for a Slack or
// generic webhook is itself a secret.
package notify

import (
	"fmt"
	"time"

	"github.com/riptide-nids/riptide/codecs"
	"github.com/riptide-nids/riptide/siem"
)

// Action is what an alert says about its incident.
type Action string

// Actions.
const (
	ActionTrigger Action = "trigger"
	ActionUpdate  Action = "update"
	ActionResolve Action = "resolve"
)

// Activity returns the OCSF activity of a.
func (a Action) Activity() siem.Activity {
	switch a {
	case ActionUpdate:
		return siem.ActivityUpdate
	case ActionResolve:
		return siem.ActivityClose
	}
	return siem.ActivityCreate
}

// Incident is one host's attack episode: the anomalous windows grouped
// into one alert. It is the notifier table's value (JSON).
type Incident struct {
	// ID is the id of the incident's first anomaly.
	ID   string `json:"id"`
	Host string `json:"host"`
	// FirstStart is the start of the first anomalous window, LastStart and
	// LastEnd bound the latest one (event time).
	FirstStart time.Time `json:"first_start"`
	LastStart  time.Time `json:"last_start"`
	LastEnd    time.Time `json:"last_end"`
	// Windows counts the anomalous windows grouped (repeats not counted).
	Windows int `json:"windows"`
	// Severity is the highest severity of its windows.
	Severity string `json:"severity"`
	// Worst is the most anomalous window (lowest score minus threshold),
	// whose reasons the alerts show.
	Worst *codecs.Anomaly `json:"worst"`
	// Latest is the id of the latest anomaly.
	Latest string `json:"latest"`
	// Opened and Seen are when the notifier opened the incident and last
	// saw an anomaly of it (processing time).
	Opened time.Time `json:"opened"`
	Seen   time.Time `json:"seen"`
	// Notified is when an alert about it was last sent out, and
	// NotifiedWindows the window count it carried.
	Notified        time.Time `json:"notified"`
	NotifiedWindows int       `json:"notified_windows"`
	// Suppressed counts anomalies grouped into the incident without an alert.
	Suppressed int `json:"suppressed"`
	// Resolved is set once the host is normal again; ResolvedAt and
	// ResolveReason say when and why.
	Resolved      bool      `json:"resolved"`
	ResolvedAt    time.Time `json:"resolved_at,omitzero"`
	ResolveReason string    `json:"resolve_reason,omitempty"`
}

// Alert is one message about an incident.
type Alert struct {
	Action Action
	// Incident is a copy of the incident after the change.
	Incident Incident
	// Anomaly is the window the alert shows: the new anomaly for trigger
	// and update, the worst window for resolve.
	Anomaly *codecs.Anomaly
}

// Severity returns the incident's severity.
func (a *Alert) Severity() string { return a.Incident.Severity }

// SIEM returns what siem's renderers need of the alert.
func (a *Alert) SIEM(productVersion string) siem.Options {
	inc := a.Incident
	t := inc.Seen
	if a.Action == ActionResolve {
		t = inc.ResolvedAt
	}
	return siem.Options{
		Severity:       inc.Severity,
		ProductVersion: productVersion,
		Incident: siem.Incident{
			ID: inc.ID, Activity: a.Action.Activity(), Severity: inc.Severity, Windows: inc.Windows,
			FirstStart: inc.FirstStart, LastEnd: inc.LastEnd, Time: t, Reason: inc.ResolveReason,
		},
	}
}

// Policy decides how anomalies group into incidents and when to alert.
type Policy struct {
	// QuietWindows is how many windows of event time without an anomaly
	// make a host normal again (default 6).
	QuietWindows int
	// IdleResolve resolves an incident after this long without an anomaly
	// of its host in processing time, for when the stream's time stands
	// still (default 5 min).
	IdleResolve time.Duration
	// UpdateEvery is the least time between two updates of an incident;
	// anomalies in between are grouped silently unless the severity rises
	// (default 5 min).
	UpdateEvery time.Duration
	// Severity maps anomalies to severities.
	Severity siem.SeverityPolicy
}

// DefaultPolicy returns the default policy.
func DefaultPolicy() Policy {
	return Policy{QuietWindows: 6, IdleResolve: 5 * time.Minute, UpdateEvery: 5 * time.Minute, Severity: siem.DefaultSeverityPolicy()}
}

// Validate reports settings that cannot work.
func (p Policy) Validate() error {
	switch {
	case p.QuietWindows < 1:
		return fmt.Errorf("notify: quiet windows %d: must be at least 1", p.QuietWindows)
	case p.IdleResolve <= 0:
		return fmt.Errorf("notify: idle resolve %v: must be positive", p.IdleResolve)
	case p.UpdateEvery < 0:
		return fmt.Errorf("notify: update interval %v: must not be negative", p.UpdateEvery)
	}
	return nil
}

// quiet is the event-time gap that ends an episode: QuietWindows windows
// of the anomaly's own length.
func (p Policy) quiet(inc *Incident) time.Duration {
	size := time.Duration(0)
	if inc.Worst != nil {
		size = inc.Worst.WindowEnd.Sub(inc.Worst.WindowStart)
	}
	if size <= 0 {
		size = 10 * time.Second
	}
	return time.Duration(p.QuietWindows) * size
}

// Outcome says what Observe did with an anomaly.
type Outcome int

// Outcomes.
const (
	// Opened: a new incident (trigger alert).
	Opened Outcome = iota
	// Updated: grouped into the open incident and an update is due.
	Updated
	// Grouped: grouped into the open incident silently (suppressed).
	Grouped
	// Repeat: a window already counted (a redelivery); nothing changes.
	Repeat
)

// Observe applies anomaly a, seen at now (processing time), to the host's
// incident inc (nil if the host has none) and returns the incident to
// store and the alerts to send, in order: a resolve of the previous
// episode when a comes after the quiet period, then a trigger or update.
func (p Policy) Observe(inc *Incident, a *codecs.Anomaly, now time.Time) (*Incident, []Alert, Outcome) {
	sev := siem.SeverityOf(a, p.Severity)
	if inc != nil && !a.WindowStart.After(inc.LastStart) {
		// A window at or before the latest one counted: the detector emits
		// a host's windows in order, so this is a redelivery (of this
		// episode or an earlier one).
		return inc, nil, Repeat
	}
	var alerts []Alert
	if inc != nil && !inc.Resolved && a.WindowStart.Sub(inc.LastEnd) >= p.quiet(inc) {
		old := *inc
		p.resolve(&old, now, fmt.Sprintf("no anomaly for %d windows of event time", p.QuietWindows))
		alerts = append(alerts, Alert{Action: ActionResolve, Incident: old, Anomaly: old.Worst})
		inc = &old
	}
	if inc == nil || inc.Resolved {
		n := &Incident{
			ID: a.ID, Host: a.Host, FirstStart: a.WindowStart, LastStart: a.WindowStart, LastEnd: a.WindowEnd,
			Windows: 1, Severity: sev, Worst: a, Latest: a.ID, Opened: now, Seen: now,
			Notified: now, NotifiedWindows: 1,
		}
		return n, append(alerts, Alert{Action: ActionTrigger, Incident: *n, Anomaly: a}), Opened
	}
	n := *inc
	n.Windows++
	n.LastStart, n.LastEnd = a.WindowStart, a.WindowEnd
	n.Latest, n.Seen = a.ID, now
	if n.Worst == nil || a.Score-a.Threshold < n.Worst.Score-n.Worst.Threshold {
		n.Worst = a
	}
	escalated := siem.SeverityRank(sev) > siem.SeverityRank(n.Severity)
	if escalated {
		n.Severity = sev
	}
	if escalated || now.Sub(n.Notified) >= p.UpdateEvery {
		n.Notified, n.NotifiedWindows = now, n.Windows
		return &n, append(alerts, Alert{Action: ActionUpdate, Incident: n, Anomaly: a}), Updated
	}
	n.Suppressed++
	return &n, alerts, Grouped
}

// Expire resolves inc if its host is normal again: streamTime (the largest
// window end seen on its partition; zero if unknown) is at least
// QuietWindows windows past its last anomalous window, or no anomaly came
// for IdleResolve until now. It returns nil when nothing changes.
func (p Policy) Expire(inc *Incident, streamTime, now time.Time) *Alert {
	if inc == nil || inc.Resolved {
		return nil
	}
	var why string
	switch {
	case !streamTime.IsZero() && streamTime.Sub(inc.LastEnd) >= p.quiet(inc):
		why = fmt.Sprintf("no anomaly for %d windows of event time", p.QuietWindows)
	case now.Sub(inc.Seen) >= p.IdleResolve:
		why = fmt.Sprintf("no anomaly for %v", p.IdleResolve)
	default:
		return nil
	}
	p.resolve(inc, now, why)
	return &Alert{Action: ActionResolve, Incident: *inc, Anomaly: inc.Worst}
}

func (p Policy) resolve(inc *Incident, now time.Time, why string) {
	inc.Resolved, inc.ResolvedAt, inc.ResolveReason = true, now, why
	inc.Notified = now
}
