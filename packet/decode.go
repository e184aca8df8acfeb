package packet

import (
	"encoding/binary"
	"math"
	"net/netip"

	"github.com/google/gopacket/layers"
)

// Link types the Decoder knows, as numbered in pcap and pcapng headers.
// Linux SLL2 (276) does not fit in layers.LinkType (a uint8 in gopacket
// v1.1.19), so only the Reader, which keeps the 32-bit link type of the
// file, decodes it.
const (
	linkNull      = 0
	linkEthernet  = 1
	linkPPP       = 9
	linkRawAlt12  = 12
	linkRawAlt14  = 14
	linkPPPHDLC   = 50
	linkRaw       = 101
	linkCHDLC     = 104
	linkLoop      = 108
	linkLinuxSLL  = 113
	linkIPv4      = 228
	linkIPv6      = 229
	linkLinuxSLL2 = 276
)

// EtherTypes and PPP protocols the Decoder follows.
const (
	etherIPv4      = 0x0800
	etherARP       = 0x0806
	etherVLAN      = 0x8100
	etherIPv6      = 0x86DD
	etherMPLS      = 0x8847
	etherMPLSMulti = 0x8848
	etherPPPoE     = 0x8864
	etherQinQ      = 0x88A8
	etherQinQOld   = 0x9100

	pppIPv4 = 0x0021
	pppIPv6 = 0x0057
)

// maxLinkHeaders bounds the VLAN tags and MPLS labels the Decoder skips.
const maxLinkHeaders = 16

// maxIPv6ExtHeaders bounds the IPv6 extension headers the Decoder skips.
const maxIPv6ExtHeaders = 8

// A Decoder decodes frames into Summaries. The zero value is ready to use.
// Decode never allocates and never panics. A Decoder keeps no state between
// calls today; still, give each goroutine its own, so that adding state
// later (per-decoder counters, options) changes no caller.
type Decoder struct{}

// NewDecoder returns a Decoder.
func NewDecoder() *Decoder { return &Decoder{} }

// Decode decodes one captured frame of the given link type into s,
// overwriting every field. ts is the capture time in nanoseconds since the
// Unix epoch and wireLen the frame's length on the wire (if it is smaller
// than len(data), len(data) is used).
//
// It returns nil when s holds a decoded IPv4, IPv6 or ARP packet (possibly
// with FlagTruncated or FlagFragment set), or a Reason saying why the frame
// could not be decoded; s then holds only Time and Length. Decode does not
// retain data. Tunnels and the packets quoted by ICMP errors are not looked
// into: an ICMP error's Summary has the ICMP type and code and no ports.
func (d *Decoder) Decode(data []byte, linkType layers.LinkType, ts int64, wireLen int, s *Summary) error {
	return d.decode(data, uint32(linkType), ts, wireLen, s)
}

// decode is Decode with the full 32-bit link type of capture file headers.
func (d *Decoder) decode(data []byte, link uint32, ts int64, wireLen int, s *Summary) error {
	if wireLen < len(data) {
		wireLen = len(data)
	}
	if wireLen > math.MaxUint32 {
		wireLen = math.MaxUint32
	}
	*s = Summary{Time: ts, Length: uint32(wireLen)}
	var err error
	switch link {
	case linkEthernet:
		if len(data) < 14 {
			return ReasonTruncatedLink
		}
		err = etherType(binary.BigEndian.Uint16(data[12:14]), data[14:], s)
	case linkLinuxSLL:
		if len(data) < 16 {
			return ReasonTruncatedLink
		}
		err = etherType(binary.BigEndian.Uint16(data[14:16]), data[16:], s)
	case linkLinuxSLL2:
		if len(data) < 20 {
			return ReasonTruncatedLink
		}
		err = etherType(binary.BigEndian.Uint16(data[0:2]), data[20:], s)
	case linkRaw, linkRawAlt12, linkRawAlt14:
		err = rawIP(data, s)
	case linkIPv4:
		err = ipv4(data, s)
	case linkIPv6:
		err = ipv6(data, s)
	case linkNull, linkLoop:
		err = loopback(data, s)
	case linkPPP, linkPPPHDLC:
		err = ppp(data, s)
	case linkCHDLC:
		if len(data) < 4 {
			return ReasonTruncatedLink
		}
		err = etherType(binary.BigEndian.Uint16(data[2:4]), data[4:], s)
	default:
		return ReasonUnsupportedLink
	}
	if err != nil {
		*s = Summary{Time: ts, Length: uint32(wireLen)}
	}
	return err
}

