package relay

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/riptide-nids/riptide/syslog"
)

// FollowConfig configures Follow.
type FollowConfig struct {
	// FromStart reads the file from its beginning; otherwise from its end
	// at the time Follow opens it (new lines only, like tail -F).
	FromStart bool
	// Once stops at the end of the file instead of following it (replay of
	// a finished log file; implies FromStart).
	Once bool
	// Poll is how often the end of a followed file is checked for new
	// lines and rotation (default 250 ms).
	Poll time.Duration
}

// Follow reads the log file at path line by line and hands each line to r,
// until ctx ends (or, with Once, until the end of the file). It follows the
// file across rotation like tail -F: when the path names a new file
// (renamed and recreated) it finishes the old one and continues with the
// new one from its start; when the file shrinks (truncated in place) it
// starts again from the beginning. A missing file is waited for.
func (r *Relay) Follow(ctx context.Context, path string, fc FollowConfig) error {
	if fc.Poll <= 0 {
		fc.Poll = 250 * time.Millisecond
	}
	if fc.Once {
		fc.FromStart = true
	}
	src := Source{Transport: "file", Name: path}
	p := r.NewParser()
	lines := syslog.NewLines(r.cfg.MaxSize)
	emit := func(line []byte, err error) { r.Handle(ctx, p, line, src, err) }
	buf := make([]byte, 256<<10)

	f, err := os.Open(path)
	if err != nil && (fc.Once || !errors.Is(err, os.ErrNotExist)) {
		return fmt.Errorf("relay: %w", err)
	}
	defer func() {
		if f != nil {
			_ = f.Close()
		}
	}()
	var off int64
	if f != nil && !fc.FromStart {
		if off, err = f.Seek(0, io.SeekEnd); err != nil {
			return fmt.Errorf("relay: %s: %w", path, err)
		}
	}
	tick := time.NewTicker(fc.Poll)
	defer tick.Stop()
	for {
		if f != nil {
			// Read to the current end.
			for {
				n, err := f.Read(buf)
				off += int64(n)
				lines.Feed(buf[:n], emit)
				if errors.Is(err, io.EOF) || (err == nil && n == 0) {
					break
				}
				if err != nil {
					return fmt.Errorf("relay: %s: %w", path, err)
				}
				if ctx.Err() != nil {
					return nil
				}
			}
			if fc.Once {
				lines.Flush(emit)
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		// Rotation or truncation?
		st, err := os.Stat(path)
		switch {
		case err != nil:
			continue // rotated away and not yet recreated: keep the old one
		case f == nil:
		case !sameFile(f, st):
			// Finish the old file (it may have grown since the last read).
			for {
				n, err := f.Read(buf)
				lines.Feed(buf[:n], emit)
				if n == 0 || err != nil {
					break
				}
			}
			lines.Flush(emit)
			_ = f.Close()
			f = nil
		case st.Size() < off:
			r.log.Info("syslog: file truncated; reading it from the start", "file", path)
			lines.Flush(emit)
			if _, err := f.Seek(0, io.SeekStart); err != nil {
				return fmt.Errorf("relay: %s: %w", path, err)
			}
			off = 0
			continue
		default:
			continue
		}
		nf, err := os.Open(path)
		if err != nil {
			continue
		}
		f, off = nf, 0
		r.log.Info("syslog: following file", "file", path)
	}
}

func sameFile(f *os.File, st os.FileInfo) bool {
	fst, err := f.Stat()
	return err == nil && os.SameFile(fst, st)
}
