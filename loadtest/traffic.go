package loadtest

import (
	"net/netip"

	"github.com/riptide-nids/riptide/packet"
)

// Frame lengths on the wire (Ethernet).
const (
	lenSYN    = 74 // SYN and SYN-ACK with options
	lenACK    = 66 // pure ACK with timestamps
	lenMin    = 60 // minimum Ethernet frame (RST, scan SYNs, ARP replies)
	lenARP    = 42
	lenPing   = 98
	lenNTP    = 90
	lenTCPHdr = 66 // Ethernet, IPv4 and TCP with timestamps
	mss       = 1448
)

// step runs actor a at time now (µs). It reports whether it wrote a packet
// into *s (Time excepted) and when the actor wakes next (negative: never).
func (g *Generator) step(a *actor, now int64, s *packet.Summary) (bool, int64) {
	switch a.kind {
	case kSpawner:
		return false, g.stepSpawner(a, now)
	case kDNS:
		return g.stepDNS(a, now, s)
	case kTCP:
		return g.stepTCP(a, now, s)
	case kUDP:
		return stepUDP(a, now, s)
	case kPing:
		return stepPing(a, now, s)
	case kARP:
		return stepARP(a, now, s)
	case kScan:
		return g.stepScan(a, now, s)
	case kScanReply:
		return stepScanReply(a, now, s)
	case kBrute:
		return false, g.stepBrute(a, now)
	case kFlood:
		return g.stepFlood(a, now, s)
	case kFloodReply:
		setTCP(s, a.srv, a.cli, a.sport, a.cport, lenMin, packet.TCPSyn|packet.TCPAck)
		return true, -1
	}
	return false, -1
}

// setTCP fills s with a TCP packet.
func setTCP(s *packet.Summary, src, dst netip.Addr, sp, dp uint16, length int64, flags uint8) {
	*s = packet.Summary{Src: src, Dst: dst, SrcPort: sp, DstPort: dp, Length: uint32(length),
		Proto: packet.ProtoTCP, TCPFlags: flags}
}

// setUDP fills s with a UDP packet.
func setUDP(s *packet.Summary, src, dst netip.Addr, sp, dp uint16, length int64) {
	*s = packet.Summary{Src: src, Dst: dst, SrcPort: sp, DstPort: dp, Length: uint32(length), Proto: packet.ProtoUDP}
}

func ephemeral(r *rng) uint16 { return uint16(49152 + r.intn(16384)) }

// stepSpawner starts one session of the host and returns the next arrival.
func (g *Generator) stepSpawner(a *actor, now int64) int64 {
	h := &g.hosts[a.host]
	r := &a.rng
	rate := h.rate
	if now < h.burstEnd {
		rate *= 8
	} else if r.chance(0.02) {
		h.burstEnd = now + int64(r.exp(20e6)) // a burst of activity, about 20 s
	}
	g.startSession(a, h, now)
	return now + 1 + int64(r.exp(1e6/rate))
}

