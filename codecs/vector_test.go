package codecs_test

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/riptide-nids/riptide/codecs"
	"github.com/riptide-nids/riptide/window"
)

func fixedVector() *window.Vector {
	return &window.Vector{
		Host:   "10.1.0.17",
		Start:  t0 + 1270*1e9,
		End:    t0 + 1280*1e9,
		Values: []float64{0, 1, 412, 3.5, -2.25, 1e-300, math.MaxFloat64, math.Inf(1), math.Inf(-1), math.Copysign(0, -1)},
	}
}

// sameVector compares two vectors, values by their bits (so NaN equals NaN).
func sameVector(a, b *window.Vector) bool {
	if a.Host != b.Host || a.Start != b.Start || a.End != b.End || len(a.Values) != len(b.Values) {
		return false
	}
	for i := range a.Values {
		if math.Float64bits(a.Values[i]) != math.Float64bits(b.Values[i]) {
			return false
		}
	}
	return true
}

func TestVectorRoundTrip(t *testing.T) {
	many := make([]float64, codecs.MaxVectorValues)
	for i := range many {
		many[i] = float64(i) / 7
	}
	tests := []struct {
		name string
		v    *window.Vector
	}{
		{"fixed", fixedVector()},
		{"empty", &window.Vector{}},
		{"IPv6 host", &window.Vector{Host: "2001:db8::17", Start: -1, End: math.MaxInt64, Values: []float64{math.NaN()}}},
		{"longest host", &window.Vector{Host: strings.Repeat("h", codecs.MaxHostLen), Start: math.MinInt64}},
		{"most values", &window.Vector{Host: "10.0.0.1", Values: many}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := codecs.AppendVector(nil, tt.v)
			if err != nil {
				t.Fatal(err)
			}
			got := &window.Vector{Host: "old", Values: make([]float64, 0, 4)}
			if err := codecs.DecodeVector(b, got); err != nil {
				t.Fatalf("DecodeVector: %v", err)
			}
			if !sameVector(got, tt.v) {
				t.Errorf("got %+v, want %+v", got, tt.v)
			}
		})
	}
}

func TestAppendVectorLimits(t *testing.T) {
	tests := []struct {
		name string
		v    *window.Vector
	}{
		{"host too long", &window.Vector{Host: strings.Repeat("h", codecs.MaxHostLen+1)}},
		{"too many values", &window.Vector{Host: "h", Values: make([]float64, codecs.MaxVectorValues+1)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := codecs.AppendVector(nil, tt.v); !errors.Is(err, codecs.ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
		})
	}
}

func TestDecodeVectorErrors(t *testing.T) {
	valid, err := codecs.AppendVector(nil, fixedVector())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		b    []byte
		want error
	}{
		{"nil", nil, codecs.ErrTruncated},
		{"bad magic", []byte{'P', 1, 0, 0, 0, 0}, codecs.ErrCorrupt},
		{"version 2", []byte{'V', 2, 0, 0, 0, 0}, codecs.ErrUnknownVersion},
		{"host too long", []byte{'V', 1, 0x80, 0x02}, codecs.ErrCorrupt},
		{"too many values", []byte{'V', 1, 0, 0, 0, 0x81, 0x08}, codecs.ErrCorrupt},
		{"value count beyond bytes", []byte{'V', 1, 0, 0, 0, 2, 1, 2, 3, 4, 5, 6, 7, 8}, codecs.ErrTruncated},
		{"start overflows", []byte{'V', 1, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, codecs.ErrCorrupt},
		{"trailing", append(bytes.Clone(valid), 0), codecs.ErrCorrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := codecs.DecodeVector(tt.b, new(window.Vector)); !errors.Is(err, tt.want) {
				t.Fatalf("DecodeVector(% x) = %v, want %v", tt.b, err, tt.want)
			}
		})
	}
	t.Run("every prefix", func(t *testing.T) {
		for n := range len(valid) {
			if err := codecs.DecodeVector(valid[:n], new(window.Vector)); !errors.Is(err, codecs.ErrTruncated) {
				t.Errorf("prefix of %d/%d bytes: err = %v, want ErrTruncated", n, len(valid), err)
			}
		}
	})
}

func TestDecodeVectorReusesMemory(t *testing.T) {
	b, err := codecs.AppendVector(nil, fixedVector())
	if err != nil {
		t.Fatal(err)
	}
	v := new(window.Vector)
	if err := codecs.DecodeVector(b, v); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 0, 256)
	allocs := testing.AllocsPerRun(100, func() {
		if err := codecs.DecodeVector(b, v); err != nil {
			t.Fatal(err)
		}
		if buf, err = codecs.AppendVector(buf[:0], v); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("DecodeVector and AppendVector into used memory: %v allocs, want 0", allocs)
	}
}

func TestVectorGolden(t *testing.T) {
	b, err := codecs.AppendVector(nil, fixedVector())
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "vector-v1.golden", b)
}

func FuzzDecodeVector(f *testing.F) {
	b, _ := codecs.AppendVector(nil, fixedVector())
	f.Add(b)
	b, _ = codecs.AppendVector(nil, &window.Vector{})
	f.Add(b)
	f.Add([]byte{'V', 1, 0, 0, 0, 0x81, 0x08})
	f.Fuzz(func(t *testing.T, b []byte) {
		v := new(window.Vector)
		if err := codecs.DecodeVector(b, v); err != nil {
			if !errors.Is(err, codecs.ErrTruncated) && !errors.Is(err, codecs.ErrCorrupt) && !errors.Is(err, codecs.ErrUnknownVersion) {
				t.Fatalf("error wraps no sentinel: %v", err)
			}
			return
		}
		enc, err := codecs.AppendVector(nil, v)
		if err != nil {
			t.Fatalf("decoded vector does not encode: %v", err)
		}
		if len(enc) > len(b) {
			t.Fatalf("re-encoding grew from %d to %d bytes", len(b), len(enc))
		}
		again := new(window.Vector)
		if err := codecs.DecodeVector(enc, again); err != nil {
			t.Fatalf("re-encoded vector does not decode: %v", err)
		}
		if !sameVector(again, v) {
			t.Fatalf("round trip: got %+v, want %+v", again, v)
		}
	})
}

func BenchmarkAppendVector(b *testing.B) {
	v := benchVector()
	buf, _ := codecs.AppendVector(nil, v)
	b.ReportAllocs()
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		buf, _ = codecs.AppendVector(buf[:0], v)
	}
}

func BenchmarkDecodeVector(b *testing.B) {
	buf, _ := codecs.AppendVector(nil, benchVector())
	v := new(window.Vector)
	b.ReportAllocs()
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		if err := codecs.DecodeVector(buf, v); err != nil {
			b.Fatal(err)
		}
	}
}

// benchVector has 52 values, the size of the detector's feature schema.
func benchVector() *window.Vector {
	v := &window.Vector{Host: "10.1.0.17", Start: t0, End: t0 + 10e9, Values: make([]float64, 52)}
	for i := range v.Values {
		v.Values[i] = float64(i*i) / 3
	}
	return v
}
