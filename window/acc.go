package window

import (
	"math"
	"sync"

	"github.com/riptide-nids/riptide/packet"
	"github.com/riptide-nids/riptide/window/internal/sketch"
)

// Counters of an accumulator.
const (
	cPkts       = iota // packets sent or received, each counted once
	cBytes             // their wire bytes
	cPktsOut           //
	cPktsIn            //
	cBytesOut          //
	cBytesIn           //
	cSynOut            //
	cSynIn             //
	cSynAckOut         //
	cSynAckIn          //
	cRstOut            //
	cRstIn             //
	cFinOut            //
	cFinIn             //
	cUDPOut            //
	cUDPIn             //
	cICMPOut           //
	cICMPIn            //
	cEchoReqOut        //
	cUnreachIn         //
	cARPReqOut         //
	cDNSQOut           //
	cDNSQLenSum        //
	cDNSQLenMax        //
	cNXIn              //
	cTXTNullOut        //
	// Security events (AddEvent); nCounters must stay <= 32, the width of
	// the encoding's counter bitmap.
	cLoginFailOut   // failed logins the host attempted
	cLoginFailIn    // failed logins on the host
	cLoginOKOut     // accepted logins the host made
	cLoginOKIn      // accepted logins on the host
	cInvalidUserOut // attempts for accounts that do not exist
	cBreakInOut     // reverse-mapping warnings about the host's address
	nCounters
)

// acc accumulates one host's packets in one window. Its size is fixed: the
// counters, five sketch.Set (inline, each with an optional pooled Dense block
// of about 770 bytes once it holds more than 8 distinct keys) and one
// sketch.TopK.
type acc struct {
	start, end  int64
	first, last int64   // first and latest packet time (valid when c[cPkts] > 0)
	gapSq       float64 // sum of squared inter-arrival gaps in ns²
	c           [nCounters]uint64

	dstIPs, dstPorts, dstPairs sketch.Set // as sender
	srcIPs, localPorts         sketch.Set // as receiver
	synSvc                     sketch.TopK
	users                      sketch.Set // user names of failed logins the host attempted

	// The host-history features, once frozen (hDone): taken from the
	// State's history before it first records a start at or after end, so
	// that they do not depend on when the window is closed.
	hDone              bool
	hStarts, hStartsIn uint64
	hReg               float64
}

var accPool = sync.Pool{New: func() any { return new(acc) }}

func newAcc(start, end int64) *acc {
	a := accPool.Get().(*acc)
	a.start, a.end = start, end
	return a
}

// setRef is one of an accumulator's distinct counters and whether its
// weights are needed (for an entropy feature) and so encoded.
type setRef struct {
	set     *sketch.Set
	weights bool
}

// sets returns a's distinct counters in encoding order.
func (a *acc) sets() [5]setRef {
	return [5]setRef{{&a.dstIPs, true}, {&a.dstPorts, true}, {&a.dstPairs, false}, {&a.srcIPs, true}, {&a.localPorts, false}}
}

// release resets a and returns it, with its Dense blocks, to the pools.
func (a *acc) release() {
	a.dstIPs.Reset()
	a.dstPorts.Reset()
	a.dstPairs.Reset()
	a.srcIPs.Reset()
	a.localPorts.Reset()
	a.users.Reset()
	*a = acc{}
	accPool.Put(a)
}

func hasPorts(s *packet.Summary) bool {
	if s.Proto != packet.ProtoTCP && s.Proto != packet.ProtoUDP {
		return false
	}
	return s.Flags&packet.FlagFragment == 0 || s.SrcPort != 0 || s.DstPort != 0
}

// add counts s, sent by the host when out, received when in. It returns the
// hashes it computed that the State's history needs too: the (destination,
// port) pair's when out and s has ports, the source address's when in.
func (a *acc) add(s *packet.Summary, out, in bool) (outPair, inSrc uint64) {
	c := &a.c
	c[cPkts]++
	c[cBytes] += uint64(s.Length)
	if c[cPkts] == 1 {
		a.first, a.last = s.Time, s.Time
	} else {
		var gap float64
		if s.Time > a.last {
			gap = float64(s.Time - a.last)
			a.last = s.Time
		}
		a.gapSq += gap * gap
	}

	ports := hasPorts(s)
	tcp := s.Proto == packet.ProtoTCP
	syn := tcp && s.TCPFlags&(packet.TCPSyn|packet.TCPAck) == packet.TCPSyn
	synack := tcp && s.TCPFlags&(packet.TCPSyn|packet.TCPAck) == packet.TCPSyn|packet.TCPAck
	rst := tcp && s.TCPFlags&packet.TCPRst != 0
	fin := tcp && s.TCPFlags&packet.TCPFin != 0
	udp := s.Proto == packet.ProtoUDP
	icmp4 := s.Proto == packet.ProtoICMP
	icmp6 := s.Proto == packet.ProtoICMPv6
	dns := s.Flags&packet.FlagDNS != 0
	dnsResp := dns && s.Flags&packet.FlagDNSResponse != 0

	if out {
		c[cPktsOut]++
		c[cBytesOut] += uint64(s.Length)
		hd := sketch.HashAddr(s.Dst)
		a.dstIPs.Add(hd)
		var pair uint64
		if ports {
			pair = sketch.HashPair(hd, s.DstPort)
			outPair = pair
			a.dstPorts.Add(sketch.HashPort(s.DstPort))
			a.dstPairs.Add(pair)
		}
		switch {
		case syn:
			c[cSynOut]++
			if ports {
				a.synSvc.Add(pair)
			}
		case synack:
			c[cSynAckOut]++
		}
		if rst {
			c[cRstOut]++
		}
		if fin {
			c[cFinOut]++
		}
		switch {
		case udp:
			c[cUDPOut]++
		case icmp4 || icmp6:
			c[cICMPOut]++
			if icmp4 && s.ICMPType == 8 || icmp6 && s.ICMPType == 128 {
				c[cEchoReqOut]++
			}
			if icmp6 && s.ICMPType == 135 {
				c[cARPReqOut]++
			}
		}
		if s.Flags&packet.FlagARP != 0 && s.ARPOp == 1 {
			c[cARPReqOut]++
		}
		if dns && !dnsResp {
			c[cDNSQOut]++
			l := uint64(s.DNSQNameLen)
			c[cDNSQLenSum] += l
			if l > c[cDNSQLenMax] {
				c[cDNSQLenMax] = l
			}
			if s.DNSQType == 16 || s.DNSQType == 10 {
				c[cTXTNullOut]++
			}
		}
	}
	if in {
		c[cPktsIn]++
		c[cBytesIn] += uint64(s.Length)
		inSrc = sketch.HashAddr(s.Src)
		a.srcIPs.Add(inSrc)
		if ports {
			a.localPorts.Add(sketch.HashPort(s.DstPort))
		}
		switch {
		case syn:
			c[cSynIn]++
		case synack:
			c[cSynAckIn]++
		}
		if rst {
			c[cRstIn]++
		}
		if fin {
			c[cFinIn]++
		}
		switch {
		case udp:
			c[cUDPIn]++
		case icmp4 || icmp6:
			c[cICMPIn]++
			if icmp4 && s.ICMPType == 3 || icmp6 && s.ICMPType == 1 {
				c[cUnreachIn]++
			}
		}
		if dnsResp && s.DNSRCode == 3 {
			c[cNXIn]++
		}
	}
	return outPair, inSrc
}

