package loginpage

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func checkSecurityHeaders(t *testing.T, w *httptest.ResponseRecorder) {
	t.Helper()
	want := map[string]string{
		"Content-Type":           "text/html; charset=utf-8",
		"Cache-Control":          "no-store",
		"X-Frame-Options":        "DENY",
		"Referrer-Policy":        "no-referrer",
		"X-Content-Type-Options": "nosniff",
	}
	for k, v := range want {
		if got := w.Header().Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	csp := w.Header().Get("Content-Security-Policy")
	for _, directive := range []string{"default-src 'none'", "form-action 'self'", "frame-ancestors 'none'", "base-uri 'none'"} {
		if !strings.Contains(csp, directive) {
			t.Errorf("CSP %q lacks %q", csp, directive)
		}
	}
	if strings.Contains(csp, "unsafe") || strings.Contains(csp, "script-src") {
		t.Errorf("CSP %q allows more than it should", csp)
	}
}

var styleHashRE = regexp.MustCompile(`style-src '(sha256-[A-Za-z0-9+/=]+)'`)

// checkLayout asserts what every page shares: the language, the landmarks,
// no script at all, unique ids, and an inline stylesheet whose hash is the
// one the CSP allows (a mismatch would leave the page unstyled).
func checkLayout(t *testing.T, doc document, lang Lang, csp string) {
	t.Helper()
	if got := doc.one(t, "html", nil).attrs["lang"]; got != string(lang) {
		t.Errorf("<html lang> = %q, want %q", got, lang)
	}
	doc.one(t, "main", nil)
	if strings.TrimSpace(doc.one(t, "h1", nil).text) == "" {
		t.Error("the heading is empty")
	}
	if strings.TrimSpace(doc.one(t, "title", nil).text) == "" {
		t.Error("the title is empty")
	}
	if len(doc.all("script")) != 0 || len(doc.all("link")) != 0 || len(doc.all("iframe")) != 0 {
		t.Error("the page loads or runs something")
	}
	ids := map[string]bool{}
	for _, e := range doc.elements {
		if id, ok := e.attrs["id"]; ok {
			if ids[id] {
				t.Errorf("duplicate id %q", id)
			}
			ids[id] = true
		}
		if _, ok := e.attrs["style"]; ok {
			t.Errorf("<%s> has a style attribute, which the CSP blocks", e.name)
		}
	}
	m := styleHashRE.FindStringSubmatch(csp)
	if m == nil {
		t.Fatalf("CSP %q pins no stylesheet", csp)
	}
	styleEl := doc.one(t, "style", nil)
	sum := sha256.Sum256([]byte(styleEl.text))
	if got := "sha256-" + base64.StdEncoding.EncodeToString(sum[:]); got != m[1] {
		t.Errorf("inline style hashes to %s, CSP allows %s", got, m[1])
	}
}

func TestCSPOrigin(t *testing.T) {
	tests := map[string]string{
		"https://app.example.com/cb":     "https://app.example.com",
		"http://127.0.0.1:8080/x?y#z":    "http://127.0.0.1:8080",
		"https://[::1]:9000/":            "https://[::1]:9000",
		"ftp://x.example":                "",
		"javascript:alert(1)":            "",
		"//app.example.com":              "",
		"https://a.example;script-src *": "",
		"https://u:p@a.example":          "",
		"https://":                       "",
		"":                               "",
	}
	for in, want := range tests {
		got, ok := cspOrigin(in)
		if got != want || ok != (want != "") {
			t.Errorf("cspOrigin(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}
