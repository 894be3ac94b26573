package caddymodule

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rcchat/caddy-whmcs-auth/outbox"
	"github.com/rcchat/caddy-whmcs-auth/store"
)

// stateReadTimeout bounds the reads of one scrape.
const stateReadTimeout = 5 * time.Second

// stateCollector reports what the open state files hold: the outbox
// backlog and the stored sessions. It reads them when scraped rather than
// keeping counts up to date on every write, because a scrape comes every
// few seconds and writes come with every request. The files are found in
// the stateFiles pool, so the collector needs no wiring to whichever
// configuration is current; with several files (several sites) it reports
// their sum, and the oldest job of all.
type stateCollector struct {
	jobs, oldest, sessions *prometheus.Desc
}

func newStateCollector(ns, sub string) *stateCollector {
	return &stateCollector{
		jobs: prometheus.NewDesc(prometheus.BuildFQName(ns, sub, "outbox_jobs"),
			"Outbox jobs not done yet, by state: pending (queued or waiting to retry) or failed (parked for an operator).",
			[]string{"state"}, nil),
		oldest: prometheus.NewDesc(prometheus.BuildFQName(ns, sub, "outbox_oldest_job_age_seconds"),
			"Age of the oldest outbox job not done yet (pending or failed); 0 when the outbox is empty.",
			nil, nil),
		sessions: prometheus.NewDesc(prometheus.BuildFQName(ns, sub, "sessions_active"),
			"Stored sessions; expired ones count until the next sweep (at most a minute).",
			nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.jobs
	ch <- c.oldest
	ch <- c.sessions
}

// Collect implements prometheus.Collector. A file that cannot be read
// (being closed by a reload, say) is left out; with none readable the
// metrics are absent rather than falsely zero.
func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	var files []store.Store
	stateFiles.Range(func(_, v any) bool {
		if sf, ok := v.(*stateFile); ok {
			files = append(files, sf)
		}
		return true
	})
	ctx, cancel := context.WithTimeout(context.Background(), stateReadTimeout)
	defer cancel()
	var (
		read            bool
		pending, failed int
		sessions        int
		oldest          time.Time
	)
	for _, st := range files {
		d, err := outbox.QueueDepth(ctx, st)
		if err != nil {
			continue
		}
		var n int
		err = st.View(ctx, func(tx store.Tx) error {
			var err error
			n, err = tx.CountSessions()
			return err
		})
		if err != nil {
			continue
		}
		read = true
		pending += d.Pending
		failed += d.Failed
		sessions += n
		if !d.Oldest.IsZero() && (oldest.IsZero() || d.Oldest.Before(oldest)) {
			oldest = d.Oldest
		}
	}
	if !read {
		return
	}
	age := 0.0
	if !oldest.IsZero() {
		age = max(time.Since(oldest).Seconds(), 0)
	}
	ch <- prometheus.MustNewConstMetric(c.jobs, prometheus.GaugeValue, float64(pending), string(store.JobPending))
	ch <- prometheus.MustNewConstMetric(c.jobs, prometheus.GaugeValue, float64(failed), string(store.JobFailed))
	ch <- prometheus.MustNewConstMetric(c.oldest, prometheus.GaugeValue, age)
	ch <- prometheus.MustNewConstMetric(c.sessions, prometheus.GaugeValue, float64(sessions))
}
