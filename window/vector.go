package window

import (
	"strconv"
	"time"
)

// Vector is the final feature vector of one host in one window. Values are in
// the order of Schema; Vector is what the windower emits on the features topic
// and what the detector scores.
type Vector struct {
	// Host is the host's address in its canonical text form (netip.Addr.String).
	Host string
	// Start and End bound the window [Start, End) in nanoseconds since the epoch.
	Start, End int64
	// Values holds one value per feature of Schema, raw (not scaled).
	Values []float64
}

// ID returns the vector's deterministic id: the host and the window start in
// Unix milliseconds ("10.0.0.5@1772442000000"). Re-emitting the same (host,
// window) after a restart yields the same id, so consumers can de-duplicate.
func (v *Vector) ID() string {
	return v.Host + "@" + strconv.FormatInt(v.Start/int64(time.Millisecond), 10)
}

// NewWatermark returns a watermark: a Vector without a host that tells
// downstream consumers that windower partition part (of parts) has reached
// stream time t, so every window of that partition ending at or before
// t minus the grace period has been, or is about to be, emitted. Watermarks
// travel on the features topic between ordinary vectors.
func NewWatermark(part, parts int32, t int64) *Vector {
	return &Vector{Start: t, End: t, Values: []float64{float64(part), float64(parts)}}
}

// Watermark reports whether v is a watermark and, if so, its partition,
// partition count and stream time.
func (v *Vector) Watermark() (part, parts int32, t int64, ok bool) {
	if v.Host != "" || len(v.Values) != 2 {
		return 0, 0, 0, false
	}
	return int32(v.Values[0]), int32(v.Values[1]), v.Start, true
}
