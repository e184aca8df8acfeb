package codecs

import (
	"encoding/binary"
	"fmt"
	"math"
	"net/netip"

	"github.com/riptide-nids/riptide/packet"
)

// Header bytes of a packet batch record.
const (
	// PacketBatchMagic is the first byte of every packet batch record ('P').
	PacketBatchMagic byte = 'P'
	// PacketBatchVersion is the format version AppendPacketBatch writes.
	PacketBatchVersion byte = 1
)

// Bits of the batch flags byte.
const (
	batchMicros   byte = 1 << 0 // times are in microseconds, not nanoseconds
	batchReserved      = ^batchMicros
)

// Address family tags (two bits each in the record head byte).
const (
	famNone byte = 0 // invalid or absent address: no bytes follow
	famV4   byte = 1 // 4 bytes
	famV6   byte = 2 // 16 bytes
	famV6Z  byte = 3 // 16 bytes, uvarint zone length (1..255), zone bytes
)

// Bits of the record head byte above the two family tags.
const (
	headPorts byte = 1 << 4 // SrcPort, DstPort follow (2 bytes each, big endian)
	headICMP  byte = 1 << 5 // ICMPType, ICMPCode follow
	headARP   byte = 1 << 6 // ARPOp follows
	headDNS   byte = 1 << 7 // DNSRCode, DNSQNameLen, uvarint DNSQType follow
)

// minRecord is the smallest encoded summary: time delta, head, length,
// proto, flags and TCP flags, one byte each, both addresses absent.
const minRecord = 6

// maxZone bounds the zone of an IPv6 address in a record.
const maxZone = 255

// AppendPacketBatch appends the version 1 encoding of sums, a batch of packet
// summaries of one host, to dst and returns the extended slice. The host is
// not part of the value: it is the record key. The format is described in
// FORMAT.md. AppendPacketBatch does not allocate when dst has room.
func AppendPacketBatch(dst []byte, sums []packet.Summary) []byte {
	var bflags byte
	unit := int64(1)
	if len(sums) > 0 && allMicros(sums) {
		bflags |= batchMicros
		unit = 1000
	}
	dst = append(dst, PacketBatchMagic, PacketBatchVersion, bflags)
	dst = binary.AppendUvarint(dst, uint64(len(sums)))
	if len(sums) == 0 {
		return dst
	}
	prev := sums[0].Time / unit
	dst = binary.LittleEndian.AppendUint64(dst, uint64(prev))
	for i := range sums {
		s := &sums[i]
		t := s.Time / unit
		dst = binary.AppendVarint(dst, t-prev)
		prev = t

		head := family(s.Src) | family(s.Dst)<<2
		if s.SrcPort != 0 || s.DstPort != 0 {
			head |= headPorts
		}
		if s.ICMPType != 0 || s.ICMPCode != 0 {
			head |= headICMP
		}
		if s.ARPOp != 0 {
			head |= headARP
		}
		if s.DNSRCode != 0 || s.DNSQNameLen != 0 || s.DNSQType != 0 {
			head |= headDNS
		}
		dst = append(dst, head)
		dst = appendAddr(dst, s.Src)
		dst = appendAddr(dst, s.Dst)
		if head&headPorts != 0 {
			dst = append(dst, byte(s.SrcPort>>8), byte(s.SrcPort), byte(s.DstPort>>8), byte(s.DstPort))
		}
		dst = binary.AppendUvarint(dst, uint64(s.Length))
		dst = append(dst, s.Proto, s.Flags, s.TCPFlags)
		if head&headICMP != 0 {
			dst = append(dst, s.ICMPType, s.ICMPCode)
		}
		if head&headARP != 0 {
			dst = append(dst, s.ARPOp)
		}
		if head&headDNS != 0 {
			dst = append(dst, s.DNSRCode, s.DNSQNameLen)
			dst = binary.AppendUvarint(dst, uint64(s.DNSQType))
		}
	}
	return dst
}

// allMicros reports whether every time in sums is a whole microsecond.
func allMicros(sums []packet.Summary) bool {
	for i := range sums {
		if sums[i].Time%1000 != 0 {
			return false
		}
	}
	return true
}

