package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/riptide-nids/riptide/internal/testenv"
	"github.com/riptide-nids/riptide/topology"
)

func TestSyslogUsage(t *testing.T) {
	out, _, code := run(t, "syslog", "--help")
	if code != 0 || !strings.Contains(out, "Examples:") || !strings.Contains(out, "riptide syslog") {
		t.Errorf("syslog --help: exit %d\n%s", code, out)
	}
	cases := []struct {
		name string
		args []string
		msg  string
	}{
		{"nothing to receive", []string{"syslog", "--brokers", "b:1"}, "--listen"},
		{"bad scheme", []string{"syslog", "--listen", "http://:514", "--brokers", "b:1"}, "udp://"},
		{"tls without cert", []string{"syslog", "--listen", "tls://127.0.0.1:0", "--brokers", "b:1"}, "--listen-cert"},
		{"cert without key", []string{"syslog", "--listen", "tls://127.0.0.1:0", "--listen-cert", "c.pem", "--brokers", "b:1"}, "go together"},
		{"replay with listen", []string{"syslog", "--listen", "udp://127.0.0.1:0", "--file", "x", "--replay", "--brokers", "b:1"}, "--replay"},
		{"bad overflow", []string{"syslog", "--listen", "udp://127.0.0.1:0", "--overflow", "grow", "--brokers", "b:1"}, "block or drop"},
		{"bad host-addr", []string{"syslog", "--listen", "udp://127.0.0.1:0", "--host-addr", "LabSZ", "--brokers", "b:1"}, "NAME=ADDR"},
		{"bad timezone", []string{"syslog", "--listen", "udp://127.0.0.1:0", "--timezone", "Mars/Base", "--brokers", "b:1"}, "--timezone"},
		{"no brokers", []string{"syslog", "--listen", "udp://127.0.0.1:0"}, "--brokers"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, stderr, code := run(t, c.args...)
			if code != 2 || !strings.Contains(stderr, c.msg) {
				t.Errorf("exit %d, want 2; stderr %q should mention %q", code, stderr, c.msg)
			}
		})
	}
}

// TestSyslogReplay replays the sshd log into an embedded broker and checks
// the counts the command prints.
func TestSyslogReplay(t *testing.T) {
	top := topology.MustNew("rt")
	brokers := testenv.Kafka(t, 2, top.Syslog.Name, top.Events.Name, top.DeadLetter.Name)
	out, stderr, code := run(t, "syslog", "--brokers", strings.Join(brokers, ","), "--prefix", "rt",
		"--file", testenv.Datasets(t, "syslog", "OpenSSH_2k.log"), "--replay", "--year", "2016")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var res struct {
		Syslog map[string]float64 `json:"syslog"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if c := res.Syslog; c["received"] != 2000 || c["produced"] != 2000 || c["dead_lettered"] != 0 || c["events"] == 0 {
		t.Errorf("counts %v", c)
	}
}
