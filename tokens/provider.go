// Package tokens is the OIDC-style provider of the sidecar (SPEC 6): discovery,
// JWKS, the authorization code flow with PKCE, refresh token rotation,
// userinfo, revocation, and the signed identity assertion that travels to
// RC-CHAT on every proxied request.
//
// Every token is an ES256 JWT signed with a key kept in the store, so a
// restart or a second instance over the same state keeps verifying what the
// first one issued. Whatever can be revoked (codes, refresh tokens, the grant
// behind an access token) is a store record; the status of the company is
// read from the store at each use, so a suspension is felt at once.
package tokens

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/rcchat/caddy-whmcs-auth/store"
)

// LoginClientID is the built-in public client that owns the tokens of the
// JSON login (SPEC 5.2). It has no redirect URI, so it can refresh and
// revoke at /sso/token and /sso/revoke but never start an authorization.
const LoginClientID = "rcchat-sso"

// AssertionAudience is the `aud` of the X-RCChat-Identity assertion.
const AssertionAudience = "rcchat"

// Defaults of Config.
const (
	// DefaultAccessTTL keeps a leaked access or ID token short-lived;
	// refresh tokens carry the long sign-in.
	DefaultAccessTTL = 15 * time.Minute
	// DefaultRefreshTTL matches the default session_ttl, so a refresh
	// token never outlives the sign-in a session cookie would allow.
	DefaultRefreshTTL = 12 * time.Hour
	// DefaultKeyRotation bounds how long one key signs (SPEC 6).
	DefaultKeyRotation = 30 * 24 * time.Hour
)

// Fixed lifetimes. They are not configurable because they are part of the
// security argument rather than of the operator's taste.
const (
	// codeTTL bounds how long a stolen code is worth anything.
	codeTTL = 60 * time.Second
	// assertionTTL keeps a replayed X-RCChat-Identity short-lived.
	assertionTTL = 5 * time.Minute
	// assertionMinLeft is the least lifetime a cached assertion must have
	// left to be reused, so RC-CHAT never receives one about to expire.
	assertionMinLeft = time.Minute
	// refreshGrace is how long a rotated refresh token still works; see
	// refresh.go for why it is safe.
	refreshGrace = 5 * time.Second
	// keyReloadEvery rate-limits store reads caused by unknown key ids, so
	// garbage tokens cannot turn into a read storm.
	keyReloadEvery = 30 * time.Second
)

// SessionResolver turns a session cookie value into the live session and
// its company; *session.Manager implements it.
type SessionResolver interface {
	Resolve(ctx context.Context, cookieValue string) (store.Session, store.Company, error)
}

// Client is a registered relying party.
type Client struct {
	// ID is the client_id.
	ID string
	// Secret is the client secret; "" (or "-", the Caddyfile spelling)
	// makes a public client, which must use PKCE.
	Secret string
	// RedirectURIs are matched exactly, byte for byte.
	RedirectURIs []string
}

// Config configures a Provider.
type Config struct {
	// Store keeps keys, codes and refresh tokens. Required.
	Store store.Store
	// Sessions resolves the session cookie at /sso/authorize. Required.
	Sessions SessionResolver
	// Clients are the relying parties allowed to use the code flow.
	Clients []Client
	// Issuer is the fixed issuer URL; "" derives "https://"+Host per
	// request, matching a site that answers to several names.
	Issuer string
	// AccessTTL is the lifetime of access and ID tokens (default 15m).
	AccessTTL time.Duration
	// RefreshTTL is the lifetime of a refresh token family, counted from
	// the grant (default 12h, the session TTL).
	RefreshTTL time.Duration
	// KeyRotation is the age at which the signing key is replaced
	// (default 30 days).
	KeyRotation time.Duration
	// Logger receives operational events; never tokens or keys.
	Logger *zap.Logger
	// Now is the clock, replaceable in tests.
	Now func() time.Time
}

// client is a Client prepared for constant-time secret checks.
type client struct {
	id        string
	public    bool
	secret    [sha256.Size]byte
	redirects map[string]struct{}
}

// Provider serves the token endpoints and mints the tokens of the sidecar.
// It is safe for concurrent use.
type Provider struct {
	store      store.Store
	sessions   SessionResolver
	clients    map[string]*client
	issuer     string
	accessTTL  time.Duration
	refreshTTL time.Duration
	rotation   time.Duration
	log        *zap.Logger
	now        func() time.Time

	keys       atomic.Pointer[keyring]
	rotMu      sync.Mutex
	lastReload atomic.Int64
	assertions *assertionCache
}

