package tickets

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"
)

// authorized reports whether r carries `Authorization: Bearer <service
// token>`. Both sides are hashed before the constant-time comparison so
// that neither the token's content nor its length leaks through timing.
// With no token configured nothing is authorized: an empty setting must
// not open the API.
func (s *Service) authorized(r *http.Request) bool {
	if !s.hasToken {
		return false
	}
	values := r.Header.Values("Authorization")
	// Two Authorization headers are ambiguous (a proxy may have added
	// one); refusing is safer than guessing which one counts.
	if len(values) != 1 {
		return false
	}
	scheme, token, ok := strings.Cut(values[0], " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	token = strings.TrimSpace(token)
	if token == "" {
		return false
	}
	got := sha256.Sum256([]byte(token))
	return subtle.ConstantTimeCompare(got[:], s.tokenHash[:]) == 1
}
