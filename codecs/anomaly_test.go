package codecs_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/riptide-nids/riptide/codecs"
)

func fixedAnomaly() *codecs.Anomaly {
	start := time.Date(2026, 3, 2, 9, 21, 10, 0, time.UTC)
	return &codecs.Anomaly{
		ID:           "10.1.0.17@1772443270000",
		Host:         "10.1.0.17",
		WindowStart:  start,
		WindowEnd:    start.Add(10 * time.Second),
		Score:        7.25,
		Threshold:    1.5,
		ModelVersion: "ocsvm-20260302T0915-3f2a",
		Reasons: []codecs.Reason{
			{Feature: "distinct_dst_ports", Value: 412, Typical: 3, High: 9, Z: 18.4, Text: "412 distinct destination ports; typical 3"},
			{Feature: "rst_in", Value: 398, Typical: 0, High: 2, Z: 11.2, Text: "398 TCP resets received; typical 0"},
		},
		Packets:    1290,
		DetectedAt: start.Add(15*time.Second + 120*time.Millisecond),
	}
}

// sameAnomaly compares anomalies with time.Time.Equal for the times.
func sameAnomaly(a, b *codecs.Anomaly) bool {
	if !a.WindowStart.Equal(b.WindowStart) || !a.WindowEnd.Equal(b.WindowEnd) || !a.DetectedAt.Equal(b.DetectedAt) {
		return false
	}
	x, y := *a, *b
	x.WindowStart, x.WindowEnd, x.DetectedAt = time.Time{}, time.Time{}, time.Time{}
	y.WindowStart, y.WindowEnd, y.DetectedAt = time.Time{}, time.Time{}, time.Time{}
	return reflect.DeepEqual(x, y)
}

func TestAnomalyRoundTrip(t *testing.T) {
	berlin := time.FixedZone("CET", 3600)
	tests := []struct {
		name string
		edit func(a *codecs.Anomaly)
	}{
		{"fixed", func(*codecs.Anomaly) {}},
		{"no reasons, no packets, no detection time", func(a *codecs.Anomaly) {
			a.Reasons, a.Packets, a.DetectedAt = nil, 0, time.Time{}
		}},
		{"nanoseconds and other zones", func(a *codecs.Anomaly) {
			a.WindowStart = time.Date(2026, 3, 2, 10, 0, 0, 1, berlin)
			a.WindowEnd = a.WindowStart.Add(time.Nanosecond)
		}},
		{"unicode text", func(a *codecs.Anomaly) { a.Reasons[0].Text = "Übertragung \"quoted\" <tag> ✓" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := fixedAnomaly()
			tt.edit(a)
			b, err := codecs.EncodeAnomaly(a)
			if err != nil {
				t.Fatal(err)
			}
			got, err := codecs.DecodeAnomaly(b)
			if err != nil {
				t.Fatalf("DecodeAnomaly(%s): %v", b, err)
			}
			if !sameAnomaly(got, a) {
				t.Errorf("round trip:\n got %+v\nwant %+v", got, a)
			}
			if got.WindowStart.Location() != time.UTC {
				t.Errorf("decoded time in %v, want UTC", got.WindowStart.Location())
			}
		})
	}
}

func TestAnomalyJSONShape(t *testing.T) {
	a := fixedAnomaly()
	a.WindowStart = time.Date(2026, 3, 2, 10, 21, 10, 5, time.FixedZone("CET", 3600))
	a.Reasons = nil
	a.Packets = 0
	b, err := codecs.EncodeAnomaly(a)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if got, want := m["window_start"], "2026-03-02T09:21:10.000000005Z"; got != want {
		t.Errorf("window_start = %v, want %v", got, want)
	}
	if got, want := m["window_end"], "2026-03-02T09:21:20.000000000Z"; got != want {
		t.Errorf("window_end = %v, want %v", got, want)
	}
	if r, ok := m["reasons"].([]any); !ok || len(r) != 0 {
		t.Errorf("reasons = %#v, want []", m["reasons"])
	}
	if _, ok := m["packets"]; ok {
		t.Errorf("packets present although unknown")
	}
	for _, k := range []string{"id", "host", "score", "threshold", "model_version", "detected_at"} {
		if _, ok := m[k]; !ok {
			t.Errorf("field %q missing", k)
		}
	}
}

