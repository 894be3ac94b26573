package caddymodule

import (
	"github.com/caddyserver/caddy/v2"
)

// Handler is the `whmcs_auth` HTTP handler: it signs RC-CHAT users in
// against WHMCS, keeps their sessions, injects the identity headers RC-CHAT
// trusts, receives WHMCS events and serves the OIDC-style token endpoints.
//
// Every field may be left empty where a default or an environment variable
// is named; secrets are best given through the environment so that
// `caddy adapt` never prints them.
type Handler struct {
	// APIURL is WHMCS's `includes/api.php` URL. Default: env WHMCS_API_URL.
	// Required one way or the other.
	APIURL string `json:"api_url,omitempty"`
	// APIIdentifier is the API credential identifier.
	// Default: env WHMCS_API_IDENTIFIER.
	APIIdentifier string `json:"api_identifier,omitempty"`
	// APISecret is the API credential secret. Default: env WHMCS_API_SECRET.
	APISecret string `json:"api_secret,omitempty"`
	// APIAccessKey is the optional `accesskey` that lets the API bypass
	// WHMCS's IP allow-list. Default: env WHMCS_API_ACCESS_KEY.
	APIAccessKey string `json:"api_access_key,omitempty"`
	// PanelURL prefixes WHMCS admin ticket links
	// (for example `https://billing.example.com/admin/supporttickets.php?action=viewticket&id=`).
	// Default: env WHMCS_PANEL_URL.
	PanelURL string `json:"panel_url,omitempty"`
	// ClientAreaURL is linked from the "suspended" page.
	// Default: api_url without `includes/api.php`.
	ClientAreaURL string `json:"client_area_url,omitempty"`
	// State is the bbolt file holding every record of the module.
	// Default: `<caddy data dir>/whmcs_auth/state.db`.
	State string `json:"state,omitempty"`
	// Issuer is the token issuer URL. Default: `https://<request host>`.
	Issuer string `json:"issuer,omitempty"`
	// Plans maps WHMCS product ids (`pid`) to RC-CHAT plan names. At least
	// one is required: only services of mapped products may sign in.
	Plans []PlanMapping `json:"plans,omitempty"`
	// WebhookSecret is the HMAC-SHA256 key of signed WHMCS events.
	// Default: env WHMCS_WEBHOOK_SECRET.
	WebhookSecret string `json:"webhook_secret,omitempty"`
	// WebhookToken is the legacy shared token of RC-CHAT's own webhook
	// (`X-Whmcs-Webhook-Token` or `?token=`). Default: env WHMCS_WEBHOOK_TOKEN.
	WebhookToken string `json:"webhook_token,omitempty"`
	// ServiceToken is the bearer token RC-CHAT's backend presents on
	// `/sso/api/*`. Default: env RCCHAT_SERVICE_TOKEN.
	ServiceToken string `json:"service_token,omitempty"`
	// TicketSync enables the RC-CHAT → WHMCS ticket sync
	// ("Conectar ticket com WHMCS"). Default: off.
	TicketSync bool `json:"ticket_sync,omitempty"`
	// TicketDepartment is the WHMCS `deptid` of opened tickets. Default: 1.
	TicketDepartment int64 `json:"ticket_department,omitempty"`
	// CreateClients lets ticket sync AddClient a contact that is not yet a
	// WHMCS client. Default: off (the ticket is opened as a guest).
	CreateClients bool `json:"create_clients,omitempty"`
	// SessionTTL is the lifetime of a session. Default: 12h.
	SessionTTL caddy.Duration `json:"session_ttl,omitempty"`
	// Public lists paths served without a session: exact paths, or
	// prefixes written `/x/*`. Matching is case-sensitive and done on the
	// decoded, cleaned path.
	Public []string `json:"public,omitempty"`
	// LoginPath is RC-CHAT's SPA login endpoint, intercepted so that WHMCS
	// credentials work in RC-CHAT's own login form. "off" disables it.
	// Default: `/backend/auth/login`.
	LoginPath string `json:"login_path,omitempty"`
	// SSOUpstreamPath is where an intercepted WHMCS login is forwarded,
	// with the identity headers, for RC-CHAT to mint its own token.
	// Default: `/backend/auth/sso`.
	SSOUpstreamPath string `json:"sso_upstream_path,omitempty"`
	// Clients are the OIDC relying parties allowed to use `/sso/authorize`.
	Clients []OIDCClient `json:"clients,omitempty"`
	// Lockout bounds failed logins. Default: 5 failures of one e-mail (or
	// 20 from one client IP) within 10m → refused for 15m.
	Lockout *LockoutPolicy `json:"lockout,omitempty"`
	// ReconcileInterval is the period of the sweep that compares every
	// company against WHMCS. Default: 15m.
	ReconcileInterval caddy.Duration `json:"reconcile_interval,omitempty"`
	// KeyRotation is how long an ES256 signing key signs before a new one
	// replaces it. Default: 720h (30 days).
	KeyRotation caddy.Duration `json:"key_rotation,omitempty"`

	runtime *runtime
}

// PlanMapping maps one WHMCS product to one RC-CHAT plan.
type PlanMapping struct {
	// ProductID is the WHMCS product id (`pid`).
	ProductID int64 `json:"product_id"`
	// Name is the RC-CHAT plan name.
	Name string `json:"name"`
}

// OIDCClient is a registered relying party.
type OIDCClient struct {
	// ID is the `client_id`.
	ID string `json:"id"`
	// Secret is the client secret; empty for a public client, which must
	// then use PKCE.
	Secret string `json:"secret,omitempty"`
	// RedirectURIs are matched exactly.
	RedirectURIs []string `json:"redirect_uris"`
}

// LockoutPolicy bounds failed logins.
type LockoutPolicy struct {
	// MaxFailures of one e-mail within Window trigger a ban.
	MaxFailures int `json:"max_failures"`
	// Window is the period over which failures are counted.
	Window caddy.Duration `json:"window"`
	// Ban is how long a locked-out e-mail or IP is refused.
	Ban caddy.Duration `json:"ban"`
	// IPMaxFailures of one client IP within Window trigger a ban of that
	// IP. Default: 4 × MaxFailures.
	IPMaxFailures int `json:"ip_max_failures,omitempty"`
}
