package packet

import "errors"

// Stats counts the packets of a capture: how many were read, how many decoded
// into a Summary, and how many could not be decoded, by Reason name. It is
// what `riptide capture --dry-run` prints, as JSON:
//
//	{"packets": 120, "decoded": 117, "undecodable": {"non-ip": 3}}
//
// Packets always equals Decoded plus the sum of Undecodable.
type Stats struct {
	// Packets is the number of frames read.
	Packets uint64 `json:"packets"`
	// Decoded is the number of frames decoded into a Summary.
	Decoded uint64 `json:"decoded"`
	// Undecodable counts the other frames by Reason.String; reasons that
	// did not occur are absent.
	Undecodable map[string]uint64 `json:"undecodable"`
}

// Observe counts one frame given the error Decoder.Decode returned for it:
// nil counts as decoded, a Reason under its name, and any other error under
// "other".
func (s *Stats) Observe(err error) {
	s.Packets++
	if err == nil {
		s.Decoded++
		return
	}
	var name string
	if r, ok := err.(Reason); ok { //nolint:errorlint // hot path: Decode returns a bare Reason; wrapped ones are handled below
		name = r.String()
	} else {
		name = wrappedReason(err)
	}
	if s.Undecodable == nil {
		s.Undecodable = make(map[string]uint64, 4)
	}
	s.Undecodable[name]++
}

// Add adds the counts of other to s.
func (s *Stats) Add(other Stats) {
	s.Packets += other.Packets
	s.Decoded += other.Decoded
	if len(other.Undecodable) > 0 && s.Undecodable == nil {
		s.Undecodable = make(map[string]uint64, len(other.Undecodable))
	}
	for k, v := range other.Undecodable {
		s.Undecodable[k] += v
	}
}

// clone returns a deep copy of s with a non-nil Undecodable map, so that
// JSON shows {} rather than null.
func (s *Stats) clone() Stats {
	c := Stats{Packets: s.Packets, Decoded: s.Decoded, Undecodable: make(map[string]uint64, len(s.Undecodable))}
	for k, v := range s.Undecodable {
		c.Undecodable[k] = v
	}
	return c
}

// wrappedReason returns the name of the Reason in err's chain, or "other".
// It is apart from Observe so that the fast path does not allocate.
func wrappedReason(err error) string {
	var r Reason
	if errors.As(err, &r) {
		return r.String()
	}
	return "other"
}
