package gate

import (
	"net/http"
	"strconv"
	"strings"
)

// IsNavigation reports whether an unauthenticated request is a browser
// loading a page, which deserves a redirect to the login page, rather than an
// API or socket call, which deserves a 401 the SPA can act on (SPEC 5.5).
// cleanPath is CleanPath's result. A page load is a GET or HEAD accepting
// text/html outside /backend and /socket.io; "*/*" does not count, since
// XHR clients such as axios send it too.
//
// The API prefixes are compared without case because Caddy's path matcher
// and Express's router both route "/BACKEND/x" to the API; both answers deny,
// so this only picks the one the caller understands.
func IsNavigation(r *http.Request, cleanPath string) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	if underAPI(cleanPath) {
		return false
	}
	for _, v := range r.Header["Accept"] {
		if acceptsHTML(v) {
			return true
		}
	}
	return false
}

func underAPI(p string) bool {
	for _, root := range [...]string{"/backend", "/socket.io"} {
		if len(p) < len(root) || !strings.EqualFold(p[:len(root)], root) {
			continue
		}
		if len(p) == len(root) || p[len(root)] == '/' {
			return true
		}
	}
	return false
}

// acceptsHTML reports whether one Accept header value lists text/html with a
// non-zero weight.
func acceptsHTML(accept string) bool {
	for entry := range strings.SplitSeq(accept, ",") {
		media, params, _ := strings.Cut(entry, ";")
		if !strings.EqualFold(strings.TrimSpace(media), "text/html") {
			continue
		}
		if q, ok := weight(params); ok && q > 0 {
			return true
		}
	}
	return false
}

// weight reads the q parameter among ";"-separated parameters (RFC 9110
// 12.4.2); a missing q is 1. Other parameters are allowed, as media types
// carry them. ok is false for a malformed weight.
func weight(params string) (q float64, ok bool) {
	q = 1
	if params == "" {
		return q, true
	}
	for param := range strings.SplitSeq(params, ";") {
		name, value, _ := strings.Cut(param, "=")
		if !strings.EqualFold(strings.TrimSpace(name), "q") {
			continue
		}
		var valid bool
		if q, valid = parseQValue(strings.TrimSpace(value)); !valid {
			return 0, false
		}
	}
	return q, true
}

// parseQValue accepts exactly the RFC 9110 qvalue grammar: "0" or "1"
// optionally followed by up to three decimals, at most 1.
func parseQValue(s string) (float64, bool) {
	if len(s) == 0 || len(s) > 5 || (s[0] != '0' && s[0] != '1') {
		return 0, false
	}
	if len(s) > 1 {
		if s[1] != '.' {
			return 0, false
		}
		for i := 2; i < len(s); i++ {
			if s[i] < '0' || s[i] > '9' || (s[0] == '1' && s[i] != '0') {
				return 0, false
			}
		}
	}
	q, err := strconv.ParseFloat(s, 64)
	return q, err == nil
}

// WantsEnglish reports whether an Accept-Language header prefers English
// over Portuguese, the two languages the pages exist in; pt-BR is the default.
// Each language's weight is the highest among its ranges ("en", "en-US"...),
// falling back to "*" when the language is not named; equal weights go to
// the range listed first, and a tie with nothing listed stays Portuguese.
// Entries that break the grammar are ignored rather than trusted.
//
// Comparing the two offered languages, instead of looking only at the
// client's top choice, is what content negotiation means: "de, en;q=0.8"
// prefers English to Portuguese, so a German reader gets English.
func WantsEnglish(acceptLanguage string) bool {
	en, pt, star := langPref{q: -1}, langPref{q: -1}, langPref{q: -1}
	pos := 0
	for entry := range strings.SplitSeq(acceptLanguage, ",") {
		tag, params, _ := strings.Cut(entry, ";")
		tag = strings.TrimSpace(tag)
		if tag == "" {
			continue
		}
		q, ok := languageWeight(params)
		if !ok || !validLanguageRange(tag) {
			continue
		}
		pos++
		primary, _, _ := strings.Cut(tag, "-")
		switch {
		case tag == "*":
			star.offer(q, pos)
		case strings.EqualFold(primary, "en"):
			en.offer(q, pos)
		case strings.EqualFold(primary, "pt"):
			pt.offer(q, pos)
		}
	}
	if en.q < 0 {
		en = star
	}
	if pt.q < 0 {
		pt = star
	}
	if en.q <= 0 {
		return false
	}
	return en.q > pt.q || en.q == pt.q && en.pos < pt.pos
}

// langPref is the best weight seen for one language and where it was listed.
type langPref struct {
	q   float64
	pos int
}

func (l *langPref) offer(q float64, pos int) {
	if q > l.q {
		l.q, l.pos = q, pos
	}
}

// languageWeight is weight for Accept-Language, whose only parameter is q.
func languageWeight(params string) (float64, bool) {
	if params == "" {
		return 1, true
	}
	name, value, found := strings.Cut(params, "=")
	if !found || !strings.EqualFold(strings.TrimSpace(name), "q") {
		return 0, false
	}
	return parseQValue(strings.TrimSpace(value))
}

// validLanguageRange checks RFC 4647 basic ranges: "*" or
// 1*8ALPHA *("-" 1*8alphanum).
func validLanguageRange(tag string) bool {
	if tag == "*" {
		return true
	}
	first := true
	for sub := range strings.SplitSeq(tag, "-") {
		if len(sub) == 0 || len(sub) > 8 {
			return false
		}
		for i := 0; i < len(sub); i++ {
			c := sub[i] | 0x20 // ASCII lower-case; digits are unaffected
			isAlpha := 'a' <= c && c <= 'z'
			isDigit := '0' <= sub[i] && sub[i] <= '9'
			if !isAlpha && !(isDigit && !first) {
				return false
			}
		}
		first = false
	}
	return true
}
