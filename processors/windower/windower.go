// Package windower is the goka processor that turns packet summaries into
// per-host feature vectors.
//
// Group: <prefix>-windower. Inputs: <prefix>.packets (key: host address,
// value: packet batch) and <prefix>.events (key: host address, value:
// security event from riptide syslog, codecs.SecEvent). Table: <prefix>-windower-table (key: host address,
// value: the host's open windows and recently closed vectors, see HostState). Outputs:
// <prefix>.features (key: host address, one final vector per host and
// window) and <prefix>.deadletter.
//
// Windows follow Kafka Streams semantics: the stream time of a partition is
// the largest packet time seen on it (keyless watermark records advance it
// too); a packet whose window has closed is late and counted; a window is
// closed, and its vector emitted once, when stream time passes its end plus
// the grace period. Windows of hosts that fall silent are closed by a visitor
// that runs on a ticker.
//
// After each closing visit the windower sends a watermark per partition to
// the features topic (empty key; see window.NewWatermark): every window of
// that partition closing at or before the watermark's time has been emitted
// and acknowledged. The trainer waits for the watermarks of all partitions
// before it trains, so it learns from every window of the learning period.
package windower

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lovoo/goka"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/riptide-nids/riptide/codecs"
	"github.com/riptide-nids/riptide/ops"
	"github.com/riptide-nids/riptide/packet"
	"github.com/riptide-nids/riptide/processors"
	"github.com/riptide-nids/riptide/syslog"
	"github.com/riptide-nids/riptide/topology"
	"github.com/riptide-nids/riptide/window"
)

const visitClose = "close"

// Stats are the windower's counters since start.
type Stats struct {
	Records, Packets, Late, Windows, DeadLetters, Replayed, Watermarks int64
	// Events counts security events applied (events topic).
	Events int64
	// Ignored counts packets in a host's batch that involve neither of the
	// host's addresses (a producer keying records wrongly); they neither
	// advance stream time nor count as late.
	Ignored int64
	// Announced counts the watermarks sent downstream on the features topic.
	Announced int64
	// Reemitted counts vectors emitted again after a restart (same id and
	// values as before; see HostState.Recent).
	Reemitted int64
	// Flushed counts windows closed by an idle flush (see SetIdleFlush).
	Flushed int64
}

// Processor is the windower. Create it with New; it is safe for concurrent use
// by goka's partition goroutines.
type Processor struct {
	top  *topology.Topology
	cfg  window.Config
	log  *slog.Logger
	tick time.Duration

	mu         sync.Mutex
	streamTime map[int32]int64
	sink       func(context.Context, *window.Vector) error
	recovered  map[string]struct{} // hosts whose retained vectors this run re-emitted
	lastInput  map[int32]time.Time // wall time of the last record per partition, this run
	started    time.Time           // wall time the current run started
	idle       time.Duration
	retain     time.Duration
	now        func() time.Time
	lastSent   map[int32]int64 // window boundary of the last watermark sent per partition
	parts      int32
	visitedAt  int64 // stream-time window boundary of the last visit
	settled    atomic.Int64

	records, packets, events, late, windows, dead, replayed, watermarks, announced, reemitted, flushed, ignored atomic.Int64

	// Metrics (see SetMetrics); crossed is guarded by mu.
	m              *ops.Metrics
	consumed       prometheus.Counter
	consumedEvents prometheus.Counter
	crossed        map[int32][]crossing

	pool sync.Pool
}

