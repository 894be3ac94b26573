package edge_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rcchat/caddy-whmcs-auth/edge"
	"github.com/rcchat/caddy-whmcs-auth/gate"
	"github.com/rcchat/caddy-whmcs-auth/lockout"
	"github.com/rcchat/caddy-whmcs-auth/session"
	"github.com/rcchat/caddy-whmcs-auth/store"
	"github.com/rcchat/caddy-whmcs-auth/store/boltstore"
	"github.com/rcchat/caddy-whmcs-auth/tokens"
	"github.com/rcchat/caddy-whmcs-auth/whmcsauth"
	"github.com/rcchat/caddy-whmcs-auth/whmcsauth/whmcssim"
)

// benchEdge is the pipeline as caddymodule wires it (minus webhooks and the
// service API, which the measured paths never reach), over a real bolt file.
type benchEdge struct {
	edge     *edge.Edge
	store    store.Store
	sessions *session.Manager
	tokens   *tokens.Provider
	company  store.Company
	cookie   string
}

// Ids above 99 on purpose: strconv serves 0..99 from a static table, which
// would hide the cost of formatting real ids.
const (
	benchCompanyID = 48213
	benchUserID    = 90517
	benchClientID  = 7731
	benchServiceID = 15804
)

func newBenchEdge(b testing.TB, login edge.Authenticator) *benchEdge {
	b.Helper()
	ctx := context.Background()
	st, err := boltstore.Open(filepath.Join(b.TempDir(), "state.db"), boltstore.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = st.Close() })

	company := store.Company{ID: benchCompanyID, WHMCSClientID: benchClientID, WHMCSServiceID: benchServiceID,
		Name: "Loja da Ana Ltda", Plan: "Premium", Status: store.StatusActive, DueDate: "2026-12-05",
		CreatedAt: time.Now(), UpdatedAt: time.Now()}
	user := store.User{ID: benchUserID, CompanyID: benchCompanyID, Email: "ana@loja-da-ana.com.br",
		Name: "Ana Souza", Role: whmcsauth.RoleAdmin, CreatedAt: time.Now()}
	err = st.Update(ctx, func(tx store.Tx) error {
		if err := tx.PutCompany(&company); err != nil {
			return err
		}
		return tx.PutUser(&user)
	})
	if err != nil {
		b.Fatal(err)
	}

	sessions := session.NewManager(st, 12*time.Hour)
	cookie, _, err := sessions.Open(ctx, user, company, session.Options{ClientIP: "203.0.113.7"})
	if err != nil {
		b.Fatal(err)
	}
	// No fixed issuer: the production Caddyfile derives it from the Host.
	provider, err := tokens.New(ctx, tokens.Config{Store: st, Sessions: sessions})
	if err != nil {
		b.Fatal(err)
	}
	public, err := gate.NewPublicPaths([]string{"/manifest.json", "/favicon.ico", "/static/*", "/backend/public/*"})
	if err != nil {
		b.Fatal(err)
	}
	e := edge.New(edge.Config{
		Store:           st,
		Login:           login,
		Provisioner:     &whmcsauth.Provisioner{Store: st},
		Sessions:        sessions,
		Lockout:         lockout.NewGuard(st, lockout.DefaultPolicy),
		Tokens:          provider,
		Public:          public,
		LoginPath:       "/backend/auth/login",
		SSOUpstreamPath: "/backend/auth/sso",
		ClientAreaURL:   "https://whmcs.example/clientarea.php",
		FailureFloor:    250 * time.Millisecond,
	})
	return &benchEdge{edge: e, store: st, sessions: sessions, tokens: provider, company: company, cookie: cookie}
}

// browserHeader is what RC-CHAT's SPA sends on an API call: about a dozen
// headers, RC-CHAT's own JWT among them (passed through untouched), and the
// session cookie next to other cookies.
func browserHeader(cookie string) http.Header {
	h := http.Header{
		"User-Agent":      {"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0 Safari/537.36"},
		"Accept":          {"application/json, text/plain, */*"},
		"Accept-Language": {"pt-BR,pt;q=0.9,en-US;q=0.8,en;q=0.7"},
		"Accept-Encoding": {"gzip, deflate, br, zstd"},
		"Authorization":   {"Bearer eyJhbGciOiJIUzI1NiJ9.eyJ1c2VybmFtZSI6ImFuYSIsInByb2ZpbGUiOiJhZG1pbiJ9.c2lnbmF0dXJl"},
		"Referer":         {"https://chat.example.com/tickets"},
		"Sec-Fetch-Site":  {"same-origin"},
		"Sec-Fetch-Mode":  {"cors"},
		"Sec-Fetch-Dest":  {"empty"},
		"Connection":      {"keep-alive"},
	}
	if cookie != "" {
		h["Cookie"] = []string{"_ga=GA1.1.1234567890.1700000000; " + session.CookieName + "=" + cookie + "; i18nextLng=pt-BR"}
	}
	return h
}

