package packet

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

// readBufferSize is the size of the Reader's input buffer.
const readBufferSize = 64 << 10

// A Reader reads a pcap or pcapng capture and decodes its packets into
// Summaries. It reads each record into a reused buffer and does not allocate
// per packet. A Reader is not safe for concurrent use.
type Reader struct {
	name   string
	format string
	src    source
	dec    Decoder
	stats  Stats
	closer io.Closer
	err    error // sticky error that ended reading
}

// Open opens the capture file at path; see NewReader. The caller must Close
// the Reader.
func Open(path string) (*Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("packet: open %s: %w", path, err)
	}
	r, err := newReader(f, path)
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	r.closer = f
	return r, nil
}

// NewReader returns a Reader of the capture in r, which is read through a
// buffer. The format is chosen by the magic number: pcap (either byte order,
// micro- or nanosecond timestamps) or pcapng (any number of sections and
// interfaces, each with its own link type and timestamp resolution); gzip
// compressed input is uncompressed first. As in Wireshark, capture lengths
// above the header's snap length are accepted, the swapped lengths of pcap
// files before version 2.3 are put right, and capture lengths above 256 KiB
// mean corruption. pcapng simple packet blocks have no timestamp: their
// Summaries have Time 0. It returns an error wrapping
// ErrUnknownFormat for other input and ErrCorruptFile for a truncated file
// header.
func NewReader(r io.Reader) (*Reader, error) { return newReader(r, "") }

func newReader(r io.Reader, name string) (*Reader, error) {
	rd := &Reader{name: name}
	br := bufio.NewReaderSize(r, readBufferSize)
	magic, err := br.Peek(4)
	if len(magic) >= 2 && magic[0] == 0x1F && magic[1] == 0x8B {
		zr, zerr := gzip.NewReader(br)
		if zerr != nil {
			return nil, rd.wrap("open", readError(zerr, "gzip header"))
		}
		br = bufio.NewReaderSize(zr, readBufferSize)
		magic, err = br.Peek(4)
		if err != nil && !errors.Is(err, io.EOF) {
			err = readError(err, "gzip")
		}
	}
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = fmt.Errorf("%w: %d bytes", ErrUnknownFormat, len(magic))
		}
		return nil, rd.wrap("open", err)
	}
	switch binary.LittleEndian.Uint32(magic) {
	case pcapMagicMicros, pcapMagicNanos, pcapMagicMicrosBE, pcapMagicNanosBE:
		rd.format = "pcap"
		rd.src, err = newPcapSource(br)
	case ngSectionHeader:
		rd.format = "pcapng"
		rd.src, err = newPcapngSource(br)
	default:
		err = fmt.Errorf("%w: magic %#08x", ErrUnknownFormat, binary.BigEndian.Uint32(magic))
	}
	if err != nil {
		return nil, rd.wrap("open", err)
	}
	return rd, nil
}

func (r *Reader) wrap(op string, err error) error {
	if r.name == "" {
		return fmt.Errorf("packet: %s: %w", op, err)
	}
	return fmt.Errorf("packet: %s %s: %w", op, r.name, err)
}

// Format returns "pcap" or "pcapng".
func (r *Reader) Format() string { return r.format }

// Next decodes the next decodable packet into s, overwriting every field.
// Packets that cannot be decoded are skipped and counted in Stats. At the
// end of the capture Next returns io.EOF; a truncated or corrupt capture
// ends with an error wrapping ErrCorruptFile instead, and an input error
// with that error, wrapped. After an error, Next keeps returning it.
func (r *Reader) Next(s *Summary) error {
	if r.err != nil {
		return r.err
	}
	for {
		data, link, ts, wire, err := r.src.next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				r.err = io.EOF
			} else {
				r.err = r.wrap("read", err)
			}
			return r.err
		}
		err = r.dec.decode(data, link, ts, wire, s)
		r.stats.Observe(err)
		if err == nil {
			return nil
		}
	}
}

// Stats returns the counts of the packets read so far.
func (r *Reader) Stats() Stats { return r.stats.clone() }

// Close closes the file opened by Open; for a Reader from NewReader it does
// nothing.
func (r *Reader) Close() error {
	if r.closer == nil {
		return nil
	}
	err := r.closer.Close()
	r.closer = nil
	if err != nil {
		return r.wrap("close", err)
	}
	return nil
}
