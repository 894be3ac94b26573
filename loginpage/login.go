package loginpage

import (
	"net/http"

	"github.com/rcchat/caddy-whmcs-auth/gate"
)

// ErrorKind says why the previous sign-in attempt failed. Its values are
// the JSON error codes of SPEC 5.2 where one exists, so the form and the
// JSON answer of POST /sso/login use one vocabulary.
type ErrorKind string

// The outcomes the login page can explain.
const (
	// ErrorNone shows the form without a message.
	ErrorNone ErrorKind = ""
	// ErrorInvalidCredentials covers every refusal that must not tell an
	// attacker which part was wrong (SPEC 5.2).
	ErrorInvalidCredentials ErrorKind = "invalid_credentials"
	// ErrorCompanySuspended: the password was right but the company's
	// service is suspended, so the user needs the client area, not a retry.
	ErrorCompanySuspended ErrorKind = "company_suspended"
	// ErrorTooManyAttempts: the lockout is on; retrying now cannot help.
	ErrorTooManyAttempts ErrorKind = "too_many_attempts"
	// ErrorWHMCSUnavailable: the failure is ours, not the user's, so the
	// message must not suggest the password was wrong.
	ErrorWHMCSUnavailable ErrorKind = "whmcs_unavailable"
	// ErrorCSRF is a missing or expired CSRF token; the user only needs to
	// submit again.
	ErrorCSRF ErrorKind = "csrf"
	// ErrorCancelled is shown when a session ended because the company was
	// cancelled.
	ErrorCancelled ErrorKind = "cancelled"
)

// LoginForm is what the sign-in page shows.
type LoginForm struct {
	Lang Lang
	// Email is echoed back after a failed attempt; the password never is.
	Email string
	// Redirect is the rd the user goes to after signing in. It is passed
	// through gate.SafeRedirect, so an unsafe value is never echoed.
	Redirect  string
	CSRFToken string
	Error     ErrorKind
	// FormActionOrigins lists other origins the browser may be redirected
	// to once the form is posted, such as an OIDC client's redirect URI
	// reached through /sso/authorize. Browsers apply CSP form-action to the
	// whole redirect chain, so 'self' alone would block that last hop. Only
	// the scheme and host of each URL are kept; anything else is dropped.
	FormActionOrigins []string
}

type loginView struct {
	layout
	Email     string
	Redirect  string
	CSRFToken string
	ErrorText string
}

var loginPage = parsePage("login.html")

// RenderLogin writes the sign-in page with the given status: 200 for a
// fresh form, or the status of the failure being explained (401, 402, 429,
// 503, 403 for an expired form). The form posts email, password, rd and
// csrf_token to /sso/login. Nothing is written if rendering fails.
func RenderLogin(w http.ResponseWriter, status int, f LoginForm) error {
	v := loginView{
		layout:    newLayout(f.Lang),
		Email:     f.Email,
		Redirect:  gate.SafeRedirect(f.Redirect),
		CSRFToken: f.CSRFToken,
	}
	v.Title = v.T.SignIn
	if f.Error != ErrorNone {
		text, ok := v.T.Errors[f.Error]
		if !ok {
			text = v.T.GenericError
		}
		v.ErrorText = text
	}
	return write(w, status, loginPage, v, contentSecurityPolicy(f.FormActionOrigins))
}
