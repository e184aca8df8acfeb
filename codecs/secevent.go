package codecs

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"time"
)

// SecEventVersion is the format version of security event records.
const SecEventVersion = 1

// Roles of the host a security event record is keyed by.
const (
	// RoleSource: the key is the remote address the attempt came from.
	RoleSource = "source"
	// RoleTarget: the key is the host that reported the attempt (the
	// server tried).
	RoleTarget = "target"
)

// SecEvent is one security event record on the events topic, about the host
// of its key in the given role. A message about an attempt from A on server
// B yields two records: one keyed A (role source, peer B), one keyed B (role
// target, peer A). JSON, so that any Kafka client can read it.
type SecEvent struct {
	Version int `json:"v"`
	// Time is the message's time.
	Time time.Time `json:"time"`
	// Kind is the event's kind: failed_login, accepted_login,
	// invalid_user, break_in, auth_failure or sudo_failure.
	Kind string `json:"kind"`
	// Role is RoleSource or RoleTarget.
	Role string `json:"role"`
	// User is the account tried, if the message names it.
	User string `json:"user,omitempty"`
	// Peer is the other side: the server for a source record, the remote
	// address for a target record (invalid when unknown).
	Peer netip.Addr `json:"peer,omitzero"`
	// Reporter is the HOSTNAME of the message.
	Reporter string `json:"reporter,omitempty"`
	// Count is how many attempts the record stands for (at least 1).
	Count int `json:"count"`
}

// AppendSecEvent appends the JSON encoding of e.
func AppendSecEvent(dst []byte, e *SecEvent) ([]byte, error) {
	if e.Kind == "" || (e.Role != RoleSource && e.Role != RoleTarget) || e.Count < 1 {
		return dst, fmt.Errorf("codecs: security event: %w: needs a kind, role source or target and count >= 1", ErrInvalid)
	}
	v := *e
	v.Version = SecEventVersion
	b, err := json.Marshal(&v)
	if err != nil {
		return dst, fmt.Errorf("codecs: security event: %w: %w", ErrInvalid, err)
	}
	return append(dst, b...), nil
}

// DecodeSecEvent decodes a security event record.
func DecodeSecEvent(b []byte) (*SecEvent, error) {
	var e SecEvent
	if err := json.Unmarshal(b, &e); err != nil {
		return nil, fmt.Errorf("codecs: security event: %w: %w", ErrCorrupt, err)
	}
	if e.Version != SecEventVersion {
		return nil, fmt.Errorf("codecs: security event: %w %d", ErrUnknownVersion, e.Version)
	}
	if e.Kind == "" || (e.Role != RoleSource && e.Role != RoleTarget) || e.Count < 1 {
		return nil, fmt.Errorf("codecs: security event: %w: missing kind, role or count", ErrCorrupt)
	}
	return &e, nil
}

// SecEventCodec is the goka codec of security event records; its values are
// *SecEvent.
type SecEventCodec struct{}

// Encode encodes a *SecEvent.
func (SecEventCodec) Encode(value any) ([]byte, error) {
	if v, ok := value.(*SecEvent); ok && v != nil {
		return AppendSecEvent(nil, v)
	}
	return nil, wrongType("SecEventCodec", "*codecs.SecEvent", value)
}

// Decode decodes a record into a new *SecEvent.
func (SecEventCodec) Decode(data []byte) (any, error) {
	return DecodeSecEvent(data)
}
