package codecs_test

import (
	"testing"
	"time"

	"github.com/riptide-nids/riptide/codecs"
)

func fixedFeedback() *codecs.Feedback {
	return &codecs.Feedback{
		Version: codecs.FeedbackVersion, ID: "10.1.0.17@1772443270000", Host: "10.1.0.17",
		WindowStart: time.UnixMilli(1772443270000).UTC(), Verdict: codecs.VerdictFalsePositive,
		Note: "our vulnerability scanner", By: "alice", LabelledAt: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC),
		Features: []string{"packets_out", "distinct_dst_ports"}, Values: []float64{1290, 412.5},
	}
}

func TestFeedbackGolden(t *testing.T) {
	b, err := codecs.EncodeFeedback(fixedFeedback())
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "feedback-v1.golden.json", append(b, '\n'))
}

func FuzzDecodeFeedback(f *testing.F) {
	b, _ := codecs.EncodeFeedback(fixedFeedback())
	f.Add(b)
	f.Add([]byte(`{"v":1}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		fb, err := codecs.DecodeFeedback(b)
		if err != nil {
			return
		}
		again, err := codecs.EncodeFeedback(fb)
		if err != nil {
			t.Fatalf("decoded feedback does not encode: %v", err)
		}
		if _, err := codecs.DecodeFeedback(again); err != nil {
			t.Fatalf("re-encoded feedback does not decode: %v", err)
		}
	})
}
