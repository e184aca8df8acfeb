package packet

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// datasetResult is what the golden file keeps of reading one capture.
type datasetResult struct {
	Stats Stats `json:"stats"`
	// End is "EOF" or the sentinel the reading ended with.
	End string `json:"end"`
}

// readAll reads every packet of the capture at path and calls fn with each.
func readAll(t *testing.T, path string, fn func(Summary)) (Stats, error) {
	t.Helper()
	r, err := Open(path)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer func() { _ = r.Close() }()
	var s Summary
	for {
		if err = r.Next(&s); err != nil {
			break
		}
		fn(s)
	}
	if err2 := r.Next(&s); !errors.Is(err2, err) {
		t.Errorf("Next after the end = %v, want %v again", err2, err)
	}
	return r.Stats(), err
}

// TestReadDatasets reads every shared capture: no panic, as many packets as
// tshark counts, every packet counted once, golden Stats.
func TestReadDatasets(t *testing.T) {
	root := datasetsDir(t)
	var expected struct {
		Counts map[string]uint64 `json:"counts"`
	}
	raw, err := os.ReadFile(filepath.Join("testdata", "expected-counts.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &expected); err != nil {
		t.Fatal(err)
	}
	goldenPath := filepath.Join("testdata", "dataset-stats.golden.json")
	got := map[string]datasetResult{}
	files := datasetCaptures(t)
	if len(files) < 30 {
		t.Fatalf("only %d capture files found", len(files))
	}
	for _, f := range files {
		t.Run(f, func(t *testing.T) {
			stats, err := readAll(t, filepath.Join(root, f), func(Summary) {})
			end := "EOF"
			switch {
			case errors.Is(err, io.EOF):
			case errors.Is(err, ErrCorruptFile):
				end = "ErrCorruptFile"
				t.Logf("ends with %v", err)
			default:
				t.Fatalf("reading ended with %v", err)
			}
			js, _ := json.Marshal(stats)
			t.Logf("%s", js)
			got[f] = datasetResult{Stats: stats, End: end}

			want, ok := expected.Counts[f]
			if !ok {
				t.Fatalf("no tshark count for %s in testdata/expected-counts.json", f)
			}
			if stats.Packets != want {
				t.Errorf("packets = %d, tshark counts %d", stats.Packets, want)
			}
			sum := stats.Decoded
			for _, n := range stats.Undecodable {
				sum += n
			}
			if sum != stats.Packets {
				t.Errorf("decoded + undecodable = %d, packets = %d", sum, stats.Packets)
			}
			if !strings.HasPrefix(f, "pcap/malformed/") {
				if end != "EOF" {
					t.Errorf("a well-formed capture ended with %v", err)
				}
				if stats.Decoded == 0 {
					t.Error("nothing decoded")
				}
			}
		})
	}
	if t.Failed() {
		return
	}
	compareGolden(t, goldenPath, got)
}

func compareGolden(t *testing.T, path string, got any) {
	t.Helper()
	js, err := json.MarshalIndent(got, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	js = append(js, '\n')
	if *update {
		if err := os.WriteFile(path, js, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(js, want) {
		t.Errorf("%s differs; got:\n%s\nrun go test ./packet -update if the change is intended", path, js)
	}
}

// TestDatasetContents counts summaries matching a predicate in real captures
// and compares with tshark's count for the equivalent display filter. ICMP
// errors are excluded from the filters because tshark matches the headers
// they quote.
func TestDatasetContents(t *testing.T) {
	addr := netip.MustParseAddr
	isSyn := func(s Summary) bool { return s.Proto == ProtoTCP && s.TCPFlags == TCPSyn }
	cases := []struct {
		file   string
		filter string // tshark -Y filter that gave want
		match  func(Summary) bool
		want   int
	}{
		{"pcap/attacks/ssh-bruteforce.pcap", "!icmp && ip.src==147.32.80.40 && tcp.dstport==902",
			func(s Summary) bool { return s.Src == addr("147.32.80.40") && s.Proto == ProtoTCP && s.DstPort == 902 }, 647},
		{"pcap/attacks/syn-portscan.pcapng", "!icmp && ip.src==172.16.0.8 && ip.dst==64.13.134.52 && tcp.flags==0x002",
			func(s Summary) bool { return s.Src == addr("172.16.0.8") && s.Dst == addr("64.13.134.52") && isSyn(s) }, 1994},
		{"pcap/attacks/masscan-tcp.pcap", "!icmp && ip.src==172.31.15.102 && ip.dst==198.124.152.15 && tcp.flags==0x002",
			func(s Summary) bool {
				return s.Src == addr("172.31.15.102") && s.Dst == addr("198.124.152.15") && isSyn(s)
			}, 1001},
		{"pcap/attacks/nmap-80.pcap", "!icmp && ip.src==10.87.1.10",
			func(s Summary) bool { return s.Src == addr("10.87.1.10") && s.Proto != ProtoICMP }, 8},
		{"pcap/attacks/syn-flood-spoofed.pcap", "!icmp && ip.dst==10.10.10.10 && tcp.flags==0x002",
			func(s Summary) bool { return s.Dst == addr("10.10.10.10") && isSyn(s) }, 37841},
		{"pcap/attacks/ftp-bruteforce.pcap", "!icmp && ip.src==10.234.125.254 && ip.dst==10.121.70.151 && tcp.dstport==21",
			func(s Summary) bool {
				return s.Src == addr("10.234.125.254") && s.Dst == addr("10.121.70.151") && s.Proto == ProtoTCP && s.DstPort == 21
			}, 8464},
		{"pcap/attacks/icmp-sweep.pcap", "ip.src==192.168.1.109 && icmp.type==8",
			func(s Summary) bool { return s.Src == addr("192.168.1.109") && s.Proto == ProtoICMP && s.ICMPType == 8 }, 25},
		{"pcap/attacks/arp-scan.pcap", "arp.opcode==1",
			func(s Summary) bool { return s.Is(FlagARP) && s.ARPOp == 1 }, 514},
		{"pcap/attacks/c2-beacon.pcap", "!icmp && ip.src==147.32.80.37 && ip.dst==141.193.213.21",
			func(s Summary) bool { return s.Src == addr("147.32.80.37") && s.Dst == addr("141.193.213.21") }, 4210},
		{"pcap/attacks/iot-botnet-telnet-scan.pcap", "!icmp && ip.src==192.168.2.16 && tcp.flags==0x002",
			func(s Summary) bool { return s.Src == addr("192.168.2.16") && isSyn(s) }, 632},
		{"bench/dev-mixed.pcap", "!icmp && !icmpv6 && (dns || mdns)",
			func(s Summary) bool { return s.Is(FlagDNS) }, 812},
		{"bench/dev-mixed.pcap", "!icmp && !icmpv6 && (dns || mdns) && dns.flags.response==1",
			func(s Summary) bool { return s.Is(FlagDNS | FlagDNSResponse) }, 352},
		{"bench/dev-mixed.pcap", "!icmp && !icmpv6 && (dns || mdns) && dns.qry.type==28",
			func(s Summary) bool { return s.Is(FlagDNS) && s.DNSQType == 28 }, 8},
		{"bench/dev-mixed.pcap", "ipv6 && !icmpv6 && tcp.flags==0x002",
			func(s Summary) bool { return s.Src.Is6() && isSyn(s) }, 80},
		{"bench/dev-mixed.pcap", "arp",
			func(s Summary) bool { return s.Is(FlagARP) }, 452},
		{"pcap/malformed/ip_fragmented_garbage.pcap", "ip.flags.mf==1 || ip.frag_offset>0",
			func(s Summary) bool { return s.Is(FlagFragment) }, 1252},
		{"pcap/linktypes/KakaoTalk_chat.pcap", "!icmp && ip.addr==10.24.82.188 && tcp",
			func(s Summary) bool {
				return (s.Src == addr("10.24.82.188") || s.Dst == addr("10.24.82.188")) && s.Proto == ProtoTCP
			}, 310},
		{"pcap/linktypes/nats.pcap", "!icmp && tcp.port==4222",
			func(s Summary) bool { return s.Proto == ProtoTCP && (s.SrcPort == 4222 || s.DstPort == 4222) }, 27},
		{"pcap/linktypes/bjnp.pcap", "udp.port==8612",
			func(s Summary) bool { return s.Proto == ProtoUDP && (s.SrcPort == 8612 || s.DstPort == 8612) }, 10},
		{"pcap/linktypes/dlt_ppp.pcap", "ip.src==193.167.0.252 && udp",
			func(s Summary) bool { return s.Src == addr("193.167.0.252") && s.Proto == ProtoUDP }, 1},
	}
	root := datasetsDir(t)
	for _, c := range cases {
		t.Run(c.file+"/"+c.filter, func(t *testing.T) {
			n := 0
			_, err := readAll(t, filepath.Join(root, c.file), func(s Summary) {
				if c.match(s) {
					n++
				}
			})
			if !errors.Is(err, io.EOF) {
				t.Fatalf("reading ended with %v", err)
			}
			if n != c.want {
				t.Errorf("%d matching summaries, tshark -Y %q counts %d", n, c.filter, c.want)
			}
		})
	}
}

// TestDevMixedTimes checks the first timestamp and the time order of the
// benchmark capture (README: from 2026-03-02T09:00:00Z, 38 minutes); tshark
// -Y "frame.time_delta < 0" finds one step back in time.
func TestDevMixedTimes(t *testing.T) {
	var first, last int64
	backwards := 0
	_, err := readAll(t, filepath.Join(datasetsDir(t), "bench", "dev-mixed.pcap"), func(s Summary) {
		if first == 0 {
			first = s.Time
		}
		if s.Time < last {
			backwards++
		}
		last = s.Time
	})
	if !errors.Is(err, io.EOF) {
		t.Fatal(err)
	}
	// tshark: frame 1 at 1772442011.782486000.
	if want := int64(1772442011782486000); first != want {
		t.Errorf("first time = %d, want %d", first, want)
	}
	if backwards != 1 {
		t.Errorf("time goes back %d times, tshark says once", backwards)
	}
	if d := time.Duration(last - first); d < 38*time.Minute || d > 39*time.Minute {
		t.Errorf("duration %v, want about 38 minutes", d)
	}
}

// testPackets are three Ethernet frames for the synthetic files.
func testPackets(t testing.TB) [][]byte {
	return [][]byte{
		serialize(t, eth(layers.EthernetTypeIPv4), ip4(layers.IPProtocolTCP), &layers.TCP{SrcPort: 40000, DstPort: 443, SYN: true, DataOffset: 5}),
		serialize(t, eth(layers.EthernetTypeLinkLayerDiscovery), gopacket.Payload(make([]byte, 40))),
		serialize(t, eth(layers.EthernetTypeIPv4), ip4(layers.IPProtocolUDP), &layers.UDP{SrcPort: 53000, DstPort: 53}, dnsQuery("example.com", layers.DNSTypeA)),
	}
}

// writePcap writes a pcap file of Ethernet packets in the given timestamp
// resolution and byte order, each with a wire length 4 bytes above its
// capture length. (pcapgo's writer cannot be used: importing pcapgo needs
// golang.org/x/sys, which go.sum lacks.)
func writePcap(t testing.TB, pkts [][]byte, nanos, bigEndian bool, base time.Time) []byte {
	t.Helper()
	var order binary.AppendByteOrder = binary.LittleEndian
	if bigEndian {
		order = binary.BigEndian
	}
	magic := uint32(pcapMagicMicros)
	if nanos {
		magic = pcapMagicNanos
	}
	b := order.AppendUint32(nil, magic)
	b = order.AppendUint16(b, 2)
	b = order.AppendUint16(b, 4)
	b = order.AppendUint32(b, 0)
	b = order.AppendUint32(b, 0)
	b = order.AppendUint32(b, 65536)
	b = order.AppendUint32(b, linkEthernet)
	for i, p := range pkts {
		ts := base.Add(time.Duration(i) * time.Second)
		frac := ts.Nanosecond() / 1000
		if nanos {
			frac = ts.Nanosecond()
		}
		b = order.AppendUint32(b, uint32(ts.Unix()))
		b = order.AppendUint32(b, uint32(frac))
		b = order.AppendUint32(b, uint32(len(p)))
		b = order.AppendUint32(b, uint32(len(p)+4))
		b = append(b, p...)
	}
	return b
}

func TestReaderPcapVariants(t *testing.T) {
	pkts := testPackets(t)
	base := time.Date(2026, 3, 2, 9, 0, 0, 123456789, time.UTC)
	for _, c := range []struct {
		name           string
		nanos, big, gz bool
	}{
		{"micro little-endian", false, false, false},
		{"nano little-endian", true, false, false},
		{"micro big-endian", false, true, false},
		{"nano big-endian", true, true, false},
		{"gzip", true, false, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			file := writePcap(t, pkts, c.nanos, c.big, base)
			if c.gz {
				var z bytes.Buffer
				zw := gzip.NewWriter(&z)
				_, _ = zw.Write(file)
				_ = zw.Close()
				file = z.Bytes()
			}
			r, err := NewReader(bytes.NewReader(file))
			if err != nil {
				t.Fatal(err)
			}
			if r.Format() != "pcap" {
				t.Errorf("format %q", r.Format())
			}
			var got []Summary
			var s Summary
			for {
				if err = r.Next(&s); err != nil {
					break
				}
				got = append(got, s)
			}
			if !errors.Is(err, io.EOF) {
				t.Fatalf("end: %v", err)
			}
			if len(got) != 2 {
				t.Fatalf("%d summaries, want 2", len(got))
			}
			res := time.Microsecond
			if c.nanos {
				res = time.Nanosecond
			}
			wantTimes := []int64{base.Truncate(res).UnixNano(), base.Add(2 * time.Second).Truncate(res).UnixNano()}
			for i, g := range got {
				if g.Time != wantTimes[i] {
					t.Errorf("summary %d time %d, want %d", i, g.Time, wantTimes[i])
				}
			}
			if got[0].DstPort != 443 || got[0].Length != uint32(len(pkts[0])+4) || !got[1].Is(FlagDNS) {
				t.Errorf("summaries %+v", got)
			}
			st := r.Stats()
			if st.Packets != 3 || st.Decoded != 2 || st.Undecodable["non-ip"] != 1 || len(st.Undecodable) != 1 {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

// ngBlock builds a little-endian pcapng block.
func ngBlock(typ uint32, body []byte) []byte {
	for len(body)%4 != 0 {
		body = append(body, 0)
	}
	n := uint32(12 + len(body))
	b := binary.LittleEndian.AppendUint32(nil, typ)
	b = binary.LittleEndian.AppendUint32(b, n)
	b = append(b, body...)
	return binary.LittleEndian.AppendUint32(b, n)
}

func ngSHB() []byte {
	body := binary.LittleEndian.AppendUint32(nil, ngByteOrderMagic)
	body = binary.LittleEndian.AppendUint16(body, 1)
	body = binary.LittleEndian.AppendUint16(body, 0)
	body = binary.LittleEndian.AppendUint64(body, ^uint64(0))
	return ngBlock(ngSectionHeader, body)
}

// ngIDB builds an interface description; tsresol < 0 leaves the option out.
func ngIDB(link uint16, tsresol int) []byte {
	body := binary.LittleEndian.AppendUint16(nil, link)
	body = binary.LittleEndian.AppendUint16(body, 0)
	body = binary.LittleEndian.AppendUint32(body, 0)
	if tsresol >= 0 {
		body = append(body, ngOptTSResol, 0, 1, 0, byte(tsresol), 0, 0, 0)
	}
	body = append(body, 0, 0, 0, 0)
	return ngBlock(ngInterfaceDescriptor, body)
}

func ngEPB(iface uint32, ts uint64, data []byte, wire int) []byte {
	body := binary.LittleEndian.AppendUint32(nil, iface)
	body = binary.LittleEndian.AppendUint32(body, uint32(ts>>32))
	body = binary.LittleEndian.AppendUint32(body, uint32(ts))
	body = binary.LittleEndian.AppendUint32(body, uint32(len(data)))
	body = binary.LittleEndian.AppendUint32(body, uint32(wire))
	return ngBlock(ngEnhancedPacket, append(body, data...))
}

// multiInterfacePcapng builds a pcapng file with interfaces of different link
// types (one of them Linux SLL2, which does not fit in layers.LinkType) and
// timestamp resolutions, two sections, a simple packet and a block to skip.
func multiInterfacePcapng(t testing.TB) []byte {
	syn4, syn6 := ipv4TCPSyn(t), ipv6TCPSyn(t)
	sll2 := make([]byte, 20)
	binary.BigEndian.PutUint16(sll2, 0x86DD)
	ethFrame := cat(ethHdr(layers.EthernetTypeIPv4), syn4)
	const sec = 1772442011
	var file []byte
	file = append(file, ngSHB()...)
	file = append(file, ngIDB(linkEthernet, -1)...)      // µs
	file = append(file, ngIDB(linkLinuxSLL2, 9)...)      // ns
	file = append(file, ngIDB(linkRaw, 0x80|20)...)      // 2^-20 s
	file = append(file, ngBlock(5, make([]byte, 12))...) // interface statistics: skipped
	file = append(file, ngEPB(0, sec*1e6+1, ethFrame, 60)...)
	file = append(file, ngEPB(1, sec*1e9+2, cat(sll2, syn6), 0)...)
	file = append(file, ngEPB(2, sec<<20|1<<19, syn4, 0)...)
	file = append(file, ngBlock(ngSimplePacket, cat(binary.LittleEndian.AppendUint32(nil, uint32(len(ethFrame))), ethFrame))...)
	file = append(file, ngSHB()...) // a new section forgets the interfaces
	file = append(file, ngIDB(linkNull, 3)...)
	file = append(file, ngEPB(0, sec*1e3, cat([]byte{2, 0, 0, 0}, syn4), 0)...)
	return file
}

// TestReaderPcapngInterfaces reads the file of multiInterfacePcapng.
func TestReaderPcapngInterfaces(t *testing.T) {
	file := multiInterfacePcapng(t)
	syn4, syn6 := ipv4TCPSyn(t), ipv6TCPSyn(t)
	sll2Len := 20
	ethLen := 14 + len(syn4)
	const sec = 1772442011
	r, err := NewReader(bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	if r.Format() != "pcapng" {
		t.Errorf("format %q", r.Format())
	}
	var got []Summary
	var s Summary
	for {
		if err = r.Next(&s); err != nil {
			break
		}
		got = append(got, s)
	}
	if !errors.Is(err, io.EOF) {
		t.Fatalf("end: %v", err)
	}
	want := []Summary{
		withLen(synV4, 60), withLen(synV6, sll2Len+len(syn6)), withLen(synV4, len(syn4)),
		withLen(synV4, ethLen), withLen(synV4, 4+len(syn4)),
	}
	wantTimes := []int64{sec*1e9 + 1000, sec*1e9 + 2, sec*1e9 + 5e8, 0, sec * 1e9}
	if len(got) != len(want) {
		t.Fatalf("%d summaries, want %d", len(got), len(want))
	}
	for i := range want {
		want[i].Time = wantTimes[i]
		if got[i] != want[i] {
			t.Errorf("summary %d:\ngot  %+v\nwant %+v", i, got[i], want[i])
		}
	}
}

// TestReaderCorrupt checks that corrupt files end with ErrCorruptFile after
// the packets before the corruption, with the counts kept.
func TestReaderCorrupt(t *testing.T) {
	pkts := testPackets(t)
	pcapFile := writePcap(t, pkts, false, false, time.Unix(1, 0))
	bogusLen := append([]byte(nil), pcapFile...)
	second := 24 + 16 + len(pkts[0])
	binary.LittleEndian.PutUint32(bogusLen[second+8:], 1<<30)
	syn4 := ipv4TCPSyn(t)
	ng := cat(ngSHB(), ngIDB(linkRaw, -1), ngEPB(0, 1, syn4, 0))
	badTrailer := cat(ng, ngEPB(0, 2, syn4, 0))
	badTrailer[len(badTrailer)-4]++
	cases := []struct {
		name      string
		file      []byte
		packets   uint64
		wantError string
	}{
		{"pcap cut in a record", pcapFile[:len(pcapFile)-5], 2, "record 3 data"},
		{"pcap cut in a record header", pcapFile[:second+7], 1, "record 2 header"},
		{"pcap capture length out of range", bogusLen, 1, "capture length"},
		{"pcapng cut in a block", ng[:len(ng)-3], 0, "block 3"},
		{"pcapng undeclared interface", cat(ngSHB(), ngIDB(linkRaw, -1), ngEPB(1, 1, syn4, 0)), 0, "interface 1 not declared"},
		{"pcapng packet before interface", cat(ngSHB(), ngEPB(0, 1, syn4, 0)), 0, "interface 0 not declared"},
		{"pcapng trailing length differs", badTrailer, 1, "trailing length"},
		{"pcapng capture length beyond block", cat(ngSHB(), ngIDB(linkRaw, -1), ngEPB(0, 1, syn4, 0)[:20], binary.LittleEndian.AppendUint32(nil, 1000), binary.LittleEndian.AppendUint32(nil, 1000), binary.LittleEndian.AppendUint32(nil, 32)), 0, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := NewReader(bytes.NewReader(c.file))
			if err != nil {
				t.Fatal(err)
			}
			var s Summary
			for err == nil {
				err = r.Next(&s)
			}
			if !errors.Is(err, ErrCorruptFile) {
				t.Fatalf("end: %v, want ErrCorruptFile", err)
			}
			if !strings.Contains(err.Error(), c.wantError) || !strings.HasPrefix(err.Error(), "packet: read: ") {
				t.Errorf("error %q, want it to start with %q and mention %q", err, "packet: read: ", c.wantError)
			}
			if st := r.Stats(); st.Packets != c.packets {
				t.Errorf("packets = %d, want %d", st.Packets, c.packets)
			}
			if err2 := r.Next(&s); !errors.Is(err2, err) {
				t.Errorf("Next after error = %v", err2)
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		name    string
		content []byte
		want    error
	}{
		{"empty", nil, ErrUnknownFormat},
		{"text", []byte("hello, world\n"), ErrUnknownFormat},
		{"pcap header cut", []byte{0xD4, 0xC3, 0xB2, 0xA1, 2, 0, 4, 0}, ErrCorruptFile},
		{"pcap version 3", append([]byte{0xD4, 0xC3, 0xB2, 0xA1, 3, 0, 0, 0}, make([]byte, 16)...), ErrUnknownFormat},
		{"pcapng bad byte order", append([]byte{0x0A, 0x0D, 0x0D, 0x0A, 28, 0, 0, 0, 1, 2, 3, 4}, make([]byte, 16)...), ErrCorruptFile},
		{"gzip garbage", []byte{0x1F, 0x8B, 0, 0}, ErrCorruptFile},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "-"))
			if err := os.WriteFile(path, c.content, 0o644); err != nil {
				t.Fatal(err)
			}
			r, err := Open(path)
			if !errors.Is(err, c.want) {
				t.Fatalf("Open = %v, want %v", err, c.want)
			}
			if r != nil {
				t.Error("a Reader returned with an error")
			}
			if want := fmt.Sprintf("packet: open %s: ", path); !strings.HasPrefix(err.Error(), want) {
				t.Errorf("error %q does not start with %q", err, want)
			}
		})
	}
	if _, err := Open(filepath.Join(dir, "missing.pcap")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Open(missing) = %v", err)
	}
}

func TestStats(t *testing.T) {
	var a Stats
	a.Observe(nil)
	a.Observe(ReasonNonIP)
	a.Observe(fmt.Errorf("wrapped: %w", ReasonNonIP))
	a.Observe(errors.New("something else"))
	b := Stats{Packets: 2, Decoded: 1, Undecodable: map[string]uint64{"bad-arp": 1}}
	a.Add(b)
	a.Add(Stats{})
	js, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"packets":6,"decoded":2,"undecodable":{"bad-arp":1,"non-ip":2,"other":1}}`
	if string(js) != want {
		t.Errorf("got %s, want %s", js, want)
	}
	var empty Stats
	empty.Add(b)
	b.Undecodable["bad-arp"] = 7
	if empty.Undecodable["bad-arp"] != 1 {
		t.Error("Add shares the other map")
	}
	r, err := NewReader(bytes.NewReader(writePcap(t, nil, false, false, time.Unix(0, 0))))
	if err != nil {
		t.Fatal(err)
	}
	if js, _ := json.Marshal(r.Stats()); string(js) != `{"packets":0,"decoded":0,"undecodable":{}}` {
		t.Errorf("empty reader stats %s", js)
	}
}

// TestReaderInputErrors checks that input errors are passed on, wrapped but
// not as ErrCorruptFile, and that damaged gzip data is ErrCorruptFile.
func TestReaderInputErrors(t *testing.T) {
	file := writePcap(t, testPackets(t), false, false, time.Unix(1, 0))
	boom := errors.New("boom")
	r, err := NewReader(io.MultiReader(bytes.NewReader(file[:60]), iotest.ErrReader(boom)))
	if err != nil {
		t.Fatal(err)
	}
	var s Summary
	for err == nil {
		err = r.Next(&s)
	}
	if !errors.Is(err, boom) || errors.Is(err, ErrCorruptFile) {
		t.Errorf("input error: %v", err)
	}

	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	var many [][]byte
	for range 50 {
		many = append(many, testPackets(t)...)
	}
	_, _ = zw.Write(writePcap(t, many, false, false, time.Unix(1, 0)))
	_ = zw.Close()
	damaged := z.Bytes()
	damaged[len(damaged)-6] ^= 0xFF // the CRC-32
	r, err = NewReader(bytes.NewReader(damaged))
	if err != nil {
		t.Fatal(err)
	}
	for err == nil {
		err = r.Next(&s)
	}
	if !errors.Is(err, ErrCorruptFile) || !errors.Is(err, gzip.ErrChecksum) {
		t.Errorf("damaged gzip: %v", err)
	}
}