// New returns a windower for the topology with the window configuration.
// parts is the partition count of the packets topic; it travels in the
// watermarks the windower sends downstream so that consumers know when every
// partition has reached a time.
func New(top *topology.Topology, cfg window.Config, parts int32, log *slog.Logger) (*Processor, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("windower: %w", err)
	}
	if parts < 1 {
		return nil, fmt.Errorf("windower: partitions %d: must be at least 1", parts)
	}
	p := &Processor{top: top, cfg: cfg, log: log, tick: 250 * time.Millisecond, parts: parts,
		streamTime: make(map[int32]int64), lastSent: make(map[int32]int64),
		recovered: make(map[string]struct{}), retain: 30 * time.Second, now: time.Now,
		lastInput: make(map[int32]time.Time), started: time.Now(), idle: DefaultIdleFlush}
	p.pool.New = func() any { s := make([]packet.Summary, 0, 1024); return &s }
	p.SetMetrics(nil)
	return p, nil
}

// SetMetrics makes the windower update m (nil: no metrics): records
// consumed, windows closed with their close latency, late packets and dead
// letters. Call it before the processor runs.
func (p *Processor) SetMetrics(m *ops.Metrics) {
	p.m = m
	p.consumed = m.Consumed(string(p.top.Windower), p.top.Packets.Name)
	p.consumedEvents = m.Consumed(string(p.top.Windower), p.top.Events.Name)
	p.crossed = make(map[int32][]crossing)
}

// crossing records when (wall clock) the stream time of a partition first
// reached close boundary idx: every window ending at or before idx*Size
// closes at that moment (its end plus grace has passed).
type crossing struct {
	idx int64
	at  time.Time
}

// maxCrossings bounds the crossings kept per partition; a window older than
// the oldest kept has its close latency measured from that one (a lower
// bound).
const maxCrossings = 64

// boundary returns the index of the last window end that stream time t has
// closed: the largest k with k*Size + Grace <= t.
func (p *Processor) boundary(t int64) int64 {
	return floorDiv(t-int64(p.cfg.Grace), int64(p.cfg.Size))
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// cross notes that stream time of part moved from old to t; p.mu is held.
func (p *Processor) cross(part int32, old, t int64) {
	b := p.boundary(t)
	if b <= p.boundary(old) {
		return
	}
	cs := p.crossed[part]
	if len(cs) >= maxCrossings {
		cs = append(cs[:0], cs[len(cs)-maxCrossings+1:]...)
	}
	p.crossed[part] = append(cs, crossing{idx: b, at: p.now()})
}

// closeLatency returns how long ago stream time on part passed the end plus
// grace of v, or -1 if unknown.
func (p *Processor) closeLatency(part int32, v *window.Vector) time.Duration {
	k := floorDiv(v.End, int64(p.cfg.Size))
	p.mu.Lock()
	defer p.mu.Unlock()
	cs := p.crossed[part]
	i := len(cs)
	for i > 0 && cs[i-1].idx >= k {
		i--
	}
	if i == len(cs) {
		return -1
	}
	return max(p.now().Sub(cs[i].at), 0)
}

// Graph returns the goka group graph.
func (p *Processor) Graph() *goka.GroupGraph {
	return goka.DefineGroup(p.top.Windower,
		goka.Input(p.top.Packets.Stream(), codecs.Bytes{}, p.onPackets),
		goka.Input(p.top.Events.Stream(), codecs.Bytes{}, p.onEvents),
		goka.Visitor(visitClose, p.onVisit),
		goka.Output(p.top.Features.Stream(), p.top.Features.Codec),
		goka.Output(p.top.DeadLetter.Stream(), p.top.DeadLetter.Codec),
		goka.Persist(StateCodec{}),
	)
}

// Stats returns the counters.
func (p *Processor) Stats() Stats {
	return Stats{
		Records: p.records.Load(), Packets: p.packets.Load(), Events: p.events.Load(), Late: p.late.Load(),
		Windows: p.windows.Load(), DeadLetters: p.dead.Load(), Replayed: p.replayed.Load(),
		Watermarks: p.watermarks.Load(), Announced: p.announced.Load(), Ignored: p.ignored.Load(),
		Reemitted: p.reemitted.Load(), Flushed: p.flushed.Load(),
	}
}

// advance raises the partition's stream time to ts and returns it.
func (p *Processor) advance(part int32, ts int64) int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	if old := p.streamTime[part]; ts > old {
		p.streamTime[part] = ts
		if p.m != nil {
			p.cross(part, old, ts)
		}
	}
	return p.streamTime[part]
}

