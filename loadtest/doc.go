// Package loadtest generates deterministic synthetic traffic of a small
// office network, as packet summaries, with injected attacks and their ground
// truth. `riptide demo` uses it to show detection without a capture, and the
// throughput benchmarks use it as an endless, allocation-free source.
//
// The network: Config.Hosts clients (ClientAddr), Config.Servers internal
// servers (ServerAddr; server 0 is the DNS resolver, then web, file, HTTPS
// and mail servers in turn), a gateway (GatewayAddr) and a few dozen public
// addresses (web and CDN servers, upstream resolvers, NTP servers). Every
// host starts sessions at random (Poisson arrivals whose rates differ about
// twentyfold between clients, with occasional bursts of eight times the rate)
// and of a per-host mix: HTTPS and HTTP connections to external and internal
// servers, most preceded by a DNS lookup (query names of 10 to 40 bytes,
// A/AAAA/HTTPS/TXT/PTR, about 3% NXDOMAIN, cache misses that the resolver
// forwards upstream), SMB and mail sessions, QUIC-like UDP flows, NTP, ICMP
// echo, ARP requests, and interactive SSH by a few administrators. TCP
// connections have a three-way handshake, rounds of requests and responses
// of varied sizes with acknowledgements, and a FIN close (or a reset).
//
// Attacks (Attack, DefaultConfig) are a SYN port scan, an SSH password brute
// force and a SYN flood. They draw from their own random streams, so adding
// one leaves the normal traffic unchanged, and Labels can replay them alone
// to report the exact span of their packets in the format of the shared
// benchmark (WriteLabelsCSV). LastAttack gives the same truth per packet.
//
// A Generator is a discrete-event simulation: a binary heap of sessions keyed
// by the time of their next packet, each a small state machine with its own
// random stream. Next therefore yields summaries in time order (every time a
// whole microsecond, as in pcap) at several million per second per core
// without allocating.
//
// The package is pure: it knows nothing about Kafka or goka.
package loadtest
