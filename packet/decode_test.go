package packet

import (
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

const testTime = int64(1772442011782486000)

var (
	macA = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x0a}
	macB = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x0b}
	ipA  = netip.MustParseAddr("10.1.2.3")
	ipB  = netip.MustParseAddr("192.0.2.53")
	ip6A = netip.MustParseAddr("2001:db8::a")
	ip6B = netip.MustParseAddr("2001:db8::b")
	// A v4-mapped IPv6 address, which the decoder must keep as it is.
	ip6Mapped = netip.MustParseAddr("::ffff:192.0.2.1")
)

// serialize builds a packet from layers with lengths fixed and no checksums.
func serialize(t testing.TB, ls ...gopacket.SerializableLayer) []byte {
	t.Helper()
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true}, ls...); err != nil {
		t.Fatal(err)
	}
	return append([]byte(nil), buf.Bytes()...)
}

func eth(et layers.EthernetType) *layers.Ethernet {
	return &layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: et}
}

// ethHdr returns a bare 14-byte Ethernet header (serializing a lone
// layers.Ethernet pads it to 60 bytes).
func ethHdr(et layers.EthernetType) []byte {
	h := cat(macB, macA)
	return binary.BigEndian.AppendUint16(h, uint16(et))
}

func ip4(proto layers.IPProtocol) *layers.IPv4 {
	return &layers.IPv4{Version: 4, TTL: 64, Protocol: proto, SrcIP: ipA.AsSlice(), DstIP: ipB.AsSlice()}
}

func ip6(next layers.IPProtocol, src, dst netip.Addr) *layers.IPv6 {
	return &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: next, SrcIP: src.AsSlice(), DstIP: dst.AsSlice()}
}

func dnsQuery(name string, qtype layers.DNSType) *layers.DNS {
	return &layers.DNS{ID: 0x1234, RD: true, Questions: []layers.DNSQuestion{{Name: []byte(name), Type: qtype, Class: layers.DNSClassIN}}}
}

func dnsResponse(name string, qtype layers.DNSType, rcode layers.DNSResponseCode) *layers.DNS {
	d := dnsQuery(name, qtype)
	d.QR, d.ResponseCode = true, rcode
	return d
}

// ipv4TCPSyn is an IPv4 TCP SYN from ipA:40000 to ipB:443, without link
// layer, used to test the link layers.
func ipv4TCPSyn(t testing.TB) []byte {
	return serialize(t, ip4(layers.IPProtocolTCP), &layers.TCP{SrcPort: 40000, DstPort: 443, SYN: true, Window: 1024, DataOffset: 5})
}

func ipv6TCPSyn(t testing.TB) []byte {
	return serialize(t, ip6(layers.IPProtocolTCP, ip6A, ip6B), &layers.TCP{SrcPort: 40000, DstPort: 443, SYN: true, DataOffset: 5})
}

func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

var (
	synV4 = Summary{Time: testTime, Src: ipA, Dst: ipB, SrcPort: 40000, DstPort: 443, Proto: ProtoTCP, TCPFlags: TCPSyn}
	synV6 = Summary{Time: testTime, Src: ip6A, Dst: ip6B, SrcPort: 40000, DstPort: 443, Proto: ProtoTCP, TCPFlags: TCPSyn}
)

// withLen returns s with Length set.
func withLen(s Summary, n int) Summary {
	s.Length = uint32(n)
	return s
}

