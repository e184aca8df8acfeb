// Package ops is what an operator sees of a running riptide process:
// Prometheus metrics (the riptide_* collectors in Metrics, plus Go runtime
// and process collectors) and liveness and readiness, served over HTTP by
// Server on /metrics, /healthz and /readyz.
//
// Nothing here is global: callers build a registry (NewRegistry), register
// riptide's collectors on it (New) and pass the *Metrics to the processors,
// producers and pipeline that update it. A nil *Metrics is valid everywhere
// and records nothing, so code that runs without metrics (tests, backtests)
// passes nil.
//
// The metric names are a contract with alert rules and dashboards (see the
// README's Operations section); change them only together.
package ops

import (
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Reason labels of riptide_deadletters_total.
const (
	// ReasonBadKey: the record key is not what the topic's key must be
	// (a host address).
	ReasonBadKey = "bad_key"
	// ReasonUndecodable: the value does not decode (truncated or corrupt).
	ReasonUndecodable = "undecodable"
	// ReasonUnknownVersion: the value is in a format version this build
	// does not know (a newer producer).
	ReasonUnknownVersion = "unknown_version"
	// ReasonInvalid: the value decodes but breaks the schema (a feature
	// vector with the wrong number of values, NaN, no host, ...).
	ReasonInvalid = "invalid"
	// ReasonOther: anything else.
	ReasonOther = "other"
)

// Reasons lists every reason label; each has a series from the start.
var Reasons = []string{ReasonBadKey, ReasonUndecodable, ReasonUnknownVersion, ReasonInvalid, ReasonOther}

// Metrics holds riptide's collectors. Its methods are safe for concurrent
// use and do nothing on a nil *Metrics.
type Metrics struct {
	consumed      *prometheus.CounterVec
	produced      *prometheus.CounterVec
	lag           *prometheus.GaugeVec
	closeLatency  prometheus.Histogram
	windowsClosed prometheus.Counter
	late          prometheus.Counter
	scored        prometheus.Counter
	anomalies     prometheus.Counter
	score         prometheus.Histogram
	deadLetters   *prometheus.CounterVec
	modelVersion  prometheus.Gauge
	modelInfo     *prometheus.GaugeVec
	ready         prometheus.Gauge
	q             *quality // model quality (quality.go)

	mu          sync.Mutex
	notReady    string                         // why the process is not ready; "" when ready
	lagSeries   map[string]map[lagKey]struct{} // series per group, to drop vanished ones
	modelLabels []string                       // labels of the current riptide_model_info series
	model       atomic.Uint64                  // the version last set

	reg    prometheus.Registerer // for collectors registered later (Input, RegisterCapture)
	inputs *inputVecs
}

type lagKey struct {
	topic     string
	partition int32
}

// NewRegistry returns a registry with the Go runtime and process collectors
// registered, ready for New.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return reg
}

// Buckets of riptide_window_close_latency_seconds: from 1 ms (a window closed
// by the packet that moved stream time) to a minute (an idle host's window
// waiting for the closing visit of a slow instance).
var closeLatencyBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}

// Buckets of riptide_anomaly_score (score - threshold; negative is an
// anomaly).
var scoreBuckets = []float64{-20, -10, -5, -2, -1, -0.5, -0.25, 0, 0.25, 0.5, 1, 2, 5}

// New registers riptide's collectors on reg and returns them. It fails if
// reg already holds collectors with the same names.
func New(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		consumed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "riptide_records_consumed_total",
			Help: "Records a processor group consumed, by group and input topic.",
		}, []string{"group", "topic"}),
		produced: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "riptide_records_produced_total",
			Help: "Records producers wrote (acknowledged by Kafka), by topic; watermark records included.",
		}, []string{"topic"}),
		lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "riptide_consumer_lag",
			Help: "Records between a group's committed offset and the partition's high watermark.",
		}, []string{"group", "topic", "partition"}),
		closeLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "riptide_window_close_latency_seconds",
			Help:    "Wall-clock time from the moment stream time passed a window's end plus grace to the window's vector being emitted.",
			Buckets: closeLatencyBuckets,
		}),
		windowsClosed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "riptide_windows_closed_total",
			Help: "Windows the windower closed and emitted as feature vectors.",
		}),
		late: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "riptide_late_records_total",
			Help: "Packets that arrived after their window had closed (counted, not added).",
		}),
		scored: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "riptide_windows_scored_total",
			Help: "Windows the detector scored with a model.",
		}),
		anomalies: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "riptide_anomalies_total",
			Help: "Anomalies the detector emitted.",
		}),
		score: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "riptide_anomaly_score",
			Help:    "Score minus threshold of every scored window; below 0 is an anomaly.",
			Buckets: scoreBuckets,
		}),
		deadLetters: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "riptide_deadletters_total",
			Help: "Records written to the dead-letter topic, by reason.",
		}, []string{"reason"}),
		modelVersion: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "riptide_model_version",
			Help: "Version (generation) of the model in use; 0 while learning.",
		}),
		modelInfo: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "riptide_model_info",
			Help: "1 for the model in use, labelled with its version name and training time.",
		}, []string{"version", "trained_at"}),
		ready: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "riptide_ready",
			Help: "1 when the process does its job (processors running, producer connected), else 0.",
		}),
		notReady:  "starting",
		lagSeries: map[string]map[lagKey]struct{}{},
		reg:       reg,
	}
	for _, c := range []prometheus.Collector{
		m.consumed, m.produced, m.lag, m.closeLatency, m.windowsClosed, m.late, m.scored,
		m.anomalies, m.score, m.deadLetters, m.modelVersion, m.modelInfo, m.ready,
	} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	for _, r := range Reasons {
		m.deadLetters.WithLabelValues(r)
	}
	var err error
	if m.q, err = newQuality(reg); err != nil {
		return nil, err
	}
	return m, nil
}