// startSession spawns a session of a kind drawn from the host's mix.
func (g *Generator) startSession(parent *actor, h *hostInfo, now int64) {
	r := &parent.rng
	u := float32(r.float())
	kind := 0
	for kind < nSessionKinds-1 && u >= h.cum[kind] {
		kind++
	}
	resolver := ServerAddr(0)
	isResolver := h.addr == resolver
	ext := externalWeb[h.fav]
	if r.chance(0.5) {
		ext = externalWeb[r.intn(len(externalWeb))]
	}
	internal := func(role int) (netip.Addr, bool) {
		ids := g.byRole[role]
		if len(ids) == 0 {
			return netip.Addr{}, false
		}
		return ServerAddr(int(ids[r.intn(len(ids))])), true
	}
	var c *actor
	switch kind {
	case sWebExt, sQUIC:
		c = g.spawn(parent, kTCP, now)
		c.svc, c.srv = svcHTTPS, ext
		if kind == sQUIC {
			c.kind, c.svc = kUDP, svcQUIC
		}
		c.rtt = extRTT(r, ext)
	case sWebInt, sSMB, sMail, sSSH:
		role, svc := serverWeb, svcHTTPS
		switch kind {
		case sWebInt:
			if r.chance(0.5) {
				role = serverHTTPS
			} else if r.chance(0.4) {
				svc = svcHTTP
			}
		case sSMB:
			role, svc = serverFile, svcSMB
		case sMail:
			role, svc = serverMail, svcMail
		case sSSH:
			role, svc = serverFile, svcSSH
		}
		dst, ok := internal(role)
		if !ok {
			dst, ok = internal(serverWeb)
			svc = svcHTTPS
		}
		if !ok || dst == h.addr {
			return
		}
		c = g.spawn(parent, kTCP, now)
		c.svc, c.srv = svc, dst
		c.rtt = r.between(150, 1500)
	case sDNS:
		if isResolver {
			return
		}
		c = g.spawn(parent, kDNS, now)
	case sNTP:
		c = g.spawn(parent, kUDP, now)
		c.svc, c.srv = svcNTP, externalNTP[r.intn(len(externalNTP))]
		c.rtt = extRTT(r, c.srv)
	case sPing:
		c = g.spawn(parent, kPing, now)
		switch v := r.float(); {
		case v < 0.6:
			c.srv = GatewayAddr
		case v < 0.9:
			c.srv = ServerAddr(r.intn(g.cfg.Servers))
		default:
			c.srv = externalDNS[r.intn(len(externalDNS))]
		}
		if c.srv == h.addr {
			c.srv = GatewayAddr
		}
		c.rtt = r.between(200, 2000)
		if !c.srv.IsPrivate() {
			c.rtt = extRTT(r, c.srv)
		}
		c.n = int32(1 + r.intn(4))
		c.left = c.n
	case sARP:
		c = g.spawn(parent, kARP, now)
		switch v := r.float(); {
		case v < 0.7:
			c.srv = GatewayAddr
		case v < 0.95:
			c.srv = ServerAddr(r.intn(g.cfg.Servers))
		default:
			c.srv = netip.AddrFrom4([4]byte{10, 0, 2, byte(1 + r.intn(254))}) // nobody there
			c.flag = true
		}
		if c.srv == h.addr {
			c.srv = GatewayAddr
		}
	}
	c.cli = h.addr
	// Names are looked up before most connections (not by the resolver).
	if (c.kind == kTCP || c.kind == kUDP && c.svc == svcQUIC) && !isResolver && r.chance(dnsFirst(c.svc)) {
		c.after = c.kind
		c.kind = kDNS
	}
	if c.kind == kDNS {
		c.qlen = uint8(r.between(10, 40))
		switch v := r.float(); {
		case v < 0.6:
			c.qtype = 1 // A
		case v < 0.9:
			c.qtype = 28 // AAAA
		case v < 0.97:
			c.qtype = 65 // HTTPS
		case v < 0.99:
			c.qtype = 16 // TXT
		default:
			c.qtype = 12 // PTR
		}
		if r.chance(0.03) {
			c.rcode = 3 // NXDOMAIN
		}
		c.flag = r.chance(0.35) // cache miss: the resolver asks upstream
		c.host = int32(r.intn(len(externalDNS)))
		c.cport = ephemeral(r)
	}
}

// dnsFirst returns the probability that a connection of svc starts with a
// DNS lookup (the rest use a cached name).
func dnsFirst(svc uint8) float64 {
	switch svc {
	case svcHTTPS, svcQUIC:
		return 0.6
	case svcHTTP, svcMail:
		return 0.3
	}
	return 0.1
}

// extRTT returns a round-trip time in µs to an external server: each server
// has its own base distance, plus jitter.
func extRTT(r *rng, a netip.Addr) int64 {
	b := a.As4()
	base := 6000 + int64(b[3]+b[2]*7)%90*1000
	return base + r.between(0, base/5)
}