func TestDecode(t *testing.T) {
	synv4 := ipv4TCPSyn(t)
	synv6 := ipv6TCPSyn(t)

	type tc struct {
		name    string
		link    uint32
		data    []byte
		wireLen int // 0: len(data)
		want    Summary
		err     Reason
	}
	var cases []tc
	add := func(c tc) { cases = append(cases, c) }

	// Ethernet, IPv4, TCP.
	{
		d := serialize(t, eth(layers.EthernetTypeIPv4), ip4(layers.IPProtocolTCP),
			&layers.TCP{SrcPort: 40000, DstPort: 443, SYN: true, ECE: true, CWR: true, DataOffset: 5})
		want := synV4
		want.TCPFlags = TCPSyn | TCPEce | TCPCwr
		add(tc{name: "tcp syn", link: linkEthernet, data: d, want: withLen(want, len(d))})
		add(tc{name: "wire length kept", link: linkEthernet, data: d, wireLen: 1514, want: withLen(want, 1514)})
		add(tc{name: "wire length below capture", link: linkEthernet, data: d, wireLen: 10, want: withLen(want, len(d))})
	}
	{
		d := serialize(t, eth(layers.EthernetTypeIPv4), ip4(layers.IPProtocolTCP),
			&layers.TCP{SrcPort: 443, DstPort: 40000, ACK: true, PSH: true, FIN: true, RST: true, URG: true, DataOffset: 5}, gopacket.Payload("hello"))
		add(tc{name: "tcp all flags", link: linkEthernet, data: d, want: Summary{Time: testTime, Src: ipA, Dst: ipB, SrcPort: 443, DstPort: 40000,
			Length: uint32(len(d)), Proto: ProtoTCP, TCPFlags: TCPAck | TCPPsh | TCPFin | TCPRst | TCPUrg}})
	}
	// DNS over UDP.
	{
		d := serialize(t, eth(layers.EthernetTypeIPv4), ip4(layers.IPProtocolUDP), &layers.UDP{SrcPort: 53000, DstPort: 53}, dnsQuery("www.example.com", layers.DNSTypeA))
		add(tc{name: "dns query", link: linkEthernet, data: d, want: Summary{Time: testTime, Src: ipA, Dst: ipB, SrcPort: 53000, DstPort: 53,
			Length: uint32(len(d)), Proto: ProtoUDP, Flags: FlagDNS, DNSQNameLen: 15, DNSQType: 1}})
	}
	{
		d := serialize(t, eth(layers.EthernetTypeIPv4), ip4(layers.IPProtocolUDP), &layers.UDP{SrcPort: 53, DstPort: 53000},
			dnsResponse("nonexistent.example.org", layers.DNSTypeTXT, layers.DNSResponseCodeNXDomain))
		add(tc{name: "dns nxdomain response", link: linkEthernet, data: d, want: Summary{Time: testTime, Src: ipA, Dst: ipB, SrcPort: 53, DstPort: 53000,
			Length: uint32(len(d)), Proto: ProtoUDP, Flags: FlagDNS | FlagDNSResponse, DNSRCode: 3, DNSQNameLen: 23, DNSQType: 16}})
	}
	{
		d := serialize(t, eth(layers.EthernetTypeIPv6), ip6(layers.IPProtocolUDP, ip6A, ip6B), &layers.UDP{SrcPort: 5353, DstPort: 5353},
			dnsResponse("printer.local", layers.DNSTypePTR, layers.DNSResponseCodeNoErr))
		add(tc{name: "mdns response over ipv6", link: linkEthernet, data: d, want: Summary{Time: testTime, Src: ip6A, Dst: ip6B, SrcPort: 5353, DstPort: 5353,
			Length: uint32(len(d)), Proto: ProtoUDP, Flags: FlagDNS | FlagDNSResponse, DNSQNameLen: 13, DNSQType: 12}})
	}
	{
		msg := serialize(t, dnsQuery("a.b.example", layers.DNSTypeNULL))
		prefix := binary.BigEndian.AppendUint16(nil, uint16(len(msg)))
		d := serialize(t, eth(layers.EthernetTypeIPv4), ip4(layers.IPProtocolTCP),
			&layers.TCP{SrcPort: 41000, DstPort: 53, ACK: true, PSH: true, DataOffset: 5}, gopacket.Payload(cat(prefix, msg)))
		add(tc{name: "dns over tcp", link: linkEthernet, data: d, want: Summary{Time: testTime, Src: ipA, Dst: ipB, SrcPort: 41000, DstPort: 53,
			Length: uint32(len(d)), Proto: ProtoTCP, TCPFlags: TCPAck | TCPPsh, Flags: FlagDNS, DNSQNameLen: 11, DNSQType: 10}})
	}
	{
		d := serialize(t, eth(layers.EthernetTypeIPv4), ip4(layers.IPProtocolUDP), &layers.UDP{SrcPort: 40000, DstPort: 53}, gopacket.Payload("not a dns message at all"))
		add(tc{name: "garbage on port 53 is not dns", link: linkEthernet, data: d, want: Summary{Time: testTime, Src: ipA, Dst: ipB, SrcPort: 40000, DstPort: 53,
			Length: uint32(len(d)), Proto: ProtoUDP}})
	}
	{
		// Ethernet pads short frames: the IP total length, not the frame,
		// bounds the UDP payload, so the padding is not read as DNS.
		d := serialize(t, eth(layers.EthernetTypeIPv4), ip4(layers.IPProtocolUDP), &layers.UDP{SrcPort: 40000, DstPort: 53})
		d = append(d, make([]byte, 60-len(d))...)
		add(tc{name: "ethernet padding", link: linkEthernet, data: d, want: Summary{Time: testTime, Src: ipA, Dst: ipB, SrcPort: 40000, DstPort: 53,
			Length: 60, Proto: ProtoUDP}})
	}
	// ICMP.
	{
		d := serialize(t, eth(layers.EthernetTypeIPv4), ip4(layers.IPProtocolICMPv4),
			&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(layers.ICMPv4TypeEchoRequest, 0), Id: 1, Seq: 1}, gopacket.Payload("ping"))
		add(tc{name: "icmp echo", link: linkEthernet, data: d, want: Summary{Time: testTime, Src: ipA, Dst: ipB, Length: uint32(len(d)), Proto: ProtoICMP, ICMPType: 8}})
	}
	{
		d := serialize(t, eth(layers.EthernetTypeIPv4), ip4(layers.IPProtocolICMPv4),
			&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(layers.ICMPv4TypeDestinationUnreachable, layers.ICMPv4CodePort)})
		add(tc{name: "icmp port unreachable", link: linkEthernet, data: d, want: Summary{Time: testTime, Src: ipA, Dst: ipB, Length: uint32(len(d)), Proto: ProtoICMP, ICMPType: 3, ICMPCode: 3}})
	}
	{
		// MLD report: hop-by-hop options header before ICMPv6.
		hbh := []byte{byte(layers.IPProtocolICMPv6), 0, 5, 2, 0, 0, 1, 0} // router alert, PadN
		d := serialize(t, eth(layers.EthernetTypeIPv6), ip6(layers.IPProtocolIPv6HopByHop, ip6A, ip6B), gopacket.Payload(cat(hbh, []byte{143, 0, 0, 0, 0, 0, 0, 0})))
		add(tc{name: "icmpv6 after hop-by-hop", link: linkEthernet, data: d, want: Summary{Time: testTime, Src: ip6A, Dst: ip6B, Length: uint32(len(d)), Proto: ProtoICMPv6, ICMPType: 143}})
	}
	// ARP.
	{
		d := serialize(t, eth(layers.EthernetTypeARP), &layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4,
			HwAddressSize: 6, ProtAddressSize: 4, Operation: layers.ARPRequest,
			SourceHwAddress: macA, SourceProtAddress: ipA.AsSlice(), DstHwAddress: make([]byte, 6), DstProtAddress: ipB.AsSlice()})
		add(tc{name: "arp request", link: linkEthernet, data: d, want: Summary{Time: testTime, Src: ipA, Dst: ipB, Length: uint32(len(d)), ARPOp: 1, Flags: FlagARP}})
		add(tc{name: "arp truncated", link: linkEthernet, data: d[:14+20], err: ReasonBadARP})
	}
	{
		d := serialize(t, eth(layers.EthernetTypeARP), &layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv6,
			HwAddressSize: 6, ProtAddressSize: 16, Operation: layers.ARPReply,
			SourceHwAddress: macA, SourceProtAddress: ip6A.AsSlice(), DstHwAddress: macB, DstProtAddress: ip6B.AsSlice()})
		add(tc{name: "arp not ipv4", link: linkEthernet, data: d, err: ReasonBadARP})
	}
	// IPv6.
	{
		d := cat(ethHdr(layers.EthernetTypeIPv6), synv6)
		add(tc{name: "ipv6 tcp", link: linkEthernet, data: d, want: withLen(synV6, len(d))})
	}
	{
		d := serialize(t, eth(layers.EthernetTypeIPv6), ip6(layers.IPProtocolTCP, ip6Mapped, ip6B), &layers.TCP{SrcPort: 1, DstPort: 2, SYN: true, DataOffset: 5})
		add(tc{name: "v4-mapped address kept", link: linkEthernet, data: d, want: Summary{Time: testTime, Src: ip6Mapped, Dst: ip6B, SrcPort: 1, DstPort: 2,
			Length: uint32(len(d)), Proto: ProtoTCP, TCPFlags: TCPSyn}})
	}
	// Fragments.
	{
		first := ip4(layers.IPProtocolUDP)
		first.Flags, first.Id = layers.IPv4MoreFragments, 7
		d := serialize(t, eth(layers.EthernetTypeIPv4), first, &layers.UDP{SrcPort: 5000, DstPort: 6000}, gopacket.Payload(make([]byte, 64)))
		add(tc{name: "first fragment", link: linkEthernet, data: d, want: Summary{Time: testTime, Src: ipA, Dst: ipB, SrcPort: 5000, DstPort: 6000,
			Length: uint32(len(d)), Proto: ProtoUDP, Flags: FlagFragment}})
		later := ip4(layers.IPProtocolUDP)
		later.FragOffset, later.Id = 9, 7
		d = serialize(t, eth(layers.EthernetTypeIPv4), later, gopacket.Payload([]byte{0x13, 0x88, 0x17, 0x70, 0, 8, 0, 0, 1, 2}))
		add(tc{name: "last fragment", link: linkEthernet, data: d, want: Summary{Time: testTime, Src: ipA, Dst: ipB,
			Length: uint32(len(d)), Proto: ProtoUDP, Flags: FlagFragment}})
	}
	{
		fragHdr := []byte{byte(layers.IPProtocolUDP), 0, 0x05, 0x28, 0, 0, 0, 9} // offset 165, last
		d := serialize(t, eth(layers.EthernetTypeIPv6), ip6(layers.IPProtocolIPv6Fragment, ip6A, ip6B), gopacket.Payload(cat(fragHdr, make([]byte, 16))))
		add(tc{name: "ipv6 later fragment", link: linkEthernet, data: d, want: Summary{Time: testTime, Src: ip6A, Dst: ip6B,
			Length: uint32(len(d)), Proto: ProtoUDP, Flags: FlagFragment}})
		fragHdr = []byte{byte(layers.IPProtocolUDP), 0, 0, 1, 0, 0, 0, 9} // offset 0, more
		d = serialize(t, eth(layers.EthernetTypeIPv6), ip6(layers.IPProtocolIPv6Fragment, ip6A, ip6B), gopacket.Payload(cat(fragHdr, []byte{0, 53, 0x9c, 0x40, 0, 100, 0, 0})))
		add(tc{name: "ipv6 first fragment", link: linkEthernet, data: d, want: Summary{Time: testTime, Src: ip6A, Dst: ip6B, SrcPort: 53, DstPort: 40000,
			Length: uint32(len(d)), Proto: ProtoUDP, Flags: FlagFragment}})
	}
	// Truncated and malformed transport headers.
	{
		d := serialize(t, eth(layers.EthernetTypeIPv4), ip4(layers.IPProtocolTCP), &layers.TCP{SrcPort: 40000, DstPort: 443, SYN: true, DataOffset: 5})
		cut := d[:14+20+10]
		add(tc{name: "tcp header cut by snap length", link: linkEthernet, data: cut, wireLen: len(d), want: Summary{Time: testTime, Src: ipA, Dst: ipB,
			SrcPort: 40000, DstPort: 443, Length: uint32(len(d)), Proto: ProtoTCP, Flags: FlagTruncated}})
		bad := append([]byte(nil), d...)
		bad[14+20+12] = 0x30 // data offset 3
		add(tc{name: "tcp data offset below 5", link: linkEthernet, data: bad, want: Summary{Time: testTime, Src: ipA, Dst: ipB,
			SrcPort: 40000, DstPort: 443, Length: uint32(len(d)), Proto: ProtoTCP, TCPFlags: TCPSyn, Flags: FlagTruncated}})
		add(tc{name: "ip header cut", link: linkEthernet, data: d[:14+12], wireLen: len(d), err: ReasonBadIPHeader})
	}
	{
		d := serialize(t, eth(layers.EthernetTypeIPv4), ip4(layers.IPProtocolUDP), &layers.UDP{SrcPort: 40000, DstPort: 53})
		add(tc{name: "udp header cut", link: linkEthernet, data: d[:14+20+3], wireLen: len(d), want: Summary{Time: testTime, Src: ipA, Dst: ipB,
			Length: uint32(len(d)), Proto: ProtoUDP, Flags: FlagTruncated}})
	}
	// VLAN tags.
	{
		d := serialize(t, eth(layers.EthernetTypeDot1Q), &layers.Dot1Q{VLANIdentifier: 42, Type: layers.EthernetTypeIPv4},
			ip4(layers.IPProtocolTCP), &layers.TCP{SrcPort: 40000, DstPort: 443, SYN: true, DataOffset: 5})
		add(tc{name: "vlan tagged", link: linkEthernet, data: d, want: withLen(synV4, len(d))})
		add(tc{name: "vlan tag cut", link: linkEthernet, data: d[:16], err: ReasonTruncatedLink})
		qinq := cat(ethHdr(layers.EthernetTypeQinQ), []byte{0, 7, 0x81, 0x00}, d[14:])
		add(tc{name: "qinq tagged", link: linkEthernet, data: qinq, want: withLen(synV4, len(qinq))})
	}
	// Other link layers.
	{
		sll := make([]byte, 16)
		binary.BigEndian.PutUint16(sll[14:], 0x0800)
		d := cat(sll, synv4)
		add(tc{name: "linux sll", link: linkLinuxSLL, data: d, want: withLen(synV4, len(d))})
		add(tc{name: "linux sll cut", link: linkLinuxSLL, data: sll[:10], err: ReasonTruncatedLink})
		sll2 := make([]byte, 20)
		binary.BigEndian.PutUint16(sll2[0:], 0x86DD)
		d = cat(sll2, synv6)
		add(tc{name: "linux sll2", link: linkLinuxSLL2, data: d, want: withLen(synV6, len(d))})
		add(tc{name: "raw ipv4", link: linkRaw, data: synv4, want: withLen(synV4, len(synv4))})
		add(tc{name: "raw ipv6", link: linkRaw, data: synv6, want: withLen(synV6, len(synv6))})
		add(tc{name: "raw 12", link: linkRawAlt12, data: synv4, want: withLen(synV4, len(synv4))})
		add(tc{name: "raw 14", link: linkRawAlt14, data: synv6, want: withLen(synV6, len(synv6))})
		add(tc{name: "linktype ipv4", link: linkIPv4, data: synv4, want: withLen(synV4, len(synv4))})
		add(tc{name: "linktype ipv6", link: linkIPv6, data: synv6, want: withLen(synV6, len(synv6))})
		add(tc{name: "linktype ipv4 with ipv6", link: linkIPv4, data: synv6, err: ReasonIPVersion})
		add(tc{name: "raw version 5", link: linkRaw, data: []byte{0x50, 0, 0, 20}, err: ReasonIPVersion})
		add(tc{name: "raw empty", link: linkRaw, data: nil, err: ReasonBadIPHeader})
		d = cat([]byte{2, 0, 0, 0}, synv4)
		add(tc{name: "null little-endian inet", link: linkNull, data: d, want: withLen(synV4, len(d))})
		d = cat([]byte{0, 0, 0, 30}, synv6)
		add(tc{name: "null big-endian darwin inet6", link: linkNull, data: d, want: withLen(synV6, len(d))})
		d = cat([]byte{0, 0, 0, 24}, synv6)
		add(tc{name: "openbsd loop inet6", link: linkLoop, data: d, want: withLen(synV6, len(d))})
		add(tc{name: "null unknown family", link: linkNull, data: cat([]byte{7, 0, 0, 0}, synv4), err: ReasonNonIP})
		d = cat([]byte{0xFF, 0x03, 0x00, 0x21}, synv4)
		add(tc{name: "ppp with address and control", link: linkPPP, data: d, want: withLen(synV4, len(d))})
		d = cat([]byte{0x00, 0x57}, synv6)
		add(tc{name: "ppp ipv6", link: linkPPP, data: d, want: withLen(synV6, len(d))})
		d = cat([]byte{0x21}, synv4)
		add(tc{name: "ppp compressed protocol", link: linkPPP, data: d, want: withLen(synV4, len(d))})
		add(tc{name: "ppp lcp", link: linkPPP, data: []byte{0xC0, 0x21, 1, 1, 0, 4}, err: ReasonNonIP})
		d = cat([]byte{0x0F, 0x00, 0x08, 0x00}, synv4)
		add(tc{name: "cisco hdlc", link: linkCHDLC, data: d, want: withLen(synV4, len(d))})
		d = cat(ethHdr(layers.EthernetTypePPPoESession), []byte{0x11, 0, 0, 1, 0, 0, 0x00, 0x21}, synv4)
		add(tc{name: "pppoe session", link: linkEthernet, data: d, want: withLen(synV4, len(d))})
		d = cat(ethHdr(layers.EthernetTypeMPLSUnicast), []byte{0, 0x01, 0x00, 64, 0, 0x02, 0x01, 64}, synv6)
		add(tc{name: "mpls two labels", link: linkEthernet, data: d, want: withLen(synV6, len(d))})
	}
	// Input gopacket's layers reject, panic on or would allocate for: the
	// Decoder's guards decode it by hand or pick the Reason themselves.
	{
		sll := make([]byte, 16)
		binary.BigEndian.PutUint16(sll[4:], 0xFFFF) // address length (gopacket slices by it)
		binary.BigEndian.PutUint16(sll[14:], 0x0800)
		d := cat(sll, synv4)
		add(tc{name: "sll address length beyond its field", link: linkLinuxSLL, data: d, want: withLen(synV4, len(d))})

		const hlen = 120 // 8+2*120+8 wraps gopacket's uint8 arithmetic
		msg := []byte{0, 1, 0x08, 0x00, hlen, 4, 0, 2}
		msg = append(msg, make([]byte, hlen)...)
		msg = append(msg, ipA.AsSlice()...)
		msg = append(msg, make([]byte, hlen)...)
		msg = append(msg, ipB.AsSlice()...)
		d = cat(ethHdr(layers.EthernetTypeARP), msg)
		add(tc{name: "arp long hardware address", link: linkEthernet, data: d, want: Summary{Time: testTime, Src: ipA, Dst: ipB, Length: uint32(len(d)), ARPOp: 2, Flags: FlagARP}})
		add(tc{name: "arp long hardware address cut", link: linkEthernet, data: d[:len(d)-1], err: ReasonBadARP})

		opts := cat(synv4[:20], []byte{68, 1, 0, 0}, synv4[20:]) // option length 1
		opts[0] = 0x46
		binary.BigEndian.PutUint16(opts[2:], uint16(len(opts)))
		add(tc{name: "ipv4 malformed options", link: linkRaw, data: opts, want: withLen(synV4, len(opts))})

		tso := cat(synv4, make([]byte, 1<<16-len(synv4)+30)) // 16-bit wrap: 30 bytes
		binary.BigEndian.PutUint16(tso[2:], 0)
		add(tc{name: "ipv4 zero total length above 64 KiB", link: linkRaw, data: tso, want: withLen(synV4, len(tso))})

		v6 := append([]byte(nil), synv6...)
		binary.BigEndian.PutUint16(v6[4:], 0)
		add(tc{name: "ipv6 zero payload length", link: linkRaw, data: v6, want: withLen(synV6, len(v6))})

		msg = serialize(t, dnsQuery("a.example", layers.DNSTypeA))
		tcpHdr := serialize(t, &layers.TCP{SrcPort: 41000, DstPort: 53, ACK: true, DataOffset: 6})
		tcpHdr = cat(tcpHdr[:20], []byte{2, 0, 0, 0}) // MSS option of length 0
		tcpHdr[12] = 6 << 4                           // data offset 6 (FixLengths reset it)
		ip := ip4(layers.IPProtocolTCP)
		d = serialize(t, eth(layers.EthernetTypeIPv4), ip, gopacket.Payload(cat(tcpHdr, binary.BigEndian.AppendUint16(nil, uint16(len(msg))), msg)))
		add(tc{name: "tcp malformed options", link: linkEthernet, data: d, want: Summary{Time: testTime, Src: ipA, Dst: ipB, SrcPort: 41000, DstPort: 53,
			Length: uint32(len(d)), Proto: ProtoTCP, TCPFlags: TCPAck, Flags: FlagDNS, DNSQNameLen: 9, DNSQType: 1}})

		d = serialize(t, eth(layers.EthernetTypeIPv4), ip4(layers.IPProtocolICMPv4), gopacket.Payload([]byte{3, 1, 0, 0, 0, 0}))
		add(tc{name: "icmp below 8 bytes", link: linkEthernet, data: d, want: Summary{Time: testTime, Src: ipA, Dst: ipB, Length: uint32(len(d)), Proto: ProtoICMP, ICMPType: 3, ICMPCode: 1}})
		d = serialize(t, eth(layers.EthernetTypeIPv4), ip4(layers.IPProtocolICMPv4), gopacket.Payload([]byte{3, 1, 0}))
		add(tc{name: "icmp below 4 bytes", link: linkEthernet, data: d, want: Summary{Time: testTime, Src: ipA, Dst: ipB, Length: uint32(len(d)), Proto: ProtoICMP, ICMPType: 3, ICMPCode: 1, Flags: FlagTruncated}})
		d = serialize(t, eth(layers.EthernetTypeIPv6), ip6(layers.IPProtocolICMPv6, ip6A, ip6B), gopacket.Payload([]byte{135}))
		add(tc{name: "icmpv6 below 2 bytes", link: linkEthernet, data: d, want: Summary{Time: testTime, Src: ip6A, Dst: ip6B, Length: uint32(len(d)), Proto: ProtoICMPv6, Flags: FlagTruncated}})

		d = serialize(t, eth(layers.EthernetTypeIPv4), ip4(layers.IPProtocolUDP), gopacket.Payload([]byte{0x9c, 0x40, 0, 53, 0, 5, 0, 0, 1, 2, 3, 4}))
		add(tc{name: "udp length below 8", link: linkEthernet, data: d, want: Summary{Time: testTime, Src: ipA, Dst: ipB, SrcPort: 40000, DstPort: 53,
			Length: uint32(len(d)), Proto: ProtoUDP, Flags: FlagTruncated}})
	}
	// IPv6 extension headers.
	{
		tcpSyn := synv6[40:]
		routing := []byte{60, 0, 0, 0, 0, 0, 0, 0}
		dest := []byte{51, 0, 1, 4, 0, 0, 0, 0}
		ah := []byte{6, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1} // (1+2)*4 bytes
		d := serialize(t, eth(layers.EthernetTypeIPv6), ip6(layers.IPProtocolIPv6Routing, ip6A, ip6B), gopacket.Payload(cat(routing, dest, ah, tcpSyn)))
		add(tc{name: "ipv6 routing, destination and ah headers", link: linkEthernet, data: d, want: withLen(synV6, len(d))})

		d = serialize(t, eth(layers.EthernetTypeIPv6), ip6(layers.IPProtocolIPv6Destination, ip6A, ip6B), gopacket.Payload([]byte{6, 1, 0, 0}))
		add(tc{name: "ipv6 extension header cut", link: linkEthernet, data: d, want: Summary{Time: testTime, Src: ip6A, Dst: ip6B, Length: uint32(len(d)), Proto: 60, Flags: FlagTruncated}})

		d = serialize(t, eth(layers.EthernetTypeIPv6), ip6(layers.IPProtocolIPv6Fragment, ip6A, ip6B), gopacket.Payload([]byte{6, 0, 0, 1}))
		add(tc{name: "ipv6 fragment header cut", link: linkEthernet, data: d, want: Summary{Time: testTime, Src: ip6A, Dst: ip6B, Length: uint32(len(d)), Proto: 44, Flags: FlagTruncated}})

		chain := func(n int) []byte {
			var b []byte
			for i := range n {
				next := byte(60)
				if i == n-1 {
					next = 6
				}
				b = append(b, next, 0, 1, 4, 0, 0, 0, 0)
			}
			return serialize(t, eth(layers.EthernetTypeIPv6), ip6(layers.IPProtocolIPv6Destination, ip6A, ip6B), gopacket.Payload(cat(b, tcpSyn)))
		}
		d = chain(7)
		add(tc{name: "seven ipv6 extension headers", link: linkEthernet, data: d, want: withLen(synV6, len(d))})
		d = chain(8) // the bound: the transport header is not reached
		add(tc{name: "eight ipv6 extension headers", link: linkEthernet, data: d, want: Summary{Time: testTime, Src: ip6A, Dst: ip6B, Length: uint32(len(d)), Proto: ProtoTCP}})
	}
	// Link headers gopacket does not know or bound.
	{
		tags := func(n int, tpid uint16) []byte {
			b := ethHdr(layers.EthernetType(tpid))
			for i := range n {
				et := tpid
				if i == n-1 {
					et = etherIPv4
				}
				b = append(b, 0, byte(i))
				b = binary.BigEndian.AppendUint16(b, et)
			}
			return cat(b, synv4)
		}
		d := tags(15, etherVLAN)
		add(tc{name: "fifteen vlan tags", link: linkEthernet, data: d, want: withLen(synV4, len(d))})
		add(tc{name: "sixteen vlan tags", link: linkEthernet, data: tags(16, etherVLAN), err: ReasonTruncatedLink})
		d = tags(2, etherQinQOld)
		add(tc{name: "old qinq tag 0x9100", link: linkEthernet, data: d, want: withLen(synV4, len(d))})
		add(tc{name: "vlan then empty ipv4", link: linkEthernet, data: cat(ethHdr(layers.EthernetTypeDot1Q), []byte{0, 1, 0x08, 0x00}), err: ReasonBadIPHeader})
		add(tc{name: "ethernet then empty arp", link: linkEthernet, data: ethHdr(layers.EthernetTypeARP), err: ReasonBadARP})
		add(tc{name: "pppoe cut", link: linkEthernet, data: cat(ethHdr(layers.EthernetTypePPPoESession), []byte{0x11, 0, 0, 1}), err: ReasonTruncatedLink})
		add(tc{name: "mpls without bottom of stack", link: linkEthernet, data: cat(ethHdr(layers.EthernetTypeMPLSUnicast), []byte{0, 1, 0, 64}), err: ReasonTruncatedLink})
		d = cat([]byte{0x0F, 0x00, 0x81, 0x00, 0, 5, 0x08, 0x00}, synv4)
		add(tc{name: "cisco hdlc vlan", link: linkCHDLC, data: d, want: withLen(synV4, len(d))})
		add(tc{name: "null linux inet6 family", link: linkNull, data: cat([]byte{10, 0, 0, 0}, synv6), err: ReasonNonIP})
		add(tc{name: "null family above 255", link: linkNull, data: cat([]byte{2, 1, 0, 0}, synv4), err: ReasonNonIP})
	}
	// Frames that cannot be decoded.
	{
		add(tc{name: "empty frame", link: linkEthernet, data: nil, err: ReasonTruncatedLink})
		add(tc{name: "short ethernet", link: linkEthernet, data: make([]byte, 13), err: ReasonTruncatedLink})
		add(tc{name: "lldp", link: linkEthernet, data: serialize(t, eth(layers.EthernetTypeLinkLayerDiscovery), gopacket.Payload(make([]byte, 40))), err: ReasonNonIP})
		stp := serialize(t, &layers.Ethernet{SrcMAC: macA, DstMAC: net.HardwareAddr{1, 0x80, 0xC2, 0, 0, 0}, EthernetType: layers.EthernetTypeLLC, Length: 38},
			gopacket.Payload(cat([]byte{0x42, 0x42, 0x03}, make([]byte, 35))))
		add(tc{name: "stp over 802.3", link: linkEthernet, data: stp, err: ReasonNonIP})
		add(tc{name: "unsupported link", link: uint32(layers.LinkTypeIEEE802_11), data: synv4, err: ReasonUnsupportedLink})
		add(tc{name: "ipv4 ethertype with ipv6", link: linkEthernet, data: cat(ethHdr(layers.EthernetTypeIPv4), synv6), err: ReasonIPVersion})
		bad := append([]byte(nil), synv4...)
		bad[0] = 0x44 // IHL 4
		add(tc{name: "ihl below 5", link: linkRaw, data: bad, err: ReasonBadIPHeader})
		bad = append([]byte(nil), synv4...)
		bad[0] = 0x4F // IHL 15: 60 bytes, more than the packet
		add(tc{name: "ihl beyond packet", link: linkRaw, data: bad, err: ReasonBadIPHeader})
		bad = append([]byte(nil), synv4...)
		binary.BigEndian.PutUint16(bad[2:], 12) // total length below the header
		add(tc{name: "total length below header", link: linkRaw, data: bad, err: ReasonBadIPHeader})
		add(tc{name: "ipv6 header cut", link: linkRaw, data: synv6[:39], err: ReasonBadIPHeader})
	}

	var dec Decoder
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wire := c.wireLen
			if wire == 0 {
				wire = len(c.data)
			}
			got := Summary{Src: ipB, DNSQType: 99, Flags: 0xFF} // stale values must be overwritten
			err := dec.decode(c.data, c.link, testTime, wire, &got)
			if c.err != 0 {
				var r Reason
				if !errors.As(err, &r) || r != c.err || !errors.Is(err, ErrUndecodable) {
					t.Fatalf("err = %v, want %v", err, c.err)
				}
				want := Summary{Time: testTime, Length: uint32(max(wire, len(c.data)))}
				if got != want {
					t.Errorf("summary after error = %+v, want %+v", got, want)
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			if got != c.want {
				t.Errorf("got  %+v\nwant %+v", got, c.want)
			}
			if c.link <= 0xFF {
				var viaAPI Summary
				if err := dec.Decode(c.data, layers.LinkType(c.link), testTime, wire, &viaAPI); err != nil || viaAPI != got {
					t.Errorf("Decode = %+v, %v; decode = %+v", viaAPI, err, got)
				}
			}
		})
	}
}

