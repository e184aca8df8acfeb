package backtest_test

import (
	"bufio"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/riptide-nids/riptide/backtest"
)

func mustTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestReadLabels(t *testing.T) {
	const (
		s1 = "2026-03-02T09:16:10.564604Z"
		e1 = "2026-03-02T09:16:23.386475Z"
	)
	ssh := func(host, role string) backtest.Label {
		return backtest.Label{Host: host, Start: mustTime(s1), End: mustTime(e1), Attack: "ssh-bruteforce", Role: role}
	}
	tests := []struct {
		name string
		in   string
		want []backtest.Label
	}{
		{
			name: "benchmark format",
			in: "host,start,end,attack,role\n" +
				"10.102.1.159," + s1 + "," + e1 + ",ssh-bruteforce,victim\n" +
				"147.32.80.40," + s1 + "," + e1 + ",ssh-bruteforce,attacker\n" +
				"147.32.80.37," + s1 + "," + e1 + ",ssh-bruteforce,participant\n",
			want: []backtest.Label{ssh("10.102.1.159", "victim"), ssh("147.32.80.40", "attacker"), ssh("147.32.80.37", "participant")},
		},
		{
			name: "no role column",
			in:   "host,start,end,attack\n147.32.80.40," + s1 + "," + e1 + ",ssh-bruteforce\n",
			want: []backtest.Label{ssh("147.32.80.40", "attacker")},
		},
		{
			name: "empty role",
			in:   "host,start,end,attack,role\n147.32.80.40," + s1 + "," + e1 + ",ssh-bruteforce,\n",
			want: []backtest.Label{ssh("147.32.80.40", "attacker")},
		},
		{
			name: "short row without role",
			in:   "host,start,end,attack,role\n147.32.80.40," + s1 + "," + e1 + ",ssh-bruteforce\n",
			want: []backtest.Label{ssh("147.32.80.40", "attacker")},
		},
		{
			name: "columns reordered, extra column",
			in:   "attack,role,note,end,host,start\nssh-bruteforce,victim,\"a, b\"," + e1 + ",10.102.1.159," + s1 + "\n",
			want: []backtest.Label{ssh("10.102.1.159", "victim")},
		},
		{
			name: "CRLF line ends",
			in:   "host,start,end,attack,role\r\n147.32.80.40," + s1 + "," + e1 + ",ssh-bruteforce,attacker\r\n",
			want: []backtest.Label{ssh("147.32.80.40", "attacker")},
		},
		{
			name: "byte order mark and blanks in the header",
			in:   "\ufeffhost, start ,end,attack , role\n147.32.80.40," + s1 + "," + e1 + ",ssh-bruteforce,attacker\n",
			want: []backtest.Label{ssh("147.32.80.40", "attacker")},
		},
		{
			name: "blank lines",
			in:   "host,start,end,attack,role\n\n147.32.80.40," + s1 + "," + e1 + ",ssh-bruteforce,attacker\n\n",
			want: []backtest.Label{ssh("147.32.80.40", "attacker")},
		},
		{
			name: "other offsets and precisions",
			in:   "host,start,end,attack,role\n147.32.80.40,2026-03-02T10:16:10.564604+01:00,2026-03-02T09:16:23.386475000Z,ssh-bruteforce,attacker\n",
			want: []backtest.Label{ssh("147.32.80.40", "attacker")},
		},
		{
			name: "header only",
			in:   "host,start,end,attack,role\n",
			want: nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := backtest.ReadLabels(strings.NewReader(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d labels, want %d: %+v", len(got), len(tt.want), got)
			}
			for i := range got {
				g, w := got[i], tt.want[i]
				if g.Host != w.Host || g.Attack != w.Attack || g.Role != w.Role || !g.Start.Equal(w.Start) || !g.End.Equal(w.End) {
					t.Errorf("label %d = %+v, want %+v", i, g, w)
				}
				if g.Principal() != (w.Role != backtest.RoleParticipant) {
					t.Errorf("label %d: Principal() = %v for role %q", i, g.Principal(), g.Role)
				}
			}
		})
	}
}

