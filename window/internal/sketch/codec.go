package sketch

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
)

// Encoding tags of a Set. An exact Set is encoded with its entry count
// (0..ExactCap) as tag.
const (
	tagSparse = 0x80 // Dense form, registers as gap-value entries
	tagPacked = 0x81 // Dense form, all registers as 4-bit offsets from a base
)

// Register encodings. A sparse entry is one byte, gap<<5 | value, where gap
// is the number of zero registers skipped (0..6) and value 1..q+1; gap 7
// means a varint gap follows. Packed registers are nibbles holding value -
// base, where 15 means an exception: (varint index gap, value) pairs listed
// after the nibbles.
const (
	sparseGapEsc = 7
	packedEsc    = 15
	packedBytes  = M / 2
)

// AppendBinary appends the Set's encoding to b, with the key weights if
// weights is true (Entropy needs them; Count does not). Exact keys take 4
// bytes each and a varint weight; the Dense form writes its registers
// sparsely (about a byte per non-zero register) while fewer than M/2 are
// non-zero, else packed (M/2 bytes plus exceptions), then a bitmap of the non-zero histogram
// buckets and their varint weights.
func (s *Set) AppendBinary(b []byte, weights bool) []byte {
	if s.d == nil {
		b = append(b, s.n)
		for i := 0; i < int(s.n); i++ {
			b = binary.LittleEndian.AppendUint32(b, s.keys[i])
			if weights {
				b = binary.AppendUvarint(b, uint64(s.cnts[i]))
			}
		}
		return b
	}
	b = appendRegisters(b, &s.d.Reg)
	if !weights {
		return b
	}
	var bm uint64
	for i, c := range s.d.Hist {
		if c != 0 {
			bm |= 1 << i
		}
	}
	b = binary.LittleEndian.AppendUint64(b, bm)
	for _, c := range s.d.Hist {
		if c != 0 {
			b = binary.AppendUvarint(b, uint64(c))
		}
	}
	return b
}

func appendRegisters(b []byte, reg *[M]uint8) []byte {
	// One branch-free pass for the form: sparse below M/2 non-zero
	// registers (at most about a byte each), packed from there.
	base := uint8(q + 1)
	nz := 0
	for _, r := range reg {
		nz += int((uint(r) + 255) >> 8)
		base = min(base, r)
	}
	if nz < M/2 {
		b = append(b, tagSparse)
		b = binary.AppendUvarint(b, uint64(nz))
		gap := 0
		for _, r := range reg {
			if r == 0 {
				gap++
				continue
			}
			if gap < sparseGapEsc {
				b = append(b, uint8(gap)<<5|r)
			} else {
				b = append(b, sparseGapEsc<<5|r)
				b = binary.AppendUvarint(b, uint64(gap))
			}
			gap = 0
		}
		return b
	}
	b = append(b, tagPacked, base)
	b = slices.Grow(b, packedBytes)
	var ne uint64
	for i := 0; i < M; i += 2 {
		lo, hi := min(reg[i]-base, packedEsc), min(reg[i+1]-base, packedEsc)
		b = append(b, lo|hi<<4)
		ne += uint64((lo+1)>>4) + uint64((hi+1)>>4) // 1 for packedEsc
	}
	b = binary.AppendUvarint(b, ne)
	if ne == 0 {
		return b
	}
	last := -1
	for i, r := range reg {
		if r-base >= packedEsc {
			b = binary.AppendUvarint(b, uint64(i-last-1))
			b = append(b, r)
			last = i
		}
	}
	return b
}

// Decode replaces the Set with the one encoded at the start of b (by
// AppendBinary with the same weights) and returns the bytes after it.
// Without weights, an exact Set's keys get weight 1 and a Dense Set's
// histogram stays empty. Malformed input yields an error wrapping ErrCorrupt
// and leaves the Set empty.
func (s *Set) Decode(b []byte, weights bool) ([]byte, error) {
	s.Reset()
	rest, err := s.decode(b, weights)
	if err != nil {
		s.Reset()
		return nil, err
	}
	return rest, nil
}

func (s *Set) decode(b []byte, weights bool) ([]byte, error) {
	if len(b) < 1 {
		return nil, fmt.Errorf("set tag: %w", ErrCorrupt)
	}
	tag := b[0]
	b = b[1:]
	var err error
	switch {
	case tag <= ExactCap:
		for i := 0; i < int(tag); i++ {
			if len(b) < 4 {
				return nil, fmt.Errorf("set key: %w", ErrCorrupt)
			}
			k := binary.LittleEndian.Uint32(b)
			b = b[4:]
			c := uint32(1)
			if weights {
				if c, b, err = count32(b); err != nil {
					return nil, err
				}
			}
			for j := 0; j < i; j++ {
				if s.keys[j] == k {
					return nil, fmt.Errorf("set: duplicate key: %w", ErrCorrupt)
				}
			}
			s.keys[i], s.cnts[i] = k, c
		}
		s.n = tag
		return b, nil
	case tag == tagSparse:
		s.d = getDense()
		if b, err = decodeSparse(b, &s.d.Reg); err != nil {
			return nil, err
		}
	case tag == tagPacked:
		s.d = getDense()
		if b, err = decodePacked(b, &s.d.Reg); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("set tag %#x: %w", tag, ErrCorrupt)
	}
	if !weights {
		return b, nil
	}
	if len(b) < 8 {
		return nil, fmt.Errorf("set histogram: %w", ErrCorrupt)
	}
	bm := binary.LittleEndian.Uint64(b)
	b = b[8:]
	for i := range s.d.Hist {
		if bm&(1<<i) == 0 {
			continue
		}
		var c uint32
		if c, b, err = count32(b); err != nil {
			return nil, err
		}
		s.d.Hist[i] = c
	}
	return b, nil
}

