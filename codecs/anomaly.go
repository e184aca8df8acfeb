package codecs

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"
)

// TimeFormat is the layout of every time in an anomaly: RFC 3339 in UTC with
// exactly nine fractional digits, so that times sort as text and compare
// exactly with nanosecond timestamps.
const TimeFormat = "2006-01-02T15:04:05.000000000Z"

// Anomaly is a window the detector flagged, as written on the anomalies topic
// in JSON (see ANOMALY.md for an example). The zero value is not valid: ID,
// Host, WindowStart and WindowEnd are required.
type Anomaly struct {
	// ID is the id of the feature vector that was scored (window.Vector.ID:
	// host "@" window start in Unix milliseconds). It is deterministic, so
	// consumers can drop duplicates after a replay. JSON "id", required.
	ID string `json:"id"`
	// Host is the host's address in canonical text form. JSON "host",
	// required.
	Host string `json:"host"`
	// WindowStart and WindowEnd bound the window [start, end). JSON
	// "window_start" and "window_end", required, WindowEnd after
	// WindowStart; written in UTC with TimeFormat.
	WindowStart time.Time `json:"window_start"`
	WindowEnd   time.Time `json:"window_end"`
	// Score is the model's score of the window: the log of the one-class
	// SVM's kernel sum over its offset, which has the sign of the LIBSVM
	// decision value; lower is more anomalous. JSON "score", a finite
	// number.
	Score float64 `json:"score"`
	// Threshold is the score below which the model flags a window (Score <
	// Threshold), calibrated on held-out normal windows. JSON "threshold",
	// a finite number.
	Threshold float64 `json:"threshold"`
	// ModelVersion names the immutable model that scored the window. JSON
	// "model_version".
	ModelVersion string `json:"model_version"`
	// Reasons explains the score by the features furthest from normal,
	// most important first. JSON "reasons", always an array (empty when
	// there are none); decoded as nil when empty.
	Reasons []Reason `json:"reasons"`
	// Packets is the number of packets of the host in the window; zero
	// means unknown and is left out of the JSON. JSON "packets", optional.
	Packets uint64 `json:"packets,omitempty"`
	// DetectedAt is when the detector scored the window (processing time).
	// JSON "detected_at"; the zero time is written as
	// "0001-01-01T00:00:00.000000000Z".
	DetectedAt time.Time `json:"detected_at"`
}

// Reason is one feature that contributed to an anomaly.
type Reason struct {
	// Feature is the feature's name in the window schema, such as
	// "distinct_dst_ports". JSON "feature".
	Feature string `json:"feature"`
	// Value is the feature's raw value in the window. JSON "value".
	Value float64 `json:"value"`
	// Typical is the feature's typical value in training (the median).
	// JSON "typical".
	Typical float64 `json:"typical"`
	// High is the upper end of the feature's normal range in training (a
	// high quantile, such as the 99th percentile). JSON "high".
	High float64 `json:"high"`
	// Z is the feature's standardised deviation from normal (after the
	// model's scaling). JSON "z".
	Z float64 `json:"z"`
	// Text says the same for people, e.g. "412 distinct destination ports;
	// typical 3". JSON "text".
	Text string `json:"text"`
}

