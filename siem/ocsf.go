package siem

import (
	"strconv"

	"github.com/riptide-nids/riptide/codecs"
)

// OCSF Detection Finding constants (OCSF 1.8.0).
const (
	ocsfCategoryUID = 2    // Findings
	ocsfClassUID    = 2004 // Detection Finding
)

// OCSFFinding is an OCSF 1.8.0 Detection Finding (class_uid 2004). Only the
// attributes riptide fills are declared.
type OCSFFinding struct {
	ActivityID     int               `json:"activity_id"`
	ActivityName   string            `json:"activity_name"`
	CategoryUID    int               `json:"category_uid"`
	CategoryName   string            `json:"category_name"`
	ClassUID       int               `json:"class_uid"`
	ClassName      string            `json:"class_name"`
	TypeUID        int               `json:"type_uid"`
	TypeName       string            `json:"type_name"`
	Time           int64             `json:"time"`
	SeverityID     int               `json:"severity_id"`
	Severity       string            `json:"severity"`
	StatusID       int               `json:"status_id"`
	Status         string            `json:"status"`
	IsAlert        bool              `json:"is_alert"`
	Message        string            `json:"message"`
	StartTime      int64             `json:"start_time"`
	EndTime        int64             `json:"end_time"`
	Count          int               `json:"count"`
	ConfidenceID   int               `json:"confidence_id"`
	Confidence     string            `json:"confidence"`
	FindingInfo    ocsfFindingInfo   `json:"finding_info"`
	Metadata       ocsfMetadata      `json:"metadata"`
	Device         ocsfDevice        `json:"device"`
	Observables    []ocsfObservable  `json:"observables"`
	AnomalyAnalyse []ocsfAnomalyAnal `json:"anomaly_analyses,omitempty"`
	Unmapped       map[string]any    `json:"unmapped"`
}

type ocsfFindingInfo struct {
	UID           string       `json:"uid"`
	Title         string       `json:"title"`
	Desc          string       `json:"desc"`
	Types         []string     `json:"types"`
	CreatedTime   int64        `json:"created_time"`
	FirstSeenTime int64        `json:"first_seen_time"`
	LastSeenTime  int64        `json:"last_seen_time"`
	Analytic      ocsfAnalytic `json:"analytic"`
	RelatedCount  int          `json:"related_events_count,omitempty"`
}

type ocsfAnalytic struct {
	TypeID    int    `json:"type_id"`
	Type      string `json:"type"`
	Name      string `json:"name"`
	Algorithm string `json:"algorithm"`
	UID       string `json:"uid,omitempty"`
	Version   string `json:"version,omitempty"`
}

type ocsfMetadata struct {
	Version        string      `json:"version"`
	Product        ocsfProduct `json:"product"`
	UID            string      `json:"uid"`
	CorrelationUID string      `json:"correlation_uid,omitempty"`
	LoggedTime     int64       `json:"logged_time"`
	LogName        string      `json:"log_name"`
}

type ocsfProduct struct {
	Name       string `json:"name"`
	VendorName string `json:"vendor_name"`
	Version    string `json:"version"`
}

type ocsfDevice struct {
	TypeID int    `json:"type_id"`
	Type   string `json:"type"`
	IP     string `json:"ip"`
}

type ocsfObservable struct {
	TypeID int    `json:"type_id"`
	Type   string `json:"type"`
	Name   string `json:"name"`
	Value  string `json:"value"`
}

type ocsfAnomalyAnal struct {
	AnalysisTargets []ocsfTarget  `json:"analysis_targets"`
	Anomalies       []ocsfPattern `json:"anomalies"`
	Baselines       []ocsfPattern `json:"baselines"`
}

type ocsfTarget struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

type ocsfPattern struct {
	ObservationParameter string            `json:"observation_parameter"`
	ObservationType      string            `json:"observation_type"`
	Observations         []ocsfObservation `json:"observations"`
	ObservedPattern      string            `json:"observed_pattern,omitempty"`
}

type ocsfObservation struct {
	Value string `json:"value"`
}

