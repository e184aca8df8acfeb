package packet

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math/bits"
)

// pcapng block types.
const (
	ngSectionHeader       = 0x0A0D0D0A
	ngInterfaceDescriptor = 0x00000001
	ngObsoletePacket      = 0x00000002
	ngSimplePacket        = 0x00000003
	ngEnhancedPacket      = 0x00000006
	ngByteOrderMagic      = 0x1A2B3C4D
)

// pcapng interface options.
const (
	ngOptEnd      = 0
	ngOptTSResol  = 9
	ngOptTSOffset = 14
)

// ngMaxBlock is the largest block accepted, as in Wireshark; a larger block
// length means the file is corrupt.
const ngMaxBlock = 16 << 20

// ngIface is what the reader keeps of an interface description block.
type ngIface struct {
	link uint32
	snap uint32
	// Timestamp units: 10^-exp seconds, or 2^-exp seconds if pow2.
	pow2   bool
	exp    uint8
	offset int64 // seconds
}

// nanos converts a timestamp in the interface's units to nanoseconds since
// the epoch. Overflow wraps; it cannot panic.
func (i *ngIface) nanos(ts uint64) int64 {
	var ns int64
	if i.pow2 {
		sec := ts >> i.exp
		frac := ts & (1<<i.exp - 1)
		hi, lo := bits.Mul64(frac, 1e9)
		// (hi:lo) >> exp; exp is below 64 here, and a shift by 64 is zero.
		ns = int64(sec)*1e9 + int64(hi<<(64-i.exp)|lo>>i.exp)
	} else if i.exp <= 9 {
		ns = int64(ts * pow10[9-i.exp])
	} else {
		ns = int64(ts / pow10[i.exp-9])
	}
	return ns + i.offset*1e9
}

var pow10 = [20]uint64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19}

// pcapngSource reads pcapng: any number of sections, each with its own byte
// order and interfaces, each interface with its own link type and timestamp
// resolution. Unlike pcapgo.NgReader it keeps link types above 255 (Linux
// SLL2 is 276), never panics on malformed options and bounds its buffers.
type pcapngSource struct {
	r      *bufio.Reader
	be     bool
	ifaces []ngIface
	hdr    [12]byte
	buf    []byte
	n      uint64 // blocks read
}

func newPcapngSource(r *bufio.Reader) (*pcapngSource, error) {
	p := &pcapngSource{r: r}
	if _, err := io.ReadFull(r, p.hdr[:8]); err != nil {
		return nil, readError(err, "pcapng section header")
	}
	if binary.LittleEndian.Uint32(p.hdr[:4]) != ngSectionHeader {
		return nil, ErrUnknownFormat
	}
	if err := p.sectionHeader(); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *pcapngSource) u16(b []byte) uint16 {
	if p.be {
		return binary.BigEndian.Uint16(b)
	}
	return binary.LittleEndian.Uint16(b)
}

func (p *pcapngSource) u32(b []byte) uint32 {
	if p.be {
		return binary.BigEndian.Uint32(b)
	}
	return binary.LittleEndian.Uint32(b)
}

func (p *pcapngSource) corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: pcapng block %d: %s", ErrCorruptFile, p.n, fmt.Sprintf(format, args...))
}

// sectionHeader reads the rest of a section header block whose first 8
// bytes are in p.hdr, and starts a new section.
func (p *pcapngSource) sectionHeader() error {
	p.n++
	if _, err := io.ReadFull(p.r, p.hdr[8:12]); err != nil {
		return readError(err, "pcapng block %d", p.n)
	}
	switch binary.LittleEndian.Uint32(p.hdr[8:12]) {
	case ngByteOrderMagic:
		p.be = false
	case bits.ReverseBytes32(ngByteOrderMagic):
		p.be = true
	default:
		return p.corrupt("bad byte-order magic")
	}
	blen := p.u32(p.hdr[4:8])
	if blen < 28 || blen%4 != 0 || blen > ngMaxBlock {
		return p.corrupt("section header length %d", blen)
	}
	body, err := p.body(blen - 12)
	if err != nil {
		return err
	}
	if major := p.u16(body[0:2]); major != 1 {
		return p.corrupt("pcapng version %d.%d", major, p.u16(body[2:4]))
	}
	p.ifaces = p.ifaces[:0]
	return nil
}

// body reads the n remaining bytes of a block, which end with the repeated
// block length.
func (p *pcapngSource) body(n uint32) ([]byte, error) {
	if int(n) > cap(p.buf) {
		p.buf = make([]byte, max(int(n), 65536))
	}
	b := p.buf[:n]
	if _, err := io.ReadFull(p.r, b); err != nil {
		return nil, readError(err, "pcapng block %d", p.n)
	}
	if p.u32(b[n-4:]) != p.u32(p.hdr[4:8]) {
		return nil, p.corrupt("trailing length %d differs from %d", p.u32(b[n-4:]), p.u32(p.hdr[4:8]))
	}
	return b[:n-4], nil
}

