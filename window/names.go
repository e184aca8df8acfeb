package window

import (
	"fmt"
	"strconv"
)

var names = func() []string {
	out := make([]string, len(Schema))
	for i, f := range Schema {
		out[i] = f.Name
	}
	return out
}()

// Names returns the feature names in Schema order. The slice is shared: do
// not modify it.
func Names() []string { return names }

// Describe says in words how a feature's value compares with normal, for
// alert reasons: "dst_ports = 412 ports (typical 3, normal up to 6)".
// typical and high are the median and a high percentile of normal windows.
func Describe(feature string, value, typical, high float64) string {
	unit := ""
	if i, ok := FeatureIndex(feature); ok {
		unit = " " + Schema[i].Unit
	}
	return fmt.Sprintf("%s = %s%s (typical %s, normal up to %s)", feature, num(value), unit, num(typical), num(high))
}

func num(v float64) string {
	switch {
	case v == float64(int64(v)) && v < 1e15 && v > -1e15:
		return strconv.FormatInt(int64(v), 10)
	case v >= 100 || v <= -100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	default:
		return strconv.FormatFloat(v, 'g', 3, 64)
	}
}
