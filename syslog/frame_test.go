package syslog_test

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/riptide-nids/riptide/syslog"
)

type frame struct {
	msg string
	err error
}

func frames(t *testing.T, r io.Reader, max int) []frame {
	t.Helper()
	f := syslog.NewFramer(r, max)
	var out []frame
	for {
		b, err := f.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		out = append(out, frame{string(b), err})
		if err != nil && !errors.Is(err, syslog.ErrOversized) {
			return out
		}
		if len(out) > 100 {
			t.Fatal("no end")
		}
	}
}

func TestFramer(t *testing.T) {
	long := strings.Repeat("x", 40)
	tests := []struct {
		name string
		in   string
		want []frame
	}{
		{"newline", "<13>a\n<13>b\n", []frame{{"<13>a", nil}, {"<13>b", nil}}},
		{"crlf and last line without newline", "<13>a\r\n<13>b", []frame{{"<13>a", nil}, {"<13>b", nil}}},
		{"empty lines skipped", "\n\n<13>a\n\r\n", []frame{{"<13>a", nil}}},
		{"octet counting", "5 <13>a5 <13>b", []frame{{"<13>a", nil}, {"<13>b", nil}}},
		{"octet counting keeps newlines", "9 <13>a\nb\nc", []frame{{"<13>a\nb\nc", nil}}},
		{"mixed", "5 <13>a<13>b\n7 <13>c\r\n", []frame{{"<13>a", nil}, {"<13>b", nil}, {"<13>c\r\n", nil}}},
		{"digits without space are a line", "2026-01-01T00:00:00Z x\n", []frame{{"2026-01-01T00:00:00Z x", nil}}},
		{"ten digits are a line", "1234567890 x\n", []frame{{"1234567890 x", nil}}},
		{"zero count is a line", "0 x\n", []frame{{"0 x", nil}}},
		{"oversized line, then the next", long + "\n<13>ok\n", []frame{{long[:32], syslog.ErrOversized}, {"<13>ok", nil}}},
		{"line of exactly the limit", long[:32] + "\r\n", []frame{{long[:32], nil}}},
		{"oversized count, then the next", "40 " + long + "5 <13>a", []frame{{long[:32], syslog.ErrOversized}, {"<13>a", nil}}},
		{"truncated count", "10 <13>a", []frame{{"<13>a", syslog.ErrTruncated}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, r := range []struct {
				name string
				r    io.Reader
			}{{"whole", strings.NewReader(tt.in)}, {"byte by byte", iotest.OneByteReader(strings.NewReader(tt.in))}} {
				got := frames(t, r.r, 32)
				if len(got) != len(tt.want) {
					t.Fatalf("%s: got %+v, want %+v", r.name, got, tt.want)
				}
				for i := range got {
					if got[i].msg != tt.want[i].msg || !errors.Is(got[i].err, tt.want[i].err) || (tt.want[i].err == nil) != (got[i].err == nil) {
						t.Errorf("%s: frame %d = %q, %v; want %q, %v", r.name, i, got[i].msg, got[i].err, tt.want[i].msg, tt.want[i].err)
					}
				}
			}
		})
	}
}

func TestFramerLongLineAcrossBuffers(t *testing.T) {
	// A line longer than the framer's 64 KiB read buffer but within the limit.
	line := "<13>" + strings.Repeat("y", 100_000)
	got := frames(t, strings.NewReader(line+"\n<13>z\n"), 200_000)
	if len(got) != 2 || got[0].msg != line || got[0].err != nil || got[1].msg != "<13>z" {
		t.Fatalf("got %d frames, first %d bytes (%v)", len(got), len(got[0].msg), got[0].err)
	}
}

func TestLines(t *testing.T) {
	var got []frame
	emit := func(b []byte, err error) { got = append(got, frame{string(b), err}) }
	l := syslog.NewLines(8)
	for _, chunk := range []string{"ab", "c\nde", "f\r\n\n", "0123456789abc", "def\nok", "\n", "tail"} {
		l.Feed([]byte(chunk), emit)
	}
	if l.Pending() != 4 {
		t.Errorf("pending %d, want 4", l.Pending())
	}
	l.Flush(emit)
	want := []frame{{"abc", nil}, {"def", nil}, {"01234567", syslog.ErrOversized}, {"ok", nil}, {"tail", nil}}
	if len(got) != len(want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	for i := range got {
		if got[i].msg != want[i].msg || !errors.Is(got[i].err, want[i].err) || (want[i].err == nil) != (got[i].err == nil) {
			t.Errorf("line %d = %q, %v; want %q, %v", i, got[i].msg, got[i].err, want[i].msg, want[i].err)
		}
	}
}
