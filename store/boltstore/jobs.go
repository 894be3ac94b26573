package boltstore

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	"github.com/rcchat/caddy-whmcs-auth/store"
)

// Event returns the webhook event with the given ID.
func (t tx) Event(id string) (store.Event, error) {
	var e store.Event
	ok, err := getJSON(t.b.Bucket(bEvents), "event", []byte(id), &e)
	if err != nil {
		return store.Event{}, err
	}
	if !ok {
		return store.Event{}, notFound("event", fmt.Sprintf("%q", id))
	}
	return e, nil
}

// PutEvent inserts or replaces an event by ID; the caller checks Event
// first to deduplicate redeliveries.
func (t tx) PutEvent(e *store.Event) error {
	if e.ID == "" {
		return errors.New("boltstore: event has no id")
	}
	return putJSON(t.b.Bucket(bEvents), "event", []byte(e.ID), e)
}

// dueKey is the due-index key of a job: its next attempt, then its ID so
// jobs due at the same instant keep creation order.
func dueKey(j *store.Job) []byte {
	k := timeKey(j.NextAttempt)
	return append(k, idKey(j.ID)...)
}

// Job returns the job with the given ID.
func (t tx) Job(id int64) (store.Job, error) {
	var j store.Job
	ok, err := getJSON(t.b.Bucket(bJobs), "job", idKey(id), &j)
	if err != nil {
		return store.Job{}, err
	}
	if !ok {
		return store.Job{}, notFound("job", id)
	}
	return j, nil
}

// PutJob inserts or replaces a job. Only pending jobs are in the due
// index, so parking a job as failed takes it out of the retry loop.
func (t tx) PutJob(j *store.Job) error {
	if err := checkID("job", j.ID); err != nil {
		return err
	}
	// A job in any other state would be in neither DueJobs nor Jobs, i.e.
	// silently lost work; done jobs are deleted instead.
	if j.State != store.JobPending && j.State != store.JobFailed {
		return fmt.Errorf("boltstore: job state %q is neither %q nor %q", j.State, store.JobPending, store.JobFailed)
	}
	b := t.appendBucket(bJobs)
	due := t.appendBucket(bIdxJobDue)
	if j.ID != 0 {
		var old store.Job
		found, err := getJSON(b, "job", idKey(j.ID), &old)
		if err != nil {
			return err
		}
		if found && old.State == store.JobPending {
			if err := due.Delete(dueKey(&old)); err != nil {
				return fmt.Errorf("boltstore: unindex job %d: %w", j.ID, err)
			}
		}
	}
	if err := assignID(b, &j.ID); err != nil {
		return fmt.Errorf("boltstore: assign job id: %w", err)
	}
	if j.State == store.JobPending {
		if err := due.Put(dueKey(j), nil); err != nil {
			return fmt.Errorf("boltstore: index job %d: %w", j.ID, err)
		}
	}
	return putJSON(b, "job", idKey(j.ID), j)
}

// DeleteJob removes a finished job; a missing one is not an error, so a
// worker that finishes a job twice does not fail.
func (t tx) DeleteJob(id int64) error {
	b := t.b.Bucket(bJobs)
	var old store.Job
	found, err := getJSON(b, "job", idKey(id), &old)
	if err != nil || !found {
		return err
	}
	if old.State == store.JobPending {
		if err := t.b.Bucket(bIdxJobDue).Delete(dueKey(&old)); err != nil {
			return fmt.Errorf("boltstore: unindex job %d: %w", id, err)
		}
	}
	if err := b.Delete(idKey(id)); err != nil {
		return fmt.Errorf("boltstore: delete job %d: %w", id, err)
	}
	return nil
}

// DueJobs lists up to limit (all when limit <= 0) pending jobs with
// NextAttempt not after now, in NextAttempt order and then ID order. It
// reads only the due part of the index, so a backlog of parked or future
// jobs costs nothing.
func (t tx) DueJobs(now time.Time, limit int) ([]store.Job, error) {
	nowKey := timeKey(now)
	b := t.b.Bucket(bJobs)
	var out []store.Job
	c := t.b.Bucket(bIdxJobDue).Cursor()
	for k, _ := c.First(); k != nil && !limitReached(len(out), limit); k, _ = c.Next() {
		if len(k) != timeKeyLen+8 {
			return nil, fmt.Errorf("boltstore: malformed job due index entry %x", k)
		}
		if bytes.Compare(k[:timeKeyLen], nowKey) > 0 {
			break
		}
		var j store.Job
		ok, err := getJSON(b, "job", k[timeKeyLen:], &j)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("boltstore: due index points at missing job %d", keyID(k[timeKeyLen:]))
		}
		out = append(out, j)
	}
	return out, nil
}

// Jobs lists up to limit (all when limit <= 0) jobs in ID order, which is
// creation order. Every stored job is pending or failed, because PutJob
// refuses other states and done jobs are deleted.
func (t tx) Jobs(limit int) ([]store.Job, error) {
	var out []store.Job
	c := t.b.Bucket(bJobs).Cursor()
	for k, v := c.First(); k != nil && !limitReached(len(out), limit); k, v = c.Next() {
		var j store.Job
		if err := decode("job", k, v, &j); err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	return out, nil
}
