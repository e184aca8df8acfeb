package codecs_test

import (
	"bytes"
	"errors"
	"flag"
	"math"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/riptide-nids/riptide/codecs"
	"github.com/riptide-nids/riptide/packet"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// t0 is 2026-03-02T09:00:00Z in ns.
const t0 = int64(1772442000) * 1e9

// fixedBatch returns a batch that uses every feature of the format: both
// families, absent addresses, a zone, every optional group, out-of-order
// times, all in whole microseconds.
func fixedBatch() []packet.Summary {
	c := netip.MustParseAddr("10.1.0.17")
	s := netip.MustParseAddr("10.0.1.10")
	r := netip.MustParseAddr("10.0.1.53")
	v6 := netip.MustParseAddr("2001:db8::17")
	v6z := netip.MustParseAddr("fe80::1%eth0")
	return []packet.Summary{
		{Time: t0, Src: c, Dst: r, SrcPort: 53001, DstPort: 53, Length: 82, Proto: packet.ProtoUDP,
			Flags: packet.FlagDNS, DNSQNameLen: 22, DNSQType: 1},
		{Time: t0 + 1_250_000, Src: r, Dst: c, SrcPort: 53, DstPort: 53001, Length: 98, Proto: packet.ProtoUDP,
			Flags: packet.FlagDNS | packet.FlagDNSResponse, DNSRCode: 3, DNSQNameLen: 22, DNSQType: 65},
		{Time: t0 + 2_000_000, Src: c, Dst: s, SrcPort: 49152, DstPort: 443, Length: 74, Proto: packet.ProtoTCP,
			TCPFlags: packet.TCPSyn},
		{Time: t0 + 1_999_000, Src: s, Dst: c, SrcPort: 443, DstPort: 49152, Length: 74, Proto: packet.ProtoTCP,
			TCPFlags: packet.TCPSyn | packet.TCPAck},
		{Time: t0 + 2_500_000, Src: c, Dst: s, SrcPort: 49152, DstPort: 443, Length: 1514, Proto: packet.ProtoTCP,
			TCPFlags: packet.TCPPsh | packet.TCPAck},
		{Time: t0 + 3_000_000, Src: c, Dst: s, Length: 98, Proto: packet.ProtoICMP, ICMPType: 8},
		{Time: t0 + 3_000_000, Src: s, Dst: c, Length: 98, Proto: packet.ProtoICMP},
		{Time: t0 + 4_000_000, Src: c, Dst: netip.MustParseAddr("10.1.0.1"), Length: 42, Flags: packet.FlagARP, ARPOp: 1},
		{Time: t0 + 5_000_000, Src: v6, Dst: v6z, SrcPort: 5353, DstPort: 5353, Length: 1300, Proto: packet.ProtoUDP,
			Flags: packet.FlagTruncated},
		{Time: t0 + 6_000_000, Src: c, Length: 60, Proto: 47, Flags: packet.FlagFragment},
		{Time: t0 + 7_000_000, Src: netip.MustParseAddr("::ffff:10.1.0.17"), Dst: v6, Length: math.MaxUint32,
			Proto: packet.ProtoICMPv6, ICMPType: 128, ICMPCode: 255},
	}
}

// randomBatch returns n summaries resembling a host's traffic: mostly IPv4
// TCP and UDP with microsecond times a few hundred µs apart.
func randomBatch(n int, seed uint64) []packet.Summary {
	r := rand.New(rand.NewPCG(seed, 1))
	host := netip.MustParseAddr("10.1.0.17")
	peers := []netip.Addr{
		netip.MustParseAddr("10.0.1.10"), netip.MustParseAddr("10.0.1.53"),
		netip.MustParseAddr("93.184.216.34"), netip.MustParseAddr("142.250.74.110"),
	}
	t := t0
	sums := make([]packet.Summary, n)
	for i := range sums {
		t += int64(r.IntN(800)) * 1000
		peer := peers[r.IntN(len(peers))]
		s := packet.Summary{Time: t, Src: host, Dst: peer, SrcPort: uint16(49152 + r.IntN(16000)), DstPort: 443,
			Length: uint32(66 + r.IntN(1448)), Proto: packet.ProtoTCP, TCPFlags: packet.TCPAck}
		switch r.IntN(10) {
		case 0:
			s.Proto, s.TCPFlags, s.DstPort, s.Flags = packet.ProtoUDP, 0, 53, packet.FlagDNS
			s.DNSQNameLen, s.DNSQType = uint8(10+r.IntN(30)), 1
		case 1, 2, 3:
			s.Src, s.Dst, s.SrcPort, s.DstPort = s.Dst, s.Src, s.DstPort, s.SrcPort
		}
		sums[i] = s
	}
	return sums
}

func TestPacketBatchRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		sums []packet.Summary
	}{
		{"empty", nil},
		{"one", fixedBatch()[:1]},
		{"fixed", fixedBatch()},
		{"random 512", randomBatch(512, 1)},
		{"nanoseconds", []packet.Summary{{Time: t0 + 1}, {Time: t0 - 7}, {Time: t0 + 1_000_000_003}}},
		{"extreme times", []packet.Summary{{Time: math.MaxInt64}, {Time: math.MinInt64}, {Time: 0}, {Time: -1}}},
		{"extreme µs times", []packet.Summary{{Time: math.MaxInt64 / 1000 * 1000}, {Time: math.MinInt64 / 1000 * 1000}}},
		{"all fields max", []packet.Summary{{Time: 1, Src: netip.IPv6Unspecified(), Dst: netip.IPv4Unspecified(),
			SrcPort: 65535, DstPort: 65535, Length: math.MaxUint32, Proto: 255, TCPFlags: 255, ICMPType: 255,
			ICMPCode: 255, ARPOp: 255, Flags: 255, DNSRCode: 255, DNSQNameLen: 255, DNSQType: 65535}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := codecs.AppendPacketBatch([]byte("prefix"), tt.sums)
			if !bytes.HasPrefix(b, []byte("prefix")) {
				t.Fatal("AppendPacketBatch did not append to dst")
			}
			got, err := codecs.DecodePacketBatch(b[len("prefix"):], make([]packet.Summary, 3, 5))
			if err != nil {
				t.Fatalf("DecodePacketBatch: %v", err)
			}
			if len(got) != len(tt.sums) {
				t.Fatalf("decoded %d summaries, want %d", len(got), len(tt.sums))
			}
			for i := range got {
				if got[i] != tt.sums[i] {
					t.Errorf("summary %d:\n got %+v\nwant %+v", i, got[i], tt.sums[i])
				}
			}
		})
	}
}

