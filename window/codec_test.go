package window

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"flag"
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/riptide-nids/riptide/packet"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

// stateOf feeds the packets to one host's State at their own stream time
// without closing anything.
func stateOf(t testing.TB, host string, ps []packet.Summary) *State {
	t.Helper()
	st := NewState()
	h := netip.MustParseAddr(host)
	var stream int64 = math.MinInt64
	for i := range ps {
		stream = max(stream, ps[i].Time)
		st.Add(h, &ps[i], stream, DefaultConfig())
	}
	return st
}

// closeAll returns the vectors of all of st's windows, closing them.
func closeAll(st *State) []*Vector {
	var vs []*Vector
	st.Close("h", math.MaxInt64, DefaultConfig(), func(v *Vector) { vs = append(vs, v) })
	return vs
}

type stateCase struct {
	name string
	st   func(testing.TB) *State
	max  int // bound on the encoded size in bytes
}

var stateCases = []stateCase{
	{"empty", func(testing.TB) *State { return NewState() }, 5},
	{"idle host", func(t testing.TB) *State {
		// A host with one DNS query and one short HTTPS exchange.
		st := stateOf(t, "10.0.0.1", append(handshake(), udp(4*time.Second, "10.0.0.1", 33000, "10.0.0.53", 53, 80)))
		st.LastOffset = 123456789
		return st
	}, 150},
	{"two windows with late count", func(t testing.TB) *State {
		ps := handshake()
		later := tcp(11*time.Second, "10.0.0.1", 40001, "10.0.0.2", 443, syn)
		st := stateOf(t, "10.0.0.1", append(ps, later))
		st.Late = 3
		return st
	}, 200},
	{"scanner", func(t testing.TB) *State { return stateOf(t, "172.16.0.8", portScan()) }, 1400},
	{"beacon with history", func(testing.TB) *State {
		// Added and closed packet by packet, as the windower does.
		st, h := NewState(), ip("10.0.0.1")
		for _, p := range beacon() {
			st.Add(h, &p, p.Time, DefaultConfig())
			st.Close("h", p.Time, DefaultConfig(), nil)
		}
		return st
	}, 300},
	{"flood victim", func(t testing.TB) *State { return stateOf(t, "10.10.10.10", synFlood()) }, 1200},
	{"flood victim without replies", func(t testing.TB) *State {
		var ps []packet.Summary
		for _, p := range synFlood() {
			if p.TCPFlags == syn {
				ps = append(ps, p)
			}
		}
		return stateOf(t, "10.10.10.10", ps)
	}, 600},
}

func TestStateRoundTrip(t *testing.T) {
	for _, tc := range stateCases {
		t.Run(tc.name, func(t *testing.T) {
			st := tc.st(t)
			b, err := st.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%d windows: %d bytes", st.Open(), len(b))
			if len(b) > tc.max {
				t.Errorf("%d bytes > %d", len(b), tc.max)
			}
			got := new(State)
			if err := got.UnmarshalBinary(b); err != nil {
				t.Fatal(err)
			}
			if got.LastOffset != st.LastOffset || got.Late != st.Late || got.Open() != st.Open() {
				t.Fatalf("header: got %d/%d/%d, want %d/%d/%d", got.LastOffset, got.Late, got.Open(), st.LastOffset, st.Late, st.Open())
			}
			b2, err := got.MarshalBinary()
			if err != nil || !bytes.Equal(b, b2) {
				t.Fatalf("re-encoding differs (%v)", err)
			}
			if a, b := closeAll(got), closeAll(st); !reflect.DeepEqual(a, b) {
				t.Errorf("decoded state closes to other vectors:\n got %v\nwant %v", a, b)
			}
		})
	}
}

// TestStateRoundTripThenAdd checks that a decoded State keeps counting as
// the original would: a processor decodes, adds and encodes on every record.
func TestStateRoundTripThenAdd(t *testing.T) {
	ps := synthetic(5000, 3, 200, time.Second, 7)
	h := v4(10, 0, 0, 1)
	cfg := DefaultConfig()
	direct, viaCodec := NewState(), NewState()
	var want, got []*Vector
	var stream int64 = math.MinInt64
	for i := range ps {
		stream = max(stream, ps[i].Time)
		direct.Add(h, &ps[i], stream, cfg)
		direct.Close("h", stream, cfg, func(v *Vector) { want = append(want, v) })

		viaCodec.Add(h, &ps[i], stream, cfg)
		viaCodec.Close("h", stream, cfg, func(v *Vector) { got = append(got, v) })
		viaCodec.LastOffset = int64(i)
		b, err := viaCodec.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		viaCodec = new(State)
		if err := viaCodec.UnmarshalBinary(b); err != nil {
			t.Fatal(err)
		}
	}
	if len(want) == 0 || !reflect.DeepEqual(got, want) {
		t.Fatalf("vectors differ after codec round trips (%d vs %d)", len(got), len(want))
	}
	if viaCodec.LastOffset != int64(len(ps)-1) {
		t.Errorf("LastOffset %d", viaCodec.LastOffset)
	}
}

