package packet

import (
	"encoding/binary"
	"strings"
	"testing"
)

// dnsMsg builds a DNS message: header with the given flags and question
// count, then body.
func dnsMsg(flags, qdcount uint16, body ...byte) []byte {
	m := binary.BigEndian.AppendUint16(nil, 0xBEEF)
	m = binary.BigEndian.AppendUint16(m, flags)
	m = binary.BigEndian.AppendUint16(m, qdcount)
	m = append(m, 0, 0, 0, 0, 0, 0)
	return append(m, body...)
}

// qname encodes a dotted name as labels.
func qname(name string) []byte {
	var b []byte
	for _, l := range strings.Split(name, ".") {
		if l != "" {
			b = append(b, byte(len(l)))
			b = append(b, l...)
		}
	}
	return append(b, 0)
}

func TestParseDNS(t *testing.T) {
	typeA := []byte{0, 1, 0, 1}
	long := strings.Repeat(strings.Repeat("x", 63)+".", 5) // 320 bytes dotted
	cases := []struct {
		name     string
		msg      []byte
		ok       bool
		response bool
		rcode    uint8
		nameLen  uint8
		qtype    uint16
	}{
		{"query", dnsMsg(0x0100, 1, append(qname("www.example.com"), typeA...)...), true, false, 0, 15, 1},
		{"nxdomain", dnsMsg(0x8183, 1, append(qname("nope.example"), 0, 16, 0, 1)...), true, true, 3, 12, 16},
		{"root name", dnsMsg(0x0000, 1, append([]byte{0}, 0, 2, 0, 1)...), true, false, 0, 0, 2},
		{"no question", dnsMsg(0x8005, 0), true, true, 5, 0, 0},
		{"name capped at 255", dnsMsg(0, 1, append(qname(long), typeA...)...), true, false, 0, 255, 1},
		// The header's zero counts at offset 6 read as the root name.
		{"pointer back into header", dnsMsg(0, 1, append([]byte{3, 'w', 'w', 'w', 0xC0, 6}, typeA...)...), true, false, 0, 3, 1},
		{"pointer back to own label", dnsMsg(0, 1, append([]byte{1, 'a', 0xC0, 12}, typeA...)...), false, false, 0, 0, 0},
		{"forward pointer", append(dnsMsg(0, 1, append([]byte{0xC0, 12 + 6}, typeA...)...), qname("ab")...), false, false, 0, 0, 0},
		{"pointer to itself", dnsMsg(0, 1, append([]byte{0xC0, 12}, typeA...)...), false, false, 0, 0, 0},
		{"pointer loop", dnsMsg(0, 1, append([]byte{1, 'a', 1, 'b', 0xC0, 12}, typeA...)...), false, false, 0, 0, 0},
		{"pointer cut", dnsMsg(0, 1, 1, 'a', 0xC0), false, false, 0, 0, 0},
		{"label beyond message", dnsMsg(0, 1, 9, 'a', 'b'), false, false, 0, 0, 0},
		{"extended label type", dnsMsg(0, 1, append([]byte{0x41, 'a', 0}, typeA...)...), false, false, 0, 0, 0},
		{"name without end", dnsMsg(0, 1, 1, 'a', 1, 'b'), false, false, 0, 0, 0},
		{"qtype cut", dnsMsg(0, 1, append(qname("a.b"), 0, 1)...), false, false, 0, 0, 0},
		{"unassigned opcode", dnsMsg(3<<11, 1, append(qname("a.b"), typeA...)...), false, false, 0, 0, 0},
		{"short header", []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, false, false, 0, 0, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var s Summary
			ok := parseDNS(c.msg, &s)
			if ok != c.ok {
				t.Fatalf("ok = %v, want %v (%+v)", ok, c.ok, s)
			}
			if !ok {
				if s != (Summary{}) {
					t.Errorf("summary changed: %+v", s)
				}
				return
			}
			want := Summary{Flags: FlagDNS, DNSRCode: c.rcode, DNSQNameLen: c.nameLen, DNSQType: c.qtype}
			if c.response {
				want.Flags |= FlagDNSResponse
			}
			if s != want {
				t.Errorf("got %+v, want %+v", s, want)
			}
		})
	}
}

func BenchmarkParseDNS(b *testing.B) {
	msg := dnsMsg(0x8183, 1, append(qname("a-rather-long-name.for.a.dns.tunnel.example.com"), 0, 16, 0, 1)...)
	var s Summary
	b.ReportAllocs()
	for b.Loop() {
		s = Summary{}
		parseDNS(msg, &s)
	}
}
