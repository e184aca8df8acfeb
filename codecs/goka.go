package codecs

import (
	"fmt"

	"github.com/riptide-nids/riptide/packet"
	"github.com/riptide-nids/riptide/window"
)

// The adapters below implement goka.Codec (Encode(any) ([]byte, error) and
// Decode([]byte) (any, error)) without importing goka. They are stateless and
// safe for concurrent use. Every Decode returns a freshly allocated value that
// the caller owns, because goka hands decoded values to callbacks that may
// keep them. Encode fails with ErrInvalid for a value of the wrong type.

// PacketBatch is the goka codec of packet batch records (format version 1).
// Its values are []packet.Summary.
type PacketBatch struct{}

// Encode encodes a []packet.Summary (or *[]packet.Summary).
func (PacketBatch) Encode(value any) ([]byte, error) {
	switch v := value.(type) {
	case []packet.Summary:
		return AppendPacketBatch(nil, v), nil
	case *[]packet.Summary:
		if v != nil {
			return AppendPacketBatch(nil, *v), nil
		}
	}
	return nil, wrongType("PacketBatch", "[]packet.Summary", value)
}

// Decode decodes a packet batch record into a new []packet.Summary.
func (PacketBatch) Decode(data []byte) (any, error) {
	sums, err := DecodePacketBatch(data, nil)
	if err != nil {
		return nil, err
	}
	return sums, nil
}

// Vector is the goka codec of feature vector records (format version 1). Its
// values are *window.Vector.
type Vector struct{}

// Encode encodes a *window.Vector (or window.Vector).
func (Vector) Encode(value any) ([]byte, error) {
	switch v := value.(type) {
	case *window.Vector:
		if v != nil {
			return AppendVector(nil, v)
		}
	case window.Vector:
		return AppendVector(nil, &v)
	}
	return nil, wrongType("Vector", "*window.Vector", value)
}

// Decode decodes a feature vector record into a new *window.Vector.
func (Vector) Decode(data []byte) (any, error) {
	v := new(window.Vector)
	if err := DecodeVector(data, v); err != nil {
		return nil, err
	}
	return v, nil
}

// AnomalyJSON is the goka codec of anomaly records (JSON). Its values are
// *Anomaly.
type AnomalyJSON struct{}

// Encode encodes an *Anomaly (or Anomaly) with EncodeAnomaly.
func (AnomalyJSON) Encode(value any) ([]byte, error) {
	switch v := value.(type) {
	case *Anomaly:
		if v != nil {
			return EncodeAnomaly(v)
		}
	case Anomaly:
		return EncodeAnomaly(&v)
	}
	return nil, wrongType("AnomalyJSON", "*codecs.Anomaly", value)
}

// Decode decodes an anomaly with DecodeAnomaly.
func (AnomalyJSON) Decode(data []byte) (any, error) {
	a, err := DecodeAnomaly(data)
	if err != nil {
		return nil, err
	}
	return a, nil
}

// Bytes is the goka codec of opaque records (dead letters, raw captures). Its
// values are []byte, passed through without copying, as goka's own
// codec.Bytes does; a nil value encodes as nil.
type Bytes struct{}

// Encode returns value, which must be a []byte or nil.
func (Bytes) Encode(value any) ([]byte, error) {
	switch v := value.(type) {
	case []byte:
		return v, nil
	case nil:
		return nil, nil
	}
	return nil, wrongType("Bytes", "[]byte", value)
}

// Decode returns data itself.
func (Bytes) Decode(data []byte) (any, error) { return data, nil }

func wrongType(codec, want string, got any) error {
	return fmt.Errorf("codecs: %s.Encode: value of type %T, want %s: %w", codec, got, want, ErrInvalid)
}
