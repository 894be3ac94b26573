package boltstore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/rcchat/caddy-whmcs-auth/store"
	"github.com/rcchat/caddy-whmcs-auth/store/storetest"
)

func openTemp(t *testing.T) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "state", "state.db"), Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openTemp(t) })
}

func TestReopenKeepsData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	c := &store.Company{WHMCSClientID: 42, RCChatCompanyID: 7, Name: "Durable"}
	if err := s.Update(ctx, func(tx store.Tx) error {
		if err := tx.PutCompany(c); err != nil {
			return err
		}
		return tx.PutSession(&store.Session{IDHash: "h", CompanyID: c.ID, ExpiresAt: time.Now().Add(time.Hour)})
	}); err != nil {
		t.Fatal(err)
	}
	// Concurrent Batch writers must be durable too, not just Update.
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			if err := s.Batch(ctx, func(tx store.Tx) error {
				return tx.PutLockout(&store.Lockout{Key: fmt.Sprint("k", i), Failures: i})
			}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = Open(path, Options{})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	if err := s.View(ctx, func(tx store.Tx) error {
		got, err := tx.CompanyByRCChatID(7)
		if err != nil {
			return err
		}
		if got.ID != c.ID || got.Name != "Durable" {
			t.Errorf("company after reopen: %+v", got)
		}
		if _, err := tx.Session("h"); err != nil {
			return err
		}
		for i := range 20 {
			l, err := tx.Lockout(fmt.Sprint("k", i))
			if err != nil {
				return err
			}
			if l.Failures != i {
				t.Errorf("lockout k%d: %+v", i, l)
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// Sequences survive too, so new records do not reuse IDs.
	if err := s.Update(ctx, func(tx store.Tx) error {
		n := &store.Company{WHMCSClientID: 43}
		if err := tx.PutCompany(n); err != nil {
			return err
		}
		if n.ID <= c.ID {
			t.Errorf("new company id %d after reopen, want > %d", n.ID, c.ID)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

func TestSecondOpenIsLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	start := time.Now()
	_, err = Open(path, Options{Timeout: 200 * time.Millisecond})
	elapsed := time.Since(start)
	if err == nil {
		t.Fatal("second Open of a locked file succeeded")
	}
	want := fmt.Sprintf("state file %s is locked by another process "+
		"(is another caddy running on it? use \"caddy reload\" instead of a second \"caddy run\")", path)
	if err.Error() != want {
		t.Errorf("error:\n got  %q\n want %q", err, want)
	}
	var le *LockedError
	if !errors.As(err, &le) || le.Path != path {
		t.Errorf("error %T is not a *LockedError for %s", err, path)
	}
	if elapsed > 2*time.Second {
		t.Errorf("second Open took %v with a 200ms timeout", elapsed)
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bMeta).Put(keySchemaVersion, u64key(SchemaVersion+1))
	}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	_, err = Open(path, Options{})
	if err == nil {
		t.Fatal("Open accepted a newer schema")
	}
	want := fmt.Sprintf("state file was written by a newer version (schema %d), this binary knows up to %d",
		SchemaVersion+1, SchemaVersion)
	if !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), path) {
		t.Errorf("error %q does not contain %q and the path", err, want)
	}
}

func TestForeignFileRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "other.db")
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucket([]byte("something_else"))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := Open(path, Options{}); err == nil || !strings.Contains(err.Error(), "not a state file") {
		t.Errorf("Open of a foreign bbolt file: %v", err)
	}
}

func TestOpenErrorNamesPath(t *testing.T) {
	// A directory where the file should be makes bbolt fail.
	path := filepath.Join(t.TempDir(), "state.db")
	if err := os.Mkdir(path, 0o700); err != nil {
		t.Fatal(err)
	}
	_, err := Open(path, Options{})
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("Open error %v does not name %s", err, path)
	}
}

func TestFilePermissions(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "dir")
	path := filepath.Join(dir, "state.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	assertMode(t, path, 0o600)
	assertMode(t, dir, 0o700)

	// A pre-existing file with loose permissions is tightened.
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	s, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	assertMode(t, path, 0o600)
}

func assertMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != want {
		t.Errorf("%s has mode %v, want %v", path, got, want)
	}
}

func TestRejectsBadRecords(t *testing.T) {
	s := openTemp(t)
	defer s.Close()
	for name, fn := range map[string]func(store.Tx) error{
		"job without state":   func(tx store.Tx) error { return tx.PutJob(&store.Job{Kind: "k"}) },
		"job in state done":   func(tx store.Tx) error { return tx.PutJob(&store.Job{Kind: "k", State: "done"}) },
		"negative company id": func(tx store.Tx) error { return tx.PutCompany(&store.Company{ID: -1}) },
		"session without id":  func(tx store.Tx) error { return tx.PutSession(&store.Session{}) },
		"event without id":    func(tx store.Tx) error { return tx.PutEvent(&store.Event{}) },
	} {
		if err := s.Update(context.Background(), fn); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestTimeKeyOrder(t *testing.T) {
	times := []time.Time{
		{},
		time.Unix(-1, 0),
		time.Unix(0, 0),
		time.Unix(0, 1),
		time.Unix(1, 0),
		time.Date(2030, 1, 1, 0, 0, 0, 999999999, time.UTC),
		time.Date(3000, 1, 1, 0, 0, 0, 0, time.FixedZone("x", 3600)),
	}
	for i := 1; i < len(times); i++ {
		a, b := timeKey(times[i-1]), timeKey(times[i])
		if string(a) >= string(b) {
			t.Errorf("timeKey(%v) >= timeKey(%v)", times[i-1], times[i])
		}
	}
}

// BenchmarkSessionAndCompanyLookup measures the per-request read: one View
// with a session lookup and its company.
func BenchmarkSessionAndCompanyLookup(b *testing.B) {
	s, err := Open(filepath.Join(b.TempDir(), "state.db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	// Enough records that lookups go through a real B+tree, not one page.
	var hashes []string
	if err := s.Update(ctx, func(tx store.Tx) error {
		for i := range 1000 {
			c := &store.Company{WHMCSClientID: int64(i + 1), RCChatCompanyID: int64(i + 1), Name: "Company",
				Plan: "pro", Status: store.StatusActive, DueDate: "2030-01-01"}
			if err := tx.PutCompany(c); err != nil {
				return err
			}
			for j := range 5 {
				h := fmt.Sprintf("%064x", i*5+j)
				hashes = append(hashes, h)
				if err := tx.PutSession(&store.Session{IDHash: h, UserID: int64(j), CompanyID: c.ID,
					Email: "user@example.com", Name: "User", Role: "admin",
					AuthTime: time.Now(), ExpiresAt: time.Now().Add(time.Hour), ClientIP: "192.0.2.1"}); err != nil {
					return err
				}
			}
		}
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		h := hashes[i%len(hashes)]
		i++
		if err := s.View(ctx, func(tx store.Tx) error {
			sess, err := tx.Session(h)
			if err != nil {
				return err
			}
			_, err = tx.Company(sess.CompanyID)
			return err
		}); err != nil {
			b.Fatal(err)
		}
	}
}
