package sketch

import (
	"math"
	"math/bits"
	"sync"
)

const (
	// P is the HyperLogLog precision: the register index takes the top P bits
	// of a key. The standard error of a count is about 1.04/sqrt(M), 4.6%.
	P = 9
	// M is the number of HyperLogLog registers.
	M = 1 << P
	// q is the number of key bits left for the rank; registers hold 0..q+1.
	// A Set keys on the top 32 bits of a hash: plenty for the millions of
	// keys a window may see, and it halves the encoding of exact keys.
	q = 32 - P
	// ExactCap is how many distinct keys a Set counts exactly before it
	// switches to its Dense form.
	ExactCap = 8
	// HistBuckets is the number of buckets of the hashed histogram used for
	// entropy in the Dense form.
	HistBuckets = 64
)

// Dense is the large form of a Set: HyperLogLog registers and a hashed
// histogram of weights.
type Dense struct {
	Reg  [M]uint8
	Hist [HistBuckets]uint32
}

var densePool = sync.Pool{New: func() any { return new(Dense) }}

func getDense() *Dense { return densePool.Get().(*Dense) }

func putDense(d *Dense) {
	*d = Dense{}
	densePool.Put(d)
}

func (d *Dense) add(k uint32, c uint32) {
	idx := k >> q
	w := k << P
	r := uint8(q + 1)
	if w != 0 {
		r = uint8(bits.LeadingZeros32(w) + 1)
	}
	if r > d.Reg[idx] {
		d.Reg[idx] = r
	}
	b := k & (HistBuckets - 1)
	d.Hist[b] = satAdd32(d.Hist[b], c)
}

// Set counts distinct keys and the weight (number of Add calls) of each. It
// keys on the top 32 bits of the 64-bit hashes passed to Add. Up
// to ExactCap keys it is exact; beyond, it estimates the number of distinct
// keys with a HyperLogLog of M registers and keeps weights in a histogram of
// HistBuckets hashed buckets. The zero Set is empty and ready to use.
type Set struct {
	n    uint8
	keys [ExactCap]uint32
	cnts [ExactCap]uint32
	d    *Dense
}

// Add counts one occurrence of the key with hash h.
func (s *Set) Add(h uint64) {
	k := uint32(h >> 32)
	if s.d != nil {
		s.d.add(k, 1)
		return
	}
	for i := 0; i < int(s.n); i++ {
		if s.keys[i] == k {
			s.cnts[i] = satAdd32(s.cnts[i], 1)
			return
		}
	}
	if s.n < ExactCap {
		s.keys[s.n] = k
		s.cnts[s.n] = 1
		s.n++
		return
	}
	s.promote()
	s.d.add(k, 1)
}

func (s *Set) promote() {
	d := getDense()
	for i := 0; i < int(s.n); i++ {
		d.add(s.keys[i], s.cnts[i])
	}
	*s = Set{d: d}
}

// Dense reports whether the Set has switched to its estimated form.
func (s *Set) Dense() bool { return s.d != nil }

// Reset empties the Set and returns its Dense block, if any, to the pool.
func (s *Set) Reset() {
	if s.d != nil {
		putDense(s.d)
	}
	*s = Set{}
}

// Count returns the number of distinct keys: exact in the small form, a
// HyperLogLog estimate (Ertl's improved estimator) in the Dense form.
func (s *Set) Count() float64 {
	if s.d == nil {
		return float64(s.n)
	}
	return estimate(&s.d.Reg)
}

// Entropy returns the Shannon entropy in bits of the keys weighted by their
// occurrences: exact in the small form, over the hashed buckets in the Dense
// form (so at most log2(HistBuckets) = 6 bits).
func (s *Set) Entropy() float64 {
	if s.d == nil {
		return entropy(s.cnts[:s.n])
	}
	return entropy(s.d.Hist[:])
}

func entropy(c []uint32) float64 {
	var n, sum float64
	for _, v := range c {
		if v > 0 {
			f := float64(v)
			n += f
			sum += f * math.Log2(f)
		}
	}
	if n == 0 {
		return 0
	}
	h := math.Log2(n) - sum/n
	if h < 0 || math.IsNaN(h) {
		return 0
	}
	return h
}

// estimate is Ertl's improved raw estimator ("New cardinality estimation
// algorithms for HyperLogLog sketches", 2017, algorithm 6). It needs no
// empirical bias correction and is accurate from zero to far beyond what a
// window sees.
func estimate(reg *[M]uint8) float64 {
	var c [q + 2]int
	for _, r := range reg {
		c[r]++
	}
	if c[0] == M {
		return 0
	}
	const m = float64(M)
	z := m * tau(1-float64(c[q+1])/m)
	for k := q; k >= 1; k-- {
		z = 0.5 * (z + float64(c[k]))
	}
	z += m * sigma(float64(c[0])/m)
	e := m * m / (2 * math.Ln2) / z
	if !(e < maxEstimate) { // all registers saturated (only from crafted input)
		return maxEstimate
	}
	return e
}

// maxEstimate caps Count: far beyond what 32-bit keys can tell apart.
const maxEstimate = 1 << 40

func sigma(x float64) float64 {
	if x == 1 {
		return math.Inf(1)
	}
	y, z := 1.0, x
	for range 1100 { // converges long before: x^(2^k) underflows
		x *= x
		zp := z
		z += x * y
		y += y
		if zp == z {
			break
		}
	}
	return z
}

func tau(x float64) float64 {
	if x == 0 || x == 1 {
		return 0
	}
	y, z := 1.0, 1-x
	for range 1100 { // converges long before: y underflows
		x = math.Sqrt(x)
		zp := z
		y *= 0.5
		d := 1 - x
		z -= d * d * y
		if zp == z {
			break
		}
	}
	return z / 3
}
