package caddymodule

import (
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	_ "github.com/caddyserver/caddy/v2/modules/standard"
)

func parse(t *testing.T, input string) (*Handler, error) {
	t.Helper()
	h := new(Handler)
	err := h.UnmarshalCaddyfile(caddyfile.NewTestDispenser(input))
	return h, err
}

func TestUnmarshalEverySubdirective(t *testing.T) {
	h, err := parse(t, `whmcs_auth {
		api_url https://billing.example.com/includes/api.php
		api_identifier ident
		api_secret {env.WHMCS_SECRET_FOR_TEST}
		api_access_key akey
		panel_url https://billing.example.com/admin/supporttickets.php?action=viewticket&id=
		client_area_url https://billing.example.com/clientarea.php
		state /var/lib/caddy/whmcs.db
		issuer https://chat.example.com
		plan 1 Basico
		plan 2 Premium
		webhook_secret whsec
		webhook_token legacy
		service_token svc
		ticket_sync on
		ticket_department 3
		create_clients on
		session_ttl 8h
		public /manifest.json /static/*
		public /favicon.ico
		login_path off
		sso_upstream_path /backend/auth/sso2
		client app s3cret https://app.example.com/cb https://app.example.com/cb2
		client spa - https://spa.example.com/cb
		lockout 3 5m 30m 9
		reconcile_interval 1h
		key_rotation 240h
	}`)
	if err != nil {
		t.Fatal(err)
	}
	want := &Handler{
		APIURL:            "https://billing.example.com/includes/api.php",
		APIIdentifier:     "ident",
		APISecret:         "{env.WHMCS_SECRET_FOR_TEST}",
		APIAccessKey:      "akey",
		PanelURL:          "https://billing.example.com/admin/supporttickets.php?action=viewticket&id=",
		ClientAreaURL:     "https://billing.example.com/clientarea.php",
		State:             "/var/lib/caddy/whmcs.db",
		Issuer:            "https://chat.example.com",
		Plans:             []PlanMapping{{1, "Basico"}, {2, "Premium"}},
		WebhookSecret:     "whsec",
		WebhookToken:      "legacy",
		ServiceToken:      "svc",
		TicketSync:        true,
		TicketDepartment:  3,
		CreateClients:     true,
		SessionTTL:        caddy.Duration(8 * time.Hour),
		Public:            []string{"/manifest.json", "/static/*", "/favicon.ico"},
		LoginPath:         "off",
		SSOUpstreamPath:   "/backend/auth/sso2",
		Clients:           []OIDCClient{{ID: "app", Secret: "s3cret", RedirectURIs: []string{"https://app.example.com/cb", "https://app.example.com/cb2"}}, {ID: "spa", RedirectURIs: []string{"https://spa.example.com/cb"}}},
		Lockout:           &LockoutPolicy{MaxFailures: 3, Window: caddy.Duration(5 * time.Minute), Ban: caddy.Duration(30 * time.Minute), IPMaxFailures: 9},
		ReconcileInterval: caddy.Duration(time.Hour),
		KeyRotation:       caddy.Duration(240 * time.Hour),
	}
	if !reflect.DeepEqual(h, want) {
		got, _ := json.MarshalIndent(h, "", " ")
		exp, _ := json.MarshalIndent(want, "", " ")
		t.Fatalf("parsed:\n%s\nwant:\n%s", got, exp)
	}
}

