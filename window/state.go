package window

import (
	"net/netip"

	"github.com/riptide-nids/riptide/packet"
	"github.com/riptide-nids/riptide/window/internal/sketch"
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

	// TCP connection starts (SYN without ACK) across windows, as sender
	// (per destination and port) and as receiver (per source and local
	// port), for the host-history features; nil while empty.
	sent, recv *hist
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
	w := st.windowAt(s.Time, streamTime, cfg)
	if w == nil {
		return false
	}
	outPair, inSrc := w.add(s, out, in)
	if s.Proto == packet.ProtoTCP && s.TCPFlags&(packet.TCPSyn|packet.TCPAck) == packet.TCPSyn && hasPorts(s) {
		st.addStart(s, out, in, outPair, inSrc, cfg)
	}
	return true
}

// addStart records the connection start s in the host's history, first
// freezing the history features of the open windows that end at or before
// it.
// outPair and inSrc are the hashes of the destination and port and of the
// source (from acc.add).
func (st *State) addStart(s *packet.Summary, out, in bool, outPair, inSrc uint64, cfg Config) {
	t := floorDiv(s.Time, ms)
	for _, w := range st.wins {
		if !w.hDone && floorDiv(w.end, ms) <= t {
			st.freeze(w)
		}
	}
	// A service whose latest start is before keep can matter to no window
	// still open (their look-backs begin after streamTime - Grace - 60 s).
	keep := t - histLookbackMS - graceMS(cfg)
	if out {
		if st.sent == nil {
			st.sent = newHist()
		}
		st.sent.add(uint32(outPair>>32), t, keep)
	}
	if in {
		if st.recv == nil {
			st.recv = newHist()
		}
		st.recv.add(uint32(sketch.HashPair(inSrc, s.DstPort)>>32), t, keep)
	}
}

// graceMS returns cfg.Grace in whole milliseconds, rounded up.
func graceMS(cfg Config) int64 { return -floorDiv(-int64(cfg.Grace), ms) }

// window returns the open window starting at start, opening it if needed,
// or nil if MaxOpenWindows are open already.
// windowAt returns the open window that holds time t, opening it if
// needed, or nil (counted in Late) when t is out of range or its window has
// closed at streamTime (raised to t if t is later).
func (st *State) windowAt(t, streamTime int64, cfg Config) *acc {
	if t < -MaxTime || t > MaxTime {
		st.Late++
		return nil
	}
	streamTime = max(streamTime, t)
	start := cfg.Start(t)
	end := start + int64(cfg.Size)
	if end <= streamTime-int64(cfg.Grace) {
		st.Late++
		return nil
	}
	w := st.window(start, end)
	if w == nil {
		st.Late++
	}
	return w
}

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
	if e := floorDiv(end, ms); st.sent.latest() >= e || st.recv.latest() >= e {
		// Opened late, after the history moved past its end.
		st.freeze(w)
	}
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
		if !w.hDone {
			st.freeze(w)
		}
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
	// Forget the services no future window can see: a packet accepted from
	// now on is at or after limit - Size, and addStart would drop them
	// before using them, so dropping them now changes no vector.
	keep := floorDiv(limit-int64(cfg.Size), ms) - histLookbackMS - graceMS(cfg)
	if st.sent != nil && !st.sent.prune(keep) {
		st.sent.release()
		st.sent = nil
	}
	if st.recv != nil && !st.recv.prune(keep) {
		st.recv.release()
		st.recv = nil
	}
}

// freeze computes w's host-history features from the history as it is.
func (st *State) freeze(w *acc) {
	end := floorDiv(w.end, ms)
	w.hStarts, w.hReg = st.sent.features(end)
	w.hStartsIn, _ = st.recv.features(end)
	w.hDone = true
}

// empty reports whether the State holds neither open windows nor history.
func (st *State) empty() bool { return len(st.wins) == 0 && st.sent == nil && st.recv == nil }

// Reset empties the State (LastOffset -1, no late packets, no windows, no
// history) and returns its memory to the package's pools.
func (st *State) Reset() {
	for _, w := range st.wins {
		w.release()
	}
	clear(st.wins)
	if st.sent != nil {
		st.sent.release()
	}
	if st.recv != nil {
		st.recv.release()
	}
	*st = State{LastOffset: -1, wins: st.wins[:0]}
}
