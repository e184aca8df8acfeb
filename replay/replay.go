// Package replay reads a time range of the packets topic back as packet
// summaries, so that `riptide backtest --topic` can run the detector over
// traffic captured to Kafka earlier, with fresh state that never touches the
// live pipeline's: it reads partitions directly (no consumer group, no
// committed offsets) and writes nothing to the cluster.
//
// The packets topic (written by package producers) holds each host's packets
// of a short interval in one record keyed by the host, on the partition goka
// reads that host from, plus keyless watermark records. A packet is stored
// once for each of its endpoints that is a host, so records of different
// hosts interleave across partitions and most packets appear twice. A Source
// undoes that: it takes each packet from one record only (its source host's,
// or its destination's when the source is not a host), merges the partitions
// by the time of each record's first packet, and yields the packets whose own
// time lies in the range. The result is nearly in time order (a record holds
// up to a batch interval of packets, and the records of one interval are not
// ordered by time within a partition), so callers put it back in order with
// producers.Reorder, as they do with capture files.
//
// Offsets are looked up by timestamp (ListOffsets), Config.Slack before the
// range and after it, because a record's timestamp says when its batch
// starts, not where each of its packets lies.
package replay

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/netip"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/riptide-nids/riptide/codecs"
	"github.com/riptide-nids/riptide/kclient"
	"github.com/riptide-nids/riptide/packet"
	"github.com/riptide-nids/riptide/window"
)

// Sentinel errors of Open.
var (
	// ErrNoTopic means the topic does not exist on the cluster.
	ErrNoTopic = errors.New("replay: no such topic")
	// ErrBadRange means Config.From is not before Config.To.
	ErrBadRange = errors.New("replay: bad time range")
	// ErrEmpty means the topic holds no record in the range.
	ErrEmpty = errors.New("replay: no records in the time range")
)

// DefaultSlack is the default Config.Slack.
const DefaultSlack = time.Minute

// defaultMaxBuffered is the default Config.MaxBuffered.
const defaultMaxBuffered = 4096

// Config says what to read.
type Config struct {
	// Topic is the packets topic to read (topology.Topology.Packets).
	Topic string
	// From and To bound the packets read by their own time: From <= t < To.
	// A zero From means the start of the topic; a zero To means its end at
	// the time of Open (records produced later are not read, so reading
	// ends).
	From, To time.Time
	// Slack is how far before From and after To records are looked up by
	// timestamp (default DefaultSlack). It must be at least the producers'
	// batch interval (riptide capture --batch-interval, 1 s by default).
	Slack time.Duration
	// MaxBuffered caps the records held per partition while the others
	// catch up (default 4096); a partition past it stops fetching until it
	// drains.
	MaxBuffered int
	// Log receives a warning for each of the first corrupt records (nil:
	// not logged, only counted).
	Log *slog.Logger
	// ClientOpts are extra options for the reading client, appended to
	// kclient's (fetch sizes, for instance).
	ClientOpts []kgo.Opt
}

