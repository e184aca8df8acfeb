package sketch

// TopKCap is the number of entries of a TopK.
const TopKCap = 16

// TopK tracks the most frequent keys with the space-saving algorithm (Metwally
// et al. 2005) in TopKCap entries. Each entry keeps a count, which
// over-estimates the key's true count by at most its recorded error. The zero
// TopK is empty and ready to use.
type TopK struct {
	n    uint8
	keys [TopKCap]uint32
	cnts [TopKCap]uint32
	errs [TopKCap]uint32
}

// Add counts one occurrence of the key with hash h (keyed, like Set, on its
// top 32 bits).
func (t *TopK) Add(h uint64) {
	k := uint32(h >> 32)
	n := int(t.n)
	for i := 0; i < n; i++ {
		if t.keys[i] == k {
			t.cnts[i] = satAdd32(t.cnts[i], 1)
			return
		}
	}
	if n < TopKCap {
		t.keys[n], t.cnts[n], t.errs[n] = k, 1, 0
		t.n++
		return
	}
	m := 0
	for i := 1; i < TopKCap; i++ {
		if t.cnts[i] < t.cnts[m] {
			m = i
		}
	}
	t.keys[m], t.errs[m] = k, t.cnts[m]
	t.cnts[m] = satAdd32(t.cnts[m], 1)
}

// Max returns the largest guaranteed count: the maximum over entries of count
// minus error. It never over-estimates the true maximum, and equals it when
// the most frequent key was counted from its first occurrence (always so while
// fewer than TopKCap keys were seen). A scan of many keys seen once each
// yields 1, not the inflated counts of evicted entries.
func (t *TopK) Max() uint32 {
	var m uint32
	for i := 0; i < int(t.n); i++ {
		if v := t.cnts[i] - t.errs[i]; v > m {
			m = v
		}
	}
	return m
}

// Reset empties the TopK.
func (t *TopK) Reset() { *t = TopK{} }
