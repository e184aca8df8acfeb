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
// header and first question of DNS messages. It never allocates and never
// panics, whatever the bytes: a frame it cannot decode yields a Reason, which
// is an error matching ErrUndecodable.
//
// The decoder is written by hand rather than on top of gopacket's
// DecodingLayerParser: on the benchmark capture it fills a Summary in less
// than half the time the parser takes to decode the layers alone (compare
// BenchmarkDecodeDevMixed and BenchmarkGopacketParserDevMixed); it allocates
// nothing even on malformed input, where gopacket's layers build error
// values, recover from panics or allocate IPv6 options; and it decides
// exactly which reason a bad frame is counted under. The file readers are
// also this package's own: pcapgo's keep link types in a uint8 (Linux SLL2 is
// 276), reject records Wireshark reads, and its pcapng reader divides by
// zero on a timestamp resolution of 2^-64 or finer. gopacket's layers build the packets of the tests.
package packet
