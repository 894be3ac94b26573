package outbox

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/rcchat/caddy-whmcs-auth/store"
	"github.com/rcchat/caddy-whmcs-auth/store/boltstore"
)

// The Observer hears of each run once, with a bounded kind, and
// QueueDepth sees what is left.
func TestObserverAndDepth(t *testing.T) {
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "state.db"), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	ctx := context.Background()
	o := New(st, nil)
	var heard []string
	o.Observer = func(kind, outcome string) { heard = append(heard, kind+"/"+outcome) }
	o.Register("ok", func(context.Context, *store.Job) error { return nil })
	o.Register("flaky", func(context.Context, *store.Job) error { return errors.New("WHMCS unavailable") })
	o.Register("refused", func(context.Context, *store.Job) error { return Permanent(errors.New("no")) })

	created := time.Now().Add(-time.Minute).Truncate(time.Second)
	err = st.Update(ctx, func(tx store.Tx) error {
		for i, kind := range []string{"ok", "flaky", "refused", "from-a-newer-binary"} {
			if _, err := Enqueue(tx, kind, "", map[string]int{"n": i}, created.Add(time.Duration(i)*time.Second)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := o.RunDue(ctx); n != 4 {
		t.Fatalf("RunDue ran %d jobs, want 4", n)
	}
	slices.Sort(heard)
	want := []string{"flaky/retry", "ok/done", "refused/failed", "unknown/failed"}
	if !slices.Equal(heard, want) {
		t.Fatalf("observer heard %v, want %v", heard, want)
	}

	d, err := QueueDepth(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	if d.Pending != 1 || d.Failed != 2 || !d.Oldest.Equal(created.Add(time.Second)) {
		t.Fatalf("depth %+v, want 1 pending, 2 failed, oldest %v", d, created.Add(time.Second))
	}
	if od, err := o.Depth(ctx); err != nil || od != d {
		t.Fatalf("Outbox.Depth %+v %v, want %+v", od, err, d)
	}
}

// Retry re-queues a failed job only, keeping its history and its finished
// steps, so the next run resumes after them; RetryFailed does it for all.
func TestRetryKeepsStepsAndHistory(t *testing.T) {
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "state.db"), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	ctx := context.Background()
	core, logs := observer.New(zap.InfoLevel)
	o := New(st, zap.New(core))
	o.MinBackoff, o.MaxBackoff = time.Hour, time.Hour // a transient failure stays out of this test's runs
	refused := true
	var ran []string
	o.Register("two-steps", func(ctx context.Context, j *store.Job) error {
		for _, step := range []string{"first", "second"} {
			_, err := o.Step(ctx, j, step, func() (string, error) {
				if step == "second" && refused {
					return "", Permanent(errors.New("credentials refused"))
				}
				ran = append(ran, step)
				return "ok", nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	var job, pending store.Job
	err = st.Update(ctx, func(tx store.Tx) error {
		var err error
		if job, err = Enqueue(tx, "two-steps", "", nil, time.Now()); err != nil {
			return err
		}
		pending, err = Enqueue(tx, "later", "", nil, time.Now().Add(time.Hour))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	o.RunDue(ctx)
	if !slices.Equal(ran, []string{"first"}) {
		t.Fatalf("first run ran %v", ran)
	}
	if err := o.Retry(ctx, pending.ID); !errors.Is(err, ErrNotFailed) {
		t.Fatalf("Retry of a pending job: %v, want ErrNotFailed", err)
	}
	if _, err := o.RetryJob(ctx, 9999); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Retry of an unknown job: %v, want ErrNotFound", err)
	}
	// Failed jobs are not run again on their own.
	if n := o.RunDue(ctx); n != 0 {
		t.Fatalf("RunDue ran %d jobs with only a failed one due", n)
	}

	// Retried while the cause remains: one more attempt, parked again.
	got, err := o.RetryJob(ctx, job.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != store.JobPending || got.Attempts != 1 || got.LastError == "" || got.Steps["first"] != "ok" ||
		time.Since(got.NextAttempt) < 0 || time.Since(got.NextAttempt) > time.Minute {
		t.Fatalf("re-queued job %+v", got)
	}
	select {
	case <-o.wake:
	default:
		t.Fatal("Retry did not wake the worker")
	}
	o.RunDue(ctx)
	if !slices.Equal(ran, []string{"first"}) {
		t.Fatalf("the retried job repeated a finished step: %v", ran)
	}
	if err := o.Retry(ctx, job.ID); err != nil { // parked again, so retryable again
		t.Fatal(err)
	}
	if n, err := o.RetryFailed(ctx); err != nil || n != 0 {
		t.Fatalf("RetryFailed with nothing failed: %d %v", n, err)
	}
	o.RunDue(ctx)
	var cur store.Job
	_ = st.View(ctx, func(tx store.Tx) error { cur, err = tx.Job(job.ID); return err })
	if err != nil || cur.State != store.JobFailed || cur.Attempts != 3 {
		t.Fatalf("after two retries with the cause still there: %+v %v", cur, err)
	}

	refused = false
	if n, err := o.RetryFailed(ctx); err != nil || n != 1 {
		t.Fatalf("RetryFailed re-queued %d jobs (%v), want 1", n, err)
	}
	o.RunDue(ctx)
	if !slices.Equal(ran, []string{"first", "second"}) {
		t.Fatalf("steps run %v, want each once", ran)
	}
	_ = st.View(ctx, func(tx store.Tx) error { _, err = tx.Job(job.ID); return nil })
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the job is not done: %v", err)
	}
	if err := o.Retry(ctx, job.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Retry of a done job: %v, want ErrNotFound", err)
	}
	d, _ := QueueDepth(ctx, st)
	if d.Pending != 1 || d.Failed != 0 {
		t.Fatalf("depth %+v: want only the untouched pending job", d)
	}
	// Each of the three retries is logged at info with the job's id and kind.
	retries := logs.FilterMessage("outbox: failed job re-queued by an operator").FilterField(zap.Int64("job", job.ID)).
		FilterField(zap.String("kind", "two-steps")).All()
	if len(retries) != 3 || retries[0].Level != zap.InfoLevel {
		t.Fatalf("retry log entries %+v, want 3 at info", retries)
	}
}

// Park fails a pending job once, as a Permanent error would, and leaves
// any other job alone.
func TestParkFailsOnlyAPendingJob(t *testing.T) {
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "state.db"), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	ctx := context.Background()
	var job store.Job
	if err := st.Update(ctx, func(tx store.Tx) (err error) {
		job, err = Enqueue(tx, "k", "", nil, time.Now())
		return err
	}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := st.Update(ctx, func(tx store.Tx) error { return Park(tx, job.ID, errors.New("refused")) }); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Update(ctx, func(tx store.Tx) error { return Park(tx, job.ID+100, errors.New("x")) }); err != nil {
		t.Fatalf("parking an unknown job: %v", err)
	}
	_ = st.View(ctx, func(tx store.Tx) error {
		j, err := tx.Job(job.ID)
		if err != nil || j.State != store.JobFailed || j.Attempts != 1 || j.LastError != "refused" {
			t.Fatalf("after parking twice: %+v %v, want failed once with the cause", j, err)
		}
		return nil
	})
}