// stepDNS sends a query to the resolver, the resolver's upstream query and
// answer on a cache miss, and the response; then the session turns into the
// connection it resolved the name for.
func (g *Generator) stepDNS(a *actor, now int64, s *packet.Summary) (bool, int64) {
	r := &a.rng
	resolver := ServerAddr(0)
	qlen := int64(a.qlen)
	switch a.phase {
	case 0:
		setUDP(s, a.cli, resolver, a.cport, 53, 60+qlen)
		s.Flags, s.DNSQNameLen, s.DNSQType = packet.FlagDNS, a.qlen, a.qtype
		if a.flag {
			a.phase = 1
			return true, now + r.between(50, 300)
		}
		a.phase = 3
		return true, now + r.between(100, 1200)
	case 1:
		up := externalDNS[a.host]
		a.sport = ephemeral(r)
		setUDP(s, resolver, up, a.sport, 53, 71+qlen)
		s.Flags, s.DNSQNameLen, s.DNSQType = packet.FlagDNS, a.qlen, a.qtype
		a.phase = 2
		return true, now + extRTT(r, up) + r.between(0, 20000)
	case 2:
		up := externalDNS[a.host]
		setUDP(s, up, resolver, 53, a.sport, 71+qlen+answerLen(a))
		s.Flags, s.DNSQNameLen, s.DNSQType, s.DNSRCode = packet.FlagDNS|packet.FlagDNSResponse, a.qlen, a.qtype, a.rcode
		a.phase = 3
		return true, now + r.between(20, 200)
	}
	setUDP(s, resolver, a.cli, 53, a.cport, 60+qlen+answerLen(a))
	s.Flags, s.DNSQNameLen, s.DNSQType, s.DNSRCode = packet.FlagDNS|packet.FlagDNSResponse, a.qlen, a.qtype, a.rcode
	if a.after == 0 || a.rcode != 0 {
		return true, -1
	}
	a.kind, a.after, a.phase, a.flag = a.after, 0, 0, false
	a.cport = 0
	return true, now + r.between(200, 20000)
}

// answerLen returns the bytes a DNS response adds to its query.
func answerLen(a *actor) int64 {
	if a.rcode != 0 {
		return 50 // SOA in the authority section
	}
	switch a.qtype {
	case 28:
		return 28 * int64(1+a.qlen%3)
	case 16, 65:
		return 60 + int64(a.qlen)*2
	}
	return 16 * int64(1+a.qlen%4)
}

// sshBrute holds the payload sizes of one SSH password guessing connection:
// per round the client's and the server's bytes.
var sshBrute = [...][2]int64{
	{21, 21},     // banners
	{1392, 1080}, // key exchange init
	{48, 564},    // ECDH
	{16, 16},     // new keys
	{52, 52},     // service request
	{100, 52},    // password, failure
	{100, 52},
	{100, 52},
}

// TCP phases.
const (
	tcpSYN = iota
	tcpSYNACK
	tcpACK
	tcpRequest
	tcpResponse
	tcpClientACK
	tcpFIN1
	tcpFIN2
	tcpLastACK
)

