package webhooks

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/rcchat/caddy-whmcs-auth/outbox"
	"github.com/rcchat/caddy-whmcs-auth/store"
	"github.com/rcchat/caddy-whmcs-auth/whmcsauth"
)

// Defaults of the Reconciler's tuning fields.
const (
	DefaultReconcileConcurrency = 4
	DefaultReconcileDelay       = 100 * time.Millisecond
	defaultReconcilePage        = 100
	// maxTransportFailures in a row end a sweep: WHMCS is down, and
	// waiting out a timeout for every remaining company helps nobody.
	maxTransportFailures = 5
)

// Reconciler is the periodic sweep: it compares every company that has a
// WHMCS client with WHMCS and repairs drift left by events that never
// arrived (a hook that failed, a status changed by hand in the admin area).
type Reconciler struct {
	// Store holds the companies.
	Store store.Store
	// WHMCS is asked for each client's services.
	WHMCS ConfirmAPI
	// Plans maps product ids to plans; other products are ignored.
	Plans whmcsauth.Plans
	// Logger receives progress and a summary; nil discards.
	Logger *zap.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Metrics counts checked companies; nil skips counting.
	Metrics *Metrics
	// Concurrency bounds parallel WHMCS calls (DefaultReconcileConcurrency
	// when zero): WHMCS is often shared PHP hosting.
	Concurrency int
	// Delay is the least time between two WHMCS calls across all workers
	// (DefaultReconcileDelay when zero; negative means none, for tests).
	Delay time.Duration
}

// Report summarises one sweep.
type Report struct {
	// Companies is how many companies with a WHMCS client were found.
	Companies int `json:"companies"`
	// Checked is how many of them were compared with WHMCS.
	Checked int `json:"checked"`
	// Changed is how many were repaired.
	Changed int `json:"changed"`
	// NoService is how many have no service of a mapped product (left as
	// they are).
	NoService int `json:"no_service"`
	// Skipped is how many were reconciled recently enough (Run only).
	Skipped int `json:"skipped"`
	// Errors is how many could not be checked.
	Errors int `json:"errors"`
	// Aborted is set when the sweep stopped early (auth error, WHMCS down,
	// shutdown).
	Aborted bool `json:"aborted"`
	// Duration is how long the sweep took.
	Duration time.Duration `json:"duration"`
}

