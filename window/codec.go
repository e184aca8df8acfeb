package window

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"
)

// stateVersion is the first byte of an encoded State.
const stateVersion = 1

// Errors of State.UnmarshalBinary, returned wrapped.
var (
	// ErrStateVersion means the encoding has a version this code does not
	// read (or is empty).
	ErrStateVersion = errors.New("window: unsupported state version")
	// ErrCorruptState means the encoding is malformed.
	ErrCorruptState = errors.New("window: corrupt state")
)

const ms = int64(time.Millisecond)

// MarshalBinary encodes the State (version 1): a version byte, LastOffset and
// Late, then per open window its start and size in milliseconds, a bitmap of
// its non-zero counters and their varints, its timing and its sketches. An
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
	}
	return b, nil
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
	if len(data) == 0 || data[0] != stateVersion {
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
		if nz>>nCounters != 0 {
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
	}
	if len(r.b) != 0 {
		return fmt.Errorf("%d trailing bytes: %w", len(r.b), ErrCorruptState)
	}
	return nil
}
