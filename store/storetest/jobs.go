package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/rcchat/caddy-whmcs-auth/store"
)

// testEvents checks the event round trip and replacement by ID.
func testEvents(t *testing.T, s store.Store) {
	e := &store.Event{ID: "evt-1", Type: "ServiceSuspended", ServiceID: 3, ClientID: 4, ProductID: 5,
		InvoiceID: 6, OccurredAt: base, ReceivedAt: base.Add(time.Second), Outcome: "queued"}
	update(t, s, func(tx store.Tx) error { return tx.PutEvent(e) })
	e.Outcome = "applied"
	update(t, s, func(tx store.Tx) error { return tx.PutEvent(e) })
	view(t, s, func(tx store.Tx) error {
		got, err := tx.Event("evt-1")
		noErr(t, "Event", err)
		same(t, "Event after replace", got, e)
		return nil
	})
}

func jobID(j store.Job) int64 { return j.ID }

// testJobs checks the job round trip and that Jobs lists pending and
// failed jobs oldest first and forgets deleted ones.
func testJobs(t *testing.T, s store.Store) {
	j1 := &store.Job{Kind: "whmcs.close_ticket", Key: "T1", Payload: []byte(`{"ticket":"T1"}`),
		Steps: map[string]string{"reply": "done"}, State: store.JobPending, Attempts: 2,
		LastError: "timeout", CreatedAt: base, NextAttempt: base.Add(time.Minute)}
	j2 := &store.Job{Kind: "whmcs.note", State: store.JobFailed, CreatedAt: base.Add(time.Second), NextAttempt: base}
	j3 := &store.Job{Kind: "whmcs.note", State: store.JobPending, CreatedAt: base.Add(2 * time.Second), NextAttempt: base}
	update(t, s, func(tx store.Tx) error {
		for _, j := range []*store.Job{j1, j2, j3} {
			noErr(t, "PutJob", tx.PutJob(j))
		}
		return nil
	})
	if j1.ID == 0 || j1.ID >= j2.ID || j2.ID >= j3.ID {
		t.Fatalf("assigned ids %d, %d, %d; want increasing", j1.ID, j2.ID, j3.ID)
	}
	view(t, s, func(tx store.Tx) error {
		got, err := tx.Job(j1.ID)
		noErr(t, "Job", err)
		same(t, "Job(j1)", got, j1)
		js, err := tx.Jobs(10)
		noErr(t, "Jobs", err)
		sameKeys(t, "Jobs", keysOf(js, jobID), []int64{j1.ID, j2.ID, j3.ID})
		js, err = tx.Jobs(2)
		noErr(t, "Jobs(2)", err)
		sameKeys(t, "Jobs(2)", keysOf(js, jobID), []int64{j1.ID, j2.ID})
		return nil
	})
	update(t, s, func(tx store.Tx) error { return tx.DeleteJob(j1.ID) })
	view(t, s, func(tx store.Tx) error {
		_, err := tx.Job(j1.ID)
		wantErr(t, "Job after delete", err, store.ErrNotFound)
		js, err := tx.Jobs(10)
		noErr(t, "Jobs", err)
		sameKeys(t, "Jobs after delete", keysOf(js, jobID), []int64{j2.ID, j3.ID})
		return nil
	})
}

