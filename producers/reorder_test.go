package producers_test

import (
	"errors"
	"io"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/riptide-nids/riptide/packet"
	"github.com/riptide-nids/riptide/producers"
)

// drain reads src to the end and returns what it yielded and the error that
// ended it.
func drain(t *testing.T, src producers.Source) ([]packet.Summary, error) {
	t.Helper()
	var out []packet.Summary
	for {
		var s packet.Summary
		if err := src.Next(&s); err != nil {
			return out, err
		}
		out = append(out, s)
		if len(out) > 10_000_000 {
			t.Fatal("source does not end")
		}
	}
}

// sortedSums returns n summaries 1 ms apart with distinct lengths (so that
// equal-time ties cannot hide a mix-up).
func sortedSums(n int) []packet.Summary {
	out := make([]packet.Summary, n)
	for i := range out {
		out[i] = sum(t0+int64(i)*int64(time.Millisecond), hostA, hostB, uint32(i))
	}
	return out
}

// shuffleWithin shuffles sums (sorted, 1 ms apart) in consecutive blocks of
// block packets, so that no packet comes more than block ms after a later
// one.
func shuffleWithin(sums []packet.Summary, block int, rng *rand.Rand) []packet.Summary {
	out := slices.Clone(sums)
	for i := 0; i < len(out); i += block {
		b := out[i:min(i+block, len(out))]
		rng.Shuffle(len(b), func(x, y int) { b[x], b[y] = b[y], b[x] })
	}
	return out
}

func reversed(sums []packet.Summary) []packet.Summary {
	out := slices.Clone(sums)
	slices.Reverse(out)
	return out
}

func byTime(a, b packet.Summary) int { return int(a.Time - b.Time) }

func TestReorder(t *testing.T) {
	sorted := sortedSums(5000)
	rng := rand.New(rand.NewPCG(3, 4))
	tests := []struct {
		name    string
		in      []packet.Summary
		span    time.Duration
		maxHeld int
		want    []packet.Summary
	}{
		{"sorted passes through", sorted, 50 * time.Millisecond, 1000, sorted},
		{"sorted, no span", sorted, 0, 0, sorted},
		{"shuffled within span", shuffleWithin(sorted, 40, rng), 50 * time.Millisecond, 1_000_000, sorted},
		{"shuffled within span, no limit", shuffleWithin(sorted, 40, rng), 50 * time.Millisecond, 0, sorted},
		{"shuffled within span, limit above need", shuffleWithin(sorted, 40, rng), 50 * time.Millisecond, 100, sorted},
		{"shuffled exactly span", shuffleWithin(sorted, 11, rng), 10 * time.Millisecond, 0, sorted},
		{"empty", nil, time.Second, 10, nil},
		{"one", sorted[:1], time.Second, 10, sorted[:1]},
		{"reversed, span covers all", reversed(sorted[:100]), time.Hour, 0, sorted[:100]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := drain(t, producers.Reorder(&sliceSource{sums: tt.in}, tt.span, tt.maxHeld))
			if !errors.Is(err, io.EOF) {
				t.Fatalf("ended with %v, want io.EOF", err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %d summaries, want %d; sorted %v", len(got), len(tt.want), slices.IsSortedFunc(got, byTime))
			}
		})
	}
}

func TestReorderOutOfSpanStaysLate(t *testing.T) {
	// A packet further behind than span cannot be put right; it comes out
	// as soon as possible (late) rather than being dropped.
	in := sortedSums(10)
	late := in[1]
	in = append(slices.Delete(slices.Clone(in), 1, 2), late) // arrives 8 ms late
	got, err := drain(t, producers.Reorder(&sliceSource{sums: in}, 3*time.Millisecond, 0))
	if !errors.Is(err, io.EOF) {
		t.Fatal(err)
	}
	if len(got) != len(in) {
		t.Fatalf("got %d summaries, want %d", len(got), len(in))
	}
	if slices.IsSortedFunc(got, byTime) {
		t.Error("a packet 8 ms late came out in order with a 3 ms span")
	}
	gotSorted := slices.SortedFunc(slices.Values(got), byTime)
	if !slices.Equal(gotSorted, sortedSums(10)) {
		t.Error("summaries lost or changed")
	}
}

