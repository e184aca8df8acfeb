package packet

import (
	"encoding/binary"
	"errors"
	"math"
	"net/netip"

	"github.com/google/gopacket"
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

// maxLinkHeaders bounds the VLAN tags and MPLS labels the Decoder skips: the
// 16th VLAN tag or MPLS label makes a frame ReasonTruncatedLink.
const maxLinkHeaders = 16

// maxIPv6ExtHeaders bounds the IPv6 extension headers the Decoder skips;
// after that many the packet counts as decoded without its transport header.
const maxIPv6ExtHeaders = 8

// errTruncated is returned by an IPv6 extension header layer cut short. It
// stops the DecodingLayerParser; the Decoder counts the packet as decoded
// with FlagTruncated.
var errTruncated = errors.New("packet: ipv6 extension header cut short")

// A Decoder decodes frames into Summaries. The zero value is ready to use;
// it sets itself up (allocating its layers and parsers) on first use.
// Decode never allocates after that and never panics. A Decoder is not safe
// for concurrent use, and a copy of a Decoder that has been used shares its
// state with the original: give each goroutine its own.
//
// Decoding uses gopacket's DecodingLayerParser over preallocated gopacket
// layers (Ethernet, Dot1Q, LinuxSLL, Loopback, ARP, IPv4, IPv6 with
// IPv6ExtensionSkipper, TCP, UDP, ICMPv4, ICMPv6). Each layer sits behind a
// guard that checks what gopacket would reject, panic on or allocate an
// error for, so that gopacket is only called on input it decodes without
// error; the guard returns the Reason itself, or decodes the header by hand
// where the packet must still count as decoded (see each layer type below).
type Decoder struct {
	st *decoderState
}

// NewDecoder returns a Decoder, already set up.
func NewDecoder() *Decoder { return &Decoder{st: newDecoderState()} }

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
	if d.st == nil {
		d.st = newDecoderState()
	}
	if wireLen < len(data) {
		wireLen = len(data)
	}
	if wireLen > math.MaxUint32 {
		wireLen = math.MaxUint32
	}
	*s = Summary{Time: ts, Length: uint32(wireLen)}
	err := d.st.link(data, link, s)
	if err != nil {
		*s = Summary{Time: ts, Length: uint32(wireLen)}
	}
	return err
}

// decoderState holds the preallocated layers and the parsers, one per layer
// a frame can start with, all sharing the same layers.
type decoderState struct {
	eth   etherLayer
	dot1q dot1qLayer
	sll   sllLayer
	loop  loopLayer
	pppoe pppoeLayer
	mpls  mplsLayer
	arp   arpLayer
	ip4   ipv4Layer
	ip6   ipv6Layer
	ext   ipv6ExtLayer
	frag  ipv6FragLayer
	ah    ipv6AHLayer
	tcp   tcpLayer
	udp   udpLayer
	icmp4 icmpv4Layer
	icmp6 icmpv6Layer

	layers gopacket.DecodingLayerContainer

	// Parsers by first layer.
	ethernet, linuxSLL, loopback, ipv4, ipv6, arpFirst, vlan, pppoeFirst, mplsFirst *gopacket.DecodingLayerParser

	decoded []gopacket.LayerType

	// Per-frame counters and flags, reset by run.
	vlans, exts int
	fragment    bool
}

// ipv6ExtClass is what ipv6ExtLayer decodes. IPv6ExtensionSkipper's own
// class also holds the fragment header, which ipv6FragLayer decodes.
var ipv6ExtClass = gopacket.NewLayerClass([]gopacket.LayerType{
	layers.LayerTypeIPv6HopByHop, layers.LayerTypeIPv6Routing, layers.LayerTypeIPv6Destination,
})

