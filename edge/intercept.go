package edge

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/rcchat/caddy-whmcs-auth/session"
	"github.com/rcchat/caddy-whmcs-auth/store"
	"github.com/rcchat/caddy-whmcs-auth/whmcsauth"
)

// interceptLogin serves RC-CHAT's SPA login (SPEC 5.3). WHMCS credentials
// are turned into a sidecar session and forwarded to RC-CHAT's SSO endpoint;
// anything else is RC-CHAT's own login, whose successful answer vouches for
// a session bound to the company RC-CHAT names.
func (e *Edge) interceptLogin(w http.ResponseWriter, r *http.Request, next Next) error {
	// Only a JSON body is a login attempt, as for RC-CHAT's own parser: a
	// cross-site form can send text/plain without a preflight, and must not
	// sign a visitor in to somebody else's account (login CSRF).
	if !isJSONMediaType(r.Header.Get("Content-Type")) {
		return next(w, r)
	}
	e.timeBody(w, r)
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxFormBytes))
	if err != nil {
		writeBodyError(w, err)
		return nil
	}
	if body, err = canonicalLoginBody(r.Header, body); err != nil {
		if errors.Is(err, errUnsupportedBody) {
			writeJSON(w, http.StatusUnsupportedMediaType, map[string]string{"error": "unsupported_media_type"})
			return nil
		}
		writeBodyError(w, err)
		return nil
	}
	// RC-CHAT gets the body the edge judged, as plain UTF-8 JSON.
	r.Header.Del("Content-Encoding")
	r.Header.Set("Content-Type", "application/json")
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	r.Header.Del("Content-Length")
	// The edge reads RC-CHAT's answer (the company id in it), so ask for
	// it uncompressed: a browser always offers gzip and br, and RC-CHAT,
	// or an encode handler in front of it, would take the offer.
	r.Header.Del("Accept-Encoding")

	email, password, readable := loginFields(body)
	if !readable {
		return e.passUnreadLogin(w, r, email, next)
	}
	a := e.tryLogin(r, email, password, false)
	switch a.status {
	case http.StatusOK:
		return e.forwardWHMCSLogin(w, r, a, next)
	case http.StatusPaymentRequired, http.StatusTooManyRequests:
		e.refuseLogin(w, a)
		return nil
	default:
		// Not a WHMCS login (or WHMCS is down): RC-CHAT decides.
		return e.passRCChatLogin(w, r, email, next)
	}
}

// isJSONMediaType reads a Content-Type as leniently as RC-CHAT's parser
// does (any case, any parameters, even malformed ones), so that no variant
// it takes for a login escapes the lockout here.
func isJSONMediaType(contentType string) bool {
	mt, _, _ := strings.Cut(contentType, ";")
	return strings.EqualFold(strings.TrimSpace(mt), "application/json")
}

// loginFields reads the credentials as RC-CHAT's JSON parser does: exact
// keys, the last of duplicate keys. readable is false when RC-CHAT may see
// a login the sidecar cannot check: a value that is not a string, a
// missing field.
func loginFields(body []byte) (email, password string, readable bool) {
	var fields map[string]json.RawMessage
	if json.Unmarshal(body, &fields) != nil {
		return "", "", false
	}
	_ = json.Unmarshal(fields["email"], &email)
	_ = json.Unmarshal(fields["password"], &password)
	return email, password, email != "" && password != ""
}

// passUnreadLogin passes to RC-CHAT a login the sidecar could not read.
// It is no WHMCS login, but it is still a login attempt: refused while the
// client's IP (or the e-mail, when one was read) is locked out, and counted
// when RC-CHAT refuses it.
func (e *Edge) passUnreadLogin(w http.ResponseWriter, r *http.Request, email string, next Next) error {
	email = whmcsauth.NormalizeEmail(email)
	if len(email) > maxEmailBytes {
		email = ""
	}
	wait, err := e.cfg.Lockout.Check(r.Context(), email, e.clientIP(r))
	if err != nil {
		e.log.Error("reading the login lockout", zap.Error(err))
		e.refuseLogin(w, attempt{status: http.StatusServiceUnavailable, errCode: errWHMCSUnavailable})
		return nil
	}
	if wait > 0 {
		e.refuseLogin(w, e.audited(r.Context(), r, email,
			attempt{status: http.StatusTooManyRequests, errCode: errTooManyAttempts, retryAfter: wait}))
		return nil
	}
	return e.passRCChatLogin(w, r, email, next)
}

// refuseLogin answers an intercepted login the edge refuses itself.
func (e *Edge) refuseLogin(w http.ResponseWriter, a attempt) {
	if a.retryAfter > 0 {
		w.Header().Set("Retry-After", retryAfterSeconds(a.retryAfter))
	}
	writeJSON(w, a.status, map[string]string{"error": a.errCode})
}