func TestUnmarshalRejectsInvalidForms(t *testing.T) {
	cases := map[string]string{
		"unknown":              "whmcs_auth {\nbogus 1\n}",
		"api_url":              "whmcs_auth {\napi_url\n}",
		"api_identifier":       "whmcs_auth {\napi_identifier a b\n}",
		"api_secret":           "whmcs_auth {\napi_secret\n}",
		"api_access_key":       "whmcs_auth {\napi_access_key\n}",
		"panel_url":            "whmcs_auth {\npanel_url\n}",
		"client_area_url":      "whmcs_auth {\nclient_area_url\n}",
		"state":                "whmcs_auth {\nstate\n}",
		"issuer":               "whmcs_auth {\nissuer a b\n}",
		"webhook_secret":       "whmcs_auth {\nwebhook_secret\n}",
		"webhook_token":        "whmcs_auth {\nwebhook_token\n}",
		"service_token":        "whmcs_auth {\nservice_token\n}",
		"sso_upstream_path":    "whmcs_auth {\nsso_upstream_path\n}",
		"login_path":           "whmcs_auth {\nlogin_path\n}",
		"plan: product id":     "whmcs_auth {\nplan x Basico\n}",
		"plan: expected":       "whmcs_auth {\nplan 1\n}",
		"plan: product id 1":   "whmcs_auth {\n plan 1 A\n plan 1 B\n}",
		"ticket_sync":          "whmcs_auth {\nticket_sync maybe\n}",
		"create_clients":       "whmcs_auth {\ncreate_clients yes\n}",
		"ticket_department":    "whmcs_auth {\nticket_department -1\n}",
		"session_ttl":          "whmcs_auth {\nsession_ttl forever\n}",
		"reconcile_interval":   "whmcs_auth {\nreconcile_interval 0s\n}",
		"key_rotation":         "whmcs_auth {\nkey_rotation -5m\n}",
		"public":               "whmcs_auth {\npublic\n}",
		"client":               "whmcs_auth {\nclient app secret\n}",
		"lockout":              "whmcs_auth {\nlockout 5 10m\n}",
		"lockout: MAX":         "whmcs_auth {\nlockout x 10m 15m\n}",
		"lockout: WINDOW":      "whmcs_auth {\nlockout 5 soon 15m\n}",
		"lockout: BAN":         "whmcs_auth {\nlockout 5 10m never\n}",
		"lockout: IP_MAX":      "whmcs_auth {\nlockout 5 10m 15m 0\n}",
		"wrong argument count": "whmcs_auth extra {\n}",
	}
	for wantInMsg, input := range cases {
		t.Run(wantInMsg, func(t *testing.T) {
			_, err := parse(t, input)
			if err == nil {
				t.Fatalf("accepted %q", input)
			}
			if !strings.Contains(err.Error(), wantInMsg) {
				t.Fatalf("error %q does not name %q", err, wantInMsg)
			}
		})
	}
}

func TestValidateNamesTheSubdirective(t *testing.T) {
	base := func() *Handler {
		return &Handler{APIURL: "https://b.example.com/includes/api.php", APIIdentifier: "i", APISecret: "s",
			Plans: []PlanMapping{{1, "Basico"}}}
	}
	cases := map[string]func(h *Handler){
		"api_url: required":           func(h *Handler) { h.APIURL = "" },
		"api_url: expected":           func(h *Handler) { h.APIURL = "ftp://x" },
		"plan: at least one":          func(h *Handler) { h.Plans = nil },
		"public":                      func(h *Handler) { h.Public = []string{"no-slash"} },
		"login_path":                  func(h *Handler) { h.LoginPath = "relative" },
		"sso_upstream_path":           func(h *Handler) { h.SSOUpstreamPath = "x" },
		"client: an id":               func(h *Handler) { h.Clients = []OIDCClient{{ID: "a"}} },
		"client a: redirect URI":      func(h *Handler) { h.Clients = []OIDCClient{{ID: "a", RedirectURIs: []string{"/x"}}} },
		"issuer":                      func(h *Handler) { h.Issuer = "chat.example.com" },
		"panel_url":                   func(h *Handler) { h.PanelURL = "nope" },
		"lockout: MAX, WINDOW":        func(h *Handler) { h.Lockout = &LockoutPolicy{} },
		"plan: product id must be p":  func(h *Handler) { h.Plans = []PlanMapping{{0, "x"}} },
		"key_rotation: at least 1h":   func(h *Handler) { h.KeyRotation = caddy.Duration(time.Second) },
		"reconcile_interval: at leas": func(h *Handler) { h.ReconcileInterval = caddy.Duration(time.Second) },
	}
	for want, mutate := range cases {
		t.Run(want, func(t *testing.T) {
			h := base()
			mutate(h)
			err := h.resolve()
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("got %v, want an error naming %q", err, want)
			}
		})
	}
}

