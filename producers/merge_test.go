package producers_test

import (
	"errors"
	"io"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/riptide-nids/riptide/packet"
	"github.com/riptide-nids/riptide/producers"
)

func readAll(t *testing.T, src producers.Source, limit int) []packet.Summary {
	t.Helper()
	var out []packet.Summary
	for len(out) < limit {
		var s packet.Summary
		err := src.Next(&s)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// TestMergeFilesByTime merges two real captures whose times overlap with
// a third that does not, and compares with a stable sort of all packets by
// time: every packet once, in time order, each file's own order kept.
func TestMergeFilesByTime(t *testing.T) {
	ds := datasetsDir(t)
	paths := []string{
		filepath.Join(ds, "pcap", "attacks", "c2-beacon.pcap"),
		filepath.Join(ds, "pcap", "attacks", "ssh-bruteforce.pcap"),
		filepath.Join(ds, "pcap", "attacks", "nmap-80.pcap"),
	}
	var want []packet.Summary
	var stats []packet.Stats
	for _, p := range paths {
		sums, st, err := readCapture(t, p)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, sums...)
		stats = append(stats, st)
	}
	slices.SortStableFunc(want, func(a, b packet.Summary) int {
		switch {
		case a.Time < b.Time:
			return -1
		case a.Time > b.Time:
			return 1
		}
		return 0
	})
	m, err := producers.MergeFiles(paths, producers.MergeOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = m.Close() }()
	got := readAll(t, m, 1<<30)
	if !slices.Equal(got, want) {
		t.Fatalf("merged %d summaries, want the %d of the files sorted by time", len(got), len(want))
	}
	if st := m.Stats(); st.Packets != addStats(stats...).Packets {
		t.Errorf("Stats().Packets = %d, want %d", st.Packets, addStats(stats...).Packets)
	}
	if m.Passes() != 1 {
		t.Errorf("Passes() = %d, want 1", m.Passes())
	}
}

// TestMergeLoopAndRebase reads one capture three times with --rebase-time:
// the first packet is at the rebase time, gaps are kept, and each pass
// starts LoopGap after the last packet of the one before.
func TestMergeLoopAndRebase(t *testing.T) {
	path := filepath.Join(datasetsDir(t), "pcap", "attacks", "nmap-80.pcap")
	once, _, err := readCapture(t, path)
	if err != nil {
		t.Fatal(err)
	}
	base := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	gap := 2 * time.Second
	m, err := producers.MergeFiles([]string{path}, producers.MergeOptions{Loops: 3, LoopGap: gap, RebaseTo: base}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := readAll(t, m, 1<<30)
	if len(got) != 3*len(once) {
		t.Fatalf("3 loops gave %d summaries, want %d", len(got), 3*len(once))
	}
	span := once[len(once)-1].Time - once[0].Time
	for pass := range 3 {
		shift := base.UnixNano() - once[0].Time + int64(pass)*(span+int64(gap))
		for i, s := range got[pass*len(once) : (pass+1)*len(once)] {
			w := once[i]
			w.Time += shift
			if s != w {
				t.Fatalf("pass %d packet %d: %+v, want %+v", pass, i, s, w)
			}
		}
	}
	if got[0].Time != base.UnixNano() {
		t.Errorf("first packet at %v, want the rebase time %v", time.Unix(0, got[0].Time).UTC(), base)
	}
	if m.Passes() != 3 {
		t.Errorf("Passes() = %d, want 3", m.Passes())
	}
}

// TestMergeLoopForever keeps reading with Loops Forever and event time keeps
// growing.
func TestMergeLoopForever(t *testing.T) {
	path := filepath.Join(datasetsDir(t), "pcap", "attacks", "nmap-80.pcap")
	once, _, err := readCapture(t, path)
	if err != nil {
		t.Fatal(err)
	}
	m, err := producers.MergeFiles([]string{path}, producers.MergeOptions{Loops: producers.Forever}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = m.Close() }()
	got := readAll(t, m, 10*len(once)+1)
	if len(got) != 10*len(once)+1 || m.Passes() != 11 {
		t.Fatalf("read %d summaries in %d passes, want %d in 11", len(got), m.Passes(), 10*len(once)+1)
	}
	for i := len(once); i < len(got); i += len(once) {
		if got[i].Time <= got[i-1].Time {
			t.Errorf("pass starting at packet %d begins at %d, not after the last pass's end %d", i, got[i].Time, got[i-1].Time)
		}
	}
}

func TestMergeFilesErrors(t *testing.T) {
	if _, err := producers.MergeFiles(nil, producers.MergeOptions{}, nil); err == nil {
		t.Error("no files: want an error")
	}
	if _, err := producers.MergeFiles([]string{"/nonexistent.pcap"}, producers.MergeOptions{}, nil); err == nil {
		t.Error("missing file: want an error")
	}
	path := filepath.Join(datasetsDir(t), "pcap", "attacks", "nmap-80.pcap")
	if _, err := producers.MergeFiles([]string{path}, producers.MergeOptions{Loops: -2}, nil); err == nil {
		t.Error("loops -2: want an error")
	}
}
