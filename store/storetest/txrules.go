package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/rcchat/caddy-whmcs-auth/store"
)

// testNotFound checks that every lookup of a missing record says
// ErrNotFound, so callers can tell "absent" from "broken", and that
// deleting a missing record is not an error, so cleanups can be retried.
func testNotFound(t *testing.T, s store.Store) {
	view(t, s, func(tx store.Tx) error {
		_, err := tx.Company(1)
		wantErr(t, "Company", err, store.ErrNotFound)
		_, err = tx.CompanyByWHMCSClient(1)
		wantErr(t, "CompanyByWHMCSClient", err, store.ErrNotFound)
		_, err = tx.CompanyByRCChatID(1)
		wantErr(t, "CompanyByRCChatID", err, store.ErrNotFound)
		_, err = tx.User(1)
		wantErr(t, "User", err, store.ErrNotFound)
		_, err = tx.UserByEmail("nobody@example.com")
		wantErr(t, "UserByEmail", err, store.ErrNotFound)
		_, err = tx.Session("nohash")
		wantErr(t, "Session", err, store.ErrNotFound)
		_, err = tx.AuthCode("nohash")
		wantErr(t, "AuthCode", err, store.ErrNotFound)
		_, err = tx.RefreshToken("nohash")
		wantErr(t, "RefreshToken", err, store.ErrNotFound)
		_, err = tx.Event("evt")
		wantErr(t, "Event", err, store.ErrNotFound)
		_, err = tx.Job(1)
		wantErr(t, "Job", err, store.ErrNotFound)
		_, err = tx.TicketLink("T1")
		wantErr(t, "TicketLink", err, store.ErrNotFound)
		_, err = tx.Lockout("k")
		wantErr(t, "Lockout", err, store.ErrNotFound)
		return nil
	})
	update(t, s, func(tx store.Tx) error {
		noErr(t, "DeleteSession(missing)", tx.DeleteSession("nohash"))
		noErr(t, "DeleteAuthCode(missing)", tx.DeleteAuthCode("nohash"))
		noErr(t, "DeleteSigningKey(missing)", tx.DeleteSigningKey("nokid"))
		noErr(t, "DeleteJob(missing)", tx.DeleteJob(42))
		noErr(t, "DeleteLockout(missing)", tx.DeleteLockout("k"))
		noErr(t, "RevokeRefreshFamily(missing)", tx.RevokeRefreshFamily("nofamily"))
		noErr(t, "RevokeCompanyRefreshTokens(missing)", tx.RevokeCompanyRefreshTokens(42))
		return nil
	})
}

// testEmptyLists checks that list methods on an empty store return no
// items and no error.
func testEmptyLists(t *testing.T, s store.Store) {
	view(t, s, func(tx store.Tx) error {
		check := func(what string, n int, err error) {
			t.Helper()
			if err != nil || n != 0 {
				t.Errorf("%s on empty store: %d items, err %v", what, n, err)
			}
		}
		cs, err := tx.Companies(0, 10)
		check("Companies", len(cs), err)
		ss, err := tx.CompanySessions(1)
		check("CompanySessions", len(ss), err)
		ks, err := tx.SigningKeys()
		check("SigningKeys", len(ks), err)
		dj, err := tx.DueJobs(base, 10)
		check("DueJobs", len(dj), err)
		js, err := tx.Jobs(10)
		check("Jobs", len(js), err)
		as, err := tx.Audit(10)
		check("Audit", len(as), err)
		n, err := tx.CountSessions()
		check("CountSessions", n, err)
		return nil
	})
	update(t, s, func(tx store.Tx) error {
		n, err := tx.DeleteExpiredSessions(base, 10)
		if err != nil || n != 0 {
			t.Errorf("DeleteExpiredSessions on empty store: %d, %v", n, err)
		}
		n, err = tx.DeleteAuditBefore(base, 10)
		if err != nil || n != 0 {
			t.Errorf("DeleteAuditBefore on empty store: %d, %v", n, err)
		}
		return nil
	})
}

