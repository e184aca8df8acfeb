package codecs

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/riptide-nids/riptide/window"
)

// Header bytes and limits of a feature vector record.
const (
	// VectorMagic is the first byte of every feature vector record ('V').
	VectorMagic byte = 'V'
	// VectorVersion is the format version AppendVector writes.
	VectorVersion byte = 1
	// MaxHostLen is the longest host, in bytes, a vector record can carry.
	MaxHostLen = 255
	// MaxVectorValues is the largest number of values a vector record can
	// carry.
	MaxVectorValues = 1024
)

// AppendVector appends the version 1 encoding of v to dst and returns the
// extended slice. It fails with ErrInvalid when v's host is longer than
// MaxHostLen bytes or v has more than MaxVectorValues values. It does not
// allocate when dst has room.
func AppendVector(dst []byte, v *window.Vector) ([]byte, error) {
	if len(v.Host) > MaxHostLen {
		return dst, fmt.Errorf("codecs: vector: host of %d bytes, max %d: %w", len(v.Host), MaxHostLen, ErrInvalid)
	}
	if len(v.Values) > MaxVectorValues {
		return dst, fmt.Errorf("codecs: vector: %d values, max %d: %w", len(v.Values), MaxVectorValues, ErrInvalid)
	}
	dst = append(dst, VectorMagic, VectorVersion)
	dst = binary.AppendUvarint(dst, uint64(len(v.Host)))
	dst = append(dst, v.Host...)
	dst = binary.AppendVarint(dst, v.Start)
	dst = binary.AppendVarint(dst, v.End)
	dst = binary.AppendUvarint(dst, uint64(len(v.Values)))
	for _, x := range v.Values {
		dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(x))
	}
	return dst, nil
}

// DecodeVector decodes a feature vector record into v, reusing the capacity
// of v.Values (and v.Host when it already holds the same text), so decoding a
// stream of vectors of one host into the same Vector does not allocate.
//
// Errors wrap ErrUnknownVersion, ErrTruncated or ErrCorrupt; v is undefined
// after an error.
func DecodeVector(b []byte, v *window.Vector) error {
	if len(b) < 2 {
		return fmt.Errorf("codecs: vector: header of %d bytes: %w", len(b), ErrTruncated)
	}
	if b[0] != VectorMagic {
		return fmt.Errorf("codecs: vector: magic byte %#02x, want %#02x: %w", b[0], VectorMagic, ErrCorrupt)
	}
	if b[1] != VectorVersion {
		return fmt.Errorf("codecs: vector: version %d: %w", b[1], ErrUnknownVersion)
	}
	p := 2
	hl, n := binary.Uvarint(b[p:])
	if n <= 0 {
		return varintErr("vector: host length", n)
	}
	p += n
	if hl > MaxHostLen {
		return fmt.Errorf("codecs: vector: host length %d, max %d: %w", hl, MaxHostLen, ErrCorrupt)
	}
	if uint64(len(b)-p) < hl {
		return fmt.Errorf("codecs: vector: host: %w", ErrTruncated)
	}
	if host := b[p : p+int(hl)]; string(host) != v.Host {
		v.Host = string(host)
	}
	p += int(hl)
	if v.Start, n = binary.Varint(b[p:]); n <= 0 {
		return varintErr("vector: start", n)
	}
	p += n
	if v.End, n = binary.Varint(b[p:]); n <= 0 {
		return varintErr("vector: end", n)
	}
	p += n
	nv, n := binary.Uvarint(b[p:])
	if n <= 0 {
		return varintErr("vector: value count", n)
	}
	p += n
	if nv > MaxVectorValues {
		return fmt.Errorf("codecs: vector: %d values, max %d: %w", nv, MaxVectorValues, ErrCorrupt)
	}
	if rest := len(b) - p; uint64(rest) != nv*8 {
		if uint64(rest) < nv*8 {
			return fmt.Errorf("codecs: vector: %d values need %d bytes, have %d: %w", nv, nv*8, rest, ErrTruncated)
		}
		return fmt.Errorf("codecs: vector: %d trailing bytes: %w", uint64(rest)-nv*8, ErrCorrupt)
	}
	if uint64(cap(v.Values)) < nv {
		v.Values = make([]float64, nv)
	}
	v.Values = v.Values[:nv]
	for i := range v.Values {
		v.Values[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[p:]))
		p += 8
	}
	return nil
}
