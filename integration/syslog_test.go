//go:build integration

package integration

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/riptide-nids/riptide/codecs"
	"github.com/riptide-nids/riptide/ops/opstest"
	"github.com/riptide-nids/riptide/processors"
	"github.com/riptide-nids/riptide/window"
)

// TestSyslogOverUDPAndTCP runs `riptide syslog` on a UDP and a TCP listener
// and sends it every line of the sshd and Linux logs of the shared
// datasets, first over UDP (one datagram per line), then over TCP (one
// connection, newline framing): kcat, which shares no code with riptide,
// counts 2,000 records on the syslog topic per file and transport. Then
// garbage and an oversized line are dead-lettered with their reasons while
// the listener keeps running (a good line after them still arrives), and
// SIGTERM stops the command cleanly.
//
// UDP has no flow control: the sender paces itself by the relay's
// riptide_input_received_total counter (bursts of 100 datagrams, then wait
// until the relay has read them), because the kernel caps the socket buffer
// (--udp-buffer) at net.core.rmem_max, often 208 KiB, which holds a few
// hundred datagrams.
func TestSyslogOverUDPAndTCP(t *testing.T) {
	kcat, err := exec.LookPath("kcat")
	if err != nil {
		t.Fatalf("kcat is not installed (CI installs it): %v", err)
	}
	c := newCluster(t, "it-syslog")
	c.createTopics(t, 4)
	p := startProc(t, "syslog", c.args("syslog", "--listen", "udp://127.0.0.1:0,tcp://127.0.0.1:0", "--year", "2016",
		"--max-size", "8192", "--metrics-addr", "127.0.0.1:0")...)
	addrs := map[string]string{}
	listenRE := regexp.MustCompile(`msg=listening listener=(udp|tcp)://(\S+)`)
	metricsRE := regexp.MustCompile(`msg="serving metrics" addr=(\S+)`)
	var metricsAddr string
	if !waitFor(20*time.Second, 20*time.Millisecond, func() bool {
		errOut := readFile(p.stderr)
		for _, m := range listenRE.FindAllStringSubmatch(errOut, -1) {
			addrs[m[1]] = m[2]
		}
		if m := metricsRE.FindStringSubmatch(errOut); m != nil {
			metricsAddr = m[1]
		}
		return len(addrs) == 2 && metricsAddr != ""
	}) {
		t.Fatalf("riptide syslog did not report its listeners within 20 s:\n%s", readFile(p.stderr))
	}
	received := func(transport string) int {
		return int(opstest.Scrape(t, "http://"+metricsAddr+"/metrics").Sample(t, "riptide_input_received_total", "input", "syslog", "transport", transport))
	}
	count := func(topic string) int {
		out, errOut, code := run(t, 30*time.Second, kcat, "-b", c.brokers, "-C", "-t", topic, "-o", "beginning", "-e", "-q", "-f", "%p:%o\n")
		if code != 0 {
			t.Fatalf("kcat: exit %d: %s", code, errOut)
		}
		return strings.Count(out, "\n")
	}
	waitCount := func(topic string, want int) {
		t.Helper()
		var got int
		if !waitFor(30*time.Second, 200*time.Millisecond, func() bool { got = count(topic); return got >= want }) {
			t.Fatalf("%s: kcat counts %d records, want %d", topic, got, want)
		}
		if got != want {
			t.Fatalf("%s: kcat counts %d records, want exactly %d", topic, got, want)
		}
	}

	total, udpSent := 0, 0
	for _, file := range []string{"syslog/OpenSSH_2k.log", "syslog/Linux_2k.log"} {
		lines := readLines(t, dataset(t, file))
		if len(lines) != 2000 {
			t.Fatalf("%s: %d lines, want 2000", file, len(lines))
		}
		// UDP, paced by what the relay has read.
		uc, err := net.Dial("udp", addrs["udp"])
		if err != nil {
			t.Fatal(err)
		}
		t0 := time.Now()
		for i, l := range lines {
			if _, err := uc.Write([]byte(l + "\n")); err != nil {
				t.Fatal(err)
			}
			udpSent++
			if (i+1)%100 == 0 || i == len(lines)-1 {
				if !waitFor(10*time.Second, 5*time.Millisecond, func() bool { return received("udp") >= udpSent }) {
					t.Fatalf("%s over UDP: the relay read %d of %d datagrams within 10 s", file, received("udp"), udpSent)
				}
			}
		}
		_ = uc.Close()
		total += 2000
		waitCount(c.top.Syslog.Name, total)
		t.Logf("%s over UDP: 2000 records on %s (sent in %.2f s)", file, c.top.Syslog.Name, time.Since(t0).Seconds())
		// TCP, one connection, newline framing.
		tc, err := net.Dial("tcp", addrs["tcp"])
		if err != nil {
			t.Fatal(err)
		}
		w := bufio.NewWriter(tc)
		for _, l := range lines {
			if _, err := w.WriteString(l + "\n"); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		_ = tc.Close()
		total += 2000
		waitCount(c.top.Syslog.Name, total)
		t.Logf("%s over TCP: 2000 records on %s", file, c.top.Syslog.Name)
	}

	// Garbage over UDP and TCP, an oversized line over TCP, then a good line.
	uc, err := net.Dial("udp", addrs["udp"])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := uc.Write([]byte("\x00\x01 not syslog at all")); err != nil {
		t.Fatal(err)
	}
	_ = uc.Close()
	tc, err := net.Dial("tcp", addrs["tcp"])
	if err != nil {
		t.Fatal(err)
	}
	good := "<38>Dec 10 11:04:45 LabSZ sshd[1]: Failed password for root from 198.51.100.9 port 1 ssh2"
	if _, err := fmt.Fprintf(tc, "- 1117838570 2005.06.03 R02-M1 RAS KERNEL INFO x\n%s\n%s\n", strings.Repeat("A", 20000), good); err != nil {
		t.Fatal(err)
	}
	_ = tc.Close()
	waitCount(c.top.DeadLetter.Name, 3)
	waitCount(c.top.Syslog.Name, total+1)
	dead := collect(t, c.brokers, c.top.DeadLetter.Name, 30*time.Second, func(rs []*kgo.Record) bool { return len(rs) >= 3 })
	reasons := map[string]int{}
	for _, r := range dead {
		h := headers(r)
		switch {
		case strings.Contains(h[processors.HeaderReason], "too long") && len(r.Value) == 8192:
			reasons["oversized"]++
		case strings.Contains(h[processors.HeaderReason], "not an RFC 5424 or RFC 3164 message"):
			reasons["unparsable"]++
		default:
			t.Errorf("dead letter %.40q with headers %v", r.Value, h)
		}
		if !strings.HasPrefix(h[processors.HeaderSource], "syslog+") {
			t.Errorf("source header %q", h[processors.HeaderSource])
		}
	}
	if reasons["oversized"] != 1 || reasons["unparsable"] != 2 {
		t.Errorf("dead-letter reasons %v, want 1 oversized and 2 unparsable", reasons)
	}
	if !p.running() {
		t.Fatal("riptide syslog exited")
	}
	p.kill(syscall.SIGTERM)
	code, err := p.wait(30 * time.Second)
	if err != nil || code != 0 {
		t.Fatalf("after SIGTERM: exit %d, %v\n%s", code, err, tail(readFile(p.stderr), 20))
	}
	var res struct {
		Syslog map[string]float64 `json:"syslog"`
	}
	if err := json.Unmarshal([]byte(readFile(p.stdout)), &res); err != nil {
		t.Fatalf("stdout: %v: %s", err, readFile(p.stdout))
	}
	if s := res.Syslog; s["received"] != float64(total+4) || s["produced"] != float64(total+1) || s["dead_lettered"] != 3 || s["dropped"] != 0 {
		t.Errorf("counts %v; want received %d, produced %d, 3 dead-lettered", s, total+4, total+1)
	}
	t.Logf("on %s: %v", c.kind(), res.Syslog)
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimRight(string(b), "\n"), "\n")
}

