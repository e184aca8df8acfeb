package loadtest

import (
	"encoding/csv"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"time"

	"github.com/riptide-nids/riptide/packet"
)

// Roles of a host in an attack, as in the shared benchmark's labels.
const (
	// RoleAttacker is the host that runs the attack; a detector must flag it.
	RoleAttacker = "attacker"
	// RoleVictim is the attacked host; a detector must flag it.
	RoleVictim = "victim"
	// RoleParticipant is any other host in the attack's packets (spoofed
	// flood sources); its windows are neutral in scoring.
	RoleParticipant = "participant"
)

// Label is the ground truth for one host in one attack, with the semantics of
// /work/shared/datasets/bench/dev-mixed.labels.csv: every address that
// appears in the attack's packets, with the inclusive span from the attack's
// first to its last packet (the same span for every host of the attack).
type Label struct {
	// Host is the address.
	Host netip.Addr
	// Start and End are the times of the attack's first and last packets.
	Start, End time.Time
	// Attack is the attack's kind (string(AttackKind)), e.g. "syn-portscan".
	Attack string
	// Role is RoleAttacker, RoleVictim or RoleParticipant.
	Role string
}

// Labels returns the ground truth of the generator's attacks: per attack, in
// the order of their first packets, the attacker, the victim, then the
// participants in address order. An attack with no packet inside [Start,
// Start+Duration) has no labels. Labels is deterministic and independent of
// how far Next has got: it replays the attacks alone (they draw from their
// own random streams, so their packets are exactly those Next yields).
func (g *Generator) Labels() []Label {
	if g.labels == nil {
		g.labels = attackLabels(g.cfg)
	}
	return slices.Clone(g.labels)
}

func attackLabels(cfg Config) []Label {
	sim := newGenerator(cfg, false)
	type span struct {
		first, last int64
		seen        bool
		hosts       map[netip.Addr]struct{}
	}
	spans := make([]span, len(cfg.Attacks))
	var s packet.Summary
	for sim.Next(&s) {
		sp := &spans[sim.LastAttack()]
		if !sp.seen {
			sp.first, sp.seen, sp.hosts = s.Time, true, map[netip.Addr]struct{}{}
		}
		sp.last = s.Time
		sp.hosts[s.Src] = struct{}{}
		sp.hosts[s.Dst] = struct{}{}
	}
	order := make([]int, 0, len(spans))
	for i := range spans {
		if spans[i].seen {
			order = append(order, i)
		}
	}
	slices.SortStableFunc(order, func(i, j int) int {
		return int(min(max(spans[i].first-spans[j].first, -1), 1))
	})
	labels := []Label{}
	for _, i := range order {
		sp, at := &spans[i], cfg.Attacks[i]
		add := func(h netip.Addr, role string) {
			labels = append(labels, Label{Host: h, Start: time.Unix(0, sp.first).UTC(),
				End: time.Unix(0, sp.last).UTC(), Attack: string(at.Kind), Role: role})
		}
		if _, ok := sp.hosts[at.Attacker]; ok {
			add(at.Attacker, RoleAttacker)
		}
		if _, ok := sp.hosts[at.Victim]; ok {
			add(at.Victim, RoleVictim)
		}
		others := make([]netip.Addr, 0, len(sp.hosts))
		for h := range sp.hosts {
			if h != at.Attacker && h != at.Victim {
				others = append(others, h)
			}
		}
		slices.SortFunc(others, netip.Addr.Compare)
		for _, h := range others {
			add(h, RoleParticipant)
		}
	}
	return labels
}

// LabelTimeFormat is the time layout of the labels CSV: UTC with
// microseconds, as in the shared benchmark.
const LabelTimeFormat = "2006-01-02T15:04:05.000000Z"

// WriteLabelsCSV writes labels in the format of the shared benchmark's
// labels file: the header "host,start,end,attack,role", one line per label,
// CRLF line ends, times in LabelTimeFormat.
func WriteLabelsCSV(w io.Writer, labels []Label) error {
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	if err := cw.Write([]string{"host", "start", "end", "attack", "role"}); err != nil {
		return fmt.Errorf("loadtest: write labels: %w", err)
	}
	for _, l := range labels {
		rec := []string{l.Host.String(), l.Start.UTC().Format(LabelTimeFormat),
			l.End.UTC().Format(LabelTimeFormat), l.Attack, l.Role}
		if err := cw.Write(rec); err != nil {
			return fmt.Errorf("loadtest: write labels: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("loadtest: write labels: %w", err)
	}
	return nil
}
