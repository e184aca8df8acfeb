package sketch

import (
	"bytes"
	"errors"
	"math"
	"net/netip"
	"testing"
)

func addrN(i uint32) netip.Addr {
	return netip.AddrFrom4([4]byte{byte(i >> 24), byte(i >> 16), byte(i >> 8), byte(i)})
}

func TestSetCountAccuracy(t *testing.T) {
	tests := []struct {
		n      int
		maxErr float64 // relative
	}{
		{0, 0}, {1, 0}, {8, 0}, // exact form
		{9, 0.05}, {20, 0.05}, {100, 0.1}, {1000, 0.1},
		{10000, 0.1}, {37000, 0.1}, {100000, 0.1}, {1000000, 0.1},
	}
	for _, tt := range tests {
		var s Set
		for i := 0; i < tt.n; i++ {
			h := HashAddr(addrN(0x0a000000 + uint32(i)*7919))
			s.Add(h)
			s.Add(h) // repeats must not count
		}
		got := s.Count()
		if tt.n == 0 {
			if got != 0 {
				t.Errorf("n=0: count %v", got)
			}
			continue
		}
		rel := math.Abs(got-float64(tt.n)) / float64(tt.n)
		t.Logf("n=%d estimate=%.1f error=%.2f%% dense=%v", tt.n, got, 100*rel, s.Dense())
		if rel > tt.maxErr {
			t.Errorf("n=%d: estimate %.1f, relative error %.3f > %.3f", tt.n, got, rel, tt.maxErr)
		}
		if s.Dense() != (tt.n > ExactCap) {
			t.Errorf("n=%d: dense=%v", tt.n, s.Dense())
		}
		s.Reset()
	}
}

// TestSetErrorDistribution checks the estimator over many independent
// sketches: the mean relative error is near zero (no bias) and the spread is
// close to the theoretical 1.04/sqrt(M).
func TestSetErrorDistribution(t *testing.T) {
	for _, n := range []int{50, 500, 5000} {
		const trials = 200
		var sum, sumSq float64
		for k := 0; k < trials; k++ {
			var s Set
			for i := 0; i < n; i++ {
				s.Add(Mix64(uint64(k)<<32 | uint64(i)))
			}
			e := (s.Count() - float64(n)) / float64(n)
			sum += e
			sumSq += e * e
			s.Reset()
		}
		mean := sum / trials
		sd := math.Sqrt(sumSq/trials - mean*mean)
		t.Logf("n=%d bias=%.4f sd=%.4f (theory %.4f)", n, mean, sd, 1.04/math.Sqrt(M))
		if math.Abs(mean) > 0.015 || sd > 1.3*1.04/math.Sqrt(M) {
			t.Errorf("n=%d: bias %.4f, sd %.4f", n, mean, sd)
		}
	}
}

func TestSetCountSaturated(t *testing.T) {
	var s Set
	defer s.Reset()
	for i := range ExactCap + 1 {
		s.Add(Mix64(uint64(i))) // promote
	}
	for i := range s.d.Reg {
		s.d.Reg[i] = q + 1
	}
	if c := s.Count(); c != maxEstimate {
		t.Errorf("saturated count %v, want %v", c, float64(maxEstimate))
	}
}

func TestSetEntropy(t *testing.T) {
	tests := []struct {
		name    string
		weights []int
		want    float64
		tol     float64
	}{
		{"empty", nil, 0, 0},
		{"one key", []int{5}, 0, 0},
		{"two equal", []int{3, 3}, 1, 1e-12},
		{"eight equal", []int{2, 2, 2, 2, 2, 2, 2, 2}, 3, 1e-12},
		{"skewed", []int{3, 1}, 0.8112781244591328, 1e-12},
		// Dense: 1000 equal keys over 64 buckets: close to log2(64) = 6.
		{"dense uniform", repeat(1, 1000), 6, 0.1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s Set
			defer s.Reset()
			for k, w := range tt.weights {
				for range w {
					s.Add(HashPort(uint16(k)))
				}
			}
			if got := s.Entropy(); math.Abs(got-tt.want) > tt.tol {
				t.Errorf("entropy %v, want %v", got, tt.want)
			}
		})
	}
}

func repeat(v, n int) []int {
	r := make([]int, n)
	for i := range r {
		r[i] = v
	}
	return r
}