// Validate checks the configuration and fills in defaults.
func (c *Config) Validate() error {
	if c.Topic == "" {
		return errors.New("replay: no topic (use --topic)")
	}
	if !c.From.IsZero() && !c.To.IsZero() && !c.From.Before(c.To) {
		return fmt.Errorf("%w: from %s is not before to %s", ErrBadRange, c.From.UTC().Format(time.RFC3339Nano), c.To.UTC().Format(time.RFC3339Nano))
	}
	if c.Slack < 0 {
		return fmt.Errorf("replay: slack %v: must not be negative", c.Slack)
	}
	if c.Slack == 0 {
		c.Slack = DefaultSlack
	}
	if c.MaxBuffered <= 0 {
		c.MaxBuffered = defaultMaxBuffered
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	return nil
}

// Stats counts what a Source read.
type Stats struct {
	// Topic is the topic read.
	Topic string `json:"topic"`
	// Partitions is the topic's partition count.
	Partitions int `json:"partitions"`
	// Offsets is the number of offsets in the ranges read (all partitions).
	Offsets int64 `json:"offsets"`
	// Records is the number of records read, watermarks and corrupt ones
	// included.
	Records int64 `json:"records"`
	// Watermarks is the number of keyless watermark records (no packets).
	Watermarks int64 `json:"watermarks"`
	// Packets is the number of packets yielded.
	Packets int64 `json:"packets"`
	// Copies counts packets skipped because they are the second copy of a
	// packet yielded from its other endpoint's record.
	Copies int64 `json:"copies"`
	// OutOfRange counts packets read (first copies) whose time is outside
	// [From, To).
	OutOfRange int64 `json:"out_of_range"`
	// Foreign counts packets in a host's record that involve neither
	// endpoint as that host (the windower ignores them too).
	Foreign int64 `json:"foreign"`
	// Corrupt counts records that could not be used, by reason: a key that
	// is not a host address, or a value that does not decode (the windower
	// sends these to the dead-letter topic).
	Corrupt map[string]int64 `json:"corrupt"`
}

// CorruptRecords returns the total of s.Corrupt.
func (s Stats) CorruptRecords() int64 {
	var n int64
	for _, c := range s.Corrupt {
		n += c
	}
	return n
}

// entry is a fetched record and its place in the merge.
type entry struct {
	r   *kgo.Record
	key int64 // mergeKey
}

// mergeKey orders records across partitions: the time of the record's first
// packet (what capture stamps the record with, to the nanosecond), read from
// the batch header rather than taken from the record timestamp, which another
// producer may have set to anything. Records without packets (watermarks,
// empty or corrupt batches) sort first, so they are counted at once and never
// hold a partition back.
func mergeKey(r *kgo.Record) int64 {
	if len(r.Key) == 0 {
		return math.MinInt64
	}
	n, first, err := codecs.PacketBatchHead(r.Value)
	if err != nil || n == 0 {
		return math.MinInt64
	}
	return first
}

// part is the reading state of one partition.
type part struct {
	id         int32
	end        int64 // first offset not read
	queue      []entry
	head       int
	fetchedAll bool // every record before end has been fetched
	paused     bool
}

func (p *part) buffered() int { return len(p.queue) - p.head }

// Source yields the packets of a time range of the packets topic. It is not
// safe for concurrent use. Close it when done.
type Source struct {
	ctx   context.Context
	cl    *kgo.Client
	cfg   Config
	from  int64 // ns, inclusive
	to    int64 // ns, exclusive
	parts []*part
	stats Stats

	cur  []packet.Summary // summaries of the current record
	next int              // index in cur
	host netip.Addr       // key of the current record
	buf  []packet.Summary
}

// Open looks up the offsets of the range on every partition of the topic
// and returns a Source that reads them. ctx bounds Open and every later read.
// Errors wrap ErrNoTopic, ErrBadRange or ErrEmpty where they apply.
func Open(ctx context.Context, kc kclient.Config, cfg Config) (*Source, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	admCl, err := kclient.NewClient(kc)
	if err != nil {
		return nil, err
	}
	defer admCl.Close()
	if err := kclient.Ping(ctx, admCl, kc.Brokers); err != nil {
		return nil, err
	}
	starts, ends, err := rangeOffsets(ctx, kadm.NewClient(admCl), &cfg)
	if err != nil {
		return nil, err
	}
	s := &Source{ctx: ctx, cfg: cfg, from: minTime, to: maxTime}
	if !cfg.From.IsZero() {
		s.from = cfg.From.UnixNano()
	}
	if !cfg.To.IsZero() {
		s.to = cfg.To.UnixNano()
	}
	s.stats = Stats{Topic: cfg.Topic, Partitions: len(starts), Corrupt: map[string]int64{}}
	offsets := map[int32]kgo.Offset{}
	for p, start := range starts {
		end := ends[p]
		if start >= end {
			continue
		}
		s.stats.Offsets += end - start
		offsets[p] = kgo.NewOffset().At(start)
		s.parts = append(s.parts, &part{id: p, end: end})
	}
	slices.SortFunc(s.parts, func(a, b *part) int { return int(a.id - b.id) })
	if len(s.parts) == 0 {
		return nil, emptyErr(ctx, admCl, &cfg)
	}
	opts := append([]kgo.Opt{
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{cfg.Topic: offsets}),
		kgo.FetchMaxWait(500 * time.Millisecond),
	}, cfg.ClientOpts...)
	s.cl, err = kclient.NewClient(kc, opts...)
	if err != nil {
		return nil, err
	}
	return s, nil
}

const (
	minTime = -1 << 63
	maxTime = 1<<63 - 1
)

