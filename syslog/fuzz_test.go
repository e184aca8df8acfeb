package syslog_test

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"unicode/utf8"

	"github.com/riptide-nids/riptide/syslog"
)

var seeds = []string{
	"<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - 'su root' failed",
	"<13>Feb  5 17:32:18 10.0.0.99 sshd[7]: Failed password for root from 1.2.3.4 port 1 ssh2",
	"Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user webmaster from 173.234.31.186",
	"Jun 14 15:16:01 combo sshd(pam_unix)[19939]: authentication failure; logname= uid=0 rhost=218.188.2.4 user=root",
	"5 <13>a9 <13>a\nb\nc\n<13>x\r\n",
	"message repeated 5 times: [ Failed password for root from 5.36.59.76 port 42393 ssh2]",
	"",
}

// FuzzFramer: the framer never returns more than the limit, never loops,
// and returns only its documented errors.
func FuzzFramer(f *testing.F) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		const max = 64
		fr := syslog.NewFramer(bytes.NewReader(in), max)
		for i := 0; ; i++ {
			b, err := fr.Next()
			if errors.Is(err, io.EOF) {
				return
			}
			if len(b) > max {
				t.Fatalf("frame of %d bytes, limit %d", len(b), max)
			}
			if err != nil && !errors.Is(err, syslog.ErrOversized) && !errors.Is(err, syslog.ErrTruncated) {
				t.Fatalf("unexpected error %v", err)
			}
			if errors.Is(err, syslog.ErrTruncated) {
				return
			}
			if i > len(in) {
				t.Fatalf("%d frames from %d bytes", i, len(in))
			}
		}
	})
}

// FuzzLines: the splitter keeps to its limit and loses no complete line:
// fed in two chunks it gives what it gives for the whole input.
func FuzzLines(f *testing.F) {
	for _, s := range seeds {
		f.Add([]byte(s), uint8(3))
	}
	f.Fuzz(func(t *testing.T, in []byte, cut uint8) {
		const max = 16
		run := func(chunks ...[]byte) []string {
			var out []string
			l := syslog.NewLines(max)
			emit := func(b []byte, _ error) {
				if len(b) > max {
					t.Fatalf("line of %d bytes, limit %d", len(b), max)
				}
				out = append(out, string(b))
			}
			for _, c := range chunks {
				l.Feed(c, emit)
			}
			l.Flush(emit)
			return out
		}
		c := min(int(cut), len(in))
		whole, split := run(in), run(in[:c], in[c:])
		if len(whole) != len(split) {
			t.Fatalf("whole %q, split %q", whole, split)
		}
		for i := range whole {
			if whole[i] != split[i] {
				t.Fatalf("whole %q, split %q", whole, split)
			}
		}
	})
}

// FuzzParse: parsing never panics, errors wrap ErrUnparsable, and the
// fields of a parsed message are taken from the input.
func FuzzParse(f *testing.F) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		p := syslog.NewParser(syslog.ParserConfig{})
		m, err := p.Parse(in)
		if err != nil {
			if !errors.Is(err, syslog.ErrUnparsable) {
				t.Fatalf("error %v does not wrap ErrUnparsable", err)
			}
			return
		}
		if m.Format != syslog.RFC3164 && m.Format != syslog.RFC5424 {
			t.Fatalf("format %v", m.Format)
		}
		// Each field comes from the input (go-syslog may read one span as
		// two fields: "Feb 01 00:00:00 host " gives the host as text too).
		for _, f := range []string{m.Host, m.App, m.Text} {
			if !bytes.Contains(in, []byte(f)) {
				t.Fatalf("field %q not in the input %q", f, in)
			}
		}
	})
}

// FuzzExtract: extraction never panics, and an event has a kind, a count of
// at least 1 and a user taken from the text.
func FuzzExtract(f *testing.F) {
	for _, s := range seeds {
		f.Add("sshd", s)
	}
	f.Add("sudo", "alice : 3 incorrect password attempts ; USER=root")
	f.Fuzz(func(t *testing.T, app, text string) {
		ev, ok := syslog.Extract(app, text)
		if !ok {
			return
		}
		if ev.Kind.String() == "" || ev.Count < 1 {
			t.Fatalf("event %+v", ev)
		}
		if _, known := syslog.ParseKind(ev.Kind.String()); !known {
			t.Fatalf("kind %v has no name", ev.Kind)
		}
		if !bytes.Contains([]byte(text), []byte(ev.User)) {
			t.Fatalf("user %q not in %q", ev.User, text)
		}
		_ = utf8.ValidString(ev.User)
	})
}
