package tokens_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/rcchat/caddy-whmcs-auth/session"
	"github.com/rcchat/caddy-whmcs-auth/store"
	"github.com/rcchat/caddy-whmcs-auth/store/boltstore"
	"github.com/rcchat/caddy-whmcs-auth/tokens"
)

// Registered relying parties of the test provider.
const (
	rpID       = "rp"
	rpSecret   = "rp s3cret/+&" // characters that Basic auth must form-encode
	rpRedirect = "https://rp.example/cb"

	spaID       = "spa"
	spaRedirect = "https://spa.example/cb?app=1"
)

// clock is a settable time source shared by the provider and the test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// env is a provider behind a real HTTP server, with one active company, its
// admin and a signed-in session.
type env struct {
	t        *testing.T
	ctx      context.Context
	st       store.Store
	sessions *session.Manager
	clk      *clock
	cfg      tokens.Config
	p        *tokens.Provider
	srv      *httptest.Server
	company  store.Company
	user     store.User
	cookie   string
	sess     store.Session
	// swap replaces the provider behind the server, as a restart would.
	swap func(*tokens.Provider)
}

func openStore(t *testing.T) store.Store {
	t.Helper()
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "state.db"), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

func newEnv(t *testing.T, tweak ...func(*tokens.Config)) *env {
	t.Helper()
	e := &env{t: t, ctx: context.Background(), st: openStore(t), clk: &clock{t: time.Now()}}
	e.sessions = session.NewManager(e.st, 12*time.Hour)
	var mu sync.Mutex
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		p := e.p
		mu.Unlock()
		if p != nil && p.Handles(r.URL.Path) {
			p.ServeHTTP(w, r)
			return
		}
		http.NotFound(w, r)
	}))
	t.Cleanup(e.srv.Close)
	e.cfg = tokens.Config{
		Store:    e.st,
		Sessions: e.sessions,
		Clients: []tokens.Client{
			{ID: rpID, Secret: rpSecret, RedirectURIs: []string{rpRedirect}},
			{ID: spaID, Secret: "-", RedirectURIs: []string{spaRedirect}},
		},
		Issuer: e.srv.URL,
		Now:    e.clk.Now,
	}
	for _, f := range tweak {
		f(&e.cfg)
	}
	p, err := tokens.New(e.ctx, e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	e.p = p
	mu.Unlock()
	e.swap = func(np *tokens.Provider) {
		mu.Lock()
		e.p = np
		mu.Unlock()
	}

	now := time.Now()
	e.company = store.Company{
		WHMCSClientID: 42, WHMCSServiceID: 7, Name: "Ação & Cia", Plan: "pro",
		Status: store.StatusActive, DueDate: "2030-01-31", CreatedAt: now, UpdatedAt: now,
	}
	e.user = store.User{Email: "ana@example.com", Name: "Ana Souza", Role: "admin"}
	err = e.st.Update(e.ctx, func(tx store.Tx) error {
		if err := tx.PutCompany(&e.company); err != nil {
			return err
		}
		e.user.CompanyID = e.company.ID
		return tx.PutUser(&e.user)
	})
	if err != nil {
		t.Fatal(err)
	}
	e.cookie, e.sess, err = e.sessions.Open(e.ctx, e.user, e.company, session.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// setStatus changes the company as a WHMCS webhook would.
func (e *env) setStatus(status store.CompanyStatus) {
	e.t.Helper()
	err := e.st.Update(e.ctx, func(tx store.Tx) error {
		c, err := tx.Company(e.company.ID)
		if err != nil {
			return err
		}
		c.Status = status
		c.UpdatedAt = time.Now()
		if status == store.StatusCancelled {
			c.CancelledAt = time.Now()
		}
		e.company = c
		return tx.PutCompany(&c)
	})
	if err != nil {
		e.t.Fatal(err)
	}
}

// rp is a relying party built only from go-oidc and x/oauth2.
type rp struct {
	e        *env
	provider *oidc.Provider
	oauth    oauth2.Config
	verifier *oidc.IDTokenVerifier
}

func (e *env) rp(clientID, secret, redirect string, scopes ...string) *rp {
	e.t.Helper()
	provider, err := oidc.NewProvider(e.ctx, e.srv.URL)
	if err != nil {
		e.t.Fatal(err)
	}
	if len(scopes) == 0 {
		scopes = []string{oidc.ScopeOpenID, "email", "profile", oidc.ScopeOfflineAccess}
	}
	return &rp{
		e:        e,
		provider: provider,
		oauth: oauth2.Config{
			ClientID: clientID, ClientSecret: secret, RedirectURL: redirect,
			Endpoint: provider.Endpoint(), Scopes: scopes,
		},
		verifier: provider.Verifier(&oidc.Config{ClientID: clientID}),
	}
}

// noFollow is a client that returns redirects instead of following them,
// so the test reads the code from Location like a browser hands it over.
var noFollow = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// get sends a GET with the session cookie (when not empty).
func (e *env) get(rawURL, cookie string) *http.Response {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	if cookie != "" {
		req.AddCookie(&http.Cookie{Name: session.CookieName, Value: cookie})
	}
	resp, err := noFollow.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { _ = resp.Body.Close() })
	return resp
}

// authorize runs /sso/authorize for the env's session and returns the
// redirect's query.
func (r *rp) authorize(state string, opts ...oauth2.AuthCodeOption) url.Values {
	r.e.t.Helper()
	resp := r.e.get(r.oauth.AuthCodeURL(state, opts...), r.e.cookie)
	if resp.StatusCode != http.StatusFound {
		body, _ := io.ReadAll(resp.Body)
		r.e.t.Fatalf("authorize: status %d: %s", resp.StatusCode, body)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		r.e.t.Fatal(err)
	}
	want, _ := url.Parse(r.oauth.RedirectURL)
	if loc.Scheme != want.Scheme || loc.Host != want.Host || loc.Path != want.Path {
		r.e.t.Fatalf("authorize redirected to %s, want %s", loc, r.oauth.RedirectURL)
	}
	if got := loc.Query().Get("state"); got != state {
		r.e.t.Fatalf("state = %q, want %q", got, state)
	}
	return loc.Query()
}

// code runs a PKCE authorization and returns the code and its verifier.
func (r *rp) code(nonce string) (code, verifier string) {
	r.e.t.Helper()
	verifier = oauth2.GenerateVerifier()
	q := r.authorize("st-"+nonce, oauth2.S256ChallengeOption(verifier), oidc.Nonce(nonce))
	if q.Get("code") == "" {
		r.e.t.Fatalf("no code in redirect: %v", q)
	}
	return q.Get("code"), verifier
}

// oauthCode extracts the RFC 6749 error code of a failed oauth2 call.
func oauthCode(t *testing.T, err error) string {
	t.Helper()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		t.Fatalf("want an OAuth error, got %v", err)
	}
	return re.ErrorCode
}

