package ops

import (
	"github.com/prometheus/client_golang/prometheus"
)

// ReasonNotifyFailed is the riptide_deadletters_total reason of alerts the
// notifier could not deliver after its retries.
const ReasonNotifyFailed = "notify_failed"

// NotifyMetrics are the notifier's collectors (riptide notify). Its methods
// are safe for concurrent use and do nothing on a nil *NotifyMetrics.
type NotifyMetrics struct {
	notifications *prometheus.CounterVec
	retries       *prometheus.CounterVec
	queue         *prometheus.GaugeVec
	alerts        *prometheus.CounterVec
	suppressed    prometheus.Counter
}

// NewNotify registers the notifier's collectors on reg.
func NewNotify(reg prometheus.Registerer) (*NotifyMetrics, error) {
	m := &NotifyMetrics{
		notifications: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "riptide_notifications_total",
			Help: "Alerts per sink by result: sent, deadletter (failed every retry or permanently), dropped (queue full or shutdown).",
		}, []string{"sink", "result"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "riptide_notification_retries_total",
			Help: "Deliveries retried after a failure, per sink.",
		}, []string{"sink"}),
		queue: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "riptide_notification_queue_length",
			Help: "Alerts waiting for delivery, per sink.",
		}, []string{"sink"}),
		alerts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "riptide_incident_alerts_total",
			Help: "Incident changes that made an alert, by action: trigger, update, resolve.",
		}, []string{"action"}),
		suppressed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "riptide_anomalies_grouped_total",
			Help: "Anomalies grouped into an open incident without an alert of their own (suppressed), repeats not counted.",
		}),
	}
	for _, c := range []prometheus.Collector{m.notifications, m.retries, m.queue, m.alerts, m.suppressed} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	for _, a := range []string{"trigger", "update", "resolve"} {
		m.alerts.WithLabelValues(a)
	}
	return m, nil
}

// Notification counts an alert's result at a sink.
func (m *NotifyMetrics) Notification(sink, result string) {
	if m == nil {
		return
	}
	m.notifications.WithLabelValues(sink, result).Inc()
}

// Retried counts a retried delivery.
func (m *NotifyMetrics) Retried(sink string) {
	if m == nil {
		return
	}
	m.retries.WithLabelValues(sink).Inc()
}

// QueueLength sets a sink's queue length.
func (m *NotifyMetrics) QueueLength(sink string, n int) {
	if m == nil {
		return
	}
	m.queue.WithLabelValues(sink).Set(float64(n))
}

// Alert counts an incident change that made an alert.
func (m *NotifyMetrics) Alert(action string) {
	if m == nil {
		return
	}
	m.alerts.WithLabelValues(action).Inc()
}

// Grouped counts an anomaly grouped without an alert.
func (m *NotifyMetrics) Grouped() {
	if m == nil {
		return
	}
	m.suppressed.Inc()
}