// TestSyslogEventsReachWindower replays the sshd log with `riptide syslog
// --replay` into a running windower: the security events of the brute-force
// source 183.62.140.253 come out as its windows' features. grep counts 286
// "Failed ..." and 287 "authentication failure;" lines from it (573 failed
// logins as source) and 9 "Invalid user" lines.
func TestSyslogEventsReachWindower(t *testing.T) {
	c := newCluster(t, "it-syslog-events")
	c.createTopics(t, 4)
	startProc(t, "run", c.args("run", "--groups", "windower", "--idle-flush", "2s")...)
	out, errOut, code := riptide(t, 60*time.Second, c.args("syslog", "--file", dataset(t, "syslog/OpenSSH_2k.log"), "--replay", "--year", "2016")...)
	if code != 0 {
		t.Fatalf("riptide syslog: exit %d\n%s\n%s", code, out, errOut)
	}
	const attacker = "183.62.140.253"
	var fails, invalid float64
	var windows int
	collect(t, c.brokers, c.top.Features.Name, 90*time.Second+c.slack(1), func(rs []*kgo.Record) bool {
		fails, invalid, windows = 0, 0, 0
		seen := map[string]bool{}
		for _, r := range rs {
			if string(r.Key) != attacker {
				continue
			}
			var v window.Vector
			if err := codecs.DecodeVector(r.Value, &v); err != nil {
				t.Fatal(err)
			}
			if seen[v.ID()] {
				continue // a repeat after a restart
			}
			seen[v.ID()] = true
			windows++
			fails += v.Values[window.FLoginFailOut]
			invalid += v.Values[window.FInvalidUserOut]
		}
		return fails >= 573 && invalid >= 9
	})
	if fails != 573 || invalid != 9 {
		t.Errorf("%s: login_fail_out %v, invalid_user_out %v over %d windows; want 573 and 9", attacker, fails, invalid, windows)
	}
	t.Logf("%s: %d windows, login_fail_out %v, invalid_user_out %v", attacker, windows, fails, invalid)
}
