// Package window is riptide's pure windowing and feature core: it turns
// packet summaries into one feature Vector per host and window. It imports
// neither goka nor Kafka; the windower processor, replays and backtests all
// use it.
//
// # Semantics
//
// Windows follow Kafka Streams: epoch-aligned tumbling windows
// [start, start+Size) on the packet timestamp (a packet exactly at a window's
// end belongs to the next one). The stream time is the largest packet time
// seen on an input partition; the caller keeps it. A packet whose window end
// is at or before stream time - Grace is late: it is dropped and counted. A
// window closes exactly once, emitting one final Vector, when the stream time
// reaches end + Grace. Config holds Size (default 10 s) and Grace (default
// 2 s).
//
// # Per-host state
//
// State is one host's open windows, its recent connection starts (the host
// history below), the offset of the last input record applied (for
// exactly-once replays after a crash) and a count of late packets: the
// windower's table value, keyed by the host's address text.
// State.Add decides the direction itself (sent when the host is the source,
// received when it is the destination, both for a packet to itself);
// State.Close emits closed windows. With a valid Config and Close after every
// Add, a State holds at most ceil((Size+Grace)/Size) windows (2 by default),
// and never more than MaxOpenWindows.
//
// Aggregator does the same for many hosts in memory, for backtests.
//
// # Host history
//
// Some attacks show only across windows: a beacon's fixed period, password
// guessing over an encrypted protocol (each window an ordinary-looking
// session, but the same service contacted again and again). State keeps the
// TCP connection starts (SYN without ACK) of the last 60 s as sender, per
// (destination, port), and as receiver, per (source, local port): 8
// services per side, each with its latest 16 start times (ms) and its counts
// in 10 s buckets (history.go explains the bounds). A window's history
// features are computed from the starts before its end, and frozen before
// the history records a later start, so they do not depend on when the
// window is closed. Services no open or future window can see are dropped.
// History costs nothing until a host sends or receives a SYN; encoded, about
// 10 bytes per service plus about 2 bytes per start time.
//
// # Features and bounded state
//
// Schema lists the features (48: volume and direction, fan-out and fan-in,
// TCP flags and unanswered SYNs, UDP, ICMP, ARP, DNS, entropies, size and
// timing, the host history, and security events from logs, added with
// State.AddEvent); SchemaID identifies it. Every value is finite and >= 0, ready
// for log1p.
//
// A window's accumulator has a bounded size whatever the traffic (two
// flood packets or two million): 1,008 bytes inline (counters, six
// distinct-count sketches, one heavy-hitter table, from internal/sketch),
// plus at most six 768-byte Dense blocks, so at most 5.6 kB. A distinct
// count is exact up to 8 keys (held inline) and beyond that a HyperLogLog of
// 512 one-byte registers (Ertl's estimator, standard error 4.6%) with a
// 64-bucket hashed histogram for entropy; the most SYNs to one service come
// from a 16-entry space-saving table. Keys are hashed with a MurmurHash3
// finaliser, without allocating; Dense blocks and accumulators are pooled.
//
// Encoded (State.MarshalBinary, written to the changelog on every update),
// an idle host's window takes about 140 bytes, a port scanner's about 830, a
// spoofed SYN flood victim's (37,000 sources in a window) about 520, or
// 1,200 if it also answers 200 of them (history included).
package window
