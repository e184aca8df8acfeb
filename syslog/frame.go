package syslog

import (
	"bufio"
	"errors"
	"fmt"
	"io"
)

// Framing errors. A Framer that returns them can go on reading the stream.
var (
	// ErrOversized: a frame longer than the Framer's limit. Next returns its
	// first limit bytes and skips the rest.
	ErrOversized = errors.New("syslog: message too long")
	// ErrTruncated: the stream ended inside an octet-counted frame. Next
	// returns the bytes that arrived; the stream is over.
	ErrTruncated = errors.New("syslog: stream ended inside a message")
)

// DefaultMaxSize is the default limit of a message's length in bytes (RFC
// 5425 asks receivers to take at least 8,192 octets).
const DefaultMaxSize = 64 << 10

// maxCountDigits bounds the MSG-LEN of octet counting: 9 digits, below 1 GB.
const maxCountDigits = 9

// Framer splits a syslog stream (TCP or TLS) into messages as RFC 6587
// describes: each frame is either octet-counted ("LEN SP MSG", RFC 5425) or
// ends at a newline (non-transparent framing, with an optional CR before
// it). The framing is detected per frame, so a stream may mix both; a frame
// starts as octet-counted when it begins with a non-zero digit, at most 9
// digits and a space. Empty lines are skipped.
type Framer struct {
	r   *bufio.Reader
	max int
	buf []byte
}

// NewFramer returns a framer reading r, with messages limited to maxSize
// bytes (DefaultMaxSize if maxSize <= 0).
func NewFramer(r io.Reader, maxSize int) *Framer {
	if maxSize <= 0 {
		maxSize = DefaultMaxSize
	}
	return &Framer{r: bufio.NewReaderSize(r, 64<<10), max: maxSize}
}

// Next returns the next message. The slice is valid until the next call.
// It returns io.EOF at the end of the stream; ErrOversized and ErrTruncated
// come with the (cut) bytes of the message; any other error is the
// reader's.
func (f *Framer) Next() ([]byte, error) {
	for {
		n, ok, err := f.count()
		if err != nil {
			return nil, err
		}
		var b []byte
		if ok {
			b, err = f.counted(n)
		} else {
			b, err = f.line()
		}
		if len(b) == 0 && err == nil {
			continue // an empty line
		}
		return b, err
	}
}

// count peeks at the start of a frame: "LEN SP" of octet counting.
func (f *Framer) count() (n int, ok bool, err error) {
	head, err := f.r.Peek(maxCountDigits + 1)
	if len(head) == 0 {
		if err == nil {
			err = io.EOF
		}
		return 0, false, err
	}
	if head[0] < '1' || head[0] > '9' {
		return 0, false, nil
	}
	for i, c := range head {
		switch {
		case c >= '0' && c <= '9':
			n = n*10 + int(c-'0')
		case c == ' ' && i > 0:
			_, _ = f.r.Discard(i + 1)
			return n, true, nil
		default:
			return 0, false, nil
		}
	}
	return 0, false, nil
}

func (f *Framer) counted(n int) ([]byte, error) {
	keep := min(n, f.max)
	if cap(f.buf) < keep {
		f.buf = make([]byte, keep)
	}
	b := f.buf[:keep]
	got, err := io.ReadFull(f.r, b)
	if err != nil {
		return b[:got], fmt.Errorf("%w: %d of %d octets", ErrTruncated, got, n)
	}
	if n > keep {
		skipped, err := f.r.Discard(n - keep)
		if err != nil {
			return b, fmt.Errorf("%w: %d of %d octets", ErrTruncated, keep+skipped, n)
		}
		return b, fmt.Errorf("%w: %d octets, limit %d", ErrOversized, n, f.max)
	}
	return b, nil
}

func (f *Framer) line() ([]byte, error) {
	f.buf = f.buf[:0]
	total := 0
	for {
		chunk, err := f.r.ReadSlice('\n')
		total += len(chunk)
		if room := f.max + 2 - len(f.buf); room > 0 { // +2: the CR LF trimmed below
			f.buf = append(f.buf, chunk[:min(len(chunk), room)]...)
		}
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case err == nil:
		case errors.Is(err, io.EOF):
			if total == 0 {
				return nil, io.EOF
			}
		default:
			return nil, err
		}
		b := trimEOL(f.buf)
		if len(b) > f.max {
			return b[:f.max], fmt.Errorf("%w: a line longer than %d octets", ErrOversized, f.max)
		}
		return b, nil
	}
}

func trimEOL(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
	}
	if n := len(b); n > 0 && b[n-1] == '\r' {
		b = b[:n-1]
	}
	return b
}
