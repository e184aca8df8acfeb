// Package relay is riptide's syslog producer: it receives syslog messages
// over UDP (RFC 5426), TCP (RFC 6587) and TLS (RFC 5425) and from log files
// that it follows across rotation, and produces each message as one record
// on the syslog topic (key: the reporting host, value: the raw message,
// timestamp: the message's time). Security events found in the messages
// (package syslog) go to the events topic, one record per event and host it
// concerns, keyed by that host's address, for the windower. Messages that do
// not parse, or are too long, go to the dead-letter topic with the raw bytes
// and the reason in the riptide-reason header; the listeners keep running.
//
// Records are produced with franz-go (idempotent, batched, compressed; see
// package kclient). Memory is bounded by the client's record buffer: when it
// is full, a Relay either blocks its inputs (back-pressure: TCP senders
// slow down, the kernel's UDP buffer fills) or drops the message, counting it.
package relay

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/riptide-nids/riptide/codecs"
	"github.com/riptide-nids/riptide/ops"
	"github.com/riptide-nids/riptide/processors"
	"github.com/riptide-nids/riptide/syslog"
	"github.com/riptide-nids/riptide/window"
)

// Overflow says what a Relay does when the producer's buffer is full.
type Overflow uint8

// Overflow modes.
const (
	// Block waits for room (back-pressure on the inputs).
	Block Overflow = iota
	// Drop drops the message and counts it (riptide_input_dropped_total,
	// reason buffer_full).
	Drop
)

// ParseOverflow parses "block" or "drop".
func ParseOverflow(s string) (Overflow, error) {
	switch s {
	case "block":
		return Block, nil
	case "drop":
		return Drop, nil
	}
	return 0, fmt.Errorf("relay: overflow %q: use block or drop", s)
}

// Config configures a Relay.
type Config struct {
	// Topic, Events and DeadLetter are the syslog, events and dead-letter
	// topics (from package topology). Events may be empty: no events.
	Topic, Events, DeadLetter string
	// Parser configures message parsing (RFC 3164 year and time zone).
	Parser syslog.ParserConfig
	// MaxSize is the longest message accepted (default
	// syslog.DefaultMaxSize); longer ones are dead-lettered, cut.
	MaxSize int
	// Overflow is Block (default) or Drop.
	Overflow Overflow
	// HostAddrs maps reporting host names to addresses, for the target
	// records of events from hosts that name themselves by name (HOSTNAME
	// "LabSZ"). Without an entry, a HOSTNAME that is an address is used,
	// else the sender's address; a file's messages without either have no
	// target records.
	HostAddrs map[string]netip.Addr
	// Metrics, if not nil, counts records produced and dead-lettered and,
	// with Input, messages received and dropped.
	Metrics *ops.Metrics
	// Log receives warnings (default: discard).
	Log *slog.Logger
}

// Stats counts what a Relay did.
type Stats struct {
	Received     int64 `json:"received"`
	Produced     int64 `json:"produced"`
	Events       int64 `json:"events"`
	DeadLettered int64 `json:"dead_lettered"`
	Dropped      int64 `json:"dropped"`
	Failed       int64 `json:"failed"`
}

// Relay produces syslog messages. Its methods are safe for concurrent use;
// give each input goroutine its own syslog.Parser (NewParser).
type Relay struct {
	cl  *kgo.Client
	cfg Config
	log *slog.Logger

	received, produced, events, deadLettered, dropped, failed atomic.Int64

	in                                         *ops.Input
	mu                                         sync.Mutex
	recvCounters                               map[string]prometheus.Counter
	producedSyslog, producedEvents, producedDL prometheus.Counter
	droppedFull, droppedFailed                 prometheus.Counter
	firstErr                                   atomic.Pointer[error]

	// pctx is the context records are produced with: not the inputs'
	// (whose end must not fail records already taken, which Flush sends)
	// but one Abort cancels, so that shutdown is bounded when Kafka is gone.
	pctx   context.Context
	pabort context.CancelFunc
}

