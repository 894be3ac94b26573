package tickets

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rcchat/caddy-whmcs-auth/store"
)

// withWHMCSSecret restarts the env with a WHMCS client using secret, as an
// operator editing api_secret and reloading Caddy would.
func (e *env) withWHMCSSecret(secret string) {
	e.t.Helper()
	e.cfg.WHMCS = e.whmcsClient(secret)
	e.restart()
}

// onlyJob returns the single stored job, failing otherwise.
func (e *env) onlyJob() store.Job {
	e.t.Helper()
	jobs := e.jobs("")
	if len(jobs) != 1 {
		e.t.Fatalf("want exactly one job, have %+v", jobs)
	}
	return jobs[0]
}

// retryPath is the retry endpoint of one job.
func retryPath(id int64) string { return fmt.Sprintf("/sso/api/outbox/%d/retry", id) }

// passLease tells when the outbox worker finishes a pass: Run unlocks its
// lease after each RunDue.
type passLease chan struct{}

func (passLease) TryLock() bool { return true }
func (l passLease) Unlock()     { l <- struct{}{} }
func (l passLease) wait(t *testing.T) {
	t.Helper()
	select {
	case <-l:
	case <-time.After(10 * time.Second):
		t.Fatal("the outbox worker did not run a pass")
	}
}

// runWorker runs the env's outbox as production does, but with a poll so
// long that a job runs only when something wakes the worker. It returns
// once the first pass is over.
func (e *env) runWorker() passLease {
	e.t.Helper()
	e.ob.Poll = time.Hour
	lease := make(passLease, 8)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); e.ob.Run(ctx, lease) }()
	e.t.Cleanup(func() { cancel(); <-done }) // before the store closes
	lease.wait(e.t)
	return lease
}

// A close parked by refused credentials stays parked through a reload
// with the fixed secret, and runs once POST .../retry re-queues it: one
// transcript and one close reach WHMCS.
func TestRetryCloseParkedByCredentials(t *testing.T) {
	e := newEnv(t)
	op := e.openTicket("700", "p@example.com")
	e.withWHMCSSecret("wrong-secret")
	e.closeTicket("700")
	e.ob.RunDue(context.Background())
	parked := e.onlyJob()
	if parked.State != store.JobFailed || parked.Attempts != 1 {
		t.Fatalf("job %+v, want it parked after one attempt", parked)
	}

	// The operator fixes the secret and reloads: nothing retries the job.
	e.withWHMCSSecret(simSecret)
	lease := e.runWorker()
	e.drain()
	if j := e.onlyJob(); j.State != store.JobFailed || e.sim.Calls("AddTicketReply") != 0 {
		t.Fatalf("a reload ran the parked job: %+v", j)
	}

	before := time.Now()
	w := e.do("POST", retryPath(parked.ID), nil)
	got := decode[jobView](t, w, http.StatusOK)
	if got.ID != parked.ID || got.Kind != JobTicketClose || got.State != "pending" || got.Attempts != 1 ||
		!strings.Contains(got.LastError, "Authentication Failed") || !got.CreatedAt.Equal(parked.CreatedAt) ||
		got.NextAttempt.Before(before.Add(-time.Second)) || got.NextAttempt.After(time.Now()) {
		t.Fatalf("retry answer %+v", got)
	}
	if strings.Contains(w.Body.String(), "transcript") || strings.Contains(w.Body.String(), "payload") {
		t.Fatalf("retry answer leaks the job's contents: %s", w.Body.String())
	}
	// The retry woke the worker: with an hour-long poll, nothing else would.
	lease.wait(t)
	e.checkClosedOnce(op.WHMCSTicketID, "700")
	if w := e.do("POST", retryPath(parked.ID), nil); w.Code != http.StatusNotFound {
		t.Fatalf("retry of a done job: %d %s", w.Code, w.Body.String())
	}
}

