package detect

import "math"

// rowCache is a bounded LRU cache of kernel matrix rows, in the spirit of
// LIBSVM's Cache. It is owned by one solver and not safe for concurrent use.
type rowCache struct {
	x      [][]float64
	gamma  float64
	rows   [][]float64 // rows[i] is K(x_i, ·) or nil when not cached
	prev   []int       // LRU list links over indices; -1 terminates
	next   []int
	head   int // least recently used
	tail   int // most recently used
	n      int // cached rows
	max    int // capacity in rows
	hits   int
	misses int
}

// newRowCache returns a cache for the kernel matrix of x holding at most
// cacheMB megabytes of rows, and never fewer than two rows.
func newRowCache(x [][]float64, gamma float64, cacheMB int) *rowCache {
	l := len(x)
	maxRows := int(int64(cacheMB) << 20 / int64(8*max(l, 1)))
	maxRows = min(max(maxRows, 2), l)
	c := &rowCache{
		x:     x,
		gamma: gamma,
		rows:  make([][]float64, l),
		prev:  make([]int, l),
		next:  make([]int, l),
		head:  -1,
		tail:  -1,
		max:   maxRows,
	}
	return c
}

func (c *rowCache) unlink(i int) {
	p, n := c.prev[i], c.next[i]
	if p >= 0 {
		c.next[p] = n
	} else {
		c.head = n
	}
	if n >= 0 {
		c.prev[n] = p
	} else {
		c.tail = p
	}
}

func (c *rowCache) pushTail(i int) {
	c.prev[i] = c.tail
	c.next[i] = -1
	if c.tail >= 0 {
		c.next[c.tail] = i
	} else {
		c.head = i
	}
	c.tail = i
}

// row returns K(x_i, x_k) for all k. The slice stays valid until the next
// call evicts it; with a capacity of at least two rows, the row returned by
// the previous call survives one further call.
func (c *rowCache) row(i int) []float64 {
	if r := c.rows[i]; r != nil {
		c.hits++
		if c.tail != i {
			c.unlink(i)
			c.pushTail(i)
		}
		return r
	}
	c.misses++
	var r []float64
	if c.n >= c.max {
		lru := c.head
		c.unlink(lru)
		r = c.rows[lru]
		c.rows[lru] = nil
	} else {
		r = make([]float64, len(c.x))
		c.n++
	}
	xi := c.x[i]
	g := c.gamma
	for k, xk := range c.x {
		r[k] = math.Exp(-g * sqDist(xi, xk))
	}
	c.rows[i] = r
	c.pushTail(i)
	return r
}

// sqDist returns the squared Euclidean distance of a and b, which must have
// the same length. Four accumulators, unrolled by eight over reslices (no
// bounds checks in the loop).
func sqDist(a, b []float64) float64 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float64
	for len(a) >= 8 && len(b) >= 8 {
		d0, d4 := a[0]-b[0], a[4]-b[4]
		d1, d5 := a[1]-b[1], a[5]-b[5]
		d2, d6 := a[2]-b[2], a[6]-b[6]
		d3, d7 := a[3]-b[3], a[7]-b[7]
		s0 += d0*d0 + d4*d4
		s1 += d1*d1 + d5*d5
		s2 += d2*d2 + d6*d6
		s3 += d3*d3 + d7*d7
		a, b = a[8:], b[8:]
	}
	for k := range a {
		d := a[k] - b[k]
		s0 += d * d
	}
	return (s0 + s1) + (s2 + s3)
}