func newDecoderState() *decoderState {
	st := &decoderState{decoded: make([]gopacket.LayerType, 0, 32)}
	st.dot1q.st = st
	st.ip6.st = st
	st.ext.st = st
	st.frag.st = st
	st.ah.st = st
	all := []gopacket.DecodingLayer{
		&st.eth, &st.dot1q, &st.sll, &st.loop, &st.pppoe, &st.mpls, &st.arp,
		&st.ip4, &st.ip6, &st.ext, &st.frag, &st.ah,
		&st.tcp, &st.udp, &st.icmp4, &st.icmp6,
	}
	// The sparse container finds a layer by indexing a slice with its
	// LayerType; gopacket's default map costs a hash lookup per layer.
	var c gopacket.DecodingLayerContainer = gopacket.DecodingLayerSparse(nil)
	for _, l := range all {
		c = c.Put(l)
	}
	st.layers = c
	parser := func(first gopacket.LayerType) *gopacket.DecodingLayerParser {
		// The layers come with the shared container: passing them here
		// too would build a map per parser only to drop it.
		p := gopacket.NewDecodingLayerParser(first)
		p.SetDecodingLayerContainer(c)
		p.IgnoreUnsupported = true
		// No recover on the hot path: the guards keep gopacket's layers
		// from panicking (FuzzDecode* check it), and a panic recovered by
		// gopacket would allocate its error.
		p.IgnorePanic = true
		return p
	}
	st.ethernet = parser(layers.LayerTypeEthernet)
	st.linuxSLL = parser(layers.LayerTypeLinuxSLL)
	st.loopback = parser(layers.LayerTypeLoopback)
	st.ipv4 = parser(layers.LayerTypeIPv4)
	st.ipv6 = parser(layers.LayerTypeIPv6)
	st.arpFirst = parser(layers.LayerTypeARP)
	st.vlan = parser(layers.LayerTypeDot1Q)
	st.pppoeFirst = parser(layers.LayerTypePPPoE)
	st.mplsFirst = parser(layers.LayerTypeMPLS)
	return st
}

// link decodes a frame of the given link type. Ethernet, Linux SLL, BSD
// null/loop and raw IP frames start a parser at their first layer; the link
// layers gopacket v1.1.19 has no DecodingLayer for (Linux SLL2, whose link
// type does not even fit in layers.LinkType, PPP and Cisco HDLC) are a
// fixed header and a protocol field, read here.
func (st *decoderState) link(data []byte, link uint32, s *Summary) error {
	switch link {
	case linkEthernet:
		return st.run(st.ethernet, data, s)
	case linkLinuxSLL:
		return st.run(st.linuxSLL, data, s)
	case linkLinuxSLL2:
		if len(data) < 20 {
			return ReasonTruncatedLink
		}
		return st.etherType(binary.BigEndian.Uint16(data[0:2]), data[20:], s)
	case linkRaw, linkRawAlt12, linkRawAlt14:
		if len(data) == 0 {
			return ReasonBadIPHeader
		}
		switch data[0] >> 4 {
		case 4:
			return st.run(st.ipv4, data, s)
		case 6:
			return st.run(st.ipv6, data, s)
		}
		return ReasonIPVersion
	case linkIPv4:
		return st.run(st.ipv4, data, s)
	case linkIPv6:
		return st.run(st.ipv6, data, s)
	case linkNull, linkLoop:
		return st.run(st.loopback, data, s)
	case linkPPP, linkPPPHDLC:
		return st.ppp(data, s)
	case linkCHDLC:
		if len(data) < 4 {
			return ReasonTruncatedLink
		}
		return st.etherType(binary.BigEndian.Uint16(data[2:4]), data[4:], s)
	}
	return ReasonUnsupportedLink
}

// etherType decodes p, announced by EtherType et, with the parser starting
// at the layer et announces.
func (st *decoderState) etherType(et uint16, p []byte, s *Summary) error {
	var parser *gopacket.DecodingLayerParser
	switch etherNext(layers.EthernetType(et)) {
	case layers.LayerTypeIPv4:
		parser = st.ipv4
	case layers.LayerTypeIPv6:
		parser = st.ipv6
	case layers.LayerTypeARP:
		parser = st.arpFirst
	case layers.LayerTypeDot1Q:
		parser = st.vlan
	case layers.LayerTypePPPoE:
		parser = st.pppoeFirst
	case layers.LayerTypeMPLS:
		parser = st.mplsFirst
	default:
		return ReasonNonIP
	}
	return st.run(parser, p, s)
}

// ppp decodes a PPP frame with or without the HDLC address and control
// bytes, with a one- or two-byte protocol field. gopacket's PPP layer is not
// a DecodingLayer and does not take the HDLC bytes.
func (st *decoderState) ppp(p []byte, s *Summary) error {
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
		return st.run(st.ipv4, p, s)
	case pppIPv6:
		return st.run(st.ipv6, p, s)
	}
	return ReasonNonIP
}

