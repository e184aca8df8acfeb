package processors

import (
	"errors"
	"fmt"
	"math"

	"github.com/riptide-nids/riptide/window"
)

// ErrBadVector is returned (wrapped) by CheckVector for a feature vector that
// decodes but cannot be learned from or scored.
var ErrBadVector = errors.New("bad feature vector")

// CheckVector reports whether v (not a watermark) is a feature vector of this
// build's schema: a host, a window that ends after it starts, and exactly
// window.NumFeatures finite values. The trainer and the detector send other
// vectors to the dead-letter topic: one of them in a training set would make
// every training fail, and scoring one would panic or produce an anomaly that
// cannot be encoded, stopping the processor on every retry.
func CheckVector(v *window.Vector) error {
	switch {
	case v.Host == "":
		return fmt.Errorf("vector without a host: %w", ErrBadVector)
	case v.End <= v.Start:
		return fmt.Errorf("vector %s: window end %d not after start %d: %w", v.ID(), v.End, v.Start, ErrBadVector)
	case len(v.Values) != window.NumFeatures:
		return fmt.Errorf("vector %s: %d values, schema has %d: %w", v.ID(), len(v.Values), window.NumFeatures, ErrBadVector)
	}
	for i, x := range v.Values {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Errorf("vector %s: %s = %v: %w", v.ID(), window.Schema[i].Name, x, ErrBadVector)
		}
	}
	return nil
}
