// Package producers turns packet sources (capture files today) into records
// on the packets topic: summaries are grouped per host, so that each host
// gets one record per short interval of event time rather than one per
// packet, and keyless watermark records tell every partition how far event
// time has progressed, so that windows of quiet hosts close without waiting
// for more traffic.
//
// A packet is added to the batch of its source and of its destination host
// (when each is a host: see window.IsHost): the windower describes every host
// both as sender and as receiver, and a host's batch must land on the
// partition where its state lives. Records are produced with franz-go and the
// goka-compatible partitioner (package kclient); the record timestamp is the
// capture time of the batch's first packet.
package producers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/riptide-nids/riptide/codecs"
	"github.com/riptide-nids/riptide/ops"
	"github.com/riptide-nids/riptide/packet"
	"github.com/riptide-nids/riptide/window"
)

// Source yields packet summaries in capture order. Next returns io.EOF at the
// end.
type Source interface {
	Next(s *packet.Summary) error
}

// Speed is a replay pace: 0 means as fast as possible, otherwise the factor
// by which event time runs faster than wall time (1 = real time).
type Speed float64

// ParseSpeed parses "max", "realtime" or a positive factor such as "10".
func ParseSpeed(s string) (Speed, error) {
	switch strings.ToLower(s) {
	case "max", "":
		return 0, nil
	case "realtime":
		return 1, nil
	}
	f, err := strconv.ParseFloat(strings.TrimSuffix(s, "x"), 64)
	if err != nil || !(f > 0) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("producers: speed %q: use max, realtime or a positive factor like 10", s)
	}
	return Speed(f), nil
}

// Config configures a Producer.
type Config struct {
	// Topic is the packets topic.
	Topic string
	// Partitions is the topic's partition count (watermarks go to each).
	Partitions int
	// Interval is the event-time span of one batch per host (default 1 s).
	Interval time.Duration
	// MaxBatch flushes a host's batch early when it holds this many
	// summaries (default 2048).
	MaxBatch int
	// MaxHeld bounds the summaries held in all open batches together
	// (default 1,000,000, about 80 MB), and MaxHosts the hosts with an open
	// batch (default 100,000): beyond either every batch is flushed early,
	// so that a flood from many (spoofed) sources cannot grow memory
	// without limit.
	MaxHeld, MaxHosts int
	// Speed paces the replay.
	Speed Speed
	// FinalWatermark is added after the last packet's time in the closing
	// watermark, so that every window closes (window size + grace).
	FinalWatermark time.Duration
	// Metrics, if not nil, counts the records Kafka acknowledged
	// (riptide_records_produced_total).
	Metrics *ops.Metrics
}

func (c *Config) defaults() error {
	if c.Topic == "" {
		return errors.New("producers: no topic")
	}
	if c.Partitions <= 0 {
		return fmt.Errorf("producers: partitions %d: must be positive", c.Partitions)
	}
	if c.Interval <= 0 {
		c.Interval = time.Second
	}
	if c.MaxBatch <= 0 {
		c.MaxBatch = 2048
	}
	if c.MaxHeld <= 0 {
		c.MaxHeld = 1_000_000
	}
	if c.MaxHosts <= 0 {
		c.MaxHosts = 100_000
	}
	return nil
}

// Stats counts what a Producer did.
type Stats struct {
	Packets    int64 `json:"packets"`
	Records    int64 `json:"records"`
	Bytes      int64 `json:"bytes"`
	Watermarks int64 `json:"watermarks"`
	Failed     int64 `json:"failed"`
	// First and Last are the first and last packet times (ns).
	First int64 `json:"-"`
	Last  int64 `json:"-"`
}

// Producer batches summaries per host and produces them.
type Producer struct {
	cl      *kgo.Client
	cfg     Config
	batches map[netip.Addr]*batch
	next    int64                    // event time of the next interval flush
	held    int                      // summaries in batches
	free    []*batch                 // batches of earlier intervals, for reuse (at most maxFree)
	bufs    sync.Pool                // *kgo.Record with Key and Value buffers, returned when acknowledged
	wms     sync.Pool                // *kgo.Record of watermarks, returned when acknowledged
	doneFn  func(*kgo.Record, error) // p.done, bound once (a method value allocates)

	packets, records, bytes, watermarks, failed atomic.Int64
	first, last                                 int64
	errOnce                                     atomic.Pointer[error]
	produced                                    prometheus.Counter
}