func (p *Processor) current(part int32) int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.streamTime[part]
}

func (p *Processor) onPackets(ctx goka.Context, msg any) {
	p.records.Add(1)
	p.consumed.Inc()
	p.mu.Lock()
	p.lastInput[ctx.Partition()] = p.now()
	p.mu.Unlock()
	raw, _ := msg.([]byte)
	key := ctx.Key()
	if key == "" {
		p.watermarks.Add(1)
		if ts := ctx.Timestamp(); inRange(ts.UnixNano()) && !ts.IsZero() {
			p.advance(ctx.Partition(), ts.UnixNano())
		}
		return
	}
	host, err := netip.ParseAddr(key)
	if err != nil {
		p.dead.Add(1)
		p.m.DeadLetter(ops.ReasonBadKey)
		processors.DeadLetter(ctx, p.top, p.top.Packets.Name, raw, fmt.Errorf("windower: record key %q is not a host address: %w", key, err))
		return
	}
	bufp := p.pool.Get().(*[]packet.Summary)
	defer p.pool.Put(bufp)
	sums, err := codecs.DecodePacketBatch(raw, (*bufp)[:0])
	*bufp = sums
	if err != nil {
		p.dead.Add(1)
		p.m.DeadLetter(processors.DeadLetterReason(err))
		processors.DeadLetter(ctx, p.top, p.top.Packets.Name, raw, fmt.Errorf("windower: %w", err))
		return
	}
	st := p.state(ctx)
	p.recover(ctx, st)
	if ctx.Offset() <= st.LastOffset {
		p.replayed.Add(1) // applied before a restart; the table already has it
		return
	}
	part := ctx.Partition()
	late := 0
	for i := range sums {
		s := &sums[i]
		if s.Src != host && s.Dst != host {
			p.ignored.Add(1)
			continue
		}
		var streamTime int64
		if inRange(s.Time) {
			streamTime = p.advance(part, s.Time)
		} else {
			// Dropped as late by Add; it must not drag the partition's
			// stream time out of range, which would make every later
			// packet late.
			streamTime = p.current(part)
		}
		if !st.Add(host, s, streamTime, p.cfg) {
			p.late.Add(1)
			late++
		}
	}
	p.m.Late(late)
	p.packets.Add(int64(len(sums)))
	p.prune(st)
	st.Close(key, p.current(part), p.cfg, func(v *window.Vector) { p.closed(ctx, st, v, false) })
	st.LastOffset = ctx.Offset()
	ctx.SetValue(st)
}

// onEvents adds a security event (riptide syslog's events topic, keyed by
// the host it concerns) to the host's windows. Events advance the
// partition's stream time like packets: logs and packets of a deployment
// share event time.
func (p *Processor) onEvents(ctx goka.Context, msg any) {
	p.records.Add(1)
	p.consumedEvents.Inc()
	part := ctx.Partition()
	p.mu.Lock()
	p.lastInput[part] = p.now()
	p.mu.Unlock()
	raw, _ := msg.([]byte)
	key := ctx.Key()
	if _, err := netip.ParseAddr(key); err != nil {
		p.dead.Add(1)
		p.m.DeadLetter(ops.ReasonBadKey)
		processors.DeadLetter(ctx, p.top, p.top.Events.Name, raw, fmt.Errorf("windower: event key %q is not a host address: %w", key, err))
		return
	}
	se, err := codecs.DecodeSecEvent(raw)
	if err != nil {
		p.dead.Add(1)
		p.m.DeadLetter(processors.DeadLetterReason(err))
		processors.DeadLetter(ctx, p.top, p.top.Events.Name, raw, fmt.Errorf("windower: %w", err))
		return
	}
	ev, ok := windowEvent(se)
	if !ok {
		p.dead.Add(1)
		p.m.DeadLetter(ops.ReasonInvalid)
		processors.DeadLetter(ctx, p.top, p.top.Events.Name, raw, fmt.Errorf("windower: event kind %q unknown: %w", se.Kind, codecs.ErrInvalid))
		return
	}
	st := p.state(ctx)
	p.recover(ctx, st)
	if ctx.Offset() <= st.LastEventOffset {
		p.replayed.Add(1)
		return
	}
	streamTime := p.current(part)
	if inRange(ev.Time) {
		streamTime = p.advance(part, ev.Time)
	}
	if !st.AddEvent(&ev, streamTime, p.cfg) {
		p.late.Add(1)
		p.m.Late(1)
	}
	p.events.Add(1)
	p.prune(st)
	st.Close(key, p.current(part), p.cfg, func(v *window.Vector) { p.closed(ctx, st, v, false) })
	st.LastEventOffset = ctx.Offset()
	ctx.SetValue(st)
}