// forwardWHMCSLogin sends the signed-in request to RC-CHAT's SSO endpoint,
// which answers with RC-CHAT's own token, passed back unchanged.
func (e *Edge) forwardWHMCSLogin(w http.ResponseWriter, r *http.Request, a attempt, next Next) error {
	r.URL.Path = e.cfg.SSOUpstreamPath
	r.URL.RawPath = ""
	r.RequestURI = r.URL.RequestURI()
	id := e.identity(r, a.session, a.prov.Company)
	id.SetHeaders(r.Header)
	if e.cfg.OnIdentity != nil {
		e.cfg.OnIdentity(r, id)
	}
	setCookie(w, session.CookieName, a.cookie, a.session.ExpiresAt)
	rec := newCapture(w)
	if err := next(rec, r); err != nil {
		return err
	}
	if answer, ok := rec.loginAnswer(); ok && answer.User.CompanyID.Int64() > 0 {
		e.noteRCChatCompany(r, a.prov.Company, answer.User.CompanyID.Int64())
	}
	return rec.flush()
}

// passRCChatLogin lets RC-CHAT judge the credentials and, when it accepts
// them, opens a vouched session from its answer.
func (e *Edge) passRCChatLogin(w http.ResponseWriter, r *http.Request, email string, next Next) error {
	rec := newCapture(w)
	if err := next(rec, r); err != nil {
		return err
	}
	answer, ok := rec.loginAnswer()
	if rec.status < 200 || rec.status > 299 {
		e.countFailure(r.Context(), whmcsauth.NormalizeEmail(email), e.clientIP(r))
		return rec.flush()
	}
	if !ok || answer.User.CompanyID.Int64() <= 0 {
		e.log.Warn("RC-CHAT accepted a login but its answer names no company; no sidecar session opened",
			zap.String("content_type", rec.header.Get("Content-Type")),
			zap.String("content_encoding", rec.header.Get("Content-Encoding")))
		return rec.flush()
	}
	cookie, s, err := e.openVouched(r, answer)
	if err != nil {
		e.log.Error("opening a vouched session", zap.Error(err))
		return rec.flush()
	}
	setCookie(rec, session.CookieName, cookie, s.ExpiresAt)
	e.log.Info("vouched session opened", zap.String("email", s.Email), zap.Int64("rcchat_company_id", answer.User.CompanyID.Int64()))
	return rec.flush()
}

// openVouched binds a session to the company with RC-CHAT's company id,
// recording that company on first sight (platform staff, or companies made
// in RC-CHAT itself), so that suspending a company blocks its agents too.
func (e *Edge) openVouched(r *http.Request, answer rcchatLogin) (string, store.Session, error) {
	ctx := r.Context()
	var company store.Company
	err := e.cfg.Store.Update(ctx, func(tx store.Tx) error {
		c, err := tx.CompanyByRCChatID(answer.User.CompanyID.Int64())
		if errors.Is(err, store.ErrNotFound) {
			now := time.Now()
			c = store.Company{RCChatCompanyID: answer.User.CompanyID.Int64(), Name: answer.companyName(),
				Status: store.StatusActive, StatusReason: "seen in an RC-CHAT login", CreatedAt: now, UpdatedAt: now}
			err = tx.PutCompany(&c)
		}
		company = c
		return err
	})
	if err != nil {
		return "", store.Session{}, err
	}
	u := store.User{ID: answer.User.ID.Int64(), CompanyID: company.ID, Email: whmcsauth.NormalizeEmail(answer.User.Email),
		Name: answer.User.Name, Role: answer.User.Profile}
	return e.cfg.Sessions.Open(ctx, u, company, session.Options{Vouched: true, Super: answer.User.Super, ClientIP: e.clientIP(r)})
}

// noteRCChatCompany remembers which RC-CHAT company a WHMCS client owns.
// Agents may have signed in before their owner ever did, leaving a
// placeholder company for that RC-CHAT id: it is merged into the WHMCS
// company (its sessions re-pointed), so the owner's suspension blocks them.
func (e *Edge) noteRCChatCompany(r *http.Request, c store.Company, rcchatID int64) {
	if c.RCChatCompanyID == rcchatID {
		return
	}
	err := e.cfg.Store.Update(r.Context(), func(tx store.Tx) error {
		now := time.Now()
		holder, err := tx.CompanyByRCChatID(rcchatID)
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return err
		case holder.ID != c.ID && holder.WHMCSClientID != 0:
			return fmt.Errorf("RC-CHAT company %d already belongs to WHMCS client %d", rcchatID, holder.WHMCSClientID)
		case holder.ID != c.ID:
			if err := mergePlaceholder(tx, holder, c.ID, now); err != nil {
				return err
			}
		}
		cur, err := tx.Company(c.ID)
		if err != nil {
			return err
		}
		cur.RCChatCompanyID = rcchatID
		cur.UpdatedAt = now
		return tx.PutCompany(&cur)
	})
	if err != nil {
		e.log.Error("recording the RC-CHAT company id", zap.Int64("company_id", c.ID), zap.Int64("rcchat_company_id", rcchatID), zap.Error(err))
	}
}

// mergePlaceholder hands a placeholder company's RC-CHAT id and sessions
// over to the WHMCS company that owns it.
func mergePlaceholder(tx store.Tx, placeholder store.Company, into int64, now time.Time) error {
	sessions, err := tx.CompanySessions(placeholder.ID)
	if err != nil {
		return err
	}
	placeholder.RCChatCompanyID = 0
	placeholder.StatusReason = fmt.Sprintf("merged into company %d", into)
	placeholder.UpdatedAt = now
	if err := tx.PutCompany(&placeholder); err != nil {
		return err
	}
	for _, s := range sessions {
		s.CompanyID = into
		if err := tx.PutSession(&s); err != nil {
			return err
		}
	}
	return nil
}
