package syslog

import (
	"errors"
	"fmt"
	"strings"
	"time"

	gosyslog "github.com/leodido/go-syslog/v4"
	"github.com/leodido/go-syslog/v4/auto"
	"github.com/leodido/go-syslog/v4/rfc3164"
	"github.com/leodido/go-syslog/v4/rfc5424"
)

// ErrUnparsable is returned by Parser.Parse for input that is neither an
// RFC 5424 nor an RFC 3164 message.
var ErrUnparsable = errors.New("syslog: not an RFC 5424 or RFC 3164 message")

// Format is the syslog format of a parsed message.
type Format uint8

// Formats.
const (
	RFC3164 Format = iota + 1
	RFC5424
)

func (f Format) String() string {
	switch f {
	case RFC3164:
		return "rfc3164"
	case RFC5424:
		return "rfc5424"
	}
	return "unknown"
}

// Message is a parsed syslog message. Strings are copies: they stay valid
// after the input buffer is reused.
type Message struct {
	Format Format
	// Time is the message's timestamp; zero when the message has none (an
	// RFC 5424 NILVALUE).
	Time time.Time
	// Host is the HOSTNAME field ("" when absent).
	Host string
	// App is the APP-NAME (RFC 5424) or TAG (RFC 3164), e.g. "sshd" or
	// "sshd(pam_unix)".
	App string
	// Text is the MSG part.
	Text string
}

// YearAuto is the ParserConfig.Year of the default RFC 3164 year rule.
const YearAuto = 0

// ParserConfig configures a Parser.
type ParserConfig struct {
	// Year is the year of RFC 3164 timestamps, which carry none. YearAuto
	// (0) takes the year that puts the timestamp nearest to the present
	// without being more than a month ahead of it: the current year, or
	// the previous one for a December message read in January (what live
	// relays need). Replays of old files should set the year of the file.
	Year int
	// Location is the time zone of RFC 3164 timestamps (default UTC).
	Location *time.Location
	// Now returns the present for YearAuto (default time.Now).
	Now func() time.Time
}

// Parser parses RFC 5424 and RFC 3164 messages, detecting the format per
// message. A Parser is not safe for concurrent use: give each goroutine its
// own.
type Parser struct {
	m   gosyslog.Machine
	cfg ParserConfig
}

// NewParser returns a parser. RFC 3164 messages may lack the <PRI> part (as
// in files written by syslog daemons) and may pad the day with a zero.
func NewParser(cfg ParserConfig) *Parser {
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	var year rfc3164.YearOperator = rfc3164.Year{YYYY: cfg.Year}
	if cfg.Year == YearAuto {
		year = nowYear{cfg.Now}
	}
	m := auto.NewMachine(auto.WithRFC3164Options(
		rfc3164.WithOptionalPriority(),
		rfc3164.WithLenientDay(),
		rfc3164.WithYear(year),
		rfc3164.WithLocaleTimezone(cfg.Location),
	))
	return &Parser{m: m, cfg: cfg}
}

type nowYear struct{ now func() time.Time }

func (y nowYear) Apply() int { return y.now().Year() }

// Parse parses one message (without framing: no trailing newline needed).
// Errors wrap ErrUnparsable.
func (p *Parser) Parse(b []byte) (Message, error) {
	msg, err := p.parse(b)
	if err != nil {
		return Message{}, err
	}
	return msg, nil
}

func (p *Parser) parse(b []byte) (msg Message, err error) {
	defer func() {
		// The generated state machines are well fuzzed upstream; a panic on
		// hostile input must still not stop a listener.
		if r := recover(); r != nil {
			msg, err = Message{}, fmt.Errorf("%w: parser panic: %v", ErrUnparsable, r)
		}
	}()
	m, perr := p.m.Parse(b)
	if m == nil || perr != nil {
		if perr == nil {
			perr = errors.New("no message")
		}
		return Message{}, fmt.Errorf("%w: %s", ErrUnparsable, shorten(perr.Error()))
	}
	switch x := m.(type) {
	case *rfc3164.SyslogMessage:
		msg = Message{Format: RFC3164, Host: str(x.Hostname), App: str(x.Appname), Text: str(x.Message)}
		if x.Timestamp != nil {
			msg.Time = p.fixYear(*x.Timestamp)
		}
	case *rfc5424.SyslogMessage:
		msg = Message{Format: RFC5424, Host: str(x.Hostname), App: str(x.Appname), Text: str(x.Message)}
		if x.Timestamp != nil {
			msg.Time = *x.Timestamp
		}
	default:
		return Message{}, fmt.Errorf("%w: unexpected message type %T", ErrUnparsable, m)
	}
	return msg, nil
}

// fixYear applies the YearAuto rule: a timestamp more than a month ahead of
// now belongs to the previous year.
func (p *Parser) fixYear(t time.Time) time.Time {
	if p.cfg.Year != YearAuto {
		return t
	}
	if now := p.cfg.Now(); t.After(now.AddDate(0, 1, 0)) {
		return t.AddDate(-1, 0, 0)
	}
	return t
}

func str(s *string) string {
	if s == nil {
		return ""
	}
	return strings.Clone(*s)
}

// shorten keeps parser errors readable in headers (they can quote input).
func shorten(s string) string {
	const limit = 200
	if len(s) > limit {
		return s[:limit] + "..."
	}
	return s
}