// TestDecodeNoAllocs checks that decoding allocates nothing, for decodable
// and undecodable frames alike.
func TestDecodeNoAllocs(t *testing.T) {
	frames := [][]byte{
		serialize(t, eth(layers.EthernetTypeIPv4), ip4(layers.IPProtocolUDP), &layers.UDP{SrcPort: 53, DstPort: 53000},
			dnsResponse("nonexistent.example.org", layers.DNSTypeTXT, layers.DNSResponseCodeNXDomain)),
		serialize(t, eth(layers.EthernetTypeLinkLayerDiscovery), gopacket.Payload(make([]byte, 40))),
		{1, 2, 3},
		// gopacket's IPv6 layer allocates the options of a hop-by-hop
		// header; its layers allocate errors for the malformed headers.
		serialize(t, eth(layers.EthernetTypeIPv6), ip6(layers.IPProtocolIPv6HopByHop, ip6A, ip6B),
			gopacket.Payload([]byte{58, 0, 5, 2, 0, 0, 1, 0, 143, 0, 0, 0, 0, 0, 0, 0})),
		cat(ethHdr(layers.EthernetTypeIPv4), []byte{0x44}, make([]byte, 30)),                                        // IHL 4
		serialize(t, eth(layers.EthernetTypeIPv4), ip4(layers.IPProtocolTCP), gopacket.Payload([]byte{0, 1, 0, 2})), // TCP cut
		serialize(t, eth(layers.EthernetTypeIPv6), ip6(layers.IPProtocolIPv6Destination, ip6A, ip6B), gopacket.Payload([]byte{6, 1, 0, 0})),
		cat(ethHdr(layers.EthernetTypeARP), []byte{0, 1, 0x08, 0x00, 6, 4, 0, 1}),
	}
	var dec Decoder
	var s Summary
	var st Stats
	for _, f := range frames {
		st.Observe(dec.Decode(f, layers.LinkTypeEthernet, 1, len(f), &s)) // creates the map keys
	}
	allocs := testing.AllocsPerRun(1000, func() {
		for _, f := range frames {
			st.Observe(dec.Decode(f, layers.LinkTypeEthernet, 1, len(f), &s))
		}
	})
	if allocs != 0 {
		t.Errorf("allocs per run = %v, want 0", allocs)
	}
}

func TestReasonStrings(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range Reasons() {
		name := r.String()
		if name == "" || name == "invalid" || seen[name] {
			t.Errorf("reason %d has name %q", r, name)
		}
		seen[name] = true
		if r.Error() != "packet: undecodable: "+name {
			t.Errorf("reason %d: Error() = %q", r, r.Error())
		}
	}
	if len(seen) != 6 {
		t.Errorf("%d reasons, want 6", len(seen))
	}
	if Reason(0).String() != "invalid" || Reason(200).String() != "invalid" {
		t.Error("invalid reasons must be named invalid")
	}
}