// run decodes data with parser p and fills s from the decoded layers.
func (st *decoderState) run(p *gopacket.DecodingLayerParser, data []byte, s *Summary) error {
	st.vlans, st.exts, st.fragment = 0, 0, false
	truncated := false
	if err := p.DecodeLayers(data, &st.decoded); err != nil {
		if !errors.Is(err, errTruncated) {
			return err // a Reason from a guard: gopacket's layers do not fail past them
		}
		truncated = true
	}
	if len(st.decoded) == 0 {
		return ReasonNonIP // not reached: every parser's first layer is registered
	}
	for _, typ := range st.decoded {
		switch typ {
		case layers.LayerTypeIPv4:
			ip := &st.ip4.IPv4
			s.Src = netip.AddrFrom4([4]byte(ip.SrcIP))
			s.Dst = netip.AddrFrom4([4]byte(ip.DstIP))
			s.Proto = uint8(ip.Protocol)
			if ip.Flags&layers.IPv4MoreFragments != 0 || ip.FragOffset != 0 {
				s.Flags |= FlagFragment
			}
		case layers.LayerTypeIPv6:
			ip := &st.ip6.IPv6
			s.Src = netip.AddrFrom16([16]byte(ip.SrcIP))
			s.Dst = netip.AddrFrom16([16]byte(ip.DstIP))
			s.Proto = uint8(ip.NextHeader)
		case layers.LayerTypeIPv6HopByHop, layers.LayerTypeIPv6Routing, layers.LayerTypeIPv6Destination:
			s.Proto = uint8(st.ext.NextHeader)
		case layers.LayerTypeIPSecAH:
			s.Proto = uint8(st.ah.NextHeader)
		case layers.LayerTypeIPv6Fragment:
			s.Proto = uint8(st.frag.NextHeader)
		case layers.LayerTypeARP:
			a := &st.arp.ARP
			if a.Operation <= math.MaxUint8 {
				s.ARPOp = uint8(a.Operation)
			}
			s.Flags |= FlagARP
			s.Src = netip.AddrFrom4([4]byte(a.SourceProtAddress))
			s.Dst = netip.AddrFrom4([4]byte(a.DstProtAddress))
		case layers.LayerTypeTCP:
			st.tcp.fill(s)
		case layers.LayerTypeUDP:
			st.udp.fill(s)
		case layers.LayerTypeICMPv4:
			st.icmp4.fill(s)
		case layers.LayerTypeICMPv6:
			st.icmp6.fill(s)
		}
	}
	if st.fragment {
		s.Flags |= FlagFragment
	}
	// The parser stops when a layer leaves no payload; what was expected
	// next decides the outcome.
	last := st.decoded[len(st.decoded)-1]
	dl, _ := st.layers.Decoder(last)
	next := dl.NextLayerType()
	switch last {
	case layers.LayerTypeEthernet, layers.LayerTypeLinuxSLL, layers.LayerTypeLoopback,
		layers.LayerTypeDot1Q, layers.LayerTypePPPoE, layers.LayerTypeMPLS:
		switch next {
		case layers.LayerTypeIPv4, layers.LayerTypeIPv6:
			return ReasonBadIPHeader
		case layers.LayerTypeARP:
			return ReasonBadARP
		case layers.LayerTypeDot1Q, layers.LayerTypePPPoE, layers.LayerTypeMPLS:
			return ReasonTruncatedLink
		}
		return ReasonNonIP
	case layers.LayerTypeIPv4, layers.LayerTypeIPv6, layers.LayerTypeIPv6HopByHop,
		layers.LayerTypeIPv6Routing, layers.LayerTypeIPv6Destination,
		layers.LayerTypeIPSecAH, layers.LayerTypeIPv6Fragment:
		// A transport or extension header was expected and is missing
		// or cut short.
		if next != gopacket.LayerTypeZero || truncated {
			s.Flags |= FlagTruncated
		}
	}
	return nil
}

// etherNext returns the layer the Decoder decodes after EtherType et, or
// LayerTypeZero for protocols it does not follow. Unlike
// EthernetType.LayerType it also takes the pre-802.1ad QinQ tag 0x9100 as
// a VLAN tag.
func etherNext(et layers.EthernetType) gopacket.LayerType {
	switch et {
	case etherIPv4:
		return layers.LayerTypeIPv4
	case etherIPv6:
		return layers.LayerTypeIPv6
	case etherARP:
		return layers.LayerTypeARP
	case etherVLAN, etherQinQ, etherQinQOld:
		return layers.LayerTypeDot1Q
	case etherPPPoE:
		return layers.LayerTypePPPoE
	case etherMPLS, etherMPLSMulti:
		return layers.LayerTypeMPLS
	}
	return gopacket.LayerTypeZero
}

