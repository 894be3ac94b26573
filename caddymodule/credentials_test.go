package caddymodule

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"

	"github.com/rcchat/caddy-whmcs-auth/whmcsauth/whmcssim"
)

// SPEC 3 marks only api_url as required: a config without API credentials
// loads, and a WHMCS login then answers 503 without a request reaching
// WHMCS (each would count as a failed authentication there). Half a
// credential is a typo and fails at load, naming the missing half.
func TestAPICredentialsAreOptionalButGoTogether(t *testing.T) {
	t.Setenv("WHMCS_API_IDENTIFIER", "")
	t.Setenv("WHMCS_API_SECRET", "")
	sim := whmcssim.New(whmcssim.Options{Identifier: "ident", Secret: "secret"})
	apiURL, stop := sim.Start()
	t.Cleanup(stop)
	sim.AddClient(whmcssim.Client{FirstName: "Ana", LastName: "Lima", Email: "ana@example.com", Status: "Active"})

	provision := func(id, secret string) (*Handler, error) {
		ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
		t.Cleanup(cancel)
		h := &Handler{APIURL: apiURL, APIIdentifier: id, APISecret: secret,
			State: filepath.Join(t.TempDir(), "state.db"), Plans: []PlanMapping{{ProductID: 1, Name: "Basico"}}}
		err := h.Provision(ctx)
		if err == nil {
			t.Cleanup(func() { _ = h.Cleanup() })
		}
		return h, err
	}

	for _, c := range []struct{ id, secret, want string }{
		{"ident", "", "api_secret"},
		{"", "secret", "api_identifier"},
	} {
		if _, err := provision(c.id, c.secret); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("identifier %q, secret %q: %v, want an error naming %s", c.id, c.secret, err, c.want)
		}
	}

	h, err := provision("", "")
	if err != nil {
		t.Fatalf("no API credentials: %v, want the config to load", err)
	}
	if code := serve(t, h, "POST", "/sso/login", `{"email":"ana@example.com","password":"pw"}`); code != 503 {
		t.Fatalf("login without API credentials answered %d, want 503", code)
	}
	if n := sim.Requests(); n != 0 {
		t.Fatalf("WHMCS received %d calls from a module without credentials, want 0", n)
	}
}
