package tokens

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"go.uber.org/zap"

	"github.com/rcchat/caddy-whmcs-auth/store"
)

// refreshGrant redeems a refresh token and rotates it.
//
// Rotation: every use stores a successor in the same family, marks the
// presented token rotated and hands out the successor. The family keeps the
// expiry of its grant, so refreshing never extends a sign-in past RefreshTTL.
//
// Grace window: a token rotated less than refreshGrace (5 s) ago may be
// presented again, because two tabs or a retried request often refresh at
// once and the loser must not sign the user out. It yields a fresh pair in
// the same family, a sibling of the first successor; the window counts
// from the first rotation and is never extended, so a leaked token is worth
// at most 5 s. Both branches stay revocable together (one family), and
// each branch is itself subject to reuse detection.
//
// Reuse: a rotated token presented after the window means two parties hold
// the family, and we cannot tell which is legitimate, so the whole family
// is revoked (its anchor too, which kills its access tokens) and the
// answer is invalid_grant.
func (p *Provider) refreshGrant(ctx context.Context, cl *client, r *http.Request) (grant, *oauthError) {
	raw := r.PostForm.Get("refresh_token")
	if raw == "" {
		return grant{}, errInvalidRequest("refresh_token is required")
	}
	if !wellFormedSecret(raw) {
		return grant{}, errInvalidGrant("unknown refresh token")
	}
	hash := hashSecret(raw)

	// A read first, so that made-up tokens cost no write transaction.
	var known bool
	err := p.store.View(ctx, func(tx store.Tx) error {
		rt, err := tx.RefreshToken(hash)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		known = err == nil && !rt.Revoked
		return err
	})
	if err != nil {
		p.log.Error("reading a refresh token", zap.Error(err))
		return grant{}, errServer
	}
	if !known {
		return grant{}, errInvalidGrant("unknown or revoked refresh token")
	}

	var g grant
	var oe *oauthError
	var reused bool
	err = p.store.Update(ctx, func(tx store.Tx) error {
		// Outcomes that must still commit (a revocation) are reported
		// through oe with a nil return.
		g, oe, reused = grant{}, nil, false
		rt, err := tx.RefreshToken(hash)
		if errors.Is(err, store.ErrNotFound) {
			oe = errInvalidGrant("unknown or revoked refresh token")
			return nil
		}
		if err != nil {
			return err
		}
		now := p.now()
		switch {
		case rt.Revoked:
			oe = errInvalidGrant("unknown or revoked refresh token")
			return nil
		case rt.ClientID != cl.id:
			// Another client holding this token means it leaked.
			reused = true
			oe = errInvalidGrant("refresh token was issued to another client")
			return tx.RevokeRefreshFamily(rt.FamilyID)
		case !now.Before(rt.ExpiresAt):
			oe = errInvalidGrant("refresh token expired")
			return nil
		case !rt.RotatedAt.IsZero() && now.Sub(rt.RotatedAt) >= refreshGrace:
			reused = true
			oe = errInvalidGrant("refresh token reused; the grant is revoked")
			return tx.RevokeRefreshFamily(rt.FamilyID)
		}
		if err := sessionAlive(tx, rt); errors.Is(err, store.ErrNotFound) {
			oe = errInvalidGrant("the sign-in has ended (logged out)")
			return tx.RevokeRefreshFamily(rt.FamilyID)
		} else if err != nil {
			return err
		}
		scope, bad := narrowScope(rt.Scope, r.PostForm.Get("scope"))
		if bad != nil {
			oe = bad
			return nil
		}
		co, err := tx.Company(rt.CompanyID)
		if errors.Is(err, store.ErrNotFound) {
			oe = errInvalidGrant("unknown company")
			return nil
		}
		if err != nil {
			return err
		}
		if err := companyUsable(co, rt.AuthTime); err != nil {
			oe = errInvalidGrant(companyProblem(err))
			return nil
		}
		u, err := tx.User(rt.UserID)
		if errors.Is(err, store.ErrNotFound) || (err == nil && u.CompanyID != rt.CompanyID) {
			oe = errInvalidGrant("the user no longer belongs to the company")
			return nil
		}
		if err != nil {
			return err
		}
		next := newSecret()
		nrt := rt
		nrt.TokenHash = hashSecret(next)
		nrt.Successor = ""
		if err := tx.PutRefreshToken(&nrt); err != nil {
			return err
		}
		if rt.RotatedAt.IsZero() {
			rt.RotatedAt = now
		}
		rt.Successor = nrt.TokenHash
		if err := tx.PutRefreshToken(&rt); err != nil {
			return err
		}
		// Users exist only for WHMCS clients (refreshable keeps vouched
		// subjects out), whose address WHMCS is the authority on.
		who := identity{userID: u.ID, email: u.Email, name: u.Name, role: u.Role, emailVerified: true, authTime: rt.AuthTime}
		g = grant{clientID: cl.id, scope: scope, family: rt.FamilyID, who: who, company: co, refresh: next}
		return nil
	})
	if err != nil {
		p.log.Error("rotating a refresh token", zap.Error(err))
		return grant{}, errServer
	}
	if reused {
		p.log.Warn("refresh token reused; its family is revoked", zap.String("client_id", cl.id))
	}
	return g, oe
}

// narrowScope applies RFC 6749 section 6: a refresh may ask for less than
// the grant, never more. The refresh token itself keeps the full scope.
func narrowScope(granted, asked string) (string, *oauthError) {
	if asked == "" {
		return granted, nil
	}
	for _, s := range strings.Fields(asked) {
		if !hasScope(granted, s) {
			return "", &oauthError{Code: "invalid_scope", Description: "scope exceeds the original grant"}
		}
	}
	return parseScope(asked), nil
}
