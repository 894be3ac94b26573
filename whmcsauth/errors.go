package whmcsauth

import (
	"errors"
	"strings"
)

// Kind tells a caller what it may do about a failed call: retry later
// (transport), fix the configuration (auth), or accept WHMCS's answer
// (business).
type Kind int

const (
	// KindAuth means WHMCS refused our API credential: wrong identifier or
	// secret, access key, IP allow-list, a role without the action, a ban, or
	// any HTTP 403. Retrying makes it worse: WHMCS bans the IP after three
	// failed authentications, so these errors must reach an operator instead.
	KindAuth Kind = iota + 1
	// KindBusiness means WHMCS processed the call and answered result=error
	// (for example "Client Not Found"). Retrying gives the same answer.
	KindBusiness
	// KindTransport means no usable WHMCS answer arrived: network failure,
	// timeout, 5xx, a redirect, or a body that is not a WHMCS JSON envelope.
	// The call may or may not have taken effect; retrying is the caller's call.
	KindTransport
)

// String names the kind for logs and metrics labels.
func (k Kind) String() string {
	switch k {
	case KindAuth:
		return "auth"
	case KindBusiness:
		return "business"
	case KindTransport:
		return "transport"
	default:
		return "unknown"
	}
}

// Error is every failure returned by Client. It carries no request data, so it
// is safe to log: the request body holds the API secret and responses hold
// plaintext service passwords, and neither is ever copied into an Error.
type Error struct {
	// Action is the WHMCS API action (or client method) that failed.
	Action string
	// Kind classifies the failure; see the Kind constants.
	Kind Kind
	// Message is WHMCS's own message when it sent one (already stripped of
	// our secrets and truncated), else a description of what went wrong.
	Message string
	// HTTPStatus is the HTTP status of the answer, 0 when none arrived.
	HTTPStatus int
	// Err is the underlying cause for transport failures (for errors.Is with
	// context.DeadlineExceeded, net.Error and the like); nil otherwise.
	Err error
	// NotSent is set when the request never left: the client has no API
	// credentials (a KindAuth error, so that callers treat it like a
	// refused credential and never retry it into a ban).
	NotSent bool
}

// Error renders "whmcs <Action>: <what happened>: <message>"; the prefix for
// auth failures matches the wording operators see in the sidecar logs.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("whmcs ")
	b.WriteString(e.Action)
	b.WriteString(": ")
	switch {
	case e.NotSent:
		b.WriteString("WHMCS not called: ")
	case e.Kind == KindAuth:
		b.WriteString("WHMCS rejected the API credentials: ")
	case e.Kind == KindTransport:
		b.WriteString("WHMCS unavailable: ")
	}
	b.WriteString(e.Message)
	return b.String()
}

// Unwrap exposes the transport cause.
func (e *Error) Unwrap() error { return e.Err }

// asError extracts the *Error from err's chain.
func asError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// IsAuth reports whether err is WHMCS refusing our API credential. Such
// errors must not be retried automatically.
func IsAuth(err error) bool {
	e, ok := asError(err)
	return ok && e.Kind == KindAuth
}

// IsBusiness reports whether WHMCS processed the call and answered with an
// error of its own.
func IsBusiness(err error) bool {
	e, ok := asError(err)
	return ok && e.Kind == KindBusiness
}

// IsRetryable reports whether a later attempt may succeed: only transport
// failures qualify. Callers that retry a write must accept that the first
// attempt may already have taken effect.
func IsRetryable(err error) bool {
	e, ok := asError(err)
	return ok && e.Kind == KindTransport
}

// IsBanned reports whether WHMCS has banned our IP. It is a KindAuth error
// that only an operator (or the ban timeout) can clear, so it deserves its own
// alert.
func IsBanned(err error) bool {
	e, ok := asError(err)
	return ok && e.Kind == KindAuth && strings.EqualFold(strings.TrimSpace(e.Message), "IP Banned")
}

// IsNotFound reports whether WHMCS answered that the looked-up record does not
// exist: "Client Not Found", "Client ID Not Found", "Invoice ID Not Found",
// "Ticket ID not found", "Service ID not found" and so on. WHMCS is
// inconsistent about capitalisation, so the match ignores case.
func IsNotFound(err error) bool {
	e, ok := asError(err)
	if !ok || e.Kind != KindBusiness {
		return false
	}
	m := strings.ToLower(strings.TrimSpace(e.Message))
	m = strings.TrimRight(m, ".! ")
	// "Command Not Found" is the legacy answer to an unknown action: a bug on
	// our side, not a missing record.
	return strings.HasSuffix(m, " not found") && m != "command not found"
}

// authMessages are the prefixes of WHMCS's authentication and access-control
// messages (fact sheet section 1). They classify an answer as KindAuth even if
// a proxy in front of WHMCS rewrote the HTTP status.
var authMessages = []string{
	"invalid ip",
	"ip banned",
	"invalid access key",
	"invalid or missing credentials",
	"authentication failed",
	"administrator account disabled",
	"access denied",
	"invalid permissions",
	"invalid password provided",
}

// isAuthMessage reports whether msg is one of WHMCS's access-control answers.
func isAuthMessage(msg string) bool {
	m := strings.ToLower(strings.TrimSpace(msg))
	for _, p := range authMessages {
		if strings.HasPrefix(m, p) {
			return true
		}
	}
	return false
}
