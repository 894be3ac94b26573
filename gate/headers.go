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

// identityHeaderNames are the SPEC 5.4 headers in the order IdentityHeaders
// keeps their values.
var identityHeaderNames = [...]string{
	hdrAuthUser, hdrAuthEmail, hdrUserID, hdrUserEmail, hdrUserRole,
	hdrCompanyID, hdrCompanyName, hdrCompanyStatus, hdrPlan,
	hdrWHMCSClientID, hdrWHMCSServiceID, hdrDueDate, hdrIdentity,
}

// identityHeaderCount is how many headers Set can write. X-RCChat-Identity
// comes last because it is the one value replaced on its own (WithAssertion).
const (
	identityHeaderCount = len(identityHeaderNames)
	idxIdentity         = identityHeaderCount - 1
)

// IdentityHeaders are an Identity's header values, sanitised and formatted
// once. The request path of a signed-in user keeps them with its cached
// session, so a request costs no formatting, percent-encoding or scan for
// control characters, only the map writes. The zero value writes nothing.
type IdentityHeaders struct {
	// values[i] belongs to identityHeaderNames[i]; "" means "leave out".
	values [identityHeaderCount]string
	// n counts the non-empty values, so Set allocates exactly once.
	n int
}

// Headers formats id's header values as SetHeaders writes them.
func (id Identity) Headers() IdentityHeaders {
	user, email := headerValue(id.UserID), headerValue(id.Email)
	hs := IdentityHeaders{values: [identityHeaderCount]string{
		user, email, user, email, headerValue(id.Role),
		formatID(id.CompanyID), percentEncode(id.CompanyName), headerValue(id.CompanyStatus), headerValue(id.Plan),
		formatID(id.WHMCSClientID), formatID(id.WHMCSServiceID), headerValue(id.DueDate), headerValue(id.Assertion),
	}}
	hs.count()
	return hs
}

// WithAssertion returns hs with X-RCChat-Identity set to assertion, which is
// signed far more often than the rest of the identity changes.
func (hs IdentityHeaders) WithAssertion(assertion string) IdentityHeaders {
	hs.values[idxIdentity] = headerValue(assertion)
	hs.count()
	return hs
}

func (hs *IdentityHeaders) count() {
	hs.n = 0
	for _, v := range hs.values {
		if v != "" {
			hs.n++
		}
	}
}

// Set writes the identity headers into h after stripping every identity
// header, whatever the caller did before: setting a header only when it has
// a value would otherwise let a client's copy of an empty one through (Caddy
// CVE-2026-30851). Empty values are left out rather than sent as "", which
// the upstream could mistake for a real value.
//
// Each header gets its own one-element slice, cut from one fresh backing
// array: the values must not be shared between requests, because handlers
// after this one (header_up, for one) may rewrite them in place.
func (hs *IdentityHeaders) Set(h http.Header) {
	StripIdentityHeaders(h)
	if hs.n == 0 {
		return
	}
	buf := make([]string, hs.n)
	i := 0
	for k, v := range hs.values {
		if v == "" {
			continue
		}
		buf[i] = v
		h[identityHeaderNames[k]] = buf[i : i+1 : i+1]
		i++
	}
}

// SetHeaders writes the SPEC 5.4 identity headers into h, replacing every
// client-sent copy (see IdentityHeaders.Set). Non-positive ids are left out
// like empty strings.
func (id Identity) SetHeaders(h http.Header) {
	hs := id.Headers()
	hs.Set(h)
}

// formatID is an id's header value; non-positive ids mean "unknown".
func formatID(v int64) string {
	if v <= 0 {
		return ""
	}
	return strconv.FormatInt(v, 10)
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