func TestReadLabelsErrors(t *testing.T) {
	const (
		head = "host,start,end,attack,role\n"
		ok   = "10.0.0.1,2026-03-02T09:00:00Z,2026-03-02T09:00:10Z,scan,attacker\n"
	)
	tests := []struct {
		name string
		in   string
		want []string // substrings of the error
	}{
		{"empty input", "", []string{"header"}},
		{"no host column", "addr,start,end,attack\n", []string{`"host"`}},
		{"no start column", "host,begin,end,attack\n", []string{`"start"`}},
		{"no end column", "host,start,stop,attack\n", []string{`"end"`}},
		{"no attack column", "host,start,end,role\n", []string{`"attack"`}},
		{"case matters", "Host,Start,End,Attack\n", []string{`"host"`}},
		{"bad start", head + ok + "10.0.0.2,yesterday,2026-03-02T09:00:10Z,scan,victim\n", []string{"line 3", "start", "yesterday"}},
		{"bad end", head + "10.0.0.2,2026-03-02T09:00:00Z,2026-03-02 09:00:10,scan,victim\n", []string{"line 2", "end"}},
		{"no time zone", head + "10.0.0.2,2026-03-02T09:00:00,2026-03-02T09:00:10Z,scan,victim\n", []string{"line 2", "start"}},
		{"short row", head + "10.0.0.2,2026-03-02T09:00:00Z\n", []string{"line 2", "end"}},
		{"line after blank lines", head + ok + "\n\n" + "10.0.0.2,2026-03-02T09:00:00Z,bad,scan,victim\n", []string{"line 5", "end"}},
		{"line after a quoted line break", head + "10.0.0.1,2026-03-02T09:00:00Z,2026-03-02T09:00:10Z,\"two\nlines\",attacker\n" + "10.0.0.2,bad,2026-03-02T09:00:10Z,scan,victim\n", []string{"line 4", "start"}},
		{"unknown role", head + ok + "10.0.0.2,2026-03-02T09:00:00Z,2026-03-02T09:00:10Z,scan,participent\n", []string{"line 3", "participent"}}, //nolint:misspell // the misspelt role is what this case tests
		{"no host", head + ",2026-03-02T09:00:00Z,2026-03-02T09:00:10Z,scan,victim\n", []string{"line 2", "host"}},
		{"no attack", head + "10.0.0.2,2026-03-02T09:00:00Z,2026-03-02T09:00:10Z,,victim\n", []string{"line 2", "attack"}},
		{"end before start", head + "10.0.0.2,2026-03-02T09:00:10Z,2026-03-02T09:00:00Z,scan,victim\n", []string{"line 2", "before start"}},
		{"bad quoting", head + ok + "10.0.0.2,\"2026\"x,2026-03-02T09:00:10Z,scan,victim\n", []string{"line 3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ls, err := backtest.ReadLabels(strings.NewReader(tt.in))
			if err == nil {
				t.Fatalf("no error; labels %+v", ls)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestReadLabelsFile(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope.csv")
	if _, err := backtest.ReadLabelsFile(missing); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("missing file: error %v, want one naming %s", err, missing)
	}
	bad := filepath.Join(t.TempDir(), "bad.csv")
	if err := os.WriteFile(bad, []byte("host,start,end,attack\nh,x,y,z\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := backtest.ReadLabelsFile(bad); err == nil || !strings.Contains(err.Error(), bad) || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("bad file: error %v, want one naming %s and line 2", err, bad)
	}

	_, path := devMixed(t)
	ls, err := backtest.ReadLabelsFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// One label per non-blank line after the header.
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	lines := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) != "" {
			lines++
		}
	}
	if len(ls) != lines-1 {
		t.Errorf("%d labels from %d lines", len(ls), lines)
	}
	attacks := map[string]bool{}
	principals := 0
	for _, l := range ls {
		attacks[l.Attack] = true
		if l.Principal() {
			principals++
		}
		if l.End.Before(l.Start) {
			t.Errorf("label %+v ends before it starts", l)
		}
	}
	if len(attacks) != 7 { // README: seven attacks
		t.Errorf("%d attacks, want 7", len(attacks))
	}
	t.Logf("dev-mixed: %d labels, %d attackers and victims, %d attacks", len(ls), principals, len(attacks))
}

func TestEvaluate(t *testing.T) {
	const w = 10 * time.Second
	base := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	at := func(s float64) time.Time { return base.Add(time.Duration(s * float64(time.Second))) }
	label := func(host string, start, end float64, attack, role string) backtest.Label {
		return backtest.Label{Host: host, Start: at(start), End: at(end), Attack: attack, Role: role}
	}
	flag := func(host string, start float64) backtest.Flag {
		return backtest.Flag{Host: host, Start: at(start), End: at(start).Add(w)}
	}
	// "scan": attacker .1 and victim .2 from 12.5 s to 31.2 s (windows 10,
	// 20, 30 of each are positive: 6), participant .3 along.
	// "flood": victim .9 from 100 s to 105 s (window 100: 1 positive).
	// "beacon": attacker .5 from 200.25 s to 219.999 s (windows 200, 210).
	labels := []backtest.Label{
		label("10.0.0.1", 12.5, 31.2, "scan", backtest.RoleAttacker),
		label("10.0.0.2", 12.5, 31.2, "scan", backtest.RoleVictim),
		label("10.0.0.3", 12.5, 31.2, "scan", backtest.RoleParticipant),
		label("10.0.0.9", 100, 105, "flood", backtest.RoleVictim),
		label("10.0.0.5", 200.25, 219.999, "beacon", backtest.RoleAttacker),
	}
	type attack struct {
		detected bool
		ttd      float64
		flagged  int
	}
	tests := []struct {
		name                 string
		flags                []backtest.Flag
		tp, fp, neutral      int
		positives, hit       int
		attacks              map[string]attack
		median               float64
		negatives, wantTN    int
		hours, wantFPPerHour float64
	}{
		{
			name:      "nothing flagged",
			positives: 9,
			attacks:   map[string]attack{"scan": {}, "flood": {}, "beacon": {}},
		},
		{
			name:  "true positive",
			flags: []backtest.Flag{flag("10.0.0.1", 10)},
			tp:    1, positives: 9, hit: 1,
			attacks: map[string]attack{"scan": {true, 7.5, 1}, "flood": {}, "beacon": {}},
			median:  7.5,
		},
		{
			name:  "victim counts, first flagged window is the earliest ending, not the first listed",
			flags: []backtest.Flag{flag("10.0.0.2", 30), flag("10.0.0.1", 20), flag("10.0.0.2", 10)},
			tp:    3, positives: 9, hit: 3,
			attacks: map[string]attack{"scan": {true, 7.5, 3}, "flood": {}, "beacon": {}},
			median:  7.5,
		},
		{
			name:    "participant is neutral",
			flags:   []backtest.Flag{flag("10.0.0.3", 20)},
			neutral: 1, positives: 9,
			attacks: map[string]attack{"scan": {}, "flood": {}, "beacon": {}},
		},
		{
			name: "false positives: unlabelled host, attacker outside its attack, participant outside",
			flags: []backtest.Flag{
				flag("10.0.0.7", 10),  // never labelled
				flag("10.0.0.1", 40),  // after the scan ended at 31.2
				flag("10.0.0.1", 0),   // ends at 10 s, before the scan started
				flag("10.0.0.3", 300), // participant, long after
			},
			fp: 4, positives: 9,
			attacks:   map[string]attack{"scan": {}, "flood": {}, "beacon": {}},
			negatives: 100, wantTN: 96, hours: 2, wantFPPerHour: 2,
		},
		{
			name: "boundaries: a window ending at the start misses, one starting at the end hits",
			flags: []backtest.Flag{
				{Host: "10.0.0.9", Start: at(90), End: at(100)},      // ends as the flood starts
				{Host: "10.0.0.9", Start: at(105), End: at(115)},     // starts as it ends (inclusive)
				{Host: "10.0.0.5", Start: at(219.999), End: at(230)}, // starts at the beacon's last packet
			},
			tp: 2, fp: 1, positives: 9,
			attacks: map[string]attack{"scan": {}, "flood": {true, 15, 1}, "beacon": {true, 29.75, 1}},
			median:  (15 + 29.75) / 2,
		},
		{
			name: "duplicates count once",
			flags: []backtest.Flag{
				flag("10.0.0.1", 10), flag("10.0.0.1", 10),
				flag("10.0.0.7", 10), flag("10.0.0.7", 10),
				flag("10.0.0.3", 10), flag("10.0.0.3", 10),
			},
			tp: 1, fp: 1, neutral: 1, positives: 9, hit: 1,
			attacks: map[string]attack{"scan": {true, 7.5, 1}, "flood": {}, "beacon": {}},
			median:  7.5,
		},
		{
			name: "mix with median of three",
			flags: []backtest.Flag{
				flag("10.0.0.1", 20), flag("10.0.0.2", 30), flag("10.0.0.3", 20), // scan: 17.5 s
				flag("10.0.0.9", 100),                        // flood: 10 s
				flag("10.0.0.5", 210), flag("10.0.0.5", 200), // beacon: 9.75 s
				flag("10.0.0.7", 0), flag("10.0.0.8", 0),
			},
			tp: 5, fp: 2, neutral: 1, positives: 9, hit: 5,
			attacks: map[string]attack{"scan": {true, 17.5, 2}, "flood": {true, 10, 1}, "beacon": {true, 9.75, 2}},
			median:  10,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := backtest.Evaluate(labels, tt.flags, w, tt.negatives, tt.hours)
			if s.TruePositives != tt.tp || s.FalsePositives != tt.fp || s.Neutral != tt.neutral {
				t.Errorf("TP/FP/neutral = %d/%d/%d, want %d/%d/%d", s.TruePositives, s.FalsePositives, s.Neutral, tt.tp, tt.fp, tt.neutral)
			}
			if s.PositiveWindows != tt.positives || s.FalseNegatives != tt.positives-tt.hit {
				t.Errorf("positives %d, false negatives %d; want %d, %d", s.PositiveWindows, s.FalseNegatives, tt.positives, tt.positives-tt.hit)
			}
			var prec, rec, f1 float64
			if tt.tp+tt.fp > 0 {
				prec = float64(tt.tp) / float64(tt.tp+tt.fp)
			}
			rec = float64(tt.hit) / float64(tt.positives)
			if prec+rec > 0 {
				f1 = 2 * prec * rec / (prec + rec)
			}
			if !near(s.Precision, prec) || !near(s.Recall, rec) || !near(s.F1, f1) {
				t.Errorf("precision/recall/F1 = %.4f/%.4f/%.4f, want %.4f/%.4f/%.4f", s.Precision, s.Recall, s.F1, prec, rec, f1)
			}
			detected := 0
			for name, a := range s.Attacks {
				if a.Detected {
					detected++
				}
				w, ok := tt.attacks[name]
				if !ok || a.Detected != w.detected || !near(a.TimeToDetect, w.ttd) || a.FlaggedWindows != w.flagged {
					t.Errorf("attack %s: %+v, want %+v", name, a, w)
				}
			}
			if len(s.Attacks) != len(tt.attacks) {
				t.Errorf("%d attacks, want %d", len(s.Attacks), len(tt.attacks))
			}
			if s.AttacksDetected != detected {
				t.Errorf("AttacksDetected %d, %d detected", s.AttacksDetected, detected)
			}
			if !near(s.MedianTTD, tt.median) {
				t.Errorf("median time to detect %v, want %v", s.MedianTTD, tt.median)
			}
			if s.TrueNegatives != tt.wantTN || !near(s.FPPerHour, tt.wantFPPerHour) {
				t.Errorf("TN %d, FP/h %v; want %d, %v", s.TrueNegatives, s.FPPerHour, tt.wantTN, tt.wantFPPerHour)
			}
		})
	}
}

func TestEvaluateAttackStartIsEarliestLabel(t *testing.T) {
	// The victim joins the attack later than the attacker: the time to
	// detect runs from the attack's start, whichever host is flagged first.
	base := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	labels := []backtest.Label{
		{Host: "10.0.0.2", Start: base.Add(52 * time.Second), End: base.Add(70 * time.Second), Attack: "x", Role: backtest.RoleVictim},
		{Host: "10.0.0.1", Start: base.Add(12 * time.Second), End: base.Add(70 * time.Second), Attack: "x", Role: backtest.RoleAttacker},
	}
	flags := []backtest.Flag{{Host: "10.0.0.2", Start: base.Add(50 * time.Second), End: base.Add(60 * time.Second)}}
	s := backtest.Evaluate(labels, flags, 10*time.Second, 0, 0)
	if a := s.Attacks["x"]; !a.Detected || !near(a.TimeToDetect, 48) {
		t.Errorf("attack x: %+v, want detected after 48 s", a)
	}
}

func TestEvaluateFlagOverlappingTwoLabelsOfOneAttack(t *testing.T) {
	// A host labelled twice in one attack (say attacker and victim):
	// each flagged window counts once for the attack.
	base := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	labels := []backtest.Label{
		{Host: "10.0.0.1", Start: base.Add(5 * time.Second), End: base.Add(25 * time.Second), Attack: "x", Role: backtest.RoleAttacker},
		{Host: "10.0.0.1", Start: base.Add(5 * time.Second), End: base.Add(25 * time.Second), Attack: "x", Role: backtest.RoleVictim},
	}
	flags := []backtest.Flag{{Host: "10.0.0.1", Start: base.Add(10 * time.Second), End: base.Add(20 * time.Second)}}
	s := backtest.Evaluate(labels, flags, 10*time.Second, 0, 0)
	if a := s.Attacks["x"]; a.FlaggedWindows != 1 || s.TruePositives != 1 || s.PositiveWindows != 3 {
		t.Errorf("attack %+v, TP %d, positives %d; want 1 flagged window, 1 TP, 3 positives", a, s.TruePositives, s.PositiveWindows)
	}
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }
