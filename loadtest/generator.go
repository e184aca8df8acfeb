package loadtest

import (
	"io"
	"math"
	"net/netip"
	"time"

	"github.com/riptide-nids/riptide/packet"
)

// Generator yields the summaries of a synthetic network in time order. It is
// not safe for concurrent use; create one per goroutine (generators with the
// same Config yield the same stream).
type Generator struct {
	cfg     Config
	start   int64 // first possible packet, µs since the epoch
	end     int64 // exclusive, µs since the epoch
	noisy   bool  // normal traffic is generated (false when only labelling attacks)
	heap    []event
	pending []event // children spawned by the current step, pushed after it
	chunks  []*[chunkSize]actor
	free    []int32
	nactors int32
	hosts   []hostInfo
	byRole  [serverRoles][]int32 // server indices by role
	attacks []attackInfo
	last    int // attack index of the last summary, or -1
	labels  []Label
}

// event is a heap entry: actor id wakes at t (µs). Events at the same time
// are ordered by ord, a random number drawn from the actor's own stream, so
// that the order of normal traffic does not depend on the attacks (or on
// anything else in the heap).
type event struct {
	t   int64
	ord uint32
	id  int32
}

// before reports whether e comes before f.
func (e event) before(f event) bool { return e.t < f.t || e.t == f.t && e.ord < f.ord }

const chunkSize = 256

// hostInfo holds what a normal host's session spawner needs.
type hostInfo struct {
	addr     netip.Addr
	rate     float64 // sessions per second outside bursts
	cum      [nSessionKinds]float32
	fav      int32 // favourite external server
	server   bool
	burstEnd int64
}

// attackInfo holds per-attack constants.
type attackInfo struct {
	Attack
	start, end int64 // µs: first probe, no new probes from end on
	rate       float64
	open       []uint16     // TCP ports the victim answers with SYN-ACK
	pool       []netip.Addr // spoofed sources of a SYNFlood
}

// Kinds of actors.
const (
	kSpawner    uint8 = iota // a host's session arrivals; emits nothing itself
	kDNS                     // query, optional upstream lookup, response; may become kTCP or kUDP
	kTCP                     // a TCP connection
	kUDP                     // QUIC-like or NTP exchange
	kPing                    // ICMP echo requests and replies
	kARP                     // ARP request and reply
	kScan                    // PortScan driver: one SYN per port
	kScanReply               // the victim's answer to one probe (and the attacker's RST)
	kBrute                   // SSHBruteForce driver: spawns kTCP connections
	kFlood                   // SYNFlood driver: one SYN per event
	kFloodReply              // the victim's SYN-ACK to one flood SYN
)

// Kinds of sessions a spawner starts.
const (
	sWebExt = iota
	sWebInt
	sDNS
	sQUIC
	sNTP
	sPing
	sARP
	sSMB
	sMail
	sSSH
	nSessionKinds
)

// Services of TCP and UDP sessions.
const (
	svcHTTPS uint8 = iota
	svcHTTP
	svcSMB
	svcMail
	svcSSH
	svcBrute
	svcQUIC
	svcNTP
)

var svcPort = [...]uint16{svcHTTPS: 443, svcHTTP: 80, svcSMB: 445, svcMail: 993, svcSSH: 22, svcBrute: 22, svcQUIC: 443, svcNTP: 123}

// actor is a session or a driver: a small state machine that emits at most
// one packet per step.
type actor struct {
	kind, phase, svc, after uint8
	flag                    bool // kind-specific: DNS cache miss, scan port open, server closes
	rcode                   uint8
	qlen                    uint8
	attack                  int16
	qtype                   uint16
	cport, sport            uint16
	host                    int32 // spawner: index in hosts; DNS: upstream resolver index
	rounds, left, n         int32
	rtt                     int64 // µs
	t0                      int64 // µs, kind-specific (ping: time of the request)
	rng                     rng
	cli, srv                netip.Addr
}

// Public addresses the synthetic network talks to.
var (
	externalWeb = addrs("93.184.216.34", "142.250.74.110", "151.101.1.69", "104.16.132.229",
		"172.217.16.142", "13.107.42.14", "52.84.150.39", "185.199.108.153", "140.82.121.4",
		"31.13.72.36", "157.240.20.35", "23.215.0.136", "199.232.56.64", "104.244.42.1",
		"146.75.118.133", "3.33.152.147", "20.190.159.2", "17.253.144.10")
	externalDNS = addrs("1.1.1.1", "8.8.8.8", "9.9.9.9")
	externalNTP = addrs("162.159.200.1", "162.159.200.123", "129.6.15.28")
)

func addrs(ss ...string) []netip.Addr {
	out := make([]netip.Addr, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParseAddr(s)
	}
	return out
}

// New returns a generator of cfg's traffic. It fails if cfg.Validate does.
func New(cfg Config) (*Generator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return newGenerator(cfg, true), nil
}

