package packet

import "encoding/binary"

// DNS parsing limits.
const (
	dnsHeaderLen = 12
	// dnsMaxPointers bounds the compression pointers followed in a name,
	// so that pointer loops end.
	dnsMaxPointers = 16
	// dnsMaxNameLen caps Summary.DNSQNameLen.
	dnsMaxNameLen = 255
)

// parseDNS parses the header and first question of the DNS message m and, if
// they are well formed, sets FlagDNS, FlagDNSResponse, DNSRCode,
// DNSQNameLen and DNSQType in s. It reports whether it did. It does not
// allocate.
func parseDNS(m []byte, s *Summary) bool {
	if len(m) < dnsHeaderLen {
		return false
	}
	flags := binary.BigEndian.Uint16(m[2:4])
	if opcode := flags >> 11 & 0xF; opcode == 3 || opcode > 6 {
		return false // unassigned opcodes: most likely not DNS
	}
	var nameLen int
	var qtype uint16
	if binary.BigEndian.Uint16(m[4:6]) > 0 {
		n, end, ok := dnsName(m, dnsHeaderLen)
		if !ok || end+4 > len(m) {
			return false
		}
		nameLen = n
		qtype = binary.BigEndian.Uint16(m[end : end+2])
	}
	s.Flags |= FlagDNS
	if flags&0x8000 != 0 {
		s.Flags |= FlagDNSResponse
	}
	s.DNSRCode = uint8(flags & 0xF)
	s.DNSQNameLen = uint8(min(nameLen, dnsMaxNameLen))
	s.DNSQType = qtype
	return true
}

// dnsName walks the name starting at m[off], following compression pointers
// (only backwards, at most dnsMaxPointers of them). It returns the length of
// the dotted name without the trailing dot (0 for the root), capped at
// dnsMaxNameLen, and the offset just past the name in the original sequence.
func dnsName(m []byte, off int) (nameLen, end int, ok bool) {
	end = -1
	pointers := 0
	labels := 0
	for off < len(m) {
		c := int(m[off])
		switch c & 0xC0 {
		case 0x00:
			if c == 0 {
				if end < 0 {
					end = off + 1
				}
				return min(nameLen, dnsMaxNameLen), end, true
			}
			if off+1+c > len(m) {
				return 0, 0, false
			}
			if labels > 0 {
				nameLen++ // the dot
			}
			nameLen += c
			labels++
			off += 1 + c
		case 0xC0:
			if off+2 > len(m) {
				return 0, 0, false
			}
			ptr := int(binary.BigEndian.Uint16(m[off:off+2]) & 0x3FFF)
			if end < 0 {
				end = off + 2
			}
			if ptr >= off || pointers == dnsMaxPointers {
				return 0, 0, false
			}
			pointers++
			off = ptr
		default: // extended label types (0x40, 0x80) are obsolete
			return 0, 0, false
		}
	}
	return 0, 0, false
}