// writeOneOfEach puts one record of every kind, for rollback checks.
func writeOneOfEach(tx store.Tx) error {
	for _, put := range []func() error{
		func() error {
			return tx.PutCompany(&store.Company{WHMCSClientID: 7, RCChatCompanyID: 70, Status: store.StatusActive})
		},
		func() error { return tx.PutUser(&store.User{CompanyID: 1, Email: "rollback@example.com"}) },
		func() error { return tx.PutSession(&store.Session{IDHash: "s", CompanyID: 1, ExpiresAt: base}) },
		func() error { return tx.PutAuthCode(&store.AuthCode{CodeHash: "c", ExpiresAt: base}) },
		func() error {
			return tx.PutRefreshToken(&store.RefreshToken{TokenHash: "r", FamilyID: "f", CompanyID: 1})
		},
		func() error { return tx.PutSigningKey(&store.SigningKey{KID: "k", CreatedAt: base}) },
		func() error { return tx.PutEvent(&store.Event{ID: "e"}) },
		func() error { return tx.PutJob(&store.Job{Kind: "k", State: store.JobPending, NextAttempt: base}) },
		func() error { return tx.PutTicketLink(&store.TicketLink{TicketID: "T"}) },
		func() error { return tx.PutLockout(&store.Lockout{Key: "l"}) },
		func() error { return tx.AppendAudit(&store.AuditEntry{Action: "a", At: base}) },
	} {
		if err := put(); err != nil {
			return err
		}
	}
	return nil
}

// assertNothingWritten checks that writeOneOfEach left no trace.
func assertNothingWritten(t *testing.T, s store.Store) {
	t.Helper()
	view(t, s, func(tx store.Tx) error {
		_, err := tx.CompanyByWHMCSClient(7)
		wantErr(t, "company after rollback", err, store.ErrNotFound)
		_, err = tx.CompanyByRCChatID(70)
		wantErr(t, "company by RC-CHAT id after rollback", err, store.ErrNotFound)
		_, err = tx.UserByEmail("rollback@example.com")
		wantErr(t, "user after rollback", err, store.ErrNotFound)
		_, err = tx.Session("s")
		wantErr(t, "session after rollback", err, store.ErrNotFound)
		_, err = tx.AuthCode("c")
		wantErr(t, "auth code after rollback", err, store.ErrNotFound)
		_, err = tx.RefreshToken("r")
		wantErr(t, "refresh token after rollback", err, store.ErrNotFound)
		_, err = tx.Event("e")
		wantErr(t, "event after rollback", err, store.ErrNotFound)
		_, err = tx.TicketLink("T")
		wantErr(t, "ticket link after rollback", err, store.ErrNotFound)
		_, err = tx.Lockout("l")
		wantErr(t, "lockout after rollback", err, store.ErrNotFound)
		for what, n := range map[string]func() (int, error){
			"Companies":       func() (int, error) { l, err := tx.Companies(0, 1000); return len(l), err },
			"CompanySessions": func() (int, error) { l, err := tx.CompanySessions(1); return len(l), err },
			"SigningKeys":     func() (int, error) { l, err := tx.SigningKeys(); return len(l), err },
			"Jobs":            func() (int, error) { l, err := tx.Jobs(1000); return len(l), err },
			"DueJobs":         func() (int, error) { l, err := tx.DueJobs(base, 1000); return len(l), err },
			"Audit":           func() (int, error) { l, err := tx.Audit(1000); return len(l), err },
		} {
			if got, err := n(); err != nil || got != 0 {
				t.Errorf("%s after rollback: %d items, err %v", what, got, err)
			}
		}
		return nil
	})
}

// testRollback checks that a failing fn writes nothing and that its own
// error comes back, for Update and for Batch.
func testRollback(t *testing.T, s store.Store) {
	rev := s.Revision()
	fail := func(tx store.Tx) error {
		if err := writeOneOfEach(tx); err != nil {
			return err
		}
		return errBoom
	}
	wantErr(t, "Update with failing fn", s.Update(context.Background(), fail), errBoom)
	assertNothingWritten(t, s)
	wantErr(t, "Batch with failing fn", s.Batch(context.Background(), fail), errBoom)
	assertNothingWritten(t, s)
	if got := s.Revision(); got != rev {
		t.Errorf("Revision moved from %d to %d without a commit", rev, got)
	}
	// The same writes succeed once fn stops failing, so the rollback was
	// not hiding a write error.
	update(t, s, writeOneOfEach)
}