// rangeOffsets returns, per partition, the first offset to read and the
// first offset not to read.
func rangeOffsets(ctx context.Context, adm *kadm.Client, cfg *Config) (starts, ends map[int32]int64, err error) {
	td, err := adm.ListTopics(ctx, cfg.Topic)
	if err != nil {
		return nil, nil, fmt.Errorf("replay: describe %s: %w", cfg.Topic, err)
	}
	if d, ok := td[cfg.Topic]; !ok || d.Err != nil || len(d.Partitions) == 0 {
		return nil, nil, fmt.Errorf("%w: %s does not exist (check the name: `riptide capture` writes the packets topic of its --prefix)", ErrNoTopic, cfg.Topic)
	}
	list := func(what string, f func() (kadm.ListedOffsets, error)) (map[int32]int64, error) {
		lo, err := f()
		if err == nil {
			err = lo.Error()
		}
		if err != nil {
			return nil, fmt.Errorf("replay: list %s offsets of %s: %w", what, cfg.Topic, err)
		}
		out := map[int32]int64{}
		lo.Each(func(o kadm.ListedOffset) {
			if o.Topic == cfg.Topic && o.Partition >= 0 {
				out[o.Partition] = o.Offset
			}
		})
		return out, nil
	}
	// The end first: records produced while reading are not read.
	if ends, err = list("end", func() (kadm.ListedOffsets, error) { return adm.ListEndOffsets(ctx, cfg.Topic) }); err != nil {
		return nil, nil, err
	}
	if starts, err = list("start", func() (kadm.ListedOffsets, error) { return adm.ListStartOffsets(ctx, cfg.Topic) }); err != nil {
		return nil, nil, err
	}
	if !cfg.From.IsZero() {
		if ms := cfg.From.Add(-cfg.Slack).UnixMilli(); ms >= 0 {
			after, err := list("from", func() (kadm.ListedOffsets, error) { return adm.ListOffsetsAfterMilli(ctx, ms, cfg.Topic) })
			if err != nil {
				return nil, nil, err
			}
			for p, o := range after {
				if o >= 0 && o > starts[p] {
					starts[p] = o
				}
			}
		}
	}
	if !cfg.To.IsZero() {
		if ms := cfg.To.Add(cfg.Slack).UnixMilli(); ms >= 0 {
			after, err := list("to", func() (kadm.ListedOffsets, error) { return adm.ListOffsetsAfterMilli(ctx, ms, cfg.Topic) })
			if err != nil {
				return nil, nil, err
			}
			for p, o := range after {
				if o >= 0 && o < ends[p] {
					ends[p] = o
				}
			}
		} else {
			clear(ends) // the range ends before 1970
		}
	}
	return starts, ends, nil
}

// emptyErr explains an empty range with the time span the topic holds.
func emptyErr(ctx context.Context, cl *kgo.Client, cfg *Config) error {
	adm := kadm.NewClient(cl)
	rng := fmt.Sprintf("between %s and %s", timeOr(cfg.From, "its start"), timeOr(cfg.To, "its end"))
	first, ferr := adm.ListOffsetsAfterMilli(ctx, 0, cfg.Topic)
	last, lerr := adm.ListMaxTimestampOffsets(ctx, cfg.Topic)
	lo, hi := int64(maxTime), int64(minTime)
	if ferr == nil && lerr == nil {
		first.Each(func(o kadm.ListedOffset) {
			if o.Err == nil && o.Timestamp >= 0 {
				lo = min(lo, o.Timestamp)
			}
		})
		last.Each(func(o kadm.ListedOffset) {
			if o.Err == nil && o.Offset >= 0 && o.Timestamp >= 0 {
				hi = max(hi, o.Timestamp)
			}
		})
	}
	if lo > hi {
		return fmt.Errorf("%w: %s holds no records %s (write some with `riptide capture --pcap FILE --brokers B`)", ErrEmpty, cfg.Topic, rng)
	}
	return fmt.Errorf("%w: %s holds no records %s; its records are stamped from about %s to %s",
		ErrEmpty, cfg.Topic, rng, time.UnixMilli(lo).UTC().Format(time.RFC3339Nano), time.UnixMilli(hi).UTC().Format(time.RFC3339Nano))
}

