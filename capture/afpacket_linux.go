//go:build linux

package capture

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/google/gopacket/layers"
	"github.com/gopacket/gopacket/afpacket"
	"golang.org/x/sync/errgroup"
	"golang.org/x/sys/unix"

	"github.com/riptide-nids/riptide/packet"
)

var (
	errPerm        error = unix.EPERM
	errAccess      error = unix.EACCES
	errInterrupted error = unix.EINTR
)

// pollTimeout bounds how long a socket read waits, so that Run notices its
// context's end; a partial chunk is handed over after it.
const pollTimeout = 100 * time.Millisecond

// maxChunkAge is the most capture time between the first and the last
// packet of a chunk.
const maxChunkAge = 50 * time.Millisecond

// Handle is an open live capture: one or more AF_PACKET sockets with their
// rings. Run reads them; Stats may be called at any time, from any
// goroutine; Close releases them.
type Handle struct {
	cfg   Config
	link  layers.LinkType
	socks []*afpacket.TPacket

	mu     sync.Mutex
	decode []packet.Stats // per socket: what each reader published last
}

// Open opens cfg.Fanout sockets on cfg.Interface, each with a TPACKET_V3
// ring, in one fanout group when there are several, with the filter
// attached. It needs CAP_NET_RAW (root, or `setcap cap_net_raw+ep`).
func Open(cfg Config) (*Handle, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	link, err := linkType(cfg.Interface)
	if err != nil {
		return nil, err
	}
	h := &Handle{cfg: cfg, link: link, decode: make([]packet.Stats, cfg.Fanout)}
	for i := range cfg.Fanout {
		tp, err := afpacket.NewTPacket(
			afpacket.OptInterface(cfg.Interface),
			afpacket.TPacketVersion3,
			afpacket.OptFrameSize(cfg.FrameSize),
			afpacket.OptBlockSize(cfg.BlockSize),
			afpacket.OptNumBlocks(cfg.NumBlocks),
			afpacket.OptBlockTimeout(cfg.BlockTimeout),
			afpacket.OptPollTimeout(pollTimeout),
		)
		if err != nil {
			h.Close()
			return nil, fmt.Errorf("capture: open AF_PACKET socket %d on %s: %w%s", i, cfg.Interface, err, permissionHint(err))
		}
		h.socks = append(h.socks, tp)
		if len(cfg.Filter) > 0 {
			if err := tp.SetBPF(cfg.Filter); err != nil {
				h.Close()
				return nil, fmt.Errorf("capture: attach the BPF filter on %s: %w (is it a valid classic BPF program for this link type?)", cfg.Interface, err)
			}
		}
		if cfg.Fanout > 1 {
			if err := tp.SetFanout(afpacket.FanoutHashWithDefrag, cfg.FanoutID); err != nil {
				h.Close()
				return nil, fmt.Errorf("capture: join fanout group %d on %s: %w (another process may use this id with other settings)", cfg.FanoutID, cfg.Interface, err)
			}
		}
		if cfg.Promiscuous && i == 0 {
			if err := tp.SetPromiscuous(true); err != nil {
				h.Close()
				return nil, fmt.Errorf("capture: promiscuous mode on %s: %w", cfg.Interface, err)
			}
		}
	}
	return h, nil
}

func permissionHint(err error) string {
	if errors.Is(err, errPerm) || errors.Is(err, errAccess) {
		return " (live capture needs CAP_NET_RAW: run as root or give the binary the capability with setcap cap_net_raw+ep)"
	}
	return ""
}

// Interface returns the captured interface's name.
func (h *Handle) Interface() string { return h.cfg.Interface }

// Run reads every socket in its own goroutine until ctx is done, decodes
// each frame and calls emit with chunks of decoded summaries (at most
// Config.ChunkSize; a partial chunk once it spans 50 ms of capture time, and
// whenever a socket has had nothing to read for 100 ms). emit is called from several goroutines at once and
// must not keep the slice. Run returns nil when ctx ends, or the first read
// error.
func (h *Handle) Run(ctx context.Context, emit func([]packet.Summary)) error {
	g, ctx := errgroup.WithContext(ctx)
	for i, tp := range h.socks {
		g.Go(func() error { return h.read(ctx, i, tp, emit) })
	}
	return g.Wait()
}

func (h *Handle) read(ctx context.Context, idx int, tp *afpacket.TPacket, emit func([]packet.Summary)) error {
	dec := packet.NewDecoder()
	chunk := make([]packet.Summary, h.cfg.ChunkSize)
	n := 0
	var st packet.Stats
	publish := func() {
		h.mu.Lock()
		h.decode[idx] = packet.Stats{Packets: st.Packets, Decoded: st.Decoded, Undecodable: cloneMap(st.Undecodable)}
		h.mu.Unlock()
	}
	defer publish()
	lastPublish := time.Now()
	for {
		data, ci, err := tp.ZeroCopyReadPacketData()
		if err != nil {
			if n > 0 {
				emit(chunk[:n])
				n = 0
			}
			if errors.Is(err, afpacket.ErrTimeout) || errors.Is(err, errInterrupted) {
				if ctx.Err() != nil {
					return nil
				}
				publish()
				lastPublish = time.Now()
				continue
			}
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("capture: read %s: %w", h.cfg.Interface, err)
		}
		ts := ci.Timestamp.UnixNano()
		derr := dec.Decode(data, h.link, ts, ci.Length, &chunk[n])
		st.Observe(derr)
		if derr != nil {
			continue
		}
		n++
		// Hand the chunk over when it is full, or when it has held packets
		// for maxChunkAge of capture time: a steady trickle never leaves
		// the socket idle, and must not wait for 256 packets.
		if n == len(chunk) || ts-chunk[0].Time >= int64(maxChunkAge) {
			emit(chunk[:n])
			n = 0
			if st.Packets&0x3FFF == 0 && time.Since(lastPublish) > time.Second {
				if ctx.Err() != nil {
					return nil
				}
				publish()
				lastPublish = time.Now()
			}
		}
	}
}

func cloneMap(m map[string]uint64) map[string]uint64 {
	c := make(map[string]uint64, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// Stats returns the kernel's counters of all sockets and the decoding
// counts so far. Decoding counts are updated by each reader at least once a
// second while packets flow, on every idle poll, and when Run returns.
func (h *Handle) Stats() (Stats, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out Stats
	for _, tp := range h.socks {
		// SocketStats returns the totals since the socket opened (the
		// kernel resets its counters on each read; afpacket adds them up).
		_, v3, err := tp.SocketStats()
		if err != nil {
			return Stats{}, fmt.Errorf("capture: kernel statistics of %s: %w", h.cfg.Interface, err)
		}
		out.KernelPackets += uint64(v3.Packets())
		out.KernelDrops += uint64(v3.Drops())
		out.Freezes += uint64(v3.QueueFreezes())
	}
	out.Decode.Undecodable = map[string]uint64{}
	for _, d := range h.decode {
		out.Decode.Add(d)
	}
	return out, nil
}

// Close closes the sockets. Call it after Run has returned.
func (h *Handle) Close() {
	for _, tp := range h.socks {
		tp.Close()
	}
	h.socks = nil
}
