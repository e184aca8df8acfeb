package window

import (
	"net/netip"

	"github.com/riptide-nids/riptide/packet"
)

// MaxTime bounds packet times: a packet whose Time is outside
// [-MaxTime, MaxTime] ns (about year 2116) is dropped as late. This keeps
// window arithmetic free of overflow.
const MaxTime = int64(1) << 62

// State is one host's windowing state: its open windows, the offset of the
// last input record applied, and a count of late packets. It is the value of
// the windower's table, written to the changelog after every update, so its
// encoding (MarshalBinary) is compact.
//
// The caller owns the stream time (the largest packet time seen on the input
// partition) and calls Close after Add to emit the windows it closes; Add
// never emits. A State is not safe for concurrent use.
type State struct {
	// LastOffset is the input offset of the last record applied to the
	// State, or -1 if none (as set by NewState). After a crash, records are
	// replayed from the last committed offset: the caller skips those with
	// offset <= LastOffset, so none is counted twice.
	LastOffset int64
	// Late counts packets of this host dropped because their window had
	// already closed (or was beyond the open-window bound).
	Late uint64

	wins []*acc // open windows, ordered by start
}

// NewState returns an empty State with LastOffset -1.
func NewState() *State { return &State{LastOffset: -1} }

// Open returns the number of open windows.
func (st *State) Open() int { return len(st.wins) }

// Add adds the packet s to the host's window holding s.Time, as sent by the
// host if s.Src == host and as received if s.Dst == host (both if both). It
// reports whether the packet was added. A packet whose window end is at or
// before streamTime - cfg.Grace is late: it is counted in Late and not added;
// so is a packet whose time is out of range or that would need more than
// MaxOpenWindows open windows. A packet that involves neither address is
// ignored. streamTime is raised to s.Time if it is smaller. cfg must be valid
// and the same for all calls on a State.
func (st *State) Add(host netip.Addr, s *packet.Summary, streamTime int64, cfg Config) bool {
	out, in := s.Src == host, s.Dst == host
	if !out && !in {
		return false
	}
	if s.Time < -MaxTime || s.Time > MaxTime {
		st.Late++
		return false
	}
	if streamTime < s.Time {
		streamTime = s.Time
	}
	start := cfg.Start(s.Time)
	end := start + int64(cfg.Size)
	if end <= streamTime-int64(cfg.Grace) {
		st.Late++
		return false
	}
	w := st.window(start, end)
	if w == nil {
		st.Late++
		return false
	}
	w.add(s, out, in)
	return true
}

// window returns the open window starting at start, opening it if needed,
// or nil if MaxOpenWindows are open already.
func (st *State) window(start, end int64) *acc {
	i := len(st.wins)
	for i > 0 && st.wins[i-1].start >= start {
		if st.wins[i-1].start == start {
			return st.wins[i-1]
		}
		i--
	}
	if len(st.wins) >= MaxOpenWindows {
		return nil
	}
	w := newAcc(start, end)
	st.wins = append(st.wins, nil)
	copy(st.wins[i+1:], st.wins[i:])
	st.wins[i] = w
	return w
}

// Close emits, in time order, a final Vector for each window closed at
// streamTime (end + cfg.Grace <= streamTime) and removes it. host is the
// host's address in canonical text form (netip.Addr.String), used as
// Vector.Host. Each Vector is newly allocated and owned by emit; a nil emit
// discards them.
func (st *State) Close(host string, streamTime int64, cfg Config, emit func(*Vector)) {
	limit := streamTime - int64(cfg.Grace)
	if streamTime < -MaxTime {
		return
	}
	k := 0
	for k < len(st.wins) && st.wins[k].end <= limit {
		w := st.wins[k]
		v := &Vector{Host: host, Start: w.start, End: w.end, Values: make([]float64, NumFeatures)}
		w.values(v.Values)
		w.release()
		st.wins[k] = nil
		k++
		if emit != nil {
			emit(v)
		}
	}
	if k > 0 {
		n := copy(st.wins, st.wins[k:])
		clear(st.wins[n:])
		st.wins = st.wins[:n]
	}
}

// Reset empties the State (LastOffset -1, no late packets, no windows) and
// returns its windows' memory to the package's pools.
func (st *State) Reset() {
	for _, w := range st.wins {
		w.release()
	}
	clear(st.wins)
	*st = State{LastOffset: -1, wins: st.wins[:0]}
}
