package tokens

import (
	"errors"
	"net/http"
	"net/url"

	"go.uber.org/zap"

	"github.com/rcchat/caddy-whmcs-auth/session"
	"github.com/rcchat/caddy-whmcs-auth/store"
)

// Bounds on what an authorization request may store or echo.
const (
	maxNonceLen = 512
	maxStateLen = 2048
)

// serveAuthorize handles GET /sso/authorize. The client and redirect URI
// are checked first and failures there end on an error page: until both are
// known good, redirecting anywhere would make this an open redirector.
// Every later failure goes back to the client as RFC 6749 4.1.2.1 says.
func (p *Provider) serveAuthorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	for _, name := range []string{"client_id", "redirect_uri"} {
		if len(q[name]) > 1 {
			writeErrorPage(w, http.StatusBadRequest, name+" is repeated")
			return
		}
	}
	cl, ok := p.clients[q.Get("client_id")]
	if !ok || len(cl.redirects) == 0 {
		writeErrorPage(w, http.StatusBadRequest, "unknown client")
		return
	}
	redirectURI := q.Get("redirect_uri")
	if _, ok := cl.redirects[redirectURI]; !ok {
		writeErrorPage(w, http.StatusBadRequest, "redirect_uri is not registered for this client")
		return
	}
	state := q.Get("state")
	fail := func(code, desc string) {
		back(w, r, redirectURI, url.Values{"error": {code}, "error_description": {desc}}, state)
	}
	if len(state) > maxStateLen {
		state = ""
		fail("invalid_request", "state is too long")
		return
	}
	for _, name := range []string{"response_type", "state", "scope", "nonce", "code_challenge", "code_challenge_method", "prompt"} {
		if len(q[name]) > 1 {
			fail("invalid_request", name+" is repeated")
			return
		}
	}
	switch q.Get("response_type") {
	case "code":
	case "":
		fail("invalid_request", "response_type is required")
		return
	default:
		fail("unsupported_response_type", "only response_type=code is supported")
		return
	}
	challenge, method := q.Get("code_challenge"), q.Get("code_challenge_method")
	switch {
	case challenge == "" && method != "":
		fail("invalid_request", "code_challenge_method without code_challenge")
		return
	case challenge == "" && cl.public:
		fail("invalid_request", "PKCE (code_challenge with S256) is required for public clients")
		return
	case challenge != "" && method != "S256":
		// A missing method means "plain" (RFC 7636 4.3), which gives no
		// protection against a code intercepted with its request.
		fail("invalid_request", "code_challenge_method must be S256")
		return
	case challenge != "" && !validChallenge(challenge):
		fail("invalid_request", "code_challenge is not a base64url SHA-256")
		return
	}
	nonce := q.Get("nonce")
	if len(nonce) > maxNonceLen {
		fail("invalid_request", "nonce is too long")
		return
	}

	var s store.Session
	var c store.Company
	err := session.ErrNoSession
	if ck, cerr := r.Cookie(session.CookieName); cerr == nil {
		s, c, err = p.sessions.Resolve(r.Context(), ck.Value)
	}
	if err != nil {
		if !errors.Is(err, session.ErrNoSession) {
			p.log.Error("resolving the session at /sso/authorize", zap.Error(err))
			fail("temporarily_unavailable", "try again later")
			return
		}
		if q.Get("prompt") == "none" {
			fail("login_required", "no session")
			return
		}
		// The original query goes back verbatim, so the login page
		// returns exactly here once the user has signed in.
		rd := pathAuthorize
		if r.URL.RawQuery != "" {
			rd += "?" + r.URL.RawQuery
		}
		noStore(w)
		http.Redirect(w, r, "/sso/login?rd="+url.QueryEscape(rd), http.StatusFound)
		return
	}
	switch c.Status {
	case store.StatusActive:
	case store.StatusSuspended:
		fail("access_denied", "company suspended")
		return
	default:
		fail("access_denied", "company not active")
		return
	}

	code := newSecret()
	now := p.now()
	rec := store.AuthCode{
		CodeHash:      hashSecret(code),
		ClientID:      cl.id,
		RedirectURI:   redirectURI,
		SessionHash:   s.IDHash,
		UserID:        s.UserID,
		CompanyID:     c.ID,
		Scope:         parseScope(q.Get("scope")),
		Nonce:         nonce,
		CodeChallenge: challenge,
		AuthTime:      s.AuthTime,
		ExpiresAt:     now.Add(codeTTL),
	}
	if err := p.store.Batch(r.Context(), func(tx store.Tx) error { return tx.PutAuthCode(&rec) }); err != nil {
		p.log.Error("storing an authorization code", zap.Error(err))
		fail("server_error", "try again later")
		return
	}
	back(w, r, redirectURI, url.Values{"code": {code}}, state)
}

// back redirects to the client's registered redirect URI with params and
// state added to whatever query the URI already has.
func back(w http.ResponseWriter, r *http.Request, redirectURI string, params url.Values, state string) {
	u, err := url.Parse(redirectURI)
	if err != nil {
		// Registered URIs were parsed in New.
		writeErrorPage(w, http.StatusInternalServerError, "bad redirect_uri")
		return
	}
	q := u.Query()
	for k, v := range params {
		q[k] = v
	}
	if state != "" {
		q.Set("state", state)
	}
	u.RawQuery = q.Encode()
	noStore(w)
	http.Redirect(w, r, u.String(), http.StatusFound)
}
