package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestNotifyUsageAndSecrets: bad notifier settings are usage errors (exit
// 2) whose messages, like --help, never show a secret.
func TestNotifyUsageAndSecrets(t *testing.T) {
	const secretURL = "https://hooks.slack.example/services/T1/B1/TOPSECRET"
	file := filepath.Join(t.TempDir(), "url")
	if err := os.WriteFile(file, []byte(secretURL+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	base := append(os.Environ(), "RIPTIDE_BROKERS=127.0.0.1:1")
	cases := []struct {
		name string
		env  []string
		args []string
		code int
		msg  string
	}{
		{"no sink", nil, nil, 2, "no sink configured"},
		{"given twice", []string{"RIPTIDE_SLACK_WEBHOOK_URL=" + secretURL}, []string{"--slack-webhook-url-file", file}, 2, "given twice"},
		{"not a URL", []string{"RIPTIDE_WEBHOOK_URL=TOPSECRET-not-a-url"}, nil, 2, "not an http(s) URL"},
		{"channel without token", []string{"RIPTIDE_SLACK_WEBHOOK_URL=" + secretURL}, []string{"--slack-channel", "#soc", "--slack-webhook-url-file", ""}, 2, "needs a bot token"},
		{"token without channel", []string{"RIPTIDE_SLACK_TOKEN=xoxb-TOPSECRET"}, nil, 2, "--slack-channel"},
		{"key without webhook", []string{"RIPTIDE_WEBHOOK_HMAC_KEY=TOPSECRET"}, nil, 2, "HMAC key without a webhook URL"},
		{"bad severity", []string{"RIPTIDE_PAGERDUTY_ROUTING_KEY=TOPSECRET"}, []string{"--pagerduty-min-severity", "high"}, 2, "unknown severity"},
		{"bad format", []string{"RIPTIDE_WEBHOOK_URL=" + secretURL}, []string{"--webhook-format", "cef"}, 2, "unknown format"},
		{"bad margins", []string{"RIPTIDE_WEBHOOK_URL=" + secretURL}, []string{"--critical-margin", "1", "--warning-margin", "2"}, 2, "margins"},
		{"empty file", nil, []string{"--pagerduty-routing-key-file", os.DevNull}, 2, "is empty"},
		{"broker down", []string{"RIPTIDE_WEBHOOK_URL=" + secretURL}, nil, 1, "no broker answers"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, stderr, code := runWith(t, append(append([]string{}, base...), c.env...), append([]string{"notify"}, c.args...)...)
			if code != c.code || !strings.Contains(stderr, c.msg) {
				t.Errorf("exit %d, want %d with %q; stderr: %s", code, c.code, c.msg, stderr)
			}
			if strings.Contains(stderr, "TOPSECRET") {
				t.Errorf("a secret in the error: %s", stderr)
			}
		})
	}
	out, _, code := runWith(t, append(append([]string{}, base...), "RIPTIDE_SLACK_WEBHOOK_URL="+secretURL, "RIPTIDE_WEBHOOK_HMAC_KEY=TOPSECRET"), "notify", "--help")
	if code != 0 || strings.Contains(out, "TOPSECRET") {
		t.Errorf("--help (exit %d) shows a secret:\n%s", code, out)
	}
}
