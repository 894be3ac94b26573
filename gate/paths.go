package gate

import (
	"errors"
	"fmt"
	"path"
	"strings"
)

// CleanPath judges an escaped request path (r.URL.EscapedPath()) as the
// upstream will see it: every escape decoded, %2F and %2E included, then
// path.Clean applied ("//", "." and ".." resolved). A trailing slash survives
// cleaning, as in Caddy's own matchers, because "/static/" and "/static" are
// different resources.
//
// suspicious reports a path no honest browser sends and that upstreams
// disagree about: a backslash (raw or %5C, a separator on Windows and in some
// URL parsers), a NUL or other control character (raw or escaped), an invalid
// escape, a still-escaped separator, dot, backslash or control character
// after decoding (double encoding, which a second decoding would turn into
// traversal), or a non-empty path not starting with '/'. When suspicious is
// true, clean is a best effort and must not grant anything.
//
// The common case, a clean path without escapes, does not allocate.
func CleanPath(rawPath string) (clean string, suspicious bool) {
	if rawPath == "" {
		return "/", false
	}
	decoded, valid := decodePercent(rawPath)
	suspicious = !valid || hasBadPathByte(rawPath)
	if len(decoded) != len(rawPath) { // only escapes change the length
		suspicious = suspicious || hasBadPathByte(decoded) || hasDoubleEscape(decoded)
	}
	if decoded[0] != '/' {
		suspicious = true
		decoded = "/" + decoded
	}
	return cleanKeepingSlash(decoded), suspicious
}

func hasBadPathByte(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '\\' || isCTL(c) {
			return true
		}
	}
	return false
}

// hasDoubleEscape finds an escape that survived one decoding and would
// produce a separator, a dot, a backslash or a control character if decoded
// again; legitimate paths have no reason to encode those twice.
func hasDoubleEscape(decoded string) bool {
	for i := 0; i+2 < len(decoded); i++ {
		if decoded[i] != '%' || !isHex(decoded[i+1]) || !isHex(decoded[i+2]) {
			continue
		}
		switch c := unhex(decoded[i+1])<<4 | unhex(decoded[i+2]); {
		case c == '/', c == '.', c == '\\', isCTL(c):
			return true
		}
	}
	return false
}

// cleanKeepingSlash is path.Clean that keeps a trailing slash, returning p
// itself whenever it is already clean so the hot path does not allocate.
func cleanKeepingSlash(p string) string {
	c := path.Clean(p)
	if c == "/" || p[len(p)-1] != '/' {
		return c
	}
	if len(p) == len(c)+1 && p[:len(c)] == c {
		return p
	}
	return c + "/"
}

// PublicPaths is the operator's allow-list of paths served without a
// session. The zero value matches nothing, which is the safe default.
type PublicPaths struct {
	exact    map[string]struct{}
	prefixes []string
}

// NewPublicPaths compiles the `public` subdirective's patterns. A pattern
// is an exact path ("/manifest.json") or a prefix written "/x/*", which
// matches "/x/" and everything below it but neither "/x" nor "/xy": a prefix
// without the slash boundary would make "/staticfoo" public along with
// "/static/". Patterns are decoded and cleaned as request paths are, so both
// sides of a comparison are in the same form (Caddy CVE-2026-27587 compared
// escaped against unescaped). The error names the offending pattern.
func NewPublicPaths(patterns []string) (PublicPaths, error) {
	p := PublicPaths{exact: make(map[string]struct{}, len(patterns))}
	for _, pat := range patterns {
		clean, prefix, err := compilePattern(pat)
		if err != nil {
			return PublicPaths{}, fmt.Errorf("public path %q: %w", pat, err)
		}
		if prefix {
			p.prefixes = append(p.prefixes, clean)
		} else {
			p.exact[clean] = struct{}{}
		}
	}
	return p, nil
}

func compilePattern(pat string) (clean string, prefix bool, err error) {
	if pat == "" || pat[0] != '/' {
		return "", false, errors.New("must start with /")
	}
	base := pat
	if strings.HasSuffix(pat, "/*") {
		base, prefix = pat[:len(pat)-1], true
	}
	switch {
	case strings.Contains(base, "*"):
		return "", false, errors.New(`"*" is only allowed as a trailing "/*"`)
	case strings.ContainsAny(base, "?#"):
		return "", false, errors.New("a query or fragment is never part of a request path")
	}
	clean, suspicious := CleanPath(base)
	if suspicious {
		return "", false, errors.New(`holds a backslash, a control character, an invalid or double escape, or an escaped NUL`)
	}
	if prefix && !strings.HasSuffix(clean, "/") {
		clean += "/"
	}
	return clean, prefix, nil
}

// Match reports whether a request's escaped path (r.URL.EscapedPath(),
// never the query) is public. A suspicious path never matches, and matching
// is case-sensitive: "/STATIC/x" is not "/static/x", and treating it as
// public would trust the upstream to fold case the same way.
func (p PublicPaths) Match(escapedPath string) bool {
	clean, suspicious := CleanPath(escapedPath)
	return !suspicious && p.MatchClean(clean)
}

// MatchClean is Match for a caller that already ran CleanPath on the request
// path and found it not suspicious; clean is what CleanPath returned. The
// edge does, and cleaning twice is a measurable part of a proxied request.
func (p PublicPaths) MatchClean(clean string) bool {
	if _, ok := p.exact[clean]; ok {
		return true
	}
	for _, pre := range p.prefixes {
		if strings.HasPrefix(clean, pre) {
			return true
		}
	}
	return false
}
