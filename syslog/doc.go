// Package syslog is riptide's pure syslog core: framing of syslog streams
// (RFC 6587 octet counting and newline framing, as used over TCP and TLS,
// RFC 5425), parsing of RFC 5424 and RFC 3164 messages (with
// github.com/leodido/go-syslog/v4's parsers) and extraction of security events
// (failed and accepted logins, invalid users, reverse-mapping break-in
// warnings, PAM authentication failures, sudo failures) from message text.
//
// Nothing here imports Kafka: package syslog/relay receives messages from the
// network and files and produces them. Every function that reads outside
// bytes (Framer, Parser.Parse, Extract) has a fuzz target.
package syslog