// Validate reports whether a holds the required fields and finite numbers and
// its times can be written in TimeFormat (years 0 to 9999). Errors wrap
// ErrInvalid.
func (a *Anomaly) Validate() error {
	var errs []error
	if a.ID == "" {
		errs = append(errs, errors.New("missing id"))
	}
	if a.Host == "" {
		errs = append(errs, errors.New("missing host"))
	}
	if a.WindowStart.IsZero() {
		errs = append(errs, errors.New("missing window_start"))
	}
	if a.WindowEnd.IsZero() {
		errs = append(errs, errors.New("missing window_end"))
	}
	if !a.WindowStart.IsZero() && !a.WindowEnd.IsZero() && !a.WindowEnd.After(a.WindowStart) {
		errs = append(errs, errors.New("window_end not after window_start"))
	}
	for _, t := range []struct {
		name string
		t    time.Time
	}{{"window_start", a.WindowStart}, {"window_end", a.WindowEnd}, {"detected_at", a.DetectedAt}} {
		if y := t.t.UTC().Year(); y < 0 || y > 9999 {
			errs = append(errs, fmt.Errorf("%s: year %d outside 0..9999", t.name, y))
		}
	}
	if !finite(a.Score) || !finite(a.Threshold) {
		errs = append(errs, errors.New("score and threshold must be finite"))
	}
	for i, r := range a.Reasons {
		if !finite(r.Value) || !finite(r.Typical) || !finite(r.High) || !finite(r.Z) {
			errs = append(errs, fmt.Errorf("reason %d: numbers must be finite", i))
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %w", ErrInvalid, errors.Join(errs...))
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// anomalyWire is the JSON form of Anomaly, with times as fixed-width text.
type anomalyWire struct {
	ID           string   `json:"id"`
	Host         string   `json:"host"`
	WindowStart  string   `json:"window_start"`
	WindowEnd    string   `json:"window_end"`
	Score        float64  `json:"score"`
	Threshold    float64  `json:"threshold"`
	ModelVersion string   `json:"model_version"`
	Reasons      []Reason `json:"reasons"`
	Packets      uint64   `json:"packets,omitempty"`
	DetectedAt   string   `json:"detected_at"`
}

// EncodeAnomaly validates a and returns its JSON encoding (one line, no
// trailing newline). Errors wrap ErrInvalid.
func EncodeAnomaly(a *Anomaly) ([]byte, error) {
	if a == nil {
		return nil, fmt.Errorf("codecs: anomaly: nil: %w", ErrInvalid)
	}
	if err := a.Validate(); err != nil {
		return nil, fmt.Errorf("codecs: anomaly %q: %w", a.ID, err)
	}
	w := anomalyWire{
		ID:           a.ID,
		Host:         a.Host,
		WindowStart:  a.WindowStart.UTC().Format(TimeFormat),
		WindowEnd:    a.WindowEnd.UTC().Format(TimeFormat),
		Score:        a.Score,
		Threshold:    a.Threshold,
		ModelVersion: a.ModelVersion,
		Reasons:      a.Reasons,
		Packets:      a.Packets,
		DetectedAt:   a.DetectedAt.UTC().Format(TimeFormat),
	}
	if w.Reasons == nil {
		w.Reasons = []Reason{}
	}
	b, err := json.Marshal(&w)
	if err != nil {
		return nil, fmt.Errorf("codecs: anomaly %q: %w: %w", a.ID, ErrInvalid, err)
	}
	return b, nil
}

// DecodeAnomaly decodes and validates a JSON anomaly. Times may carry any
// RFC 3339 offset and precision; they are returned in UTC. Unknown fields are
// ignored, so producers can add optional fields. Errors wrap ErrCorrupt (and
// ErrInvalid when the JSON is well formed but a required field is missing or
// a value is out of range).
func DecodeAnomaly(b []byte) (*Anomaly, error) {
	var w anomalyWire
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&w); err != nil {
		return nil, fmt.Errorf("codecs: anomaly: %w: %w", ErrCorrupt, err)
	}
	if rest := bytes.TrimSpace(b[dec.InputOffset():]); len(rest) > 0 {
		return nil, fmt.Errorf("codecs: anomaly: %d bytes after the JSON value: %w", len(rest), ErrCorrupt)
	}
	a := &Anomaly{
		ID:           w.ID,
		Host:         w.Host,
		Score:        w.Score,
		Threshold:    w.Threshold,
		ModelVersion: w.ModelVersion,
		Reasons:      w.Reasons,
		Packets:      w.Packets,
	}
	if len(a.Reasons) == 0 {
		a.Reasons = nil
	}
	for _, f := range []struct {
		name string
		text string
		t    *time.Time
	}{
		{"window_start", w.WindowStart, &a.WindowStart},
		{"window_end", w.WindowEnd, &a.WindowEnd},
		{"detected_at", w.DetectedAt, &a.DetectedAt},
	} {
		if f.text == "" {
			continue // Validate reports the required ones
		}
		t, err := time.Parse(time.RFC3339Nano, f.text)
		if err != nil {
			return nil, fmt.Errorf("codecs: anomaly %q: %s: %w: %w", w.ID, f.name, ErrCorrupt, err)
		}
		*f.t = t.UTC()
	}
	if err := a.Validate(); err != nil {
		return nil, fmt.Errorf("codecs: anomaly %q: %w: %w", w.ID, ErrCorrupt, err)
	}
	return a, nil
}