func TestResolveUsesEnvironmentDefaults(t *testing.T) {
	env := map[string]string{
		"WHMCS_API_URL":        "https://env.example.com/includes/api.php",
		"WHMCS_API_IDENTIFIER": "env-id",
		"WHMCS_API_SECRET":     "env-secret",
		"WHMCS_API_ACCESS_KEY": "env-key",
		"WHMCS_PANEL_URL":      "https://env.example.com/admin/x?id=",
		"WHMCS_WEBHOOK_SECRET": "env-whsec",
		"WHMCS_WEBHOOK_TOKEN":  "env-token",
		"RCCHAT_SERVICE_TOKEN": "env-svc",
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
	h := &Handler{Plans: []PlanMapping{{1, "Basico"}}}
	if err := h.resolve(); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{
		"WHMCS_API_URL": h.APIURL, "WHMCS_API_IDENTIFIER": h.APIIdentifier, "WHMCS_API_SECRET": h.APISecret,
		"WHMCS_API_ACCESS_KEY": h.APIAccessKey, "WHMCS_PANEL_URL": h.PanelURL, "WHMCS_WEBHOOK_SECRET": h.WebhookSecret,
		"WHMCS_WEBHOOK_TOKEN": h.WebhookToken, "RCCHAT_SERVICE_TOKEN": h.ServiceToken,
	}
	if !reflect.DeepEqual(got, env) {
		t.Fatalf("resolved %v, want %v", got, env)
	}
	if h.ClientAreaURL != "https://env.example.com/" {
		t.Errorf("client_area_url default = %q", h.ClientAreaURL)
	}
	if h.LoginPath != "/backend/auth/login" || h.SSOUpstreamPath != "/backend/auth/sso" || h.TicketDepartment != 1 ||
		time.Duration(h.SessionTTL) != 12*time.Hour || time.Duration(h.ReconcileInterval) != 15*time.Minute {
		t.Errorf("defaults not applied: %+v", h)
	}
	if !strings.HasSuffix(h.State, "whmcs_auth/state.db") {
		t.Errorf("state default = %q", h.State)
	}
}

func TestEnvPlaceholderIsExpandedAtProvisionNotAdapt(t *testing.T) {
	t.Setenv("WHMCS_SECRET_FOR_TEST", "from-env")
	h := &Handler{APIURL: "https://b.example.com/includes/api.php", APIIdentifier: "i",
		APISecret: "{env.WHMCS_SECRET_FOR_TEST}", Plans: []PlanMapping{{1, "Basico"}}}
	if err := h.resolve(); err != nil {
		t.Fatal(err)
	}
	if h.APISecret != "from-env" {
		t.Fatalf("api_secret = %q", h.APISecret)
	}
	withClient := &Handler{APIURL: "https://b.example.com/includes/api.php", Plans: []PlanMapping{{1, "Basico"}},
		Clients: []OIDCClient{{ID: "app", Secret: "{env.WHMCS_SECRET_FOR_TEST}", RedirectURIs: []string{"https://app.example.com/cb"}}}}
	if err := withClient.resolve(); err != nil || withClient.Clients[0].Secret != "from-env" {
		t.Fatalf("client secret = %q (%v), want it expanded", withClient.Clients[0].Secret, err)
	}
	literal := &Handler{APIURL: "https://b.example.com/includes/api.php", APIIdentifier: "i",
		APISecret: "ab{x}cd", Plans: []PlanMapping{{1, "Basico"}}}
	if err := literal.resolve(); err != nil || literal.APISecret != "ab{x}cd" {
		t.Fatalf("a secret holding braces was altered: %q %v", literal.APISecret, err)
	}
}

// The shipped production Caddyfile must adapt, with whmcs_auth ordered
// before the proxying handlers and no secret in the output.
func TestRootCaddyfileAdapts(t *testing.T) {
	data, err := os.ReadFile("../Caddyfile")
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("WHMCS_API_SECRET", "must-not-appear")
	out, warnings, err := caddyconfig.GetAdapter("caddyfile").Adapt(data, map[string]any{"filename": "Caddyfile"})
	if err != nil {
		t.Fatalf("caddy adapt: %v", err)
	}
	for _, w := range warnings {
		t.Errorf("adapt warning: %s", w.String())
	}
	s := string(out)
	if strings.Contains(s, "must-not-appear") {
		t.Fatal("adapt output contains a secret from the environment")
	}
	iAuth := strings.Index(s, `"handler":"whmcs_auth"`)
	iProxy := strings.Index(s, `"handler":"reverse_proxy"`)
	if iAuth < 0 || iProxy < 0 || iAuth > iProxy {
		t.Fatalf("whmcs_auth must come before reverse_proxy in the adapted config:\n%s", s)
	}
	for _, want := range []string{`"plans":[{"name":"Basico","product_id":1},{"name":"Premium","product_id":2}]`, `"ticket_sync":true`, `"/backend/plans/listpublic"`} {
		if !strings.Contains(s, want) {
			t.Errorf("adapted config lacks %s", want)
		}
	}
}
