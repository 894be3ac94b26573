package tickets

import (
	"net/http"
	"strings"
	"testing"

	"github.com/rcchat/caddy-whmcs-auth/whmcsauth"
)

func TestServiceTokenRequired(t *testing.T) {
	e := newEnv(t)
	paths := []struct{ method, path string }{
		{"POST", "/sso/api/tickets"}, {"GET", "/sso/api/tickets/1"}, {"POST", "/sso/api/tickets/1/close"},
		{"POST", "/sso/api/render"}, {"GET", "/sso/api/companies"}, {"GET", "/sso/api/companies/1"},
		{"POST", "/sso/api/companies/1/status"}, {"GET", "/sso/api/outbox"}, {"POST", "/sso/api/outbox/1/retry"},
		{"POST", "/sso/api/outbox/retry"}, {"GET", "/sso/api/nothing-here"},
	}
	for _, auth := range []string{"", "Bearer", "Bearer wrong", "Basic " + testToken, "Bearer " + testToken + "x", testToken} {
		for _, p := range paths {
			w := e.doAuth(p.method, p.path, `{}`, auth)
			if w.Code != http.StatusUnauthorized || strings.TrimSpace(w.Body.String()) != `{"error":"unauthorized"}` ||
				w.Header().Get("WWW-Authenticate") != "Bearer" {
				t.Fatalf("%s %s with %q: %d %s", p.method, p.path, auth, w.Code, w.Body.String())
			}
		}
	}
	// The scheme is case-insensitive (RFC 9110).
	if w := e.doAuth("GET", "/sso/api/outbox", nil, "bearer "+testToken); w.Code != http.StatusOK {
		t.Fatalf("lower-case scheme: %d", w.Code)
	}
	if e.sim.Requests() != 0 {
		t.Fatal("an unauthenticated request reached WHMCS")
	}
}

func TestNoServiceTokenConfigured(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.ServiceToken = "" })
	for _, auth := range []string{"", "Bearer ", "Bearer " + testToken} {
		if w := e.doAuth("GET", "/sso/api/outbox", nil, auth); w.Code != http.StatusUnauthorized {
			t.Fatalf("with no token configured, %q got %d", auth, w.Code)
		}
	}
}

func TestRoutingErrors(t *testing.T) {
	e := newEnv(t)
	if w := e.do("GET", "/sso/api/unknown", nil); w.Code != http.StatusNotFound {
		t.Fatalf("unknown path: %d", w.Code)
	}
	w := e.do("DELETE", "/sso/api/tickets/1", nil)
	if w.Code != http.StatusMethodNotAllowed || !strings.Contains(w.Header().Get("Allow"), "GET") ||
		!strings.Contains(w.Body.String(), "method_not_allowed") {
		t.Fatalf("wrong method: %d %q %s", w.Code, w.Header().Get("Allow"), w.Body.String())
	}
	if w := e.do("GET", "/other", nil); w.Code != http.StatusNotFound {
		t.Fatalf("path outside the API: %d", w.Code)
	}
	r := e.do("POST", "/sso/api/render", nil)
	if r.Header().Get("Cache-Control") != "no-store" {
		t.Fatal("answers must not be cached")
	}
}

func TestNewValidates(t *testing.T) {
	if _, err := New(Config{}); err == nil {
		t.Fatal("New without a store succeeded")
	}
	e := newEnv(t)
	if _, err := New(Config{Store: e.st, TicketSync: true}); err == nil {
		t.Fatal("ticket_sync without WHMCS succeeded")
	}
	var nilClient *whmcsauth.Client
	if _, err := New(Config{Store: e.st, TicketSync: true, WHMCS: nilClient}); err == nil {
		t.Fatal("ticket_sync with a nil *whmcsauth.Client succeeded")
	}
	if _, err := New(Config{Store: e.st, ClientCountry: "Brazil"}); err == nil {
		t.Fatal("a bad country succeeded")
	}
}