// transportNext returns the transport layer the Decoder decodes for IP
// protocol p, or LayerTypeZero. Tunnels (IPIP, IPv6-in-IP, GRE, ...), which
// gopacket's IPProtocol.LayerType follows, are not looked into.
func transportNext(p layers.IPProtocol) gopacket.LayerType {
	switch p {
	case layers.IPProtocolTCP:
		return layers.LayerTypeTCP
	case layers.IPProtocolUDP:
		return layers.LayerTypeUDP
	case layers.IPProtocolICMPv4:
		return layers.LayerTypeICMPv4
	case layers.IPProtocolICMPv6:
		return layers.LayerTypeICMPv6
	}
	return gopacket.LayerTypeZero
}

// ipv6Next returns the layer decoded after IPv6 next header p: an extension
// header (mobility, HIP and shim6 share the destination options format) or
// a transport header, or LayerTypeZero after maxIPv6ExtHeaders extension
// headers.
func (st *decoderState) ipv6Next(p layers.IPProtocol) gopacket.LayerType {
	if st.exts >= maxIPv6ExtHeaders {
		return gopacket.LayerTypeZero
	}
	switch p {
	case layers.IPProtocolIPv6HopByHop:
		return layers.LayerTypeIPv6HopByHop
	case layers.IPProtocolIPv6Routing:
		return layers.LayerTypeIPv6Routing
	case layers.IPProtocolIPv6Destination, 135, 139, 140: // destination, mobility, HIP, shim6
		return layers.LayerTypeIPv6Destination
	case layers.IPProtocolIPv6Fragment:
		return layers.LayerTypeIPv6Fragment
	case layers.IPProtocolAH:
		return layers.LayerTypeIPSecAH
	}
	return transportNext(p)
}

// Link layers.

// etherLayer is gopacket's Ethernet layer. Guard: gopacket allocates an
// error for a frame below 14 bytes.
type etherLayer struct{ layers.Ethernet }

func (l *etherLayer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if len(data) < 14 {
		return ReasonTruncatedLink
	}
	return l.Ethernet.DecodeFromBytes(data, df)
}

func (l *etherLayer) NextLayerType() gopacket.LayerType { return etherNext(l.EthernetType) }

// dot1qLayer is gopacket's Dot1Q layer, for 802.1Q and 802.1ad tags. Guard:
// a cut tag (gopacket allocates an error) and the 16th tag of a frame.
type dot1qLayer struct {
	layers.Dot1Q
	st *decoderState
}

func (l *dot1qLayer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	l.st.vlans++
	if l.st.vlans >= maxLinkHeaders || len(data) < 4 {
		return ReasonTruncatedLink
	}
	return l.Dot1Q.DecodeFromBytes(data, df)
}

func (l *dot1qLayer) NextLayerType() gopacket.LayerType { return etherNext(l.Type) }

// sllLayer is gopacket's LinuxSLL layer. Guard: a frame below 16 bytes
// (gopacket allocates an error). Hand-decoded: a link-layer address length
// above 10, which gopacket uses unchecked to slice the address and panics
// on; only the protocol type is needed.
type sllLayer struct{ layers.LinuxSLL }

func (l *sllLayer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if len(data) < 16 {
		return ReasonTruncatedLink
	}
	if binary.BigEndian.Uint16(data[4:6]) > 10 {
		l.LinuxSLL = layers.LinuxSLL{EthernetType: layers.EthernetType(binary.BigEndian.Uint16(data[14:16]))}
		l.Contents, l.Payload = data[:16], data[16:]
		return nil
	}
	return l.LinuxSLL.DecodeFromBytes(data, df)
}

func (l *sllLayer) NextLayerType() gopacket.LayerType { return etherNext(l.EthernetType) }

// loopLayer is gopacket's Loopback layer (BSD null and OpenBSD loop). Guard:
// a frame below 4 bytes and an address family above 255 (gopacket
// allocates errors for both). Only AF_INET and the BSD and Darwin AF_INET6
// values are followed (gopacket also takes Linux's 10).
type loopLayer struct{ layers.Loopback }

