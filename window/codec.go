package window

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"
)

// stateVersion is the first byte of an encoded State. Version 2 added the
// connection history, version 3 the distinct users of security events (a
// sketch per window after its history features); versions 1 and 2 still
// decode, to an empty history and no users.
const (
	stateVersion   = 3
	stateVersionV2 = 2
	stateVersionV1 = 1
)

// Errors of State.UnmarshalBinary, returned wrapped.
var (
	// ErrStateVersion means the encoding has a version this code does not
	// read (or is empty).
	ErrStateVersion = errors.New("window: unsupported state version")
	// ErrCorruptState means the encoding is malformed.
	ErrCorruptState = errors.New("window: corrupt state")
)

const ms = int64(time.Millisecond)

// MarshalBinary encodes the State (version 3): a version byte, LastOffset and
// Late, then per open window its start and size in milliseconds, a bitmap of
// its non-zero counters and their varints, its timing and its sketches; then
// the connection history as sender and as receiver: per side the number of
// services and per service its key, its start times in milliseconds (the
// first as a varint, then varint gaps) and its non-zero bucket counts. An
// idle host's window takes about 120 bytes; see the package documentation
// for larger ones.
func (st *State) MarshalBinary() ([]byte, error) {
	return st.AppendBinary(make([]byte, 0, 128))
}

// AppendBinary appends the encoding of MarshalBinary to b. It fails only if
// a window is not aligned to whole milliseconds (an invalid Config).
func (st *State) AppendBinary(b []byte) ([]byte, error) {
	b = append(b, stateVersion)
	b = binary.AppendVarint(b, st.LastOffset)
	b = binary.AppendUvarint(b, st.Late)
	b = binary.AppendUvarint(b, uint64(len(st.wins)))
	for _, w := range st.wins {
		size := w.end - w.start
		if w.start%ms != 0 || size%ms != 0 {
			return nil, fmt.Errorf("window: encode state: window [%d, %d) not in whole milliseconds: %w", w.start, w.end, ErrInvalidConfig)
		}
		b = binary.AppendVarint(b, w.start/ms)
		b = binary.AppendUvarint(b, uint64(size/ms))
		var nz uint32
		for j, c := range w.c {
			if c != 0 {
				nz |= 1 << j
			}
		}
		b = binary.LittleEndian.AppendUint32(b, nz)
		for _, c := range w.c {
			if c != 0 {
				b = binary.AppendUvarint(b, c)
			}
		}
		if w.c[cPkts] > 0 {
			b = binary.AppendUvarint(b, uint64(w.first-w.start))
			b = binary.AppendUvarint(b, uint64(w.last-w.first))
			if w.c[cPkts] > 1 {
				b = binary.LittleEndian.AppendUint64(b, math.Float64bits(w.gapSq))
			}
		}
		for _, s := range w.sets() {
			b = s.set.AppendBinary(b, s.weights)
		}
		b = w.synSvc.AppendBinary(b)
		// History flag: 0 not frozen, 1 frozen, 2 frozen with a regularity.
		switch {
		case !w.hDone:
			b = append(b, 0)
		case w.hReg == 0:
			b = append(b, 1)
		default:
			b = append(b, 2)
		}
		if w.hDone {
			b = binary.AppendUvarint(b, w.hStarts)
			b = binary.AppendUvarint(b, w.hStartsIn)
			if w.hReg != 0 {
				b = binary.LittleEndian.AppendUint64(b, math.Float64bits(w.hReg))
			}
		}
		b = w.users.AppendBinary(b, false)
	}
	b = append(b, st.sent.len()|st.recv.len()<<4)
	b = st.sent.appendBinary(b)
	b = st.recv.appendBinary(b)
	return b, nil
}

func (h *hist) len() uint8 {
	if h == nil {
		return 0
	}
	return h.n
}

// appendBinary appends the side's encoding (its service count is in a byte
// before both sides): per service its key (4 bytes), the number of start
// times, the first time (varint ms, as a difference from the previous
// service's first time), the gaps (uvarint ms), a bitmap of the non-zero
// bucket counts and their uvarints.
func (h *hist) appendBinary(b []byte) []byte {
	if h == nil {
		return b
	}
	var prev int64
	for i := 0; i < int(h.n); i++ {
		s := &h.s[i]
		b = binary.LittleEndian.AppendUint32(b, h.keys[i])
		b = append(b, s.n)
		b = binary.AppendVarint(b, s.times[0]-prev)
		prev = s.times[0]
		for k := 1; k < int(s.n); k++ {
			b = binary.AppendUvarint(b, uint64(s.times[k]-s.times[k-1]))
		}
		var bm uint8
		for k, c := range s.cnt {
			if c != 0 {
				bm |= 1 << k
			}
		}
		b = append(b, bm)
		for _, c := range s.cnt {
			if c != 0 {
				b = binary.AppendUvarint(b, uint64(c))
			}
		}
	}
	return b
}

