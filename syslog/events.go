package syslog

import (
	"net/netip"
	"strconv"
	"strings"
)

// Kind is the kind of a security event.
type Kind uint8

// Kinds of security events, with the messages they come from.
const (
	// KindFailedLogin: sshd "Failed <method> for [invalid user] USER from ADDR".
	KindFailedLogin Kind = iota + 1
	// KindAcceptedLogin: sshd "Accepted <method> for USER from ADDR".
	KindAcceptedLogin
	// KindInvalidUser: sshd "Invalid user USER from ADDR".
	KindInvalidUser
	// KindBreakIn: sshd "... [ADDR] failed - POSSIBLE BREAK-IN ATTEMPT!" (the
	// client's address does not map back to its name, or the reverse).
	KindBreakIn
	// KindAuthFailure: PAM "authentication failure; ... rhost=ADDR user=USER"
	// (from any service except sudo).
	KindAuthFailure
	// KindSudoFailure: sudo's failed authentications ("incorrect password
	// attempts", "NOT in sudoers", PAM failures of sudo); local, no remote
	// address.
	KindSudoFailure
	numKinds
)

var kindNames = [numKinds]string{"", "failed_login", "accepted_login", "invalid_user", "break_in", "auth_failure", "sudo_failure"}

// String returns the kind's stable name (e.g. "failed_login").
func (k Kind) String() string {
	if k < numKinds {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// ParseKind is the inverse of Kind.String.
func ParseKind(s string) (Kind, bool) {
	for k := KindFailedLogin; k < numKinds; k++ {
		if kindNames[k] == s {
			return k, true
		}
	}
	return 0, false
}

// Event is a security event found in a message's text.
type Event struct {
	Kind Kind
	// User is the account name tried ("" when the message has none).
	User string
	// Remote is the address the attempt came from; invalid when the message
	// names none or names a host by name only.
	Remote netip.Addr
	// Count is how many attempts the message stands for (sshd's "message
	// repeated N times: [ ... ]"); at least 1.
	Count int
}

// Extract returns the security event in msg (app is the APP-NAME or TAG,
// text the MSG), or ok false when it holds none.
func Extract(app, text string) (ev Event, ok bool) {
	ev.Count = 1
	if rest, found := strings.CutPrefix(text, "message repeated "); found {
		// "message repeated 5 times: [ Failed password for ...]"
		n, after, found := strings.Cut(rest, " times: [")
		c, err := strconv.Atoi(n)
		if !found || err != nil || c < 1 {
			return Event{}, false
		}
		ev.Count = c
		text = strings.TrimSuffix(strings.TrimSpace(after), "]")
	}
	sudo := strings.HasPrefix(app, "sudo")
	switch {
	case sudo && (strings.Contains(text, "incorrect password attempt") || strings.Contains(text, "NOT in sudoers") || strings.Contains(text, "authentication failure")):
		ev.Kind = KindSudoFailure
		ev.User = sudoUser(text)
	case strings.HasPrefix(text, "Failed "):
		ev.Kind = KindFailedLogin
		ev.User, ev.Remote, ok = forUserFrom(text)
		if !ok {
			return Event{}, false
		}
	case strings.HasPrefix(text, "Accepted "):
		ev.Kind = KindAcceptedLogin
		ev.User, ev.Remote, ok = forUserFrom(text)
		if !ok {
			return Event{}, false
		}
	case strings.HasPrefix(text, "Invalid user "):
		ev.Kind = KindInvalidUser
		rest := text[len("Invalid user "):]
		i := strings.LastIndex(rest, " from ")
		if i < 0 {
			return Event{}, false
		}
		ev.User = rest[:i]
		ev.Remote = addr(firstField(rest[i+len(" from "):]))
	case strings.Contains(text, "POSSIBLE BREAK-IN ATTEMPT"):
		ev.Kind = KindBreakIn
		ev.Remote = breakInAddr(text)
	case strings.Contains(text, "authentication failure;"):
		ev.Kind = KindAuthFailure
		ev.Remote = addr(pamField(text, "rhost"))
		ev.User = pamField(text, "user")
	default:
		return Event{}, false
	}
	return ev, true
}

// forUserFrom parses "<verb> <method> for [invalid user ]USER from ADDR ...".
func forUserFrom(text string) (user string, remote netip.Addr, ok bool) {
	_, rest, found := strings.Cut(text, " for ")
	if !found {
		return "", remote, false
	}
	rest = strings.TrimPrefix(rest, "invalid user ")
	i := strings.LastIndex(rest, " from ")
	if i < 0 {
		return "", remote, false
	}
	return rest[:i], addr(firstField(rest[i+len(" from "):])), true
}

// breakInAddr finds the address in sshd's two break-in warnings:
// "reverse mapping checking getaddrinfo for NAME [ADDR] failed - ..." and
// "Address ADDR maps to NAME, but this does not map back to the address - ...".
func breakInAddr(text string) netip.Addr {
	if i := strings.IndexByte(text, '['); i >= 0 {
		if j := strings.IndexByte(text[i:], ']'); j > 0 {
			return addr(text[i+1 : i+j])
		}
	}
	if rest, ok := strings.CutPrefix(text, "Address "); ok {
		return addr(firstField(rest))
	}
	return netip.Addr{}
}

// pamField returns the value of "key=" in a PAM message ("" when absent or
// empty). Keys are matched at word starts so that "ruser" is not "user".
func pamField(text, key string) string {
	for i := 0; ; {
		j := strings.Index(text[i:], key+"=")
		if j < 0 {
			return ""
		}
		j += i
		if j == 0 || text[j-1] == ' ' || text[j-1] == ';' {
			return firstField(text[j+len(key)+1:])
		}
		i = j + 1
	}
}

// sudoUser finds the user of a sudo failure: "USER : 3 incorrect password
// attempts ; ...", "USER : user NOT in sudoers ; ..." or PAM's "user=USER"
// (else logname=).
func sudoUser(text string) string {
	if u := pamField(text, "user"); u != "" {
		return u
	}
	if u := pamField(text, "logname"); u != "" {
		return u
	}
	if u, _, ok := strings.Cut(text, " : "); ok && !strings.ContainsAny(u, " ;=") {
		return u
	}
	return ""
}

func firstField(s string) string {
	s = strings.TrimLeft(s, " ")
	if i := strings.IndexAny(s, " ;,"); i >= 0 {
		return s[:i]
	}
	return s
}

// addr parses an address, returning the invalid Addr for host names and
// garbage. IPv4-mapped IPv6 addresses are unmapped.
func addr(s string) netip.Addr {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap()
}