// microsUp returns t in microseconds since the epoch, rounded up.
func microsUp(t time.Time) int64 {
	ns := t.UnixNano()
	us := ns / 1000
	if ns%1000 > 0 {
		us++
	}
	return us
}

func newGenerator(cfg Config, noisy bool) *Generator {
	cfg.Attacks = append([]Attack(nil), cfg.Attacks...)
	g := &Generator{cfg: cfg, noisy: noisy, last: -1}
	g.start = microsUp(cfg.Start)
	g.end = microsUp(cfg.Start.Add(cfg.Duration))
	for i := range cfg.Servers {
		r := serverRole(i)
		g.byRole[r] = append(g.byRole[r], int32(i))
	}
	if noisy {
		g.hosts = make([]hostInfo, 0, cfg.Hosts+cfg.Servers)
		for i := range cfg.Hosts {
			g.addHost(ClientAddr(i), false, seedFor(cfg.Seed, 1, uint64(i)))
		}
		for i := range cfg.Servers {
			g.addHost(ServerAddr(i), true, seedFor(cfg.Seed, 2, uint64(i)))
		}
	}
	for i, at := range cfg.Attacks {
		g.addAttack(i, at)
	}
	return g
}

// seedFor derives an independent random stream for one actor.
func seedFor(seed int64, class, i uint64) rng {
	r := rng{s: uint64(seed) ^ class*0xa0761d6478bd642f ^ i*0xe7037ed1a0b428db}
	r.u64()
	return rng{s: r.u64()}
}

func (g *Generator) addHost(addr netip.Addr, server bool, r rng) {
	h := hostInfo{addr: addr, server: server, fav: int32(r.intn(len(externalWeb)))}
	var w [nSessionKinds]float64
	if server {
		// Servers mostly answer; on their own they fetch updates, keep
		// time and resolve names now and then.
		h.rate = 0.005 + 0.02*r.float()
		w = [nSessionKinds]float64{sWebExt: 3, sDNS: 2, sNTP: 2, sARP: 1, sPing: 0.3}
	} else {
		// Session rates differ about twentyfold between clients.
		h.rate = 0.02 * math.Exp(3*r.float())
		w = [nSessionKinds]float64{sWebExt: 40, sWebInt: 12, sDNS: 12, sQUIC: 8, sNTP: 1.5,
			sPing: 2, sARP: 5, sSMB: 6, sMail: 4}
		if r.float() < 0.15 {
			w[sSSH] = 8 // an administrator
		}
		for k := range w {
			w[k] *= 0.3 + 2.7*r.float()
		}
	}
	var sum float64
	for k := range w {
		sum += w[k]
	}
	var acc float64
	for k := range w {
		acc += w[k]
		h.cum[k] = float32(acc / sum)
	}
	g.hosts = append(g.hosts, h)
	id, a := g.alloc()
	a.kind, a.host, a.attack, a.rng = kSpawner, int32(len(g.hosts)-1), -1, r
	g.push(g.start+int64(r.exp(1e6/h.rate)), id)
}

func (g *Generator) addAttack(i int, at Attack) {
	r := seedFor(g.cfg.Seed, 3, uint64(i))
	info := attackInfo{Attack: at, start: microsUp(at.Start), rate: at.Rate}
	info.end = info.start + at.Duration.Microseconds()
	if info.rate == 0 {
		info.rate = at.Kind.defaultRate()
	}
	info.open = []uint16{22, 80, 443}
	for s := range g.cfg.Servers {
		if ServerAddr(s) == at.Victim {
			info.open = openPorts(serverRole(s))
		}
	}
	if at.Kind == SYNFlood && !at.Attacker.IsValid() {
		n := int(min(2000, max(50, info.rate*at.Duration.Seconds()/10)))
		info.pool = make([]netip.Addr, n)
		for j := range info.pool {
			info.pool[j] = randomPublic(&r)
		}
	}
	g.attacks = append(g.attacks, info)
	id, a := g.alloc()
	a.attack, a.rng = int16(i), r
	a.cli, a.srv = at.Attacker, at.Victim
	a.rtt = r.between(150, 600)
	switch at.Kind {
	case PortScan:
		a.kind = kScan
		a.cport = uint16(r.between(33000, 65000))
		a.n = int32(r.intn(1024)) // permutation offset
	case SSHBruteForce:
		a.kind = kBrute
	case SYNFlood:
		a.kind = kFlood
	}
	g.push(info.start, id)
}

// randomPublic returns a random unicast address outside private, loopback,
// multicast and reserved ranges.
func randomPublic(r *rng) netip.Addr {
	for {
		v := uint32(r.u64())
		b := [4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}
		switch {
		case b[0] == 0, b[0] == 10, b[0] == 127, b[0] >= 224,
			b[0] == 100 && b[1]&0xc0 == 64, b[0] == 169 && b[1] == 254,
			b[0] == 172 && b[1]&0xf0 == 16, b[0] == 192 && b[1] == 168,
			b[3] == 0, b[3] == 255:
			continue
		}
		return netip.AddrFrom4(b)
	}
}

