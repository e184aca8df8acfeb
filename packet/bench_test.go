package packet

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

// BenchmarkDecodeDevMixed decodes the packets of the benchmark capture, held
// in memory; one op is one packet.
func BenchmarkDecodeDevMixed(b *testing.B) {
	frames := loadFrames(b, filepath.Join(datasetsDir(b), "bench", "dev-mixed.pcap"))
	var d Decoder
	var s Summary
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		f := &frames[i%len(frames)]
		_ = d.decode(f.data, f.link, f.ts, f.wire, &s)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "packets/s")
}

// BenchmarkReaderDevMixed reads and decodes the whole benchmark capture from
// memory; one op is the whole file.
func BenchmarkReaderDevMixed(b *testing.B) {
	raw, err := os.ReadFile(filepath.Join(datasetsDir(b), "bench", "dev-mixed.pcap"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	b.ResetTimer()
	var packets uint64
	for i := 0; i < b.N; i++ {
		r, err := NewReader(bytes.NewReader(raw))
		if err != nil {
			b.Fatal(err)
		}
		var s Summary
		for {
			if err := r.Next(&s); err != nil {
				if !errors.Is(err, io.EOF) {
					b.Fatal(err)
				}
				break
			}
		}
		packets += r.stats.Packets
	}
	b.ReportMetric(float64(packets)/b.Elapsed().Seconds(), "packets/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(packets), "ns/packet")
}

// BenchmarkGopacketParserDevMixed is gopacket's DecodingLayerParser alone,
// with plain preallocated layers, its default map container and panic
// recovery, on the same packets, without filling a Summary: what the
// Decoder's guards and Summary cost is the difference with
// BenchmarkDecodeDevMixed; one op is one packet.
func BenchmarkGopacketParserDevMixed(b *testing.B) {
	frames := loadFrames(b, filepath.Join(datasetsDir(b), "bench", "dev-mixed.pcap"))
	var (
		eth   layers.Ethernet
		dot1q layers.Dot1Q
		ip4   layers.IPv4
		ip6   layers.IPv6
		tcp   layers.TCP
		udp   layers.UDP
		icmp4 layers.ICMPv4
		icmp6 layers.ICMPv6
		arp   layers.ARP
	)
	p := gopacket.NewDecodingLayerParser(layers.LayerTypeEthernet, &eth, &dot1q, &ip4, &ip6, &tcp, &udp, &icmp4, &icmp6, &arp)
	p.IgnoreUnsupported = true
	decoded := make([]gopacket.LayerType, 0, 8)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_ = p.DecodeLayers(frames[i%len(frames)].data, &decoded)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "packets/s")
}
