package webhooks

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The headers of a signed event (SPEC section 7) and of the legacy token.
const (
	HeaderTimestamp = "X-Whmcs-Timestamp"
	HeaderSignature = "X-Whmcs-Signature"
	HeaderToken     = "X-Whmcs-Webhook-Token"
)

// MaxSkew is how far a signed event's timestamp may be from our clock. It
// bounds how long a captured request can be replayed with a new event id
// (the id is inside the signed body, so it cannot be changed without the
// key) and tolerates ordinary clock drift between WHMCS and us.
const MaxSkew = 5 * time.Minute

// signaturePrefix names the algorithm, leaving room for another one later.
const signaturePrefix = "sha256="

// Authentication failures. Their messages are what the 401 answer says:
// they help an operator fix the hook configuration without revealing
// anything about the key.
var (
	errNotConfigured    = errors.New("webhooks are not configured (no webhook_secret or webhook_token)")
	errMissingSignature = errors.New("missing " + HeaderSignature + " header")
	errMissingTimestamp = errors.New("missing or malformed " + HeaderTimestamp + " header")
	errStaleTimestamp   = errors.New(HeaderTimestamp + " is more than 5 minutes away from the server clock")
	errMalformedSig     = errors.New("malformed " + HeaderSignature + " header (want sha256=<hex>)")
	errBadSignature     = errors.New("invalid signature")
	errMissingToken     = errors.New("missing " + HeaderToken + " header or token parameter")
	errBadToken         = errors.New("invalid webhook token")
)

// Sign returns the X-Whmcs-Signature value of body sent at unix time ts:
// "sha256=" and the hex HMAC-SHA256 of "<ts>.<body>" under secret. The
// timestamp is inside the MAC so that it cannot be refreshed by a replayer.
func Sign(secret string, ts int64, body []byte) string {
	return signaturePrefix + hex.EncodeToString(mac(secret, strconv.FormatInt(ts, 10), body))
}

func mac(secret, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// authenticate accepts a request signed with secret or carrying the legacy
// token. A signature that is present must verify: a bad one is not rescued
// by a token, so a misconfigured signer is noticed.
func authenticate(r *http.Request, body []byte, secret, token string, now time.Time) error {
	if secret == "" && token == "" {
		return errNotConfigured
	}
	if sig := r.Header.Get(HeaderSignature); secret != "" && sig != "" {
		return verifySignature(secret, r.Header.Get(HeaderTimestamp), sig, body, now)
	}
	if token != "" {
		got := r.Header.Get(HeaderToken)
		if got == "" {
			got = r.URL.Query().Get("token")
		}
		if got != "" {
			if tokenEqual(got, token) {
				return nil
			}
			return errBadToken
		}
	}
	if secret != "" {
		return errMissingSignature
	}
	return errMissingToken
}

// verifySignature checks the timestamp window, then the MAC in constant
// time.
func verifySignature(secret, tsHeader, sigHeader string, body []byte, now time.Time) error {
	tsHeader = strings.TrimSpace(tsHeader)
	ts, err := strconv.ParseInt(tsHeader, 10, 64)
	if err != nil || tsHeader == "" || tsHeader[0] == '+' || tsHeader[0] == '-' {
		return errMissingTimestamp
	}
	skew := now.Unix() - ts
	if skew > int64(MaxSkew/time.Second) || skew < -int64(MaxSkew/time.Second) {
		return errStaleTimestamp
	}
	sigHeader = strings.TrimSpace(sigHeader)
	if len(sigHeader) < len(signaturePrefix) || !strings.EqualFold(sigHeader[:len(signaturePrefix)], signaturePrefix) {
		return errMalformedSig
	}
	got, err := hex.DecodeString(sigHeader[len(signaturePrefix):])
	if err != nil || len(got) != sha256.Size {
		return errMalformedSig
	}
	if !hmac.Equal(got, mac(secret, tsHeader, body)) {
		return errBadSignature
	}
	return nil
}

// tokenEqual compares hashes so that neither the content nor the length
// of the configured token leaks through timing.
func tokenEqual(got, want string) bool {
	a := sha256.Sum256([]byte(got))
	b := sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}
