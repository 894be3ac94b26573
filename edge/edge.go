// Package edge is the request pipeline of the sidecar, free of Caddy: it
// strips spoofed identity headers, serves the module's own endpoints, signs
// users in, and lets a request through to RC-CHAT only with a live session
// of an active company, carrying the identity headers RC-CHAT trusts.
package edge

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/rcchat/caddy-whmcs-auth/gate"
	"github.com/rcchat/caddy-whmcs-auth/lockout"
	"github.com/rcchat/caddy-whmcs-auth/session"
	"github.com/rcchat/caddy-whmcs-auth/store"
	"github.com/rcchat/caddy-whmcs-auth/tokens"
	"github.com/rcchat/caddy-whmcs-auth/whmcsauth"
)

// Authenticator checks WHMCS credentials (whmcsauth.PasswordLogin).
type Authenticator interface {
	Login(ctx context.Context, email, password string) (whmcsauth.Account, whmcsauth.Outcome, error)
}

// Next continues to RC-CHAT (the rest of the Caddy route).
type Next func(w http.ResponseWriter, r *http.Request) error

// Config wires the pipeline. Every field but the optional handlers is
// required.
type Config struct {
	Store       store.Store
	Login       Authenticator
	Provisioner *whmcsauth.Provisioner
	Sessions    *session.Manager
	Lockout     *lockout.Guard
	Tokens      *tokens.Provider
	Public      gate.PublicPaths
	// LoginPath is RC-CHAT's SPA login; empty disables the interception.
	LoginPath string
	// SSOUpstreamPath receives intercepted WHMCS logins.
	SSOUpstreamPath string
	// ClientAreaURL is linked from the suspended page.
	ClientAreaURL string
	// Webhooks serves POST /api/webhooks/whmcs; nil answers 404.
	Webhooks http.Handler
	// ServiceAPI serves /sso/api/*; nil answers 404.
	ServiceAPI http.Handler
	// Health adds details to /sso/healthz.
	Health func(ctx context.Context) map[string]any
	// OnIdentity publishes the identity of a proxied request (Caddy
	// placeholders); may be nil.
	OnIdentity func(r *http.Request, id gate.Identity)
	// ClientIP returns the client's address as Caddy judges it (honouring
	// trusted_proxies); nil uses the connection's remote address.
	ClientIP func(r *http.Request) string
	// BodyTimeout bounds the sending of a body the module reads itself;
	// zero means DefaultBodyTimeout, negative no bound.
	BodyTimeout time.Duration
	// FailureFloor is the least time a refused login takes, so that an
	// unknown e-mail and a wrong password cannot be told apart by timing.
	FailureFloor time.Duration
	Logger       *zap.Logger
	Metrics      *Metrics
}

// Edge is the pipeline. It is safe for concurrent use.
type Edge struct {
	cfg Config
	log *zap.Logger
	// fullCheck is a moving average (ns) of WHMCS checks that found the
	// client: refusals are padded to at least that long, so an unknown
	// e-mail (one WHMCS call) looks like a wrong password (two).
	fullCheck atomic.Int64
}

// New returns the pipeline for cfg.
func New(cfg Config) *Edge {
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	if cfg.Metrics == nil {
		cfg.Metrics = NewMetrics()
	}
	return &Edge{cfg: cfg, log: cfg.Logger}
}

// ServeHTTP handles one request: the module's endpoints are answered here,
// everything else reaches next only when authorised.
func (e *Edge) ServeHTTP(w http.ResponseWriter, r *http.Request, next Next) error {
	// Before anything else, on every request: no client-sent identity
	// header may survive, whichever branch serves the request.
	gate.StripIdentityHeaders(r.Header)
	guardTrailers(r)

	clean, suspicious := gate.CleanPath(r.URL.EscapedPath())
	if !suspicious {
		if h := e.endpoint(clean, r.Method); h != nil {
			e.timeBody(w, r)
			h.ServeHTTP(w, r)
			return nil
		}
		if e.isLoginPath(clean) {
			if r.Method == http.MethodPost {
				return e.interceptLogin(w, r, next)
			}
			// The login path never needs a session (SPEC 5.3): a CORS
			// preflight or a GET reaches RC-CHAT like a public path.
			return e.public(w, r, next)
		}
		if e.cfg.Public.MatchClean(clean) {
			return e.public(w, r, next)
		}
	}
	return e.proxy(w, r, clean, next)
}

// isLoginPath reports whether a cleaned path is RC-CHAT's SPA login. It
// compares like the Express router behind it (case-insensitive, one
// trailing slash ignored), so no variant of the path reaches RC-CHAT's own
// login unseen.
func (e *Edge) isLoginPath(clean string) bool {
	lp := e.cfg.LoginPath
	if lp == "" {
		return false
	}
	if len(clean) == len(lp)+1 && clean[len(clean)-1] == '/' {
		clean = clean[:len(lp)]
	}
	return strings.EqualFold(clean, lp)
}

// endpoint finds the module's own handler for a cleaned path.
func (e *Edge) endpoint(path, method string) http.Handler {
	switch path {
	case "/sso/login":
		return http.HandlerFunc(e.serveLogin)
	case "/sso/logout":
		return http.HandlerFunc(e.serveLogout)
	case "/sso/session":
		return http.HandlerFunc(e.serveSession)
	case "/sso/healthz":
		return http.HandlerFunc(e.serveHealth)
	case "/api/webhooks/whmcs":
		return orNotFound(e.cfg.Webhooks)
	}
	if strings.HasPrefix(path, "/sso/api/") || path == "/sso/api" {
		return orNotFound(e.cfg.ServiceAPI)
	}
	if e.cfg.Tokens != nil && e.cfg.Tokens.Handles(path) {
		return e.cfg.Tokens
	}
	return nil
}

func orNotFound(h http.Handler) http.Handler {
	if h == nil {
		return http.NotFoundHandler()
	}
	return h
}