// family returns the family tag of a.
func family(a netip.Addr) byte {
	switch {
	case !a.IsValid():
		return famNone
	case a.Is4():
		return famV4
	case a.Zone() != "":
		return famV6Z
	default:
		return famV6
	}
}

// appendAddr appends the bytes of a that follow its family tag. Zones longer
// than maxZone bytes are cut (netip never produces them from a capture).
func appendAddr(dst []byte, a netip.Addr) []byte {
	switch family(a) {
	case famV4:
		b := a.As4()
		return append(dst, b[:]...)
	case famV6:
		b := a.As16()
		return append(dst, b[:]...)
	case famV6Z:
		b := a.As16()
		dst = append(dst, b[:]...)
		z := a.Zone()
		if len(z) > maxZone {
			z = z[:maxZone]
		}
		dst = binary.AppendUvarint(dst, uint64(len(z)))
		return append(dst, z...)
	}
	return dst
}

// DecodePacketBatch decodes a packet batch record, appending the summaries to
// dst[:0] and returning the extended slice. When dst has capacity for the
// whole batch DecodePacketBatch does not allocate (addresses with IPv6 zones
// excepted). Counts that the remaining bytes cannot hold are rejected before
// anything is allocated. On error the returned slice holds the summaries
// decoded so far.
//
// Errors wrap ErrUnknownVersion, ErrTruncated or ErrCorrupt.
func DecodePacketBatch(b []byte, dst []packet.Summary) ([]packet.Summary, error) {
	dst = dst[:0]
	if len(b) < 3 {
		return dst, fmt.Errorf("codecs: packet batch: header of %d bytes: %w", len(b), ErrTruncated)
	}
	if b[0] != PacketBatchMagic {
		return dst, fmt.Errorf("codecs: packet batch: magic byte %#02x, want %#02x: %w", b[0], PacketBatchMagic, ErrCorrupt)
	}
	if b[1] != PacketBatchVersion {
		return dst, fmt.Errorf("codecs: packet batch: version %d: %w", b[1], ErrUnknownVersion)
	}
	bflags := b[2]
	if bflags&batchReserved != 0 {
		return dst, fmt.Errorf("codecs: packet batch: reserved flag bits %#02x set: %w", bflags&batchReserved, ErrCorrupt)
	}
	p := 3
	count, n := binary.Uvarint(b[p:])
	if n <= 0 {
		return dst, varintErr("packet batch: count", n)
	}
	p += n
	if count == 0 {
		if p != len(b) {
			return dst, fmt.Errorf("codecs: packet batch: %d trailing bytes: %w", len(b)-p, ErrCorrupt)
		}
		return dst, nil
	}
	if len(b)-p < 8 {
		return dst, fmt.Errorf("codecs: packet batch: base time: %w", ErrTruncated)
	}
	prev := int64(binary.LittleEndian.Uint64(b[p:]))
	p += 8
	if rest := uint64(len(b) - p); count > rest/minRecord {
		return dst, fmt.Errorf("codecs: packet batch: count %d needs at least %d bytes, have %d: %w",
			count, count*minRecord, rest, ErrTruncated)
	}
	micros := bflags&batchMicros != 0
	if cap(dst) < int(count) {
		dst = make([]packet.Summary, 0, int(count))
	}
	dst = dst[:count]
	for i := range dst {
		s := &dst[i]
		d, n := binary.Varint(b[p:])
		if n <= 0 {
			return dst[:i], recErr(i, "time delta", varintErr("", n))
		}
		p += n
		prev += d
		if micros {
			if prev > math.MaxInt64/1000 || prev < math.MinInt64/1000 {
				return dst[:i], recErr(i, "time", fmt.Errorf("%d µs out of range: %w", prev, ErrCorrupt))
			}
			s.Time = prev * 1000
		} else {
			s.Time = prev
		}
		if p >= len(b) {
			return dst[:i], recErr(i, "head", ErrTruncated)
		}
		head := b[p]
		p++
		var err error
		if s.Src, p, err = decodeAddr(b, p, head&3); err != nil {
			return dst[:i], recErr(i, "source address", err)
		}
		if s.Dst, p, err = decodeAddr(b, p, head>>2&3); err != nil {
			return dst[:i], recErr(i, "destination address", err)
		}
		s.SrcPort, s.DstPort = 0, 0
		if head&headPorts != 0 {
			if len(b)-p < 4 {
				return dst[:i], recErr(i, "ports", ErrTruncated)
			}
			s.SrcPort = uint16(b[p])<<8 | uint16(b[p+1])
			s.DstPort = uint16(b[p+2])<<8 | uint16(b[p+3])
			p += 4
		}
		l, n := binary.Uvarint(b[p:])
		if n <= 0 {
			return dst[:i], recErr(i, "length", varintErr("", n))
		}
		if l > math.MaxUint32 {
			return dst[:i], recErr(i, "length", fmt.Errorf("%d out of range: %w", l, ErrCorrupt))
		}
		s.Length = uint32(l)
		p += n
		if len(b)-p < 3 {
			return dst[:i], recErr(i, "proto and flags", ErrTruncated)
		}
		s.Proto, s.Flags, s.TCPFlags = b[p], b[p+1], b[p+2]
		p += 3
		s.ICMPType, s.ICMPCode = 0, 0
		if head&headICMP != 0 {
			if len(b)-p < 2 {
				return dst[:i], recErr(i, "ICMP", ErrTruncated)
			}
			s.ICMPType, s.ICMPCode = b[p], b[p+1]
			p += 2
		}
		s.ARPOp = 0
		if head&headARP != 0 {
			if p >= len(b) {
				return dst[:i], recErr(i, "ARP", ErrTruncated)
			}
			s.ARPOp = b[p]
			p++
		}
		s.DNSRCode, s.DNSQNameLen, s.DNSQType = 0, 0, 0
		if head&headDNS != 0 {
			if len(b)-p < 3 {
				return dst[:i], recErr(i, "DNS", ErrTruncated)
			}
			s.DNSRCode, s.DNSQNameLen = b[p], b[p+1]
			p += 2
			qt, n := binary.Uvarint(b[p:])
			if n <= 0 {
				return dst[:i], recErr(i, "DNS query type", varintErr("", n))
			}
			if qt > math.MaxUint16 {
				return dst[:i], recErr(i, "DNS query type", fmt.Errorf("%d out of range: %w", qt, ErrCorrupt))
			}
			s.DNSQType = uint16(qt)
			p += n
		}
	}
	if p != len(b) {
		return dst, fmt.Errorf("codecs: packet batch: %d trailing bytes: %w", len(b)-p, ErrCorrupt)
	}
	return dst, nil
}

