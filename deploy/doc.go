// Package deploy holds riptide's deployment artifacts: the compose stack
// (compose/), the Helm chart (helm/riptide), the systemd unit (systemd/),
// Prometheus rules and configuration (prometheus/) and the Grafana dashboard
// (grafana/). It has no Go code of its own; its tests check the artifacts
// against the real riptide binary: every riptide command line they contain
// must name existing subcommands and flags with values the binary accepts,
// and every riptide metric they query must be one the binary exports.
package deploy
