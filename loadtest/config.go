package loadtest

import (
	"errors"
	"fmt"
	"net/netip"
	"time"
)

// AttackKind names an attack. Its text is what Label.Attack and the labels
// CSV carry, in the names of the shared benchmark's labels.
type AttackKind string

// Attack kinds.
const (
	// PortScan is a TCP SYN port scan (nmap -sS): Attacker sends one SYN to
	// each of Rate × Duration distinct ports of Victim; closed ports answer
	// RST-ACK, open ones SYN-ACK, which the attacker resets.
	PortScan AttackKind = "syn-portscan"
	// SSHBruteForce is an SSH password brute force: Attacker opens Rate
	// short connections per second to port 22 of Victim, each a full
	// handshake, banner and key exchange, three failed password attempts of
	// nearly constant size, and a FIN close.
	SSHBruteForce AttackKind = "ssh-bruteforce"
	// SYNFlood is a SYN flood on port 80 of Victim at Rate SYNs per second,
	// from spoofed random public sources (participants) when Attacker is the
	// zero Addr, else from Attacker; Victim answers each with a SYN-ACK.
	SYNFlood AttackKind = "syn-flood"
)

// defaultRate returns the kind's Rate when Attack.Rate is zero.
func (k AttackKind) defaultRate() float64 {
	switch k {
	case PortScan:
		return 50 // ports per second: 1,000 ports in 20 s
	case SSHBruteForce:
		return 10 // connections per second
	case SYNFlood:
		return 1000 // SYNs per second
	}
	return 0
}

// Attack is one injected attack.
type Attack struct {
	// Kind is the attack's kind.
	Kind AttackKind
	// Attacker is the attacking host; for a spoofed SYNFlood the zero Addr.
	Attacker netip.Addr
	// Victim is the attacked host. It need not be one of the generated
	// servers; the ports a PortScan finds open are those of the server at
	// that address (22, 80 and 443 for other addresses).
	Victim netip.Addr
	// Start is when the attack's first packet is sent (rounded up to a
	// microsecond).
	Start time.Time
	// Duration is how long the attacker keeps sending new probes,
	// connections or SYNs. Answers and connections under way finish after
	// it, so the labelled span is a little longer.
	Duration time.Duration
	// Rate is the kind's intensity: ports per second for PortScan,
	// connections per second for SSHBruteForce, SYNs per second for
	// SYNFlood. Zero means the kind's default (50, 10, 1000).
	Rate float64
}

// Config describes the synthetic network and its attacks. The zero value is
// not usable; start from DefaultConfig.
type Config struct {
	// Seed makes the traffic reproducible: the same Config yields the same
	// summaries in the same order.
	Seed int64
	// Start is the time of the first possible packet (rounded up to a
	// microsecond; every summary time is a whole microsecond, as in pcap).
	Start time.Time
	// Duration bounds the traffic: every summary is in [Start,
	// Start+Duration).
	Duration time.Duration
	// Hosts is the number of normal clients, at ClientAddr(0..Hosts-1).
	Hosts int
	// Servers is the number of internal servers, at ServerAddr(0..Servers-1),
	// at least 1. Server 0 is the DNS resolver; the others serve, in turn,
	// web (HTTP and HTTPS), files (SMB and SSH), HTTPS and mail.
	Servers int
	// Attacks are injected into the normal traffic. Attacks and normal
	// traffic draw from separate random streams, so adding an attack does
	// not change the normal traffic.
	Attacks []Attack
}

// DefaultStart is the Start of DefaultConfig, the start of the shared
// benchmark's capture.
var DefaultStart = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// DefaultConfig returns the demo scenario: 50 clients and 6 servers, quiet
// for the learning period learn, then a SYN port scan of 1,000 ports of the
// file server by client 7 at learn+1m (20 s), an SSH brute force on the file
// server by client 23 at learn+3m (60 s, 10 connections/s), and a spoofed SYN
// flood on the web server at learn+5m (20 s); the traffic ends at learn+7m.
func DefaultConfig(learn time.Duration) Config {
	at := func(d time.Duration) time.Time { return DefaultStart.Add(learn + d) }
	return Config{
		Seed:     1,
		Start:    DefaultStart,
		Duration: learn + 7*time.Minute,
		Hosts:    50,
		Servers:  6,
		Attacks: []Attack{
			{Kind: PortScan, Attacker: ClientAddr(7), Victim: ServerAddr(serverFile), Start: at(time.Minute), Duration: 20 * time.Second},
			{Kind: SSHBruteForce, Attacker: ClientAddr(23), Victim: ServerAddr(serverFile), Start: at(3 * time.Minute), Duration: time.Minute},
			{Kind: SYNFlood, Victim: ServerAddr(serverWeb), Start: at(5 * time.Minute), Duration: 20 * time.Second},
		},
	}
}

