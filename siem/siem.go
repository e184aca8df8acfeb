// Package siem renders riptide anomalies in the formats security tools
// ingest unchanged: OCSF (an OCSF 1.8.0 Detection Finding, class_uid 2004)
// and ECS (Elastic Common Schema 8.x, an event of kind "alert"), besides
// riptide's own anomaly JSON (codecs/ANOMALY.md).
//
// The same anomaly is rendered either alone (`riptide tail --format`) or
// as part of an incident (the notifier's webhook): an incident groups the
// anomalous windows of one host in one attack episode, so the finding's uid
// is the incident's id and its activity follows the incident's life
// (created, updated, closed). FORMATS.md documents the mapping field by
// field, with examples.
package siem

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/riptide-nids/riptide/codecs"
)

// Format is an output format.
type Format string

// Formats.
const (
	// FormatRiptide is riptide's anomaly JSON (codecs.EncodeAnomaly).
	FormatRiptide Format = "riptide"
	// FormatOCSF is an OCSF 1.8.0 Detection Finding (class_uid 2004).
	FormatOCSF Format = "ocsf"
	// FormatECS is an Elastic Common Schema 8.x alert event.
	FormatECS Format = "ecs"
)

// Formats lists every format.
var Formats = []Format{FormatRiptide, FormatOCSF, FormatECS}

// ParseFormat parses a format name.
func ParseFormat(s string) (Format, error) {
	for _, f := range Formats {
		if string(f) == s {
			return f, nil
		}
	}
	return "", fmt.Errorf("siem: unknown format %q (choose riptide, ocsf or ecs)", s)
}

// OCSFVersion is the OCSF schema version the OCSF output follows.
const OCSFVersion = "1.8.0"

// ECSVersion is the ECS version the ECS output follows.
const ECSVersion = "8.11.0"

// Activity is what happened to a finding.
type Activity int

// Activities, with OCSF's activity_id values.
const (
	// ActivityCreate: a new finding (an incident opened, or a lone anomaly).
	ActivityCreate Activity = 1
	// ActivityUpdate: more anomalous windows joined the incident.
	ActivityUpdate Activity = 2
	// ActivityClose: the host is normal again; the incident is resolved.
	ActivityClose Activity = 3
)

func (a Activity) String() string {
	switch a {
	case ActivityCreate:
		return "Create"
	case ActivityUpdate:
		return "Update"
	case ActivityClose:
		return "Close"
	}
	return "Unknown"
}

// Severity levels, from the least to the most severe. They are PagerDuty's
// names; OCSF and ECS get their own scales (see OCSFSeverityID).
const (
	SeverityInfo     = "info"
	SeverityWarning  = "warning"
	SeverityError    = "error"
	SeverityCritical = "critical"
)

// Incident is what a finding knows of the incident an anomaly belongs to.
// A zero Incident means the anomaly stands alone.
type Incident struct {
	// ID is the incident's id: the id of its first anomaly (host "@"
	// window start in Unix ms).
	ID string
	// Activity is what happened to the incident.
	Activity Activity
	// Severity is the incident's severity (the highest of its windows).
	Severity string
	// Windows is the number of anomalous windows grouped so far.
	Windows int
	// FirstStart and LastEnd bound the incident's anomalous windows (event
	// time).
	FirstStart, LastEnd time.Time
	// Time is when the notifier observed this change (processing time).
	Time time.Time
	// Reason says why the incident was closed (ActivityClose only).
	Reason string
}

// Options are what a rendering needs besides the anomaly.
type Options struct {
	// Severity of the anomaly when Incident is zero (default: SeverityOf).
	Severity string
	// Incident, if its ID is set, makes the finding describe the incident.
	Incident Incident
	// ProductVersion is riptide's build version (metadata.product.version).
	ProductVersion string
}

