package caddymodule

import (
	"errors"
	"sync"

	"github.com/caddyserver/caddy/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/rcchat/caddy-whmcs-auth/edge"
	"github.com/rcchat/caddy-whmcs-auth/webhooks"
)

// metrics are created once per process: each config load hands out a new
// registry, and re-registering the same collectors on it keeps counters
// counting across reloads instead of restarting at zero.
type metrics struct {
	edge     *edge.Metrics
	webhooks *webhooks.Metrics
}

var (
	metricsOnce sync.Once
	theMetrics  *metrics
)

func sharedMetrics() *metrics {
	metricsOnce.Do(func() {
		theMetrics = &metrics{edge: edge.NewMetrics(), webhooks: webhooks.NewMetrics()}
	})
	return theMetrics
}

func (m *metrics) collectors() []prometheus.Collector {
	return append(m.edge.Collectors(), m.webhooks.Collectors()...)
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
