package tokens

import (
	"errors"
	"net/http"
	"strings"

	"go.uber.org/zap"
)

// serveUserinfo answers GET|POST /sso/userinfo for a Bearer access token.
// The company part is read from the store now, not from the token, so a
// rename or a plan change shows at once, and a suspension fails the call.
func (p *Provider) serveUserinfo(w http.ResponseWriter, r *http.Request) {
	raw, ok := bearerToken(r)
	if !ok {
		// RFC 6750 3.1: no error code when no credentials were sent.
		w.Header().Set("WWW-Authenticate", `Bearer realm="rcchat-sso"`)
		writeJSON(w, http.StatusUnauthorized, &oauthError{Code: "invalid_request", Description: "bearer token required"})
		return
	}
	c, co, err := p.checkAccess(r.Context(), p.IssuerFor(r), raw)
	switch {
	case err == nil:
	case errors.Is(err, ErrCompanySuspended), errors.Is(err, ErrCompanyCancelled):
		writeBearerError(w, http.StatusUnauthorized, "invalid_token", companyProblem(err))
		return
	case errors.Is(err, ErrInvalidToken):
		writeBearerError(w, http.StatusUnauthorized, "invalid_token", "the access token is invalid")
		return
	default:
		p.log.Error("checking a userinfo token", zap.Error(err))
		writeJSON(w, http.StatusInternalServerError, errServer)
		return
	}
	if !hasScope(c.Scope, "openid") {
		writeBearerError(w, http.StatusForbidden, "insufficient_scope", "the openid scope is required")
		return
	}
	who := identity{email: c.Email, name: c.Name, role: c.Role, emailVerified: c.EmailVerified}
	writeJSON(w, http.StatusOK, struct {
		Subject string `json:"sub"`
		profile
	}{c.Subject, who.profile(co)})
}

// bearerToken reads `Authorization: Bearer`, the only form the endpoint
// accepts: tokens in URLs end up in logs.
func bearerToken(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	if len(h) < 7 || !strings.EqualFold(h[:7], "bearer ") {
		return "", false
	}
	tok := strings.TrimSpace(h[7:])
	return tok, tok != ""
}
