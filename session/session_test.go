package session

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rcchat/caddy-whmcs-auth/store"
	"github.com/rcchat/caddy-whmcs-auth/store/boltstore"
)

type fixture struct {
	ctx     context.Context
	st      store.Store
	m       *Manager
	company store.Company
	user    store.User
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "state.db"), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	f := &fixture{ctx: context.Background(), st: st, m: NewManager(st, time.Hour)}
	f.company = store.Company{WHMCSClientID: 7, Name: "Acme", Plan: "Basico", Status: store.StatusActive}
	f.user = store.User{Email: "ana@example.com", Role: "admin"}
	f.update(t, func(tx store.Tx) error {
		if err := tx.PutCompany(&f.company); err != nil {
			return err
		}
		f.user.CompanyID = f.company.ID
		return tx.PutUser(&f.user)
	})
	return f
}

func (f *fixture) update(t *testing.T, fn func(tx store.Tx) error) {
	t.Helper()
	if err := f.st.Update(f.ctx, fn); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) open(t *testing.T) string {
	t.Helper()
	token, _, err := f.m.Open(f.ctx, f.user, f.company, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return token
}

func TestLookupIsSharedUntilTheNextWrite(t *testing.T) {
	f := newFixture(t)
	token := f.open(t)
	e1, err := f.m.Lookup(f.ctx, token)
	if err != nil {
		t.Fatal(err)
	}
	e2, _ := f.m.Lookup(f.ctx, token)
	if e1 != e2 {
		t.Fatal("two lookups without a write in between read the store twice")
	}
	calls := 0
	build := func(*Entry) any { calls++; return new(int) }
	if d1, d2 := e1.Derived(build), e2.Derived(build); d1 != d2 || calls != 1 {
		t.Fatalf("Derived built %d times", calls)
	}

	// Any write retires the entry, and with it what was derived from it:
	// here the suspension must be seen by the very next lookup.
	f.company.Status = store.StatusSuspended
	f.update(t, func(tx store.Tx) error { return tx.PutCompany(&f.company) })
	e3, err := f.m.Lookup(f.ctx, token)
	if err != nil {
		t.Fatal(err)
	}
	if e3 == e1 || e3.Company.Status != store.StatusSuspended {
		t.Fatalf("stale entry after a write: %+v", e3.Company)
	}
	if e3.Derived(build); calls != 2 {
		t.Fatal("a new entry reused what was derived from the old one")
	}
	if _, co, _ := f.m.Resolve(f.ctx, token); co.Status != store.StatusSuspended {
		t.Fatalf("Resolve: %q", co.Status)
	}
}

func TestLookupRefusesWhatIsNotALiveSession(t *testing.T) {
	f := newFixture(t)
	token := f.open(t)
	for _, bad := range []string{"", "short", strings.Repeat("A", 42), strings.Repeat("A", 43), token[:42] + "!", token + "A"} {
		if _, err := f.m.Lookup(f.ctx, bad); !errors.Is(err, ErrNoSession) {
			t.Errorf("Lookup(%q) = %v", bad, err)
		}
	}
	if err := f.m.Revoke(f.ctx, token); err != nil {
		t.Fatal(err)
	}
	if _, err := f.m.Lookup(f.ctx, token); !errors.Is(err, ErrNoSession) {
		t.Fatalf("revoked session: %v", err)
	}

	expiring := f.open(t)
	if _, err := f.m.Lookup(f.ctx, expiring); err != nil {
		t.Fatal(err)
	}
	f.m.now = func() time.Time { return time.Now().Add(time.Hour) }
	if _, err := f.m.Lookup(f.ctx, expiring); !errors.Is(err, ErrNoSession) {
		t.Fatalf("expired session still resolves from the cache: %v", err)
	}
}

func TestTokenKeyIsTheStoredHash(t *testing.T) {
	token, err := NewToken()
	if err != nil {
		t.Fatal(err)
	}
	if len(token) != tokenLen {
		t.Fatalf("token length %d, tokenLen %d", len(token), tokenLen)
	}
	key, ok := tokenKey(token)
	if !ok || hex.EncodeToString(key[:]) != HashToken(token) || key != sha256.Sum256([]byte(token)) {
		t.Fatal("tokenKey and HashToken disagree")
	}
	if allocs := testing.AllocsPerRun(100, func() { tokenKey(token) }); allocs != 0 {
		t.Fatalf("tokenKey allocates %v times", allocs)
	}
}

// TestLookupUnderConcurrentWrites runs lookups against logins, logouts and
// status flips; with -race it checks the cache and Derived for data races,
// and every lookup must see a status that was committed.
func TestLookupUnderConcurrentWrites(t *testing.T) {
	f := newFixture(t)
	token := f.open(t)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		c := f.company
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			c.Status = []store.CompanyStatus{store.StatusActive, store.StatusSuspended}[i%2]
			f.update(t, func(tx store.Tx) error { return tx.PutCompany(&c) })
			other := f.open(t)
			if err := f.m.Revoke(f.ctx, other); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	var readers sync.WaitGroup
	for range 4 {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for range 300 {
				e, err := f.m.Lookup(f.ctx, token)
				if err != nil {
					t.Error(err)
					return
				}
				if s := e.Company.Status; s != store.StatusActive && s != store.StatusSuspended {
					t.Errorf("status %q", s)
				}
				e.Derived(func(e *Entry) any { return e.Company.Status })
			}
		}()
	}
	readers.Wait()
	close(stop)
	wg.Wait()
}