// testRevision checks that Revision moves on every commit and only then,
// since the request path's cache relies on both halves.
func testRevision(t *testing.T, s store.Store) {
	r0 := s.Revision()
	view(t, s, func(tx store.Tx) error { return nil })
	if r := s.Revision(); r != r0 {
		t.Fatalf("View moved Revision %d -> %d", r0, r)
	}
	update(t, s, func(tx store.Tx) error { return tx.PutLockout(&store.Lockout{Key: "a", Failures: 1}) })
	r1 := s.Revision()
	if r1 <= r0 {
		t.Fatalf("Update did not increase Revision: %d -> %d", r0, r1)
	}
	_ = tryUpdate(s, func(tx store.Tx) error { return errBoom })
	if r := s.Revision(); r != r1 {
		t.Fatalf("failed Update moved Revision %d -> %d", r1, r)
	}
	noErr(t, "Batch", s.Batch(context.Background(), func(tx store.Tx) error {
		return tx.PutLockout(&store.Lockout{Key: "a", Failures: 2})
	}))
	if r := s.Revision(); r <= r1 {
		t.Fatalf("Batch did not increase Revision: %d -> %d", r1, r)
	}
}

// testContext checks that a cancelled context stops a transaction before
// fn runs.
func testContext(t *testing.T, s store.Store) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ran := false
	fn := func(tx store.Tx) error { ran = true; return nil }
	wantErr(t, "View(cancelled)", s.View(ctx, fn), context.Canceled)
	wantErr(t, "Update(cancelled)", s.Update(ctx, fn), context.Canceled)
	wantErr(t, "Batch(cancelled)", s.Batch(ctx, fn), context.Canceled)
	if ran {
		t.Error("fn ran under a cancelled context")
	}
}

// testReadOnlyView checks that View refuses writes.
func testReadOnlyView(t *testing.T, s store.Store) {
	var putErr error
	_ = s.View(context.Background(), func(tx store.Tx) error {
		putErr = tx.PutLockout(&store.Lockout{Key: "ro"})
		return nil
	})
	if putErr == nil {
		t.Error("PutLockout inside View succeeded")
	}
	view(t, s, func(tx store.Tx) error {
		_, err := tx.Lockout("ro")
		wantErr(t, "Lockout written in View", err, store.ErrNotFound)
		return nil
	})
}

// testOwnWrites checks that a transaction reads its own writes, including
// through indexes, before commit.
func testOwnWrites(t *testing.T, s store.Store) {
	update(t, s, func(tx store.Tx) error {
		c := &store.Company{WHMCSClientID: 5, RCChatCompanyID: 50, Name: "Own"}
		noErr(t, "PutCompany", tx.PutCompany(c))
		got, err := tx.CompanyByRCChatID(50)
		noErr(t, "CompanyByRCChatID in same tx", err)
		same(t, "company in same tx", got, c)
		u := &store.User{CompanyID: c.ID, Email: "own@example.com"}
		noErr(t, "PutUser", tx.PutUser(u))
		gu, err := tx.UserByEmail("own@example.com")
		noErr(t, "UserByEmail in same tx", err)
		same(t, "user in same tx", gu, u)
		noErr(t, "PutSession", tx.PutSession(&store.Session{IDHash: "h", CompanyID: c.ID, ExpiresAt: base}))
		ss, err := tx.CompanySessions(c.ID)
		noErr(t, "CompanySessions in same tx", err)
		if len(ss) != 1 {
			t.Errorf("CompanySessions in same tx: %d, want 1", len(ss))
		}
		return nil
	})
}