func (l *loopLayer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if len(data) < 4 {
		return ReasonTruncatedLink
	}
	var family uint32
	if data[0] == 0 && data[1] == 0 {
		family = binary.BigEndian.Uint32(data[:4])
	} else {
		family = binary.LittleEndian.Uint32(data[:4])
	}
	if family > math.MaxUint8 {
		return ReasonNonIP
	}
	return l.Loopback.DecodeFromBytes(data, df)
}

func (l *loopLayer) NextLayerType() gopacket.LayerType {
	switch l.Family {
	case layers.ProtocolFamilyIPv4:
		return layers.LayerTypeIPv4
	case layers.ProtocolFamilyIPv6BSD, layers.ProtocolFamilyIPv6FreeBSD, layers.ProtocolFamilyIPv6Darwin:
		return layers.LayerTypeIPv6
	}
	return gopacket.LayerTypeZero
}

// pppoeLayer decodes a PPPoE session header and the PPP protocol after it,
// by hand: gopacket v1.1.19's PPPoE and PPP layers are not DecodingLayers.
type pppoeLayer struct {
	layers.BaseLayer
	proto uint16
}

func (l *pppoeLayer) CanDecode() gopacket.LayerClass { return layers.LayerTypePPPoE }

func (l *pppoeLayer) DecodeFromBytes(data []byte, _ gopacket.DecodeFeedback) error {
	if len(data) < 8 {
		return ReasonTruncatedLink
	}
	l.proto = binary.BigEndian.Uint16(data[6:8])
	l.Contents, l.Payload = data[:8], data[8:]
	return nil
}

func (l *pppoeLayer) NextLayerType() gopacket.LayerType {
	switch l.proto {
	case pppIPv4:
		return layers.LayerTypeIPv4
	case pppIPv6:
		return layers.LayerTypeIPv6
	}
	return gopacket.LayerTypeZero
}

// mplsLayer skips an MPLS label stack, by hand: gopacket v1.1.19's MPLS
// layer is not a DecodingLayer and decodes one label at a time. The IP
// packet under the stack is chosen by its version nibble.
type mplsLayer struct {
	layers.BaseLayer
	next gopacket.LayerType
}

func (l *mplsLayer) CanDecode() gopacket.LayerClass { return layers.LayerTypeMPLS }

func (l *mplsLayer) DecodeFromBytes(data []byte, _ gopacket.DecodeFeedback) error {
	p := data
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
				l.next = layers.LayerTypeIPv4
			case 6:
				l.next = layers.LayerTypeIPv6
			default:
				l.next = gopacket.LayerTypeZero
			}
			l.Contents, l.Payload = data[:len(data)-len(p)], p
			return nil
		}
	}
	return ReasonTruncatedLink
}

func (l *mplsLayer) NextLayerType() gopacket.LayerType { return l.next }

// arpLayer is gopacket's ARP layer. Guard: messages cut short or not mapping
// IPv4 addresses are ReasonBadARP. Hand-decoded: hardware addresses longer
// than 119 bytes, for which gopacket's uint8 length arithmetic wraps and
// its slicing panics.
type arpLayer struct{ layers.ARP }

// maxARPHwLen is the longest hardware address gopacket's ARP layer handles:
// 8 + 2*119 + 2*4 = 254 fits in its uint8 arithmetic.
const maxARPHwLen = 119

func (l *arpLayer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if len(data) < 8 {
		return ReasonBadARP
	}
	hlen := int(data[4])
	if binary.BigEndian.Uint16(data[2:4]) != etherIPv4 || data[5] != 4 || len(data) < 8+2*hlen+8 {
		return ReasonBadARP
	}
	if hlen > maxARPHwLen {
		l.Operation = binary.BigEndian.Uint16(data[6:8])
		l.SourceProtAddress = data[8+hlen : 12+hlen]
		l.DstProtAddress = data[12+2*hlen : 16+2*hlen]
		l.Contents, l.Payload = data[:16+2*hlen], data[16+2*hlen:]
		return nil
	}
	return l.ARP.DecodeFromBytes(data, df)
}

func (l *arpLayer) NextLayerType() gopacket.LayerType { return gopacket.LayerTypeZero }

// IP layers.

// ipv4Layer is gopacket's IPv4 layer. Guard: the version nibble (gopacket
// does not check it) and the header and total lengths (gopacket allocates
// errors). Hand-decoded, to count the packet as decoded: malformed options
// (gopacket fails on them; they are not needed), and a zero total length
// (segmentation offload) on a packet above 65535 bytes, which gopacket
// wraps to 16 bits.
type ipv4Layer struct{ layers.IPv4 }