// decodeHist reads one side of the history with n services (see
// appendBinary); nil if n is 0.
func decodeHist(r *reader, n int) (*hist, error) {
	if n == 0 {
		return nil, nil
	}
	if n > histSlots {
		return nil, fmt.Errorf("history of %d services: %w", n, ErrCorruptState)
	}
	h := newHist()
	if err := h.decode(r, n); err != nil {
		h.release()
		return nil, err
	}
	return h, nil
}

func (h *hist) decode(r *reader, n int) error {
	const maxMS = MaxTime / ms
	var prev int64
	for i := 0; i < n; i++ {
		if len(r.b) < 5 {
			return fmt.Errorf("history service %d: %w", i, ErrCorruptState)
		}
		s := &h.s[i]
		h.keys[i] = binary.LittleEndian.Uint32(r.b)
		s.n = r.b[4]
		r.b = r.b[5:]
		if s.n == 0 || s.n > histTimes {
			return fmt.Errorf("history service %d: %d times: %w", i, s.n, ErrCorruptState)
		}
		for j := 0; j < i; j++ {
			if h.keys[j] == h.keys[i] {
				return fmt.Errorf("history service %d: duplicate key: %w", i, ErrCorruptState)
			}
		}
		if d := r.varint("history time"); r.err == nil {
			if d < -2*maxMS || d > 2*maxMS || prev+d < -maxMS || prev+d > maxMS {
				r.fail("history time")
			}
			s.times[0] = prev + d
			prev = s.times[0]
		}
		for k := 1; k < int(s.n) && r.err == nil; k++ {
			d := r.uvarint("history gap")
			if d > uint64(maxMS-s.times[k-1]) {
				r.fail("history gap")
			}
			s.times[k] = s.times[k-1] + int64(d)
		}
		if r.err != nil {
			return r.err
		}
		if len(r.b) < 1 {
			return fmt.Errorf("history service %d buckets: %w", i, ErrCorruptState)
		}
		bm := r.b[0]
		r.b = r.b[1:]
		for k := range s.cnt {
			if bm&(1<<k) != 0 {
				c := r.uvarint("history count")
				if r.err == nil && (c == 0 || c > math.MaxUint32) {
					r.fail("history count")
				}
				s.cnt[k] = uint32(c)
				h.tot[i] = uint32(min(uint64(h.tot[i])+c, math.MaxUint32))
			}
		}
		if r.err != nil {
			return r.err
		}
		h.last[i] = s.latest()
		h.n++
	}
	return nil
}

// UnmarshalBinary replaces the State with the one encoded in data. Malformed
// data yields an error wrapping ErrCorruptState or ErrStateVersion and leaves
// the State reset; it never panics.
func (st *State) UnmarshalBinary(data []byte) error {
	st.Reset()
	if err := st.decode(data); err != nil {
		st.Reset()
		return fmt.Errorf("window: decode state: %w", err)
	}
	return nil
}

type reader struct {
	b   []byte
	err error
}

func (r *reader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("%s: %w", what, ErrCorruptState)
	}
}