// Validate reports the first problem of c, if any.
func (c *Config) Validate() error {
	var errs []error
	if c.Start.IsZero() {
		errs = append(errs, errors.New("start is zero"))
	}
	if c.Duration <= 0 {
		errs = append(errs, fmt.Errorf("duration %v is not positive", c.Duration))
	}
	if c.Hosts < 0 || c.Hosts > maxHosts {
		errs = append(errs, fmt.Errorf("hosts %d outside 0..%d", c.Hosts, maxHosts))
	}
	if c.Servers < 1 || c.Servers > maxServers {
		errs = append(errs, fmt.Errorf("servers %d outside 1..%d", c.Servers, maxServers))
	}
	for i, a := range c.Attacks {
		if a.Kind.defaultRate() == 0 {
			errs = append(errs, fmt.Errorf("attack %d: unknown kind %q", i, a.Kind))
		}
		if !a.Victim.IsValid() {
			errs = append(errs, fmt.Errorf("attack %d (%s): no victim", i, a.Kind))
		}
		if !a.Attacker.IsValid() && a.Kind != SYNFlood {
			errs = append(errs, fmt.Errorf("attack %d (%s): no attacker", i, a.Kind))
		}
		if a.Attacker == a.Victim {
			errs = append(errs, fmt.Errorf("attack %d (%s): attacker is the victim", i, a.Kind))
		}
		if a.Start.IsZero() || a.Duration <= 0 {
			errs = append(errs, fmt.Errorf("attack %d (%s): needs a start and a positive duration", i, a.Kind))
		}
		if a.Rate < 0 || a.Rate > 1e6 {
			errs = append(errs, fmt.Errorf("attack %d (%s): rate %v outside 0..1e6", i, a.Kind, a.Rate))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("loadtest: config: %w", errors.Join(errs...))
	}
	return nil
}

// Limits of the address plan.
const (
	maxHosts   = 250 * 256 * 4
	maxServers = 240
)

// Server roles by index (modulo serverRoles, server 0 is always the resolver).
const (
	serverResolver = 0
	serverWeb      = 1
	serverFile     = 2
	serverHTTPS    = 3
	serverMail     = 4
	serverRoles    = 5
)

// ClientAddr returns the address of normal client i: 10.1.0.10, 10.1.0.11,
// ..., 250 per /24 (10.1.1.10 is client 250).
func ClientAddr(i int) netip.Addr {
	return netip.AddrFrom4([4]byte{10, byte(1 + i/(250*256)), byte(i / 250 % 256), byte(10 + i%250)})
}

// ServerAddr returns the address of internal server i: 10.0.1.10 + i.
// Server 0 is the DNS resolver.
func ServerAddr(i int) netip.Addr {
	return netip.AddrFrom4([4]byte{10, 0, 1, byte(10 + i)})
}

// GatewayAddr is the clients' default gateway (an ARP and ping target that
// sends nothing on its own).
var GatewayAddr = netip.AddrFrom4([4]byte{10, 0, 0, 1})

// serverRole returns the role of server i.
func serverRole(i int) int {
	if i == 0 {
		return serverResolver
	}
	r := i % serverRoles
	if r == serverResolver {
		return serverWeb
	}
	return r
}

// openPorts returns the TCP ports server i listens on.
func openPorts(role int) []uint16 {
	switch role {
	case serverResolver:
		return []uint16{53}
	case serverWeb:
		return []uint16{80, 443}
	case serverFile:
		return []uint16{22, 139, 445}
	case serverHTTPS:
		return []uint16{443, 8443}
	case serverMail:
		return []uint16{25, 587, 993}
	}
	return []uint16{22, 80, 443}
}
