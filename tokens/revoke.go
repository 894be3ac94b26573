package tokens

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"go.uber.org/zap"

	"github.com/rcchat/caddy-whmcs-auth/store"
)

// serveRevoke handles POST /sso/revoke (RFC 7009). Revoking either kind of
// token revokes its whole family: the refresh tokens and, through the
// family anchor, the access tokens of the same grant. Unknown tokens, and
// tokens of other clients, get the same 200 so the endpoint tells nobody
// which tokens exist.
func (p *Provider) serveRevoke(w http.ResponseWriter, r *http.Request) {
	cl, ok := p.clientRequest(w, r)
	if !ok {
		return
	}
	raw := r.PostForm.Get("token")
	if raw == "" {
		writeOAuthError(w, errInvalidRequest("token is required"))
		return
	}
	family, err := p.familyOf(r.Context(), p.IssuerFor(r), cl, raw)
	if err == nil && family != "" {
		err = p.store.Batch(r.Context(), func(tx store.Tx) error { return tx.RevokeRefreshFamily(family) })
	}
	if err != nil {
		p.log.Error("revoking a token family", zap.Error(err))
		// RFC 7009 2.2.1: 503 tells the client to retry.
		writeJSON(w, http.StatusServiceUnavailable, &oauthError{Code: "temporarily_unavailable", Description: "try again later"})
		return
	}
	noStore(w)
	w.WriteHeader(http.StatusOK)
}

// familyOf finds the family of a token issued to cl, or "" when the token
// is unknown, invalid or someone else's; errors are store failures. The token_type_hint is not needed:
// the two kinds cannot be confused (a JWT has dots, a refresh token none).
func (p *Provider) familyOf(ctx context.Context, issuer string, cl *client, raw string) (string, error) {
	if strings.Count(raw, ".") == 2 {
		c, err := p.parseAccess(ctx, issuer, raw)
		if err != nil || c.ClientID != cl.id {
			return "", nil
		}
		return c.SID, nil
	}
	if !wellFormedSecret(raw) {
		return "", nil
	}
	var family string
	err := p.store.View(ctx, func(tx store.Tx) error {
		rt, err := tx.RefreshToken(hashSecret(raw))
		if err != nil {
			return err
		}
		if rt.ClientID == cl.id && !rt.Revoked {
			family = rt.FamilyID
		}
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	return family, err
}