type batch struct {
	sums []packet.Summary
}

// New returns a producer writing with cl.
func New(cl *kgo.Client, cfg Config) (*Producer, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	p := &Producer{cl: cl, cfg: cfg, batches: make(map[netip.Addr]*batch), produced: cfg.Metrics.Produced(cfg.Topic)}
	p.doneFn = p.done
	return p, nil
}

// Add queues one summary. It is not safe for concurrent use.
func (p *Producer) Add(ctx context.Context, s *packet.Summary) {
	if p.first == 0 {
		p.first = s.Time
		p.next = (s.Time/int64(p.cfg.Interval) + 1) * int64(p.cfg.Interval)
	}
	if s.Time >= p.next {
		// Everything before s is sent: event time has reached the start of
		// s's interval (after a quiet gap, later than p.next).
		p.flushAll(ctx)
		iv := int64(p.cfg.Interval)
		p.watermark(ctx, s.Time/iv*iv)
		p.next = (s.Time/iv + 1) * iv
	}
	if s.Time > p.last {
		p.last = s.Time
	}
	p.packets.Add(1)
	if p.held >= p.cfg.MaxHeld || len(p.batches) >= p.cfg.MaxHosts {
		p.flushAll(ctx)
	}
	if window.IsHost(s.Src) {
		p.add(ctx, s.Src, s)
	}
	if s.Dst != s.Src && window.IsHost(s.Dst) {
		p.add(ctx, s.Dst, s)
	}
}

// Advance tells p that event time has reached t (ns) although no packet
// says so: a live capture calls it with the wall clock when traffic is quiet,
// so that the batches of the last interval are sent and watermarks keep
// moving. It does nothing before the first packet or when t is still in the
// current interval. It is not safe for concurrent use with Add.
func (p *Producer) Advance(ctx context.Context, t int64) {
	if p.first == 0 || t < p.next {
		return
	}
	p.flushAll(ctx)
	iv := int64(p.cfg.Interval)
	p.watermark(ctx, t/iv*iv)
	p.next = (t/iv + 1) * iv
}

func (p *Producer) add(ctx context.Context, host netip.Addr, s *packet.Summary) {
	b := p.batches[host]
	if b == nil {
		if n := len(p.free); n > 0 {
			b = p.free[n-1]
			p.free = p.free[:n-1]
		} else {
			b = &batch{sums: make([]packet.Summary, 0, 8)}
		}
		p.batches[host] = b
	}
	b.sums = append(b.sums, *s)
	p.held++
	if len(b.sums) >= p.cfg.MaxBatch {
		p.flush(ctx, host, b)
	}
}

func (p *Producer) flush(ctx context.Context, host netip.Addr, b *batch) {
	if len(b.sums) == 0 {
		return
	}
	r, _ := p.bufs.Get().(*kgo.Record)
	if r == nil {
		r = &kgo.Record{}
	}
	val := codecs.AppendPacketBatch(r.Value[:0], b.sums)
	*r = kgo.Record{Topic: p.cfg.Topic, Key: host.AppendTo(r.Key[:0]), Value: val, Timestamp: time.Unix(0, b.sums[0].Time)}
	p.held -= len(b.sums)
	b.sums = b.sums[:0]
	p.records.Add(1)
	p.bytes.Add(int64(len(val)))
	p.cl.Produce(ctx, r, p.doneFn)
}

func (p *Producer) done(r *kgo.Record, err error) {
	if err != nil {
		p.failed.Add(1)
		p.errOnce.CompareAndSwap(nil, &err)
		return
	}
	p.produced.Inc()
	// The client is done with an acknowledged record: reuse its memory.
	switch {
	case r.Key == nil: // a watermark; its value is shared
		*r = kgo.Record{}
		p.wms.Put(r)
	case cap(r.Value) <= maxPooledValue:
		*r = kgo.Record{Key: r.Key[:0], Value: r.Value[:0]}
		p.bufs.Put(r)
	}
}

