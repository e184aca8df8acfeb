// Package topology declares every Kafka topic, consumer group and table of
// riptide in one place: names (under a configurable prefix), partition counts,
// cleanup policies and the codec of each topic's values. Nothing else in
// riptide writes a topic name.
//
// Keys are host addresses in their canonical text form (netip.Addr.String) on
// every host-keyed topic; producers must hash them with the goka-compatible
// partitioner (see package kclient) so that a host's packets, windows and
// state meet in the same partition.
package topology

import (
	"errors"
	"fmt"
	"regexp"

	"github.com/lovoo/goka"

	"github.com/riptide-nids/riptide/codecs"
)

// DefaultPrefix is the name prefix of every topic and group.
const DefaultPrefix = "riptide"

// DefaultPartitions is the partition count topics are created with. It caps
// the number of consumer-group members that can share the work, so it is
// chosen for the largest deployment rather than the smallest.
const DefaultPartitions = 12

// Cleanup policies.
const (
	CleanupDelete  = "delete"
	CleanupCompact = "compact"
)

// ErrBadPrefix is returned by New for a prefix that is not a valid Kafka
// topic name component.
var ErrBadPrefix = errors.New("topology: bad prefix")

// Topic describes one Kafka topic.
type Topic struct {
	// Name is the full topic name, prefix included.
	Name string
	// Cleanup is CleanupDelete or CleanupCompact.
	Cleanup string
	// Codec encodes and decodes the topic's record values.
	Codec goka.Codec
	// Key and Value document the record key and value.
	Key, Value string
	// EventTime is true for topics whose record timestamps are event time
	// (capture or log time, possibly long past); they are retained by size,
	// not time.
	EventTime bool
	// CreatedBy says who creates the topic: "riptide topics create" or goka
	// (group tables and loopback topics, which topics create makes up front
	// too, so that partitions and replication are under the operator's
	// control).
	CreatedBy string
}

// Stream returns the topic as a goka stream name.
func (t Topic) Stream() goka.Stream { return goka.Stream(t.Name) }

// Table returns the topic as a goka table name.
func (t Topic) Table() goka.Table { return goka.Table(t.Name) }

// Topology is the complete set of names for one riptide deployment.
type Topology struct {
	// Prefix is the common name prefix ("riptide").
	Prefix string

	// Packets carries batches of packet summaries, one record per host per
	// short interval, keyed by host; a record without a key is a watermark
	// that advances the partition's stream time.
	Packets Topic
	// Syslog carries raw syslog messages, one record per message, keyed by
	// the reporting host (the message's HOSTNAME, else the sender's
	// address), stamped with the message's time (riptide syslog).
	Syslog Topic
	// Events carries security events extracted from syslog messages (JSON,
	// codecs.SecEvent), one record per event and host it concerns, keyed by
	// that host's address: a failed login from A on server B is a record
	// keyed A (role source) and one keyed B (role target).
	Events Topic
	// Flows carries flow records (producers land in a later release).
	Flows Topic
	// Features carries one final feature vector per (host, window).
	Features Topic
	// Anomalies carries one JSON anomaly per flagged (host, window).
	Anomalies Topic
	// Feedback carries analysts' verdicts on windows (alerted or sampled),
	// keyed by window id and compacted: the latest verdict per window stays.
	Feedback Topic
	// Control carries commands to the trainer (promote, rollback), keyed by
	// model name.
	Control Topic
	// DeadLetter carries records that could not be processed, with the
	// reason in the header "riptide-reason" and the source topic in
	// "riptide-source".
	DeadLetter Topic

	// Windower turns packets into per-host windows; its table holds each
	// host's open windows.
	Windower goka.Group
	// Trainer learns models from feature vectors; its table holds the model
	// per model name.
	Trainer goka.Group
	// Detector scores feature vectors; its table holds per-host scoring
	// state (pending windows, last scored window for de-duplication).
	Detector goka.Group
	// Notifier turns anomalies into alerts (Slack, PagerDuty, webhooks);
	// its table holds each host's incident.
	Notifier goka.Group
}

var prefixRE = regexp.MustCompile(`^[a-zA-Z0-9._-]{1,100}$`)

