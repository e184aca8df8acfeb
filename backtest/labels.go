package backtest

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"
	"time"
)

// Roles of labelled hosts.
const (
	RoleAttacker    = "attacker"
	RoleVictim      = "victim"
	RoleParticipant = "participant"
)

// Label says that Host took part in Attack from Start to End (inclusive,
// the exact times of the attack's first and last packets).
type Label struct {
	Host       string
	Start, End time.Time
	Attack     string
	Role       string
}

// Principal reports whether the host is one a detector must flag.
func (l *Label) Principal() bool { return l.Role != RoleParticipant }

// ReadLabelsFile reads a labels CSV (host,start,end,attack,role).
func ReadLabelsFile(path string) ([]Label, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("backtest: labels: %w", err)
	}
	defer func() { _ = f.Close() }() // read only
	ls, err := ReadLabels(f)
	if err != nil {
		return nil, fmt.Errorf("backtest: labels %s: %w", path, err)
	}
	return ls, nil
}

// ReadLabels reads labels in the format of the shared benchmark: a header
// naming host, start, end, attack and optionally role (default attacker), in
// any order, other columns ignored; times in RFC 3339. A row without host or
// attack, with a bad time, an end before its start or an unknown role is an
// error naming the row's line in the file.
func ReadLabels(r io.Reader) ([]Label, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("read header: %w", err)
	}
	col := map[string]int{}
	for i, h := range head {
		// Tolerate a byte order mark (spreadsheets write one) and blanks
		// around the names.
		if i == 0 {
			h = strings.TrimPrefix(h, "\ufeff")
		}
		col[strings.TrimSpace(h)] = i
	}
	for _, need := range []string{"host", "start", "end", "attack"} {
		if _, ok := col[need]; !ok {
			return nil, fmt.Errorf("header has no %q column (want host,start,end,attack[,role])", need)
		}
	}
	var out []Label
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err // a csv.ParseError names its line
		}
		// The line the record starts on: blank lines and quoted line
		// breaks make it differ from the record count.
		line, _ := cr.FieldPos(0)
		get := func(name string) string {
			if i, ok := col[name]; ok && i < len(rec) {
				return rec[i]
			}
			return ""
		}
		l := Label{Host: get("host"), Attack: get("attack"), Role: get("role")}
		switch l.Role {
		case "":
			l.Role = RoleAttacker
		case RoleAttacker, RoleVictim, RoleParticipant:
		default:
			return nil, fmt.Errorf("line %d: role %q: want %s, %s or %s", line, l.Role, RoleAttacker, RoleVictim, RoleParticipant)
		}
		if l.Start, err = time.Parse(time.RFC3339Nano, get("start")); err != nil {
			return nil, fmt.Errorf("line %d: start: %w", line, err)
		}
		if l.End, err = time.Parse(time.RFC3339Nano, get("end")); err != nil {
			return nil, fmt.Errorf("line %d: end: %w", line, err)
		}
		if l.End.Before(l.Start) {
			return nil, fmt.Errorf("line %d: end %s before start %s", line, get("end"), get("start"))
		}
		if l.Host == "" {
			return nil, fmt.Errorf("line %d: no host", line)
		}
		if l.Attack == "" {
			return nil, fmt.Errorf("line %d: no attack", line)
		}
		out = append(out, l)
	}
	return out, nil
}

// Flag is one flagged (host, window).
type Flag struct {
	Host       string
	Start, End time.Time
}

// AttackResult is the outcome for one labelled attack.
type AttackResult struct {
	Detected bool `json:"detected"`
	// TimeToDetect is from the attack's start (the earliest start of its
	// labels) to the end of the first flagged window of an attacker or
	// victim, in seconds.
	TimeToDetect float64 `json:"time_to_detect_s,omitempty"`
	// FlaggedWindows counts the distinct flagged windows of the attack's
	// attackers and victims that overlap it.
	FlaggedWindows int `json:"flagged_windows"`
}