func diff(a, b uint64) float64 {
	if a > b {
		return float64(a - b)
	}
	return 0
}

func ratio(a, b uint64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// values writes the features of a into v (len NumFeatures).
func (a *acc) values(v []float64) {
	c := &a.c
	v[FPktsOut] = float64(c[cPktsOut])
	v[FPktsIn] = float64(c[cPktsIn])
	v[FBytesOut] = float64(c[cBytesOut])
	v[FBytesIn] = float64(c[cBytesIn])
	v[FDstIPs] = a.dstIPs.Count()
	v[FDstPorts] = a.dstPorts.Count()
	v[FDstPairs] = a.dstPairs.Count()
	v[FSrcIPs] = a.srcIPs.Count()
	v[FLocalPorts] = a.localPorts.Count()
	v[FSynOut] = float64(c[cSynOut])
	v[FSynIn] = float64(c[cSynIn])
	v[FSynAckOut] = float64(c[cSynAckOut])
	v[FSynAckIn] = float64(c[cSynAckIn])
	v[FRstOut] = float64(c[cRstOut])
	v[FRstIn] = float64(c[cRstIn])
	v[FFinOut] = float64(c[cFinOut])
	v[FFinIn] = float64(c[cFinIn])
	v[FSynOutUnanswered] = diff(c[cSynOut], c[cSynAckIn])
	v[FSynInUnanswered] = diff(c[cSynIn], c[cSynAckOut])
	v[FMaxSynPerService] = float64(a.synSvc.Max())
	v[FUDPOut] = float64(c[cUDPOut])
	v[FUDPIn] = float64(c[cUDPIn])
	v[FICMPOut] = float64(c[cICMPOut])
	v[FICMPIn] = float64(c[cICMPIn])
	v[FICMPEchoReqOut] = float64(c[cEchoReqOut])
	v[FICMPUnreachIn] = float64(c[cUnreachIn])
	v[FARPReqOut] = float64(c[cARPReqOut])
	v[FDNSQueriesOut] = float64(c[cDNSQOut])
	v[FDNSQNameLenMean] = ratio(c[cDNSQLenSum], c[cDNSQOut])
	v[FDNSQNameLenMax] = float64(c[cDNSQLenMax])
	v[FDNSNXDomainIn] = float64(c[cNXIn])
	v[FDNSTXTNullShare] = ratio(c[cTXTNullOut], c[cDNSQOut])
	v[FDstIPEntropy] = a.dstIPs.Entropy()
	v[FDstPortEntropy] = a.dstPorts.Entropy()
	v[FSrcIPEntropy] = a.srcIPs.Entropy()
	v[FPktSizeMean] = ratio(c[cBytes], c[cPkts])
	v[FSvcStarts60s] = float64(a.hStarts)
	v[FSvcStartsIn60s] = float64(a.hStartsIn)
	v[FBeaconRegularity] = a.hReg
	v[FLoginFailOut] = float64(c[cLoginFailOut])
	v[FLoginFailIn] = float64(c[cLoginFailIn])
	v[FLoginOKOut] = float64(c[cLoginOKOut])
	v[FLoginOKIn] = float64(c[cLoginOKIn])
	v[FInvalidUserOut] = float64(c[cInvalidUserOut])
	v[FBreakInOut] = float64(c[cBreakInOut])
	v[FUsersTriedOut] = a.users.Count()
	v[FIATMean], v[FIATStd] = 0, 0
	if n := c[cPkts]; n >= 2 {
		g := float64(n - 1)
		mean := float64(a.last-a.first) / g
		variance := a.gapSq/g - mean*mean
		if variance < 0 || math.IsNaN(variance) {
			variance = 0
		}
		v[FIATMean] = mean / 1e6
		v[FIATStd] = math.Sqrt(variance) / 1e6
	}
	for i, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) || x < 0 {
			v[i] = 0
		}
	}
}
