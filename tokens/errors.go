package tokens

import (
	"encoding/json"
	"errors"
	"html"
	"net/http"
)

// Errors of VerifyAccessToken. The caller maps them to its own answers:
// 402 for a suspended company, 403 for a cancelled one, 401 otherwise.
var (
	// ErrInvalidToken means the token is malformed, not ours, expired,
	// revoked, signed by an unknown key or not an access token.
	ErrInvalidToken = errors.New("tokens: invalid token")
	// ErrCompanySuspended means the token is valid but its company is
	// suspended; it works again after a reactivation.
	ErrCompanySuspended = errors.New("tokens: company suspended")
	// ErrCompanyCancelled means the token is valid but its company is
	// cancelled.
	ErrCompanyCancelled = errors.New("tokens: company cancelled")
)

// oauthError is an RFC 6749 section 5.2 error.
type oauthError struct {
	Code        string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

func (e *oauthError) Error() string { return e.Code + ": " + e.Description }

func errInvalidGrant(desc string) *oauthError {
	return &oauthError{Code: "invalid_grant", Description: desc}
}

func errInvalidRequest(desc string) *oauthError {
	return &oauthError{Code: "invalid_request", Description: desc}
}

var errInvalidClient = &oauthError{Code: "invalid_client", Description: "client authentication failed"}

var errServer = &oauthError{Code: "server_error", Description: "try again later"}

// noStore marks a response that holds or concerns credentials; RFC 6749
// section 5.1 requires it on token responses.
func noStore(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
}

// writeOAuthError answers a token or revocation request with e. A failed
// client authentication is 401 with a challenge, as RFC 6749 asks.
func writeOAuthError(w http.ResponseWriter, e *oauthError) {
	status := http.StatusBadRequest
	switch e.Code {
	case "invalid_client":
		status = http.StatusUnauthorized
		w.Header().Set("WWW-Authenticate", `Basic realm="rcchat-sso"`)
	case "server_error":
		status = http.StatusInternalServerError
	}
	writeJSON(w, status, e)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	noStore(w)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeBearerError answers a resource request (userinfo) per RFC 6750.
func writeBearerError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("WWW-Authenticate", `Bearer error="`+code+`", error_description="`+desc+`"`)
	writeJSON(w, status, &oauthError{Code: code, Description: desc})
}

// writeErrorPage answers an authorization request that cannot be sent
// back to the client: with an unknown client or redirect URI, redirecting
// would make the provider an open redirector.
func writeErrorPage(w http.ResponseWriter, status int, desc string) {
	noStore(w)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Security-Policy", "default-src 'none'")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(`<!doctype html><html lang="pt-BR"><meta charset="utf-8"><title>Erro de autorização</title>` +
		`<h1>Não foi possível continuar / Cannot continue</h1><p>` + html.EscapeString(desc) + `</p></html>`))
}