// testDueJobs checks that DueJobs returns only pending jobs due by now,
// earliest first, within limit, and follows NextAttempt, State and
// deletion changes.
func testDueJobs(t *testing.T, s store.Store) {
	now := base
	mk := func(key string, state store.JobState, next time.Duration) *store.Job {
		return &store.Job{Kind: "k", Key: key, State: state, CreatedAt: now, NextAttempt: now.Add(next)}
	}
	jobs := []*store.Job{
		mk("due-3m", store.JobPending, -3*time.Minute),
		mk("due-1m", store.JobPending, -time.Minute),
		mk("due-2m", store.JobPending, -2*time.Minute),
		mk("future", store.JobPending, time.Minute),
		mk("failed", store.JobFailed, -5*time.Minute),
		mk("due-now", store.JobPending, 0),
	}
	update(t, s, func(tx store.Tx) error {
		for _, j := range jobs {
			noErr(t, "PutJob", tx.PutJob(j))
		}
		return nil
	})
	jobKey := func(j store.Job) string { return j.Key }
	due := func(at time.Time, limit int) []string {
		t.Helper()
		var keys []string
		view(t, s, func(tx store.Tx) error {
			js, err := tx.DueJobs(at, limit)
			noErr(t, "DueJobs", err)
			for _, j := range js {
				if j.State != store.JobPending {
					t.Errorf("DueJobs returned %s job %q", j.State, j.Key)
				}
			}
			keys = keysOf(js, jobKey)
			return nil
		})
		return keys
	}
	sameKeys(t, "DueJobs(now)", due(now, 10), []string{"due-3m", "due-2m", "due-1m", "due-now"})
	sameKeys(t, "DueJobs(now, 2)", due(now, 2), []string{"due-3m", "due-2m"})
	sameKeys(t, "DueJobs(now-10m)", due(now.Add(-10*time.Minute), 10), nil)

	// Retrying pushes a job back; parking it as failed or deleting it
	// removes it from the due list.
	update(t, s, func(tx store.Tx) error {
		r := *jobs[0]
		r.Attempts++
		r.NextAttempt = now.Add(5 * time.Minute)
		noErr(t, "PutJob retry", tx.PutJob(&r))
		f := *jobs[2]
		f.State = store.JobFailed
		noErr(t, "PutJob failed", tx.PutJob(&f))
		return tx.DeleteJob(jobs[1].ID)
	})
	sameKeys(t, "DueJobs(now) after changes", due(now, 10), []string{"due-now"})
	sameKeys(t, "DueJobs(now+10m) after changes", due(now.Add(10*time.Minute), 10),
		[]string{"due-now", "future", "due-3m"})

	// A parked job put back to pending is due again.
	update(t, s, func(tx store.Tx) error {
		j, err := tx.Job(jobs[4].ID)
		noErr(t, "Job", err)
		j.State = store.JobPending
		return tx.PutJob(&j)
	})
	sameKeys(t, "DueJobs(now) after unparking", due(now, 10), []string{"failed", "due-now"})
	view(t, s, func(tx store.Tx) error {
		js, err := tx.Jobs(10)
		noErr(t, "Jobs", err)
		sameKeys(t, "Jobs after changes", keysOf(js, jobKey),
			[]string{"due-3m", "due-2m", "future", "failed", "due-now"})
		return nil
	})
}

// testTicketLinks checks the ticket link round trip and replacement.
func testTicketLinks(t *testing.T, s store.Store) {
	l := &store.TicketLink{TicketID: "RC-1", CompanyID: 1, WHMCSTicketID: 77, WHMCSTID: "ABC-123",
		WHMCSClientID: 9, SyncState: "open", CreatedAt: base, UpdatedAt: base}
	update(t, s, func(tx store.Tx) error { return tx.PutTicketLink(l) })
	l.SyncState, l.CloseJobID, l.UpdatedAt = "closing", 5, base.Add(time.Minute)
	update(t, s, func(tx store.Tx) error { return tx.PutTicketLink(l) })
	view(t, s, func(tx store.Tx) error {
		got, err := tx.TicketLink("RC-1")
		noErr(t, "TicketLink", err)
		same(t, "TicketLink after replace", got, l)
		return nil
	})
}

// testLockouts checks the lockout round trip and deletion.
func testLockouts(t *testing.T, s store.Store) {
	l := &store.Lockout{Key: "email:a@example.com", Failures: 3, WindowStart: base, BannedUntil: base.Add(time.Minute)}
	update(t, s, func(tx store.Tx) error { return tx.PutLockout(l) })
	view(t, s, func(tx store.Tx) error {
		got, err := tx.Lockout(l.Key)
		noErr(t, "Lockout", err)
		same(t, "Lockout", got, l)
		return nil
	})
	l2 := &store.Lockout{Key: "ip:192.0.2.1", Failures: 1, WindowStart: base}
	update(t, s, func(tx store.Tx) error { return tx.PutLockout(l2) })
	view(t, s, func(tx store.Tx) error {
		all, err := tx.Lockouts("", 10)
		noErr(t, "Lockouts", err)
		if len(all) != 2 || all[0].Key != l.Key || all[1].Key != l2.Key {
			t.Errorf("Lockouts = %+v, want both in key order", all)
		}
		after, err := tx.Lockouts(l.Key, 10)
		noErr(t, "Lockouts after", err)
		if len(after) != 1 || after[0].Key != l2.Key {
			t.Errorf("Lockouts(after %q) = %+v", l.Key, after)
		}
		return nil
	})
	update(t, s, func(tx store.Tx) error { return tx.DeleteLockout(l2.Key) })
	update(t, s, func(tx store.Tx) error { return tx.DeleteLockout(l.Key) })
	view(t, s, func(tx store.Tx) error {
		_, err := tx.Lockout(l.Key)
		wantErr(t, "Lockout after delete", err, store.ErrNotFound)
		return nil
	})
}

