package syslog_test

import (
	"bufio"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/riptide-nids/riptide/internal/testenv"
	"github.com/riptide-nids/riptide/syslog"
)

func TestExtract(t *testing.T) {
	a := netip.MustParseAddr
	tests := []struct {
		app, text string
		want      syslog.Event
		ok        bool
	}{
		{"sshd", "Failed password for root from 183.62.140.253 port 36300 ssh2", syslog.Event{syslog.KindFailedLogin, "root", a("183.62.140.253"), 1}, true},
		{"sshd", "Failed password for invalid user admin from 103.99.0.122 port 52683 ssh2", syslog.Event{syslog.KindFailedLogin, "admin", a("103.99.0.122"), 1}, true},
		{"sshd", "Failed none for invalid user  0101 from 1.2.3.4 port 1 ssh2", syslog.Event{syslog.KindFailedLogin, " 0101", a("1.2.3.4"), 1}, true},
		{"sshd", "Failed publickey for bob from 2001:db8::1 port 22 ssh2", syslog.Event{syslog.KindFailedLogin, "bob", a("2001:db8::1"), 1}, true},
		{"sshd", "message repeated 5 times: [ Failed password for root from 5.36.59.76 port 42393 ssh2]", syslog.Event{syslog.KindFailedLogin, "root", a("5.36.59.76"), 5}, true},
		{"sshd", "Accepted password for fztu from 119.137.62.142 port 49116 ssh2", syslog.Event{syslog.KindAcceptedLogin, "fztu", a("119.137.62.142"), 1}, true},
		{"sshd", "Accepted publickey for git from 10.0.0.7 port 50000 ssh2: RSA SHA256:abc", syslog.Event{syslog.KindAcceptedLogin, "git", a("10.0.0.7"), 1}, true},
		{"sshd", "Invalid user webmaster from 173.234.31.186", syslog.Event{syslog.KindInvalidUser, "webmaster", a("173.234.31.186"), 1}, true},
		{"sshd", "Invalid user test from 1.2.3.4 port 5555", syslog.Event{syslog.KindInvalidUser, "test", a("1.2.3.4"), 1}, true},
		{"sshd", "reverse mapping checking getaddrinfo for ns.example.com [173.234.31.186] failed - POSSIBLE BREAK-IN ATTEMPT!", syslog.Event{syslog.KindBreakIn, "", a("173.234.31.186"), 1}, true},
		{"sshd", "Address 187.141.143.180 maps to x.example.mx, but this does not map back to the address - POSSIBLE BREAK-IN ATTEMPT!", syslog.Event{syslog.KindBreakIn, "", a("187.141.143.180"), 1}, true},
		{"sshd", "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=183.62.140.253  user=root", syslog.Event{syslog.KindAuthFailure, "root", a("183.62.140.253"), 1}, true},
		{"sshd(pam_unix)", "authentication failure; logname= uid=0 euid=0 tty=NODEVssh ruser= rhost=218.188.2.4 ", syslog.Event{syslog.KindAuthFailure, "", a("218.188.2.4"), 1}, true},
		{"sshd(pam_unix)", "authentication failure; logname= uid=0 euid=0 tty=NODEVssh ruser= rhost=zummit.com ", syslog.Event{syslog.KindAuthFailure, "", netip.Addr{}, 1}, true},
		{"sudo", "alice : 3 incorrect password attempts ; TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/bin/sh", syslog.Event{syslog.KindSudoFailure, "alice", netip.Addr{}, 1}, true},
		{"sudo", "mallory : user NOT in sudoers ; TTY=pts/1 ; PWD=/ ; USER=root ; COMMAND=/bin/id", syslog.Event{syslog.KindSudoFailure, "mallory", netip.Addr{}, 1}, true},
		{"sudo", "pam_unix(sudo:auth): authentication failure; logname=bob uid=1000 euid=0 tty=/dev/pts/0 ruser=bob rhost=  user=bob", syslog.Event{syslog.KindSudoFailure, "bob", netip.Addr{}, 1}, true},
		{"sudo", "alice : TTY=pts/0 ; PWD=/ ; USER=root ; COMMAND=/bin/ls", syslog.Event{}, false},
		{"sshd", "input_userauth_request: invalid user webmaster [preauth]", syslog.Event{}, false},
		{"sshd", "Received disconnect from 1.2.3.4: 11: Bye Bye [preauth]", syslog.Event{}, false},
		{"sshd", "Failed password", syslog.Event{}, false},
		{"sshd", "message repeated x times: [ Failed password for root from 1.2.3.4 port 1 ssh2]", syslog.Event{}, false},
		{"cron", "", syslog.Event{}, false},
	}
	for _, tt := range tests {
		got, ok := syslog.Extract(tt.app, tt.text)
		if ok != tt.ok || got != tt.want {
			t.Errorf("Extract(%q, %q) = %+v, %v; want %+v, %v", tt.app, tt.text, got, ok, tt.want, tt.ok)
		}
	}
}

// TestExtractDatasets counts the events of the real logs against grep's
// counts of the lines (see the datasets README), and checks that the four
// brute-force sources of the sshd log are the four busiest.
func TestExtractDatasets(t *testing.T) {
	dir := filepath.Join(testenv.Datasets(t), "syslog")
	tests := []struct {
		file  string
		kinds map[syslog.Kind]int // events (lines; a repeated message counts once)
		top   []string
	}{
		{"OpenSSH_2k.log", map[syslog.Kind]int{
			// grep -c: "Failed " 524, "Accepted " 1, "Invalid user" 113, "POSSIBLE BREAK-IN" 85,
			// "authentication failure;" 496 (PAM's "N more authentication failures;"
			// summarise attempts already logged one by one and are not events)
			syslog.KindFailedLogin: 524, syslog.KindAcceptedLogin: 1, syslog.KindInvalidUser: 113, syslog.KindBreakIn: 85, syslog.KindAuthFailure: 496,
		}, []string{"183.62.140.253", "187.141.143.180", "103.99.0.122", "112.95.230.3"}},
		{"Linux_2k.log", map[syslog.Kind]int{syslog.KindAuthFailure: 490}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			f, err := os.Open(filepath.Join(dir, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = f.Close() }()
			p := syslog.NewParser(syslog.ParserConfig{Year: 2016})
			kinds := map[syslog.Kind]int{}
			bySource := map[string]int{}
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				m, err := p.Parse(sc.Bytes())
				if err != nil {
					t.Fatal(err)
				}
				ev, ok := syslog.Extract(m.App, m.Text)
				if !ok {
					continue
				}
				kinds[ev.Kind]++
				if ev.Remote.IsValid() {
					bySource[ev.Remote.String()] += ev.Count
				}
			}
			for k, n := range tt.kinds {
				if kinds[k] != n {
					t.Errorf("%v: %d events, want %d", k, kinds[k], n)
				}
			}
			if len(kinds) != len(tt.kinds) {
				t.Errorf("kinds %v, want %v", kinds, tt.kinds)
			}
			for _, src := range tt.top {
				for other, n := range bySource {
					if n > bySource[src] && !contains(tt.top, other) {
						t.Errorf("%s (%d events) is busier than brute-force source %s (%d)", other, n, src, bySource[src])
					}
				}
			}
		})
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