// discardWriter is a ResponseWriter that keeps only the status, like the
// upstream's answer the edge never sees.
type discardWriter struct {
	h      http.Header
	status int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(status int)      { w.status = status }

// serveBatched runs b.N requests through the edge. Requests are built in
// batches with the timer stopped, each with a fresh header map as net/http
// hands one to every request, so ns/op and allocs/op are the handler's own,
// including any growth of that map when identity headers are added.
func serveBatched(b *testing.B, e *edge.Edge, target string, h http.Header, next edge.Next, want int) {
	b.Helper()
	const batch = 256
	base := httptest.NewRequest(http.MethodGet, target, nil)
	base.Host = "chat.example.com"
	base.RemoteAddr = "203.0.113.7:51234"
	reqs := make([]*http.Request, batch)
	ws := make([]*discardWriter, batch)
	refill := func() {
		for i := range reqs {
			r := *base
			r.Header = h.Clone()
			reqs[i] = &r
			ws[i] = &discardWriter{h: make(http.Header)}
		}
	}
	check := func(w *discardWriter) {
		if w.status != want {
			b.Fatalf("status %d, want %d", w.status, want)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		j := i % batch
		if j == 0 {
			b.StopTimer()
			if i > 0 {
				check(ws[batch-1])
			}
			refill()
			b.StartTimer()
		}
		if err := e.ServeHTTP(ws[j], reqs[j], next); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	check(ws[(b.N-1)%batch])
}

// okNext stands for reverse_proxy: it only answers 200, so the figures are
// the edge's alone.
func okNext(w http.ResponseWriter, r *http.Request) error {
	w.WriteHeader(http.StatusOK)
	return nil
}

// BenchmarkAuthenticatedRequest is the per-request cost of a signed-in
// user's proxied request: strip, session cookie lookup (cached), company
// status, identity headers and the cached X-RCChat-Identity assertion.
func BenchmarkAuthenticatedRequest(b *testing.B) {
	be := newBenchEdge(b, nil)
	h := browserHeader(be.cookie)
	// One request outside the timer signs the assertion and fills the
	// caches, as the first request after a sign-in does.
	r := httptest.NewRequest(http.MethodGet, "/backend/tickets?pageNumber=1", nil)
	r.Host, r.Header = "chat.example.com", h.Clone()
	var got http.Header
	err := be.edge.ServeHTTP(httptest.NewRecorder(), r, func(w http.ResponseWriter, r *http.Request) error {
		got = r.Header
		return nil
	})
	if err != nil || got.Get("X-Rcchat-Identity") == "" || got.Get("X-Rcchat-Company-Id") != "48213" {
		b.Fatalf("warm-up request not authenticated: %v %v", err, got)
	}
	serveBatched(b, be.edge, "/backend/tickets?pageNumber=1", h, okNext, http.StatusOK)
}

// BenchmarkAuthenticatedRequestParallel is BenchmarkAuthenticatedRequest
// from GOMAXPROCS goroutines at once, to expose contention on the caches'
// locks. Each iteration includes copying the request and cloning its
// headers (6 of its allocations), which the sequential benchmark keeps out
// of the figures.
func BenchmarkAuthenticatedRequestParallel(b *testing.B) {
	be := newBenchEdge(b, nil)
	h := browserHeader(be.cookie)
	base := httptest.NewRequest(http.MethodGet, "/backend/tickets?pageNumber=1", nil)
	base.Host = "chat.example.com"
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		w := &discardWriter{h: make(http.Header)}
		for pb.Next() {
			r := *base
			r.Header = h.Clone()
			if err := be.edge.ServeHTTP(w, &r, okNext); err != nil || w.status != http.StatusOK {
				b.Errorf("status %d, err %v", w.status, err)
				return
			}
		}
	})
}

// BenchmarkUnauthenticatedRequest is a request without a session: an API
// call answered 401 JSON, and a page navigation redirected to the login.
func BenchmarkUnauthenticatedRequest(b *testing.B) {
	be := newBenchEdge(b, nil)
	b.Run("api", func(b *testing.B) {
		serveBatched(b, be.edge, "/backend/tickets?pageNumber=1", browserHeader(""), okNext, http.StatusUnauthorized)
	})
	b.Run("navigation", func(b *testing.B) {
		h := browserHeader("")
		h.Set("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
		h.Set("Sec-Fetch-Mode", "navigate")
		serveBatched(b, be.edge, "/tickets/42", h, okNext, http.StatusFound)
	})
	b.Run("unknown-cookie", func(b *testing.B) {
		// A well-formed id that is not in the store: one bolt read each.
		serveBatched(b, be.edge, "/backend/tickets", browserHeader(strings.Repeat("A", 43)), okNext, http.StatusUnauthorized)
	})
}

// BenchmarkPublicPath is a request for a `public` path (a static asset,
// which browsers send without RC-CHAT's Authorization): it reaches the
// upstream after the strip, carrying the identity when a session comes with
// it.
func BenchmarkPublicPath(b *testing.B) {
	be := newBenchEdge(b, nil)
	asset := func(cookie string) http.Header {
		h := browserHeader(cookie)
		delete(h, "Authorization")
		h.Set("Accept", "*/*")
		h.Set("Sec-Fetch-Dest", "script")
		return h
	}
	b.Run("anonymous", func(b *testing.B) {
		serveBatched(b, be.edge, "/static/js/main.4f2a1c.js", asset(""), okNext, http.StatusOK)
	})
	b.Run("signed-in", func(b *testing.B) {
		serveBatched(b, be.edge, "/static/js/main.4f2a1c.js", asset(be.cookie), okNext, http.StatusOK)
	})
}

// BenchmarkIdentityHeaderFloor is the part of BenchmarkAuthenticatedRequest
// that no handler logic can remove: writing the 13 SPEC 5.4 headers into the
// request's own, freshly allocated header map, which makes Go's map grow
// once. It is measured the same way, so the two can be compared.
func BenchmarkIdentityHeaderFloor(b *testing.B) {
	h := browserHeader(strings.Repeat("A", 43))
	names := []string{"X-Auth-Request-User", "X-Auth-Request-Email", "X-Rcchat-User-Id", "X-Rcchat-User-Email",
		"X-Rcchat-User-Role", "X-Rcchat-Company-Id", "X-Rcchat-Company-Name", "X-Rcchat-Company-Status",
		"X-Rcchat-Plan", "X-Rcchat-Whmcs-Client-Id", "X-Rcchat-Whmcs-Service-Id", "X-Rcchat-Due-Date", "X-Rcchat-Identity"}
	const batch = 256
	hs := make([]http.Header, batch)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		j := i % batch
		if j == 0 {
			b.StopTimer()
			for k := range hs {
				hs[k] = h.Clone()
			}
			b.StartTimer()
		}
		vals := make([]string, len(names))
		for k, name := range names {
			vals[k] = "v"
			hs[j][name] = vals[k : k+1 : k+1]
		}
	}
}

// BenchmarkLogin is a steady-state JSON login (the company already exists)
// against a zero-latency WHMCS simulator: lockout check, GetClientsDetails
// and GetClientsProducts over loopback HTTP, the resync of the company,
// the session, the audit entry and the login tokens, each write fsync'd.
func BenchmarkLogin(b *testing.B) {
	sim := whmcssim.New(whmcssim.Options{Identifier: "bench-id", Secret: "bench-secret"})
	srv := httptest.NewServer(sim)
	b.Cleanup(srv.Close)
	id := sim.AddClient(whmcssim.Client{FirstName: "Ana", LastName: "Souza", CompanyName: "Loja da Ana",
		Email: "ana@demo.test", Status: "Active"})
	sim.AddService(whmcssim.Service{ClientID: id, ProductID: 1, Name: "RC-CHAT Basico", Password: "ana-basico-123",
		Status: "Active", NextDueDate: "2026-12-05"})
	api, err := whmcsauth.NewClient(whmcsauth.Config{URL: srv.URL + "/includes/api.php",
		Identifier: "bench-id", Secret: whmcsauth.Secret("bench-secret")})
	if err != nil {
		b.Fatal(err)
	}
	be := newBenchEdge(b, &whmcsauth.PasswordLogin{API: api, Plans: whmcsauth.Plans{1: "Basico"}})
	body := []byte(`{"email":"ana@demo.test","password":"ana-basico-123"}`)
	login := func() int {
		r := httptest.NewRequest(http.MethodPost, "/sso/login", bytes.NewReader(body))
		r.Host = "chat.example.com"
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		if err := be.edge.ServeHTTP(w, r, okNext); err != nil {
			b.Fatal(err)
		}
		return w.Code
	}
	// The first login provisions the company (and pays for a bcrypt hash);
	// the benchmark is about the logins after it.
	if code := login(); code != http.StatusOK {
		b.Fatalf("first login: %d", code)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if code := login(); code != http.StatusOK {
			b.Fatalf("login: %d", code)
		}
	}
}