// TestStateGoldenV1 checks that a version 1 encoding (before the connection
// history) still decodes, to a State without history.
func TestStateGoldenV1(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "state-v1.golden"))
	if err != nil {
		t.Fatal(err)
	}
	var dec State
	if err := dec.UnmarshalBinary(b); err != nil {
		t.Fatalf("v1 golden does not decode: %v", err)
	}
	if dec.Late != 3 || dec.Open() != 2 || dec.sent != nil || dec.recv != nil {
		t.Errorf("v1 golden decodes to late %d, %d windows", dec.Late, dec.Open())
	}
	for _, v := range closeAll(&dec) {
		checkFinite(t, v)
	}
}

// TestStateGoldenV2 checks that a version 2 encoding (before the security
// event counters and users) still decodes, to the same windows.
func TestStateGoldenV2(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "state-v2.golden"))
	if err != nil {
		t.Fatal(err)
	}
	var dec State
	if err := dec.UnmarshalBinary(b); err != nil {
		t.Fatalf("v2 golden does not decode: %v", err)
	}
	want, err := stateCases[2].st(t).MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	got, err := dec.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("v2 golden decodes to a different state:\n got %x\nwant %x", got, want)
	}
}

// TestStateGolden pins the version 3 wire format. Run with -update to
// rewrite testdata/state-v3.golden after a deliberate change (which also
// needs a new version byte).
func TestStateGolden(t *testing.T) {
	st := stateCases[2].st(t)
	b, err := st.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "state-v3.golden")
	if *update {
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, want) {
		t.Errorf("encoding differs from %s:\n got %x\nwant %x", path, b, want)
	}
	var dec State
	if err := dec.UnmarshalBinary(want); err != nil {
		t.Fatalf("golden does not decode: %v", err)
	}
	if dec.Late != 3 || dec.Open() != 2 {
		t.Errorf("golden decodes to late %d, %d windows", dec.Late, dec.Open())
	}
}

func TestStateUnmarshalErrors(t *testing.T) {
	valid, err := stateCases[3].st(t).MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	hdr := []byte{stateVersion, 0, 0}
	win := func(startMS int64, sizeMS uint64) []byte {
		b := binary.AppendVarint(nil, startMS)
		return binary.AppendUvarint(b, sizeMS)
	}
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"empty", nil, ErrStateVersion},
		{"version 0", []byte{0}, ErrStateVersion},
		{"version 4", append([]byte{4}, valid[1:]...), ErrStateVersion},
		{"trailing byte", append(append([]byte{}, valid...), 0), ErrCorruptState},
		{"too many windows", append(hdr, MaxOpenWindows+1), ErrCorruptState},
		{"zero size", append(append(hdr, 1), win(0, 0)...), ErrCorruptState},
		{"huge size", append(append(hdr, 1), win(0, 1<<40)...), ErrCorruptState},
		{"start out of range", append(append(hdr, 1), win(math.MaxInt64/2, 10)...), ErrCorruptState},
		{"overlapping windows", func() []byte {
			b := append(append([]byte{}, hdr...), 2)
			b = append(b, win(0, 10000)...)
			b = append(b, make([]byte, nCounters+6)...) // zero counters, empty sketches
			b = append(b, win(5000, 10000)...)
			return append(b, make([]byte, nCounters+6)...)
		}(), ErrCorruptState},
		{"bad varint", append([]byte{stateVersion}, bytes.Repeat([]byte{0xff}, 11)...), ErrCorruptState},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := stateCases[1].st(t)
			err := st.UnmarshalBinary(tt.in)
			if !errors.Is(err, tt.want) {
				t.Fatalf("error %v, want %v", err, tt.want)
			}
			if st.Open() != 0 || st.Late != 0 || st.LastOffset != -1 {
				t.Error("state not reset after a failed decode")
			}
		})
	}
	// Every proper prefix of a valid encoding is an error.
	for i := range valid {
		var st State
		if err := st.UnmarshalBinary(valid[:i]); err == nil {
			t.Fatalf("prefix of %d bytes decoded", i)
		}
	}
}

func TestMarshalRejectsUnalignedWindows(t *testing.T) {
	st := NewState()
	s := tcp(0, "10.0.0.1", 1, "10.0.0.2", 2, syn)
	st.Add(ip("10.0.0.1"), &s, s.Time, Config{Size: 1500 * time.Microsecond}) // invalid config
	if _, err := st.MarshalBinary(); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("error %v, want ErrInvalidConfig", err)
	}
}

func FuzzStateUnmarshal(f *testing.F) {
	for _, tc := range stateCases {
		b, err := tc.st(f).MarshalBinary()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{stateVersion, 1, 1, 1, 2, 20})
	f.Fuzz(func(t *testing.T, data []byte) {
		var st State
		if err := st.UnmarshalBinary(data); err != nil {
			if !errors.Is(err, ErrCorruptState) && !errors.Is(err, ErrStateVersion) {
				t.Fatalf("undocumented error %v", err)
			}
			return
		}
		b, err := st.MarshalBinary()
		if err != nil {
			t.Fatalf("decoded state does not encode: %v", err)
		}
		var st2 State
		if err := st2.UnmarshalBinary(b); err != nil {
			t.Fatalf("re-encoding does not decode: %v", err)
		}
		if b2, _ := st2.MarshalBinary(); !bytes.Equal(b, b2) {
			t.Fatal("encoding not stable")
		}
		// A decoded state must keep working: add a packet and close all.
		p := tcp(0, "10.0.0.1", 1, "10.0.0.2", 2, syn)
		st.Add(ip("10.0.0.1"), &p, p.Time, DefaultConfig())
		for _, v := range closeAll(&st) {
			checkFinite(t, v)
		}
	})
}

