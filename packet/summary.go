package packet

import "net/netip"

// Flag bits of Summary.Flags.
const (
	// FlagARP marks an ARP packet; Src and Dst are the sender and target
	// protocol addresses and ARPOp is set.
	FlagARP uint8 = 1 << iota
	// FlagDNS marks a packet carrying a DNS message that decoded.
	FlagDNS
	// FlagDNSResponse marks a DNS response (QR bit set).
	FlagDNSResponse
	// FlagFragment marks an IP fragment (more-fragments set or offset > 0);
	// ports are zero for non-first fragments.
	FlagFragment
	// FlagTruncated marks a packet whose transport header was cut by the
	// snap length or is malformed; addresses are valid, ports may be zero.
	FlagTruncated
)

// TCP flag bits of Summary.TCPFlags, as on the wire.
const (
	TCPFin uint8 = 1 << iota
	TCPSyn
	TCPRst
	TCPPsh
	TCPAck
	TCPUrg
	TCPEce
	TCPCwr
)

// IANA protocol numbers used in Summary.Proto.
const (
	ProtoICMP   uint8 = 1
	ProtoTCP    uint8 = 6
	ProtoUDP    uint8 = 17
	ProtoICMPv6 uint8 = 58
)

// Summary is what riptide keeps of one packet. It is a plain value: copy it
// freely; it holds no references into packet buffers.
type Summary struct {
	// Time is the capture time in nanoseconds since the Unix epoch.
	Time int64
	// Src and Dst are the network-layer addresses (IPv4, IPv6, or the ARP
	// sender and target protocol addresses).
	Src, Dst netip.Addr
	// SrcPort and DstPort are TCP or UDP ports; zero otherwise.
	SrcPort, DstPort uint16
	// Length is the packet's length on the wire in bytes.
	Length uint32
	// Proto is the IANA transport protocol number (0 for ARP).
	Proto uint8
	// TCPFlags holds the TCP flag bits (TCPSyn, ...); zero for non-TCP.
	TCPFlags uint8
	// ICMPType and ICMPCode are set for ICMP and ICMPv6.
	ICMPType, ICMPCode uint8
	// ARPOp is the ARP operation (1 request, 2 reply) when FlagARP is set.
	ARPOp uint8
	// Flags holds the Flag* bits.
	Flags uint8
	// DNSRCode is the DNS response code (3 = NXDOMAIN) when FlagDNS is set.
	DNSRCode uint8
	// DNSQNameLen is the length in bytes of the first question's name
	// (capped at 255) when FlagDNS is set.
	DNSQNameLen uint8
	// DNSQType is the first question's type (1 A, 16 TXT, 10 NULL, ...).
	DNSQType uint16
}

// Is reports whether all of the given flag bits are set.
func (s *Summary) Is(flags uint8) bool { return s.Flags&flags == flags }