// New checks cfg and returns a Provider with its signing keys loaded from
// the store, creating the first key when there is none.
func New(ctx context.Context, cfg Config) (*Provider, error) {
	if cfg.Store == nil {
		return nil, errors.New("tokens: no store")
	}
	if cfg.Sessions == nil {
		return nil, errors.New("tokens: no session resolver")
	}
	p := &Provider{
		store:      cfg.Store,
		sessions:   cfg.Sessions,
		clients:    make(map[string]*client, len(cfg.Clients)+1),
		accessTTL:  orDefault(cfg.AccessTTL, DefaultAccessTTL),
		refreshTTL: orDefault(cfg.RefreshTTL, DefaultRefreshTTL),
		rotation:   orDefault(cfg.KeyRotation, DefaultKeyRotation),
		log:        cfg.Logger,
		now:        cfg.Now,
		assertions: newAssertionCache(10_000),
	}
	if p.log == nil {
		p.log = zap.NewNop()
	}
	if p.now == nil {
		p.now = time.Now
	}
	if cfg.Issuer != "" {
		iss, err := checkIssuer(cfg.Issuer)
		if err != nil {
			return nil, err
		}
		p.issuer = iss
	}
	p.clients[LoginClientID] = &client{id: LoginClientID, public: true}
	for _, c := range cfg.Clients {
		cl, err := newClient(c)
		if err != nil {
			return nil, err
		}
		if _, dup := p.clients[cl.id]; dup {
			return nil, fmt.Errorf("tokens: client %q is defined twice or is reserved", cl.id)
		}
		p.clients[cl.id] = cl
	}
	if err := p.loadKeys(ctx); err != nil {
		return nil, err
	}
	return p, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

func checkIssuer(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" ||
		u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", fmt.Errorf("tokens: issuer %q must be an http(s) URL without query or fragment", raw)
	}
	return strings.TrimSuffix(raw, "/"), nil
}

func newClient(c Client) (*client, error) {
	if c.ID == "" {
		return nil, errors.New("tokens: a client has no id")
	}
	if len(c.RedirectURIs) == 0 {
		return nil, fmt.Errorf("tokens: client %q has no redirect URI", c.ID)
	}
	cl := &client{id: c.ID, public: c.Secret == "" || c.Secret == "-", redirects: map[string]struct{}{}}
	if !cl.public {
		cl.secret = sha256.Sum256([]byte(c.Secret))
	}
	for _, ru := range c.RedirectURIs {
		u, err := url.Parse(ru)
		if err != nil || !u.IsAbs() || u.Fragment != "" || u.Host == "" {
			return nil, fmt.Errorf("tokens: client %q: redirect URI %q must be absolute and without fragment", c.ID, ru)
		}
		cl.redirects[ru] = struct{}{}
	}
	return cl, nil
}

// IssuerFor is the issuer of tokens minted for, and verified on, r. The host
// is lower-cased so that "Example.com" and "example.com" share tokens; the
// scheme is always https because the sidecar only serves sites behind TLS
// and must not trust a client's word on it.
func (p *Provider) IssuerFor(r *http.Request) string {
	if p.issuer != "" {
		return p.issuer
	}
	return "https://" + strings.ToLower(r.Host)
}

// Paths of the endpoints.
const (
	pathDiscovery = "/.well-known/openid-configuration"
	pathJWKS      = "/sso/jwks"
	pathAuthorize = "/sso/authorize"
	pathToken     = "/sso/token"
	pathUserinfo  = "/sso/userinfo"
	pathRevoke    = "/sso/revoke"
)

// Handles reports whether path is one of the endpoints ServeHTTP answers.
func (p *Provider) Handles(path string) bool {
	switch path {
	case pathDiscovery, pathJWKS, pathAuthorize, pathToken, pathUserinfo, pathRevoke:
		return true
	}
	return false
}

// ServeHTTP answers the six token endpoints; any other path is 404. The
// path is cleaned the way Handles' callers clean it, so a request they
// routed here by its cleaned path ("/sso//token") is not lost.
func (p *Provider) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch path.Clean("/" + r.URL.Path) {
	case pathDiscovery:
		if allow(w, r, http.MethodGet, http.MethodHead) {
			p.serveDiscovery(w, r)
		}
	case pathJWKS:
		if allow(w, r, http.MethodGet, http.MethodHead) {
			p.serveJWKS(w, r)
		}
	case pathAuthorize:
		// Not HEAD: answering it would mint a code nobody receives.
		if allow(w, r, http.MethodGet) {
			p.serveAuthorize(w, r)
		}
	case pathToken:
		if allow(w, r, http.MethodPost) {
			p.serveToken(w, r)
		}
	case pathUserinfo:
		if allow(w, r, http.MethodGet, http.MethodPost) {
			p.serveUserinfo(w, r)
		}
	case pathRevoke:
		if allow(w, r, http.MethodPost) {
			p.serveRevoke(w, r)
		}
	default:
		http.NotFound(w, r)
	}
}

// allow answers 405 with Allow and a JSON error unless r uses one of
// methods.
func allow(w http.ResponseWriter, r *http.Request, methods ...string) bool {
	for _, m := range methods {
		if r.Method == m {
			return true
		}
	}
	w.Header().Set("Allow", strings.Join(methods, ", "))
	writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "method_not_allowed"})
	return false
}
