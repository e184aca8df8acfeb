package producers_test

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/riptide-nids/riptide/packet"
	"github.com/riptide-nids/riptide/producers"
)

// readCapture reads one capture on its own, as the reference for Files.
func readCapture(t *testing.T, path string) ([]packet.Summary, packet.Stats, error) {
	t.Helper()
	r, err := packet.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = r.Close() }()
	var out []packet.Summary
	for {
		var s packet.Summary
		if err := r.Next(&s); err != nil {
			if errors.Is(err, io.EOF) {
				err = nil
			}
			return out, r.Stats(), err
		}
		out = append(out, s)
	}
}

func addStats(all ...packet.Stats) packet.Stats {
	s := packet.Stats{Undecodable: map[string]uint64{}}
	for _, o := range all {
		s.Add(o)
	}
	return s
}

func testLogger() (*slog.Logger, *bytes.Buffer) {
	var buf bytes.Buffer
	return slog.New(slog.NewTextHandler(&buf, nil)), &buf
}

func TestFilesInSequence(t *testing.T) {
	ds := datasetsDir(t)
	paths := []string{
		filepath.Join(ds, "pcap", "attacks", "nmap-80.pcap"),
		filepath.Join(ds, "pcap", "attacks", "syn-portscan.pcapng"),
		filepath.Join(ds, "pcap", "malformed", "fuzz-2006-09-29-28586.pcap"), // has undecodable packets
		filepath.Join(ds, "pcap", "attacks", "icmp-sweep.pcap"),
	}
	var want []packet.Summary
	var stats []packet.Stats
	for _, p := range paths {
		sums, st, err := readCapture(t, p)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		want = append(want, sums...)
		stats = append(stats, st)
	}
	wantStats := addStats(stats...)
	if len(wantStats.Undecodable) == 0 {
		t.Fatal("test setup: want a capture with undecodable packets")
	}

	log, logs := testLogger()
	f, err := producers.OpenFiles(paths, log)
	if err != nil {
		t.Fatal(err)
	}
	if st := f.Stats(); st.Packets != 0 || st.Undecodable == nil {
		t.Errorf("Stats() before reading = %+v, want zero with a non-nil map", st)
	}
	var got []packet.Summary
	for i := 0; ; i++ {
		var s packet.Summary
		err := f.Next(&s)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, s)
		if i == len(want)/2 {
			// Mid-way, Stats includes the file being read.
			if st := f.Stats(); st.Decoded != uint64(len(got)) {
				t.Errorf("Stats().Decoded = %d after %d summaries", st.Decoded, len(got))
			}
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("read %d summaries, want the %d of the files in order", len(got), len(want))
	}
	if st := f.Stats(); !reflect.DeepEqual(st, wantStats) {
		t.Errorf("Stats() = %+v, want the sum %+v", st, wantStats)
	}
	if len(f.FileErrors) != 0 || logs.Len() != 0 {
		t.Errorf("FileErrors %q, log %q: want none", f.FileErrors, logs)
	}
	var s packet.Summary
	if err := f.Next(&s); !errors.Is(err, io.EOF) {
		t.Errorf("Next after the end = %v, want io.EOF", err)
	}
	t.Logf("%d files: %+v", len(paths), f.Stats())
}

func TestOpenFilesErrors(t *testing.T) {
	ds := datasetsDir(t)
	good := filepath.Join(ds, "pcap", "attacks", "nmap-80.pcap")
	missing := filepath.Join(t.TempDir(), "missing.pcap")
	notPcap := filepath.Join(t.TempDir(), "notes.txt")
	if err := os.WriteFile(notPcap, []byte("this is not a capture file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		paths []string
		is    error
		names string
	}{
		{"none", nil, nil, "no capture files"},
		{"missing", []string{good, missing}, fs.ErrNotExist, missing},
		{"not a capture", []string{notPcap, good}, packet.ErrUnknownFormat, notPcap},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log, _ := testLogger()
			f, err := producers.OpenFiles(tt.paths, log)
			if err == nil {
				t.Fatal("OpenFiles succeeded")
			}
			if f != nil {
				t.Error("OpenFiles returned a source with an error")
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v does not wrap %v", err, tt.is)
			}
			if !strings.Contains(err.Error(), tt.names) {
				t.Errorf("error %q does not mention %q", err, tt.names)
			}
		})
	}
}

func TestFilesTruncatedFileGoesOn(t *testing.T) {
	ds := datasetsDir(t)
	full := filepath.Join(ds, "pcap", "attacks", "ssh-bruteforce.pcap")
	next := filepath.Join(ds, "pcap", "attacks", "nmap-80.pcap")
	data, err := os.ReadFile(full)
	if err != nil {
		t.Fatal(err)
	}
	// Cut the capture in the middle of a record (an odd offset well inside
	// the file; records there are far longer than one byte).
	trunc := filepath.Join(t.TempDir(), "ssh-truncated.pcap")
	if err := os.WriteFile(trunc, data[:len(data)/2+1], 0o600); err != nil {
		t.Fatal(err)
	}
	truncSums, truncStats, truncErr := readCapture(t, trunc)
	if !errors.Is(truncErr, packet.ErrCorruptFile) {
		t.Fatalf("test setup: the truncated copy ends with %v, want ErrCorruptFile", truncErr)
	}
	fullSums, _, err := readCapture(t, full)
	if err != nil {
		t.Fatal(err)
	}
	if len(truncSums) == 0 || len(truncSums) >= len(fullSums) {
		t.Fatalf("test setup: truncated copy has %d of %d summaries", len(truncSums), len(fullSums))
	}
	nextSums, nextStats, err := readCapture(t, next)
	if err != nil {
		t.Fatal(err)
	}

	log, logs := testLogger()
	f, err := producers.OpenFiles([]string{trunc, next}, log) // a truncated file opens fine
	if err != nil {
		t.Fatal(err)
	}
	got, err := drain(t, f)
	if !errors.Is(err, io.EOF) {
		t.Fatalf("Files ended with %v, want io.EOF", err)
	}
	if want := append(slices.Clone(truncSums), nextSums...); !slices.Equal(got, want) {
		t.Errorf("read %d summaries, want %d from the truncated file then %d from the next", len(got), len(truncSums), len(nextSums))
	}
	if len(f.FileErrors) != 1 || !strings.Contains(f.FileErrors[0], trunc) || !strings.Contains(f.FileErrors[0], packet.ErrCorruptFile.Error()) {
		t.Errorf("FileErrors = %q, want one naming %s as corrupt", f.FileErrors, trunc)
	}
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), trunc) {
		t.Errorf("log %q: want a warning naming the file", logs)
	}
	if st, want := f.Stats(), addStats(truncStats, nextStats); !reflect.DeepEqual(st, want) {
		t.Errorf("Stats() = %+v, want %+v", st, want)
	}
	t.Logf("FileErrors: %q", f.FileErrors)
}

func TestFilesNilLogger(t *testing.T) {
	ds := datasetsDir(t)
	data, err := os.ReadFile(filepath.Join(ds, "pcap", "attacks", "nmap-80.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	trunc := filepath.Join(t.TempDir(), "nmap-truncated.pcap")
	if err := os.WriteFile(trunc, data[:len(data)-3], 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := producers.OpenFiles([]string{trunc}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := drain(t, f)
	if !errors.Is(err, io.EOF) || len(f.FileErrors) != 1 || len(got) == 0 {
		t.Errorf("read %d summaries, ended with %v, FileErrors %q; want the packets before the cut, io.EOF and one file error", len(got), err, f.FileErrors)
	}
}
