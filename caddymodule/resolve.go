package caddymodule

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/rcchat/caddy-whmcs-auth/gate"
)

// Defaults of SPEC section 3.
const (
	defaultSessionTTL        = 12 * time.Hour
	defaultReconcileInterval = 15 * time.Minute
	defaultKeyRotation       = 30 * 24 * time.Hour
	minKeyRotation           = time.Hour
	minReconcileInterval     = time.Minute
	defaultLoginPath         = "/backend/auth/login"
	defaultSSOUpstreamPath   = "/backend/auth/sso"
	defaultTicketDepartment  = 1
)

// envDefaults names the environment variable behind each setting.
func (h *Handler) envDefaults() []struct {
	field *string
	env   string
} {
	return []struct {
		field *string
		env   string
	}{
		{&h.APIURL, "WHMCS_API_URL"},
		{&h.APIIdentifier, "WHMCS_API_IDENTIFIER"},
		{&h.APISecret, "WHMCS_API_SECRET"},
		{&h.APIAccessKey, "WHMCS_API_ACCESS_KEY"},
		{&h.PanelURL, "WHMCS_PANEL_URL"},
		{&h.WebhookSecret, "WHMCS_WEBHOOK_SECRET"},
		{&h.WebhookToken, "WHMCS_WEBHOOK_TOKEN"},
		{&h.ServiceToken, "RCCHAT_SERVICE_TOKEN"},
	}
}

// resolve fills environment defaults, expands `{env.X}` placeholders and
// applies defaults.
func (h *Handler) resolve() error {
	repl := caddy.NewReplacer()
	for _, d := range h.envDefaults() {
		if *d.field == "" {
			*d.field = os.Getenv(d.env)
		}
		*d.field = strings.TrimSpace(expandWhole(repl, *d.field))
	}
	for _, p := range []*string{&h.ClientAreaURL, &h.State, &h.Issuer, &h.LoginPath, &h.SSOUpstreamPath} {
		*p = expandWhole(repl, *p)
	}
	for i := range h.Clients {
		h.Clients[i].Secret = expandWhole(repl, h.Clients[i].Secret)
	}
	if h.ClientAreaURL == "" && h.APIURL != "" {
		h.ClientAreaURL = strings.TrimSuffix(h.APIURL, "includes/api.php")
	}
	if h.State == "" {
		h.State = filepath.Join(caddy.AppDataDir(), "whmcs_auth", "state.db")
	}
	if h.SessionTTL == 0 {
		h.SessionTTL = caddy.Duration(defaultSessionTTL)
	}
	if h.ReconcileInterval == 0 {
		h.ReconcileInterval = caddy.Duration(defaultReconcileInterval)
	}
	if h.KeyRotation == 0 {
		h.KeyRotation = caddy.Duration(defaultKeyRotation)
	}
	if h.LoginPath == "" {
		h.LoginPath = defaultLoginPath
	}
	if h.SSOUpstreamPath == "" {
		h.SSOUpstreamPath = defaultSSOUpstreamPath
	}
	if h.TicketDepartment == 0 {
		h.TicketDepartment = defaultTicketDepartment
	}
	return h.validate()
}

// validate checks the configuration; each message names the subdirective.
func (h *Handler) validate() error {
	if h.APIURL == "" {
		return fmt.Errorf("whmcs_auth: api_url: required (set api_url or the WHMCS_API_URL environment variable)")
	}
	if err := checkURL(h.APIURL); err != nil {
		return fmt.Errorf("whmcs_auth: api_url: %v", err)
	}
	for name, v := range map[string]string{"panel_url": h.PanelURL, "client_area_url": h.ClientAreaURL, "issuer": h.Issuer} {
		if v == "" {
			continue
		}
		if err := checkURL(v); err != nil {
			return fmt.Errorf("whmcs_auth: %s: %v", name, err)
		}
	}
	if len(h.Plans) == 0 {
		return fmt.Errorf("whmcs_auth: plan: at least one `plan PID NAME` is required")
	}
	seen := map[int64]bool{}
	for _, p := range h.Plans {
		if p.ProductID <= 0 || strings.TrimSpace(p.Name) == "" {
			return fmt.Errorf("whmcs_auth: plan: product id must be positive and the name non-empty (got %d %q)", p.ProductID, p.Name)
		}
		if seen[p.ProductID] {
			return fmt.Errorf("whmcs_auth: plan: product id %d is mapped twice", p.ProductID)
		}
		seen[p.ProductID] = true
	}
	if _, err := gate.NewPublicPaths(h.Public); err != nil {
		return fmt.Errorf("whmcs_auth: public: %v", err)
	}
	if !isOff(h.LoginPath) && !strings.HasPrefix(h.LoginPath, "/") {
		return fmt.Errorf("whmcs_auth: login_path: must be a path starting with / or off, got %q", h.LoginPath)
	}
	if !strings.HasPrefix(h.SSOUpstreamPath, "/") {
		return fmt.Errorf("whmcs_auth: sso_upstream_path: must be a path starting with /, got %q", h.SSOUpstreamPath)
	}
	if err := h.validateClients(); err != nil {
		return err
	}
	if l := h.Lockout; l != nil && (l.MaxFailures <= 0 || l.Window <= 0 || l.Ban <= 0 || l.IPMaxFailures < 0) {
		return fmt.Errorf("whmcs_auth: lockout: MAX, WINDOW and BAN must be positive")
	}
	if h.SessionTTL < 0 || h.ReconcileInterval < 0 || h.KeyRotation < 0 {
		return fmt.Errorf("whmcs_auth: session_ttl/reconcile_interval/key_rotation: durations must be positive")
	}
	// Floors against a typo that would turn the sweep into a stream of
	// WHMCS calls, or the signing key into one per request (each retired
	// key stays in the JWKS for as long as its tokens live).
	if d := time.Duration(h.ReconcileInterval); d < minReconcileInterval {
		return fmt.Errorf("whmcs_auth: reconcile_interval: at least %v, got %v", minReconcileInterval, d)
	}
	if d := time.Duration(h.KeyRotation); d < minKeyRotation {
		return fmt.Errorf("whmcs_auth: key_rotation: at least %v, got %v", minKeyRotation, d)
	}
	return nil
}

func (h *Handler) validateClients() error {
	ids := map[string]bool{}
	for _, c := range h.Clients {
		if c.ID == "" || len(c.RedirectURIs) == 0 {
			return fmt.Errorf("whmcs_auth: client: an id and at least one redirect URI are required")
		}
		if ids[c.ID] {
			return fmt.Errorf("whmcs_auth: client: %q is declared twice", c.ID)
		}
		ids[c.ID] = true
		for _, u := range c.RedirectURIs {
			if err := checkURL(u); err != nil {
				return fmt.Errorf("whmcs_auth: client %s: redirect URI: %v", c.ID, err)
			}
		}
	}
	return nil
}

func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("expected an absolute http(s) URL, got %q", s)
	}
	return nil
}

// expandWhole expands a value that is one placeholder such as
// `{env.WHMCS_API_SECRET}`; anything else is taken literally, so a secret
// that happens to contain braces is never altered.
func expandWhole(repl *caddy.Replacer, v string) string {
	if strings.HasPrefix(v, "{") && strings.HasSuffix(v, "}") && strings.Count(v, "{") == 1 {
		return repl.ReplaceAll(v, "")
	}
	return v
}
