package edge

import (
	"context"
	"net"
	"net/http"
	"time"
	"unicode/utf8"

	"go.uber.org/zap"

	"github.com/rcchat/caddy-whmcs-auth/session"
	"github.com/rcchat/caddy-whmcs-auth/store"
	"github.com/rcchat/caddy-whmcs-auth/whmcsauth"
)

// The error codes of SPEC 5.2.
const (
	errInvalidCredentials = "invalid_credentials"
	errCompanySuspended   = "company_suspended"
	errTooManyAttempts    = "too_many_attempts"
	errWHMCSUnavailable   = "whmcs_unavailable"
)

// Bounds on the credentials of a login. No e-mail is longer than an SMTP
// path allows (RFC 5321: 256 octets with the angle brackets), and no
// password needs more than 1 KiB. Longer ones are refused before WHMCS or
// the store sees them, so they cannot bloat the state file or the log.
const (
	maxEmailBytes    = 254
	maxPasswordBytes = 1024
)

// attempt is the outcome of one WHMCS login.
type attempt struct {
	status     int
	errCode    string
	retryAfter time.Duration
	// whmcsRefused is true when WHMCS does not know these credentials, so
	// RC-CHAT's own login may still accept them.
	whmcsRefused bool
	prov         whmcsauth.Provisioned
	cookie       string
	session      store.Session
}

// tryLogin checks credentials against WHMCS and, when they open an active
// service, provisions the company and opens a session. A plain refusal is
// counted against the lockout only when countRefusal is set: an
// intercepted RC-CHAT login is not a failure until RC-CHAT refuses it too.
func (e *Edge) tryLogin(r *http.Request, email, password string, countRefusal bool) attempt {
	ctx := r.Context()
	ip := e.clientIP(r)
	email = whmcsauth.NormalizeEmail(email)

	wait, err := e.cfg.Lockout.Check(ctx, email, ip)
	if err != nil {
		e.log.Error("reading the login lockout", zap.Error(err))
		return e.audited(ctx, r, email, attempt{status: http.StatusServiceUnavailable, errCode: errWHMCSUnavailable})
	}
	if wait > 0 {
		return e.audited(ctx, r, email, attempt{status: http.StatusTooManyRequests, errCode: errTooManyAttempts, retryAfter: wait})
	}
	if len(email) > maxEmailBytes || len(password) > maxPasswordBytes {
		// Such credentials are nobody's, so only the IP is counted: an
		// attacker must not get a fresh e-mail counter per request.
		if countRefusal {
			if err := e.cfg.Lockout.Fail(ctx, "", ip); err != nil {
				e.log.Error("counting a failed login", zap.Error(err))
			}
		}
		return e.audited(ctx, r, email, attempt{status: http.StatusUnauthorized, errCode: errInvalidCredentials, whmcsRefused: true})
	}

	checkStart := time.Now()
	account, outcome, err := e.cfg.Login.Login(ctx, email, password)
	if err == nil && outcome != whmcsauth.OutcomeInvalid {
		e.noteFullCheck(time.Since(checkStart))
	}
	if err != nil {
		// The reason (e.g. WHMCS rejecting our API credentials) is for the
		// operator only; the user learns that WHMCS is unavailable.
		e.log.Error("WHMCS login check failed", zap.String("email", email), zap.Error(err))
		return e.audited(ctx, r, email, attempt{status: http.StatusServiceUnavailable, errCode: errWHMCSUnavailable})
	}
	switch outcome {
	case whmcsauth.OutcomeSuspended:
		if err := e.cfg.Provisioner.MarkSuspended(ctx, account); err != nil {
			e.log.Error("recording a suspended company", zap.Error(err))
		}
		return e.audited(ctx, r, email, attempt{status: http.StatusPaymentRequired, errCode: errCompanySuspended})
	case whmcsauth.OutcomeActive:
		return e.audited(ctx, r, email, e.signIn(r, email, ip, account))
	default:
		if countRefusal {
			e.countFailure(ctx, email, ip)
		}
		return e.audited(ctx, r, email, attempt{status: http.StatusUnauthorized, errCode: errInvalidCredentials, whmcsRefused: true})
	}
}