func (p *pcapngSource) next() ([]byte, uint32, int64, int, error) {
	for {
		if _, err := io.ReadFull(p.r, p.hdr[:8]); err != nil {
			if err == io.EOF {
				return nil, 0, 0, 0, io.EOF
			}
			return nil, 0, 0, 0, readError(err, "pcapng block %d", p.n+1)
		}
		typ := p.u32(p.hdr[0:4])
		if typ == ngSectionHeader {
			if err := p.sectionHeader(); err != nil {
				return nil, 0, 0, 0, err
			}
			continue
		}
		p.n++
		blen := p.u32(p.hdr[4:8])
		if blen < 12 || blen%4 != 0 || blen > ngMaxBlock {
			return nil, 0, 0, 0, p.corrupt("length %d", blen)
		}
		switch typ {
		case ngInterfaceDescriptor, ngEnhancedPacket, ngSimplePacket, ngObsoletePacket:
		default:
			if _, err := p.r.Discard(int(blen - 8)); err != nil {
				return nil, 0, 0, 0, readError(err, "pcapng block %d", p.n)
			}
			continue
		}
		body, err := p.body(blen - 8)
		if err != nil {
			return nil, 0, 0, 0, err
		}
		switch typ {
		case ngInterfaceDescriptor:
			if err := p.interfaceDescriptor(body); err != nil {
				return nil, 0, 0, 0, err
			}
		case ngEnhancedPacket:
			if len(body) < 20 {
				return nil, 0, 0, 0, p.corrupt("enhanced packet block too short")
			}
			return p.packet(body[20:], p.u32(body[0:4]), uint64(p.u32(body[4:8]))<<32|uint64(p.u32(body[8:12])),
				p.u32(body[12:16]), p.u32(body[16:20]))
		case ngObsoletePacket:
			if len(body) < 20 {
				return nil, 0, 0, 0, p.corrupt("packet block too short")
			}
			return p.packet(body[20:], uint32(p.u16(body[0:2])), uint64(p.u32(body[4:8]))<<32|uint64(p.u32(body[8:12])),
				p.u32(body[12:16]), p.u32(body[16:20]))
		case ngSimplePacket:
			if len(body) < 4 {
				return nil, 0, 0, 0, p.corrupt("simple packet block too short")
			}
			if len(p.ifaces) == 0 {
				return nil, 0, 0, 0, p.corrupt("simple packet before any interface")
			}
			wire := p.u32(body[0:4])
			capLen := min(wire, uint32(len(body)-4))
			if snap := p.ifaces[0].snap; snap != 0 {
				capLen = min(capLen, snap)
			}
			return body[4 : 4+capLen], p.ifaces[0].link, 0, int(wire), nil
		}
	}
}

// packet returns the frame of an enhanced or obsolete packet block; rest is
// the block body after the fixed fields.
func (p *pcapngSource) packet(rest []byte, iface uint32, ts uint64, capLen, wire uint32) ([]byte, uint32, int64, int, error) {
	if iface >= uint32(len(p.ifaces)) {
		return nil, 0, 0, 0, p.corrupt("interface %d not declared (%d interfaces)", iface, len(p.ifaces))
	}
	if capLen > uint32(len(rest)) || capLen > maxCaptureLen {
		return nil, 0, 0, 0, p.corrupt("capture length %d exceeds block", capLen)
	}
	ifc := &p.ifaces[iface]
	return rest[:capLen], ifc.link, ifc.nanos(ts), int(wire), nil
}

// interfaceDescriptor adds the interface described by body.
func (p *pcapngSource) interfaceDescriptor(body []byte) error {
	if len(body) < 8 {
		return p.corrupt("interface description block too short")
	}
	ifc := ngIface{
		link: uint32(p.u16(body[0:2])),
		snap: p.u32(body[4:8]),
		exp:  6,
	}
	opts := body[8:]
	for len(opts) >= 4 {
		code, n := p.u16(opts[0:2]), int(p.u16(opts[2:4]))
		if code == ngOptEnd || 4+n > len(opts) {
			break
		}
		v := opts[4 : 4+n]
		switch {
		case code == ngOptTSResol && n >= 1:
			pow2, exp := v[0]&0x80 != 0, v[0]&0x7F
			if (pow2 && exp < 64) || (!pow2 && exp < uint8(len(pow10))+9) {
				ifc.pow2, ifc.exp = pow2, exp
			}
		case code == ngOptTSOffset && n >= 8:
			if p.be {
				ifc.offset = int64(binary.BigEndian.Uint64(v))
			} else {
				ifc.offset = int64(binary.LittleEndian.Uint64(v))
			}
		}
		opts = opts[min(4+(n+3)&^3, len(opts)):]
	}
	p.ifaces = append(p.ifaces, ifc)
	return nil
}
