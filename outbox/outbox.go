// Package outbox performs work that must reach WHMCS, durably.
//
// A job is written in the same transaction as the change that calls for it,
// so an acknowledged request never loses its follow-up work. A worker runs
// due jobs; each job is split into named steps whose results are saved as
// they succeed, so a retry after a failure, a crash or a restart resumes
// after the last step done and never repeats it. Errors are retried with
// exponential backoff and jitter, except Permanent ones (WHMCS rejecting the
// API credentials, for instance), which park the job as failed rather than
// hammering WHMCS into an IP ban, until an operator fixes the cause and
// calls Retry or RetryFailed.
package outbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/rcchat/caddy-whmcs-auth/store"
)

// Outcomes of a job run, as told to Outbox.Observer.
const (
	OutcomeDone   = "done"   // the job finished and was deleted
	OutcomeRetry  = "retry"  // the job failed and will run again after a backoff
	OutcomeFailed = "failed" // the job failed permanently and is parked
)

// KindUnknown stands for a job kind without a handler in Observer calls.
const KindUnknown = "unknown"

// Handler performs one job. It calls Outbox.Step for each side effect.
type Handler func(ctx context.Context, job *store.Job) error

// Lease is held while a worker runs jobs, so that only one worker per state
// file is active (sync.Mutex satisfies it).
type Lease interface {
	TryLock() bool
	Unlock()
}

// Outbox runs jobs.
type Outbox struct {
	store    store.Store
	log      *zap.Logger
	handlers map[string]Handler
	wake     chan struct{}
	now      func() time.Time

	// MinBackoff and MaxBackoff bound the wait between attempts.
	MinBackoff, MaxBackoff time.Duration
	// Poll is how often the worker looks for due jobs without a Notify.
	Poll time.Duration
	// Observer, when set, hears of every finished job run: the job's kind
	// (KindUnknown when no handler is registered for it, so that a label
	// made of it stays bounded whatever the state file holds) and the
	// outcome: OutcomeDone, OutcomeRetry or OutcomeFailed. Set it before Run.
	Observer func(kind, outcome string)

	mu sync.Mutex
}

// New returns an Outbox over st.
func New(st store.Store, log *zap.Logger) *Outbox {
	if log == nil {
		log = zap.NewNop()
	}
	return &Outbox{store: st, log: log, handlers: map[string]Handler{}, wake: make(chan struct{}, 1),
		now: time.Now, MinBackoff: 2 * time.Second, MaxBackoff: 10 * time.Minute, Poll: time.Second}
}

// Register sets the handler of a job kind. Call it before Run.
func (o *Outbox) Register(kind string, h Handler) { o.handlers[kind] = h }

// Park marks a pending job failed inside the caller's transaction, as a
// run ending in a Permanent error would, for a caller that already knows
// the run would fail (WHMCS refused the credentials it would use). A job
// that is gone or no longer pending is left alone. An operator re-queues a
// parked job with Retry.
func Park(tx store.Tx, id int64, cause error) error {
	j, err := tx.Job(id)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if j.State != store.JobPending {
		return nil
	}
	j.State = store.JobFailed
	j.Attempts++
	j.LastError = cause.Error()
	return tx.PutJob(&j)
}

// Enqueue adds a job inside the caller's transaction; it becomes durable
// with the rest of that transaction. Call Notify after the commit.
func Enqueue(tx store.Tx, kind, key string, payload any, now time.Time) (store.Job, error) {
	b, err := json.Marshal(payload)
	if err != nil {
		return store.Job{}, fmt.Errorf("outbox: encoding %s payload: %w", kind, err)
	}
	j := store.Job{Kind: kind, Key: key, Payload: b, State: store.JobPending, CreatedAt: now, NextAttempt: now}
	if err := tx.PutJob(&j); err != nil {
		return store.Job{}, err
	}
	return j, nil
}

