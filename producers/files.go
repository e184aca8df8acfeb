package producers

import (
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/riptide-nids/riptide/packet"
)

// Files reads capture files one after another as a Source. A file that
// cannot be opened is an error; a file that turns out corrupt part-way is
// logged, counted in FileErrors, and reading goes on with the next file.
type Files struct {
	paths      []string
	cur        *packet.Reader
	stats      packet.Stats
	log        *slog.Logger
	FileErrors []string
}

// OpenFiles checks that every file opens and returns a Source over them.
// Corrupt files are logged to log (nil: not logged, only counted).
func OpenFiles(paths []string, log *slog.Logger) (*Files, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if len(paths) == 0 {
		return nil, errors.New("producers: no capture files given (use --pcap FILE)")
	}
	for _, p := range paths {
		r, err := packet.Open(p)
		if err != nil {
			return nil, fmt.Errorf("producers: %w", err)
		}
		_ = r.Close()
	}
	return &Files{paths: paths, log: log}, nil
}

// Next implements Source.
func (f *Files) Next(s *packet.Summary) error {
	for {
		if f.cur == nil {
			if len(f.paths) == 0 {
				return io.EOF
			}
			r, err := packet.Open(f.paths[0])
			if err != nil {
				return fmt.Errorf("producers: %w", err)
			}
			f.cur = r
		}
		err := f.cur.Next(s)
		if err == nil {
			return nil
		}
		if !errors.Is(err, io.EOF) {
			f.log.Warn("capture file ends early; going on with the next", "file", f.paths[0], "err", err)
			f.FileErrors = append(f.FileErrors, fmt.Sprintf("%s: %v", f.paths[0], err))
		}
		f.stats.Add(f.cur.Stats())
		_ = f.cur.Close()
		f.cur, f.paths = nil, f.paths[1:]
	}
}

// Stats returns the decoding counts of the files read so far.
func (f *Files) Stats() packet.Stats {
	s := packet.Stats{Undecodable: map[string]uint64{}}
	s.Add(f.stats)
	if f.cur != nil {
		s.Add(f.cur.Stats())
	}
	return s
}