// testAudit checks that audit IDs follow append order and Audit lists the
// newest first.
func testAudit(t *testing.T, s store.Store) {
	var entries []*store.AuditEntry
	for i := range 5 {
		// Separate transactions, as in production, where each action
		// audits on its own.
		update(t, s, func(tx store.Tx) error {
			a := &store.AuditEntry{At: base.Add(time.Duration(i) * time.Second), Action: fmt.Sprintf("a%d", i),
				Outcome: "ok", Email: "a@example.com", ClientIP: "192.0.2.1", CompanyID: 1, Detail: "d"}
			entries = append(entries, a)
			return tx.AppendAudit(a)
		})
	}
	for i := 1; i < len(entries); i++ {
		if entries[i].ID <= entries[i-1].ID {
			t.Fatalf("audit ids not increasing: %d then %d", entries[i-1].ID, entries[i].ID)
		}
	}
	action := func(a store.AuditEntry) string { return a.Action }
	view(t, s, func(tx store.Tx) error {
		as, err := tx.Audit(3)
		noErr(t, "Audit(3)", err)
		sameKeys(t, "Audit(3)", keysOf(as, action), []string{"a4", "a3", "a2"})
		if len(as) > 0 {
			same(t, "newest audit entry", as[0], entries[4])
		}
		as, err = tx.Audit(10)
		noErr(t, "Audit(10)", err)
		sameKeys(t, "Audit(10)", keysOf(as, action), []string{"a4", "a3", "a2", "a1", "a0"})
		return nil
	})
}

// testAuditRetention checks the prune that keeps the audit log bounded:
// entries before the cutoff go (a limit at a time, oldest first), the one at
// the cutoff and newer ones stay, and IDs keep increasing afterwards.
func testAuditRetention(t *testing.T, s store.Store) {
	ages := []time.Duration{-100 * time.Hour, -99 * time.Hour, -98 * time.Hour, -97 * time.Hour, 0, time.Hour}
	for i, age := range ages {
		update(t, s, func(tx store.Tx) error {
			return tx.AppendAudit(&store.AuditEntry{At: base.Add(age), Action: fmt.Sprintf("a%d", i), Outcome: "ok"})
		})
	}
	action := func(a store.AuditEntry) string { return a.Action }
	prune := func(limit int) int {
		t.Helper()
		var n int
		update(t, s, func(tx store.Tx) error {
			var err error
			n, err = tx.DeleteAuditBefore(base, limit)
			return err
		})
		return n
	}
	if n := prune(3); n != 3 {
		t.Fatalf("DeleteAuditBefore(limit 3) removed %d, want 3", n)
	}
	view(t, s, func(tx store.Tx) error {
		as, err := tx.Audit(10)
		noErr(t, "Audit", err)
		sameKeys(t, "after the first prune", keysOf(as, action), []string{"a5", "a4", "a3"})
		return nil
	})
	if n := prune(10); n != 1 {
		t.Fatalf("DeleteAuditBefore removed %d, want the 1 old entry left", n)
	}
	if n := prune(10); n != 0 {
		t.Fatalf("DeleteAuditBefore removed %d entries at or after the cutoff", n)
	}
	var last int64
	view(t, s, func(tx store.Tx) error {
		as, err := tx.Audit(10)
		noErr(t, "Audit", err)
		sameKeys(t, "after pruning", keysOf(as, action), []string{"a5", "a4"})
		if len(as) > 0 {
			last = as[0].ID
		}
		return nil
	})
	update(t, s, func(tx store.Tx) error {
		a := &store.AuditEntry{At: base, Action: "later", Outcome: "ok"}
		if err := tx.AppendAudit(a); err != nil {
			return err
		}
		if a.ID <= last {
			t.Errorf("audit id %d after pruning, not above the newest kept %d", a.ID, last)
		}
		return nil
	})
}
