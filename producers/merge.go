package producers

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/riptide-nids/riptide/packet"
)

// MergeOptions configures a Merged source.
type MergeOptions struct {
	// Loops is how many times the files are read: 0 or 1 reads them once,
	// Forever again and again until the caller stops.
	Loops int
	// LoopGap is the event time put between the last packet of one pass and
	// the first of the next (default 1 s). Each pass is shifted forward by
	// the span of the files plus LoopGap, so event time keeps growing and
	// the windows of a later pass are not late.
	LoopGap time.Duration
	// RebaseTo, if not zero, shifts every packet time so that the first
	// packet of the first pass is at RebaseTo (e.g. time.Now(), to replay an
	// old capture as live traffic); the gaps between packets are kept.
	RebaseTo time.Time
}

// Forever as MergeOptions.Loops reads the files again and again.
const Forever = -1

// Merged reads several capture files at once and yields their packets merged
// by capture time (the files of several sensors, or of one sensor split by
// size, become one time-ordered stream; a file's own packets keep their
// order). It can loop over the files and shift their times (MergeOptions). A
// file that turns out corrupt part-way is logged, counted in FileErrors, and
// the other files go on. Merged is not safe for concurrent use.
type Merged struct {
	paths      []string
	opts       MergeOptions
	log        *slog.Logger
	heads      []mergeHead // one per open file, a min-heap by head time
	pass       int         // passes started (1 after the first open)
	offset     int64       // added to every packet time of the current pass
	passFirst  int64       // first and last raw packet time of the files (from the first pass)
	passLast   int64
	seenFirst  bool
	stats      packet.Stats // counts of the files closed so far
	FileErrors []string
}

type mergeHead struct {
	r    *packet.Reader
	path string
	idx  int // position in the file list, to break ties
	s    packet.Summary
}

// MergeFiles checks that every file opens and returns a Merged source over
// them. log, if not nil, gets a warning for each file that ends early.
func MergeFiles(paths []string, opts MergeOptions, log *slog.Logger) (*Merged, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if len(paths) == 0 {
		return nil, errors.New("producers: no capture files given (use --pcap FILE)")
	}
	if opts.Loops < Forever {
		return nil, fmt.Errorf("producers: loops %d: use Forever (-1) or a count", opts.Loops)
	}
	if opts.Loops == 0 {
		opts.Loops = 1
	}
	if opts.LoopGap <= 0 {
		opts.LoopGap = time.Second
	}
	m := &Merged{paths: paths, opts: opts, log: log, stats: packet.Stats{Undecodable: map[string]uint64{}}}
	if err := m.open(); err != nil {
		m.close()
		return nil, err
	}
	return m, nil
}

// open starts a pass: it opens every file and reads its first packet.
func (m *Merged) open() error {
	m.pass++
	for i, p := range m.paths {
		r, err := packet.Open(p)
		if err != nil {
			return fmt.Errorf("producers: %w", err)
		}
		h := mergeHead{r: r, path: p, idx: i}
		if m.advance(&h) {
			m.push(h)
		}
	}
	return nil
}

// advance reads h's next packet; false means the file is done (and closed).
func (m *Merged) advance(h *mergeHead) bool {
	err := h.r.Next(&h.s)
	if err == nil {
		return true
	}
	if !errors.Is(err, io.EOF) {
		m.log.Warn("capture file ends early; going on with the other files", "file", h.path, "err", err)
		m.FileErrors = append(m.FileErrors, fmt.Sprintf("%s: %v", h.path, err))
	}
	m.stats.Add(h.r.Stats())
	_ = h.r.Close()
	return false
}

// Next implements Source.
func (m *Merged) Next(s *packet.Summary) error {
	for len(m.heads) == 0 {
		if m.opts.Loops != Forever && m.pass >= m.opts.Loops || !m.seenFirst {
			return io.EOF
		}
		// The next pass starts LoopGap after the last packet of this one.
		m.offset += m.passLast - m.passFirst + int64(m.opts.LoopGap)
		if err := m.open(); err != nil {
			return err
		}
	}
	h := &m.heads[0]
	*s = h.s
	if m.pass == 1 {
		if !m.seenFirst {
			m.seenFirst = true
			m.passFirst = s.Time
			if !m.opts.RebaseTo.IsZero() {
				m.offset = m.opts.RebaseTo.UnixNano() - s.Time
			}
		}
		m.passFirst = min(m.passFirst, s.Time)
		m.passLast = max(m.passLast, s.Time)
	}
	s.Time += m.offset
	if m.advance(h) {
		m.down(0)
	} else {
		n := len(m.heads) - 1
		m.heads[0] = m.heads[n]
		m.heads = m.heads[:n]
		m.down(0)
	}
	return nil
}

func (m *Merged) push(h mergeHead) {
	m.heads = append(m.heads, h)
	for i := len(m.heads) - 1; i > 0; {
		p := (i - 1) / 2
		if !m.less(i, p) {
			break
		}
		m.heads[p], m.heads[i] = m.heads[i], m.heads[p]
		i = p
	}
}

// less orders heads by packet time, then by file order (stable merge).
func (m *Merged) less(i, j int) bool {
	a, b := &m.heads[i], &m.heads[j]
	return a.s.Time < b.s.Time || a.s.Time == b.s.Time && a.idx < b.idx
}

func (m *Merged) down(i int) {
	n := len(m.heads)
	for {
		l, small := 2*i+1, i
		if l < n && m.less(l, small) {
			small = l
		}
		if r := l + 1; r < n && m.less(r, small) {
			small = r
		}
		if small == i {
			return
		}
		m.heads[i], m.heads[small] = m.heads[small], m.heads[i]
		i = small
	}
}

// Passes returns how many passes over the files have started.
func (m *Merged) Passes() int { return m.pass }

// Stats returns the decoding counts of the files read so far.
func (m *Merged) Stats() packet.Stats {
	s := packet.Stats{Undecodable: map[string]uint64{}}
	s.Add(m.stats)
	for _, h := range m.heads {
		s.Add(h.r.Stats())
	}
	return s
}

// Close closes the files still open.
func (m *Merged) Close() error {
	m.close()
	return nil
}

func (m *Merged) close() {
	for _, h := range m.heads {
		_ = h.r.Close()
	}
	m.heads = nil
}