// stepTCP runs a connection: handshake, rounds of request and response with
// the client acknowledging every other response packet, and a FIN close
// (sometimes a reset).
func (g *Generator) stepTCP(a *actor, now int64, s *packet.Summary) (bool, int64) {
	r := &a.rng
	switch a.phase {
	case tcpSYN:
		if a.cport == 0 {
			a.cport = ephemeral(r)
		}
		a.sport = svcPort[a.svc]
		a.rounds, a.n = 0, 0
		switch a.svc {
		case svcHTTPS, svcHTTP:
			a.rounds = 1 + int32(r.exp(3))
		case svcSMB:
			a.rounds = 1 + int32(r.exp(6))
		case svcMail:
			a.rounds = 2 + int32(r.intn(5))
		case svcSSH:
			a.rounds = 10 + int32(r.exp(60))
		case svcBrute:
			a.rounds = int32(len(sshBrute))
		}
		setTCP(s, a.cli, a.srv, a.cport, a.sport, lenSYN, packet.TCPSyn)
		a.phase = tcpSYNACK
		return true, now + a.rtt
	case tcpSYNACK:
		setTCP(s, a.srv, a.cli, a.sport, a.cport, lenSYN, packet.TCPSyn|packet.TCPAck)
		a.phase = tcpACK
		return true, now + r.between(10, 100)
	case tcpACK:
		setTCP(s, a.cli, a.srv, a.cport, a.sport, lenACK, packet.TCPAck)
		a.phase = tcpRequest
		a.left = g.requestPackets(a)
		return true, now + r.between(10, 300)
	case tcpRequest:
		setTCP(s, a.cli, a.srv, a.cport, a.sport, lenTCPHdr+g.requestBytes(a), packet.TCPPsh|packet.TCPAck)
		a.left--
		if a.left > 0 {
			return true, now + r.between(20, 200)
		}
		a.phase = tcpResponse
		a.left = responsePackets(a)
		a.t0 = 0
		think := r.between(100, 20000)
		if a.svc == svcBrute {
			think = r.between(100, 3000)
			if a.n >= 5 {
				think = r.between(20000, 60000) // password check
			}
		}
		return true, now + a.rtt + think
	case tcpResponse:
		a.left--
		payload := int64(mss)
		if a.left == 0 {
			payload = responseTail(a)
		}
		flags := packet.TCPAck
		if a.left == 0 {
			flags |= packet.TCPPsh
		}
		setTCP(s, a.srv, a.cli, a.sport, a.cport, lenTCPHdr+payload, flags)
		a.t0++
		if a.left > 0 {
			if a.t0%2 == 0 {
				a.phase = tcpClientACK
				return true, now + r.between(10, 60)
			}
			return true, now + r.between(30, 400)
		}
		a.n++
		if a.n < a.rounds {
			a.phase = tcpRequest
			a.left = g.requestPackets(a)
			return true, now + thinkTime(a)
		}
		a.phase = tcpFIN1
		a.flag = a.svc != svcBrute && r.chance(0.3) // the server closes
		if a.svc != svcBrute && r.chance(0.05) {
			a.phase = tcpLastACK + 1 // reset instead of FIN
		}
		idle := r.between(50, 2000)
		if a.svc != svcBrute && r.chance(0.5) {
			idle += int64(r.exp(3e6)) // kept alive a while
		}
		return true, now + idle
	case tcpClientACK:
		setTCP(s, a.cli, a.srv, a.cport, a.sport, lenACK, packet.TCPAck)
		a.phase = tcpResponse
		return true, now + r.between(20, 300)
	case tcpFIN1:
		if a.flag {
			setTCP(s, a.srv, a.cli, a.sport, a.cport, lenACK, packet.TCPFin|packet.TCPAck)
			a.phase = tcpFIN2
			return true, now + r.between(20, 500)
		}
		setTCP(s, a.cli, a.srv, a.cport, a.sport, lenACK, packet.TCPFin|packet.TCPAck)
		a.phase = tcpFIN2
		return true, now + a.rtt
	case tcpFIN2:
		if a.flag {
			setTCP(s, a.cli, a.srv, a.cport, a.sport, lenACK, packet.TCPFin|packet.TCPAck)
			a.phase = tcpLastACK
			return true, now + a.rtt
		}
		setTCP(s, a.srv, a.cli, a.sport, a.cport, lenACK, packet.TCPFin|packet.TCPAck)
		a.phase = tcpLastACK
		return true, now + r.between(10, 100)
	case tcpLastACK:
		if a.flag {
			setTCP(s, a.srv, a.cli, a.sport, a.cport, lenACK, packet.TCPAck)
		} else {
			setTCP(s, a.cli, a.srv, a.cport, a.sport, lenACK, packet.TCPAck)
		}
		return true, -1
	}
	setTCP(s, a.cli, a.srv, a.cport, a.sport, lenMin, packet.TCPRst|packet.TCPAck)
	return true, -1
}

