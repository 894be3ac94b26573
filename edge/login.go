package edge

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"go.uber.org/zap"

	"github.com/rcchat/caddy-whmcs-auth/gate"
	"github.com/rcchat/caddy-whmcs-auth/loginpage"
	"github.com/rcchat/caddy-whmcs-auth/session"
)

// csrfCookie carries the double-submit token of the login form.
const csrfCookie = "__Host-rcchat_csrf"

// serveLogin is GET (the page) and POST (a form or JSON) of /sso/login.
func (e *Edge) serveLogin(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		e.showLoginForm(w, r, http.StatusOK, gate.SafeRedirect(r.URL.Query().Get("rd")), "", loginpage.ErrorNone)
	case http.MethodPost:
		mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if mt == "application/json" {
			e.loginJSON(w, r)
			return
		}
		e.loginForm(w, r)
	default:
		methodNotAllowed(w, "GET, HEAD, POST")
	}
}

func (e *Edge) showLoginForm(w http.ResponseWriter, r *http.Request, status int, rd, email string, kind loginpage.ErrorKind) {
	token, err := session.NewToken()
	if err != nil {
		e.log.Error("making a CSRF token", zap.Error(err))
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "internal_error"})
		return
	}
	setCookie(w, csrfCookie, token, time.Now().Add(time.Hour))
	err = loginpage.RenderLogin(w, status, loginpage.LoginForm{
		Lang:      loginpage.LangFor(r.Header.Get("Accept-Language")),
		Email:     email,
		Redirect:  rd,
		CSRFToken: token,
		Error:     kind,
	})
	if err != nil {
		e.log.Error("rendering the login page", zap.Error(err))
	}
}

// loginForm handles the HTML form: 303 to rd on success, the form again with
// the reason otherwise.
func (e *Edge) loginForm(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		writeBodyError(w, err)
		return
	}
	rd := gate.SafeRedirect(r.PostForm.Get("rd"))
	email := r.PostForm.Get("email")
	if !validCSRF(r, r.PostForm.Get("csrf_token")) {
		e.showLoginForm(w, r, http.StatusForbidden, rd, email, loginpage.ErrorCSRF)
		return
	}
	a := e.tryLogin(r, email, r.PostForm.Get("password"), true)
	if a.status == http.StatusOK {
		setCookie(w, session.CookieName, a.cookie, a.session.ExpiresAt)
		clearCookie(w, csrfCookie)
		http.Redirect(w, r, rd, http.StatusSeeOther)
		return
	}
	if a.status == http.StatusUnauthorized {
		e.waitFloor(r.Context(), start)
	}
	if a.retryAfter > 0 {
		w.Header().Set("Retry-After", retryAfterSeconds(a.retryAfter))
	}
	e.showLoginForm(w, r, a.status, rd, email, loginpage.ErrorKind(a.errCode))
}

// loginJSON is the API form of the login (SPEC 5.2).
func (e *Edge) loginJSON(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	var body struct {
		Email    string `json:"email"`
		Password string `json:"password"`
		// Rd is accepted (the form's fields) and unused: a JSON caller
		// handles its own navigation.
		Rd string `json:"rd"`
	}
	if err := decodeJSON(w, r, &body); err != nil {
		writeBodyError(w, err)
		return
	}
	a := e.tryLogin(r, body.Email, body.Password, true)
	if a.status != http.StatusOK {
		if a.status == http.StatusUnauthorized {
			e.waitFloor(r.Context(), start)
		}
		if a.retryAfter > 0 {
			w.Header().Set("Retry-After", retryAfterSeconds(a.retryAfter))
		}
		writeJSON(w, a.status, map[string]string{"error": a.errCode})
		return
	}
	resp := loginResponse{User: userView(a.session), Company: companyView(a.prov.Company)}
	if e.cfg.Tokens != nil {
		set, err := e.cfg.Tokens.LoginTokens(r.Context(), e.cfg.Tokens.IssuerFor(r), a.session, a.prov.Company)
		if err != nil {
			e.log.Error("issuing login tokens", zap.Error(err))
			writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "internal_error"})
			return
		}
		resp.TokenSet = set
	}
	setCookie(w, session.CookieName, a.cookie, a.session.ExpiresAt)
	writeJSON(w, http.StatusOK, resp)
}

// serveLogout revokes the session and sends the browser to the login page.
func (e *Edge) serveLogout(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		methodNotAllowed(w, "POST")
		return
	}
	e.revokePresented(r)
	clearCookie(w, session.CookieName)
	http.Redirect(w, r, "/sso/login", http.StatusSeeOther)
}

// serveSession describes the caller's session; 401 without one, and 402 or
// 403 while its company is suspended or cancelled.
func (e *Edge) serveSession(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		methodNotAllowed(w, "GET, HEAD")
		return
	}
	// A session of a suspended or cancelled company is refused here as
	// on every other request (SPEC 5.1); without one the answer is 401,
	// never a redirect, as this endpoint is asked by scripts.
	p, err := e.authenticate(r)
	if refused, _ := e.refuseBlocked(w, r, "/sso/session", p, err); refused {
		return
	}
	if err != nil {
		w.Header().Set("WWW-Authenticate", "Bearer")
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "unauthenticated"})
		return
	}
	writeJSON(w, http.StatusOK, sessionResponse{User: userView(p.session), Company: companyView(p.company), ExpiresAt: p.session.ExpiresAt.UTC()})
}

func validCSRF(r *http.Request, field string) bool {
	c, err := r.Cookie(csrfCookie)
	if err != nil || c.Value == "" || field == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(c.Value), []byte(field)) == 1
}

// decodeJSON reads one bounded JSON object. Unknown fields are ignored: a
// login form may carry more than the sidecar reads.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxFormBytes))
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return tooBig
		}
		return errors.New("body must be one JSON object with the documented fields")
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("body must hold exactly one JSON object")
	}
	return nil
}

func retryAfterSeconds(d time.Duration) string {
	s := int64(d / time.Second)
	if d%time.Second != 0 {
		s++
	}
	return strconv.FormatInt(s, 10)
}

// loginURL is where an unauthenticated navigation is sent.
func loginURL(rd string) string { return "/sso/login?rd=" + url.QueryEscape(rd) }