// Next stores the next summary in *s and reports whether there was one. The
// summaries come in nondecreasing Time order, every Time a whole microsecond
// in [Start, Start+Duration). Next does not allocate in steady state.
func (g *Generator) Next(s *packet.Summary) bool {
	for len(g.heap) > 0 {
		e := g.heap[0]
		if e.t >= g.end {
			g.heap = g.heap[:0]
			return false
		}
		a := g.actor(e.id)
		attack := int(a.attack)
		emit, next := g.step(a, e.t, s)
		if next < 0 {
			g.pop()
			g.release(e.id)
		} else {
			g.heap[0].t = max(next, e.t)
			g.down(0)
		}
		for _, p := range g.pending {
			g.heap = append(g.heap, p)
			g.up(len(g.heap) - 1)
		}
		g.pending = g.pending[:0]
		if emit && e.t >= g.start {
			s.Time = e.t * 1000
			g.last = attack
			return true
		}
	}
	return false
}

// LastAttack returns the index in Config.Attacks of the attack that sent the
// summary Next stored last, or -1 for normal traffic. It is the per-packet
// ground truth that Labels summarises.
func (g *Generator) LastAttack() int { return g.last }

func (g *Generator) actor(id int32) *actor { return &g.chunks[id/chunkSize][id%chunkSize] }

// alloc returns a zeroed actor and its id.
func (g *Generator) alloc() (int32, *actor) {
	var id int32
	if n := len(g.free); n > 0 {
		id = g.free[n-1]
		g.free = g.free[:n-1]
	} else {
		if int(g.nactors) == len(g.chunks)*chunkSize {
			g.chunks = append(g.chunks, new([chunkSize]actor))
		}
		id = g.nactors
		g.nactors++
	}
	a := g.actor(id)
	*a = actor{}
	return id, a
}

func (g *Generator) release(id int32) { g.free = append(g.free, id) }

// spawn allocates a child actor of parent that first wakes at t.
func (g *Generator) spawn(parent *actor, kind uint8, t int64) *actor {
	id, a := g.alloc()
	a.kind, a.attack = kind, parent.attack
	a.rng = rng{s: parent.rng.u64()}
	g.pending = append(g.pending, event{t: t, ord: uint32(a.rng.u64()), id: id})
	return a
}

// Heap of events ordered by time: a binary min-heap without interfaces, so
// nothing escapes.

// push adds a top-level actor (spawner or attack driver).
func (g *Generator) push(t int64, id int32) {
	g.heap = append(g.heap, event{t: t, ord: uint32(g.actor(id).rng.u64()), id: id})
	g.up(len(g.heap) - 1)
}

func (g *Generator) pop() {
	n := len(g.heap) - 1
	g.heap[0] = g.heap[n]
	g.heap = g.heap[:n]
	if n > 0 {
		g.down(0)
	}
}

func (g *Generator) up(i int) {
	h := g.heap
	e := h[i]
	for i > 0 {
		p := (i - 1) / 2
		if !e.before(h[p]) {
			break
		}
		h[i] = h[p]
		i = p
	}
	h[i] = e
}

func (g *Generator) down(i int) {
	h := g.heap
	n := len(h)
	e := h[i]
	for {
		c := 2*i + 1
		if c >= n {
			break
		}
		if r := c + 1; r < n && h[r].before(h[c]) {
			c = r
		}
		if !h[c].before(e) {
			break
		}
		h[i] = h[c]
		i = c
	}
	h[i] = e
}

// rng is a splitmix64 stream: tiny, fast and good enough for traffic.
type rng struct{ s uint64 }

func (r *rng) u64() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// float returns a uniform number in [0, 1).
func (r *rng) float() float64 { return float64(r.u64()>>11) / (1 << 53) }

// intn returns a uniform number in [0, n), n < 2³².
func (r *rng) intn(n int) int { return int((r.u64() >> 32) * uint64(n) >> 32) }

// between returns a uniform number in [lo, hi].
func (r *rng) between(lo, hi int64) int64 { return lo + int64(r.intn(int(hi-lo+1))) }

// exp returns an exponentially distributed number with the given mean.
func (r *rng) exp(mean float64) float64 { return -mean * math.Log(1-r.float()) }

// chance reports true with probability p.
func (r *rng) chance(p float64) bool { return r.float() < p }

// Source adapts g to the packet sources producers and the demo read from
// (Next returns io.EOF once the generator is done).
func Source(g *Generator) interface{ Next(*packet.Summary) error } { return source{g} }

type source struct{ g *Generator }

func (s source) Next(p *packet.Summary) error {
	if s.g.Next(p) {
		return nil
	}
	return io.EOF
}
