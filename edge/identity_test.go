package edge_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/rcchat/caddy-whmcs-auth/gate"
	"github.com/rcchat/caddy-whmcs-auth/store"
)

// serveOne sends one API request with h and returns the status and the
// headers the upstream received (nil when it was not reached).
func serveOne(t *testing.T, be *benchEdge, host string, h http.Header) (int, http.Header) {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, "/backend/tickets", nil)
	r.Host, r.Header = host, h
	w := httptest.NewRecorder()
	var got http.Header
	err := be.edge.ServeHTTP(w, r, func(w http.ResponseWriter, r *http.Request) error {
		got = r.Header.Clone()
		// A later handler rewriting a value in place must not reach the
		// next request through a shared slice.
		for _, vs := range r.Header {
			if len(vs) > 0 {
				vs[0] = "rewritten"
			}
		}
		w.WriteHeader(http.StatusOK)
		return nil
	})
	if err != nil {
		t.Error(err) // not Fatal: it also runs on other goroutines
	}
	return w.Code, got
}

// wantIdentity is what the uncached path of the edge would send: the
// identity of the stored session and company, with the provider's assertion.
func wantIdentity(t *testing.T, be *benchEdge, host string) http.Header {
	t.Helper()
	ctx := context.Background()
	s, c, err := be.sessions.Resolve(ctx, be.cookie)
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Host = host
	a, err := be.tokens.Assertion(ctx, be.tokens.IssuerFor(r), s, c)
	if err != nil {
		t.Fatal(err)
	}
	h := browserHeader(be.cookie)
	gate.Identity{UserID: "90517", Email: s.Email, Role: s.Role, CompanyID: c.ID, CompanyName: c.Name,
		CompanyStatus: string(c.Status), Plan: c.Plan, WHMCSClientID: c.WHMCSClientID,
		WHMCSServiceID: c.WHMCSServiceID, DueDate: c.DueDate, Assertion: a}.SetHeaders(h)
	return h
}

func sameHeaders(t *testing.T, got, want http.Header) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d headers, want %d:\n%v\n%v", len(got), len(want), got, want)
	}
	for k, v := range want {
		if g := got[k]; len(g) != len(v) || (len(v) > 0 && g[0] != v[0]) {
			t.Fatalf("%s = %q, want %q", k, g, v)
		}
	}
}

// TestCachedIdentityFollowsTheStore checks the per-session identity cache
// against the uncached computation, across repeated requests, a store write
// that changes the company, a suspension and another Host (issuer).
func TestCachedIdentityFollowsTheStore(t *testing.T) {
	be := newBenchEdge(t, nil)
	spoofed := func() http.Header {
		h := browserHeader(be.cookie)
		h["x_rcchat_plan"] = []string{"Enterprise"}
		h["X-Rcchat-Company-Status"] = []string{"active"}
		h["X-Auth-Request-User"] = []string{"1"}
		return h
	}
	for i := range 3 {
		code, got := serveOne(t, be, "chat.example.com", spoofed())
		if code != http.StatusOK {
			t.Fatalf("request %d: %d", i, code)
		}
		sameHeaders(t, got, wantIdentity(t, be, "chat.example.com"))
	}
	_, before := serveOne(t, be, "chat.example.com", browserHeader(be.cookie))

	// Another host is another issuer, hence another assertion.
	_, got := serveOne(t, be, "other.example.com", browserHeader(be.cookie))
	sameHeaders(t, got, wantIdentity(t, be, "other.example.com"))
	if got.Get("X-Rcchat-Identity") == before.Get("X-Rcchat-Identity") {
		t.Fatal("one assertion for two issuers")
	}

	c := be.company
	c.Plan, c.Name = "Basico", "Loja Nova"
	if err := be.store.Update(context.Background(), func(tx store.Tx) error { return tx.PutCompany(&c) }); err != nil {
		t.Fatal(err)
	}
	_, got = serveOne(t, be, "chat.example.com", browserHeader(be.cookie))
	sameHeaders(t, got, wantIdentity(t, be, "chat.example.com"))
	if got.Get("X-Rcchat-Plan") != "Basico" || got.Get("X-Rcchat-Identity") == before.Get("X-Rcchat-Identity") {
		t.Fatalf("stale identity after a store write: %v", got)
	}

	c.Status = store.StatusSuspended
	if err := be.store.Update(context.Background(), func(tx store.Tx) error { return tx.PutCompany(&c) }); err != nil {
		t.Fatal(err)
	}
	if code, got := serveOne(t, be, "chat.example.com", browserHeader(be.cookie)); code != http.StatusPaymentRequired || got != nil {
		t.Fatalf("suspended company: %d, upstream reached: %v", code, got != nil)
	}
}

// TestCachedIdentityConcurrent runs requests against store writes; with
// -race it checks the shared entry, its identity and the assertion slot.
func TestCachedIdentityConcurrent(t *testing.T) {
	be := newBenchEdge(t, nil)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				if g == 0 && i%20 == 0 {
					c := be.company
					if err := be.store.Update(context.Background(), func(tx store.Tx) error { return tx.PutCompany(&c) }); err != nil {
						t.Error(err)
						return
					}
				}
				code, got := serveOne(t, be, "chat.example.com", browserHeader(be.cookie))
				if code != http.StatusOK || got.Get("X-Rcchat-Identity") == "" || got.Get("X-Rcchat-Company-Id") != "48213" {
					t.Errorf("request: %d %v", code, got)
					return
				}
			}
		}()
	}
	wg.Wait()
}