func TestSetPromotionKeepsWeights(t *testing.T) {
	var s Set
	defer s.Reset()
	for k := 0; k < ExactCap; k++ {
		for range k + 1 {
			s.Add(HashPort(uint16(k)))
		}
	}
	before := s.Entropy()
	s.Add(HashPort(1000))
	if !s.Dense() {
		t.Fatal("not dense after ExactCap+1 keys")
	}
	var total uint32
	for _, c := range s.d.Hist {
		total += c
	}
	if want := uint32(ExactCap*(ExactCap+1)/2 + 1); total != want {
		t.Errorf("histogram weight %d, want %d", total, want)
	}
	if after := s.Entropy(); math.Abs(after-before) > 0.5 {
		t.Errorf("entropy jumped from %v to %v", before, after)
	}
}

func TestTopK(t *testing.T) {
	tests := []struct {
		name string
		keys func(add func(uint64))
		want uint32
	}{
		{"empty", func(func(uint64)) {}, 0},
		{"one key", func(add func(uint64)) {
			for range 7 {
				add(1)
			}
		}, 7},
		{"scan of distinct keys", func(add func(uint64)) {
			for i := range 1000 {
				add(uint64(i))
			}
		}, 1},
		{"heavy key among scan", func(add func(uint64)) {
			for i := range 1000 {
				add(uint64(i + 100))
				if i%10 == 0 {
					add(42)
				}
			}
		}, 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var k TopK
			tt.keys(func(h uint64) { k.Add(Mix64(h)) })
			got := k.Max()
			if tt.name == "heavy key among scan" {
				// Space-saving's guarantee: count - error is a lower bound
				// that is exact for a key never evicted.
				if got < tt.want-1 || got > tt.want {
					t.Errorf("max %d, want about %d", got, tt.want)
				}
				return
			}
			if got != tt.want {
				t.Errorf("max %d, want %d", got, tt.want)
			}
		})
	}
}

func TestCodecRoundTrip(t *testing.T) {
	for _, n := range []int{0, 1, 8, 9, 100, 300, 5000, 40000, 1 << 22} {
		var s Set
		var k TopK
		for i := 0; i < n; i++ {
			s.Add(Mix64(uint64(i)))
			s.Add(Mix64(uint64(i % 3)))
			k.Add(Mix64(uint64(i % 37)))
		}
		b := s.AppendBinary(nil, true)
		b = k.AppendBinary(b)
		var s2 Set
		var k2 TopK
		rest, err := s2.Decode(b, true)
		if err != nil {
			t.Fatalf("n=%d: decode set: %v", n, err)
		}
		rest, err = k2.Decode(rest)
		if err != nil || len(rest) != 0 {
			t.Fatalf("n=%d: decode topk: %v, %d left", n, err, len(rest))
		}
		if s2.Count() != s.Count() || s2.Entropy() != s.Entropy() || k2.Max() != k.Max() || k2 != k {
			t.Errorf("n=%d: round trip differs", n)
		}
		if b2 := k2.AppendBinary(s2.AppendBinary(nil, true)); !bytes.Equal(b, b2) {
			t.Errorf("n=%d: re-encoding differs", n)
		}
		// Without weights only the count survives.
		c := s.AppendBinary(nil, false)
		var s3 Set
		if rest, err := s3.Decode(c, false); err != nil || len(rest) != 0 || s3.Count() != s.Count() {
			t.Errorf("n=%d: count-only round trip: %v, count %v", n, err, s3.Count())
		}
		s3.Reset()
		t.Logf("n=%d: set+topk %d bytes, count-only set %d bytes", n, len(b), len(c))
		s.Reset()
		s2.Reset()
	}
}