func TestEncodeAnomalyInvalid(t *testing.T) {
	tests := []struct {
		name string
		edit func(a *codecs.Anomaly)
		msg  string
	}{
		{"no id", func(a *codecs.Anomaly) { a.ID = "" }, "missing id"},
		{"no host", func(a *codecs.Anomaly) { a.Host = "" }, "missing host"},
		{"no start", func(a *codecs.Anomaly) { a.WindowStart = time.Time{} }, "missing window_start"},
		{"no end", func(a *codecs.Anomaly) { a.WindowEnd = time.Time{} }, "missing window_end"},
		{"end before start", func(a *codecs.Anomaly) { a.WindowEnd = a.WindowStart }, "not after"},
		{"NaN score", func(a *codecs.Anomaly) { a.Score = nan() }, "finite"},
		{"infinite z", func(a *codecs.Anomaly) { a.Reasons[1].Z = -inf() }, "reason 1"},
		{"year 10000", func(a *codecs.Anomaly) { a.DetectedAt = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }, "detected_at"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := fixedAnomaly()
			tt.edit(a)
			_, err := codecs.EncodeAnomaly(a)
			if !errors.Is(err, codecs.ErrInvalid) || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("err = %v, want ErrInvalid mentioning %q", err, tt.msg)
			}
		})
	}
	if _, err := codecs.EncodeAnomaly(nil); !errors.Is(err, codecs.ErrInvalid) {
		t.Errorf("EncodeAnomaly(nil) = %v, want ErrInvalid", err)
	}
}

func TestDecodeAnomalyErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		msg  string
	}{
		{"empty", ``, "EOF"},
		{"not an object", `[1,2]`, "cannot unmarshal"},
		{"null", `null`, "missing id"},
		{"missing fields", `{"score": 1}`, "missing host"},
		{"bad time", `{"id":"a","host":"h","window_start":"yesterday","window_end":"2026-03-02T09:21:20Z"}`, "window_start"},
		{"end before start", `{"id":"a","host":"h","window_start":"2026-03-02T09:21:20Z","window_end":"2026-03-02T09:21:10Z"}`, "not after"},
		{"trailing data", `{"id":"a","host":"h","window_start":"2026-03-02T09:21:10Z","window_end":"2026-03-02T09:21:20Z"} {}`, "after the JSON"},
		{"number too large", `{"id":"a","host":"h","window_start":"2026-03-02T09:21:10Z","window_end":"2026-03-02T09:21:20Z","score":1e999}`, "score"},
		{"wrong type", `{"id":7}`, "cannot unmarshal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := codecs.DecodeAnomaly([]byte(tt.in))
			if !errors.Is(err, codecs.ErrCorrupt) || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("err = %v, want ErrCorrupt mentioning %q", err, tt.msg)
			}
		})
	}
}

func TestDecodeAnomalyLenient(t *testing.T) {
	in := `{"id":"a","host":"h","window_start":"2026-03-02T10:21:10.5+01:00","window_end":"2026-03-02T09:21:20Z","future_field":{"x":1}}` + "\n"
	a, err := codecs.DecodeAnomaly([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 3, 2, 9, 21, 10, 5e8, time.UTC); !a.WindowStart.Equal(want) {
		t.Errorf("window_start = %v, want %v", a.WindowStart, want)
	}
}

func TestAnomalyGolden(t *testing.T) {
	b, err := codecs.EncodeAnomaly(fixedAnomaly())
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "anomaly-v1.golden.json", append(b, '\n'))
}

func FuzzDecodeAnomaly(f *testing.F) {
	b, _ := codecs.EncodeAnomaly(fixedAnomaly())
	f.Add(b)
	f.Add([]byte(`{"id":"a","host":"h","window_start":"2026-03-02T10:21:10.5+01:00","window_end":"2026-03-02T09:21:20Z","reasons":[]}`))
	f.Add([]byte(`{"id":"\u00ff","host":"h","window_start":"0000-01-01T00:00:00+01:00","window_end":"9999-12-31T23:59:59Z"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := codecs.DecodeAnomaly(b)
		if err != nil {
			if !errors.Is(err, codecs.ErrCorrupt) {
				t.Fatalf("error wraps no sentinel: %v", err)
			}
			return
		}
		enc, err := codecs.EncodeAnomaly(a)
		if err != nil {
			t.Fatalf("decoded anomaly does not encode: %v", err)
		}
		again, err := codecs.DecodeAnomaly(enc)
		if err != nil {
			t.Fatalf("re-encoded anomaly does not decode: %v\n%s", err, enc)
		}
		if !sameAnomaly(again, a) {
			t.Fatalf("round trip:\n got %+v\nwant %+v", again, a)
		}
	})
}

func BenchmarkEncodeAnomaly(b *testing.B) {
	a := fixedAnomaly()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := codecs.EncodeAnomaly(a); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeAnomaly(b *testing.B) {
	enc, _ := codecs.EncodeAnomaly(fixedAnomaly())
	b.ReportAllocs()
	b.SetBytes(int64(len(enc)))
	for b.Loop() {
		if _, err := codecs.DecodeAnomaly(enc); err != nil {
			b.Fatal(err)
		}
	}
}
