// Package codecs defines riptide's wire formats, one per topic, and the goka
// codecs that carry them:
//
//   - packet batches (riptide.packets): a compact binary batch of
//     packet.Summary values of one host, keyed by the host's address text;
//     AppendPacketBatch and DecodePacketBatch, goka codec PacketBatch.
//   - feature vectors (riptide.features): one window.Vector in binary;
//     AppendVector and DecodeVector, goka codec Vector.
//   - anomalies (riptide.anomalies): JSON for people and other tools;
//     Anomaly, EncodeAnomaly and DecodeAnomaly, goka codec AnomalyJSON.
//   - opaque bytes (dead letters): goka codec Bytes.
//
// The binary formats start with a magic byte naming the record kind ('P' or
// 'V') and a version byte (1). A decoder rejects a version it does not know
// with ErrUnknownVersion, so producers and consumers can be upgraded one at a
// time: a new version is added next to the old one, decoders first. The byte
// layouts are documented in FORMAT.md and the JSON in ANOMALY.md; golden files
// in testdata/ pin every version, so a format change cannot happen by
// accident (go test ./codecs -update rewrites them).
//
// Decoders see outside bytes and are fuzzed: they never panic, check every
// length and count against the bytes that remain before allocating, reject
// trailing bytes, and return errors that wrap ErrTruncated, ErrCorrupt or
// ErrUnknownVersion with a "codecs: " prefix, suitable as a dead-letter
// reason. The binary decoders reuse the caller's memory and do not allocate
// in steady state.
//
// The package is pure: it imports neither goka nor a Kafka client; the
// adapters satisfy goka.Codec structurally.
package codecs