// A job whose first step reached WHMCS before a refusal resumes after it:
// the transcript is not posted twice.
func TestRetryPartlyDoneCloseDoesNotRepeatReply(t *testing.T) {
	e := newEnv(t)
	op := e.openTicket("701", "q@example.com")
	// The API role lacks UpdateTicket: KindAuth, so the job is parked
	// with the reply already posted.
	e.sim.DenyAction("UpdateTicket")
	e.closeTicket("701")
	e.ob.RunDue(context.Background())
	j := e.onlyJob()
	if j.State != store.JobFailed || j.Steps[stepReply] == "" || j.Steps[stepClose] != "" {
		t.Fatalf("job %+v, want it parked with the reply done and the close not", j)
	}
	if n := e.sim.Calls("AddTicketReply"); n != 1 {
		t.Fatalf("AddTicketReply reached WHMCS %d times before the retry", n)
	}

	e.sim.AllowAction("UpdateTicket") // the operator fixes the API role
	got := decode[jobView](t, e.do("POST", retryPath(j.ID), nil), http.StatusOK)
	if got.State != "pending" || got.Attempts != 1 || !strings.Contains(got.LastError, "Invalid Permissions") {
		t.Fatalf("retry answer %+v", got)
	}
	if s := e.onlyJob().Steps; s[stepReply] != j.Steps[stepReply] || s[stepReplyAttempted] == "" {
		t.Fatalf("the retry lost the finished steps: %v", s)
	}
	e.drain()
	e.checkClosedOnce(op.WHMCSTicketID, "701")
}

func TestRetryErrors(t *testing.T) {
	e := newEnv(t)
	e.openTicket("702", "r@example.com")
	e.openTicket("703", "s@example.com")
	e.sim.DenyAction("AddTicketReply")
	e.closeTicket("702")
	e.ob.RunDue(context.Background())
	failed := e.onlyJob()
	if failed.State != store.JobFailed {
		t.Fatalf("job %+v, want it failed", failed)
	}
	e.closeTicket("703") // not run: stays pending
	var pending store.Job
	for _, j := range e.jobs(store.JobPending) {
		pending = j
	}
	if pending.ID == 0 {
		t.Fatal("no pending job")
	}

	// No bearer: 401, and the job stays parked.
	for _, p := range []string{retryPath(failed.ID), "/sso/api/outbox/retry"} {
		w := e.doAuth("POST", p, nil, "")
		if w.Code != http.StatusUnauthorized || strings.TrimSpace(w.Body.String()) != `{"error":"unauthorized"}` {
			t.Fatalf("POST %s without a token: %d %s", p, w.Code, w.Body.String())
		}
	}
	if len(e.jobs(store.JobFailed)) != 1 {
		t.Fatal("an unauthenticated retry re-queued the job")
	}

	// Unknown job.
	w := e.do("POST", retryPath(9999), nil)
	if w.Code != http.StatusNotFound || strings.TrimSpace(w.Body.String()) != `{"error":"not_found"}` {
		t.Fatalf("unknown job: %d %s", w.Code, w.Body.String())
	}

	// Malformed ids name the field.
	for _, id := range []string{"abc", "0", "-1", "1.5", "99999999999999999999"} {
		a := decode[apiError](t, e.do("POST", "/sso/api/outbox/"+id+"/retry", nil), http.StatusBadRequest)
		if a.Error != "invalid_request" || a.Field != "id" {
			t.Fatalf("id %q: %+v", id, a)
		}
	}

	// A pending job (queued, or running: the store keeps it pending) is
	// not failed: 409, and it is left as it was.
	a := decode[apiError](t, e.do("POST", retryPath(pending.ID), nil), http.StatusConflict)
	if a.Error != "job_not_failed" {
		t.Fatalf("retry of a pending job: %+v", a)
	}
	for _, j := range e.jobs("") {
		if j.ID == pending.ID && (j.State != store.JobPending || !j.NextAttempt.Equal(pending.NextAttempt)) {
			t.Fatalf("a refused retry changed the job: %+v, was %+v", j, pending)
		}
	}

	// Wrong method: the API's JSON 405.
	for _, p := range []string{retryPath(failed.ID), "/sso/api/outbox/retry"} {
		w := e.do("GET", p, nil)
		if w.Code != http.StatusMethodNotAllowed || w.Header().Get("Allow") != "POST" ||
			strings.TrimSpace(w.Body.String()) != `{"error":"method_not_allowed"}` {
			t.Fatalf("GET %s: %d %q %s", p, w.Code, w.Header().Get("Allow"), w.Body.String())
		}
	}
	if len(e.jobs(store.JobFailed)) != 1 {
		t.Fatal("a refused retry re-queued the failed job")
	}
}