func decodeSparse(b []byte, reg *[M]uint8) ([]byte, error) {
	nz, n := binary.Uvarint(b)
	if n <= 0 || nz > M {
		return nil, fmt.Errorf("set register count: %w", ErrCorrupt)
	}
	b = b[n:]
	idx := -1
	for i := 0; i < int(nz); i++ {
		if len(b) < 1 {
			return nil, fmt.Errorf("set register: %w", ErrCorrupt)
		}
		e := b[0]
		b = b[1:]
		gap, r := uint64(e>>5), e&31
		if gap == sparseGapEsc {
			var n int
			gap, n = binary.Uvarint(b)
			if n <= 0 || gap < sparseGapEsc || gap >= M {
				return nil, fmt.Errorf("set register gap: %w", ErrCorrupt)
			}
			b = b[n:]
		}
		idx += int(gap) + 1
		if idx >= M || r == 0 || r > q+1 {
			return nil, fmt.Errorf("set register %d: %w", idx, ErrCorrupt)
		}
		reg[idx] = r
	}
	return b, nil
}

func decodePacked(b []byte, reg *[M]uint8) ([]byte, error) {
	if len(b) < 1+packedBytes {
		return nil, fmt.Errorf("set registers: %w", ErrCorrupt)
	}
	base := b[0]
	if base > q+1 {
		return nil, fmt.Errorf("set register base: %w", ErrCorrupt)
	}
	var esc int
	var escaped [M / 64]uint64
	for i, x := range b[1 : 1+packedBytes] {
		for j, v := range [2]uint8{x & 15, x >> 4} {
			if v == packedEsc {
				esc++
				escaped[(2*i+j)/64] |= 1 << ((2*i + j) % 64)
				continue
			}
			if base+v > q+1 {
				return nil, fmt.Errorf("set register %d: %w", 2*i+j, ErrCorrupt)
			}
			reg[2*i+j] = base + v
		}
	}
	b = b[1+packedBytes:]
	ne, n := binary.Uvarint(b)
	if n <= 0 || ne != uint64(esc) {
		return nil, fmt.Errorf("set register exceptions: %w", ErrCorrupt)
	}
	b = b[n:]
	idx := -1
	for i := 0; i < esc; i++ {
		gap, n := binary.Uvarint(b)
		if n <= 0 || gap >= M || len(b) < n+1 {
			return nil, fmt.Errorf("set register exception: %w", ErrCorrupt)
		}
		idx += int(gap) + 1
		r := b[n]
		b = b[n+1:]
		// The exception must sit on an escaped nibble and be one: at least
		// base+15.
		if idx >= M || escaped[idx/64]&(1<<(idx%64)) == 0 || r > q+1 || r < base+packedEsc {
			return nil, fmt.Errorf("set register exception %d: %w", idx, ErrCorrupt)
		}
		reg[idx] = r
	}
	return b, nil
}

// count32 reads a varint count in 1..MaxUint32.
func count32(b []byte) (uint32, []byte, error) {
	v, n := binary.Uvarint(b)
	if n <= 0 || v == 0 || v > math.MaxUint32 {
		return 0, nil, fmt.Errorf("count: %w", ErrCorrupt)
	}
	return uint32(v), b[n:], nil
}

// AppendBinary appends the TopK's encoding to b: the entry count, then per
// entry 4 bytes of key, the varint count and the varint error.
func (t *TopK) AppendBinary(b []byte) []byte {
	b = append(b, t.n)
	for i := 0; i < int(t.n); i++ {
		b = binary.LittleEndian.AppendUint32(b, t.keys[i])
		b = binary.AppendUvarint(b, uint64(t.cnts[i]))
		b = binary.AppendUvarint(b, uint64(t.errs[i]))
	}
	return b
}

// Decode replaces the TopK with the one encoded at the start of b and returns
// the bytes after it. Malformed input yields an error wrapping ErrCorrupt and
// leaves the TopK empty.
func (t *TopK) Decode(b []byte) ([]byte, error) {
	t.Reset()
	rest, err := t.decode(b)
	if err != nil {
		t.Reset()
		return nil, err
	}
	return rest, nil
}

func (t *TopK) decode(b []byte) ([]byte, error) {
	if len(b) < 1 || b[0] > TopKCap {
		return nil, fmt.Errorf("topk length: %w", ErrCorrupt)
	}
	n := int(b[0])
	b = b[1:]
	for i := 0; i < n; i++ {
		if len(b) < 4 {
			return nil, fmt.Errorf("topk key: %w", ErrCorrupt)
		}
		k := binary.LittleEndian.Uint32(b)
		b = b[4:]
		c, rest, err := count32(b)
		if err != nil {
			return nil, err
		}
		b = rest
		e, m := binary.Uvarint(b)
		if m <= 0 || e >= uint64(c) {
			return nil, fmt.Errorf("topk error: %w", ErrCorrupt)
		}
		b = b[m:]
		for j := 0; j < i; j++ {
			if t.keys[j] == k {
				return nil, fmt.Errorf("topk: duplicate key: %w", ErrCorrupt)
			}
		}
		t.keys[i], t.cnts[i], t.errs[i] = k, c, uint32(e)
	}
	t.n = uint8(n)
	return b, nil
}
