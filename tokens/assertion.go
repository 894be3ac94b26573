package tokens

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/rcchat/caddy-whmcs-auth/store"
)

// assertionKey identifies an assertion by everything that goes into it
// except time. Keying on the session hash alone would not do: bearer-token
// principals have no session hash, and a session's record can change under
// the same hash. The current kid is part of it so a rotation re-signs.
type assertionKey struct {
	issuer, kid, idHash                    string
	email, name, role                      string
	companyName, plan, status, dueDate     string
	userID, companyID, clientID, serviceID int64
	updated, authTime                      int64
	vouched                                bool
}

type assertionEntry struct {
	token string
	exp   time.Time
}

// assertionCache holds signed assertions so that a proxied request usually
// costs a map lookup rather than an ECDSA signature. It is bounded: when
// full it drops what is about to expire, then arbitrary entries, which only
// costs a re-signature.
type assertionCache struct {
	mu  sync.Mutex
	max int
	m   map[assertionKey]assertionEntry
}

func newAssertionCache(max int) *assertionCache {
	return &assertionCache{max: max, m: make(map[assertionKey]assertionEntry)}
}

func (c *assertionCache) get(k assertionKey, now time.Time) (assertionEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[k]
	if !ok || e.exp.Sub(now) < assertionMinLeft {
		return assertionEntry{}, false
	}
	return e, true
}

func (c *assertionCache) put(k assertionKey, e assertionEntry, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.max {
		for key, old := range c.m {
			if old.exp.Sub(now) < assertionMinLeft {
				delete(c.m, key)
			}
		}
		for key := range c.m {
			if len(c.m) < c.max*3/4 {
				break
			}
			delete(c.m, key)
		}
	}
	c.m[k] = e
}

// Assertion returns the X-RCChat-Identity JWT for a signed-in principal:
// ES256, `aud` "rcchat", valid for 5 minutes, verifiable with /sso/jwks. The
// same string is returned for as long as it has at least a minute left and
// nothing it states has changed.
func (p *Provider) Assertion(ctx context.Context, issuer string, s store.Session, c store.Company) (string, error) {
	a, err := p.assertion(ctx, issuer, s, c)
	return a.Token, err
}

// SignedAssertion is an identity assertion with what decides whether it may
// be sent again (see Reusable).
type SignedAssertion struct {
	// Token is the X-RCChat-Identity value.
	Token string

	host, kid string
	// reuseUntil is the last instant Assertion would still return Token.
	reuseUntil time.Time
}

// RequestAssertion is Assertion for the issuer of r (IssuerFor).
func (p *Provider) RequestAssertion(ctx context.Context, r *http.Request, s store.Session, c store.Company) (SignedAssertion, error) {
	a, err := p.assertion(ctx, p.IssuerFor(r), s, c)
	a.host = r.Host
	return a, err
}

// Reusable reports whether a, from RequestAssertion for the same session
// and company, may be sent on r as it is: whether Assertion would return it
// now. That holds while r names the same host (hence the same issuer), a's
// key is still the current one and not due for rotation, and a has at least
// a minute left. It neither locks nor allocates, so the request path can keep
// one assertion with each cached session instead of hashing every claim into
// the shared cache on every request; the caller must drop a when the
// session or company may have changed.
func (p *Provider) Reusable(a *SignedAssertion, r *http.Request) bool {
	if a == nil || a.Token == "" || (p.issuer == "" && a.host != r.Host) {
		return false
	}
	now := p.now()
	cur := p.keys.Load().current
	return a.kid == cur.kid && now.Before(cur.created.Add(p.rotation)) && !now.After(a.reuseUntil)
}

func (p *Provider) assertion(ctx context.Context, issuer string, s store.Session, c store.Company) (SignedAssertion, error) {
	key := p.signer(ctx)
	now := p.now()
	k := assertionKey{
		issuer: issuer, kid: key.kid, idHash: s.IDHash,
		email: s.Email, name: s.Name, role: s.Role,
		companyName: c.Name, plan: c.Plan, status: string(c.Status), dueDate: c.DueDate,
		userID: s.UserID, companyID: c.ID, clientID: c.WHMCSClientID, serviceID: c.WHMCSServiceID,
		updated: c.UpdatedAt.UnixNano(), authTime: s.AuthTime.Unix(),
		vouched: s.Vouched,
	}
	if e, ok := p.assertions.get(k, now); ok {
		return SignedAssertion{Token: e.token, kid: key.kid, reuseUntil: e.exp.Add(-assertionMinLeft)}, nil
	}
	exp := now.Add(assertionTTL)
	tok, err := jwt.Signed(key.jwt).Claims(assertionClaims{
		registered: registered{
			Issuer:   issuer,
			Subject:  subject(s.UserID),
			Audience: jwt.Audience{AssertionAudience},
			Expiry:   numericDate(exp),
			IssuedAt: numericDate(now),
			AuthTime: numericDate(s.AuthTime),
		},
		profile:        sessionIdentity(s).profile(c),
		WHMCSServiceID: c.WHMCSServiceID,
		DueDate:        c.DueDate,
		CompanyStatus:  string(c.Status),
	}).Serialize()
	if err != nil {
		return SignedAssertion{}, fmt.Errorf("tokens: signing the identity assertion: %w", err)
	}
	// The cached expiry is the one in the token, which JWT truncates to
	// whole seconds.
	e := assertionEntry{token: tok, exp: time.Unix(exp.Unix(), 0)}
	p.assertions.put(k, e, now)
	return SignedAssertion{Token: tok, kid: key.kid, reuseUntil: e.exp.Add(-assertionMinLeft)}, nil
}
