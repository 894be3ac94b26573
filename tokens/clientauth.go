package tokens

import (
	"net/http"
	"net/url"
)

// maxFormBytes bounds token and revocation request bodies; real ones are a
// few hundred bytes.
const maxFormBytes = 64 << 10

// parseForm reads a token-endpoint style body. Only the body counts: RFC
// 6749 keeps credentials out of URLs, which end up in logs. A repeated
// parameter is refused (RFC 6749 3.1) so that two parts of the stack can
// never read different values.
func parseForm(w http.ResponseWriter, r *http.Request) *oauthError {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		return errInvalidRequest("malformed form body")
	}
	for k, v := range r.PostForm {
		if len(v) > 1 {
			return errInvalidRequest(k + " is repeated")
		}
	}
	return nil
}

// authenticateClient identifies the client of a token or revocation
// request: client_secret_basic, client_secret_post, or, for a public
// client, its client_id alone. Public clients may also use Basic with an
// empty password, which is what golang.org/x/oauth2 sends for them.
func (p *Provider) authenticateClient(r *http.Request) (*client, *oauthError) {
	id, secret, basic := r.BasicAuth()
	postID, postSecret := r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	if basic {
		if postSecret != "" {
			return nil, errInvalidRequest("use one client authentication method")
		}
		// RFC 6749 2.3.1 form-encodes both halves before Basic.
		var err1, err2 error
		id, err1 = url.QueryUnescape(id)
		secret, err2 = url.QueryUnescape(secret)
		if err1 != nil || err2 != nil || (postID != "" && postID != id) {
			return nil, errInvalidClient
		}
	} else {
		id, secret = postID, postSecret
	}
	cl, ok := p.clients[id]
	if !ok {
		return nil, errInvalidClient
	}
	if cl.public {
		if secret != "" {
			return nil, errInvalidClient
		}
		return cl, nil
	}
	if !cl.checkSecret(secret) {
		return nil, errInvalidClient
	}
	return cl, nil
}

// clientRequest parses a form POST from a client and authenticates the
// client, answering the RFC 6749 error itself when either fails.
func (p *Provider) clientRequest(w http.ResponseWriter, r *http.Request) (*client, bool) {
	if oe := parseForm(w, r); oe != nil {
		writeOAuthError(w, oe)
		return nil, false
	}
	cl, oe := p.authenticateClient(r)
	if oe != nil {
		writeOAuthError(w, oe)
		return nil, false
	}
	return cl, true
}
