package syslog

import "fmt"

// Lines splits a growing byte stream (a log file being written) into lines
// without losing a line that is still being written: Feed emits complete
// lines only and keeps the rest for the next Feed. A line longer than the
// limit is emitted once, cut to the limit, with ErrOversized, and the rest of
// it is skipped. Empty lines are skipped; a CR before the newline is
// dropped. The zero value is not usable: use NewLines.
type Lines struct {
	max      int
	buf      []byte
	skipping bool // inside an oversized line already emitted
}

// NewLines returns a splitter with lines limited to maxSize bytes
// (DefaultMaxSize if maxSize <= 0).
func NewLines(maxSize int) *Lines {
	if maxSize <= 0 {
		maxSize = DefaultMaxSize
	}
	return &Lines{max: maxSize}
}

// Feed adds data and calls emit for every line it completes. The line is
// valid only during the call.
func (l *Lines) Feed(data []byte, emit func(line []byte, err error)) {
	for len(data) > 0 {
		i := indexLF(data)
		if i < 0 {
			if !l.skipping {
				l.buf = append(l.buf, data...)
				if len(l.buf) > l.max {
					l.oversized(emit)
				}
			}
			return
		}
		if l.skipping {
			l.skipping = false
		} else {
			l.buf = append(l.buf, data[:i]...)
			if len(l.buf) > l.max {
				l.oversized(emit)
				l.skipping = false
			} else {
				l.emit(emit)
			}
		}
		l.buf = l.buf[:0]
		data = data[i+1:]
	}
}

// Flush emits what is left as a last line (a file that does not end with a
// newline).
func (l *Lines) Flush(emit func(line []byte, err error)) {
	if !l.skipping && len(l.buf) > 0 {
		l.emit(emit)
	}
	l.buf, l.skipping = l.buf[:0], false
}

// Pending returns the number of bytes held of an incomplete line.
func (l *Lines) Pending() int { return len(l.buf) }

func (l *Lines) emit(emit func([]byte, error)) {
	b := l.buf
	if n := len(b); n > 0 && b[n-1] == '\r' {
		b = b[:n-1]
	}
	if len(b) > 0 {
		emit(b, nil)
	}
}

func (l *Lines) oversized(emit func([]byte, error)) {
	emit(l.buf[:l.max], fmt.Errorf("%w: a line longer than %d octets", ErrOversized, l.max))
	l.buf = l.buf[:0]
	l.skipping = true
}

func indexLF(b []byte) int {
	for i, c := range b {
		if c == '\n' {
			return i
		}
	}
	return -1
}
