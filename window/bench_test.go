package window

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/riptide-nids/riptide/packet"
)

// addWorkload returns packets for one host (10.0.0.1) of a given kind, all
// within one default window.
func addWorkload(kind string) []packet.Summary {
	r := rand.New(rand.NewPCG(1, 2))
	ps := make([]packet.Summary, 4096)
	peers := []string{"10.0.0.2", "10.0.0.3", "93.184.216.34", "10.0.0.53"}
	for i := range ps {
		d := time.Duration(i) * time.Millisecond
		switch kind {
		case "benign":
			p := peers[i%len(peers)]
			if i%2 == 0 {
				ps[i] = tcp(d, "10.0.0.1", 50000, p, 443, ack)
			} else {
				ps[i] = tcp(d, p, 443, "10.0.0.1", 50000, ack)
			}
		case "scanner":
			ps[i] = tcp(d, "10.0.0.1", 50000, "10.0.0.2", uint16(r.IntN(65536)), syn)
		case "flood-victim":
			ps[i] = tcp(d, "10.0.0.1", 50000, "10.0.0.1", 80, syn)
			ps[i].Src = v4(byte(r.IntN(223)+1), byte(r.IntN(256)), byte(r.IntN(256)), byte(r.IntN(256)))
		}
	}
	return ps
}

func BenchmarkStateAdd(b *testing.B) {
	cfg := DefaultConfig()
	host := ip("10.0.0.1")
	for _, kind := range []string{"benign", "scanner", "flood-victim"} {
		b.Run(kind, func(b *testing.B) {
			ps := addWorkload(kind)
			st := NewState()
			stream := ps[len(ps)-1].Time
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				st.Add(host, &ps[i%len(ps)], stream, cfg)
			}
			if st.Open() != 1 {
				b.Fatalf("%d windows open", st.Open())
			}
		})
	}
}

// BenchmarkStateAddClose is the processor's pattern: Add then Close on every
// packet, with windows rolling over.
func BenchmarkStateAddClose(b *testing.B) {
	cfg := DefaultConfig()
	host := ip("10.0.0.1")
	ps := addWorkload("benign")
	st := NewState()
	emitted := 0
	emit := func(*Vector) { emitted++ }
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		s := ps[i%len(ps)]
		s.Time += int64(i/len(ps)) * int64(4096*time.Millisecond)
		st.Add(host, &s, s.Time, cfg)
		st.Close("10.0.0.1", s.Time, cfg, emit)
	}
}

func BenchmarkMarshal(b *testing.B) {
	for _, tc := range stateCases[1:] {
		b.Run(tc.name, func(b *testing.B) {
			st := tc.st(b)
			buf := make([]byte, 0, 4096)
			var err error
			b.ReportAllocs()
			for b.Loop() {
				if buf, err = st.AppendBinary(buf[:0]); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(buf)), "bytes")
		})
	}
}

func BenchmarkUnmarshal(b *testing.B) {
	for _, tc := range stateCases[1:] {
		b.Run(tc.name, func(b *testing.B) {
			data, err := tc.st(b).MarshalBinary()
			if err != nil {
				b.Fatal(err)
			}
			var st State
			b.ReportAllocs()
			for b.Loop() {
				if err := st.UnmarshalBinary(data); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(data)), "bytes")
		})
	}
}

// BenchmarkClose measures turning a window into a Vector (HyperLogLog
// estimates, entropies): paid once per host and window.
func BenchmarkClose(b *testing.B) {
	for _, tc := range stateCases[1:] {
		b.Run(tc.name, func(b *testing.B) {
			data, err := tc.st(b).MarshalBinary()
			if err != nil {
				b.Fatal(err)
			}
			st := NewState()
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				if err := st.UnmarshalBinary(data); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				st.Close("h", 1<<62, DefaultConfig(), func(*Vector) {})
			}
		})
	}
}

// BenchmarkAggregator runs synthetic traffic of 1,000 internal hosts and
// their external peers through an Aggregator; ns/op is per packet.
func BenchmarkAggregator(b *testing.B) {
	const n = 1 << 16
	ps := synthetic(n, 1000, 20000, 500*time.Millisecond, 9)
	span := ps[n-1].Time - ps[0].Time + int64(time.Millisecond)
	windows := 0
	agg := NewAggregator(DefaultConfig(), func(*Vector) { windows++ })
	b.ReportAllocs()
	start := time.Now()
	for i := 0; b.Loop(); i++ {
		s := ps[i%n]
		s.Time += int64(i/n) * span
		agg.Add(&s)
	}
	el := time.Since(start)
	b.ReportMetric(float64(b.N)/el.Seconds(), "packets/s")
	b.ReportMetric(float64(agg.Stats().Hosts), "hosts")
}
