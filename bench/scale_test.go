// Package bench holds the measurements of issue 7 that need more than one
// package: the scale benchmark here, and load.sh with its two helper
// commands. See RESULTS.md for the figures and how to reproduce them.
package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/rcchat/caddy-whmcs-auth/edge"
	"github.com/rcchat/caddy-whmcs-auth/session"
	"github.com/rcchat/caddy-whmcs-auth/store"
	"github.com/rcchat/caddy-whmcs-auth/store/boltstore"
	"github.com/rcchat/caddy-whmcs-auth/tokens"
)

// population is a state file with n companies, each with its admin user and
// one live session.
type population struct {
	path    string
	st      *boltstore.Store
	cookies []string
	hashes  []string
}

// populate writes in transactions of 5000 records, as a long-lived
// installation would have accumulated them, with ids and session hashes in
// the order they would really arrive (hashes are random).
func populate(b *testing.B, n int) *population {
	b.Helper()
	path := filepath.Join(b.TempDir(), "state.db")
	st, err := boltstore.Open(path, boltstore.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = st.Close() })
	p := &population{path: path, st: st}
	now := time.Now()
	const chunk = 5000
	for start := 0; start < n; start += chunk {
		err := st.Update(context.Background(), func(tx store.Tx) error {
			for i := start; i < min(start+chunk, n); i++ {
				c := store.Company{WHMCSClientID: int64(10_000 + i), WHMCSServiceID: int64(50_000 + i),
					Name: fmt.Sprintf("Empresa %d Ltda", i), Plan: "Premium", Status: store.StatusActive,
					DueDate: "2026-12-05", CreatedAt: now, UpdatedAt: now}
				if err := tx.PutCompany(&c); err != nil {
					return err
				}
				u := store.User{CompanyID: c.ID, Email: fmt.Sprintf("admin%d@empresa%d.com.br", i, i),
					Name: "Admin", Role: "admin", PasswordHash: "$2a$10$abcdefghijklmnopqrstuuvwxyzABCDEFGHIJKLMNOPQRSTUVWXY", CreatedAt: now}
				if err := tx.PutUser(&u); err != nil {
					return err
				}
				cookie, err := session.NewToken()
				if err != nil {
					return err
				}
				// Signed in one after the other over the last hours, as the
				// expiry index receives them in a real installation.
				at := now.Add(-time.Duration(n-i) * 100 * time.Millisecond)
				s := store.Session{IDHash: session.HashToken(cookie), UserID: u.ID, CompanyID: c.ID,
					Email: u.Email, Name: u.Name, Role: u.Role, AuthTime: at, ExpiresAt: at.Add(12 * time.Hour),
					ClientIP: "203.0.113.7"}
				if err := tx.PutSession(&s); err != nil {
					return err
				}
				p.cookies = append(p.cookies, cookie)
				p.hashes = append(p.hashes, s.IDHash)
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	return p
}

// BenchmarkScale compares 1k and 100k companies with as many sessions:
//
//   - store-lookup: what a session cache miss reads (the session by its hash,
//     then its company by id), random sessions, cold CPU caches;
//   - request: a signed-in request through edge.Edge with the cookie of a
//     random session, every session cached and its assertion signed;
//   - count-sessions: the session gauge of /metrics, which is not on the
//     request path and, unlike it, reads every page of the sessions bucket.
//
// It reports the state file size, and the heap the session cache holds per
// cached session. Populating 100k takes several seconds, which is why this
// is a benchmark and runs only with -bench.
func BenchmarkScale(b *testing.B) {
	for _, n := range []int{1_000, 100_000} {
		p := populate(b, n)
		fi, err := os.Stat(p.path)
		if err != nil {
			b.Fatal(err)
		}
		fileMB := float64(fi.Size()) / (1 << 20)
		b.Run(fmt.Sprintf("companies=%d/store-lookup", n), func(b *testing.B) {
			ctx := context.Background()
			// One pass over every session first: a server's pages are in
			// the page cache, and first-touch faults are not lookups.
			err := p.st.View(ctx, func(tx store.Tx) error {
				for _, h := range p.hashes {
					if _, err := tx.Session(h); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(1, uint64(n)))
			b.ReportAllocs()
			for b.Loop() {
				i := rng.IntN(n)
				err := p.st.View(ctx, func(tx store.Tx) error {
					s, err := tx.Session(p.hashes[i])
					if err != nil {
						return err
					}
					_, err = tx.Company(s.CompanyID)
					return err
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(fileMB, "file-MB")
		})
		b.Run(fmt.Sprintf("companies=%d/request", n), func(b *testing.B) {
			benchRequests(b, p, n)
		})
		b.Run(fmt.Sprintf("companies=%d/count-sessions", n), func(b *testing.B) {
			for b.Loop() {
				err := p.st.View(context.Background(), func(tx store.Tx) error {
					got, err := tx.CountSessions()
					if err == nil && got != n {
						err = fmt.Errorf("counted %d sessions, want %d", got, n)
					}
					return err
				})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func benchRequests(b *testing.B, p *population, n int) {
	ctx := context.Background()
	sessions := session.NewManager(p.st, 12*time.Hour)
	provider, err := tokens.New(ctx, tokens.Config{Store: p.st, Sessions: sessions})
	if err != nil {
		b.Fatal(err)
	}
	e := edge.New(edge.Config{Store: p.st, Sessions: sessions, Tokens: provider})
	base := httptest.NewRequest(http.MethodGet, "/backend/tickets", nil)
	base.Host = "chat.example.com"
	w := &statusWriter{h: http.Header{}}
	ok := func(w http.ResponseWriter, _ *http.Request) error { w.WriteHeader(http.StatusOK); return nil }
	serve := func(i int) {
		r := *base
		r.Header = http.Header{"Accept": {"application/json"}, "Cookie": {session.CookieName + "=" + p.cookies[i]}}
		w.status = 0
		if err := e.ServeHTTP(w, &r, ok); err != nil || w.status != http.StatusOK {
			b.Fatalf("session %d: status %d, %v", i, w.status, err)
		}
	}

	// Every session signs in once: its entry is cached and its assertion
	// signed, as after the first request of each user.
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	rev := p.st.Revision()
	for i := range n {
		serve(i)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	perSession := float64(after.HeapAlloc-before.HeapAlloc) / float64(n)
	if p.st.Revision() != rev {
		b.Fatal("the requests wrote to the store")
	}

	rng := rand.New(rand.NewPCG(2, uint64(n)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		serve(rng.IntN(n))
	}
	b.ReportMetric(perSession, "cache-B/session")
}

type statusWriter struct {
	h      http.Header
	status int
}

func (w *statusWriter) Header() http.Header         { return w.h }
func (w *statusWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *statusWriter) WriteHeader(status int)      { w.status = status }
