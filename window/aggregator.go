package window

import (
	"cmp"
	"math"
	"net/netip"
	"slices"

	"github.com/riptide-nids/riptide/packet"
)

var limitedBroadcast = netip.AddrFrom4([4]byte{255, 255, 255, 255})

// IsHost reports whether a is an address that gets windows of its own: valid
// and neither unspecified, multicast nor the IPv4 limited broadcast
// (255.255.255.255, also IPv4-mapped). Producers key records by the same rule.
func IsHost(a netip.Addr) bool {
	if !a.IsValid() || a.IsUnspecified() || a.IsMulticast() {
		return false
	}
	return a.Unmap() != limitedBroadcast
}

// AggregatorStats counts what an Aggregator has done.
type AggregatorStats struct {
	// Packets is the number of packets passed to Add.
	Packets uint64
	// Late is the number of packets dropped as late (counted once per
	// packet, not per host).
	Late uint64
	// Windows is the number of vectors emitted.
	Windows uint64
	// Hosts is the number of hosts with open windows or connection
	// history (see State) now.
	Hosts int
}

type aggHost struct {
	name string
	st   State
}

// Aggregator windows packets of many hosts in memory, for backtests and
// replays without Kafka. It keeps one stream time for all packets (as one
// input partition) and a State per host, so its vectors are those a State
// fed with the same packets and stream times would produce. It is not safe
// for concurrent use.
type Aggregator struct {
	cfg        Config
	emit       func(*Vector)
	hosts      map[netip.Addr]*aggHost
	streamTime int64
	nextClose  int64 // scan hosts when streamTime - grace reaches it
	started    bool
	stats      AggregatorStats
	buf        []*Vector
}

// NewAggregator returns an Aggregator that passes each closed window's Vector
// to emit. cfg must be valid (see Config.Validate). Vectors closed at the
// same time are emitted ordered by window start, then host text.
func NewAggregator(cfg Config, emit func(*Vector)) *Aggregator {
	return &Aggregator{cfg: cfg, emit: emit, hosts: make(map[netip.Addr]*aggHost)}
}

// Add advances the stream time to s.Time if later, adds the packet to the
// windows of its source and destination hosts (see IsHost) and emits the
// windows that closes. Closing scans the hosts only when the stream time
// minus grace crosses a window boundary.
func (a *Aggregator) Add(s *packet.Summary) {
	a.stats.Packets++
	if s.Time < -MaxTime || s.Time > MaxTime {
		a.stats.Late++
		return
	}
	if !a.started || s.Time > a.streamTime {
		a.streamTime = s.Time
		if !a.started {
			a.started = true
			a.nextClose = a.cfg.Start(a.streamTime-int64(a.cfg.Grace)) + int64(a.cfg.Size)
		}
	}
	src, dst := IsHost(s.Src), IsHost(s.Dst) && s.Dst != s.Src
	if src || dst {
		end := a.cfg.Start(s.Time) + int64(a.cfg.Size)
		if end <= a.streamTime-int64(a.cfg.Grace) {
			a.stats.Late++
		} else {
			if src {
				a.host(s.Src).st.Add(s.Src, s, a.streamTime, a.cfg)
			}
			if dst {
				a.host(s.Dst).st.Add(s.Dst, s, a.streamTime, a.cfg)
			}
		}
	}
	if a.streamTime-int64(a.cfg.Grace) >= a.nextClose {
		a.close(a.streamTime)
		a.nextClose = a.cfg.Start(a.streamTime-int64(a.cfg.Grace)) + int64(a.cfg.Size)
	}
}

func (a *Aggregator) host(addr netip.Addr) *aggHost {
	h := a.hosts[addr]
	if h == nil {
		h = &aggHost{name: addr.String(), st: State{LastOffset: -1}}
		a.hosts[addr] = h
	}
	return h
}

// close closes every host's windows at streamTime, emits their vectors in
// order and forgets hosts left without windows or history.
func (a *Aggregator) close(streamTime int64) {
	collect := func(v *Vector) { a.buf = append(a.buf, v) }
	for addr, h := range a.hosts {
		h.st.Close(h.name, streamTime, a.cfg, collect)
		if h.st.empty() {
			delete(a.hosts, addr)
		}
	}
	slices.SortFunc(a.buf, func(x, y *Vector) int {
		if c := cmp.Compare(x.Start, y.Start); c != 0 {
			return c
		}
		return cmp.Compare(x.Host, y.Host)
	})
	a.stats.Windows += uint64(len(a.buf))
	for i, v := range a.buf {
		a.buf[i] = nil
		a.emit(v)
	}
	a.buf = a.buf[:0]
}

// Flush closes and emits all open windows, as if the stream time had reached
// the end of time, and forgets all hosts. The stream time is kept: packets
// added afterwards are windowed as before.
func (a *Aggregator) Flush() { a.close(math.MaxInt64) }

// Stats returns the counts so far.
func (a *Aggregator) Stats() AggregatorStats {
	s := a.stats
	s.Hosts = len(a.hosts)
	return s
}