// requestPackets returns the number of packets of the next request.
func (g *Generator) requestPackets(a *actor) int32 {
	if a.svc == svcSMB && a.rng.chance(0.15) {
		return 2 + int32(a.rng.exp(30)) // an upload
	}
	return 1
}

// requestBytes returns the payload of a request packet.
func (g *Generator) requestBytes(a *actor) int64 {
	r := &a.rng
	switch a.svc {
	case svcBrute:
		return sshBrute[a.n][0] + r.between(0, 3)*boolInt(a.n >= 5)
	case svcSSH:
		return 36 + 16*r.between(0, 2)
	case svcSMB:
		if a.left > 1 {
			return mss
		}
		return r.between(100, mss)
	}
	if a.n == 0 && (a.svc == svcHTTPS || a.svc == svcMail) {
		return 517 + r.between(-40, 40) // TLS ClientHello
	}
	return r.between(80, 900)
}

// responsePackets returns the number of packets of the next response.
func responsePackets(a *actor) int32 {
	r := &a.rng
	switch a.svc {
	case svcBrute:
		return 1
	case svcSSH:
		return 1 + int32(r.exp(0.5))
	case svcSMB:
		return 1 + int32(r.exp(40))
	case svcMail:
		return 1 + int32(r.exp(4))
	}
	if a.n == 0 && a.svc == svcHTTPS {
		return 3 + int32(r.intn(3)) // ServerHello, certificates
	}
	return 1 + int32(r.exp(8))
}

// responseTail returns the payload of a response's last packet.
func responseTail(a *actor) int64 {
	switch a.svc {
	case svcBrute:
		return sshBrute[a.n][1]
	case svcSSH:
		return 36 + a.rng.between(0, 400)
	}
	return a.rng.between(1, mss)
}