// testExplicitIDs checks that a record put with an explicit ID (a restore,
// a migration) does not collide with IDs the store assigns later. ID 2 is
// small on purpose: a store that ignored it would hand it out next-but-one.
func testExplicitIDs(t *testing.T, s store.Store) {
	update(t, s, func(tx store.Tx) error {
		noErr(t, "PutCompany(2)", tx.PutCompany(&store.Company{ID: 2, WHMCSClientID: 1}))
		noErr(t, "PutUser(2)", tx.PutUser(&store.User{ID: 2, Email: "a@example.com"}))
		noErr(t, "PutJob(2)", tx.PutJob(&store.Job{ID: 2, Kind: "k", State: store.JobFailed}))
		noErr(t, "AppendAudit(2)", tx.AppendAudit(&store.AuditEntry{ID: 2, Action: "first"}))
		return nil
	})
	for i := range 3 {
		update(t, s, func(tx store.Tx) error {
			c := &store.Company{WHMCSClientID: int64(10 + i)}
			u := &store.User{Email: fmt.Sprintf("u%d@example.com", i)}
			j := &store.Job{Kind: "k", State: store.JobFailed}
			a := &store.AuditEntry{Action: "next"}
			noErr(t, "PutCompany", tx.PutCompany(c))
			noErr(t, "PutUser", tx.PutUser(u))
			noErr(t, "PutJob", tx.PutJob(j))
			noErr(t, "AppendAudit", tx.AppendAudit(a))
			for what, id := range map[string]int64{"company": c.ID, "user": u.ID, "job": j.ID, "audit": a.ID} {
				if id == 0 || id == 2 {
					t.Errorf("assigned %s id %d", what, id)
				}
			}
			return nil
		})
	}
	view(t, s, func(tx store.Tx) error {
		c, err := tx.Company(2)
		noErr(t, "Company(2)", err)
		if c.WHMCSClientID != 1 {
			t.Errorf("company 2 was overwritten: %+v", c)
		}
		u, err := tx.User(2)
		noErr(t, "User(2)", err)
		if u.Email != "a@example.com" {
			t.Errorf("user 2 was overwritten: %+v", u)
		}
		cs, err := tx.Companies(0, 1000)
		noErr(t, "Companies", err)
		js, err := tx.Jobs(1000)
		noErr(t, "Jobs", err)
		as, err := tx.Audit(1000)
		noErr(t, "Audit", err)
		if len(cs) != 4 || len(js) != 4 || len(as) != 4 {
			t.Errorf("got %d companies, %d jobs, %d audit entries; want 4 each", len(cs), len(js), len(as))
		}
		return nil
	})
}

// testConcurrentBatch checks that many concurrent Batch writers all land,
// with distinct IDs, while readers run alongside.
func testConcurrentBatch(t *testing.T, s store.Store) {
	const writers = 50
	rev := s.Revision()
	ids := make([]int64, writers)
	var wg sync.WaitGroup
	errs := make(chan error, writers+5)
	for i := range writers {
		wg.Go(func() {
			err := s.Batch(context.Background(), func(tx store.Tx) error {
				// Built inside fn because Batch may run it again.
				j := &store.Job{Kind: "batch", Key: fmt.Sprint(i), State: store.JobPending, NextAttempt: base}
				if err := tx.PutJob(j); err != nil {
					return err
				}
				ids[i] = j.ID
				return tx.AppendAudit(&store.AuditEntry{Action: "batch", Detail: fmt.Sprint(i), At: base})
			})
			if err != nil {
				errs <- fmt.Errorf("writer %d: %w", i, err)
			}
		})
	}
	for range 5 {
		wg.Go(func() {
			if err := s.View(context.Background(), func(tx store.Tx) error {
				_, err := tx.Jobs(1000)
				return err
			}); err != nil {
				errs <- fmt.Errorf("reader: %w", err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		return
	}
	if s.Revision() <= rev {
		t.Errorf("Revision did not move after %d Batch commits", writers)
	}
	seen := map[int64]bool{}
	view(t, s, func(tx store.Tx) error {
		for i, id := range ids {
			if seen[id] {
				t.Errorf("job id %d assigned twice", id)
			}
			seen[id] = true
			j, err := tx.Job(id)
			noErr(t, "Job", err)
			if j.Key != fmt.Sprint(i) {
				t.Errorf("job %d has key %q, want %q", id, j.Key, fmt.Sprint(i))
			}
		}
		js, err := tx.Jobs(1000)
		noErr(t, "Jobs", err)
		as, err := tx.Audit(1000)
		noErr(t, "Audit", err)
		if len(js) != writers || len(as) != writers {
			t.Errorf("got %d jobs and %d audit entries, want %d each", len(js), len(as), writers)
		}
		return nil
	})
}
