// Package metrics counts what the operator of one or several vscard instances watches, in
// Prometheus's format: orders moving through their states, GraphQL requests by operation
// and outcome, open subscriptions, the event listener, the database pool, and the Go
// runtime.
//
// Every label takes its values from a fixed set (the schema's root fields, the order
// states, the API's error codes), never from what a client sends, so the number of series
// stays bounded. A nil *Metrics counts nothing.
package metrics

import (
	"database/sql"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds one instance's counters.
type Metrics struct {
	registry      *prometheus.Registry
	transitions   *prometheus.CounterVec
	requests      *prometheus.CounterVec
	duration      *prometheus.HistogramVec
	subscriptions prometheus.Gauge
}

// Listener is the PostgreSQL event listener of an instance (events.Postgres), whose
// health its metrics report: subscriptions only hear of changes made through other
// instances while it is connected.
type Listener interface {
	BackendPID() uint32 // 0 while reconnecting
	Reconnects() int64
	Notices() int64
}

// New returns the counters of an instance whose database pool is db, and whose event
// listener is l (nil on SQLite, which has none).
func New(db *sql.DB, l Listener) *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		transitions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vscard_order_transitions_total",
			Help: "Orders that entered each state through this instance (STARTED: orders started).",
		}, []string{"state"}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vscard_graphql_requests_total",
			Help: "GraphQL queries and mutations by operation type, first root field and outcome (OK or the error code).",
		}, []string{"type", "field", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "vscard_graphql_request_duration_seconds",
			Help:    "Time from receiving a GraphQL query or mutation to its response, by operation type and first root field.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"type", "field"}),
		subscriptions: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "vscard_subscriptions",
			Help: "Subscriptions open on this instance.",
		}),
	}
	m.registry.MustRegister(m.transitions, m.requests, m.duration, m.subscriptions,
		collectors.NewDBStatsCollector(db, "vscard"),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if l != nil {
		m.registry.MustRegister(
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name: "vscard_events_listener_connected",
				Help: "1 while the PostgreSQL LISTEN connection that carries other instances' changes is up.",
			}, func() float64 {
				if l.BackendPID() == 0 {
					return 0
				}
				return 1
			}),
			prometheus.NewCounterFunc(prometheus.CounterOpts{
				Name: "vscard_events_listener_reconnects_total",
				Help: "Times the LISTEN connection came back after a loss (each time, every subscription re-reads its order).",
			}, func() float64 { return float64(l.Reconnects()) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{
				Name: "vscard_events_notices_total",
				Help: "Change notices received through the LISTEN connection.",
			}, func() float64 { return float64(l.Notices()) }))
	}
	return m
}

// Handler serves the metrics in Prometheus's text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

// OrderEntered counts an order entering state.
func (m *Metrics) OrderEntered(state string) {
	if m != nil {
		m.transitions.WithLabelValues(state).Inc()
	}
}

// Request counts a GraphQL query or mutation that took took and ended with outcome.
func (m *Metrics) Request(kind, field, outcome string, took time.Duration) {
	if m != nil {
		m.requests.WithLabelValues(kind, field, outcome).Inc()
		m.duration.WithLabelValues(kind, field).Observe(took.Seconds())
	}
}

// Subscribed counts an open subscription until the returned func is called.
func (m *Metrics) Subscribed() (closed func()) {
	if m == nil {
		return func() {}
	}
	m.subscriptions.Inc()
	return m.subscriptions.Dec
}