func TestDecodePacketBatchErrors(t *testing.T) {
	valid := codecs.AppendPacketBatch(nil, fixedBatch())
	// An IPv6 zone of length 0 is corrupt.
	zone := []byte{'P', 1, 0, 1}
	zone = append(zone, make([]byte, 8)...)
	zone = append(zone, 0, 3) // time delta; head: source family 3
	zone = append(zone, make([]byte, 16)...)
	zone = append(zone, 0, 60, 0, 0, 0) // zone length 0, length, proto, flags, TCP flags
	tests := []struct {
		name string
		b    []byte
		want error
	}{
		{"nil", nil, codecs.ErrTruncated},
		{"header only", []byte{'P', 1}, codecs.ErrTruncated},
		{"bad magic", []byte{'V', 1, 0, 0}, codecs.ErrCorrupt},
		{"version 0", []byte{'P', 0, 0, 0}, codecs.ErrUnknownVersion},
		{"version 2", []byte{'P', 2, 0, 0}, codecs.ErrUnknownVersion},
		{"reserved flag", []byte{'P', 1, 2, 0}, codecs.ErrCorrupt},
		{"no count", []byte{'P', 1, 0}, codecs.ErrTruncated},
		{"count overflows", []byte{'P', 1, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, codecs.ErrCorrupt},
		{"huge count", append([]byte{'P', 1, 0, 0xff, 0xff, 0xff, 0xff, 0x0f}, make([]byte, 64)...), codecs.ErrTruncated},
		{"count exceeds bytes", append([]byte{'P', 1, 0, 3}, make([]byte, 8+17)...), codecs.ErrTruncated},
		{"trailing after empty", []byte{'P', 1, 0, 0, 0}, codecs.ErrCorrupt},
		{"trailing", append(bytes.Clone(valid), 0), codecs.ErrCorrupt},
		{"length > 32 bits", append([]byte{'P', 1, 0, 1}, append(make([]byte, 8), 0, 0, 0x80, 0x80, 0x80, 0x80, 0x10, 6, 0, 0)...), codecs.ErrCorrupt},
		{"qtype > 16 bits", append([]byte{'P', 1, 0, 1}, append(make([]byte, 8), 0, headDNS, 60, 17, 0, 0, 0, 0, 0x80, 0x80, 0x04)...), codecs.ErrCorrupt},
		{"empty zone", zone, codecs.ErrCorrupt},
		{"µs time out of range", append([]byte{'P', 1, 1, 1}, append(le64(math.MaxInt64/1000+1), 0, 0, 60, 0, 0, 0)...), codecs.ErrCorrupt},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := codecs.DecodePacketBatch(tt.b, nil)
			if !errors.Is(err, tt.want) {
				t.Fatalf("DecodePacketBatch(% x) = %v, want %v", tt.b, err, tt.want)
			}
			if err != nil && !bytes.HasPrefix([]byte(err.Error()), []byte("codecs: ")) {
				t.Errorf("error %q lacks the codecs: prefix", err)
			}
		})
	}
	t.Run("every prefix", func(t *testing.T) {
		for n := range len(valid) {
			if _, err := codecs.DecodePacketBatch(valid[:n], nil); !errors.Is(err, codecs.ErrTruncated) {
				t.Errorf("prefix of %d/%d bytes: err = %v, want ErrTruncated", n, len(valid), err)
			}
		}
	})
}