// discard is the counter handed out by a nil *Metrics.
func discard() prometheus.Counter {
	return prometheus.NewCounter(prometheus.CounterOpts{Name: "discarded"})
}

// Consumed returns the counter of records group consumed from topic. Resolve
// it once, not per record. A nil *Metrics returns a counter nobody reads.
func (m *Metrics) Consumed(group, topic string) prometheus.Counter {
	if m == nil {
		return discard()
	}
	return m.consumed.WithLabelValues(group, topic)
}

// Produced returns the counter of records written to topic (see Consumed).
func (m *Metrics) Produced(topic string) prometheus.Counter {
	if m == nil {
		return discard()
	}
	return m.produced.WithLabelValues(topic)
}

// WindowClosed counts a closed window. latency is the wall-clock time since
// stream time passed the window's end plus grace; a negative latency (not
// measured, e.g. a window closed by an idle flush, which stream time never
// passed) is not observed.
func (m *Metrics) WindowClosed(latency time.Duration) {
	if m == nil {
		return
	}
	m.windowsClosed.Inc()
	if latency >= 0 {
		m.closeLatency.Observe(latency.Seconds())
	}
}

// Late counts n late packets.
func (m *Metrics) Late(n int) {
	if m == nil || n <= 0 {
		return
	}
	m.late.Add(float64(n))
}

// Scored counts a scored window with its score minus the threshold, and an
// anomaly if anomaly is set.
func (m *Metrics) Scored(margin float64, anomaly bool) {
	if m == nil {
		return
	}
	m.scored.Inc()
	m.score.Observe(margin)
	if anomaly {
		m.anomalies.Inc()
	}
}

// DeadLetter counts a record written to the dead-letter topic; reason is one
// of the Reason constants.
func (m *Metrics) DeadLetter(reason string) {
	if m == nil {
		return
	}
	m.deadLetters.WithLabelValues(reason).Inc()
}

// SetModel records the model in use: its version number (0 while
// learning), its name (e.g. "default-v1") and when it was trained.
func (m *Metrics) SetModel(version uint64, name string, trainedAt time.Time) {
	if m == nil {
		return
	}
	if m.model.Load() == version {
		return // called for every scored window: the common case is cheap
	}
	m.model.Store(version)
	m.modelVersion.Set(float64(version))
	labels := []string{name, trainedAt.UTC().Format(time.RFC3339)}
	m.mu.Lock()
	defer m.mu.Unlock()
	if version == 0 || (len(m.modelLabels) == 2 && m.modelLabels[0] == labels[0] && m.modelLabels[1] == labels[1]) {
		return
	}
	if m.modelLabels != nil {
		m.modelInfo.DeleteLabelValues(m.modelLabels...)
	}
	m.modelLabels = labels
	m.modelInfo.WithLabelValues(labels...).Set(1)
}

// SetLag replaces the lag series of group with lags (topic -> partition ->
// records behind the high watermark); series of partitions no longer in
// lags are removed.
func (m *Metrics) SetLag(group string, lags map[string]map[int32]int64) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	seen := make(map[lagKey]struct{})
	for topic, parts := range lags {
		for part, n := range parts {
			k := lagKey{topic, part}
			seen[k] = struct{}{}
			m.lag.WithLabelValues(group, topic, strconv.Itoa(int(part))).Set(float64(n))
		}
	}
	for k := range m.lagSeries[group] {
		if _, ok := seen[k]; !ok {
			m.lag.DeleteLabelValues(group, k.topic, strconv.Itoa(int(k.partition)))
		}
	}
	m.lagSeries[group] = seen
}

// SetReady sets readiness: ready, or not with a short reason that /readyz
// returns.
func (m *Metrics) SetReady(ready bool, reason string) {
	if m == nil {
		return
	}
	if !ready && reason == "" {
		reason = "not ready"
	}
	if ready {
		reason = ""
	}
	m.mu.Lock()
	m.notReady = reason
	m.mu.Unlock()
	if ready {
		m.ready.Set(1)
	} else {
		m.ready.Set(0)
	}
}

// Ready reports readiness and, when not ready, why.
func (m *Metrics) Ready() (bool, string) {
	if m == nil {
		return false, "no metrics"
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.notReady == "", m.notReady
}