// POST /sso/api/outbox/retry re-queues every failed job, whatever its kind,
// and leaves pending ones alone.
func TestRetryAllFailedJobs(t *testing.T) {
	e := newEnv(t)
	c := e.addCompany("gamma", 9)
	op := e.openTicket("704", "t@example.com")
	op2 := e.openTicket("705", "u@example.com")
	if a := decode[retryAllAnswer](t, e.do("POST", "/sso/api/outbox/retry", nil), http.StatusOK); a.Retried != 0 {
		t.Fatalf("empty outbox: %+v", a)
	}

	// Two refused writes (WHMCS bans the IP at the third).
	e.withWHMCSSecret("wrong-secret")
	e.closeTicket("704")
	path := fmt.Sprintf("/sso/api/companies/%d/status", c.ID)
	decode[statusAnswer](t, e.do("POST", path, map[string]any{"status": "suspended", "sync_whmcs": true}), http.StatusOK)
	e.ob.RunDue(context.Background())
	if n := len(e.jobs(store.JobFailed)); n != 2 {
		t.Fatalf("%d failed jobs, want 2: %+v", n, e.jobs(""))
	}

	e.withWHMCSSecret(simSecret)
	e.drain()
	if n := len(e.jobs(store.JobFailed)); n != 2 {
		t.Fatalf("a reload ran parked jobs: %+v", e.jobs(""))
	}
	e.closeTicket("705") // pending, not failed: not counted
	var pendingBefore time.Time
	for _, j := range e.jobs(store.JobPending) {
		pendingBefore = j.NextAttempt
	}

	if a := decode[retryAllAnswer](t, e.do("POST", "/sso/api/outbox/retry", nil), http.StatusOK); a.Retried != 2 {
		t.Fatalf("retry-all answer %+v, want 2", a)
	}
	jobs := e.jobs("")
	if len(jobs) != 3 {
		t.Fatalf("jobs %+v", jobs)
	}
	for _, j := range jobs {
		if j.State != store.JobPending {
			t.Fatalf("job %+v not re-queued", j)
		}
		if j.Attempts == 0 && !j.NextAttempt.Equal(pendingBefore) {
			t.Fatalf("retry-all touched the pending job: %+v", j)
		}
		if j.Attempts == 1 && !strings.Contains(j.LastError, "Authentication Failed") {
			t.Fatalf("retry-all lost the last error: %+v", j)
		}
	}
	if a := decode[retryAllAnswer](t, e.do("POST", "/sso/api/outbox/retry", nil), http.StatusOK); a.Retried != 0 {
		t.Fatalf("second retry-all answer %+v, want 0", a)
	}

	e.drain()
	if left := e.jobs(""); len(left) != 0 {
		t.Fatalf("jobs left: %+v", left)
	}
	for _, tk := range []struct {
		id   string
		whID int64
	}{{"704", op.WHMCSTicketID}, {"705", op2.WHMCSTicketID}} {
		got := e.simTicket(tk.whID)
		if len(got.Replies) != 1 || got.Status != "Closed" || e.link(tk.id).SyncState != SyncClosed {
			t.Fatalf("ticket %s: %d replies, status %q", tk.id, len(got.Replies), got.Status)
		}
	}
	if n := e.sim.Calls("AddTicketReply"); n != 2 {
		t.Fatalf("AddTicketReply reached WHMCS %d times, want 2", n)
	}
	if cl, _ := e.sim.Client(c.WHMCSClientID); cl.Status != "Inactive" || e.sim.Calls("UpdateClient") != 1 {
		t.Fatalf("WHMCS client status %q after %d UpdateClient calls", cl.Status, e.sim.Calls("UpdateClient"))
	}
}

// A Service given no outbox still re-queues failed jobs for whichever
// outbox runs the store's jobs.
func TestRetryWithoutOutbox(t *testing.T) {
	e := newEnv(t)
	e.openTicket("706", "v@example.com")
	e.sim.DenyAction("AddTicketReply")
	e.closeTicket("706")
	e.ob.RunDue(context.Background())
	failed := e.onlyJob()
	cfg := e.cfg
	cfg.Store, cfg.Outbox = e.st, nil
	svc, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("POST", retryPath(failed.ID), nil)
	r.Header.Set("Authorization", "Bearer "+testToken)
	w := httptest.NewRecorder()
	svc.ServeHTTP(w, r)
	if got := decode[jobView](t, w, http.StatusOK); got.ID != failed.ID || got.State != "pending" {
		t.Fatalf("retry answer %+v", got)
	}
	e.sim.AllowAction("AddTicketReply")
	e.drain()
	if left := e.jobs(""); len(left) != 0 {
		t.Fatalf("jobs left: %+v", left)
	}
}
