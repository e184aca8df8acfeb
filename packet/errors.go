package packet

import "errors"

// ErrUnknownFormat is returned by Open and NewReader when the input starts
// with neither a pcap nor a pcapng magic number.
var ErrUnknownFormat = errors.New("unknown capture file format")

// ErrCorruptFile is wrapped by the error that ends reading a capture file
// that is truncated or holds an impossible record (a block or capture length
// out of range, a packet of an undeclared interface, ...). Packets read
// before the corruption have been returned and counted.
var ErrCorruptFile = errors.New("corrupt capture file")

// ErrUndecodable is matched (with errors.Is) by every Reason: the frame could
// not be decoded into a Summary.
var ErrUndecodable = errors.New("undecodable packet")

// Reason says why a frame could not be decoded. It is an error returned by
// Decoder.Decode; errors.As extracts it and errors.Is(err, ErrUndecodable)
// reports true for it. The zero value is not a reason.
type Reason uint8

// Reasons for undecodable frames. Every frame is counted either as decoded or
// under exactly one of these.
const (
	// ReasonTruncatedLink: the frame is shorter than its link-layer header
	// (including VLAN, PPPoE and MPLS headers).
	ReasonTruncatedLink Reason = iota + 1
	// ReasonUnsupportedLink: the capture's link type is not one the decoder
	// knows.
	ReasonUnsupportedLink
	// ReasonNonIP: the link layer carries something other than IPv4, IPv6
	// or ARP (LLDP, STP, IPX, an unknown loopback family, ...).
	ReasonNonIP
	// ReasonIPVersion: the IP version nibble is not the one the link layer
	// announced (or neither 4 nor 6 on raw IP links).
	ReasonIPVersion
	// ReasonBadIPHeader: the IPv4 or IPv6 header is cut short or
	// inconsistent (header length below 20 bytes or above the total length).
	ReasonBadIPHeader
	// ReasonBadARP: the ARP message is cut short or does not map IPv4
	// addresses.
	ReasonBadARP

	numReasons
)

var reasonNames = [numReasons]string{
	"invalid",
	"truncated-link",
	"unsupported-link",
	"non-ip",
	"ip-version",
	"bad-ip-header",
	"bad-arp",
}

var reasonErrors = [numReasons]string{
	"packet: undecodable: invalid",
	"packet: undecodable: truncated-link",
	"packet: undecodable: unsupported-link",
	"packet: undecodable: non-ip",
	"packet: undecodable: ip-version",
	"packet: undecodable: bad-ip-header",
	"packet: undecodable: bad-arp",
}

// Reasons returns every Reason, in order.
func Reasons() []Reason {
	rs := make([]Reason, 0, numReasons-1)
	for r := Reason(1); r < numReasons; r++ {
		rs = append(rs, r)
	}
	return rs
}

// String returns the reason's name as used in Stats, e.g. "non-ip".
func (r Reason) String() string {
	if r >= numReasons {
		return reasonNames[0]
	}
	return reasonNames[r]
}

// Error implements error.
func (r Reason) Error() string {
	if r >= numReasons {
		return reasonErrors[0]
	}
	return reasonErrors[r]
}

// Is reports whether target is ErrUndecodable.
func (r Reason) Is(target error) bool { return target == ErrUndecodable }
