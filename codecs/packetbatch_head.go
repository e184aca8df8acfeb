package codecs

import (
	"encoding/binary"
	"fmt"
	"math"
)

// PacketBatchHead reads only the header of a packet batch record: the number
// of summaries and the time of the first one (ns; 0 for an empty batch). It
// is for readers that order records before decoding them. It checks what
// DecodePacketBatch checks of the header, so a record it rejects does not
// decode; one it accepts may still fail DecodePacketBatch further on.
//
// Errors wrap ErrUnknownVersion, ErrTruncated or ErrCorrupt.
func PacketBatchHead(b []byte) (count uint64, first int64, err error) {
	if len(b) < 3 {
		return 0, 0, fmt.Errorf("codecs: packet batch: header of %d bytes: %w", len(b), ErrTruncated)
	}
	if b[0] != PacketBatchMagic {
		return 0, 0, fmt.Errorf("codecs: packet batch: magic byte %#02x, want %#02x: %w", b[0], PacketBatchMagic, ErrCorrupt)
	}
	if b[1] != PacketBatchVersion {
		return 0, 0, fmt.Errorf("codecs: packet batch: version %d: %w", b[1], ErrUnknownVersion)
	}
	if b[2]&batchReserved != 0 {
		return 0, 0, fmt.Errorf("codecs: packet batch: reserved flag bits %#02x set: %w", b[2]&batchReserved, ErrCorrupt)
	}
	p := 3
	count, n := binary.Uvarint(b[p:])
	if n <= 0 {
		return 0, 0, varintErr("packet batch: count", n)
	}
	p += n
	if count == 0 {
		if p != len(b) {
			return 0, 0, fmt.Errorf("codecs: packet batch: %d trailing bytes: %w", len(b)-p, ErrCorrupt)
		}
		return 0, 0, nil
	}
	if len(b)-p < 8 {
		return 0, 0, fmt.Errorf("codecs: packet batch: base time: %w", ErrTruncated)
	}
	base := int64(binary.LittleEndian.Uint64(b[p:]))
	p += 8
	if rest := uint64(len(b) - p); count > rest/minRecord {
		return 0, 0, fmt.Errorf("codecs: packet batch: count %d needs at least %d bytes, have %d: %w",
			count, count*minRecord, rest, ErrTruncated)
	}
	// The first summary's time is the base plus its delta.
	d, n := binary.Varint(b[p:])
	if n <= 0 {
		return 0, 0, recErr(0, "time delta", varintErr("", n))
	}
	t := base + d
	if b[2]&batchMicros != 0 {
		if t > math.MaxInt64/1000 || t < math.MinInt64/1000 {
			return 0, 0, recErr(0, "time", fmt.Errorf("%d µs out of range: %w", t, ErrCorrupt))
		}
		t *= 1000
	}
	return count, t, nil
}