// Score is the evaluation of flagged windows against labels, with the
// semantics of the shared benchmark (and its scorer): a flagged (host,
// window) overlapping a principal's attack span is a true positive; one
// overlapping only participants' spans is neutral; any other is a false
// positive. Recall is over the positive (host, window) pairs derived from the
// labels and the epoch-aligned window size.
type Score struct {
	Precision       float64                 `json:"precision"`
	Recall          float64                 `json:"recall"`
	F1              float64                 `json:"f1"`
	TruePositives   int                     `json:"true_positive_windows"`
	FalsePositives  int                     `json:"false_positive_windows"`
	Neutral         int                     `json:"neutral_windows"`
	PositiveWindows int                     `json:"positive_windows"`
	FalseNegatives  int                     `json:"false_negative_windows"`
	TrueNegatives   int                     `json:"true_negative_windows,omitempty"`
	Attacks         map[string]AttackResult `json:"attacks"`
	AttacksDetected int                     `json:"attacks_detected"`
	MedianTTD       float64                 `json:"median_time_to_detect_s"`
	FPPerHour       float64                 `json:"false_positives_per_hour,omitempty"`
}

// Evaluate scores flags against labels for windows of size win. negatives,
// if positive, is the number of scored windows that were neither positive nor
// neutral (for true negatives and the false-positive rate); hours is the
// scored span in hours (for false positives per hour), or 0.
func Evaluate(labels []Label, flags []Flag, win time.Duration, negatives int, hours float64) Score {
	byHost := map[string][]*Label{}
	for i := range labels {
		byHost[labels[i].Host] = append(byHost[labels[i].Host], &labels[i])
	}
	type key struct {
		host  string
		start int64
	}
	s := Score{Attacks: map[string]AttackResult{}}
	for _, l := range labels {
		if _, ok := s.Attacks[l.Attack]; !ok {
			s.Attacks[l.Attack] = AttackResult{}
		}
	}
	// An attack starts with the earliest start of its labels.
	attackStart := map[string]time.Time{}
	for _, l := range labels {
		if st, ok := attackStart[l.Attack]; !ok || l.Start.Before(st) {
			attackStart[l.Attack] = l.Start
		}
	}
	firstEnd := map[string]time.Time{}
	flagged := map[key]bool{}
	var counted []string // attacks this flag was counted for
	for _, f := range flags {
		k := key{f.Host, f.Start.UnixMicro()}
		if flagged[k] {
			continue
		}
		flagged[k] = true
		var principal, over bool
		counted = counted[:0]
		for _, l := range byHost[f.Host] {
			if !f.Start.After(l.End) && f.End.After(l.Start) {
				over = true
				if l.Principal() {
					principal = true
					if e, ok := firstEnd[l.Attack]; !ok || f.End.Before(e) {
						firstEnd[l.Attack] = f.End
					}
					if !slices.Contains(counted, l.Attack) {
						counted = append(counted, l.Attack)
						a := s.Attacks[l.Attack]
						a.FlaggedWindows++
						s.Attacks[l.Attack] = a
					}
				}
			}
		}
		switch {
		case principal:
			s.TruePositives++
		case over:
			s.Neutral++
		default:
			s.FalsePositives++
		}
	}
	w := win.Microseconds()
	pos := map[key]bool{}
	for _, l := range labels {
		if !l.Principal() {
			continue
		}
		for k := l.Start.UnixMicro() / w; k <= l.End.UnixMicro()/w; k++ {
			pos[key{l.Host, k * w}] = true
		}
	}
	s.PositiveWindows = len(pos)
	hit := 0
	for k := range pos {
		if flagged[k] {
			hit++
		}
	}
	s.FalseNegatives = s.PositiveWindows - hit
	if s.TruePositives+s.FalsePositives > 0 {
		s.Precision = float64(s.TruePositives) / float64(s.TruePositives+s.FalsePositives)
	}
	if s.PositiveWindows > 0 {
		s.Recall = float64(hit) / float64(s.PositiveWindows)
	}
	if s.Precision+s.Recall > 0 {
		s.F1 = 2 * s.Precision * s.Recall / (s.Precision + s.Recall)
	}
	if negatives > 0 {
		s.TrueNegatives = negatives - s.FalsePositives
	}
	if hours > 0 {
		s.FPPerHour = float64(s.FalsePositives) / hours
	}
	var ttds []float64
	for name, e := range firstEnd {
		a := s.Attacks[name]
		a.Detected = true
		a.TimeToDetect = max(0, e.Sub(attackStart[name]).Seconds())
		s.Attacks[name] = a
		s.AttacksDetected++
		ttds = append(ttds, a.TimeToDetect)
	}
	if len(ttds) > 0 {
		sort.Float64s(ttds)
		m := len(ttds) / 2
		s.MedianTTD = ttds[m]
		if len(ttds)%2 == 0 {
			s.MedianTTD = (ttds[m-1] + ttds[m]) / 2
		}
	}
	return s
}
