package tickets

import (
	"errors"
	"net/http"
	"time"

	"go.uber.org/zap"

	"github.com/rcchat/caddy-whmcs-auth/outbox"
	"github.com/rcchat/caddy-whmcs-auth/store"
)

// Bounds of GET /sso/api/outbox.
const (
	defaultOutboxLimit = 500
	maxOutboxLimit     = 5000
)

// jobView is an outbox job without its payload, which may hold transcript
// text and is nobody's business but WHMCS's.
type jobView struct {
	ID          int64     `json:"id"`
	Kind        string    `json:"kind"`
	State       string    `json:"state"`
	Attempts    int       `json:"attempts"`
	LastError   string    `json:"last_error"`
	CreatedAt   time.Time `json:"created_at"`
	NextAttempt time.Time `json:"next_attempt"`
}

func newJobView(j *store.Job) jobView {
	return jobView{ID: j.ID, Kind: j.Kind, State: string(j.State), Attempts: j.Attempts, LastError: j.LastError,
		CreatedAt: j.CreatedAt, NextAttempt: j.NextAttempt}
}

// outboxList is the body of GET /sso/api/outbox.
type outboxList struct {
	Jobs []jobView `json:"jobs"`
}

// handleOutbox serves GET /sso/api/outbox?limit=: the pending and failed
// (parked) jobs, oldest first. Done jobs are deleted, so they never show.
// Failed jobs stay until an operator retries them (handleRetry).
func (s *Service) handleOutbox(w http.ResponseWriter, r *http.Request) {
	limit, err := queryInt(r.URL.Query(), "limit", defaultOutboxLimit, 1)
	if err != nil {
		writeRequestError(w, err)
		return
	}
	limit = min(limit, maxOutboxLimit)
	out := outboxList{Jobs: []jobView{}}
	err = s.store.View(r.Context(), func(tx store.Tx) error {
		jobs, err := tx.Jobs(int(limit))
		for i := range jobs {
			out.Jobs = append(out.Jobs, newJobView(&jobs[i]))
		}
		return err
	})
	if err != nil {
		s.writeInternal(w, "listing outbox jobs", err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// retryAllAnswer is the body of POST /sso/api/outbox/retry.
type retryAllAnswer struct {
	Retried int `json:"retried"`
}

// handleRetry serves POST /sso/api/outbox/{id}/retry: it re-queues one
// failed job, due now, and answers its view (state pending; attempts and
// last_error kept for the record). The job resumes after the steps it had
// finished, so no WHMCS write is repeated. 404 for an unknown job (done jobs
// are deleted), 409 job_not_failed for a pending one (queued or running).
func (s *Service) handleRetry(w http.ResponseWriter, r *http.Request) {
	id, err := idParam(r)
	if err != nil {
		writeRequestError(w, err)
		return
	}
	j, err := s.outbox.RetryJob(r.Context(), id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, "not_found", "")
	case errors.Is(err, outbox.ErrNotFailed):
		writeError(w, http.StatusConflict, "job_not_failed",
			"only a failed job can be retried; this one is pending (queued or running)")
	case err != nil:
		s.writeInternal(w, "re-queueing an outbox job", err, zap.Int64("job", id))
	default:
		writeJSON(w, http.StatusOK, newJobView(&j))
	}
}

// handleRetryAll serves POST /sso/api/outbox/retry: it re-queues every
// failed job and answers how many, 0 included.
func (s *Service) handleRetryAll(w http.ResponseWriter, r *http.Request) {
	n, err := s.outbox.RetryFailed(r.Context())
	if err != nil {
		s.writeInternal(w, "re-queueing the failed outbox jobs", err)
		return
	}
	writeJSON(w, http.StatusOK, retryAllAnswer{Retried: n})
}