// FuzzStateAdd feeds arbitrary packets to a State and checks that every
// vector stays finite and non-negative and the state round-trips.
func FuzzStateAdd(f *testing.F) {
	f.Add([]byte("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17"))
	f.Fuzz(func(t *testing.T, data []byte) {
		const rec = 24
		cfg := Config{Size: time.Second, Grace: 500 * time.Millisecond}
		host := v4(10, 0, 0, 1)
		st := NewState()
		var stream int64 = math.MinInt64
		var out []*Vector
		for len(data) >= rec {
			r := data[:rec]
			data = data[rec:]
			s := packet.Summary{
				Time:    int64(binary.LittleEndian.Uint32(r)) * int64(time.Millisecond) / 16,
				Src:     v4(10, 0, 0, r[4]&3),
				Dst:     v4(10, 0, 0, r[5]&3),
				SrcPort: binary.LittleEndian.Uint16(r[6:]), DstPort: binary.LittleEndian.Uint16(r[8:]),
				Length: binary.LittleEndian.Uint32(r[10:]), Proto: r[14], TCPFlags: r[15],
				ICMPType: r[16], ICMPCode: r[17], ARPOp: r[18], Flags: r[19], DNSRCode: r[20],
				DNSQNameLen: r[21], DNSQType: binary.LittleEndian.Uint16(r[22:]),
			}
			stream = max(stream, s.Time)
			st.Add(host, &s, stream, cfg)
			st.Close("h", stream, cfg, func(v *Vector) { out = append(out, v) })
			if st.Open() > cfg.MaxOpen() {
				t.Fatalf("%d open windows", st.Open())
			}
		}
		b, err := st.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var dec State
		if err := dec.UnmarshalBinary(b); err != nil {
			t.Fatalf("state does not round-trip: %v", err)
		}
		st.Close("h", math.MaxInt64, cfg, func(v *Vector) { out = append(out, v) })
		for _, v := range out {
			checkFinite(t, v)
		}
	})
}

// beacon returns a host's connection attempts to one HTTPS server every
// 2.2 s for 90 s, with the replies.
func beacon() []packet.Summary {
	var ps []packet.Summary
	for i := range 41 {
		d := time.Duration(i) * 2200 * time.Millisecond
		ps = append(ps, tcp(d, "10.0.0.1", uint16(40000+i), "141.193.213.21", 443, syn),
			tcp(d+30*time.Millisecond, "141.193.213.21", 443, "10.0.0.1", uint16(40000+i), synack))
	}
	return ps
}

func TestHistoryFeatures(t *testing.T) {
	vs := closeAll(stateOf(t, "10.0.0.1", beacon()))
	last := vs[len(vs)-2] // a full window late in the beacon
	if r := last.Values[FBeaconRegularity]; r < 25 || r > 28 {
		t.Errorf("beacon regularity %v, want close to its 27 or 28 starts", r)
	}
	if n := last.Values[FSvcStarts60s]; n != 27 && n != 28 {
		t.Errorf("beacon starts in 60 s %v, want 27 or 28", n)
	}
	// Bursts of parallel connections are not periodic.
	var burst []packet.Summary
	for i := range 30 {
		d := time.Duration(i/10)*3*time.Second + time.Duration(i%10)*time.Millisecond
		burst = append(burst, tcp(d, "10.0.0.1", uint16(40000+i), "10.0.0.2", 22, syn))
	}
	vs = closeAll(stateOf(t, "10.0.0.1", burst))
	if r := vs[0].Values[FBeaconRegularity]; r > 1 {
		t.Errorf("burst regularity %v, want about 0", r)
	}
	if n := vs[0].Values[FSvcStarts60s]; n != 30 {
		t.Errorf("burst starts %v, want 30", n)
	}
	vs = closeAll(stateOf(t, "10.0.0.2", burst))
	if n := vs[0].Values[FSvcStartsIn60s]; n != 30 {
		t.Errorf("victim starts received %v, want 30", n)
	}
	// A scan of many services does not evict the beacon's.
	ps := beacon()
	for i := range 500 {
		ps = append(ps, tcp(80*time.Second+time.Duration(i)*time.Millisecond, "10.0.0.1", 50000, "10.0.0.9", uint16(i+1), syn))
	}
	slices.SortStableFunc(ps, func(a, b packet.Summary) int { return cmp.Compare(a.Time, b.Time) })
	vs = closeAll(stateOf(t, "10.0.0.1", ps))
	if r := vs[len(vs)-1].Values[FBeaconRegularity]; r < 10 {
		t.Errorf("beacon regularity after a scan %v", r)
	}
}