// New returns the topology under the given prefix.
func New(prefix string) (*Topology, error) {
	if !prefixRE.MatchString(prefix) {
		return nil, fmt.Errorf("%w %q: use 1-100 characters of [a-zA-Z0-9._-]", ErrBadPrefix, prefix)
	}
	stream := func(name, cleanup string, c goka.Codec, key, value string) Topic {
		return Topic{Name: prefix + "." + name, Cleanup: cleanup, Codec: c, Key: key, Value: value, CreatedBy: "riptide topics create"}
	}
	return &Topology{
		Prefix:     prefix,
		Packets:    eventTime(stream("packets", CleanupDelete, codecs.PacketBatch{}, "host address", "packet batch (binary v1)")),
		Syslog:     eventTime(stream("syslog", CleanupDelete, codecs.Bytes{}, "reporting host", "syslog message (raw)")),
		Events:     eventTime(stream("events", CleanupDelete, codecs.SecEventCodec{}, "host address", "security event (JSON v1)")),
		Flows:      eventTime(stream("flows", CleanupDelete, codecs.Bytes{}, "host address", "flow record (raw)")),
		Features:   stream("features", CleanupDelete, codecs.Vector{}, "host address", "feature vector (binary v1)"),
		Anomalies:  stream("anomalies", CleanupDelete, codecs.AnomalyJSON{}, "host address", "anomaly (JSON)"),
		Feedback:   stream("feedback", CleanupCompact, codecs.FeedbackJSON{}, "window id (anomaly id)", "verdict with feature values (JSON v1, codecs/FEEDBACK.md)"),
		Control:    stream("control", CleanupDelete, codecs.Bytes{}, "model name", "trainer command (JSON)"),
		DeadLetter: stream("deadletter", CleanupDelete, codecs.Bytes{}, "original key", "original value"),
		Windower:   goka.Group(prefix + "-windower"),
		Trainer:    goka.Group(prefix + "-trainer"),
		Detector:   goka.Group(prefix + "-detector"),
		Notifier:   goka.Group(prefix + "-notifier"),
	}, nil
}

func eventTime(t Topic) Topic {
	t.EventTime = true
	return t
}

// MustNew is New for prefixes known to be valid (tests, DefaultPrefix).
func MustNew(prefix string) *Topology {
	t, err := New(prefix)
	if err != nil {
		panic(err)
	}
	return t
}

// Streams returns the topics that `riptide topics create` creates for the
// data flow, in pipeline order.
func (t *Topology) Streams() []Topic {
	return []Topic{t.Packets, t.Syslog, t.Events, t.Flows, t.Features, t.Anomalies, t.Feedback, t.Control, t.DeadLetter}
}

// Groups returns every consumer group.
func (t *Topology) Groups() []goka.Group {
	return []goka.Group{t.Windower, t.Trainer, t.Detector, t.Notifier}
}

// GroupTopics returns the group tables (compacted) and loopback topics of
// every group that has them. Goka would create them on first start; riptide
// creates them up front with the operator's partitions and replication.
func (t *Topology) GroupTopics() []Topic {
	table := func(g goka.Group, value string) Topic {
		return Topic{Name: string(goka.GroupTable(g)), Cleanup: CleanupCompact, Codec: codecs.Bytes{}, Key: "see group", Value: value, CreatedBy: "goka (or riptide topics create)"}
	}
	return []Topic{
		table(t.Windower, "per-host window state"),
		table(t.Trainer, "model per model name"),
		table(t.Detector, "per-host scoring state"),
		table(t.Notifier, "per-host incident (JSON)"),
	}
}

// Loops returns the loopback topics of the groups that use one.
func (t *Topology) Loops() []Topic {
	return []Topic{{
		Name: t.TrainerLoop(), Cleanup: CleanupDelete, Codec: codecs.Bytes{},
		Key: "model name", Value: "feature vector (binary v1), feedback or trainer command (JSON)", CreatedBy: "goka (or riptide topics create)",
	}}
}

// TrainerLoop returns the name of the trainer's loopback topic.
func (t *Topology) TrainerLoop() string { return string(t.Trainer) + "-loop" }

// All returns every topic riptide uses: streams, group tables and loops.
func (t *Topology) All() []Topic {
	all := append([]Topic{}, t.Streams()...)
	all = append(all, t.GroupTopics()...)
	return append(all, t.Loops()...)
}