// windowEvent converts a security event record into the window's terms.
func windowEvent(se *codecs.SecEvent) (window.Event, bool) {
	k, ok := syslog.ParseKind(se.Kind)
	if !ok {
		return window.Event{}, false
	}
	ev := window.Event{Time: se.Time.UnixNano(), Out: se.Role == codecs.RoleSource, User: se.User, Count: uint64(se.Count)}
	switch k {
	case syslog.KindFailedLogin, syslog.KindAuthFailure, syslog.KindSudoFailure:
		ev.Kind = window.EventLoginFailed
	case syslog.KindAcceptedLogin:
		ev.Kind = window.EventLoginAccepted
	case syslog.KindInvalidUser:
		ev.Kind = window.EventInvalidUser
	case syslog.KindBreakIn:
		ev.Kind = window.EventBreakIn
	default:
		return window.Event{}, false
	}
	return ev, true
}

// inRange reports whether t is a time windows accept (window.MaxTime).
func inRange(t int64) bool { return t >= -window.MaxTime && t <= window.MaxTime }

// SetWatermarkSink sets where the ticker sends watermarks (to the features
// topic, with an empty key). Without a sink no watermarks are sent.
func (p *Processor) SetWatermarkSink(sink func(ctx context.Context, w *window.Vector) error) {
	p.sink = sink
}

// announce sends a watermark for every partition in snap (stream times taken
// before a closing visit that has completed, so every window of the
// partition that closes at or before that time has been emitted and
// acknowledged) whose closing boundary advanced since the last one.
func (p *Processor) announce(ctx context.Context, snap map[int32]int64) {
	if p.sink == nil {
		return
	}
	for part, t := range snap {
		b := p.cfg.Start(t-int64(p.cfg.Grace)) / int64(p.cfg.Size)
		p.mu.Lock()
		due := b > p.lastSent[part]
		p.mu.Unlock()
		if !due {
			continue
		}
		if err := p.sink(ctx, window.NewWatermark(part, p.parts, t)); err != nil {
			if ctx.Err() == nil {
				p.log.Warn("windower: sending watermark", "partition", part, "err", err)
			}
			return
		}
		p.announced.Add(1)
		p.mu.Lock()
		p.lastSent[part] = b
		p.mu.Unlock()
	}
}

func (p *Processor) state(ctx goka.Context) *HostState {
	if v, ok := ctx.Value().(*HostState); ok && v != nil && v.State != nil {
		return v
	}
	return &HostState{State: &window.State{LastOffset: -1}, LastEventOffset: -1}
}