// Notify wakes the worker so a new job runs without waiting for the poll.
func (o *Outbox) Notify() {
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

// Run works until ctx ends. With a lease, it runs jobs only while holding it.
func (o *Outbox) Run(ctx context.Context, lease Lease) {
	t := time.NewTicker(o.Poll)
	defer t.Stop()
	for {
		if lease == nil || lease.TryLock() {
			o.RunDue(ctx)
			if lease != nil {
				lease.Unlock()
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-o.wake:
		}
	}
}

// RunDue runs every job that is due now, one at a time, and returns how
// many it attempted.
func (o *Outbox) RunDue(ctx context.Context) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	// Each job runs at most once per call, so a job whose backoff is shorter
	// than a pass does not spin here.
	tried := map[int64]bool{}
	for ctx.Err() == nil {
		var due []store.Job
		err := o.store.View(ctx, func(tx store.Tx) error {
			var err error
			due, err = tx.DueJobs(o.now(), 50+len(tried))
			return err
		})
		if err != nil {
			o.log.Error("outbox: listing due jobs", zap.Error(err))
			return len(tried)
		}
		ran := false
		for i := range due {
			if tried[due[i].ID] {
				continue
			}
			tried[due[i].ID] = true
			ran = true
			o.runOne(ctx, &due[i])
		}
		if !ran {
			break
		}
	}
	return len(tried)
}

func (o *Outbox) runOne(ctx context.Context, j *store.Job) {
	h, ok := o.handlers[j.Kind]
	kind := j.Kind
	var err error
	if !ok {
		kind = KindUnknown
		err = Permanent(fmt.Errorf("no handler for job kind %q", j.Kind))
	} else {
		err = h(ctx, j)
	}
	if ctx.Err() != nil && err != nil {
		return // shutting down: the job stays due and runs after restart
	}
	if ferr := o.finish(ctx, j, err); ferr != nil {
		o.log.Error("outbox: recording a job result", zap.Int64("job", j.ID), zap.Error(ferr))
	}
	if o.Observer != nil {
		o.Observer(kind, runOutcome(err))
	}
}

// runOutcome names how a run went for the Observer.
func runOutcome(err error) string {
	switch {
	case err == nil:
		return OutcomeDone
	case IsPermanent(err):
		return OutcomeFailed
	default:
		return OutcomeRetry
	}
}

// finish deletes a done job or schedules its retry.
func (o *Outbox) finish(ctx context.Context, j *store.Job, runErr error) error {
	return o.store.Update(ctx, func(tx store.Tx) error {
		cur, err := tx.Job(j.ID)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if runErr == nil {
			o.log.Info("outbox: job done", zap.String("kind", cur.Kind), zap.Int64("job", cur.ID), zap.Int("attempts", cur.Attempts+1))
			return tx.DeleteJob(cur.ID)
		}
		cur.Attempts++
		cur.LastError = runErr.Error()
		if IsPermanent(runErr) {
			cur.State = store.JobFailed
			o.log.Error("outbox: job parked as failed; it needs an operator", zap.String("kind", cur.Kind),
				zap.Int64("job", cur.ID), zap.String("error", cur.LastError))
		} else {
			cur.NextAttempt = o.now().Add(o.backoff(cur.Attempts))
			o.log.Warn("outbox: job failed, will retry", zap.String("kind", cur.Kind), zap.Int64("job", cur.ID),
				zap.Int("attempts", cur.Attempts), zap.Time("next_attempt", cur.NextAttempt), zap.String("error", cur.LastError))
		}
		return tx.PutJob(&cur)
	})
}

// backoff doubles from MinBackoff up to MaxBackoff, with "full jitter" in
// the upper half so that many jobs failing together do not retry together.
func (o *Outbox) backoff(attempts int) time.Duration {
	d := o.MinBackoff
	for i := 1; i < attempts && d < o.MaxBackoff; i++ {
		d *= 2
	}
	if d > o.MaxBackoff {
		d = o.MaxBackoff
	}
	half := d / 2
	return half + time.Duration(rand.Int64N(int64(half)+1))
}

// Step runs fn once for the job: when the step already succeeded in an
// earlier attempt, its saved result is returned without running fn again.
// The result is saved before Step returns, so a crash after it never
// repeats the step.
func (o *Outbox) Step(ctx context.Context, j *store.Job, name string, fn func() (string, error)) (string, error) {
	if v, ok := j.Steps[name]; ok {
		return v, nil
	}
	v, err := fn()
	if err != nil {
		return "", fmt.Errorf("%s: %w", name, err)
	}
	err = o.store.Update(ctx, func(tx store.Tx) error {
		cur, err := tx.Job(j.ID)
		if err != nil {
			return err
		}
		if cur.Steps == nil {
			cur.Steps = map[string]string{}
		}
		cur.Steps[name] = v
		return tx.PutJob(&cur)
	})
	if err != nil {
		return "", fmt.Errorf("outbox: saving step %s of job %d: %w", name, j.ID, err)
	}
	if j.Steps == nil {
		j.Steps = map[string]string{}
	}
	j.Steps[name] = v
	return v, nil
}

// Depth summarises the queue for health checks and metrics.
type Depth struct {
	Pending int       `json:"pending"`
	Failed  int       `json:"failed"`
	Oldest  time.Time `json:"oldest,omitempty"`
}

// Depth counts the jobs that are not done.
func (o *Outbox) Depth(ctx context.Context) (Depth, error) { return QueueDepth(ctx, o.store) }

// QueueDepth is Depth for readers that have the state but not its Outbox
// (metrics, which outlive any one configuration). It reads every job, so
// call it at scrape or health-check frequency, not per request.
func QueueDepth(ctx context.Context, st store.Store) (Depth, error) {
	var d Depth
	err := st.View(ctx, func(tx store.Tx) error {
		jobs, err := tx.Jobs(100_000)
		if err != nil {
			return err
		}
		for _, j := range jobs {
			if j.State == store.JobFailed {
				d.Failed++
			} else {
				d.Pending++
			}
			if d.Oldest.IsZero() || j.CreatedAt.Before(d.Oldest) {
				d.Oldest = j.CreatedAt
			}
		}
		return nil
	})
	return d, err
}

// ErrNotFailed is returned by Retry for a job that is not parked as failed:
// a pending job is already queued (or running), so there is nothing to
// retry. A done job is deleted, so Retry reports it as store.ErrNotFound.
var ErrNotFailed = errors.New("outbox: job is not failed")

// Retry puts one failed job back in the queue, due now: an operator's action
// once the cause of a permanent error (the API credentials, say) is fixed.
// Failed jobs are never retried otherwise, whatever the restarts or reloads.
//
// The job keeps its Attempts and LastError for the record, and its Steps:
// the next run resumes after the last step done and never repeats one. If
// it fails permanently again it is parked again, after one more attempt.
// Retry wakes the worker. It returns store.ErrNotFound for an unknown id
// (done jobs are deleted) and ErrNotFailed for a pending job.
func (o *Outbox) Retry(ctx context.Context, id int64) error {
	_, err := o.RetryJob(ctx, id)
	return err
}

// RetryJob is Retry that also returns the job as re-queued, read in the
// same transaction (by the time Retry returns, the worker may have run it).
func (o *Outbox) RetryJob(ctx context.Context, id int64) (store.Job, error) {
	var j store.Job
	err := o.store.Update(ctx, func(tx store.Tx) error {
		var err error
		if j, err = tx.Job(id); err != nil {
			return err
		}
		if j.State != store.JobFailed {
			return ErrNotFailed
		}
		o.requeue(&j)
		return tx.PutJob(&j)
	})
	if err != nil {
		return store.Job{}, err
	}
	o.logRetry(&j)
	o.Notify()
	return j, nil
}

// RetryFailed is Retry for every failed job, in one transaction; it returns
// how many it re-queued.
func (o *Outbox) RetryFailed(ctx context.Context) (int, error) {
	var requeued []store.Job
	err := o.store.Update(ctx, func(tx store.Tx) error {
		requeued = requeued[:0]
		// A limit <= 0 lists every job: a partial list would leave failed
		// jobs behind, with nothing to page on to reach them.
		jobs, err := tx.Jobs(0)
		if err != nil {
			return err
		}
		for i := range jobs {
			if jobs[i].State != store.JobFailed {
				continue
			}
			o.requeue(&jobs[i])
			if err := tx.PutJob(&jobs[i]); err != nil {
				return err
			}
			requeued = append(requeued, jobs[i])
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	for i := range requeued {
		o.logRetry(&requeued[i])
	}
	if len(requeued) > 0 {
		o.Notify()
	}
	return len(requeued), nil
}

// requeue makes a failed job pending and due now. Attempts, LastError and
// Steps stay as they are.
func (o *Outbox) requeue(j *store.Job) {
	j.State = store.JobPending
	j.NextAttempt = o.now()
}

// logRetry records an operator's retry. The job's payload may hold
// transcript text, so only its id, kind and history are logged.
func (o *Outbox) logRetry(j *store.Job) {
	o.log.Info("outbox: failed job re-queued by an operator", zap.String("kind", j.Kind), zap.Int64("job", j.ID),
		zap.Int("attempts", j.Attempts))
}

type permanentError struct{ err error }

func (p permanentError) Error() string { return p.err.Error() }
func (p permanentError) Unwrap() error { return p.err }

// Permanent marks an error that retrying cannot fix.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanentError{err}
}

// IsPermanent reports whether err was marked with Permanent.
func IsPermanent(err error) bool {
	var p permanentError
	return errors.As(err, &p)
}
