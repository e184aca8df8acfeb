package window

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// Feature describes one element of a Vector's Values.
type Feature struct {
	// Name is the feature's stable identifier (snake_case).
	Name string
	// Unit is what the value counts or measures.
	Unit string
	// Help says what the feature is and why it is there.
	Help string
}

// Indices of the features in Schema and Vector.Values.
const (
	FPktsOut = iota
	FPktsIn
	FBytesOut
	FBytesIn
	FDstIPs
	FDstPorts
	FDstPairs
	FSrcIPs
	FLocalPorts
	FSynOut
	FSynIn
	FSynAckOut
	FSynAckIn
	FRstOut
	FRstIn
	FFinOut
	FFinIn
	FSynOutUnanswered
	FSynInUnanswered
	FMaxSynPerService
	FUDPOut
	FUDPIn
	FICMPOut
	FICMPIn
	FICMPEchoReqOut
	FICMPUnreachIn
	FARPReqOut
	FDNSQueriesOut
	FDNSQNameLenMean
	FDNSQNameLenMax
	FDNSNXDomainIn
	FDNSTXTNullShare
	FDstIPEntropy
	FDstPortEntropy
	FSrcIPEntropy
	FPktSizeMean
	FIATMean
	FIATStd
	FSvcStarts60s
	FSvcStartsIn60s
	FBeaconRegularity
	FLoginFailOut
	FLoginFailIn
	FLoginOKOut
	FLoginOKIn
	FInvalidUserOut
	FBreakInOut
	FUsersTriedOut
	// NumFeatures is the number of features: len(Schema).
	NumFeatures
)

