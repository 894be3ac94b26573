package edge

import (
	"net/http"
	"strings"
	"testing"

	"github.com/rcchat/caddy-whmcs-auth/session"
)

// requestCookie must find exactly what r.Cookie finds: a difference would be
// a session that the edge and the token endpoints judge differently.
func checkRequestCookie(t *testing.T, name string, lines []string) {
	t.Helper()
	r := &http.Request{Header: http.Header{}}
	if lines != nil {
		r.Header["Cookie"] = lines
	}
	want, wantErr := r.Cookie(name)
	got, ok := requestCookie(r, name)
	switch {
	case wantErr != nil && ok:
		t.Fatalf("%q: requestCookie found %q, r.Cookie found nothing", lines, got)
	case wantErr == nil && !ok:
		t.Fatalf("%q: requestCookie found nothing, r.Cookie found %q", lines, want.Value)
	case wantErr == nil && got != want.Value:
		t.Fatalf("%q: requestCookie = %q, r.Cookie = %q", lines, got, want.Value)
	}
}

var cookieCases = [][]string{
	nil,
	{""},
	{session.CookieName + "=abc"},
	{"a=1; " + session.CookieName + "=abc; b=2"},
	{"a=1;" + session.CookieName + "=abc"},
	{"  " + session.CookieName + " = abc \t"},
	{session.CookieName + `="abc"`},
	{session.CookieName + `="abc`},
	{session.CookieName + `=""`},
	{session.CookieName + `="`},
	{session.CookieName + "="},
	{session.CookieName},
	{session.CookieName + "=a b; " + session.CookieName + "=second"},
	{session.CookieName + "=a\\b", session.CookieName + "=second-line"},
	{session.CookieName + "=caf\xc3\xa9; " + session.CookieName + "=ok"},
	{"x" + session.CookieName + "=no; " + session.CookieName + "x=no"},
	{strings.ToUpper(session.CookieName) + "=case"},
	{"a=1", "b=2; " + session.CookieName + "=from-second-line"},
	{";;;" + session.CookieName + "=x;;"},
	{session.CookieName + "=a=b=c"},
	{strings.Repeat("a=1;", 2999) + session.CookieName + "=at-the-limit"},
	{strings.Repeat("a=1;", 3000) + session.CookieName + "=over-the-limit"},
}

func TestRequestCookieMatchesNetHTTP(t *testing.T) {
	for _, lines := range cookieCases {
		checkRequestCookie(t, session.CookieName, lines)
	}
}

func TestRequestCookieDoesNotAllocate(t *testing.T) {
	r := &http.Request{Header: http.Header{"Cookie": {"_ga=GA1.1.1; " + session.CookieName + "=" + strings.Repeat("A", 43) + "; i18nextLng=pt-BR"}}}
	if allocs := testing.AllocsPerRun(100, func() { requestCookie(r, session.CookieName) }); allocs != 0 {
		t.Fatalf("requestCookie allocates %v times", allocs)
	}
}

func FuzzRequestCookie(f *testing.F) {
	for _, lines := range cookieCases {
		if len(lines) > 0 && len(lines[0]) < 200 {
			f.Add(strings.Join(lines, "\n"))
		}
	}
	f.Fuzz(func(t *testing.T, header string) {
		checkRequestCookie(t, session.CookieName, strings.Split(header, "\n"))
	})
}
