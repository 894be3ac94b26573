package gate

import (
	"net/http"
	"strconv"
	"strings"
)

// identityPrefixes and identityNames are the header names the sidecar owns,
// written lower-case with '-' so one byte-wise fold compares them. The
// foreign names (Remote-*, X-Forwarded-User...) are owned too because
// backends built for Authelia or oauth2-proxy trust them: a client must never
// be able to hand them a name.
var (
	identityPrefixes = [...]string{"x-rcchat-", "x-auth-request-"}
	identityNames    = [...]string{
		"remote-user",
		"remote-email",
		"remote-name",
		"remote-groups",
		"x-forwarded-user",
		"x-forwarded-email",
		"x-forwarded-groups",
		"x-forwarded-preferred-username",
	}
)

// IsIdentityHeader reports whether a header name belongs to the identity the
// sidecar asserts. The comparison ignores case and reads '_' as '-', because
// CGI/FastCGI/PHP and several frameworks fold X_Forwarded_User into
// X-Forwarded-User (oauth2-proxy CVE-2025-64484, Caddy CVE-2026-52845).
func IsIdentityHeader(name string) bool {
	// Every owned name starts with x or r and is at least "x-rcchat-" long;
	// rejecting the rest up front keeps the per-request scan cheap.
	if len(name) < len(identityPrefixes[0]) {
		return false
	}
	if c := name[0] | 0x20; c != 'x' && c != 'r' {
		return false
	}
	for _, p := range identityPrefixes {
		if len(name) >= len(p) && foldedEqual(name[:len(p)], p) {
			return true
		}
	}
	for _, n := range identityNames {
		if len(name) == len(n) && foldedEqual(name, n) {
			return true
		}
	}
	return false
}

// foldedEqual compares s with want (lower-case, '-' form, same length)
// without building a folded copy: stripping runs on every request, so it must
// not allocate.
func foldedEqual(s, want string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		case c == '_':
			c = '-'
		}
		if c != want[i] {
			return false
		}
	}
	return true
}

// StripIdentityHeaders removes every client-sent identity header (SPEC 5.4),
// whatever the case or '_'/'-' spelling of its map key, and removes identity
// names from the Connection header's tokens. The latter matters because a
// proxy deletes the headers a client lists in Connection as hop-by-hop — after
// the sidecar has set them (Traefik CVE-2024-45410). Other Connection tokens
// are left alone so keep-alive and upgrades behave as the client asked.
//
// It runs on every request, public paths and errors included, so the common
// case of nothing to strip does not allocate.
func StripIdentityHeaders(h http.Header) {
	for name, values := range h {
		if IsIdentityHeader(name) {
			delete(h, name)
			continue
		}
		if len(name) == len("connection") && foldedEqual(name, "connection") {
			if kept, changed := dropIdentityTokens(values); changed {
				if len(kept) == 0 {
					delete(h, name)
				} else {
					h[name] = kept
				}
			}
		}
	}
}

// dropIdentityTokens returns the Connection values without identity names.
// It only builds new values once it has seen a token to drop, which keeps the
// usual "keep-alive" free of allocations.
func dropIdentityTokens(values []string) ([]string, bool) {
	found := false
	for _, v := range values {
		for tok := range strings.SplitSeq(v, ",") {
			if IsIdentityHeader(strings.Trim(tok, " \t")) {
				found = true
				break
			}
		}
	}
	if !found {
		return values, false
	}
	kept := make([]string, 0, len(values))
	for _, v := range values {
		var b strings.Builder
		for tok := range strings.SplitSeq(v, ",") {
			tok = strings.Trim(tok, " \t")
			if tok == "" || IsIdentityHeader(tok) {
				continue
			}
			if b.Len() > 0 {
				b.WriteString(", ")
			}
			b.WriteString(tok)
		}
		if b.Len() > 0 {
			kept = append(kept, b.String())
		}
	}
	return kept, true
}

// Identity is what the sidecar asserts about a signed-in user to the
// upstream. Zero values mean "unknown" and produce no header.
type Identity struct {
	UserID         string
	Email          string
	Role           string
	CompanyID      int64
	CompanyName    string
	CompanyStatus  string
	Plan           string
	WHMCSClientID  int64
	WHMCSServiceID int64
	DueDate        string
	// Assertion is the signed ES256 JWT of the same claims; RC-CHAT can
	// verify it instead of trusting the plain headers.
	Assertion string
}

