package tickets

import (
	"net/http"
	"time"

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