func (r *reader) uvarint(what string) uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail(what)
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) varint(what string) int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail(what)
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (st *State) decode(data []byte) error {
	if len(data) == 0 || data[0] != stateVersion && data[0] != stateVersionV2 && data[0] != stateVersionV1 {
		if len(data) == 0 {
			return fmt.Errorf("empty: %w", ErrStateVersion)
		}
		return fmt.Errorf("version %d: %w", data[0], ErrStateVersion)
	}
	r := &reader{b: data[1:]}
	st.LastOffset = r.varint("last offset")
	st.Late = r.uvarint("late")
	n := r.uvarint("window count")
	if r.err != nil {
		return r.err
	}
	if n > MaxOpenWindows {
		return fmt.Errorf("%d windows: %w", n, ErrCorruptState)
	}
	prevEnd := -MaxTime
	for i := 0; i < int(n); i++ {
		startMS := r.varint("window start")
		sizeMS := r.uvarint("window size")
		if r.err != nil {
			return r.err
		}
		if startMS < -MaxTime/ms || startMS > MaxTime/ms || sizeMS == 0 || sizeMS > uint64(MaxSize/time.Millisecond) {
			return fmt.Errorf("window %d bounds: %w", i, ErrCorruptState)
		}
		start := startMS * ms
		end := start + int64(sizeMS)*ms
		if start < prevEnd {
			return fmt.Errorf("window %d overlaps: %w", i, ErrCorruptState)
		}
		prevEnd = end
		w := newAcc(start, end)
		st.wins = append(st.wins, w)
		if len(r.b) < 4 {
			return fmt.Errorf("window %d counters: %w", i, ErrCorruptState)
		}
		nz := binary.LittleEndian.Uint32(r.b)
		r.b = r.b[4:]
		known := uint64(nCounters)
		if data[0] != stateVersion {
			known = cLoginFailOut // versions 1 and 2 had no event counters
		}
		if uint64(nz)>>known != 0 {
			return fmt.Errorf("window %d counters: %w", i, ErrCorruptState)
		}
		for j := range w.c {
			if nz&(1<<j) != 0 {
				if w.c[j] = r.uvarint("counter"); r.err == nil && w.c[j] == 0 {
					r.fail("zero counter")
				}
			}
		}
		if r.err != nil {
			return r.err
		}
		if w.c[cPkts] > 0 {
			f := r.uvarint("first")
			l := r.uvarint("last")
			if r.err != nil {
				return r.err
			}
			if f >= uint64(end-start) || l >= uint64(end-start)-f {
				return fmt.Errorf("window %d times: %w", i, ErrCorruptState)
			}
			w.first = start + int64(f)
			w.last = w.first + int64(l)
			if w.c[cPkts] > 1 {
				if len(r.b) < 8 {
					return fmt.Errorf("window %d gaps: %w", i, ErrCorruptState)
				}
				g := math.Float64frombits(binary.LittleEndian.Uint64(r.b))
				r.b = r.b[8:]
				if !(g >= 0) || math.IsInf(g, 0) {
					return fmt.Errorf("window %d gaps: %w", i, ErrCorruptState)
				}
				w.gapSq = g
			}
		}
		var err error
		for _, s := range w.sets() {
			if r.b, err = s.set.Decode(r.b, s.weights); err != nil {
				return fmt.Errorf("window %d: %w: %w", i, ErrCorruptState, err)
			}
		}
		if r.b, err = w.synSvc.Decode(r.b); err != nil {
			return fmt.Errorf("window %d: %w: %w", i, ErrCorruptState, err)
		}
		if data[0] == stateVersionV1 {
			continue
		}
		if len(r.b) < 1 || r.b[0] > 2 {
			return fmt.Errorf("window %d history flag: %w", i, ErrCorruptState)
		}
		flag := r.b[0]
		w.hDone = flag != 0
		r.b = r.b[1:]
		if w.hDone {
			w.hStarts = r.uvarint("history starts")
			w.hStartsIn = r.uvarint("history starts in")
			if r.err != nil {
				return r.err
			}
		}
		if flag == 2 {
			if len(r.b) < 8 {
				return fmt.Errorf("window %d regularity: %w", i, ErrCorruptState)
			}
			g := math.Float64frombits(binary.LittleEndian.Uint64(r.b))
			r.b = r.b[8:]
			if !(g > 0) || math.IsInf(g, 0) {
				return fmt.Errorf("window %d regularity: %w", i, ErrCorruptState)
			}
			w.hReg = g
		}
		if data[0] == stateVersionV2 {
			continue
		}
		if r.b, err = w.users.Decode(r.b, false); err != nil {
			return fmt.Errorf("window %d users: %w: %w", i, ErrCorruptState, err)
		}
	}
	if data[0] != stateVersionV1 {
		if len(r.b) < 1 {
			return fmt.Errorf("history length: %w", ErrCorruptState)
		}
		ns, nr := int(r.b[0]&15), int(r.b[0]>>4)
		r.b = r.b[1:]
		var err error
		if st.sent, err = decodeHist(r, ns); err != nil {
			return fmt.Errorf("sent: %w", err)
		}
		if st.recv, err = decodeHist(r, nr); err != nil {
			return fmt.Errorf("received: %w", err)
		}
	}
	if len(r.b) != 0 {
		return fmt.Errorf("%d trailing bytes: %w", len(r.b), ErrCorruptState)
	}
	return nil
}