// closed emits v downstream and retains it in st (see HostState.Recent).
// flushed tells a window closed by an idle flush, whose close latency is not
// measured (stream time never passed it).
func (p *Processor) closed(ctx goka.Context, st *HostState, v *window.Vector, flushed bool) {
	p.windows.Add(1)
	if p.m != nil {
		lat := time.Duration(-1)
		if !flushed {
			lat = p.closeLatency(ctx.Partition(), v)
		}
		p.m.WindowClosed(lat)
	}
	ctx.Emit(p.top.Features.Stream(), v.Host, v)
	st.Recent = append(st.Recent, Recent{At: p.now().UnixNano(), V: *v})
	if n := len(st.Recent) - maxRecent; n > 0 {
		st.Recent = append(st.Recent[:0], st.Recent[n:]...)
	}
}

// recover re-emits, once per run of the processor, the vectors a host
// closed recently: their emission may not have reached Kafka before a crash
// although the state without their windows did (goka writes outputs and the
// table asynchronously, in no order across topics). Repeats carry the same
// id and values.
func (p *Processor) recover(ctx goka.Context, st *HostState) {
	p.mu.Lock()
	_, done := p.recovered[ctx.Key()]
	if !done {
		p.recovered[ctx.Key()] = struct{}{}
	}
	p.mu.Unlock()
	if done {
		return
	}
	for i := range st.Recent {
		p.reemitted.Add(1)
		ctx.Emit(p.top.Features.Stream(), ctx.Key(), &st.Recent[i].V)
	}
}

// prune drops retained vectors older than the retention period, keeping at
// most maxRecent; it reports whether anything was dropped.
func (p *Processor) prune(st *HostState) bool {
	cut := p.now().Add(-p.retain).UnixNano()
	k := 0
	for k < len(st.Recent) && (st.Recent[k].At < cut || len(st.Recent)-k > maxRecent) {
		k++
	}
	if k == 0 {
		return false
	}
	st.Recent = append(st.Recent[:0], st.Recent[k:]...)
	return true
}

// Restarted tells the windower a new goka processor is about to run: every
// host's retained vectors are re-emitted once more (see recover).
func (p *Processor) Restarted() {
	p.mu.Lock()
	p.recovered = make(map[string]struct{})
	p.lastInput = make(map[int32]time.Time)
	p.started = p.now()
	p.mu.Unlock()
}

// Rebalanced tells the windower which partitions the consumer group gave
// this instance (goka's rebalance callback; see goka.WithRebalanceCallback).
// Each assigned partition resumes from its last committed offset with its
// table restored from the changelog, which may be ahead of that offset, so
// whatever this instance knew of it is stale: its stream time is derived
// again from the records that follow, its idle-flush clock starts now, and
// every host re-emits its retained vectors once more. Without this, a
// partition taken over from a killed instance looked idle at once (it had
// never received input here) and the idle flush closed the restored windows
// ahead of the replayed records, which then counted as late: windows were lost.
func (p *Processor) Rebalanced(assigned map[int32]int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.started = p.now()
	p.recovered = make(map[string]struct{})
	for part := range p.streamTime {
		if _, ok := assigned[part]; !ok {
			delete(p.streamTime, part)
		}
	}
	for part := range assigned {
		delete(p.streamTime, part)
		delete(p.lastInput, part)
	}
	p.visitedAt = 0
}

// DefaultIdleFlush is how long a partition may receive nothing (no packets,
// no watermarks) before the windower closes its open windows.
const DefaultIdleFlush = 30 * time.Second

// SetIdleFlush sets how long a partition may receive nothing before its
// open windows are closed (0 disables it). Producers send watermarks every
// second of event time, so silence means they stopped: the capture ended, or
// a restarted windower found every record already consumed. Without the
// flush those windows would wait for traffic that may never come. The
// partition's stream time moves past the flushed windows, so packets for them
// that still arrive are counted late instead of reopening them.
func (p *Processor) SetIdleFlush(d time.Duration) { p.idle = d }

