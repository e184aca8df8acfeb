package codecs

import "errors"

// Sentinel errors. Every error returned by this package wraps one of them
// (errors.Is) and carries a "codecs: " prefix and the record kind.
var (
	// ErrUnknownVersion means the record's header names a format version
	// this build does not know (a producer newer than the consumer). The
	// record is intact; a newer consumer can read it.
	ErrUnknownVersion = errors.New("unknown format version")

	// ErrTruncated means the record ends before the data its header or
	// counts announce; typically a cut or partial record.
	ErrTruncated = errors.New("truncated record")

	// ErrCorrupt means the record cannot be decoded: wrong magic byte,
	// reserved bits set, values out of range, trailing bytes, invalid JSON
	// or missing required fields.
	ErrCorrupt = errors.New("corrupt record")

	// ErrInvalid means a value cannot be encoded: it breaks a limit of the
	// format (a host longer than 255 bytes, more than MaxVectorValues
	// values), lacks a required field, or has the wrong Go type for a goka
	// codec adapter.
	ErrInvalid = errors.New("invalid value")
)