// Schema documents the features of a Vector, in the order of Vector.Values.
// "Sent" means the host is the packet's source, "received" that it is the
// destination; a packet from a host to itself counts both ways. Distinct
// counts are exact up to 8 and HyperLogLog estimates (about 4.6% standard
// error) beyond; entropies are exact up to 8 distinct keys and over 64 hashed
// buckets (at most 6 bits) beyond. All values are finite and >= 0; counts are
// preferred to ratios, which explode on benign one-way traffic.
//
// The last seven come from security events in logs (AddEvent, fed by
// riptide syslog through the events topic); "as source" means the host is
// the remote side of the attempt, "as target" the server that logged it.
// They are 0 for hosts no log mentions, and in packet-only backtests.
//
// Schema must not be modified; changing it changes SchemaID.
var Schema = []Feature{
	FPktsOut:          {"pkts_out", "packets", "Packets sent: volume as a source."},
	FPktsIn:           {"pkts_in", "packets", "Packets received: volume as a destination (floods)."},
	FBytesOut:         {"bytes_out", "bytes", "Wire bytes sent (exfiltration, uploads)."},
	FBytesIn:          {"bytes_in", "bytes", "Wire bytes received."},
	FDstIPs:           {"dst_ips", "addresses", "Distinct destination addresses of packets sent: fan-out (sweeps, worms)."},
	FDstPorts:         {"dst_ports", "ports", "Distinct TCP/UDP destination ports of packets sent (port scans)."},
	FDstPairs:         {"dst_pairs", "services", "Distinct (destination, TCP/UDP port) pairs sent to: horizontal and vertical scans."},
	FSrcIPs:           {"src_ips", "addresses", "Distinct source addresses of packets received: fan-in (DDoS, spoofed floods)."},
	FLocalPorts:       {"local_ports", "ports", "Distinct TCP/UDP ports of the host that were contacted (scanned victims)."},
	FSynOut:           {"syn_out", "packets", "TCP SYN without ACK sent: connection attempts made."},
	FSynIn:            {"syn_in", "packets", "TCP SYN without ACK received: connection attempts to the host (SYN floods)."},
	FSynAckOut:        {"synack_out", "packets", "TCP SYN-ACK sent: connections the host accepted."},
	FSynAckIn:         {"synack_in", "packets", "TCP SYN-ACK received: the host's attempts that were accepted."},
	FRstOut:           {"rst_out", "packets", "TCP RST sent: refused connections (closed ports being scanned)."},
	FRstIn:            {"rst_in", "packets", "TCP RST received: the host's attempts refused (scanner)."},
	FFinOut:           {"fin_out", "packets", "TCP FIN sent: orderly closes (also FIN scans)."},
	FFinIn:            {"fin_in", "packets", "TCP FIN received."},
	FSynOutUnanswered: {"syn_out_unanswered", "packets", "max(0, syn_out - synack_in): the host's attempts not accepted (scans, failing C2)."},
	FSynInUnanswered:  {"syn_in_unanswered", "packets", "max(0, syn_in - synack_out): attempts to the host it did not accept (SYN flood victim)."},
	FMaxSynPerService: {"max_syn_per_service", "packets", "Most SYNs sent to one (destination, port), space-saving lower bound over 16 entries: repeated attempts (brute force)."},
	FUDPOut:           {"udp_out", "packets", "UDP packets sent."},
	FUDPIn:            {"udp_in", "packets", "UDP packets received (UDP floods, amplification victims)."},
	FICMPOut:          {"icmp_out", "packets", "ICMP and ICMPv6 packets sent."},
	FICMPIn:           {"icmp_in", "packets", "ICMP and ICMPv6 packets received."},
	FICMPEchoReqOut:   {"icmp_echo_req_out", "packets", "ICMP echo requests sent (ping sweeps)."},
	FICMPUnreachIn:    {"icmp_unreach_in", "packets", "ICMP destination-unreachable received (UDP scans, dead destinations)."},
	FARPReqOut:        {"arp_req_out", "packets", "ARP requests and ICMPv6 neighbour solicitations sent (local network scans)."},
	FDNSQueriesOut:    {"dns_queries_out", "queries", "DNS queries sent."},
	FDNSQNameLenMean:  {"dns_qname_len_mean", "bytes", "Mean query-name length of DNS queries sent (DNS tunnelling, DGA); 0 without queries."},
	FDNSQNameLenMax:   {"dns_qname_len_max", "bytes", "Longest query name of DNS queries sent."},
	FDNSNXDomainIn:    {"dns_nxdomain_in", "responses", "DNS NXDOMAIN responses received (DGA malware)."},
	FDNSTXTNullShare:  {"dns_txt_null_share", "fraction", "Share of DNS queries sent asking for TXT or NULL records (tunnelling); 0 without queries."},
	FDstIPEntropy:     {"dst_ip_entropy", "bits", "Shannon entropy of destination addresses of packets sent, weighted by packets (Lakhina et al. 2005)."},
	FDstPortEntropy:   {"dst_port_entropy", "bits", "Shannon entropy of TCP/UDP destination ports of packets sent, weighted by packets."},
	FSrcIPEntropy:     {"src_ip_entropy", "bits", "Shannon entropy of source addresses of packets received, weighted by packets."},
	FPktSizeMean:      {"pkt_size_mean", "bytes", "Mean wire length of packets sent or received (floods and scans are small)."},
	FIATMean:          {"iat_mean", "milliseconds", "Mean gap between successive packets sent or received; 0 with fewer than 2 packets."},
	FIATStd:           {"iat_std", "milliseconds", "Standard deviation of those gaps (machine-regular vs human traffic); a packet older than the latest one seen counts as a gap of 0."},
	// Host history: TCP connection starts (SYN without ACK) over the 60 s
	// ending with the window, kept across windows in State (see history.go
	// for the bounds and why).
	FSvcStarts60s:     {"svc_starts_60s", "connections", "Most TCP connection attempts sent to one (destination, port) in the 60 s ending with the window (counted in 10 s buckets; 8 services tracked, a new one replacing the one with the fewest): repetition over time, the sign of password guessing over encrypted protocols, where each 10 s window looks like an ordinary session (the idea behind Zeek's SSH guessing heuristic); also beacons."},
	FSvcStartsIn60s:   {"svc_starts_in_60s", "connections", "Most TCP connection attempts received from one source on one local port in the 60 s ending with the window (same bounds): the victim's side of password guessing. Spoofed floods spread over many sources and stay low."},
	FLoginFailOut:     {"login_fail_out", "attempts", "Failed logins the host attempted on other hosts (sshd Failed password/publickey/none, PAM authentication failures naming it as rhost; sshd's \"message repeated N times\" counts N): password guessing seen in the target's logs."},
	FLoginFailIn:      {"login_fail_in", "attempts", "Failed logins on the host, as logged by it (the same messages, plus sudo failures): the victim's side of password guessing."},
	FLoginOKOut:       {"login_ok_out", "logins", "Logins the host made that were accepted (sshd Accepted password/publickey): together with failures before them, a guess that succeeded."},
	FLoginOKIn:        {"login_ok_in", "logins", "Logins accepted on the host."},
	FInvalidUserOut:   {"invalid_user_out", "attempts", "Login attempts the host made for accounts that do not exist (sshd Invalid user): dictionary attacks."},
	FBreakInOut:       {"break_in_warn_out", "messages", "sshd POSSIBLE BREAK-IN ATTEMPT warnings about the host's address (its name and address do not map to each other)."},
	FUsersTriedOut:    {"users_tried_out", "accounts", "Distinct user names of the failed logins and invalid users the host attempted (user spraying)."},
	FBeaconRegularity: {"beacon_regularity", "connections", "Periodicity of connection attempts sent (beacons): per (destination, port) with n >= 3 attempts in the 60 s ending with the window, n·max(0, 1 - CV), CV the coefficient of variation of the gaps between them (estimated from the latest 16); the maximum over destinations. A fixed-period beacon scores close to n, irregular reconnects and bursts of parallel connections near 0."},
}

var schemaID = func() string {
	var b strings.Builder
	for _, f := range Schema {
		b.WriteString(f.Name)
		b.WriteByte('\n')
	}
	sum := sha256.Sum256([]byte(b.String()))
	return "v1-" + hex.EncodeToString(sum[:4])
}()

// SchemaID returns a stable identifier of Schema: "v1-" and the first 8 hex
// digits of the SHA-256 of the feature names. Models record it and refuse
// vectors of another schema.
func SchemaID() string { return schemaID }

// FeatureIndex returns the index in Schema of the feature with the given name.
func FeatureIndex(name string) (int, bool) {
	for i, f := range Schema {
		if f.Name == name {
			return i, true
		}
	}
	return -1, false
}
