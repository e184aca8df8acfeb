package packet

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

// seedFrames adds to f up to perFile frames of every shared capture whose
// link type is one of links, and the frames of the decoder table tests.
func seedFrames(f *testing.F, perFile int, links ...uint32) {
	root := datasetsDir(f)
	for _, name := range datasetCaptures(f) {
		frames := loadFrames(f, filepath.Join(root, name))
		n := 0
		for _, fr := range frames {
			for _, l := range links {
				if fr.link == l && n < perFile {
					f.Add(fr.data)
					n++
				}
			}
		}
	}
}

// fuzzDecoder is reused across the inputs of a fuzzing process, so that
// state left behind by one frame shows up as a difference on the next.
var fuzzDecoder Decoder

// checkDecode decodes data and checks the invariants of any outcome, and
// that a Decoder that has decoded other frames gives the same result as a
// new one.
func checkDecode(t *testing.T, data []byte, link uint32) {
	var d Decoder
	var s Summary
	err := d.decode(data, link, 42, 0, &s)
	var reused Summary
	if rerr := fuzzDecoder.decode(data, link, 42, 0, &reused); !errors.Is(rerr, err) || reused != s {
		t.Fatalf("used decoder: %v %+v; new decoder: %v %+v", rerr, reused, err, s)
	}
	if s.Time != 42 || s.Length != uint32(len(data)) {
		t.Fatalf("time/length not kept: %+v", s)
	}
	if err != nil {
		var r Reason
		ok := errors.As(err, &r)
		if !ok || r == 0 || r >= numReasons {
			t.Fatalf("error %v is not a Reason", err)
		}
		if s != (Summary{Time: 42, Length: uint32(len(data))}) {
			t.Fatalf("summary not reset after %v: %+v", err, s)
		}
		return
	}
	if !s.Src.IsValid() || !s.Dst.IsValid() || s.Src.Is4() != s.Dst.Is4() {
		t.Fatalf("bad addresses: %+v", s)
	}
	if s.Is(FlagARP) && (s.Proto != 0 || !s.Src.Is4()) {
		t.Fatalf("bad ARP summary: %+v", s)
	}
	if s.Flags&(FlagDNSResponse) != 0 && !s.Is(FlagDNS) {
		t.Fatalf("DNS response flag without DNS: %+v", s)
	}
	if s.Proto != ProtoTCP && s.TCPFlags != 0 {
		t.Fatalf("TCP flags on non-TCP: %+v", s)
	}
	if s.Proto != ProtoTCP && s.Proto != ProtoUDP && (s.SrcPort != 0 || s.DstPort != 0) {
		t.Fatalf("ports on non-TCP/UDP: %+v", s)
	}
}

func FuzzDecodeEthernet(f *testing.F) {
	seedFrames(f, 20, linkEthernet)
	f.Fuzz(func(t *testing.T, data []byte) { checkDecode(t, data, linkEthernet) })
}

func FuzzDecodeRawIP(f *testing.F) {
	seedFrames(f, 20, linkRaw, linkIPv4)
	for _, fr := range loadFrames(f, filepath.Join(datasetsDir(f), "bench", "dev-mixed.pcap"))[:200] {
		if len(fr.data) > 14 {
			f.Add(fr.data[14:]) // the IP packets of Ethernet frames
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) { checkDecode(t, data, linkRaw) })
}

func FuzzDecodeSLL(f *testing.F) {
	seedFrames(f, 50, linkLinuxSLL)
	f.Fuzz(func(t *testing.T, data []byte) {
		checkDecode(t, data, linkLinuxSLL)
		checkDecode(t, data, linkLinuxSLL2)
		checkDecode(t, data, linkNull)
		checkDecode(t, data, linkPPP)
	})
}

func FuzzReader(f *testing.F) {
	root := datasetsDir(f)
	for _, name := range datasetCaptures(f) {
		path := filepath.Join(root, name)
		if st, err := os.Stat(path); err == nil && st.Size() <= 16<<10 {
			b, err := os.ReadFile(path)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	f.Add(multiInterfacePcapng(f))
	pkts := testPackets(f)
	f.Add(writePcap(f, pkts, true, true, time.Unix(1, 0)))
	f.Add(writePcap(f, pkts, false, false, time.Unix(1, 0)))
	f.Fuzz(func(t *testing.T, file []byte) {
		r, err := NewReader(bytes.NewReader(file))
		if err != nil {
			if !errors.Is(err, ErrUnknownFormat) && !errors.Is(err, ErrCorruptFile) {
				t.Fatalf("NewReader: %v", err)
			}
			if !strings.HasPrefix(err.Error(), "packet: open: ") {
				t.Fatalf("error without stage prefix: %v", err)
			}
			return
		}
		var s Summary
		for err == nil {
			err = r.Next(&s)
		}
		if !errors.Is(err, io.EOF) && !errors.Is(err, ErrCorruptFile) {
			t.Fatalf("Next: %v", err)
		}
		st := r.Stats()
		sum := st.Decoded
		for _, n := range st.Undecodable {
			sum += n
		}
		if sum != st.Packets {
			t.Fatalf("stats do not add up: %+v", st)
		}
	})
}

// dnsPayloads returns the UDP payloads of DNS packets in a shared capture.
func dnsPayloads(tb testing.TB, name string, max int) [][]byte {
	var out [][]byte
	for _, fr := range loadFrames(tb, filepath.Join(datasetsDir(tb), name)) {
		p := gopacket.NewPacket(fr.data, layers.LinkTypeEthernet, gopacket.NoCopy)
		if u, ok := p.Layer(layers.LayerTypeUDP).(*layers.UDP); ok && (isDNSPort(uint16(u.SrcPort)) || isDNSPort(uint16(u.DstPort))) {
			out = append(out, u.Payload)
			if len(out) == max {
				break
			}
		}
	}
	return out
}

func FuzzDNS(f *testing.F) {
	for _, name := range []string{"bench/dev-mixed.pcap", "pcap/malformed/malformed_dns.pcap", "pcap/malformed/dns-invalid-chars.pcap", "pcap/malformed/fuzz-2006-06-26-2594.pcap"} {
		for _, p := range dnsPayloads(f, name, 100) {
			f.Add(p)
		}
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		var s Summary
		ok := parseDNS(msg, &s)
		if ok != s.Is(FlagDNS) {
			t.Fatalf("parseDNS = %v but flags %#x", ok, s.Flags)
		}
		if !ok && s != (Summary{}) {
			t.Fatalf("failed parse changed the summary: %+v", s)
		}
		if ok && len(msg) < dnsHeaderLen {
			t.Fatalf("accepted %d bytes", len(msg))
		}
	})
}
