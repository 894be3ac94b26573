package webhooks

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the webhook collectors. Like the edge's, they are created
// once per process and registered on each config's registry, so counters
// survive reloads.
type Metrics struct {
	// Events counts received webhook requests by event type and outcome
	// (accepted, duplicate, ignored, unauthorized, malformed, too_large,
	// method_not_allowed, error).
	Events *prometheus.CounterVec
	// Confirmations counts confirmation job runs by outcome (confirmed,
	// retry, failed).
	Confirmations *prometheus.CounterVec
	// Reconciled counts companies checked by the periodic sweep by outcome
	// (changed, unchanged, no_service, error).
	Reconciled *prometheus.CounterVec
}

// NewMetrics creates the collectors.
func NewMetrics() *Metrics {
	return &Metrics{
		Events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "caddy", Subsystem: "whmcs_auth", Name: "events_total",
			Help: "WHMCS webhook requests by event type and outcome.",
		}, []string{"event", "outcome"}),
		Confirmations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "caddy", Subsystem: "whmcs_auth", Name: "event_confirmations_total",
			Help: "Confirmations of WHMCS events against the WHMCS API by outcome.",
		}, []string{"outcome"}),
		Reconciled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "caddy", Subsystem: "whmcs_auth", Name: "reconciled_companies_total",
			Help: "Companies checked by the periodic WHMCS sweep by outcome.",
		}, []string{"outcome"}),
	}
}

// Collectors lists the collectors for registration.
func (m *Metrics) Collectors() []prometheus.Collector {
	return []prometheus.Collector{m.Events, m.Confirmations, m.Reconciled}
}

// eventLabel keeps the event label's cardinality bounded: senders choose
// event names, so anything we do not act on is "other".
func eventLabel(typ string) string {
	if knownEvent(typ) {
		return typ
	}
	if typ == "" {
		return "unknown"
	}
	return "other"
}