func (e *Edge) signIn(r *http.Request, email, ip string, account whmcsauth.Account) attempt {
	ctx := r.Context()
	prov, err := e.cfg.Provisioner.Provision(ctx, account)
	if err != nil {
		e.log.Error("provisioning a company", zap.Int64("whmcs_client_id", account.Client.ID), zap.Error(err))
		return attempt{status: http.StatusServiceUnavailable, errCode: errWHMCSUnavailable}
	}
	if prov.Created {
		e.log.Info("company provisioned", zap.Int64("company_id", prov.Company.ID),
			zap.Int64("whmcs_client_id", prov.Company.WHMCSClientID), zap.String("plan", prov.Company.Plan))
	}
	if err := e.cfg.Lockout.Succeed(ctx, email); err != nil {
		e.log.Error("clearing the login lockout", zap.Error(err))
	}
	e.revokePresented(r)
	cookie, s, err := e.cfg.Sessions.Open(ctx, prov.User, prov.Company, session.Options{ClientIP: ip})
	if err != nil {
		e.log.Error("opening a session", zap.Error(err))
		return attempt{status: http.StatusServiceUnavailable, errCode: errWHMCSUnavailable}
	}
	return attempt{status: http.StatusOK, prov: prov, cookie: cookie, session: s}
}

// revokePresented ends the session the browser already had, so a sign-in
// never keeps a session id chosen before it (session fixation).
func (e *Edge) revokePresented(r *http.Request) {
	if c, err := r.Cookie(session.CookieName); err == nil {
		if err := e.cfg.Sessions.Revoke(r.Context(), c.Value); err != nil {
			e.log.Error("revoking the previous session", zap.Error(err))
		}
	}
}

func (e *Edge) countFailure(ctx context.Context, email, ip string) {
	if err := e.cfg.Lockout.Fail(ctx, email, ip); err != nil {
		e.log.Error("counting a failed login", zap.Error(err))
	}
}

// audited records the attempt in the audit log and the Caddy log, with the
// e-mail cut to maxEmailBytes. The password never reaches either. A
// refusal by the lockout is only counted and logged at debug level: it
// answers at once, and auditing each would let a locked-out client grow
// the state file as fast as it can send.
func (e *Edge) audited(ctx context.Context, r *http.Request, email string, a attempt) attempt {
	outcome := "success"
	if a.errCode != "" {
		outcome = a.errCode
	}
	e.cfg.Metrics.Logins.WithLabelValues(outcome).Inc()
	email = boundedEmail(email)
	if a.errCode == errTooManyAttempts {
		e.log.Debug("login attempt", zap.String("outcome", outcome), zap.String("email", email),
			zap.String("client_ip", e.clientIP(r)))
		return a
	}
	entry := store.AuditEntry{At: time.Now(), Action: "login", Outcome: outcome, Email: email,
		ClientIP: e.clientIP(r), CompanyID: a.prov.Company.ID}
	if err := e.cfg.Store.Batch(ctx, func(tx store.Tx) error { return tx.AppendAudit(&entry) }); err != nil {
		e.log.Error("writing the audit log", zap.Error(err))
	}
	e.log.Info("login attempt", zap.String("outcome", outcome), zap.String("email", email),
		zap.String("client_ip", entry.ClientIP), zap.Int64("company_id", entry.CompanyID))
	return a
}

// boundedEmail is email cut to maxEmailBytes (at a character boundary)
// and marked with "…" when it was longer.
func boundedEmail(email string) string {
	if len(email) <= maxEmailBytes {
		return email
	}
	cut := maxEmailBytes
	for cut > 0 && !utf8.RuneStart(email[cut]) {
		cut--
	}
	return email[:cut] + "…"
}

// noteFullCheck folds one complete WHMCS check into the moving average.
func (e *Edge) noteFullCheck(d time.Duration) {
	for {
		old := e.fullCheck.Load()
		next := int64(d)
		if old != 0 {
			next = old + (int64(d)-old)/8
		}
		if e.fullCheck.CompareAndSwap(old, next) {
			return
		}
	}
}

// waitFloor delays a refusal until FailureFloor, or a quarter more than a
// typical complete WHMCS check, has passed since start.
func (e *Edge) waitFloor(ctx context.Context, start time.Time) {
	floor := max(e.cfg.FailureFloor, time.Duration(e.fullCheck.Load())*5/4)
	d := floor - time.Since(start)
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

func (e *Edge) clientIP(r *http.Request) string {
	if e.cfg.ClientIP != nil {
		return e.cfg.ClientIP(r)
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
