package tokens

import (
	"context"
	"errors"
	"net/http"

	"go.uber.org/zap"

	"github.com/rcchat/caddy-whmcs-auth/store"
)

// tokenResponse is RFC 6749 5.1; scope is echoed because it may be
// narrower than what was asked.
type tokenResponse struct {
	TokenSet
	Scope string `json:"scope,omitempty"`
}

// serveToken handles POST /sso/token.
func (p *Provider) serveToken(w http.ResponseWriter, r *http.Request) {
	cl, ok := p.clientRequest(w, r)
	if !ok {
		return
	}
	var g grant
	var oe *oauthError
	switch r.PostForm.Get("grant_type") {
	case "authorization_code":
		g, oe = p.codeGrant(r.Context(), cl, r)
	case "refresh_token":
		g, oe = p.refreshGrant(r.Context(), cl, r)
	case "":
		oe = errInvalidRequest("grant_type is required")
	default:
		oe = &oauthError{Code: "unsupported_grant_type", Description: "use authorization_code or refresh_token"}
	}
	if oe != nil {
		writeOAuthError(w, oe)
		return
	}
	g.issuer = p.IssuerFor(r)
	ts, err := p.mint(r.Context(), g)
	if err != nil {
		p.log.Error("minting tokens", zap.Error(err))
		writeOAuthError(w, errServer)
		return
	}
	writeJSON(w, http.StatusOK, tokenResponse{TokenSet: ts, Scope: g.scope})
}

// codeGrant redeems an authorization code. The code is deleted in the
// transaction that reads it, whatever the outcome, so it can never be
// redeemed twice, not even after a failed attempt (a wrong PKCE verifier
// could otherwise be brute-forced). A code presented again after that is a
// replay: the family derived from it is revoked, killing the tokens the
// first redemption produced.
func (p *Provider) codeGrant(ctx context.Context, cl *client, r *http.Request) (grant, *oauthError) {
	code, redirectURI, verifier := r.PostForm.Get("code"), r.PostForm.Get("redirect_uri"), r.PostForm.Get("code_verifier")
	if code == "" {
		return grant{}, errInvalidRequest("code is required")
	}
	if verifier != "" && !validVerifier(verifier) {
		return grant{}, errInvalidRequest("code_verifier is malformed")
	}
	if !wellFormedSecret(code) {
		return grant{}, errInvalidGrant("unknown, expired or used code")
	}
	codeHash := hashSecret(code)
	family := codeFamily(codeHash)

	// A read first, so that made-up codes cost no write transaction.
	var known bool
	err := p.store.View(ctx, func(tx store.Tx) error {
		_, err := tx.AuthCode(codeHash)
		if err == nil {
			known = true
			return nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		a, err := tx.RefreshToken(familyKey(family))
		if err == nil {
			known = !a.Revoked
			return nil
		}
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		return err
	})
	if err != nil {
		p.log.Error("reading an authorization code", zap.Error(err))
		return grant{}, errServer
	}
	if !known {
		return grant{}, errInvalidGrant("unknown, expired or used code")
	}

	var g grant
	var oe *oauthError
	var replayed bool
	err = p.store.Update(ctx, func(tx store.Tx) error {
		// Outcomes that must still commit (the deletion, the
		// revocation) are reported through oe with a nil return.
		g, oe, replayed = grant{}, nil, false
		ac, err := tx.AuthCode(codeHash)
		if errors.Is(err, store.ErrNotFound) {
			oe = errInvalidGrant("unknown, expired or used code")
			a, err := tx.RefreshToken(familyKey(family))
			if errors.Is(err, store.ErrNotFound) {
				return nil
			}
			if err != nil {
				return err
			}
			if !a.Revoked {
				replayed = true
				return tx.RevokeRefreshFamily(family)
			}
			return nil
		}
		if err != nil {
			return err
		}
		if err := tx.DeleteAuthCode(codeHash); err != nil {
			return err
		}
		g, oe, err = p.redeem(tx, cl, ac, redirectURI, verifier, family)
		return err
	})
	if err != nil {
		p.log.Error("redeeming an authorization code", zap.Error(err))
		return grant{}, errServer
	}
	if replayed {
		p.log.Warn("authorization code replayed; its tokens are revoked", zap.String("client_id", cl.id))
	}
	return g, oe
}

// redeem checks a code against the request and, when it passes, stores
// the grant's family. It runs inside the redeeming transaction.
func (p *Provider) redeem(tx store.Tx, cl *client, ac store.AuthCode, redirectURI, verifier, family string) (grant, *oauthError, error) {
	now := p.now()
	switch {
	case ac.ClientID != cl.id:
		return grant{}, errInvalidGrant("code was issued to another client"), nil
	case !now.Before(ac.ExpiresAt):
		return grant{}, errInvalidGrant("code expired"), nil
	case redirectURI != ac.RedirectURI:
		return grant{}, errInvalidGrant("redirect_uri does not match the authorization request"), nil
	case ac.CodeChallenge == "" && cl.public:
		return grant{}, errInvalidGrant("code was issued without PKCE"), nil
	case ac.CodeChallenge == "" && verifier != "":
		// A verifier with no challenge is a downgrade attempt (RFC 9700
		// 2.1.1): someone stripped the challenge from the request.
		return grant{}, errInvalidGrant("code_verifier sent but no code_challenge was"), nil
	case ac.CodeChallenge != "" && verifier == "":
		return grant{}, errInvalidGrant("code_verifier is required"), nil
	case ac.CodeChallenge != "" && !pkceMatches(verifier, ac.CodeChallenge):
		return grant{}, errInvalidGrant("code_verifier does not match code_challenge"), nil
	}
	// The session must still be alive: a logout between the redirect and
	// the exchange ends the sign-in.
	s, err := tx.Session(ac.SessionHash)
	if errors.Is(err, store.ErrNotFound) {
		return grant{}, errInvalidGrant("the session has ended"), nil
	}
	if err != nil {
		return grant{}, nil, err
	}
	if !now.Before(s.ExpiresAt) || s.UserID != ac.UserID || s.CompanyID != ac.CompanyID {
		return grant{}, errInvalidGrant("the session has ended"), nil
	}
	co, err := tx.Company(ac.CompanyID)
	if errors.Is(err, store.ErrNotFound) {
		return grant{}, errInvalidGrant("unknown company"), nil
	}
	if err != nil {
		return grant{}, nil, err
	}
	if err := companyUsable(co, s.AuthTime); err != nil {
		return grant{}, &oauthError{Code: "invalid_grant", Description: companyProblem(err)}, nil
	}
	who := sessionIdentity(s)
	var refresh string
	if hasScope(ac.Scope, "offline_access") {
		ok, err := refreshable(tx, s)
		if err != nil {
			return grant{}, nil, err
		}
		if ok {
			refresh = newSecret()
		}
	}
	if err := p.newFamily(tx, family, cl.id, ac.Scope, refresh, "", who, co.ID, now); err != nil {
		return grant{}, nil, err
	}
	return grant{clientID: cl.id, scope: ac.Scope, nonce: ac.Nonce, family: family, who: who, company: co, refresh: refresh}, nil, nil
}

// companyProblem describes a companyUsable error for an error_description.
func companyProblem(err error) string {
	switch {
	case errors.Is(err, ErrCompanySuspended):
		return "company suspended"
	case errors.Is(err, ErrCompanyCancelled):
		return "company cancelled"
	}
	return "company not active"
}
