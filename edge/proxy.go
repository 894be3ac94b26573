package edge

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"go.uber.org/zap"

	"github.com/rcchat/caddy-whmcs-auth/gate"
	"github.com/rcchat/caddy-whmcs-auth/loginpage"
	"github.com/rcchat/caddy-whmcs-auth/session"
	"github.com/rcchat/caddy-whmcs-auth/store"
	"github.com/rcchat/caddy-whmcs-auth/tokens"
)

// principal is who a request is made by, as far as the sidecar knows.
type principal struct {
	session store.Session
	company store.Company
	// cookie is the session cookie value; empty for bearer tokens.
	cookie string
	// entry is the session cache entry behind cookie; nil for bearer
	// tokens. Its identity headers are built once per store revision.
	entry *session.Entry
}

// cancelled reports whether the principal's company is cancelled, or was
// cancelled after it signed in: such sessions are revoked for good.
func (p principal) cancelled() bool {
	return p.company.Status == store.StatusCancelled || p.session.AuthTime.Before(p.company.CancelledAt)
}

// proxy lets an authenticated request of an active company through to
// RC-CHAT with the identity headers; every other request is refused.
func (e *Edge) proxy(w http.ResponseWriter, r *http.Request, clean string, next Next) error {
	p, err := e.authenticate(r)
	if refused, rerr := e.refuseBlocked(w, r, clean, p, err); refused {
		return rerr
	}
	if err != nil {
		return e.refuseUnauthenticated(w, r, clean)
	}
	if isImpersonation(r, clean) && !(p.session.Vouched && p.session.Super) {
		writeJSON(w, http.StatusForbidden, map[string]string{"error": "impersonation_forbidden"})
		return nil
	}
	if r.Method == http.MethodDelete && strings.EqualFold(clean, "/backend/auth/logout") && p.cookie != "" {
		// RC-CHAT's own logout ends the sidecar session too, or the next
		// page load would sign the user straight back in.
		if err := e.cfg.Sessions.Revoke(r.Context(), p.cookie); err != nil {
			e.log.Error("revoking session on RC-CHAT logout", zap.Error(err))
		}
		clearCookie(w, session.CookieName)
	}

	e.inject(r, p)
	return next(w, r)
}

// public serves a public path: anyone may pass, and a signed-in user of an
// active company still carries the identity headers.
func (e *Edge) public(w http.ResponseWriter, r *http.Request, next Next) error {
	if p, err := e.authenticate(r); err == nil && p.company.Status == store.StatusActive && !p.cancelled() {
		e.inject(r, p)
	}
	return next(w, r)
}

// inject sets the identity headers and placeholders of an authorised request.
func (e *Edge) inject(r *http.Request, p principal) {
	if p.entry != nil {
		e.injectCached(r, p.entry)
		return
	}
	id := e.identity(r, p.session, p.company)
	id.SetHeaders(r.Header)
	if e.cfg.OnIdentity != nil {
		e.cfg.OnIdentity(r, id)
	}
}

// authenticate finds the session cookie or a sidecar access token. Any other
// Authorization value is RC-CHAT's own business and is left untouched.
func (e *Edge) authenticate(r *http.Request) (principal, error) {
	if cookie, ok := requestCookie(r, session.CookieName); ok {
		entry, err := e.cfg.Sessions.Lookup(r.Context(), cookie)
		if err == nil {
			return principal{session: entry.Session, company: entry.Company, cookie: cookie, entry: entry}, nil
		}
		if !errors.Is(err, session.ErrNoSession) {
			e.log.Error("resolving a session", zap.Error(err))
		}
	}
	if raw, ok := bearer(r); ok && e.cfg.Tokens != nil && looksLikeJWT(raw) {
		s, co, err := e.cfg.Tokens.VerifyAccessToken(r.Context(), r, raw)
		if err == nil {
			return principal{session: s, company: co}, nil
		}
		if errors.Is(err, tokens.ErrCompanySuspended) || errors.Is(err, tokens.ErrCompanyCancelled) {
			return principal{}, err
		}
	}
	return principal{}, session.ErrNoSession
}

// identity is the identity of a principal, with a freshly looked-up
// assertion; injectCached is the cached form of the same for sessions.
func (e *Edge) identity(r *http.Request, s store.Session, c store.Company) gate.Identity {
	id := unsignedIdentity(s, c)
	if e.cfg.Tokens != nil {
		a, err := e.cfg.Tokens.Assertion(r.Context(), e.cfg.Tokens.IssuerFor(r), s, c)
		if err != nil {
			e.log.Error("signing the identity assertion", zap.Error(err))
		}
		id.Assertion = a
	}
	return id
}