func TestReorderZeroSpanIsSource(t *testing.T) {
	src := &sliceSource{}
	if got := producers.Reorder(src, 0, 10); got != producers.Source(src) {
		t.Errorf("Reorder with span 0 = %T, want the source itself", got)
	}
}

// countingSource yields summaries with decreasing times forever and counts
// the reads.
type countingSource struct{ read int }

func (c *countingSource) Next(s *packet.Summary) error {
	c.read++
	*s = sum(t0-int64(c.read)*int64(time.Millisecond), hostA, hostB, uint32(c.read))
	return nil
}

func TestReorderReleasesAtMaxHeld(t *testing.T) {
	for _, maxHeld := range []int{1, 2, 3, 100} {
		src := &countingSource{}
		// The span is never reached (times go backwards), so only maxHeld
		// releases packets.
		r := producers.Reorder(src, time.Hour, maxHeld)
		var prev packet.Summary
		for i := range 1000 {
			var s packet.Summary
			if err := r.Next(&s); err != nil {
				t.Fatal(err)
			}
			if held := src.read - (i + 1); held > maxHeld || held < 0 {
				t.Fatalf("maxHeld %d: after %d packets out, %d read: %d held", maxHeld, i+1, src.read, held)
			}
			if i == 0 && src.read != maxHeld {
				t.Errorf("maxHeld %d: first packet released after %d reads, want %d", maxHeld, src.read, maxHeld)
			}
			// The oldest held is released: times keep falling.
			if i > 0 && s.Time >= prev.Time {
				t.Fatalf("maxHeld %d: packet %d at %d after %d", maxHeld, i, s.Time, prev.Time)
			}
			prev = s
		}
	}
}

func TestReorderErrorAfterDraining(t *testing.T) {
	boom := errors.New("disk on fire")
	sorted := sortedSums(50)
	in := shuffleWithin(sorted, 50, rand.New(rand.NewPCG(5, 6)))
	r := producers.Reorder(&sliceSource{sums: in, end: boom}, time.Hour, 0)
	got, err := drain(t, r)
	if !errors.Is(err, boom) {
		t.Fatalf("ended with %v, want %v", err, boom)
	}
	if !slices.Equal(got, sorted) {
		t.Errorf("before the error: %d summaries, want the %d held, in order", len(got), len(sorted))
	}
	var s packet.Summary
	if err := r.Next(&s); !errors.Is(err, boom) {
		t.Errorf("Next after the error = %v, want %v again", err, boom)
	}
}

// jitterSource yields an endless stream of summaries, 1 ms apart with up to
// 20 ms of jitter, without allocating.
type jitterSource struct {
	i   int64
	rng *rand.Rand
}

func (j *jitterSource) Next(s *packet.Summary) error {
	j.i++
	*s = packet.Summary{Time: t0 + j.i*int64(time.Millisecond) - j.rng.Int64N(int64(20*time.Millisecond)), Src: hostA, Dst: hostB, Length: 60}
	return nil
}

func TestReorderNoAllocsPerPacket(t *testing.T) {
	r := producers.Reorder(&jitterSource{rng: rand.New(rand.NewPCG(1, 1))}, 50*time.Millisecond, 1000)
	var s packet.Summary
	for range 10_000 { // reach the steady state: the heap has grown
		if err := r.Next(&s); err != nil {
			t.Fatal(err)
		}
	}
	allocs := testing.AllocsPerRun(10_000, func() {
		if err := r.Next(&s); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per packet in the steady state, want 0", allocs)
	}
}

func BenchmarkReorder(b *testing.B) {
	r := producers.Reorder(&jitterSource{rng: rand.New(rand.NewPCG(1, 1))}, 50*time.Millisecond, 1000)
	var s packet.Summary
	for range 10_000 { // the steady state: the heap has grown
		if err := r.Next(&s); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := r.Next(&s); err != nil {
			b.Fatal(err)
		}
	}
}