func (l *ipv4Layer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if len(data) == 0 {
		return ReasonBadIPHeader
	}
	if data[0]>>4 != 4 {
		return ReasonIPVersion
	}
	if len(data) < 20 {
		return ReasonBadIPHeader
	}
	ihl := int(data[0]&0x0F) * 4
	if ihl < 20 || ihl > len(data) {
		return ReasonBadIPHeader
	}
	total := int(binary.BigEndian.Uint16(data[2:4]))
	if total == 0 {
		total = len(data) // TCP segmentation offload leaves the length zero
	}
	if total < ihl {
		return ReasonBadIPHeader
	}
	if total <= math.MaxUint16 && ipv4OptionsValid(data[20:ihl]) {
		return l.IPv4.DecodeFromBytes(data, df)
	}
	ff := binary.BigEndian.Uint16(data[6:8])
	l.Flags = layers.IPv4Flag(ff >> 13)
	l.FragOffset = ff & 0x1FFF
	l.Protocol = layers.IPProtocol(data[9])
	l.SrcIP, l.DstIP = data[12:16], data[16:20]
	if total < len(data) {
		data = data[:total] // link-layer padding
	}
	l.Contents, l.Payload = data[:ihl], data[ihl:]
	return nil
}

// NextLayerType is the transport layer of unfragmented packets and first
// fragments.
func (l *ipv4Layer) NextLayerType() gopacket.LayerType {
	if l.FragOffset != 0 {
		return gopacket.LayerTypeZero
	}
	return transportNext(l.Protocol)
}

// ipv4OptionsValid reports whether gopacket's IPv4 layer accepts the options
// o (the same walk as its DecodeFromBytes).
func ipv4OptionsValid(o []byte) bool {
	for len(o) > 0 {
		switch o[0] {
		case 0: // end of options
			return true
		case 1: // no operation
			o = o[1:]
		default:
			if len(o) < 2 {
				return false
			}
			n := int(o[1])
			if n <= 2 || n > len(o) {
				return false
			}
			o = o[n:]
		}
	}
	return true
}

// ipv6Layer is gopacket's IPv6 layer. Guard: the version nibble (gopacket
// does not check it) and the header length. Hand-decoded: packets with a
// hop-by-hop header, which gopacket parses into options it allocates one by
// one (ipv6ExtLayer skips it instead), and packets with a zero payload
// length (jumbograms, segmentation offload), which gopacket rejects unless
// a jumbogram option is present.
type ipv6Layer struct {
	layers.IPv6
	st *decoderState
}

func (l *ipv6Layer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if len(data) == 0 {
		return ReasonBadIPHeader
	}
	if data[0]>>4 != 6 {
		return ReasonIPVersion
	}
	if len(data) < 40 {
		return ReasonBadIPHeader
	}
	n := int(binary.BigEndian.Uint16(data[4:6]))
	if data[6] != byte(layers.IPProtocolIPv6HopByHop) && n != 0 {
		return l.IPv6.DecodeFromBytes(data, df)
	}
	l.Length = uint16(n)
	l.NextHeader = layers.IPProtocol(data[6])
	l.SrcIP, l.DstIP = data[8:24], data[24:40]
	l.HopByHop = nil
	body := data[40:]
	if n != 0 && n < len(body) {
		body = body[:n]
	}
	l.Contents, l.Payload = data[:40], body
	return nil
}

func (l *ipv6Layer) NextLayerType() gopacket.LayerType { return l.st.ipv6Next(l.NextHeader) }

// ipv6ExtLayer is gopacket's IPv6ExtensionSkipper, for the hop-by-hop,
// routing and destination options headers (and the mobility, HIP and shim6
// headers, of the same format). Guard: a header cut short, which gopacket
// rejects with an allocated error, ends decoding with FlagTruncated.
type ipv6ExtLayer struct {
	layers.IPv6ExtensionSkipper
	st *decoderState
}

func (l *ipv6ExtLayer) CanDecode() gopacket.LayerClass { return ipv6ExtClass }

func (l *ipv6ExtLayer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	l.st.exts++
	if len(data) < 2 || (int(data[1])+1)*8 > len(data) {
		return errTruncated
	}
	return l.IPv6ExtensionSkipper.DecodeFromBytes(data, df)
}

func (l *ipv6ExtLayer) NextLayerType() gopacket.LayerType { return l.st.ipv6Next(l.NextHeader) }