// etherType decodes the payload p of a link layer that announced EtherType
// et, skipping VLAN tags, a PPPoE session header and MPLS labels.
func etherType(et uint16, p []byte, s *Summary) error {
	for range maxLinkHeaders {
		switch et {
		case etherIPv4:
			return ipv4(p, s)
		case etherIPv6:
			return ipv6(p, s)
		case etherARP:
			return arp(p, s)
		case etherVLAN, etherQinQ, etherQinQOld:
			if len(p) < 4 {
				return ReasonTruncatedLink
			}
			et = binary.BigEndian.Uint16(p[2:4])
			p = p[4:]
		case etherPPPoE:
			if len(p) < 8 {
				return ReasonTruncatedLink
			}
			switch binary.BigEndian.Uint16(p[6:8]) {
			case pppIPv4:
				return ipv4(p[8:], s)
			case pppIPv6:
				return ipv6(p[8:], s)
			}
			return ReasonNonIP
		case etherMPLS, etherMPLSMulti:
			return mpls(p, s)
		default:
			return ReasonNonIP
		}
	}
	return ReasonTruncatedLink
}

// mpls skips an MPLS label stack and decodes the IP packet under it, chosen
// by its version nibble.
func mpls(p []byte, s *Summary) error {
	for range maxLinkHeaders {
		if len(p) < 4 {
			return ReasonTruncatedLink
		}
		bottom := p[2]&1 == 1
		p = p[4:]
		if bottom {
			if len(p) == 0 {
				return ReasonTruncatedLink
			}
			switch p[0] >> 4 {
			case 4:
				return ipv4(p, s)
			case 6:
				return ipv6(p, s)
			}
			return ReasonNonIP
		}
	}
	return ReasonTruncatedLink
}

// rawIP decodes a raw IP packet, IPv4 or IPv6 by its version nibble.
func rawIP(p []byte, s *Summary) error {
	if len(p) == 0 {
		return ReasonBadIPHeader
	}
	switch p[0] >> 4 {
	case 4:
		return ipv4(p, s)
	case 6:
		return ipv6(p, s)
	}
	return ReasonIPVersion
}

// loopback decodes a BSD null or OpenBSD loop frame: a 4-byte address family
// in host (null) or network (loop) byte order, guessed from its value.
func loopback(p []byte, s *Summary) error {
	if len(p) < 4 {
		return ReasonTruncatedLink
	}
	var family uint32
	if p[0] == 0 && p[1] == 0 {
		family = binary.BigEndian.Uint32(p[:4])
	} else {
		family = binary.LittleEndian.Uint32(p[:4])
	}
	switch family {
	case 2: // AF_INET everywhere
		return ipv4(p[4:], s)
	case 24, 28, 30: // AF_INET6 on NetBSD/OpenBSD, FreeBSD, Darwin
		return ipv6(p[4:], s)
	}
	return ReasonNonIP
}

// ppp decodes a PPP frame with or without the HDLC address and control
// bytes, with a one- or two-byte protocol field.
func ppp(p []byte, s *Summary) error {
	if len(p) >= 2 && p[0] == 0xFF && p[1] == 0x03 {
		p = p[2:]
	}
	if len(p) == 0 {
		return ReasonTruncatedLink
	}
	var proto uint16
	if p[0]&1 == 1 { // compressed protocol field
		proto = uint16(p[0])
		p = p[1:]
	} else {
		if len(p) < 2 {
			return ReasonTruncatedLink
		}
		proto = binary.BigEndian.Uint16(p[:2])
		p = p[2:]
	}
	switch proto {
	case pppIPv4:
		return ipv4(p, s)
	case pppIPv6:
		return ipv6(p, s)
	}
	return ReasonNonIP
}

// arp decodes an ARP message mapping IPv4 addresses.
func arp(p []byte, s *Summary) error {
	if len(p) < 8 {
		return ReasonBadARP
	}
	hlen := int(p[4])
	if binary.BigEndian.Uint16(p[2:4]) != etherIPv4 || p[5] != 4 || len(p) < 8+2*hlen+8 {
		return ReasonBadARP
	}
	op := binary.BigEndian.Uint16(p[6:8])
	if op <= math.MaxUint8 {
		s.ARPOp = uint8(op)
	}
	s.Flags |= FlagARP
	s.Src = netip.AddrFrom4([4]byte(p[8+hlen : 12+hlen]))
	s.Dst = netip.AddrFrom4([4]byte(p[12+2*hlen : 16+2*hlen]))
	return nil
}

