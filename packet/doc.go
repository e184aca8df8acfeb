// Package packet decodes captured frames into compact packet summaries: the
// few fields of each packet that riptide's per-host features need.
//
// The package is pure: it reads pcap and pcapng files and decodes bytes, but
// knows nothing about Kafka.
//
// A Reader (from Open or NewReader) reads a capture file record by record
// into a reused buffer and decodes each frame with a Decoder into a Summary;
// frames it cannot decode are skipped and counted by Reason in the Reader's
// Stats. A corrupt or truncated file ends reading with an error wrapping
// ErrCorruptFile after every packet that could be read; the Stats still hold
// the counts.
//
// A Decoder turns one frame of a known link type (Ethernet with 802.1Q/802.1ad
// tags, PPPoE and MPLS, Linux cooked capture (v2 in files only), raw IPv4/IPv6,
// BSD null and OpenBSD loop, PPP and Cisco HDLC) into a Summary: addresses,
// ports, protocol, TCP flags, ICMP type and code, ARP, fragments, and the
// header and first question of DNS messages. Once set up (a Decoder
// allocates its layers on first use) it never allocates, and it never
// panics, whatever the bytes: a frame it cannot decode yields a Reason, which
// is an error matching ErrUndecodable.
//
// The Decoder is built on gopacket's DecodingLayerParser: preallocated
// gopacket layers (Ethernet, Dot1Q, LinuxSLL, Loopback, ARP, IPv4, IPv6,
// IPv6ExtensionSkipper, TCP, UDP, ICMPv4, ICMPv6) decoded into a reused
// layer list, with gopacket's own container and parser loop. Each layer sits
// behind a guard, because on malformed input gopacket's layers build error
// values (allocating), panic (Linux SLL address lengths, ARP address sizes)
// or reject headers that must still count as decoded (cut transport headers,
// malformed options, zero IPv6 payload lengths); and gopacket's IPv6 layer
// allocates the options of every hop-by-hop header. The guards pick the
// Reason, or decode those headers by hand, so that gopacket is only called on
// input it decodes without error, and the parser runs without its panic
// recovery. The headers gopacket v1.1.19 has no DecodingLayer for (Linux
// SLL2, PPP, Cisco HDLC, PPPoE, MPLS, the IPv6 fragment and authentication
// headers) are decoded by hand; decode.go says why at each place. The file
// readers are this package's own: pcapgo's keep link types in a uint8 (Linux
// SLL2 is 276), reject records Wireshark reads, and its pcapng reader divides
// by zero on a timestamp resolution of 2^-64 or finer. DNS messages are read
// by hand as well (dns.go): gopacket's DNS layer allocates its questions.
package packet