// idleFor reports whether the partition has been silent for the idle-flush
// period this run.
func (p *Processor) idleFor(part int32) bool {
	if p.idle <= 0 {
		return false
	}
	p.mu.Lock()
	last, ok := p.lastInput[part]
	if !ok {
		last = p.started
	}
	p.mu.Unlock()
	return p.now().Sub(last) >= p.idle
}

func (p *Processor) onVisit(ctx goka.Context, _ any) {
	st, ok := ctx.Value().(*HostState)
	if !ok || st == nil || st.State == nil {
		return
	}
	p.recover(ctx, st)
	changed := p.prune(st)
	if st.Open() > 0 {
		part := ctx.Partition()
		streamTime := p.current(part)
		flush := p.idleFor(part)
		if flush {
			streamTime = math.MaxInt64
		}
		st.Close(ctx.Key(), streamTime, p.cfg, func(v *window.Vector) {
			changed = true
			if flush {
				p.flushed.Add(1)
				p.advance(part, v.End+int64(p.cfg.Grace))
			}
			p.closed(ctx, st, v, flush)
		})
	}
	if changed {
		ctx.SetValue(st)
	}
}

// closable reports whether the stream time of any partition has passed a
// window boundary (plus grace) since the last visit.
func (p *Processor) closable() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	size := int64(p.cfg.Size)
	var maxB int64
	for _, t := range p.streamTime {
		if b := (t - int64(p.cfg.Grace)) / size; b > maxB {
			maxB = b
		}
	}
	if maxB > p.visitedAt {
		p.visitedAt = maxB
		return true
	}
	return false
}

// snapshot copies the stream time of every partition seen.
func (p *Processor) snapshot() map[int32]int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return maps.Clone(p.streamTime)
}

// lowest returns the lowest stream time over the partitions seen.
func (p *Processor) lowest() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	low := int64(-1)
	for _, t := range p.streamTime {
		if low < 0 || t < low {
			low = t
		}
	}
	return low
}

// Settled reports whether every window that ends at or before t (minus the
// grace period) has been closed and emitted by this instance: the stream
// time of every partition it has seen reached t and a closing visit ran after
// that. Demos and tests use it to know a replay is fully processed.
func (p *Processor) Settled(t int64) bool { return p.settled.Load() >= t }

// Ticker closes the windows of silent hosts: every 250 ms it visits the
// table of the partitions this instance owns, when stream time has moved past
// a window boundary. Run it while the processor runs.
func (p *Processor) Ticker(ctx context.Context, gp *goka.Processor) {
	t := time.NewTicker(p.tick)
	defer t.Stop()
	p.mu.Lock()
	p.visitedAt = 0 // a rebuilt processor may own other partitions: visit once
	p.mu.Unlock()
	lastForced := p.now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			// Every idle-flush period, visit even if stream time stood
			// still: that is when silent partitions are flushed.
			force := p.idle > 0 && p.now().Sub(lastForced) >= p.idle
			if force {
				lastForced = p.now()
			}
			if err := p.closeIdle(ctx, gp, force); err != nil && ctx.Err() == nil {
				p.log.Warn("windower: closing idle windows", "err", err)
			}
		}
	}
}

// closeIdle visits the table to close the windows that stream time has
// closed, then sends the watermarks those closings make true. Unless force
// is set it does nothing when stream time has not moved.
func (p *Processor) closeIdle(ctx context.Context, gp *goka.Processor, force bool) error {
	low := p.lowest()
	if !p.closable() && low <= p.settled.Load() && !force {
		return nil
	}
	snap := p.snapshot()
	if err := processors.VisitAll(ctx, gp, visitClose); err != nil {
		if errors.Is(err, processors.ErrNotRunning) {
			p.mu.Lock()
			p.visitedAt = 0 // visit again once it runs
			p.mu.Unlock()
			return nil
		}
		return err
	}
	p.announce(ctx, snap)
	p.settled.Store(low)
	p.log.Debug("windower: closed idle windows", "stream_time_low", low)
	return nil
}

