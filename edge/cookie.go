package edge

import (
	"net/http"
	"strings"
)

// maxCookies mirrors net/http's default cookie limit (GODEBUG
// httpcookiemaxnum): beyond it r.Cookie finds nothing, and so must
// requestCookie.
const maxCookies = 3000

// requestCookie returns what r.Cookie(name).Value would, without
// allocating: r.Cookie builds a *Cookie (and a slice of them) on every call,
// and the session cookie is read on every proxied request. The first cookie
// of that name with a valid value wins, as in net/http.
func requestCookie(r *http.Request, name string) (string, bool) {
	lines := r.Header["Cookie"]
	n := 0
	for _, line := range lines {
		n += strings.Count(line, ";") + 1
	}
	if n > maxCookies {
		return "", false
	}
	for _, line := range lines {
		for len(line) > 0 {
			var part string
			part, line, _ = strings.Cut(line, ";")
			k, v, _ := strings.Cut(trimCookieSpace(part), "=")
			if trimCookieSpace(k) != name {
				continue
			}
			if v, ok := cookieValue(v); ok {
				return v, true
			}
		}
	}
	return "", false
}

// trimCookieSpace is textproto.TrimString, which net/http uses on cookies.
func trimCookieSpace(s string) string {
	for len(s) > 0 && isCookieSpace(s[0]) {
		s = s[1:]
	}
	for len(s) > 0 && isCookieSpace(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}

func isCookieSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// cookieValue strips one pair of double quotes and refuses the bytes RFC
// 6265 does not allow in a value, as net/http's parseCookieValue does.
func cookieValue(raw string) (string, bool) {
	if len(raw) > 1 && raw[0] == '"' && raw[len(raw)-1] == '"' {
		raw = raw[1 : len(raw)-1]
	}
	for i := 0; i < len(raw); i++ {
		if c := raw[i]; c < 0x20 || c >= 0x7f || c == '"' || c == ';' || c == '\\' {
			return "", false
		}
	}
	return raw, true
}
