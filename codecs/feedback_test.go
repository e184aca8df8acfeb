package codecs

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

func sampleFeedback() *Feedback {
	return &Feedback{
		Version: FeedbackVersion, ID: "10.1.0.17@1772443270000", Host: "10.1.0.17",
		WindowStart: time.UnixMilli(1772443270000).UTC(), Verdict: VerdictFalsePositive,
		Note: "our vulnerability scanner", By: "alice", LabelledAt: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC),
		Features: []string{"packets_out", "distinct_dst_ports"}, Values: []float64{1290, 412},
	}
}

func TestFeedbackRoundTrip(t *testing.T) {
	f := sampleFeedback()
	b, err := EncodeFeedback(f)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"v":1`, `"id":"10.1.0.17@1772443270000"`, `"window_start":"2026-03-02T09:21:10.000000000Z"`, `"verdict":"false-positive"`, `"values":[1290,412]`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("encoding %s lacks %s", b, want)
		}
	}
	got, err := FeedbackJSON{}.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	g := got.(*Feedback)
	if g.ID != f.ID || !g.WindowStart.Equal(f.WindowStart) || g.Verdict != f.Verdict || g.Note != f.Note ||
		!g.LabelledAt.Equal(f.LabelledAt) || len(g.Values) != 2 || g.Values[1] != 412 || g.Attack() {
		t.Errorf("decoded %+v, want %+v", g, f)
	}
}

func TestFeedbackInvalid(t *testing.T) {
	for name, mod := range map[string]func(*Feedback){
		"verdict":   func(f *Feedback) { f.Verdict = "maybe" },
		"id":        func(f *Feedback) { f.ID = "10.9.9.9@1" },
		"values":    func(f *Feedback) { f.Values = f.Values[:1] },
		"nan":       func(f *Feedback) { f.Values[0] = math.NaN() },
		"no start":  func(f *Feedback) { f.WindowStart = time.Time{} },
		"version":   func(f *Feedback) { f.Version = 2 },
		"no values": func(f *Feedback) { f.Values, f.Features = nil, nil },
	} {
		f := sampleFeedback()
		mod(f)
		if _, err := EncodeFeedback(f); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: encode error %v, want ErrInvalid", name, err)
		}
	}
	if _, err := DecodeFeedback([]byte(`{"v":2}`)); !errors.Is(err, ErrUnknownVersion) {
		t.Errorf("v 2: %v, want ErrUnknownVersion", err)
	}
	for _, in := range []string{`{`, `{"v":1,"id":"a@1"}`, `[]`} {
		if _, err := DecodeFeedback([]byte(in)); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: %v, want ErrCorrupt", in, err)
		}
	}
}
