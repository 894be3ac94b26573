package tokens

import (
	"encoding/json"
	"net/http"
)

// serveJWKS answers /sso/jwks with the current key and the retired keys
// whose tokens may still be valid. A short cache is enough: relying parties
// such as go-oidc refetch when they meet an unknown kid, and a new key
// signs from the moment it is created.
func (p *Provider) serveJWKS(w http.ResponseWriter, r *http.Request) {
	writePublicJSON(w, p.keys.Load().jwks(p.now()), "public, max-age=300")
}

// writePublicJSON writes a cacheable JSON document; HEAD gets the headers
// only (net/http discards the body).
func writePublicJSON(w http.ResponseWriter, v any, cacheControl string) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", cacheControl)
	_, _ = w.Write(body)
}