// ipv6FragLayer decodes an IPv6 fragment header into gopacket's
// IPv6Fragment, by hand: gopacket v1.1.19 has no DecodingLayer for it.
// Later fragments end decoding; first fragments go on to their transport
// header.
type ipv6FragLayer struct {
	layers.IPv6Fragment
	st *decoderState
}

func (l *ipv6FragLayer) CanDecode() gopacket.LayerClass { return layers.LayerTypeIPv6Fragment }

func (l *ipv6FragLayer) DecodeFromBytes(data []byte, _ gopacket.DecodeFeedback) error {
	l.st.exts++
	if len(data) < 8 {
		return errTruncated
	}
	off := binary.BigEndian.Uint16(data[2:4])
	l.NextHeader = layers.IPProtocol(data[0])
	l.FragmentOffset = off >> 3
	l.MoreFragments = off&1 != 0
	if l.FragmentOffset != 0 || l.MoreFragments {
		l.st.fragment = true
	}
	l.Contents, l.Payload = data[:8], data[8:]
	return nil
}

func (l *ipv6FragLayer) NextLayerType() gopacket.LayerType {
	if l.FragmentOffset != 0 {
		return gopacket.LayerTypeZero
	}
	return l.st.ipv6Next(l.NextHeader)
}

// ipv6AHLayer skips an IPsec authentication header, by hand: gopacket
// v1.1.19's IPSecAH is not a DecodingLayer. A header cut short ends decoding
// with FlagTruncated.
type ipv6AHLayer struct {
	layers.BaseLayer
	NextHeader layers.IPProtocol
	st         *decoderState
}

func (l *ipv6AHLayer) CanDecode() gopacket.LayerClass { return layers.LayerTypeIPSecAH }

func (l *ipv6AHLayer) DecodeFromBytes(data []byte, _ gopacket.DecodeFeedback) error {
	l.st.exts++
	if len(data) < 2 {
		return errTruncated
	}
	n := (int(data[1]) + 2) * 4
	if n > len(data) {
		return errTruncated
	}
	l.NextHeader = layers.IPProtocol(data[0])
	l.Contents, l.Payload = data[:n], data[n:]
	return nil
}

func (l *ipv6AHLayer) NextLayerType() gopacket.LayerType { return l.st.ipv6Next(l.NextHeader) }

// Transport layers. Each is the last layer decoded; a header cut short or
// malformed is decoded by hand as far as it goes and sets FlagTruncated
// (gopacket rejects it with an allocated error, and the packet must still
// count as decoded).

// tcpLayer is gopacket's TCP layer. Hand-decoded: headers below 20 bytes or
// with a data offset out of range (FlagTruncated), and headers with
// malformed options, which gopacket rejects but which are otherwise whole.
type tcpLayer struct {
	layers.TCP
	hand     bool  // decoded by hand: flags holds the flag bits
	cut      bool  // header cut short or malformed
	handBits uint8 // flag bits when hand
}

func (l *tcpLayer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	off := 0
	if len(data) >= 20 {
		off = int(data[12]>>4) * 4
		if off >= 20 && off <= len(data) && tcpOptionsValid(data[20:off]) {
			l.hand, l.cut = false, false
			return l.TCP.DecodeFromBytes(data, df)
		}
	}
	l.hand, l.cut = true, false
	l.SrcPort, l.DstPort, l.handBits = 0, 0, 0
	l.Contents, l.Payload = data, nil
	if len(data) >= 4 {
		l.SrcPort = layers.TCPPort(binary.BigEndian.Uint16(data[0:2]))
		l.DstPort = layers.TCPPort(binary.BigEndian.Uint16(data[2:4]))
	}
	if len(data) >= 14 {
		l.handBits = data[13]
	}
	if len(data) < 20 || off < 20 || off > len(data) {
		l.cut = true
		return nil
	}
	l.Contents, l.Payload = data[:off], data[off:]
	return nil
}

func (l *tcpLayer) NextLayerType() gopacket.LayerType { return gopacket.LayerTypeZero }

func (l *tcpLayer) flags() uint8 {
	if l.hand {
		return l.handBits
	}
	var f uint8
	for i, set := range [8]bool{l.FIN, l.SYN, l.RST, l.PSH, l.ACK, l.URG, l.ECE, l.CWR} {
		if set {
			f |= 1 << i
		}
	}
	return f
}

