package syslog_test

import (
	"bufio"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/riptide-nids/riptide/internal/testenv"
	"github.com/riptide-nids/riptide/syslog"
)

func TestParse(t *testing.T) {
	now := func() time.Time { return time.Date(2026, 1, 5, 12, 0, 0, 0, time.UTC) }
	tests := []struct {
		name string
		year int
		in   string
		want syslog.Message
		err  bool
	}{
		{name: "rfc5424", in: "<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - 'su root' failed for lonvick on /dev/pts/8",
			want: syslog.Message{Format: syslog.RFC5424, Time: time.Date(2003, 10, 11, 22, 14, 15, 3e6, time.UTC), Host: "mymachine.example.com", App: "su", Text: "'su root' failed for lonvick on /dev/pts/8"}},
		{name: "rfc5424 structured data", in: `<165>1 2003-10-11T22:14:15.003Z host evntslog - ID47 [exampleSDID@32473 iut="3"] An application event`,
			want: syslog.Message{Format: syslog.RFC5424, Time: time.Date(2003, 10, 11, 22, 14, 15, 3e6, time.UTC), Host: "host", App: "evntslog", Text: "An application event"}},
		{name: "rfc3164 with PRI", in: "<13>Feb  5 17:32:18 10.0.0.99 sshd[7]: Use the BFG!",
			want: syslog.Message{Format: syslog.RFC3164, Time: time.Date(2026, 2, 5, 17, 32, 18, 0, time.UTC).AddDate(-1, 0, 0), Host: "10.0.0.99", App: "sshd", Text: "Use the BFG!"}},
		{name: "rfc3164 file line, no PRI", year: 2016, in: "Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user webmaster from 173.234.31.186",
			want: syslog.Message{Format: syslog.RFC3164, Time: time.Date(2016, 12, 10, 6, 55, 46, 0, time.UTC), Host: "LabSZ", App: "sshd", Text: "Invalid user webmaster from 173.234.31.186"}},
		{name: "auto year: January message this year", in: "Jan  5 11:00:00 h app: x",
			want: syslog.Message{Format: syslog.RFC3164, Time: time.Date(2026, 1, 5, 11, 0, 0, 0, time.UTC), Host: "h", App: "app", Text: "x"}},
		{name: "auto year: a month ahead is still this year", in: "Feb  4 11:00:00 h app: x",
			want: syslog.Message{Format: syslog.RFC3164, Time: time.Date(2026, 2, 4, 11, 0, 0, 0, time.UTC), Host: "h", App: "app", Text: "x"}},
		{name: "auto year: December read in January is last year", in: "Dec 31 23:59:59 h app: x",
			want: syslog.Message{Format: syslog.RFC3164, Time: time.Date(2025, 12, 31, 23, 59, 59, 0, time.UTC), Host: "h", App: "app", Text: "x"}},
		{name: "PAM tag", year: 2005, in: "Jun 14 15:16:01 combo sshd(pam_unix)[19939]: authentication failure; rhost=218.188.2.4",
			want: syslog.Message{Format: syslog.RFC3164, Time: time.Date(2005, 6, 14, 15, 16, 1, 0, time.UTC), Host: "combo", App: "sshd(pam_unix)", Text: "authentication failure; rhost=218.188.2.4"}},
		{name: "garbage", in: "\x00\x01garbage", err: true},
		{name: "empty", in: "", err: true},
		{name: "BGL line", in: "- 1117838570 2005.06.03 R02-M1-N0-C:J12-U11 RAS KERNEL INFO x", err: true},
		{name: "bad PRI", in: "<999>1 2003-10-11T22:14:15.003Z h a - - - x", err: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := syslog.NewParser(syslog.ParserConfig{Year: tt.year, Now: now})
			got, err := p.Parse([]byte(tt.in))
			if tt.err {
				if !errors.Is(err, syslog.ErrUnparsable) {
					t.Fatalf("Parse(%q) = %+v, %v; want ErrUnparsable", tt.in, got, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !got.Time.Equal(tt.want.Time) {
				t.Errorf("time %v, want %v", got.Time, tt.want.Time)
			}
			got.Time, tt.want.Time = time.Time{}, time.Time{}
			if got != tt.want {
				t.Errorf("Parse(%q)\n got %+v\nwant %+v", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseTimezone(t *testing.T) {
	loc := time.FixedZone("UTC+2", 2*3600)
	p := syslog.NewParser(syslog.ParserConfig{Year: 2020, Location: loc})
	m, err := p.Parse([]byte("Mar  1 10:00:00 h a: x"))
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2020, 3, 1, 8, 0, 0, 0, time.UTC); !m.Time.Equal(want) {
		t.Errorf("time %v, want %v", m.Time.UTC(), want)
	}
}

// TestParseDatasets parses the real log files of ../shared/datasets/syslog:
// every line of the sshd and Linux logs is RFC 3164 with the host the
// datasets README names; the BlueGene/L RAS log is not syslog at all.
func TestParseDatasets(t *testing.T) {
	dir := filepath.Join(testenv.Datasets(t), "syslog")
	tests := []struct {
		file       string
		host       string
		ok, failed int
		first      time.Time
	}{
		{"OpenSSH_2k.log", "LabSZ", 2000, 0, time.Date(2016, 12, 10, 6, 55, 46, 0, time.UTC)},
		{"Linux_2k.log", "combo", 2000, 0, time.Date(2016, 6, 14, 15, 16, 1, 0, time.UTC)},
		{"BGL_2k.log", "", 0, 2000, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			f, err := os.Open(filepath.Join(dir, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = f.Close() }()
			p := syslog.NewParser(syslog.ParserConfig{Year: 2016})
			sc := bufio.NewScanner(f)
			ok, failed := 0, 0
			for sc.Scan() {
				m, err := p.Parse(sc.Bytes())
				if err != nil {
					failed++
					continue
				}
				if ok == 0 && !m.Time.Equal(tt.first) {
					t.Errorf("first time %v, want %v", m.Time, tt.first)
				}
				ok++
				if m.Host != tt.host {
					t.Fatalf("line %d: host %q, want %q", ok+failed, m.Host, tt.host)
				}
			}
			if ok != tt.ok || failed != tt.failed {
				t.Errorf("%d parsed, %d failed; want %d and %d", ok, failed, tt.ok, tt.failed)
			}
		})
	}
}
