package gate

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

const (
	// maxRedirectLen bounds what the login form and the Location header
	// carry; a real SPA path and query fit easily.
	maxRedirectLen = 4096
	// maxRedirectDecodes is how many layers of percent-encoding the path of
	// a redirect may have. Each layer is checked, so "%252f%252f" is caught
	// by whatever decodes it twice; an honest path is encoded at most twice
	// (a "%" in a name, escaped again inside ?rd=).
	maxRedirectDecodes = 3
)

// SafeRedirect returns rd when it is a same-site path to send the browser
// to after sign-in, and "/" otherwise (SPEC 5.5). rd is returned unchanged
// when accepted: normalising it could itself create a different target.
//
// The path part (before '?' or '#') must start with exactly one '/' not
// followed by '/' or '\', and hold no '\', no whitespace, no control
// character and no "." or ".." segment — in the raw form and after each of up
// to three percent-decodings. That covers "//evil.com", "/\evil.com"
// (oauth2-proxy CVE-2020-5233), "/%09/evil.com" (CVE-2020-11053) and their
// double-encoded variants; a scheme can never lead, since the first byte is
// '/'. A raw invalid escape is refused too, as no browser sends one.
//
// The query and fragment are kept when they hold no '\' and no whitespace or
// control character, raw or escaped. A search term keeps its spaces as '+',
// the form encoding browsers use in queries.
func SafeRedirect(rd string) string {
	if len(rd) == 0 || len(rd) > maxRedirectLen || !utf8.ValidString(rd) {
		return "/"
	}
	p, rest := rd, ""
	if i := strings.IndexAny(rd, "?#"); i >= 0 {
		p, rest = rd[:i], rd[i:]
	}
	if !safeRedirectPath(p) || !safeRedirectRest(rest) {
		return "/"
	}
	return rd
}

func safeRedirectPath(p string) bool {
	layer := p
	for n := 0; ; n++ {
		if !safeRedirectLayer(layer) {
			return false
		}
		next, valid := decodePercent(layer)
		if n == 0 && !valid {
			return false
		}
		if next == layer {
			return true
		}
		if n == maxRedirectDecodes {
			return false
		}
		layer = next
	}
}

// safeRedirectLayer checks one decoding of the path. Dot segments are
// refused because browsers resolve them before sending a request, so a target
// holding one was written by hand, and "/x/..//evil.com" resolves to a path
// starting with "//".
func safeRedirectLayer(s string) bool {
	if len(s) == 0 || s[0] != '/' {
		return false
	}
	if len(s) > 1 && (s[1] == '/' || s[1] == '\\') {
		return false
	}
	if strings.IndexByte(s, '\\') >= 0 || hasSpaceOrControl(s) {
		return false
	}
	for seg := range strings.SplitSeq(s[1:], "/") {
		if seg == "." || seg == ".." {
			return false
		}
	}
	return true
}

// hasSpaceOrControl looks for ASCII and Unicode whitespace and control
// characters. Bytes that are not valid UTF-8 (a decoded "%FF") are opaque
// data, not characters a browser would strip or reinterpret.
func hasSpaceOrControl(s string) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c == ' ' || isCTL(c) {
				return true
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r != utf8.RuneError && (unicode.IsSpace(r) || unicode.IsControl(r)) {
			return true
		}
		i += size
	}
	return false
}

func safeRedirectRest(rest string) bool {
	if rest == "" {
		return true
	}
	if strings.IndexByte(rest, '\\') >= 0 || hasSpaceOrControl(rest) {
		return false
	}
	decoded, valid := decodePercent(rest)
	return valid && !hasSpaceOrControl(decoded)
}
