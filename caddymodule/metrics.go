package caddymodule

import (
	"errors"
	"sync"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/rcchat/caddy-whmcs-auth/edge"
	"github.com/rcchat/caddy-whmcs-auth/webhooks"
)

// metrics are created once per process: each config load hands out a new
// registry, and re-registering the same collectors on it keeps counters
// counting across reloads instead of restarting at zero. Every metric is
// named caddy_whmcs_auth_*, and every label takes values from a set fixed
// by the code (actions, outcomes, job kinds, event types).
type metrics struct {
	edge     *edge.Metrics
	webhooks *webhooks.Metrics
	// whmcsCalls counts WHMCS API requests by action and outcome (ok,
	// auth, business, transport).
	whmcsCalls *prometheus.CounterVec
	// whmcsDuration times WHMCS API requests by action.
	whmcsDuration *prometheus.HistogramVec
	// jobRuns counts outbox job runs by kind and outcome (done, retry,
	// failed).
	jobRuns *prometheus.CounterVec
	// state reads the outbox and session gauges from the open state files
	// when scraped.
	state *stateCollector
}

var (
	metricsOnce sync.Once
	theMetrics  *metrics
)

func sharedMetrics() *metrics {
	metricsOnce.Do(func() { theMetrics = newMetrics() })
	return theMetrics
}

func newMetrics() *metrics {
	const ns, sub = "caddy", "whmcs_auth"
	return &metrics{
		edge:     edge.NewMetrics(),
		webhooks: webhooks.NewMetrics(),
		whmcsCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "whmcs_calls_total",
			Help: "WHMCS API requests by action and outcome (ok, auth, business, transport).",
		}, []string{"action", "outcome"}),
		whmcsDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: ns, Subsystem: sub, Name: "whmcs_call_duration_seconds",
			Help: "Duration of WHMCS API requests by action, failures included.",
			// WHMCS is PHP on shared hosting: answers take tens of
			// milliseconds to seconds, and a call gives up after 15s.
			Buckets: []float64{0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30},
		}, []string{"action"}),
		jobRuns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "outbox_job_runs_total",
			Help: "Outbox job runs by job kind and outcome (done, retry, failed).",
		}, []string{"kind", "outcome"}),
		state: newStateCollector(ns, sub),
	}
}

func (m *metrics) collectors() []prometheus.Collector {
	out := append(m.edge.Collectors(), m.webhooks.Collectors()...)
	return append(out, m.whmcsCalls, m.whmcsDuration, m.jobRuns, m.state)
}

// observeWHMCS is the WHMCS client's Observer.
func (m *metrics) observeWHMCS(action, outcome string, took time.Duration) {
	m.whmcsCalls.WithLabelValues(action, outcome).Inc()
	m.whmcsDuration.WithLabelValues(action).Observe(took.Seconds())
}

// observeJob is the outbox's Observer.
func (m *metrics) observeJob(kind, outcome string) {
	m.jobRuns.WithLabelValues(kind, outcome).Inc()
}

// registerMetrics adds the collectors to this config's registry; two
// handlers in one config share them, hence the tolerated duplicates.
func registerMetrics(ctx caddy.Context, m *metrics) error {
	reg := ctx.GetMetricsRegistry()
	if reg == nil {
		return nil
	}
	for _, c := range m.collectors() {
		if err := reg.Register(c); err != nil {
			var dup prometheus.AlreadyRegisteredError
			if !errors.As(err, &dup) {
				return err
			}
		}
	}
	return nil
}