// Run sweeps every interval until ctx ends, and once at start. A sweep
// runs only while lease is held (nil: always), so that instances sharing
// a state store do not all sweep. Companies reconciled within half an
// interval are skipped, which makes frequent config reloads (each starts
// a new Run) cost nothing.
func (r *Reconciler) Run(ctx context.Context, interval time.Duration, lease outbox.Lease) {
	if interval <= 0 {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if lease == nil || lease.TryLock() {
			_, err := r.sweep(ctx, interval/2)
			if lease != nil {
				lease.Unlock()
			}
			if err != nil && ctx.Err() == nil {
				r.logger().Error("reconcile: sweep failed", zap.Error(err))
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// SweepOnce reconciles every company now. It stops at the first error
// that says WHMCS refuses our API credentials (retrying is how an IP gets
// banned) and returns it; other per-company errors are counted and logged.
func (r *Reconciler) SweepOnce(ctx context.Context) (Report, error) {
	return r.sweep(ctx, 0)
}

// sweep pages over the companies and feeds a bounded pool of workers.
func (r *Reconciler) sweep(ctx context.Context, fresh time.Duration) (Report, error) {
	start := time.Now()
	log := r.logger()
	if r.Store == nil || r.WHMCS == nil {
		return Report{}, errors.New("reconcile: Store and WHMCS are required")
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	sy := &syncer{store: r.Store, api: r.WHMCS, plans: r.Plans, log: log, now: r.now}
	gate := r.gate()
	defer gate.stop()

	var (
		mu         sync.Mutex
		rep        Report
		fatal      error
		transports int
	)
	work := make(chan store.Company)
	var wg sync.WaitGroup
	for range r.concurrency() {
		wg.Go(func() {
			for c := range work {
				if !gate.wait(ctx) {
					continue
				}
				res, err := sy.client(ctx, c.WHMCSClientID, "whmcs reconcile", true)
				mu.Lock()
				switch {
				case err == nil:
					transports = 0
					rep.Checked++
					switch res {
					case syncChanged:
						rep.Changed++
						log.Info("reconcile: repaired drift", zap.Int64("company", c.ID), zap.Int64("client", c.WHMCSClientID))
					case syncNoService:
						rep.NoService++
					}
					r.count(res.String())
				case ctx.Err() != nil:
				case whmcsauth.IsAuth(err):
					rep.Errors++
					fatal = fmt.Errorf("reconcile: stopped: %w", err)
					cancel(fatal)
				default:
					rep.Errors++
					r.count("error")
					log.Warn("reconcile: company not checked", zap.Int64("company", c.ID),
						zap.Int64("client", c.WHMCSClientID), zap.Error(err))
					if whmcsauth.IsRetryable(err) {
						transports++
						if transports >= maxTransportFailures {
							fatal = fmt.Errorf("reconcile: stopped after %d WHMCS failures in a row: %w", transports, err)
							cancel(fatal)
						}
					}
				}
				mu.Unlock()
			}
		})
	}

	var listErr error
	after := int64(0)
	cutoff := r.now().Add(-fresh)
pages:
	for ctx.Err() == nil {
		var page []store.Company
		listErr = r.Store.View(ctx, func(tx store.Tx) error {
			var err error
			page, err = tx.Companies(after, defaultReconcilePage)
			return err
		})
		if listErr != nil || len(page) == 0 {
			break
		}
		for _, c := range page {
			after = c.ID
			if c.WHMCSClientID == 0 {
				continue
			}
			mu.Lock()
			rep.Companies++
			skip := fresh > 0 && c.LastReconciledAt.After(cutoff)
			if skip {
				rep.Skipped++
			}
			mu.Unlock()
			if skip {
				continue
			}
			select {
			case work <- c:
			case <-ctx.Done():
				break pages
			}
		}
		mu.Lock()
		log.Debug("reconcile: progress", zap.Int("companies", rep.Companies), zap.Int("checked", rep.Checked))
		mu.Unlock()
	}
	close(work)
	wg.Wait()

	rep.Duration = time.Since(start)
	err := fatal
	if err == nil && listErr != nil && ctx.Err() == nil {
		err = fmt.Errorf("reconcile: listing companies: %w", listErr)
	}
	if err == nil && ctx.Err() != nil {
		err = context.Cause(ctx)
	}
	rep.Aborted = err != nil
	fields := []zap.Field{zap.Int("companies", rep.Companies), zap.Int("checked", rep.Checked),
		zap.Int("changed", rep.Changed), zap.Int("no_service", rep.NoService), zap.Int("skipped", rep.Skipped),
		zap.Int("errors", rep.Errors), zap.Duration("duration", rep.Duration)}
	if err != nil {
		log.Error("reconcile: sweep aborted", append(fields, zap.Error(err))...)
		return rep, err
	}
	log.Info("reconcile: sweep done", fields...)
	return rep, nil
}

func (r *Reconciler) logger() *zap.Logger {
	if r.Logger == nil {
		return zap.NewNop()
	}
	return r.Logger
}

func (r *Reconciler) now() time.Time {
	if r.Now == nil {
		return time.Now()
	}
	return r.Now()
}

func (r *Reconciler) concurrency() int {
	if r.Concurrency <= 0 {
		return DefaultReconcileConcurrency
	}
	return r.Concurrency
}

func (r *Reconciler) count(outcome string) {
	if r.Metrics != nil {
		r.Metrics.Reconciled.WithLabelValues(outcome).Inc()
	}
}

// rateGate spaces WHMCS calls across all workers.
type rateGate struct{ t *time.Ticker }

func (r *Reconciler) gate() rateGate {
	d := r.Delay
	if d == 0 {
		d = DefaultReconcileDelay
	}
	if d < 0 {
		return rateGate{}
	}
	return rateGate{t: time.NewTicker(d)}
}

// wait blocks until the next call may start; false when ctx ended.
func (g rateGate) wait(ctx context.Context) bool {
	if ctx.Err() != nil {
		return false
	}
	if g.t == nil {
		return true
	}
	select {
	case <-g.t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func (g rateGate) stop() {
	if g.t != nil {
		g.t.Stop()
	}
}