const headDNS = 1 << 7

func le64(x int64) []byte {
	b := make([]byte, 8)
	for i := range b {
		b[i] = byte(uint64(x) >> (8 * i))
	}
	return b
}

func TestDecodePacketBatchReusesMemory(t *testing.T) {
	b := codecs.AppendPacketBatch(nil, randomBatch(512, 2))
	dst := make([]packet.Summary, 0, 512)
	allocs := testing.AllocsPerRun(100, func() {
		var err error
		if dst, err = codecs.DecodePacketBatch(b, dst); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("DecodePacketBatch with capacity: %v allocs, want 0", allocs)
	}
	buf := make([]byte, 0, 2*len(b))
	allocs = testing.AllocsPerRun(100, func() { buf = codecs.AppendPacketBatch(buf[:0], dst) })
	if allocs != 0 {
		t.Errorf("AppendPacketBatch with capacity: %v allocs, want 0", allocs)
	}
}

func TestPacketBatchSize(t *testing.T) {
	sums := randomBatch(512, 3)
	b := codecs.AppendPacketBatch(nil, sums)
	per := float64(len(b)) / float64(len(sums))
	t.Logf("512 summaries: %d bytes, %.2f bytes/summary", len(b), per)
	if per > 22 {
		t.Errorf("%.2f bytes per IPv4 summary, want <= 22", per)
	}
}

func TestPacketBatchGolden(t *testing.T) {
	golden(t, "packetbatch-v1.golden", codecs.AppendPacketBatch(nil, fixedBatch()))
	b, err := os.ReadFile(filepath.Join("testdata", "packetbatch-v1.golden"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := codecs.DecodePacketBatch(b, nil)
	if err != nil {
		t.Fatalf("decoding the golden file: %v", err)
	}
	if !reflect.DeepEqual(got, fixedBatch()) {
		t.Errorf("golden file decodes to\n%+v\nwant\n%+v", got, fixedBatch())
	}
}

// golden compares got with testdata/name byte for byte, or rewrites the file
// with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s changed: the format of a released version must not change\n got % x\nwant % x", path, got, want)
	}
}

func FuzzDecodePacketBatch(f *testing.F) {
	f.Add(codecs.AppendPacketBatch(nil, fixedBatch()))
	f.Add(codecs.AppendPacketBatch(nil, randomBatch(20, 4)))
	f.Add(codecs.AppendPacketBatch(nil, []packet.Summary{{Time: t0 + 1}, {Time: math.MinInt64}}))
	f.Add(codecs.AppendPacketBatch(nil, nil))
	f.Add([]byte{'P', 1, 0, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, b []byte) {
		sums, err := codecs.DecodePacketBatch(b, nil)
		if err != nil {
			if !errors.Is(err, codecs.ErrTruncated) && !errors.Is(err, codecs.ErrCorrupt) && !errors.Is(err, codecs.ErrUnknownVersion) {
				t.Fatalf("error wraps no sentinel: %v", err)
			}
			return
		}
		if len(sums)*6 > len(b) {
			t.Fatalf("%d summaries from %d bytes", len(sums), len(b))
		}
		again, err := codecs.DecodePacketBatch(codecs.AppendPacketBatch(nil, sums), nil)
		if err != nil {
			t.Fatalf("re-encoded batch does not decode: %v", err)
		}
		if len(again) != len(sums) {
			t.Fatalf("round trip: %d summaries, want %d", len(again), len(sums))
		}
		for i := range sums {
			if again[i] != sums[i] {
				t.Fatalf("round trip: summary %d\n got %+v\nwant %+v", i, again[i], sums[i])
			}
		}
	})
}

func BenchmarkAppendPacketBatch(b *testing.B) {
	sums := randomBatch(512, 5)
	buf := codecs.AppendPacketBatch(nil, sums)
	b.ReportAllocs()
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		buf = codecs.AppendPacketBatch(buf[:0], sums)
	}
	reportPerSummary(b, len(buf), len(sums))
}

func BenchmarkDecodePacketBatch(b *testing.B) {
	sums := randomBatch(512, 5)
	buf := codecs.AppendPacketBatch(nil, sums)
	dst := make([]packet.Summary, 0, len(sums))
	b.ReportAllocs()
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		var err error
		if dst, err = codecs.DecodePacketBatch(buf, dst); err != nil {
			b.Fatal(err)
		}
	}
	reportPerSummary(b, len(buf), len(sums))
}

func reportPerSummary(b *testing.B, size, n int) {
	b.ReportMetric(float64(size)/float64(n), "B/summary")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/summary")
}