// maxPooledValue is the largest record value kept for reuse (a full batch
// is about 40 kB).
const maxPooledValue = 64 << 10

// maxFree is the most empty batches kept for the next interval.
const maxFree = 4096

func (p *Producer) flushAll(ctx context.Context) {
	for host, b := range p.batches {
		p.flush(ctx, host, b)
		if len(p.free) < maxFree && cap(b.sums) <= 256 {
			p.free = append(p.free, b)
		}
	}
	clear(p.batches) // the map holds only hosts active in the current interval
}

// emptyBatch is the value of watermark records: an empty packet batch (goka
// drops records whose value is nil).
var emptyBatch = codecs.AppendPacketBatch(nil, nil)

// watermark produces a keyless record stamped ts, holding an empty batch, to
// every partition.
func (p *Producer) watermark(ctx context.Context, ts int64) {
	for part := range p.cfg.Partitions {
		p.watermarks.Add(1)
		r, _ := p.wms.Get().(*kgo.Record)
		if r == nil {
			r = &kgo.Record{}
		}
		*r = kgo.Record{Topic: p.cfg.Topic, Partition: int32(part), Value: emptyBatch, Timestamp: time.Unix(0, ts)}
		p.cl.Produce(ctx, r, p.doneFn)
	}
}

// Close flushes every batch, sends the closing watermark (last packet time
// plus FinalWatermark) and waits until everything is acknowledged.
func (p *Producer) Close(ctx context.Context) error {
	p.flushAll(ctx)
	if p.last > 0 {
		p.watermark(ctx, p.FinalWatermark())
	}
	if err := p.cl.Flush(ctx); err != nil {
		return fmt.Errorf("producers: flush: %w", err)
	}
	if e := p.errOnce.Load(); e != nil {
		return fmt.Errorf("producers: %d records failed, first: %w", p.failed.Load(), *e)
	}
	return nil
}

// FinalWatermark returns the time of the closing watermark: the last packet
// time plus Config.FinalWatermark, rounded up to the millisecond (Kafka record
// timestamps are milliseconds).
func (p *Producer) FinalWatermark() int64 {
	const ms = int64(time.Millisecond)
	t := p.last + int64(p.cfg.FinalWatermark)
	return (t + ms - 1) / ms * ms
}

// Stats returns the counters.
func (p *Producer) Stats() Stats {
	return Stats{
		Packets: p.packets.Load(), Records: p.records.Load(), Bytes: p.bytes.Load(),
		Watermarks: p.watermarks.Load(), Failed: p.failed.Load(), First: p.first, Last: p.last,
	}
}

// Counts returns the packets added, records produced and records that
// failed so far. Unlike Stats it is safe to call while another goroutine
// adds packets.
func (p *Producer) Counts() (packets, records, failed int64) {
	return p.packets.Load(), p.records.Load(), p.failed.Load()
}

// Replay reads src to the end, pacing by speed, adding every summary to p.
// progress, if not nil, is called about every 100,000 packets. It does not
// close p. When ctx ends, Replay stops reading and returns ctx's error, but
// the records already handed to p are produced without ctx's cancellation,
// so that closing p afterwards delivers them (flush on SIGTERM).
func Replay(ctx context.Context, src Source, p *Producer, speed Speed, progress func(n int64)) error {
	pctx := context.WithoutCancel(ctx)
	var s packet.Summary
	var wallStart time.Time
	var evStart int64
	var n int64
	for {
		if err := src.Next(&s); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		if n&1023 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		if speed > 0 {
			if wallStart.IsZero() {
				wallStart, evStart = time.Now(), s.Time
			}
			due := wallStart.Add(time.Duration(float64(s.Time-evStart) / float64(speed)))
			if d := time.Until(due); d > time.Millisecond {
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-time.After(d):
				}
			}
		}
		p.Add(pctx, &s)
		n++
		if progress != nil && n%100_000 == 0 {
			progress(n)
		}
	}
}
