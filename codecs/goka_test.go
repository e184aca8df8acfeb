package codecs_test

import (
	"bytes"
	"errors"
	"math"
	"reflect"
	"testing"

	"github.com/lovoo/goka"

	"github.com/riptide-nids/riptide/codecs"
	"github.com/riptide-nids/riptide/packet"
	"github.com/riptide-nids/riptide/window"
)

var (
	_ goka.Codec = codecs.PacketBatch{}
	_ goka.Codec = codecs.Vector{}
	_ goka.Codec = codecs.AnomalyJSON{}
	_ goka.Codec = codecs.Bytes{}
	_ goka.Codec = new(codecs.PacketBatch)
)

func nan() float64 { return math.NaN() }
func inf() float64 { return math.Inf(1) }

func TestGokaCodecs(t *testing.T) {
	batch := fixedBatch()
	vec := fixedVector()
	an := fixedAnomaly()
	tests := []struct {
		name  string
		codec goka.Codec
		in    any
		same  func(got any) bool
	}{
		{"PacketBatch", codecs.PacketBatch{}, batch, func(got any) bool { return reflect.DeepEqual(got, batch) }},
		{"PacketBatch pointer", codecs.PacketBatch{}, &batch, func(got any) bool { return reflect.DeepEqual(got, batch) }},
		{"PacketBatch empty", codecs.PacketBatch{}, []packet.Summary{}, func(got any) bool {
			s, ok := got.([]packet.Summary)
			return ok && len(s) == 0
		}},
		{"Vector", codecs.Vector{}, vec, func(got any) bool { v, ok := got.(*window.Vector); return ok && sameVector(v, vec) }},
		{"Vector value", codecs.Vector{}, *vec, func(got any) bool { v, ok := got.(*window.Vector); return ok && sameVector(v, vec) }},
		{"AnomalyJSON", codecs.AnomalyJSON{}, an, func(got any) bool { a, ok := got.(*codecs.Anomaly); return ok && sameAnomaly(a, an) }},
		{"AnomalyJSON value", codecs.AnomalyJSON{}, *an, func(got any) bool { a, ok := got.(*codecs.Anomaly); return ok && sameAnomaly(a, an) }},
		{"Bytes", codecs.Bytes{}, []byte("dead letter"), func(got any) bool { return bytes.Equal(got.([]byte), []byte("dead letter")) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := tt.codec.Encode(tt.in)
			if err != nil {
				t.Fatalf("Encode: %v", err)
			}
			got, err := tt.codec.Decode(b)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !tt.same(got) {
				t.Errorf("Decode(Encode(x)) = %#v, want %#v", got, tt.in)
			}
		})
	}
}

func TestGokaCodecErrors(t *testing.T) {
	tests := []struct {
		name  string
		codec goka.Codec
		in    any
		want  error
	}{
		{"PacketBatch string", codecs.PacketBatch{}, "x", codecs.ErrInvalid},
		{"PacketBatch nil", codecs.PacketBatch{}, nil, codecs.ErrInvalid},
		{"PacketBatch nil pointer", codecs.PacketBatch{}, (*[]packet.Summary)(nil), codecs.ErrInvalid},
		{"Vector bytes", codecs.Vector{}, []byte{1}, codecs.ErrInvalid},
		{"Vector nil pointer", codecs.Vector{}, (*window.Vector)(nil), codecs.ErrInvalid},
		{"Vector too large", codecs.Vector{}, &window.Vector{Values: make([]float64, 2000)}, codecs.ErrInvalid},
		{"AnomalyJSON vector", codecs.AnomalyJSON{}, fixedVector(), codecs.ErrInvalid},
		{"AnomalyJSON nil pointer", codecs.AnomalyJSON{}, (*codecs.Anomaly)(nil), codecs.ErrInvalid},
		{"AnomalyJSON invalid", codecs.AnomalyJSON{}, &codecs.Anomaly{}, codecs.ErrInvalid},
		{"Bytes string", codecs.Bytes{}, "x", codecs.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := tt.codec.Encode(tt.in); !errors.Is(err, tt.want) {
				t.Fatalf("Encode(%#v) = %v, want %v", tt.in, err, tt.want)
			}
		})
	}
	for _, c := range []goka.Codec{codecs.PacketBatch{}, codecs.Vector{}, codecs.AnomalyJSON{}} {
		got, err := c.Decode([]byte("garbage"))
		if !errors.Is(err, codecs.ErrCorrupt) || got != nil {
			t.Errorf("%T.Decode(garbage) = %v, %v; want nil, ErrCorrupt", c, got, err)
		}
	}
	if b, err := (codecs.Bytes{}).Encode(nil); err != nil || b != nil {
		t.Errorf("Bytes.Encode(nil) = %v, %v; want nil, nil", b, err)
	}
}