func TestDecodeErrors(t *testing.T) {
	key := make([]byte, 4)
	packed := append([]byte{tagPacked, 2}, make([]byte, packedBytes)...)
	tests := []struct {
		name string
		in   []byte
	}{
		{"empty", nil},
		{"bad tag", []byte{0x42}},
		{"exact too long", []byte{9}},
		{"exact truncated key", []byte{1, 0, 0}},
		{"exact zero count", append(append([]byte{1}, key...), 0)},
		{"exact duplicate", append(append(append(append([]byte{2}, key...), 1), key...), 1)},
		{"sparse register too large", []byte{tagSparse, 1, q + 2}},
		{"sparse register zero", []byte{tagSparse, 1, 1 << 5}},
		{"sparse index out of range", []byte{tagSparse, 2, 1, sparseGapEsc<<5 | 1, 0xff, 0x03}},
		{"sparse short escaped gap", []byte{tagSparse, 1, sparseGapEsc<<5 | 1, 3}},
		{"sparse truncated", []byte{tagSparse, 3, 1}},
		{"sparse no histogram", []byte{tagSparse, 0}},
		{"packed truncated", []byte{tagPacked, 1, 2}},
		{"packed base too large", append([]byte{tagPacked, q + 2}, make([]byte, packedBytes+9)...)},
		{"packed value too large", append(append([]byte{tagPacked, q - 3}, 14), make([]byte, packedBytes+9)...)},
		{"packed missing exception", func() []byte {
			b := append([]byte{}, packed...)
			b[2] = packedEsc
			return append(b, 0)
		}()},
		{"packed exception on plain register", func() []byte {
			b := append([]byte{}, packed...)
			b[2] = packedEsc
			return append(b, 1, 1, q+1) // index 1 is not escaped
		}()},
		{"packed exception too small", func() []byte {
			b := append([]byte{}, packed...)
			b[2] = packedEsc
			return append(b, 1, 0, 3)
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s Set
			if _, err := s.Decode(tt.in, true); !errors.Is(err, ErrCorrupt) {
				t.Errorf("error %v, want ErrCorrupt", err)
			}
			if s.Dense() || s.Count() != 0 {
				t.Error("set not empty after failed decode")
			}
		})
	}
	var k TopK
	if _, err := k.Decode([]byte{1, 0, 0, 0, 0, 2, 2}); !errors.Is(err, ErrCorrupt) {
		t.Errorf("topk error >= count: %v", err)
	}
	if _, err := k.Decode([]byte{TopKCap + 1}); !errors.Is(err, ErrCorrupt) {
		t.Errorf("topk too long: %v", err)
	}
}

func FuzzSetDecode(f *testing.F) {
	for _, n := range []int{1, 9, 300, 40000} {
		var s Set
		for i := range n {
			s.Add(Mix64(uint64(i)))
		}
		f.Add(s.AppendBinary(nil, true), true)
		f.Add(s.AppendBinary(nil, false), false)
		s.Reset()
	}
	f.Add([]byte{tagPacked}, true)
	f.Fuzz(func(t *testing.T, b []byte, weights bool) {
		var s Set
		defer s.Reset()
		if _, err := s.Decode(b, weights); err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("undocumented error %v", err)
			}
			return
		}
		if c := s.Count(); math.IsNaN(c) || math.IsInf(c, 0) || c < 0 {
			t.Fatalf("count %v", c)
		}
		if e := s.Entropy(); math.IsNaN(e) || e < 0 {
			t.Fatalf("entropy %v", e)
		}
		// Re-encoding may pick the other register form, but must decode to
		// the same Set and be stable from then on.
		enc := s.AppendBinary(nil, weights)
		var s2 Set
		defer s2.Reset()
		if rest, err := s2.Decode(enc, weights); err != nil || len(rest) != 0 {
			t.Fatalf("re-encoding does not decode: %v", err)
		}
		if s2.Count() != s.Count() || s2.Entropy() != s.Entropy() {
			t.Fatal("re-encoding decodes to another set")
		}
		if !bytes.Equal(s2.AppendBinary(nil, weights), enc) {
			t.Fatal("encoding not stable")
		}
	})
}

func BenchmarkSetAdd(b *testing.B) {
	for _, tc := range []struct {
		name string
		mod  uint64
	}{{"exact", 5}, {"dense", 1 << 20}} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			var s Set
			defer s.Reset()
			for i := 0; b.Loop(); i++ {
				s.Add(Mix64(uint64(i) % tc.mod))
			}
		})
	}
}

func BenchmarkSetCount(b *testing.B) {
	b.ReportAllocs()
	var s Set
	defer s.Reset()
	for i := range 10000 {
		s.Add(Mix64(uint64(i)))
	}
	for b.Loop() {
		_ = s.Count()
	}
}

func BenchmarkHashAddr(b *testing.B) {
	b.ReportAllocs()
	a := netip.MustParseAddr("2001:db8::1")
	var x uint64
	for b.Loop() {
		x += HashAddr(a)
	}
	_ = x
}