// thinkTime returns the pause before the client's next request.
func thinkTime(a *actor) int64 {
	r := &a.rng
	switch a.svc {
	case svcBrute:
		return r.between(200, 2000)
	case svcSSH:
		return int64(r.exp(800e3))
	}
	return int64(r.exp(1.5e6))
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// stepUDP runs a QUIC-like flow (a client Initial, then mostly downstream
// data with small upstream acknowledgements) or an NTP exchange.
func stepUDP(a *actor, now int64, s *packet.Summary) (bool, int64) {
	r := &a.rng
	if a.cport == 0 {
		a.cport = ephemeral(r)
		a.sport = svcPort[a.svc]
		if a.svc == svcNTP {
			a.cport = 123
			a.left = 2
		} else {
			a.left = 8 + int32(r.exp(80))
		}
		setUDP(s, a.cli, a.srv, a.cport, a.sport, lenNTP)
		if a.svc == svcQUIC {
			s.Length = 1292
		}
		a.left--
		return true, now + a.rtt
	}
	a.left--
	if a.svc == svcNTP {
		setUDP(s, a.srv, a.cli, a.sport, a.cport, lenNTP)
		return true, -1
	}
	if r.chance(0.7) {
		setUDP(s, a.srv, a.cli, a.sport, a.cport, r.between(1200, 1392))
	} else {
		setUDP(s, a.cli, a.srv, a.cport, a.sport, r.between(60, 120))
	}
	if a.left <= 0 {
		return true, -1
	}
	next := now + r.between(50, 3000)
	if r.chance(0.03) {
		next += int64(r.exp(1e6))
	}
	return true, next
}

// stepPing sends a.n echo requests a second apart and their replies.
func stepPing(a *actor, now int64, s *packet.Summary) (bool, int64) {
	*s = packet.Summary{Src: a.cli, Dst: a.srv, Length: lenPing, Proto: packet.ProtoICMP, ICMPType: 8}
	if a.phase == 0 {
		a.phase = 1
		a.t0 = now
		return true, now + a.rtt
	}
	s.Src, s.Dst, s.ICMPType = a.srv, a.cli, 0
	a.left--
	if a.left <= 0 {
		return true, -1
	}
	a.phase = 0
	return true, max(now+1, a.t0+1_000_000+a.rng.between(0, 2000))
}

// stepARP sends a request and, unless nobody has the address, its reply.
func stepARP(a *actor, now int64, s *packet.Summary) (bool, int64) {
	*s = packet.Summary{Src: a.cli, Dst: a.srv, Length: lenARP, Flags: packet.FlagARP, ARPOp: 1}
	if a.phase == 0 {
		if a.flag {
			return true, -1
		}
		a.phase = 1
		return true, now + a.rng.between(50, 500)
	}
	s.Src, s.Dst, s.Length, s.ARPOp = a.srv, a.cli, lenMin, 2
	return true, -1
}

// scanPort returns the i-th port of a scan with permutation offset off: the
// ports 1-1024 in a scrambled order, then the others.
func scanPort(i, off int32) uint16 {
	if i < 1024 {
		return uint16(1 + (i*7+off)%1024)
	}
	return uint16(1025 + (int64(i-1024)*7919+int64(off))%64511)
}

// stepScan sends one probe SYN and schedules the victim's answer.
func (g *Generator) stepScan(a *actor, now int64, s *packet.Summary) (bool, int64) {
	info := &g.attacks[a.attack]
	r := &a.rng
	i := a.left
	a.left++
	port := scanPort(i, a.n)
	setTCP(s, a.cli, a.srv, a.cport, port, lenMin, packet.TCPSyn)
	c := g.spawn(a, kScanReply, now+a.rtt+r.between(0, 100))
	c.cli, c.srv, c.cport, c.sport = a.cli, a.srv, a.cport, port
	for _, p := range info.open {
		c.flag = c.flag || p == port
	}
	next := now + int64((0.5+r.float())*1e6/info.rate)
	if next >= info.end || a.left >= 65535 {
		return true, -1
	}
	return true, next
}

// stepScanReply answers a probe: RST-ACK from a closed port, or SYN-ACK from
// an open one followed by the attacker's RST.
func stepScanReply(a *actor, now int64, s *packet.Summary) (bool, int64) {
	switch {
	case a.phase == 1:
		setTCP(s, a.cli, a.srv, a.cport, a.sport, lenMin, packet.TCPRst)
		return true, -1
	case a.flag:
		setTCP(s, a.srv, a.cli, a.sport, a.cport, lenMin, packet.TCPSyn|packet.TCPAck)
		a.phase = 1
		return true, now + a.rng.between(20, 80)
	}
	setTCP(s, a.srv, a.cli, a.sport, a.cport, lenMin, packet.TCPRst|packet.TCPAck)
	return true, -1
}

// stepBrute starts one password guessing connection.
func (g *Generator) stepBrute(a *actor, now int64) int64 {
	info := &g.attacks[a.attack]
	r := &a.rng
	c := g.spawn(a, kTCP, now)
	c.cli, c.srv, c.svc, c.rtt = a.cli, a.srv, svcBrute, a.rtt+r.between(0, 100)
	next := now + int64((0.5+r.float())*1e6/info.rate)
	if next >= info.end {
		return -1
	}
	return next
}

// stepFlood sends one SYN and schedules the victim's SYN-ACK.
func (g *Generator) stepFlood(a *actor, now int64, s *packet.Summary) (bool, int64) {
	info := &g.attacks[a.attack]
	r := &a.rng
	src := a.cli
	if len(info.pool) > 0 {
		src = info.pool[r.intn(len(info.pool))]
	}
	sp := uint16(1024 + r.intn(64512))
	setTCP(s, src, a.srv, sp, 80, lenMin, packet.TCPSyn)
	c := g.spawn(a, kFloodReply, now+r.between(30, 300))
	c.cli, c.srv, c.cport, c.sport = src, a.srv, sp, 80
	next := now + 1 + int64(r.exp(1e6/info.rate))
	if next >= info.end {
		return true, -1
	}
	return true, next
}
