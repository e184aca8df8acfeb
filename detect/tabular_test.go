package detect

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestReadTableLayouts(t *testing.T) {
	nsl := "0,tcp,http,SF,181,5450,0,0,0,0,0,1,0,0,0,0,0,0,0,0,0,0,8,8,0.00,0.00,0.00,0.00,1.00,0.00,0.00,9,9,1.00,0.00,0.11,0.00,0.00,0.00,0.00,0.00,normal,21\n"
	for _, tc := range []struct {
		name, text string
		names      []string
		layout     string
		cols, rows int
		err        string
	}{
		{"header", "a,b,label\n1,x,n\n2,y,a\n", nil, "header", 3, 2, ""},
		{"names", "1,x,n\n2,y,a\n", []string{"a", "b", "label"}, "names", 3, 2, ""},
		{"nsl-kdd recognised", nsl + nsl, nil, "nsl-kdd", 43, 2, ""},
		{"nsl-kdd with fields.txt", nsl, NSLKDDColumns[:42], "names", 43, 1, ""},
		{"ragged", "a,b\n1,2\n3\n", nil, "", 0, 0, "line 3 has 1 fields, want 2"},
		{"names too short", "1,2,3\n", []string{"a", "b"}, "", 0, 0, "line 1 has 3 fields, want 2"},
		{"repeated column", "a,a\n1,2\n", nil, "", 0, 0, "repeated name"},
		{"no rows", "a,b\n", nil, "", 0, 0, "no data rows"},
		{"empty", "", nil, "", 0, 0, "empty file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tab, err := ReadTable(strings.NewReader(tc.text), tc.names)
			if tc.err != "" {
				if err == nil || !errors.Is(err, ErrBadCSV) || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q wrapping ErrBadCSV", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tab.Layout != tc.layout || len(tab.Columns) != tc.cols || len(tab.Rows) != tc.rows {
				t.Errorf("layout %s, %d columns, %d rows", tab.Layout, len(tab.Columns), len(tab.Rows))
			}
		})
	}
}

func TestEncoding(t *testing.T) {
	tab, err := ReadTable(strings.NewReader("proto,bytes,rate,skip,label\ntcp,0,0.5,9,ok\nudp,99,0.25,9,ok\ntcp,3,1,9,ok\nicmp,5,0,9,bad\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := InferEncoding(tab, []int{0, 1, 2}, "label", "ok", []string{"skip"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"proto=tcp", "proto=udp", "bytes", "rate"}
	if got := enc.FeatureNames(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("features %v, want %v", got, want)
	}
	if !enc.Columns[1].Log1p || enc.Columns[2].Log1p {
		t.Errorf("log1p: bytes %v (want true), rate %v (want false)", enc.Columns[1].Log1p, enc.Columns[2].Log1p)
	}
	data, err := enc.Encode(tab)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(data.X[1]) != fmt.Sprint([]float64{0, 1, math.Log1p(99), 0.25}) || fmt.Sprint(data.X[3][:2]) != "[0 0]" {
		t.Errorf("rows %v", data.X)
	}
	if data.Unseen != 1 || fmt.Sprint(data.Attack) != "[false false false true]" {
		t.Errorf("unseen %d, attack %v", data.Unseen, data.Attack)
	}
	// Columns in another order encode the same; a missing column is refused.
	other, _ := ReadTable(strings.NewReader("label,rate,bytes,proto\nok,0.25,99,udp\n"), nil)
	d2, err := enc.Encode(other)
	if err != nil || fmt.Sprint(d2.X[0]) != fmt.Sprint(data.X[1]) {
		t.Errorf("reordered columns: %v, %v", d2, err)
	}
	missing, _ := ReadTable(strings.NewReader("label,rate,bytes\nok,0.25,99\n"), nil)
	if _, err := enc.Encode(missing); !errors.Is(err, ErrSchemaMismatch) || !strings.Contains(err.Error(), "proto") {
		t.Errorf("missing column: %v", err)
	}
	if _, err := InferEncoding(tab, []int{0}, "nolabel", "ok", nil); !errors.Is(err, ErrInvalidInput) {
		t.Errorf("unknown label column: %v", err)
	}
}

// TestFitTabularRoundTrip fits one-class and supervised models on a small
// synthetic table, writes and reads them, and checks refusals.
func TestFitTabularRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	var b strings.Builder
	b.WriteString("kind,size,rate,label\n")
	for i := range 600 {
		kind, size, rate, label := []string{"a", "b", "c"}[i%3], 100+rng.NormFloat64()*10, rng.Float64()*0.2, "normal"
		if i%6 == 5 {
			kind, size, rate, label = "a", 5000+rng.NormFloat64()*100, 0.9, "attack"
		}
		fmt.Fprintf(&b, "%s,%.1f,%.3f,%s\n", kind, size, rate, label)
	}
	tab, err := ReadTable(strings.NewReader(b.String()), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, supervised := range []bool{false, true} {
		cfg := DefaultTabularConfig()
		cfg.Supervised, cfg.RFFDim, cfg.Epochs = supervised, 256, 5
		m, err := FitTabular(tab, "synthetic", "label", "normal", nil, cfg)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := WriteTabularModel(&buf, m); err != nil {
			t.Fatal(err)
		}
		back, err := ReadTabularModel(bytes.NewReader(buf.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		data, err := back.Encoding.Encode(tab)
		if err != nil {
			t.Fatal(err)
		}
		scores := make([]float64, len(data.X))
		for i, x := range data.X {
			scores[i] = back.Score(x)
			if s := m.Score(x); s != scores[i] {
				t.Fatalf("row %d: score %v after the round trip, %v before", i, scores[i], s)
			}
		}
		got := Evaluate(scores, data.Attack, 0)
		t.Logf("supervised=%v: %+v", supervised, got)
		if got.F1 < 0.95 {
			t.Errorf("supervised=%v: F1 %.3f on separable training data", supervised, got.F1)
		}
		// A file whose schema id no longer matches its encoding is refused.
		edited := strings.Replace(buf.String(), `"a",`, `"z",`, 1)
		if _, err := ReadTabularModel(strings.NewReader(edited)); !errors.Is(err, ErrInvalidModel) {
			t.Errorf("edited vocabulary: %v", err)
		}
	}
	// A window model is not a labelled-data model.
	if _, err := ReadTabularModel(strings.NewReader(`{"format_version":1,"feature_names":["a"]}`)); !errors.Is(err, ErrInvalidModel) || !strings.Contains(err.Error(), "not a labelled-data model") {
		t.Errorf("window model: %v", err)
	}
}

func TestReadModelRefusesTabular(t *testing.T) {
	_, err := ReadModel(strings.NewReader(`{"kind":"` + TabularKind + `","format_version":1}`))
	if !errors.Is(err, ErrInvalidModel) || !strings.Contains(err.Error(), "model eval") {
		t.Errorf("err = %v", err)
	}
}
