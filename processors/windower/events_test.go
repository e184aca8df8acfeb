package windower

import (
	"net/netip"
	"testing"
	"time"

	"github.com/lovoo/goka/tester"

	"github.com/riptide-nids/riptide/codecs"
	"github.com/riptide-nids/riptide/window"
)

func (f *fixture) event(key string, d time.Duration, kind, role, user string, count int) {
	f.t.Helper()
	b, err := codecs.AppendSecEvent(nil, &codecs.SecEvent{Time: time.Unix(0, at(d)).UTC(), Kind: kind, Role: role, User: user, Count: count,
		Peer: netip.MustParseAddr("10.0.0.9")})
	if err != nil {
		f.t.Fatal(err)
	}
	f.tt.Consume(f.top.Events.Name, key, b, tester.WithTime(time.Unix(0, at(d))))
}

// TestSecurityEvents feeds security events from riptide syslog's events
// topic: they become the event features of the host's window, next to its
// packet features, and advance stream time like packets.
func TestSecurityEvents(t *testing.T) {
	f := newFixture(t)
	const attacker, server = "183.62.140.253", "10.0.0.9"
	f.send(attacker, tcp(1*time.Second, attacker, server))
	f.event(attacker, 2*time.Second, "failed_login", codecs.RoleSource, "root", 5)
	f.event(attacker, 3*time.Second, "invalid_user", codecs.RoleSource, "oracle", 1)
	f.event(attacker, 4*time.Second, "auth_failure", codecs.RoleSource, "root", 1)
	f.event(attacker, 4*time.Second, "break_in", codecs.RoleSource, "", 1)
	f.event(server, 2*time.Second, "failed_login", codecs.RoleTarget, "root", 5)
	f.event(server, 5*time.Second, "accepted_login", codecs.RoleTarget, "fztu", 1)
	f.event(attacker, 12*time.Second, "accepted_login", codecs.RoleSource, "fztu", 1) // stream time 12 s closes [0, 10)
	f.visit()                                                                         // and the server's, on the closing visit
	vs, _ := f.drain()
	got := map[string]*window.Vector{}
	for _, v := range vs {
		got[v.Host] = v
	}
	a, s := got[attacker], got[server]
	if a == nil || s == nil {
		t.Fatalf("vectors %q, want both hosts' first windows", ids(vs))
	}
	check := func(who string, v *window.Vector, want map[int]float64) {
		t.Helper()
		for i := window.FLoginFailOut; i <= window.FUsersTriedOut; i++ {
			if v.Values[i] != want[i] {
				t.Errorf("%s: %s = %v, want %v", who, window.Schema[i].Name, v.Values[i], want[i])
			}
		}
	}
	check("attacker", a, map[int]float64{window.FLoginFailOut: 6, window.FInvalidUserOut: 1, window.FBreakInOut: 1, window.FUsersTriedOut: 2})
	check("server", s, map[int]float64{window.FLoginFailIn: 5, window.FLoginOKIn: 1})
	if a.Values[window.FPktsOut] != 1 {
		t.Errorf("attacker's packet features lost: pkts_out %v", a.Values[window.FPktsOut])
	}
	if st := f.state(attacker); st == nil || st.LastEventOffset < 0 {
		t.Errorf("LastEventOffset not recorded: %+v", st)
	}
	if n := f.p.Stats().Events; n != 7 {
		t.Errorf("events %d, want 7", n)
	}
}

func TestSecurityEventDeadLetters(t *testing.T) {
	f := newFixture(t)
	f.tt.Consume(f.top.Events.Name, "not-an-address", []byte(`{}`))
	f.tt.Consume(f.top.Events.Name, "10.0.0.1", []byte(`garbage`))
	f.event("10.0.0.1", time.Second, "telepathy", codecs.RoleSource, "", 1)
	n := 0
	for {
		_, _, ok := f.dead.Next()
		if !ok {
			break
		}
		n++
	}
	if n != 3 {
		t.Errorf("%d dead letters, want 3", n)
	}
}

func TestHostStateCodecEventOffset(t *testing.T) {
	hs := &HostState{State: window.NewState(), LastEventOffset: 41}
	b, err := StateCodec{}.Encode(hs)
	if err != nil {
		t.Fatal(err)
	}
	v, err := StateCodec{}.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if got := v.(*HostState).LastEventOffset; got != 41 {
		t.Errorf("LastEventOffset %d, want 41", got)
	}
	// A record of an earlier version ends after Recent: no event applied.
	old := b[:len(b)-1]
	v, err = StateCodec{}.Decode(old)
	if err != nil {
		t.Fatal(err)
	}
	if got := v.(*HostState).LastEventOffset; got != -1 {
		t.Errorf("LastEventOffset of an old record %d, want -1", got)
	}
}