// HostState is the windower table's value for one host: its open windows
// and the vectors it closed recently.
type HostState struct {
	*window.State
	// Recent holds the vectors closed during the retention period (at most
	// maxRecent), oldest first, so that a restarted windower can emit them
	// again: goka writes the features topic and the table asynchronously, so
	// a crash can leave the table without a window whose vector never
	// reached Kafka.
	Recent []Recent
	// LastEventOffset is the offset on the events topic of the last
	// security event applied, or -1 (the events topic has offsets of its
	// own; State.LastOffset is the packets topic's).
	LastEventOffset int64
}

// Recent is a closed vector and when (wall clock, ns) it was closed.
type Recent struct {
	At int64
	V  window.Vector
}

const (
	// maxRecent bounds the vectors a host retains.
	maxRecent = 16
	// hostStateMagic starts a HostState record; a bare window.State record
	// (written by earlier versions) starts with its own version byte.
	hostStateMagic = 0xB7
)

// StateCodec is the goka codec of the windower table (values *HostState).
type StateCodec struct{}

// Encode implements goka.Codec.
func (StateCodec) Encode(v any) ([]byte, error) {
	hs, ok := v.(*HostState)
	if !ok || hs.State == nil {
		return nil, fmt.Errorf("windower: state codec: got %T, want *windower.HostState", v)
	}
	b := []byte{hostStateMagic}
	st, err := hs.State.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("windower: state codec: %w", err)
	}
	b = binary.AppendUvarint(b, uint64(len(st)))
	b = append(b, st...)
	b = binary.AppendUvarint(b, uint64(len(hs.Recent)))
	for i := range hs.Recent {
		b = binary.AppendVarint(b, hs.Recent[i].At)
		enc, err := codecs.AppendVector(nil, &hs.Recent[i].V)
		if err != nil {
			return nil, fmt.Errorf("windower: state codec: %w", err)
		}
		b = binary.AppendUvarint(b, uint64(len(enc)))
		b = append(b, enc...)
	}
	// Since security events: the events topic's offset (older records end
	// after Recent and decode to -1).
	b = binary.AppendVarint(b, hs.LastEventOffset)
	return b, nil
}

// ErrBadState is returned for a table value that does not decode.
var ErrBadState = errors.New("windower: bad state record")

// Decode implements goka.Codec.
func (StateCodec) Decode(b []byte) (any, error) {
	hs := &HostState{State: new(window.State), LastEventOffset: -1}
	if len(b) == 0 || b[0] != hostStateMagic {
		if err := hs.State.UnmarshalBinary(b); err != nil {
			return nil, fmt.Errorf("windower: state codec: %w", err)
		}
		return hs, nil
	}
	b = b[1:]
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)-k) {
		return nil, ErrBadState
	}
	if err := hs.State.UnmarshalBinary(b[k : k+int(n)]); err != nil {
		return nil, fmt.Errorf("windower: state codec: %w", err)
	}
	b = b[k+int(n):]
	cnt, k := binary.Uvarint(b)
	if k <= 0 || cnt > maxRecent {
		return nil, ErrBadState
	}
	b = b[k:]
	for range cnt {
		at, k := binary.Varint(b)
		if k <= 0 {
			return nil, ErrBadState
		}
		b = b[k:]
		l, k := binary.Uvarint(b)
		if k <= 0 || l > uint64(len(b)-k) {
			return nil, ErrBadState
		}
		r := Recent{At: at}
		if err := codecs.DecodeVector(b[k:k+int(l)], &r.V); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrBadState, err)
		}
		hs.Recent = append(hs.Recent, r)
		b = b[k+int(l):]
	}
	if len(b) > 0 {
		off, k := binary.Varint(b)
		if k <= 0 || off < -1 {
			return nil, ErrBadState
		}
		hs.LastEventOffset = off
		b = b[k:]
	}
	if len(b) != 0 {
		return nil, ErrBadState
	}
	return hs, nil
}