func (l *tcpLayer) fill(s *Summary) {
	s.SrcPort, s.DstPort = uint16(l.SrcPort), uint16(l.DstPort)
	s.TCPFlags = l.flags()
	if l.cut {
		s.Flags |= FlagTruncated
		return
	}
	if s.SrcPort == 53 || s.DstPort == 53 {
		// DNS over TCP: a 2-byte length precedes the message.
		if len(l.Payload) > 2 {
			parseDNS(l.Payload[2:], s)
		}
	}
}

// tcpOptionsValid reports whether gopacket's TCP layer accepts the options
// o (the same walk as its DecodeFromBytes).
func tcpOptionsValid(o []byte) bool {
	for len(o) > 0 {
		switch o[0] {
		case 0: // end of options
			return true
		case 1: // no operation
			o = o[1:]
		default:
			if len(o) < 2 {
				return false
			}
			n := int(o[1])
			if n < 2 || n > len(o) {
				return false
			}
			o = o[n:]
		}
	}
	return true
}

// udpLayer is gopacket's UDP layer. Hand-decoded: headers below 8 bytes and
// lengths from 1 to 7 (FlagTruncated).
type udpLayer struct {
	layers.UDP
	cut bool
}

func (l *udpLayer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if len(data) >= 8 {
		if n := binary.BigEndian.Uint16(data[4:6]); n == 0 || n >= 8 { // zero: a jumbogram or segmentation offload
			l.cut = false
			return l.UDP.DecodeFromBytes(data, df)
		}
	}
	l.cut = true
	l.SrcPort, l.DstPort = 0, 0
	l.Contents, l.Payload = data, nil
	if len(data) >= 4 {
		l.SrcPort = layers.UDPPort(binary.BigEndian.Uint16(data[0:2]))
		l.DstPort = layers.UDPPort(binary.BigEndian.Uint16(data[2:4]))
	}
	return nil
}

func (l *udpLayer) NextLayerType() gopacket.LayerType { return gopacket.LayerTypeZero }

func (l *udpLayer) fill(s *Summary) {
	s.SrcPort, s.DstPort = uint16(l.SrcPort), uint16(l.DstPort)
	if l.cut {
		s.Flags |= FlagTruncated
		return
	}
	if isDNSPort(s.SrcPort) || isDNSPort(s.DstPort) {
		parseDNS(l.Payload, s)
	}
}

func isDNSPort(port uint16) bool { return port == 53 || port == 5353 }

// icmpv4Layer is gopacket's ICMPv4 layer. Hand-decoded: messages below 8
// bytes, which gopacket rejects; the type and code need 2 and only a
// message below 4 bytes (no checksum) sets FlagTruncated.
type icmpv4Layer struct {
	layers.ICMPv4
	cut bool
}

func (l *icmpv4Layer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if len(data) >= 8 {
		l.cut = false
		return l.ICMPv4.DecodeFromBytes(data, df)
	}
	l.TypeCode, l.cut = 0, len(data) < 4
	if len(data) >= 2 {
		l.TypeCode = layers.CreateICMPv4TypeCode(data[0], data[1])
	}
	l.Contents, l.Payload = data, nil
	return nil
}

func (l *icmpv4Layer) NextLayerType() gopacket.LayerType { return gopacket.LayerTypeZero }

func (l *icmpv4Layer) fill(s *Summary) {
	s.ICMPType, s.ICMPCode = l.TypeCode.Type(), l.TypeCode.Code()
	if l.cut {
		s.Flags |= FlagTruncated
	}
}

// icmpv6Layer is gopacket's ICMPv6 layer. Hand-decoded: messages below 4
// bytes (FlagTruncated), which gopacket rejects.
type icmpv6Layer struct {
	layers.ICMPv6
	cut bool
}

func (l *icmpv6Layer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if len(data) >= 4 {
		l.cut = false
		return l.ICMPv6.DecodeFromBytes(data, df)
	}
	l.TypeCode, l.cut = 0, true
	if len(data) >= 2 {
		l.TypeCode = layers.CreateICMPv6TypeCode(data[0], data[1])
	}
	l.Contents, l.Payload = data, nil
	return nil
}

func (l *icmpv6Layer) NextLayerType() gopacket.LayerType { return gopacket.LayerTypeZero }

func (l *icmpv6Layer) fill(s *Summary) {
	s.ICMPType, s.ICMPCode = l.TypeCode.Type(), l.TypeCode.Code()
	if l.cut {
		s.Flags |= FlagTruncated
	}
}