// Canonical forms of the SPEC 5.4 names (textproto lower-cases "RCChat"), so
// that writing the map directly still lets h.Get find them.
const (
	hdrAuthUser       = "X-Auth-Request-User"
	hdrAuthEmail      = "X-Auth-Request-Email"
	hdrUserID         = "X-Rcchat-User-Id"
	hdrUserEmail      = "X-Rcchat-User-Email"
	hdrUserRole       = "X-Rcchat-User-Role"
	hdrCompanyID      = "X-Rcchat-Company-Id"
	hdrCompanyName    = "X-Rcchat-Company-Name"
	hdrCompanyStatus  = "X-Rcchat-Company-Status"
	hdrPlan           = "X-Rcchat-Plan"
	hdrWHMCSClientID  = "X-Rcchat-Whmcs-Client-Id"
	hdrWHMCSServiceID = "X-Rcchat-Whmcs-Service-Id"
	hdrDueDate        = "X-Rcchat-Due-Date"
	hdrIdentity       = "X-Rcchat-Identity"
)

// identityHeaderCount is how many headers SetHeaders can write.
const identityHeaderCount = 13

// SetHeaders writes the SPEC 5.4 identity headers into h. It strips every
// identity header first, whatever the caller did before: setting a header
// only when it has a value would otherwise let a client's copy of an empty
// one through (Caddy CVE-2026-30851). Empty strings and non-positive ids are
// left out rather than sent as "" or "0", which the upstream could mistake
// for a real value.
func (id Identity) SetHeaders(h http.Header) {
	StripIdentityHeaders(h)
	// One backing array for all values instead of one slice per header.
	s := headerSetter{h: h, buf: make([]string, 0, identityHeaderCount)}
	user, email := headerValue(id.UserID), headerValue(id.Email)
	s.set(hdrAuthUser, user)
	s.set(hdrAuthEmail, email)
	s.set(hdrUserID, user)
	s.set(hdrUserEmail, email)
	s.set(hdrUserRole, headerValue(id.Role))
	s.setID(hdrCompanyID, id.CompanyID)
	s.set(hdrCompanyName, percentEncode(id.CompanyName))
	s.set(hdrCompanyStatus, headerValue(id.CompanyStatus))
	s.set(hdrPlan, headerValue(id.Plan))
	s.setID(hdrWHMCSClientID, id.WHMCSClientID)
	s.setID(hdrWHMCSServiceID, id.WHMCSServiceID)
	s.set(hdrDueDate, headerValue(id.DueDate))
	s.set(hdrIdentity, headerValue(id.Assertion))
}

type headerSetter struct {
	h   http.Header
	buf []string
}

func (s *headerSetter) set(key, v string) {
	if v == "" {
		return
	}
	s.buf = append(s.buf, v)
	n := len(s.buf)
	s.h[key] = s.buf[n-1 : n : n]
}

func (s *headerSetter) setID(key string, v int64) {
	if v > 0 {
		s.set(key, strconv.FormatInt(v, 10))
	}
}

// headerValue drops control characters so that a value taken from WHMCS can
// never split the header block (CR/LF) or be truncated by a NUL upstream.
func headerValue(v string) string {
	clean := true
	for i := 0; i < len(v); i++ {
		if isCTL(v[i]) {
			clean = false
			break
		}
	}
	if !clean {
		v = strings.Map(func(r rune) rune {
			if r < 0x80 && isCTL(byte(r)) {
				return -1
			}
			return r
		}, v)
	}
	return strings.TrimSpace(v)
}

func isCTL(c byte) bool { return c < 0x20 || c == 0x7f }

// percentEncode encodes s as RFC 3986 does, keeping only unreserved
// characters, because company names come from WHMCS in any script and header
// values are not a safe place for raw UTF-8. Invalid UTF-8 becomes U+FFFD so
// the upstream always decodes valid text.
func percentEncode(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	n := 0
	for i := 0; i < len(s); i++ {
		if !isUnreserved(s[i]) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	const hex = "0123456789ABCDEF"
	b := make([]byte, 0, len(s)+2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isUnreserved(c) {
			b = append(b, c)
			continue
		}
		b = append(b, '%', hex[c>>4], hex[c&0x0f])
	}
	return string(b)
}

func isUnreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}