// ipv4 decodes an IPv4 packet and its transport header.
func ipv4(p []byte, s *Summary) error {
	if len(p) == 0 {
		return ReasonBadIPHeader
	}
	if p[0]>>4 != 4 {
		return ReasonIPVersion
	}
	if len(p) < 20 {
		return ReasonBadIPHeader
	}
	ihl := int(p[0]&0x0F) * 4
	if ihl < 20 || ihl > len(p) {
		return ReasonBadIPHeader
	}
	total := int(binary.BigEndian.Uint16(p[2:4]))
	if total == 0 {
		total = len(p) // TCP segmentation offload leaves the length zero
	}
	if total < ihl {
		return ReasonBadIPHeader
	}
	if total < len(p) {
		p = p[:total] // link-layer padding
	}
	s.Src = netip.AddrFrom4([4]byte(p[12:16]))
	s.Dst = netip.AddrFrom4([4]byte(p[16:20]))
	s.Proto = p[9]
	frag := binary.BigEndian.Uint16(p[6:8])
	if frag&0x3FFF != 0 { // more fragments or an offset
		s.Flags |= FlagFragment
		if frag&0x1FFF != 0 {
			return nil // not the first fragment: no transport header
		}
	}
	transport(s.Proto, p[ihl:], s)
	return nil
}

// ipv6 decodes an IPv6 packet, skipping extension headers, and its transport
// header.
func ipv6(p []byte, s *Summary) error {
	if len(p) == 0 {
		return ReasonBadIPHeader
	}
	if p[0]>>4 != 6 {
		return ReasonIPVersion
	}
	if len(p) < 40 {
		return ReasonBadIPHeader
	}
	s.Src = netip.AddrFrom16([16]byte(p[8:24]))
	s.Dst = netip.AddrFrom16([16]byte(p[24:40]))
	body := p[40:]
	if n := int(binary.BigEndian.Uint16(p[4:6])); n != 0 && n < len(body) {
		body = body[:n] // zero means a jumbogram or segmentation offload
	}
	next := p[6]
	for range maxIPv6ExtHeaders {
		var n int
		switch next {
		case 0, 43, 60, 135, 139, 140: // hop-by-hop, routing, destination, mobility, HIP, shim6
			if len(body) >= 2 {
				n = (int(body[1]) + 1) * 8
			}
		case 51: // authentication header
			if len(body) >= 2 {
				n = (int(body[1]) + 2) * 4
			}
		case 44: // fragment
			n = 8
			if len(body) >= 8 {
				off := binary.BigEndian.Uint16(body[2:4])
				if off&0xFFF9 != 0 { // offset or more fragments
					s.Flags |= FlagFragment
				}
				if off&0xFFF8 != 0 {
					s.Proto = body[0]
					return nil
				}
			}
		default:
			s.Proto = next
			transport(next, body, s)
			return nil
		}
		if n == 0 || n > len(body) {
			s.Proto = next
			s.Flags |= FlagTruncated
			return nil
		}
		next = body[0]
		body = body[n:]
	}
	s.Proto = next
	return nil
}

// transport decodes the TCP, UDP, ICMP or ICMPv6 header in p. A header cut
// short or malformed sets FlagTruncated; what could be read is kept.
func transport(proto uint8, p []byte, s *Summary) {
	switch proto {
	case ProtoTCP:
		tcp(p, s)
	case ProtoUDP:
		udp(p, s)
	case ProtoICMP, ProtoICMPv6:
		if len(p) >= 2 {
			s.ICMPType, s.ICMPCode = p[0], p[1]
		}
		if len(p) < 4 {
			s.Flags |= FlagTruncated
		}
	}
}

func tcp(p []byte, s *Summary) {
	if len(p) >= 4 {
		s.SrcPort = binary.BigEndian.Uint16(p[0:2])
		s.DstPort = binary.BigEndian.Uint16(p[2:4])
	}
	if len(p) >= 14 {
		s.TCPFlags = p[13]
	}
	if len(p) < 20 {
		s.Flags |= FlagTruncated
		return
	}
	off := int(p[12]>>4) * 4
	if off < 20 || off > len(p) {
		s.Flags |= FlagTruncated
		return
	}
	if s.SrcPort == 53 || s.DstPort == 53 {
		// DNS over TCP: a 2-byte length precedes the message.
		if payload := p[off:]; len(payload) > 2 {
			parseDNS(payload[2:], s)
		}
	}
}

func udp(p []byte, s *Summary) {
	if len(p) >= 4 {
		s.SrcPort = binary.BigEndian.Uint16(p[0:2])
		s.DstPort = binary.BigEndian.Uint16(p[2:4])
	}
	if len(p) < 8 {
		s.Flags |= FlagTruncated
		return
	}
	payload := p[8:]
	switch n := int(binary.BigEndian.Uint16(p[4:6])); {
	case n >= 8:
		if n-8 < len(payload) {
			payload = payload[:n-8]
		}
	case n != 0: // zero: a jumbogram or segmentation offload
		s.Flags |= FlagTruncated
		return
	}
	if isDNSPort(s.SrcPort) || isDNSPort(s.DstPort) {
		parseDNS(payload, s)
	}
}

func isDNSPort(port uint16) bool { return port == 53 || port == 5353 }
