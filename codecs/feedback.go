package codecs

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"
)

// FeedbackVersion is the version of the feedback JSON this build writes and
// the only one it reads (field "v").
const FeedbackVersion = 1

// Verdicts an analyst gives a window. A window is an attack for TruePositive
// and FalseNegative, benign for FalsePositive and TrueNegative; the first
// two are for alerted windows, the last two for sampled windows that were
// not alerted.
const (
	VerdictTruePositive  = "true-positive"
	VerdictFalsePositive = "false-positive"
	VerdictTrueNegative  = "true-negative"
	VerdictFalseNegative = "false-negative"
)

// Verdicts lists every verdict.
var Verdicts = []string{VerdictTruePositive, VerdictFalsePositive, VerdictTrueNegative, VerdictFalseNegative}

// Feedback is an analyst's verdict on one window, as written on the feedback
// topic (compacted, key = ID; see FEEDBACK.md). It carries the window's
// feature values, so the trainer can learn from it without finding the
// window again.
type Feedback struct {
	// Version is FeedbackVersion. JSON "v", required.
	Version int `json:"v"`
	// ID is the window's id (host "@" window start in Unix ms), the same as
	// the anomaly id. JSON "id", required; also the record key.
	ID string `json:"id"`
	// Host and WindowStart identify the window. JSON "host" and
	// "window_start" (TimeFormat), required.
	Host        string    `json:"host"`
	WindowStart time.Time `json:"window_start"`
	// Verdict is one of the Verdict constants. JSON "verdict", required.
	Verdict string `json:"verdict"`
	// Note is the analyst's free text. JSON "note", optional.
	Note string `json:"note,omitempty"`
	// By names who gave the verdict (user or client). JSON "by", optional.
	By string `json:"by,omitempty"`
	// LabelledAt is when the verdict was given. JSON "labelled_at".
	LabelledAt time.Time `json:"labelled_at"`
	// Features names the values in Values (the window schema at labelling
	// time); Values are the window's raw feature values. JSON "features"
	// and "values", required, same length, finite numbers.
	Features []string  `json:"features"`
	Values   []float64 `json:"values"`
}

// Attack reports whether the verdict says the window is an attack.
func (f *Feedback) Attack() bool {
	return f.Verdict == VerdictTruePositive || f.Verdict == VerdictFalseNegative
}

// ValidVerdict reports whether v is one of Verdicts.
func ValidVerdict(v string) bool {
	for _, w := range Verdicts {
		if v == w {
			return true
		}
	}
	return false
}

// Validate checks the required fields. Errors wrap ErrInvalid.
func (f *Feedback) Validate() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("codecs: feedback: "+format+": %w", append(a, ErrInvalid)...)
	}
	switch {
	case f.Version != FeedbackVersion:
		return bad("version %d, want %d", f.Version, FeedbackVersion)
	case f.ID == "" || f.Host == "":
		return bad("id and host are required")
	case !strings.HasPrefix(f.ID, f.Host+"@"):
		return bad("id %q is not host %q @ window start", f.ID, f.Host)
	case f.WindowStart.IsZero():
		return bad("window_start is required")
	case !ValidVerdict(f.Verdict):
		return bad("verdict %q: use one of %s", f.Verdict, strings.Join(Verdicts, ", "))
	case len(f.Values) == 0 || len(f.Values) != len(f.Features):
		return bad("%d values for %d features", len(f.Values), len(f.Features))
	}
	for i, v := range f.Values {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return bad("value %d (%s) is %v", i, f.Features[i], v)
		}
	}
	return nil
}

type feedbackJSON struct {
	Feedback
	WindowStart string `json:"window_start"`
	LabelledAt  string `json:"labelled_at"`
}

// EncodeFeedback validates f and returns its JSON (one line, no newline).
func EncodeFeedback(f *Feedback) ([]byte, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	j := feedbackJSON{Feedback: *f, WindowStart: f.WindowStart.UTC().Format(TimeFormat), LabelledAt: f.LabelledAt.UTC().Format(TimeFormat)}
	b, err := json.Marshal(j)
	if err != nil {
		return nil, fmt.Errorf("codecs: feedback: %w: %w", ErrInvalid, err)
	}
	return b, nil
}

// DecodeFeedback parses and validates a feedback record. A record with
// another "v" fails with ErrUnknownVersion; anything else that is not valid
// feedback with ErrCorrupt.
func DecodeFeedback(b []byte) (*Feedback, error) {
	var j feedbackJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return nil, fmt.Errorf("codecs: feedback: %w: %w", ErrCorrupt, err)
	}
	if j.Version != FeedbackVersion {
		return nil, fmt.Errorf("codecs: feedback: version %d: %w", j.Version, ErrUnknownVersion)
	}
	f := j.Feedback
	var err error
	if f.WindowStart, err = time.Parse(time.RFC3339Nano, j.WindowStart); err != nil {
		return nil, fmt.Errorf("codecs: feedback: window_start: %w: %w", ErrCorrupt, err)
	}
	if j.LabelledAt != "" {
		if f.LabelledAt, err = time.Parse(time.RFC3339Nano, j.LabelledAt); err != nil {
			return nil, fmt.Errorf("codecs: feedback: labelled_at: %w: %w", ErrCorrupt, err)
		}
	}
	if err := f.Validate(); err != nil {
		return nil, fmt.Errorf("%w (%w)", ErrCorrupt, err)
	}
	return &f, nil
}

// FeedbackJSON is the goka codec of the feedback topic (values *Feedback).
type FeedbackJSON struct{}

// Encode implements goka.Codec.
func (FeedbackJSON) Encode(v any) ([]byte, error) {
	f, ok := v.(*Feedback)
	if !ok {
		return nil, fmt.Errorf("codecs: feedback codec: got %T, want *codecs.Feedback: %w", v, ErrInvalid)
	}
	return EncodeFeedback(f)
}

// Decode implements goka.Codec.
func (FeedbackJSON) Decode(b []byte) (any, error) { return DecodeFeedback(b) }
