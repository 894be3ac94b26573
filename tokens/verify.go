package tokens

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"

	"github.com/rcchat/caddy-whmcs-auth/store"
)

// keySet verifies signatures with the provider's own keys, so verification
// never makes an HTTP request to the provider itself.
type keySet struct{ p *Provider }

// VerifySignature implements oidc.KeySet. Unlike oidc.StaticKeySet it
// selects the key by `kid`: a token naming a key we do not publish fails
// even if some other key would verify it.
func (ks keySet) VerifySignature(ctx context.Context, raw string) ([]byte, error) {
	jws, err := jose.ParseSigned(raw, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		return nil, err
	}
	if len(jws.Signatures) != 1 {
		return nil, errors.New("expected exactly one signature")
	}
	kid := jws.Signatures[0].Header.KeyID
	pub, ok := ks.p.keys.Load().lookup(kid, ks.p.now())
	if !ok && ks.p.mayReload() {
		ks.p.reloadKeys(ctx)
		pub, ok = ks.p.keys.Load().lookup(kid, ks.p.now())
	}
	if !ok {
		return nil, fmt.Errorf("unknown key id %q", kid)
	}
	return jws.Verify(pub)
}

// mayReload lets one unknown-kid reload through per keyReloadEvery.
func (p *Provider) mayReload() bool {
	now := p.now().UnixNano()
	last := p.lastReload.Load()
	if now-last < int64(keyReloadEvery) {
		return false
	}
	return p.lastReload.CompareAndSwap(last, now)
}

// verifier checks signature, issuer, algorithm and expiry with go-oidc.
// The audience is checked by the callers, which know what to expect.
func (p *Provider) verifier(issuer string) *oidc.IDTokenVerifier {
	return oidc.NewVerifier(issuer, keySet{p}, &oidc.Config{
		SkipClientIDCheck:    true,
		SupportedSigningAlgs: []string{string(jose.ES256)},
		Now:                  p.now,
	})
}

// parseAccess verifies raw as an access token of issuer, without looking
// at the store.
func (p *Provider) parseAccess(ctx context.Context, issuer, raw string) (accessClaims, error) {
	tok, err := p.verifier(issuer).Verify(ctx, raw)
	if err != nil {
		return accessClaims{}, fmt.Errorf("%w: %v", ErrInvalidToken, err)
	}
	var c accessClaims
	if err := tok.Claims(&c); err != nil {
		return accessClaims{}, fmt.Errorf("%w: %v", ErrInvalidToken, err)
	}
	if c.TokenUse != tokenUseAccess || c.SID == "" || c.ClientID == "" || !c.Audience.Contains(c.ClientID) {
		return accessClaims{}, fmt.Errorf("%w: not an access token", ErrInvalidToken)
	}
	if _, err := strconv.ParseInt(c.Subject, 10, 64); err != nil {
		return accessClaims{}, fmt.Errorf("%w: bad subject", ErrInvalidToken)
	}
	return c, nil
}

// checkAccess verifies raw and checks, in the store, that its grant is not
// revoked and its company may still sign in.
func (p *Provider) checkAccess(ctx context.Context, issuer, raw string) (accessClaims, store.Company, error) {
	c, err := p.parseAccess(ctx, issuer, raw)
	if err != nil {
		return accessClaims{}, store.Company{}, err
	}
	var co store.Company
	var anchor store.RefreshToken
	err = p.store.View(ctx, func(tx store.Tx) error {
		var err error
		if co, err = tx.Company(c.CompanyID); err != nil {
			return err
		}
		if anchor, err = tx.RefreshToken(familyKey(c.SID)); err != nil {
			return err
		}
		return sessionAlive(tx, anchor)
	})
	if errors.Is(err, store.ErrNotFound) {
		return accessClaims{}, store.Company{}, fmt.Errorf("%w: grant or company unknown", ErrInvalidToken)
	}
	if err != nil {
		return accessClaims{}, store.Company{}, fmt.Errorf("tokens: checking an access token: %w", err)
	}
	if err := companyUsable(co, authTimeOf(c.registered)); err != nil {
		return accessClaims{}, store.Company{}, err
	}
	if anchor.Revoked || anchor.CompanyID != c.CompanyID || anchor.ClientID != c.ClientID {
		return accessClaims{}, store.Company{}, fmt.Errorf("%w: revoked", ErrInvalidToken)
	}
	return c, co, nil
}

// companyUsable says whether tokens of a grant made at authTime may be used
// for co now. A cancellation revokes for good what was granted before it,
// even once the company is active again (SPEC 5.5).
func companyUsable(co store.Company, authTime time.Time) error {
	switch co.Status {
	case store.StatusActive:
	case store.StatusSuspended:
		return ErrCompanySuspended
	case store.StatusCancelled:
		return ErrCompanyCancelled
	default:
		return fmt.Errorf("%w: company status %q", ErrInvalidToken, co.Status)
	}
	if !co.CancelledAt.IsZero() && authTime.Before(co.CancelledAt) {
		return fmt.Errorf("%w: granted before the company was cancelled", ErrInvalidToken)
	}
	return nil
}

func authTimeOf(r registered) time.Time {
	if r.AuthTime != nil {
		return r.AuthTime.Time()
	}
	return r.IssuedAt.Time()
}

// VerifyAccessToken authenticates a proxied request that carries one of our
// access tokens as `Authorization: Bearer`. The session it returns is
// rebuilt from the token: it has no IDHash (there is no cookie behind it),
// ExpiresAt is the token's expiry, Vouched mirrors the grant's origin (an
// RC-CHAT-vouched session's tokens say email_verified=false) and Super is
// never set, so a bearer token cannot reach what only a super admin's
// vouched session may.
// Errors wrap ErrInvalidToken, ErrCompanySuspended or ErrCompanyCancelled,
// or are store failures.
func (p *Provider) VerifyAccessToken(ctx context.Context, r *http.Request, raw string) (store.Session, store.Company, error) {
	c, co, err := p.checkAccess(ctx, p.IssuerFor(r), raw)
	if err != nil {
		return store.Session{}, store.Company{}, err
	}
	uid, _ := strconv.ParseInt(c.Subject, 10, 64)
	s := store.Session{
		UserID:    uid,
		CompanyID: co.ID,
		Email:     c.Email,
		Name:      c.Name,
		Role:      c.Role,
		Vouched:   !c.EmailVerified,
		AuthTime:  authTimeOf(c.registered),
		ExpiresAt: c.Expiry.Time(),
	}
	return s, co, nil
}

// sessionAlive fails with store.ErrNotFound when the session a grant is
// tied to has ended (see store.RefreshToken.SessionHash).
func sessionAlive(tx store.Tx, rt store.RefreshToken) error {
	if rt.SessionHash == "" {
		return nil
	}
	_, err := tx.Session(rt.SessionHash)
	return err
}