func timeOr(t time.Time, zero string) string {
	if t.IsZero() {
		return zero
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// Next implements the packet sources of packages producers and backtest: it
// stores the next packet in s and returns io.EOF after the last one.
func (s *Source) Next(out *packet.Summary) error {
	for {
		for s.next < len(s.cur) {
			p := &s.cur[s.next]
			s.next++
			if s.keep(p) {
				*out = *p
				s.stats.Packets++
				return nil
			}
		}
		r, err := s.nextRecord()
		if err != nil {
			return err
		}
		s.use(r)
	}
}

// keep reports whether p, from the record of s.host, is yielded: it must be
// this record's copy of the packet and lie in the range.
func (s *Source) keep(p *packet.Summary) bool {
	h := s.host
	if p.Src != h && p.Dst != h {
		s.stats.Foreign++
		return false
	}
	// The producer adds a packet to its source's batch when the source is a
	// host, and to its destination's when that is another host.
	if window.IsHost(p.Src) && p.Src != h {
		s.stats.Copies++
		return false
	}
	if p.Time < s.from || p.Time >= s.to {
		s.stats.OutOfRange++
		return false
	}
	return true
}

// use decodes record r into s.cur.
func (s *Source) use(r *kgo.Record) {
	s.stats.Records++
	s.cur, s.next = s.cur[:0], 0
	if len(r.Key) == 0 { // as the windower: a keyless record is a watermark
		s.stats.Watermarks++
		return
	}
	host, err := netip.ParseAddr(string(r.Key))
	if err != nil {
		s.corrupt(r, "key is not a host address", fmt.Errorf("record key %q: %w", r.Key, err))
		return
	}
	sums, err := codecs.DecodePacketBatch(r.Value, s.buf[:0])
	s.buf = sums
	if err != nil {
		reason := "corrupt record"
		for _, e := range []error{codecs.ErrTruncated, codecs.ErrUnknownVersion, codecs.ErrCorrupt} {
			if errors.Is(err, e) {
				reason = e.Error()
				break
			}
		}
		s.corrupt(r, reason, err)
		return
	}
	s.host, s.cur = host, sums
}

const maxLoggedCorrupt = 10

func (s *Source) corrupt(r *kgo.Record, reason string, err error) {
	s.stats.Corrupt[reason]++
	n := s.stats.CorruptRecords()
	if n <= maxLoggedCorrupt {
		s.cfg.Log.Warn("replay: skipping a record that is not a packet batch", "topic", r.Topic, "partition", r.Partition, "offset", r.Offset, "err", err)
		if n == maxLoggedCorrupt {
			s.cfg.Log.Warn("replay: further corrupt records are only counted")
		}
	}
}

// nextRecord returns the record with the lowest mergeKey among the heads of
// all partitions (ties: the lowest partition), fetching until every
// partition that still has records has one buffered. It returns io.EOF when
// every partition is read to its end offset.
func (s *Source) nextRecord() (*kgo.Record, error) {
	for {
		var best *part
		ready := true
		for _, p := range s.parts {
			if p.buffered() == 0 {
				if p.fetchedAll {
					continue
				}
				ready = false
				break
			}
			if best == nil || p.queue[p.head].key < best.queue[best.head].key {
				best = p
			}
		}
		if ready {
			if best == nil {
				return nil, io.EOF
			}
			return s.pop(best), nil
		}
		if err := s.fetch(); err != nil {
			return nil, err
		}
	}
}

func (s *Source) pop(p *part) *kgo.Record {
	r := p.queue[p.head].r
	p.queue[p.head] = entry{}
	p.head++
	if p.head == len(p.queue) {
		p.queue, p.head = p.queue[:0], 0
	}
	if p.paused && !p.fetchedAll && p.buffered() <= s.cfg.MaxBuffered/2 {
		p.paused = false
		s.cl.ResumeFetchPartitions(map[string][]int32{s.cfg.Topic: {p.id}})
	}
	return r
}

// fetch polls once and queues the records of the range per partition.
func (s *Source) fetch() error {
	fs := s.cl.PollFetches(s.ctx)
	if err := s.ctx.Err(); err != nil {
		return err
	}
	var ferr error
	fs.EachError(func(t string, p int32, err error) {
		if ferr == nil {
			ferr = fmt.Errorf("replay: fetch %s[%d]: %w", t, p, err)
		}
	})
	if ferr != nil {
		return ferr
	}
	byID := map[int32]*part{}
	for _, p := range s.parts {
		byID[p.id] = p
	}
	var pause []int32
	fs.EachPartition(func(fp kgo.FetchTopicPartition) {
		p := byID[fp.Partition]
		if p == nil || p.fetchedAll {
			return
		}
		for _, r := range fp.Records {
			if r.Offset >= p.end {
				break
			}
			p.queue = append(p.queue, entry{r, mergeKey(r)})
		}
		if n := len(fp.Records); n > 0 && fp.Records[n-1].Offset+1 >= p.end {
			p.fetchedAll = true
			pause = append(pause, p.id)
		} else if !p.paused && p.buffered() >= s.cfg.MaxBuffered {
			p.paused = true
			pause = append(pause, p.id)
		}
	})
	if len(pause) > 0 {
		s.cl.PauseFetchPartitions(map[string][]int32{s.cfg.Topic: pause})
	}
	return nil
}

// Stats returns the counts so far.
func (s *Source) Stats() Stats {
	st := s.stats
	st.Corrupt = make(map[string]int64, len(s.stats.Corrupt))
	for k, v := range s.stats.Corrupt {
		st.Corrupt[k] = v
	}
	return st
}

// Close releases the Kafka client.
func (s *Source) Close() {
	if s.cl != nil {
		s.cl.Close()
	}
}