// Encode renders a in format f as one line of JSON (no trailing newline).
// With FormatRiptide it is the anomaly's own JSON; the incident is not part
// of it.
func Encode(f Format, a *codecs.Anomaly, o Options) ([]byte, error) {
	if a == nil {
		return nil, fmt.Errorf("siem: nil anomaly: %w", codecs.ErrInvalid)
	}
	if err := a.Validate(); err != nil {
		return nil, fmt.Errorf("siem: anomaly %q: %w", a.ID, err)
	}
	if o.Severity == "" {
		o.Severity = o.Incident.Severity
	}
	if o.Severity == "" {
		o.Severity = SeverityOf(a, DefaultSeverityPolicy())
	}
	if o.ProductVersion == "" {
		o.ProductVersion = "dev"
	}
	switch f {
	case FormatRiptide:
		return codecs.EncodeAnomaly(a)
	case FormatOCSF:
		return json.Marshal(OCSF(a, o))
	case FormatECS:
		return json.Marshal(ECS(a, o))
	}
	return nil, fmt.Errorf("siem: unknown format %q", f)
}

// SeverityPolicy maps an anomaly to a severity by its margin (threshold
// minus score: how far below the alert threshold the window scored) and
// its reasons.
type SeverityPolicy struct {
	// Critical, Error and Warning are the smallest margins of each level;
	// a smaller margin is info.
	Critical, Error, Warning float64
	// StrongZ and StrongReasons: an anomaly with at least StrongReasons
	// reasons whose standardised deviation is at least StrongZ is at least
	// error (several features far from normal at once).
	StrongZ       float64
	StrongReasons int
}

// DefaultSeverityPolicy returns the default severity levels: margins of 8,
// 4 and 1 for critical, error and warning; two reasons at z ≥ 10 make at
// least error.
func DefaultSeverityPolicy() SeverityPolicy {
	return SeverityPolicy{Critical: 8, Error: 4, Warning: 1, StrongZ: 10, StrongReasons: 2}
}

// SeverityOf returns the severity of a under p.
func SeverityOf(a *codecs.Anomaly, p SeverityPolicy) string {
	margin := a.Threshold - a.Score
	sev := SeverityInfo
	switch {
	case margin >= p.Critical:
		sev = SeverityCritical
	case margin >= p.Error:
		sev = SeverityError
	case margin >= p.Warning:
		sev = SeverityWarning
	}
	strong := 0
	for _, r := range a.Reasons {
		if r.Z >= p.StrongZ {
			strong++
		}
	}
	if p.StrongReasons > 0 && strong >= p.StrongReasons && SeverityRank(sev) < SeverityRank(SeverityError) {
		sev = SeverityError
	}
	return sev
}

// SeverityRank orders severities: info 0, warning 1, error 2, critical 3;
// -1 for anything else.
func SeverityRank(s string) int {
	switch s {
	case SeverityInfo:
		return 0
	case SeverityWarning:
		return 1
	case SeverityError:
		return 2
	case SeverityCritical:
		return 3
	}
	return -1
}

// ParseSeverity checks a severity name.
func ParseSeverity(s string) (string, error) {
	if SeverityRank(s) < 0 {
		return "", fmt.Errorf("siem: unknown severity %q (choose info, warning, error or critical)", s)
	}
	return s, nil
}

// OCSFSeverityID maps a severity to OCSF's severity_id: info 1
// (Informational), warning 3 (Medium), error 4 (High), critical 5
// (Critical).
func OCSFSeverityID(s string) (int, string) {
	switch s {
	case SeverityWarning:
		return 3, "Medium"
	case SeverityError:
		return 4, "High"
	case SeverityCritical:
		return 5, "Critical"
	}
	return 1, "Informational"
}

// Summary is a one-line description of a for people: the host and the
// first reason.
func Summary(a *codecs.Anomaly) string {
	s := "Anomalous network traffic on " + a.Host
	if len(a.Reasons) > 0 {
		s += ": " + a.Reasons[0].Text
	}
	return s
}

// reasonsText joins the reasons' texts.
func reasonsText(a *codecs.Anomaly) string {
	t := make([]string, len(a.Reasons))
	for i, r := range a.Reasons {
		t[i] = r.Text
	}
	return strings.Join(t, "; ")
}

func ms(t time.Time) int64 { return t.UnixMilli() }