// decodeAddr decodes the address bytes of family fam at b[p:] and returns the
// address and the offset after it.
func decodeAddr(b []byte, p int, fam byte) (netip.Addr, int, error) {
	switch fam {
	case famV4:
		if len(b)-p < 4 {
			return netip.Addr{}, p, ErrTruncated
		}
		return netip.AddrFrom4([4]byte(b[p : p+4])), p + 4, nil
	case famV6, famV6Z:
		if len(b)-p < 16 {
			return netip.Addr{}, p, ErrTruncated
		}
		a := netip.AddrFrom16([16]byte(b[p : p+16]))
		p += 16
		if fam == famV6 {
			return a, p, nil
		}
		zl, n := binary.Uvarint(b[p:])
		if n <= 0 {
			return netip.Addr{}, p, varintErr("zone length", n)
		}
		p += n
		if zl == 0 || zl > maxZone {
			return netip.Addr{}, p, fmt.Errorf("zone length %d: %w", zl, ErrCorrupt)
		}
		if uint64(len(b)-p) < zl {
			return netip.Addr{}, p, fmt.Errorf("zone: %w", ErrTruncated)
		}
		return a.WithZone(string(b[p : p+int(zl)])), p + int(zl), nil
	}
	return netip.Addr{}, p, nil
}

// varintErr describes a failed binary.Uvarint or binary.Varint (n <= 0).
func varintErr(what string, n int) error {
	sentinel := ErrTruncated
	if n < 0 {
		sentinel = ErrCorrupt // overflows 64 bits
	}
	if what == "" {
		return fmt.Errorf("varint: %w", sentinel)
	}
	return fmt.Errorf("codecs: %s: varint: %w", what, sentinel)
}

// recErr wraps err with the index of the summary and the field being read.
func recErr(i int, field string, err error) error {
	return fmt.Errorf("codecs: packet batch: summary %d: %s: %w", i, field, err)
}
