// Package sketch provides the fixed-size summaries behind riptide's window
// features: a distinct counter with an exact small mode and a HyperLogLog
// large mode (with a hashed histogram for entropy), and a space-saving
// heavy-hitter table.
//
// Every summary has a bounded size regardless of the traffic it sees: a Set
// holds at most ExactCap exact entries inline and, beyond that, one Dense
// block of M one-byte registers and HistBuckets counters (about 770 bytes);
// a TopK holds TopKCap entries inline. Adding to a summary never allocates,
// except when a Set first outgrows its exact mode and takes a Dense block
// from a pool.
//
// Keys are 64-bit hashes made with Mix64 and the Hash* helpers; the package
// assumes they are well mixed.
package sketch

import (
	"errors"
	"math/bits"
	"net/netip"
)

// ErrCorrupt is returned (wrapped) when encoded sketch bytes are malformed.
var ErrCorrupt = errors.New("sketch: corrupt encoding")

// Mix64 is the 64-bit finaliser of MurmurHash3: a bijection whose output bits
// each depend on all input bits.
func Mix64(x uint64) uint64 {
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return x
}

const (
	seedAddr = 0x9e3779b97f4a7c15
	seedPort = 0x632be59bd9b4e019
	seedPair = 0x8cb92ba72f3d8dd7
)

// HashAddr hashes an address (its 16-byte form; IPv4 and IPv4-mapped IPv6
// addresses hash alike, zones are ignored).
func HashAddr(a netip.Addr) uint64 {
	b := a.As16()
	hi := uint64(b[0])<<56 | uint64(b[1])<<48 | uint64(b[2])<<40 | uint64(b[3])<<32 |
		uint64(b[4])<<24 | uint64(b[5])<<16 | uint64(b[6])<<8 | uint64(b[7])
	lo := uint64(b[8])<<56 | uint64(b[9])<<48 | uint64(b[10])<<40 | uint64(b[11])<<32 |
		uint64(b[12])<<24 | uint64(b[13])<<16 | uint64(b[14])<<8 | uint64(b[15])
	return Mix64(Mix64(hi^seedAddr) ^ bits.RotateLeft64(lo, 17) ^ lo)
}

// HashPort hashes a port number.
func HashPort(p uint16) uint64 { return Mix64(uint64(p) ^ seedPort) }

// HashPair hashes an address hash (from HashAddr) together with a port.
func HashPair(addrHash uint64, p uint16) uint64 {
	return Mix64(addrHash ^ Mix64(uint64(p)+seedPair))
}

func satAdd32(a, b uint32) uint32 {
	s := a + b
	if s < a {
		return ^uint32(0)
	}
	return s
}
