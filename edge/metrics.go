package edge

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the edge's Prometheus collectors. They are created once per
// process and registered on each config's registry, so counters keep
// counting across reloads.
type Metrics struct {
	// Logins counts login attempts by outcome.
	Logins *prometheus.CounterVec
}

// NewMetrics creates the collectors.
func NewMetrics() *Metrics {
	return &Metrics{
		Logins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "caddy", Subsystem: "whmcs_auth", Name: "logins_total",
			Help: "Login attempts by outcome.",
		}, []string{"outcome"}),
	}
}

// Collectors lists the collectors for registration.
func (m *Metrics) Collectors() []prometheus.Collector {
	return []prometheus.Collector{m.Logins}
}