// New returns a relay producing with cl.
func New(cl *kgo.Client, cfg Config) (*Relay, error) {
	if cfg.Topic == "" || cfg.DeadLetter == "" {
		return nil, errors.New("relay: the syslog and dead-letter topics are required")
	}
	if cfg.MaxSize <= 0 {
		cfg.MaxSize = syslog.DefaultMaxSize
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	in, err := cfg.Metrics.Input("syslog")
	if err != nil {
		return nil, fmt.Errorf("relay: metrics: %w", err)
	}
	r := &Relay{
		cl: cl, cfg: cfg, log: cfg.Log, in: in,
		recvCounters:   map[string]prometheus.Counter{},
		producedSyslog: cfg.Metrics.Produced(cfg.Topic),
		producedDL:     cfg.Metrics.Produced(cfg.DeadLetter),
		droppedFull:    in.Dropped("buffer_full"),
		droppedFailed:  in.Dropped("produce_failed"),
	}
	if cfg.Events != "" {
		r.producedEvents = cfg.Metrics.Produced(cfg.Events)
	}
	// Every transport's series exists from the start (at zero), so that a
	// scrape before the first message, and rate() over it, sees it.
	for _, tr := range []string{"udp", "tcp", "tls", "file"} {
		r.recvCounters[tr] = in.Received(tr)
	}
	r.pctx, r.pabort = context.WithCancel(context.Background())
	return r, nil
}

// NewParser returns a parser with the relay's settings, for one goroutine.
func (r *Relay) NewParser() *syslog.Parser { return syslog.NewParser(r.cfg.Parser) }

// MaxSize returns the longest message accepted.
func (r *Relay) MaxSize() int { return r.cfg.MaxSize }

// Source says where a message came from.
type Source struct {
	// Transport is "udp", "tcp", "tls" or "file".
	Transport string
	// Peer is the sender's address (invalid for files).
	Peer netip.AddrPort
	// Name is the listener address or file path (dead-letter source header).
	Name string
}

func (s Source) header() string {
	if s.Peer.IsValid() {
		return "syslog+" + s.Transport + "://" + s.Name + " from " + s.Peer.String()
	}
	return "syslog+" + s.Transport + "://" + s.Name
}

func (s Source) key() []byte {
	if s.Peer.IsValid() {
		return []byte(s.Peer.Addr().Unmap().String())
	}
	return []byte(s.Name)
}

// Received counts one message received over transport.
func (r *Relay) countReceived(transport string) {
	r.received.Add(1)
	r.mu.Lock()
	c := r.recvCounters[transport]
	if c == nil {
		c = r.in.Received(transport)
		r.recvCounters[transport] = c
	}
	r.mu.Unlock()
	c.Inc()
}

// Handle takes one framed message. frameErr is the framer's error for it
// (syslog.ErrOversized, syslog.ErrTruncated) or nil. raw is copied; the
// caller may reuse it. Handle blocks while the producer's buffer is full in
// Block mode, until there is room or Abort is called; ctx only identifies
// the caller (ending it does not fail records already taken).
func (r *Relay) Handle(ctx context.Context, p *syslog.Parser, raw []byte, src Source, frameErr error) {
	r.countReceived(src.Transport)
	if frameErr != nil {
		reason := ops.ReasonUndecodable
		if errors.Is(frameErr, syslog.ErrOversized) {
			reason = ops.ReasonInvalid
		}
		r.deadLetter(ctx, raw, src, frameErr, reason)
		return
	}
	msg, err := p.Parse(raw)
	if err != nil {
		r.deadLetter(ctx, raw, src, err, ops.ReasonUndecodable)
		return
	}
	key := []byte(msg.Host)
	if msg.Host == "" || msg.Host == "-" {
		key = src.key()
	}
	ts := msg.Time
	if ts.IsZero() {
		ts = time.Now()
	}
	r.produce(ctx, &kgo.Record{Topic: r.cfg.Topic, Key: key, Value: clone(raw), Timestamp: ts}, r.producedSyslog, &r.produced)
	if r.cfg.Events == "" {
		return
	}
	ev, ok := syslog.Extract(msg.App, msg.Text)
	if !ok {
		return
	}
	server := r.reporterAddr(msg.Host, src)
	base := codecs.SecEvent{Time: ts, Kind: ev.Kind.String(), User: ev.User, Reporter: msg.Host, Count: ev.Count}
	if window.IsHost(ev.Remote) {
		e := base
		e.Role, e.Peer = codecs.RoleSource, server
		r.event(ctx, ev.Remote, &e)
	}
	if window.IsHost(server) && server != ev.Remote {
		e := base
		e.Role, e.Peer = codecs.RoleTarget, ev.Remote
		r.event(ctx, server, &e)
	}
}

// reporterAddr returns the address of the host that reported a message.
func (r *Relay) reporterAddr(host string, src Source) netip.Addr {
	if a, ok := r.cfg.HostAddrs[host]; ok {
		return a
	}
	if a, err := netip.ParseAddr(host); err == nil {
		return a.Unmap()
	}
	if src.Peer.IsValid() {
		return src.Peer.Addr().Unmap()
	}
	return netip.Addr{}
}

func (r *Relay) event(ctx context.Context, host netip.Addr, e *codecs.SecEvent) {
	val, err := codecs.AppendSecEvent(nil, e)
	if err != nil {
		r.log.Warn("syslog: cannot encode event", "err", err)
		return
	}
	r.produce(ctx, &kgo.Record{Topic: r.cfg.Events, Key: []byte(host.String()), Value: val, Timestamp: e.Time}, r.producedEvents, &r.events)
}

func (r *Relay) deadLetter(ctx context.Context, raw []byte, src Source, reason error, label string) {
	r.cfg.Metrics.DeadLetter(label)
	rec := &kgo.Record{
		Topic: r.cfg.DeadLetter, Key: src.key(), Value: clone(raw), Timestamp: time.Now(),
		Headers: []kgo.RecordHeader{
			{Key: processors.HeaderReason, Value: []byte(reason.Error())},
			{Key: processors.HeaderSource, Value: []byte(src.header())},
		},
	}
	r.produce(ctx, rec, r.producedDL, &r.deadLettered)
}

func (r *Relay) produce(ctx context.Context, rec *kgo.Record, produced prometheus.Counter, n *atomic.Int64) {
	n.Add(1)
	done := func(_ *kgo.Record, err error) {
		switch {
		case err == nil:
			produced.Inc()
		case errors.Is(err, kgo.ErrMaxBuffered):
			r.dropped.Add(1)
			n.Add(-1)
			r.droppedFull.Inc()
		default:
			r.failed.Add(1)
			n.Add(-1)
			r.droppedFailed.Inc()
			if r.firstErr.CompareAndSwap(nil, &err) {
				r.log.Error("syslog: producing failed (further failures are counted)", "topic", rec.Topic, "err", err)
			}
		}
	}
	if r.cfg.Overflow == Drop {
		r.cl.TryProduce(r.pctx, rec, done)
		return
	}
	r.cl.Produce(r.pctx, rec, done)
}

// Abort fails the records not yet acknowledged and unblocks inputs waiting
// for room in the producer's buffer (each later record fails at once). Call
// it when shutting down has taken too long (Kafka unreachable); the failures
// are counted and Flush returns the first.
func (r *Relay) Abort() { r.pabort() }

// Flush waits until every record handed to Kafka is acknowledged or failed,
// and returns the first failure.
func (r *Relay) Flush(ctx context.Context) error {
	if err := r.cl.Flush(ctx); err != nil {
		return fmt.Errorf("relay: flush: %w", err)
	}
	if e := r.firstErr.Load(); e != nil {
		return fmt.Errorf("relay: %d records failed, first: %w", r.failed.Load(), *e)
	}
	return nil
}

// Stats returns the counters. Produced, Events and DeadLettered count
// records handed to the producer and not (yet) failed or dropped.
func (r *Relay) Stats() Stats {
	return Stats{
		Received: r.received.Load(), Produced: r.produced.Load(), Events: r.events.Load(),
		DeadLettered: r.deadLettered.Load(), Dropped: r.dropped.Load(), Failed: r.failed.Load(),
	}
}

func clone(b []byte) []byte { return append([]byte(nil), b...) }