// unsignedIdentity is the identity of a principal without its assertion.
func unsignedIdentity(s store.Session, c store.Company) gate.Identity {
	return gate.Identity{
		UserID:         strconv.FormatInt(s.UserID, 10),
		Email:          s.Email,
		Role:           s.Role,
		CompanyID:      c.ID,
		CompanyName:    c.Name,
		CompanyStatus:  string(c.Status),
		Plan:           c.Plan,
		WHMCSClientID:  c.WHMCSClientID,
		WHMCSServiceID: c.WHMCSServiceID,
		DueDate:        c.DueDate,
	}
}

// refuseBlocked answers for a session or token whose company may not use
// RC-CHAT now (SPEC 5.1, 5.5): 402 while it is suspended, 403 once it is
// cancelled, and a cancelled company's session is revoked for good. p and
// err are authenticate's results; refused reports whether an answer was
// written. An unauthenticated request is left to the caller.
func (e *Edge) refuseBlocked(w http.ResponseWriter, r *http.Request, clean string, p principal, err error) (refused bool, werr error) {
	switch {
	case errors.Is(err, tokens.ErrCompanySuspended):
		return true, e.refuseSuspended(w, r, clean, store.Company{})
	case errors.Is(err, tokens.ErrCompanyCancelled):
		return true, e.refuseCancelled(w, r, clean)
	case err != nil:
		return false, nil
	}
	if p.cancelled() {
		if p.cookie != "" {
			if err := e.cfg.Sessions.Revoke(r.Context(), p.cookie); err != nil {
				e.log.Error("revoking the session of a cancelled company", zap.Error(err))
			}
			clearCookie(w, session.CookieName)
		}
		return true, e.refuseCancelled(w, r, clean)
	}
	if p.company.Status != store.StatusActive {
		return true, e.refuseSuspended(w, r, clean, p.company)
	}
	return false, nil
}

func (e *Edge) refuseUnauthenticated(w http.ResponseWriter, r *http.Request, clean string) error {
	if gate.IsNavigation(r, clean) {
		rd := gate.SafeRedirect(r.URL.RequestURI())
		http.Redirect(w, r, loginURL(rd), http.StatusFound)
		return nil
	}
	w.Header().Set("WWW-Authenticate", "Bearer")
	writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "unauthenticated"})
	return nil
}

func (e *Edge) refuseSuspended(w http.ResponseWriter, r *http.Request, clean string, c store.Company) error {
	if gate.IsNavigation(r, clean) {
		return loginpage.RenderBlocked(w, http.StatusPaymentRequired, loginpage.Blocked{
			Lang:          loginpage.LangFor(r.Header.Get("Accept-Language")),
			Reason:        "company_suspended",
			CompanyName:   c.Name,
			ClientAreaURL: e.cfg.ClientAreaURL,
		})
	}
	writeJSON(w, http.StatusPaymentRequired, map[string]string{"error": "ERR_SUBSCRIPTION_EXPIRED", "reason": "company_suspended"})
	return nil
}

func (e *Edge) refuseCancelled(w http.ResponseWriter, r *http.Request, clean string) error {
	if gate.IsNavigation(r, clean) {
		return loginpage.RenderBlocked(w, http.StatusForbidden, loginpage.Blocked{
			Lang:          loginpage.LangFor(r.Header.Get("Accept-Language")),
			Reason:        "company_cancelled",
			ClientAreaURL: e.cfg.ClientAreaURL,
		})
	}
	writeJSON(w, http.StatusForbidden, map[string]string{"error": "company_cancelled"})
	return nil
}

// isImpersonation compares without case: Caddy's path matchers and
// Express both route case-insensitively, so /BACKEND/Auth/Impersonate/1
// reaches the same RC-CHAT handler.
func isImpersonation(r *http.Request, clean string) bool {
	const prefix = "/backend/auth/impersonate/"
	return (r.Method == http.MethodGet || r.Method == http.MethodHead) &&
		len(clean) >= len(prefix) && strings.EqualFold(clean[:len(prefix)], prefix)
}

func bearer(r *http.Request) (string, bool) {
	v := r.Header.Get("Authorization")
	if len(v) < 7 || !strings.EqualFold(v[:7], "bearer ") {
		return "", false
	}
	return strings.TrimSpace(v[7:]), true
}

// looksLikeJWT avoids verifying opaque tokens that cannot be ours.
func looksLikeJWT(s string) bool { return strings.Count(s, ".") == 2 }
