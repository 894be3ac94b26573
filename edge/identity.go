package edge

import (
	"net/http"
	"sync/atomic"

	"go.uber.org/zap"

	"github.com/rcchat/caddy-whmcs-auth/gate"
	"github.com/rcchat/caddy-whmcs-auth/session"
	"github.com/rcchat/caddy-whmcs-auth/tokens"
)

// cachedIdentity is a session's identity headers, built once per session
// cache entry (session.Entry.Derived). The entry is retired by the next store
// write, so these can never state a status, plan or name older than the
// store's; a request of a signed-in user then costs a check that the
// assertion is still good and the header writes, with no formatting and no
// lock.
type cachedIdentity struct {
	unsigned gate.Identity
	headers  gate.IdentityHeaders
	// signed is the last assertion with the headers that carry it;
	// replaced when Provider.Reusable says it is no longer what
	// Provider.Assertion would return.
	signed atomic.Pointer[signedIdentity]
}

type signedIdentity struct {
	assertion tokens.SignedAssertion
	headers   gate.IdentityHeaders
}

// newCachedIdentity is the session.Entry.Derived builder; a plain function,
// so that passing it does not allocate a closure per request.
func newCachedIdentity(entry *session.Entry) any {
	id := unsignedIdentity(entry.Session, entry.Company)
	return &cachedIdentity{unsigned: id, headers: id.Headers()}
}

// injectCached is inject for a session principal.
func (e *Edge) injectCached(r *http.Request, entry *session.Entry) {
	ci := entry.Derived(newCachedIdentity).(*cachedIdentity)
	if e.cfg.Tokens == nil {
		ci.headers.Set(r.Header)
		if e.cfg.OnIdentity != nil {
			e.cfg.OnIdentity(r, ci.unsigned)
		}
		return
	}
	sig := ci.signed.Load()
	if sig == nil || !e.cfg.Tokens.Reusable(&sig.assertion, r) {
		a, err := e.cfg.Tokens.RequestAssertion(r.Context(), r, entry.Session, entry.Company)
		if err != nil {
			// As in identity: the request goes on without the assertion,
			// and the next one tries again (Reusable refuses an empty one).
			e.log.Error("signing the identity assertion", zap.Error(err))
		}
		sig = &signedIdentity{assertion: a, headers: ci.headers.WithAssertion(a.Token)}
		ci.signed.Store(sig)
	}
	sig.headers.Set(r.Header)
	if e.cfg.OnIdentity != nil {
		id := ci.unsigned
		id.Assertion = sig.assertion.Token
		e.cfg.OnIdentity(r, id)
	}
}
