package packet

import (
	"bufio"
	"compress/flate"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// maxCaptureLen is the largest captured frame accepted, as in Wireshark
// (WTAP_MAX_PACKET_SIZE_STANDARD); a larger capture length means the file is
// corrupt.
const maxCaptureLen = 262144

// pcap magic numbers, as read little-endian.
const (
	pcapMagicMicros   = 0xA1B2C3D4
	pcapMagicNanos    = 0xA1B23C4D
	pcapMagicMicrosBE = 0xD4C3B2A1
	pcapMagicNanosBE  = 0x4D3CB2A1
)

// source yields the records of a capture file. data is valid until the next
// call.
type source interface {
	next() (data []byte, link uint32, ts int64, wireLen int, err error)
}

// pcapSource reads the classic libpcap format. Unlike pcapgo.Reader it keeps
// the whole link type, accepts capture lengths above the header's snap length
// or the wire length (as Wireshark does) and bounds its buffer.
type pcapSource struct {
	r      *bufio.Reader
	be     bool
	factor int64 // nanoseconds per fraction unit
	link   uint32
	// swapped: libpcap before 2.3 wrote the wire length before the capture
	// length; 2.3 files may or may not (Wireshark's rule).
	swapped, maybeSwapped bool
	hdr                   [16]byte
	buf                   []byte
	n                     uint64 // records read
}

func newPcapSource(r *bufio.Reader) (*pcapSource, error) {
	var h [24]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return nil, readError(err, "pcap file header")
	}
	p := &pcapSource{r: r}
	switch binary.LittleEndian.Uint32(h[0:4]) {
	case pcapMagicMicros:
		p.factor = 1000
	case pcapMagicNanos:
		p.factor = 1
	case pcapMagicMicrosBE:
		p.be, p.factor = true, 1000
	case pcapMagicNanosBE:
		p.be, p.factor = true, 1
	default:
		return nil, ErrUnknownFormat
	}
	if major := p.u16(h[4:6]); major != 2 {
		return nil, fmt.Errorf("%w: pcap version %d.%d", ErrUnknownFormat, major, p.u16(h[6:8]))
	}
	switch minor := p.u16(h[6:8]); {
	case minor < 3:
		p.swapped = true
	case minor == 3:
		p.maybeSwapped = true
	}
	// The upper 16 bits hold FCS information and reserved bits.
	p.link = p.u32(h[20:24]) & 0xFFFF
	return p, nil
}

func (p *pcapSource) u16(b []byte) uint16 {
	if p.be {
		return binary.BigEndian.Uint16(b)
	}
	return binary.LittleEndian.Uint16(b)
}

func (p *pcapSource) u32(b []byte) uint32 {
	if p.be {
		return binary.BigEndian.Uint32(b)
	}
	return binary.LittleEndian.Uint32(b)
}

func (p *pcapSource) next() ([]byte, uint32, int64, int, error) {
	if _, err := io.ReadFull(p.r, p.hdr[:]); err != nil {
		if err == io.EOF {
			return nil, 0, 0, 0, io.EOF
		}
		return nil, 0, 0, 0, readError(err, "record %d header", p.n+1)
	}
	p.n++
	capLen, wire := p.u32(p.hdr[8:12]), p.u32(p.hdr[12:16])
	if p.swapped || (p.maybeSwapped && capLen > wire) {
		capLen, wire = wire, capLen
	}
	if capLen > maxCaptureLen {
		return nil, 0, 0, 0, fmt.Errorf("%w: record %d: capture length %d above %d", ErrCorruptFile, p.n, capLen, maxCaptureLen)
	}
	if int(capLen) > cap(p.buf) {
		p.buf = make([]byte, max(int(capLen), 65536))
	}
	data := p.buf[:capLen]
	if _, err := io.ReadFull(p.r, data); err != nil {
		return nil, 0, 0, 0, readError(err, "record %d data", p.n)
	}
	ts := int64(p.u32(p.hdr[0:4]))*1e9 + int64(p.u32(p.hdr[4:8]))*p.factor
	return data, p.link, ts, int(wire), nil
}

// readError describes an error met reading what (a format string with
// args). The end of the input inside a header or record and damaged gzip
// data wrap ErrCorruptFile; other errors are input errors and only wrapped.
func readError(err error, what string, args ...any) error {
	what = fmt.Sprintf(what, args...)
	var flateErr flate.CorruptInputError
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%w: %s: %w", ErrCorruptFile, what, io.ErrUnexpectedEOF)
	case errors.Is(err, gzip.ErrChecksum), errors.Is(err, gzip.ErrHeader), errors.As(err, &flateErr):
		return fmt.Errorf("%w: %s: %w", ErrCorruptFile, what, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}
