package ops

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Input holds the counters of one input of a producer (e.g. "syslog"): what
// it received, by transport, and what it dropped, by reason. Records it
// produced and dead-lettered are counted by Metrics.Produced and
// Metrics.DeadLetter. A nil *Input records nothing.
type Input struct {
	name string
	v    *inputVecs
}

type inputVecs struct {
	received *prometheus.CounterVec
	dropped  *prometheus.CounterVec
}

// Input returns the counters of the named input. Its collectors,
// riptide_input_received_total{input, transport} and
// riptide_input_dropped_total{input, reason}, are registered on the first
// call. A nil *Metrics returns nil.
func (m *Metrics) Input(name string) (*Input, error) {
	if m == nil {
		return nil, nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.inputs == nil {
		v := &inputVecs{
			received: prometheus.NewCounterVec(prometheus.CounterOpts{
				Name: "riptide_input_received_total",
				Help: "Messages an input received (before parsing), by input and transport.",
			}, []string{"input", "transport"}),
			dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
				Name: "riptide_input_dropped_total",
				Help: "Messages or records an input dropped, by input and reason (buffer_full: the producer's buffer was full in drop mode; produce_failed: Kafka did not take the record).",
			}, []string{"input", "reason"}),
		}
		for _, c := range []prometheus.Collector{v.received, v.dropped} {
			if err := m.reg.Register(c); err != nil {
				return nil, err
			}
		}
		m.inputs = v
	}
	return &Input{name: name, v: m.inputs}, nil
}

// Received returns the counter of messages received over transport.
// Resolve it once, not per message.
func (in *Input) Received(transport string) prometheus.Counter {
	if in == nil {
		return discard()
	}
	return in.v.received.WithLabelValues(in.name, transport)
}

// Dropped returns the counter of messages dropped for reason.
func (in *Input) Dropped(reason string) prometheus.Counter {
	if in == nil {
		return discard()
	}
	return in.v.dropped.WithLabelValues(in.name, reason)
}