// OCSF returns a as an OCSF Detection Finding: uid and activity from the
// incident when o.Incident is set (so a SIEM sees one finding that is
// created, updated and closed), from the anomaly alone otherwise.
func OCSF(a *codecs.Anomaly, o Options) *OCSFFinding {
	inc := o.Incident
	act := ActivityCreate
	uid := a.ID
	count := 1
	first, last := a.WindowStart, a.WindowEnd
	at := a.DetectedAt
	if inc.ID != "" {
		act, uid, count = inc.Activity, inc.ID, inc.Windows
		if !inc.FirstStart.IsZero() {
			first, last = inc.FirstStart, inc.LastEnd
		}
		if !inc.Time.IsZero() {
			at = inc.Time
		}
	}
	if at.IsZero() {
		at = a.WindowEnd
	}
	statusID, status := 1, "New"
	switch act {
	case ActivityUpdate:
		statusID, status = 2, "In Progress"
	case ActivityClose:
		statusID, status = 4, "Resolved"
	}
	sevID, sev := OCSFSeverityID(o.Severity)
	msg := Summary(a)
	if act == ActivityClose && inc.Reason != "" {
		msg = "Resolved: " + a.Host + " is normal again (" + inc.Reason + ")"
	}
	f := &OCSFFinding{
		ActivityID: int(act), ActivityName: act.String(),
		CategoryUID: ocsfCategoryUID, CategoryName: "Findings",
		ClassUID: ocsfClassUID, ClassName: "Detection Finding",
		TypeUID: ocsfClassUID*100 + int(act), TypeName: "Detection Finding: " + act.String(),
		Time:       ms(at),
		SeverityID: sevID, Severity: sev,
		StatusID: statusID, Status: status,
		IsAlert:   true,
		Message:   msg,
		StartTime: ms(first), EndTime: ms(last),
		Count:        count,
		ConfidenceID: 0, Confidence: "Unknown",
		Metadata: ocsfMetadata{
			Version:        OCSFVersion,
			Product:        ocsfProduct{Name: "riptide", VendorName: "riptide", Version: o.ProductVersion},
			UID:            a.ID,
			CorrelationUID: inc.ID,
			LoggedTime:     ms(a.DetectedAt),
			LogName:        "anomalies",
		},
		Device:      ocsfDevice{TypeID: 0, Type: "Unknown", IP: a.Host},
		Observables: []ocsfObservable{{TypeID: 2, Type: "IP Address", Name: "device.ip", Value: a.Host}},
		Unmapped: map[string]any{
			"score":         a.Score,
			"threshold":     a.Threshold,
			"model_version": a.ModelVersion,
			"window_start":  a.WindowStart.UTC().Format(codecs.TimeFormat),
			"window_end":    a.WindowEnd.UTC().Format(codecs.TimeFormat),
			"reasons":       a.Reasons,
		},
	}
	if a.Packets > 0 {
		f.Unmapped["packets"] = a.Packets
	}
	f.FindingInfo = ocsfFindingInfo{
		UID:           uid,
		Title:         "Network anomaly on " + a.Host,
		Desc:          reasonsText(a),
		Types:         []string{"Network Anomaly"},
		CreatedTime:   ms(a.DetectedAt),
		FirstSeenTime: ms(first),
		LastSeenTime:  ms(last),
		Analytic: ocsfAnalytic{
			TypeID: 4, Type: "Learning (ML/DL)",
			Name: "riptide one-class SVM", Algorithm: "one-class SVM (RBF kernel) on per-host window features",
			UID: a.ModelVersion, Version: a.ModelVersion,
		},
	}
	if f.FindingInfo.Desc == "" {
		f.FindingInfo.Desc = msg
	}
	if len(a.Reasons) > 0 {
		an := ocsfAnomalyAnal{AnalysisTargets: []ocsfTarget{{Name: a.Host, Type: "host"}}}
		for _, r := range a.Reasons {
			an.Anomalies = append(an.Anomalies, ocsfPattern{
				ObservationParameter: r.Feature, ObservationType: "window feature",
				Observations:    []ocsfObservation{{Value: num(r.Value)}},
				ObservedPattern: r.Text,
			})
			an.Baselines = append(an.Baselines, ocsfPattern{
				ObservationParameter: r.Feature, ObservationType: "typical (median) in training",
				Observations:    []ocsfObservation{{Value: num(r.Typical)}},
				ObservedPattern: "normal up to " + num(r.High),
			})
		}
		f.AnomalyAnalyse = []ocsfAnomalyAnal{an}
	}
	return f
}

func num(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
