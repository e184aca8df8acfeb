package siem

import (
	"github.com/riptide-nids/riptide/codecs"
)

// ECSEvent is an anomaly as an Elastic Common Schema 8.x document: an event
// of kind "alert" in the categories network and intrusion_detection, the
// host under host.ip and related.ip, and riptide's own fields under the
// custom field set "riptide".
type ECSEvent struct {
	Timestamp string      `json:"@timestamp"`
	ECS       ecsVersion  `json:"ecs"`
	Message   string      `json:"message"`
	Event     ecsEventF   `json:"event"`
	Host      ecsHost     `json:"host"`
	Related   ecsRelated  `json:"related"`
	Rule      ecsRule     `json:"rule"`
	Observer  ecsObserver `json:"observer"`
	Riptide   ecsRiptide  `json:"riptide"`
}

type ecsVersion struct {
	Version string `json:"version"`
}

type ecsEventF struct {
	Kind     string   `json:"kind"`
	Category []string `json:"category"`
	Type     []string `json:"type"`
	Action   string   `json:"action"`
	ID       string   `json:"id"`
	Severity int      `json:"severity"`
	Start    string   `json:"start"`
	End      string   `json:"end"`
	Created  string   `json:"created"`
	Dataset  string   `json:"dataset"`
	Module   string   `json:"module"`
	Provider string   `json:"provider"`
	Reason   string   `json:"reason"`
}

type ecsHost struct {
	IP []string `json:"ip"`
}

type ecsRelated struct {
	IP []string `json:"ip"`
}

type ecsRule struct {
	Name     string `json:"name"`
	Ruleset  string `json:"ruleset"`
	Version  string `json:"version"`
	Category string `json:"category"`
}

type ecsObserver struct {
	Vendor  string `json:"vendor"`
	Product string `json:"product"`
	Type    string `json:"type"`
	Version string `json:"version"`
}

type ecsRiptide struct {
	AnomalyID    string          `json:"anomaly_id"`
	Score        float64         `json:"score"`
	Threshold    float64         `json:"threshold"`
	ModelVersion string          `json:"model_version"`
	Severity     string          `json:"severity"`
	Packets      uint64          `json:"packets,omitempty"`
	Reasons      []codecs.Reason `json:"reasons"`
	Incident     *ecsIncident    `json:"incident,omitempty"`
}

type ecsIncident struct {
	ID         string `json:"id"`
	Action     string `json:"action"`
	Windows    int    `json:"windows"`
	FirstStart string `json:"first_window_start"`
	LastEnd    string `json:"last_window_end"`
	Reason     string `json:"reason,omitempty"`
}

// ECSSeverity maps a severity to event.severity (ECS leaves the scale to
// the source; riptide uses 21, 47, 73, 99 like Elastic's detection rules'
// low, medium, high, critical).
func ECSSeverity(s string) int {
	switch s {
	case SeverityWarning:
		return 47
	case SeverityError:
		return 73
	case SeverityCritical:
		return 99
	}
	return 21
}

// ECS returns a as an ECS alert event.
func ECS(a *codecs.Anomaly, o Options) *ECSEvent {
	at := a.DetectedAt
	if at.IsZero() {
		at = a.WindowEnd
	}
	reasons := a.Reasons
	if reasons == nil {
		reasons = []codecs.Reason{}
	}
	e := &ECSEvent{
		Timestamp: at.UTC().Format(codecs.TimeFormat),
		ECS:       ecsVersion{Version: ECSVersion},
		Message:   Summary(a),
		Event: ecsEventF{
			Kind: "alert", Category: []string{"network", "intrusion_detection"}, Type: []string{"info"},
			Action: "network-anomaly", ID: a.ID, Severity: ECSSeverity(o.Severity),
			Start:   a.WindowStart.UTC().Format(codecs.TimeFormat),
			End:     a.WindowEnd.UTC().Format(codecs.TimeFormat),
			Created: at.UTC().Format(codecs.TimeFormat),
			Dataset: "riptide.anomalies", Module: "riptide", Provider: "riptide",
			Reason: reasonsText(a),
		},
		Host:     ecsHost{IP: []string{a.Host}},
		Related:  ecsRelated{IP: []string{a.Host}},
		Rule:     ecsRule{Name: "riptide network anomaly", Ruleset: "riptide", Version: a.ModelVersion, Category: "anomaly detection"},
		Observer: ecsObserver{Vendor: "riptide", Product: "riptide", Type: "ids", Version: o.ProductVersion},
		Riptide: ecsRiptide{
			AnomalyID: a.ID, Score: a.Score, Threshold: a.Threshold, ModelVersion: a.ModelVersion,
			Severity: o.Severity, Packets: a.Packets, Reasons: reasons,
		},
	}
	if inc := o.Incident; inc.ID != "" {
		e.Riptide.Incident = &ecsIncident{
			ID: inc.ID, Action: actionName(inc.Activity), Windows: inc.Windows,
			FirstStart: inc.FirstStart.UTC().Format(codecs.TimeFormat),
			LastEnd:    inc.LastEnd.UTC().Format(codecs.TimeFormat),
			Reason:     inc.Reason,
		}
		if !inc.Time.IsZero() {
			e.Timestamp = inc.Time.UTC().Format(codecs.TimeFormat)
		}
		if inc.Activity == ActivityClose {
			e.Message = "Resolved: " + a.Host + " is normal again (" + inc.Reason + ")"
		}
	}
	return e
}

// actionName is the notifier's name of an activity.
func actionName(a Activity) string {
	switch a {
	case ActivityUpdate:
		return "update"
	case ActivityClose:
		return "resolve"
	}
	return "trigger"
}