// refresh forces a refresh of tok through x/oauth2.
func (r *rp) refresh(refreshToken string) (*oauth2.Token, error) {
	return r.oauth.TokenSource(r.e.ctx, &oauth2.Token{RefreshToken: refreshToken, Expiry: time.Now().Add(-time.Hour)}).Token()
}

// postForm posts to an endpoint, with Basic auth when id is not empty.
func (e *env) postForm(path, id, secret string, form url.Values) (*http.Response, map[string]any) {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if id != "" {
		req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	}
	return e.doJSON(req)
}

// userinfo calls the endpoint with a bearer token.
func (e *env) userinfo(accessToken string) (*http.Response, map[string]any) {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/sso/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+accessToken)
	return e.doJSON(req)
}

// doJSON sends req and decodes its JSON answer (nil when it is not JSON).
func (e *env) doJSON(req *http.Request) (*http.Response, map[string]any) {
	e.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	raw, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(raw, &body)
	return resp, body
}

// proxied is a request the edge would hand to VerifyAccessToken.
func (e *env) proxied() *http.Request {
	return httptest.NewRequest(http.MethodGet, e.srv.URL+"/backend/tickets", nil)
}

// kidOf reads the kid from a JWT header.
func kidOf(t *testing.T, jwt string) string {
	t.Helper()
	h, err := base64.RawURLEncoding.DecodeString(strings.Split(jwt, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	var hdr struct {
		Kid string `json:"kid"`
		Typ string `json:"typ"`
	}
	if err := json.Unmarshal(h, &hdr); err != nil {
		t.Fatal(err)
	}
	return hdr.Kid
}

// jwksKids lists the kids published at /sso/jwks.
func (e *env) jwksKids() []string {
	e.t.Helper()
	resp, err := http.Get(e.srv.URL + "/sso/jwks")
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var set struct {
		Keys []struct {
			Kid string `json:"kid"`
			Alg string `json:"alg"`
			Kty string `json:"kty"`
			Crv string `json:"crv"`
			D   string `json:"d"`
		} `json:"keys"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		e.t.Fatal(err)
	}
	var kids []string
	for _, k := range set.Keys {
		if k.D != "" {
			e.t.Fatal("JWKS publishes a private key")
		}
		if k.Alg != "ES256" || k.Kty != "EC" || k.Crv != "P-256" {
			e.t.Fatalf("JWKS key %+v", k)
		}
		kids = append(kids, k.Kid)
	}
	return kids
}
