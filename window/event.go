package window

import (
	"hash/fnv"

	"github.com/riptide-nids/riptide/window/internal/sketch"
)

// EventKind is the kind of a security event as the window features count
// it.
type EventKind uint8

// Event kinds.
const (
	// EventLoginFailed: a failed authentication (sshd Failed ..., PAM
	// authentication failure, sudo failure).
	EventLoginFailed EventKind = iota + 1
	// EventLoginAccepted: an accepted login.
	EventLoginAccepted
	// EventInvalidUser: an attempt for an account that does not exist.
	EventInvalidUser
	// EventBreakIn: sshd's POSSIBLE BREAK-IN ATTEMPT warning about a client
	// address.
	EventBreakIn
)

// Event is a security event from a log, about one host: the remote side of
// the attempt (Out) or the server that logged it (not Out).
type Event struct {
	// Time is the message's time (ns since the epoch).
	Time int64
	Kind EventKind
	// Out is true when the host is the source of the attempt, false when
	// it is the target.
	Out bool
	// User is the account tried ("" when unknown).
	User string
	// Count is the number of attempts the event stands for (0 counts as 1).
	Count uint64
}

// AddEvent adds e to the host's window holding e.Time, with the same rules
// for late events and stream time as Add, and reports whether it was added.
// Events are counted in the last seven features of Schema.
func (st *State) AddEvent(e *Event, streamTime int64, cfg Config) bool {
	w := st.windowAt(e.Time, streamTime, cfg)
	if w == nil {
		return false
	}
	w.addEvent(e)
	return true
}

func (a *acc) addEvent(e *Event) {
	n := max(e.Count, 1)
	c := &a.c
	tried := false
	switch {
	case e.Kind == EventLoginFailed && e.Out:
		c[cLoginFailOut] += n
		tried = true
	case e.Kind == EventLoginFailed:
		c[cLoginFailIn] += n
	case e.Kind == EventLoginAccepted && e.Out:
		c[cLoginOKOut] += n
	case e.Kind == EventLoginAccepted:
		c[cLoginOKIn] += n
	case e.Kind == EventInvalidUser && e.Out:
		c[cInvalidUserOut] += n
		tried = true
	case e.Kind == EventBreakIn && e.Out:
		c[cBreakInOut] += n
	}
	if tried && e.User != "" {
		a.users.Add(hashUser(e.User))
	}
}

const seedUser = 0x2545f4914f6cdd1d

// hashUser hashes a user name for the distinct-users sketch (stable across
// processes: the sketch is part of the persisted state).
func hashUser(u string) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(u))
	return sketch.Mix64(h.Sum64() ^ seedUser)
}
