package processors

import (
	"errors"
	"math"
	"testing"

	"github.com/riptide-nids/riptide/window"
)

func TestCheckVector(t *testing.T) {
	good := func() *window.Vector {
		return &window.Vector{Host: "10.0.0.1", Start: 10, End: 20, Values: make([]float64, window.NumFeatures)}
	}
	for _, tc := range []struct {
		name string
		edit func(v *window.Vector)
		ok   bool
	}{
		{"good", func(*window.Vector) {}, true},
		{"no host", func(v *window.Vector) { v.Host = "" }, false},
		{"empty window", func(v *window.Vector) { v.End = v.Start }, false},
		{"short", func(v *window.Vector) { v.Values = v.Values[:3] }, false},
		{"long", func(v *window.Vector) { v.Values = append(v.Values, 1) }, false},
		{"NaN", func(v *window.Vector) { v.Values[4] = math.NaN() }, false},
		{"Inf", func(v *window.Vector) { v.Values[0] = math.Inf(1) }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := good()
			tc.edit(v)
			err := CheckVector(v)
			if tc.ok != (err == nil) || (err != nil && !errors.Is(err, ErrBadVector)) {
				t.Errorf("CheckVector = %v", err)
			}
		})
	}
}
