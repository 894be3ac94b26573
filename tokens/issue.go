package tokens

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/rcchat/caddy-whmcs-auth/store"
)

// TokenSet is what a successful grant hands to the client.
type TokenSet struct {
	// TokenType is always "Bearer".
	TokenType string `json:"token_type"`
	// AccessToken is a short-lived ES256 JWT whose audience is the client.
	AccessToken string `json:"access_token"`
	// IDToken is present when the grant's scope holds openid.
	IDToken string `json:"id_token,omitempty"`
	// ExpiresIn is the access token's lifetime in seconds.
	ExpiresIn int `json:"expires_in"`
	// RefreshToken is present when the grant allows offline access.
	RefreshToken string `json:"refresh_token,omitempty"`
}

// grant is everything needed to mint a TokenSet.
type grant struct {
	issuer   string
	clientID string
	scope    string
	nonce    string
	family   string
	who      identity
	company  store.Company
	// refresh is the raw refresh token, already stored; "" for none.
	refresh string
}

// mint signs the access token and, for openid, the ID token of g. Signing
// happens outside any store transaction: a due key rotation writes to the
// store, which must not nest inside another write.
func (p *Provider) mint(ctx context.Context, g grant) (TokenSet, error) {
	key := p.signer(ctx)
	now := p.now()
	exp := now.Add(p.accessTTL)
	reg := registered{
		Issuer:   g.issuer,
		Subject:  subject(g.who.userID),
		Audience: jwt.Audience{g.clientID},
		Expiry:   numericDate(exp),
		IssuedAt: numericDate(now),
		AuthTime: numericDate(g.who.authTime),
	}
	at, err := jwt.Signed(key.at).Claims(accessClaims{
		registered:    reg,
		JTI:           newID(),
		ClientID:      g.clientID,
		Scope:         g.scope,
		SID:           g.family,
		TokenUse:      tokenUseAccess,
		Email:         g.who.email,
		EmailVerified: g.who.emailVerified,
		Name:          g.who.name,
		Role:          g.who.role,
		CompanyID:     g.company.ID,
	}).Serialize()
	if err != nil {
		return TokenSet{}, fmt.Errorf("tokens: signing an access token: %w", err)
	}
	ts := TokenSet{TokenType: "Bearer", AccessToken: at, ExpiresIn: int(p.accessTTL / time.Second), RefreshToken: g.refresh}
	if hasScope(g.scope, "openid") {
		ts.IDToken, err = jwt.Signed(key.jwt).Claims(idClaims{
			registered: reg,
			profile:    g.who.profile(g.company),
			Nonce:      g.nonce,
		}).Serialize()
		if err != nil {
			return TokenSet{}, fmt.Errorf("tokens: signing an ID token: %w", err)
		}
	}
	return ts, nil
}

// newFamily stores the anchor of a new grant and, when refresh is not
// empty, its first refresh token. The anchor lives as long as the family
// could, so an access token's `sid` is checkable for its whole life.
func (p *Provider) newFamily(tx store.Tx, family, clientID, scope, refresh, sessionHash string, who identity, companyID int64, now time.Time) error {
	life := p.accessTTL
	if refresh != "" {
		life = max(life, p.refreshTTL)
	}
	anchor := store.RefreshToken{
		TokenHash:   familyKey(family),
		FamilyID:    family,
		ClientID:    clientID,
		UserID:      who.userID,
		CompanyID:   companyID,
		Scope:       scope,
		SessionHash: sessionHash,
		AuthTime:    who.authTime,
		ExpiresAt:   now.Add(life),
	}
	if err := tx.PutRefreshToken(&anchor); err != nil {
		return err
	}
	if refresh == "" {
		return nil
	}
	rt := anchor
	rt.TokenHash = hashSecret(refresh)
	rt.ExpiresAt = now.Add(p.refreshTTL)
	return tx.PutRefreshToken(&rt)
}

// refreshable says whether a grant for s may get a refresh token. The
// refresh grant rebuilds the profile from the user record, so a subject
// without one (an RC-CHAT-vouched agent) gets no refresh token rather than
// one that would fail on first use.
func refreshable(tx store.Tx, s store.Session) (bool, error) {
	if s.Vouched {
		return false, nil
	}
	u, err := tx.User(s.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return u.CompanyID == s.CompanyID, nil
}

// loginScope is the scope of the JSON login's tokens: everything, since
// the user signed in to the sidecar itself.
const loginScope = "openid email profile offline_access"

// LoginTokens mints the tokens of a successful JSON login (SPEC 5.2) for
// the built-in client LoginClientID. The refresh token is redeemable at
// /sso/token with client_id=rcchat-sso and no secret. A company that is not
// active gets ErrCompanySuspended or ErrCompanyCancelled.
func (p *Provider) LoginTokens(ctx context.Context, issuer string, s store.Session, c store.Company) (TokenSet, error) {
	if err := companyUsable(c, s.AuthTime); err != nil {
		return TokenSet{}, err
	}
	family, refresh := newID(), newSecret()
	who := sessionIdentity(s)
	var issued string
	err := p.store.Batch(ctx, func(tx store.Tx) error {
		ok, err := refreshable(tx, s)
		if err != nil {
			return err
		}
		issued = ""
		if ok {
			issued = refresh
		}
		// The login's grant lives and dies with its session: a logout
		// ends the tokens it handed out too.
		return p.newFamily(tx, family, LoginClientID, loginScope, issued, s.IDHash, who, c.ID, p.now())
	})
	if err != nil {
		return TokenSet{}, fmt.Errorf("tokens: storing the login grant: %w", err)
	}
	return p.mint(ctx, grant{
		issuer:   issuer,
		clientID: LoginClientID,
		scope:    loginScope,
		family:   family,
		who:      who,
		company:  c,
		refresh:  issued,
	})
}
