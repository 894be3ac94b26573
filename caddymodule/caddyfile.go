package caddymodule

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

func init() {
	httpcaddyfile.RegisterHandlerDirective("whmcs_auth", parseCaddyfile)
	// Authentication must run before anything that serves content; next to
	// basic_auth is where Caddy's own auth sits.
	httpcaddyfile.RegisterDirectiveOrder("whmcs_auth", httpcaddyfile.Before, "basic_auth")
}

func parseCaddyfile(h httpcaddyfile.Helper) (caddyhttp.MiddlewareHandler, error) {
	m := new(Handler)
	err := m.UnmarshalCaddyfile(h.Dispenser)
	return m, err
}

// UnmarshalCaddyfile sets up the handler from Caddyfile tokens. Syntax:
//
//	whmcs_auth {
//		api_url            <url>
//		api_identifier     <id>
//		api_secret         <secret>
//		api_access_key     <key>
//		panel_url          <url>
//		client_area_url    <url>
//		state              <path>
//		issuer             <url>
//		plan               <pid> <name>
//		webhook_secret     <secret>
//		webhook_token      <token>
//		service_token      <token>
//		ticket_sync        on|off
//		ticket_department  <id>
//		create_clients     on|off
//		session_ttl        <duration>
//		public             <path...>
//		login_path         <path>|off
//		sso_upstream_path  <path>
//		client             <id> <secret|-> <redirect_uri...>
//		lockout            <max> <window> <ban> [<ip_max>]
//		reconcile_interval <duration>
//		key_rotation       <duration>
//	}
//
// Every subdirective is optional except at least one `plan`; see Handler
// for defaults. Values are taken as written: `{$ENV}` is expanded by the
// Caddyfile adapter, `{env.X}` when the handler is provisioned.
func (h *Handler) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // the directive name
	if d.NextArg() {
		return d.ArgErr()
	}
	for d.NextBlock(0) {
		sub := d.Val()
		args := d.RemainingArgs()
		var err error
		switch sub {
		case "api_url":
			err = oneArg(d, sub, args, &h.APIURL)
		case "api_identifier":
			err = oneArg(d, sub, args, &h.APIIdentifier)
		case "api_secret":
			err = oneArg(d, sub, args, &h.APISecret)
		case "api_access_key":
			err = oneArg(d, sub, args, &h.APIAccessKey)
		case "panel_url":
			err = oneArg(d, sub, args, &h.PanelURL)
		case "client_area_url":
			err = oneArg(d, sub, args, &h.ClientAreaURL)
		case "state":
			err = oneArg(d, sub, args, &h.State)
		case "issuer":
			err = oneArg(d, sub, args, &h.Issuer)
		case "webhook_secret":
			err = oneArg(d, sub, args, &h.WebhookSecret)
		case "webhook_token":
			err = oneArg(d, sub, args, &h.WebhookToken)
		case "service_token":
			err = oneArg(d, sub, args, &h.ServiceToken)
		case "sso_upstream_path":
			err = oneArg(d, sub, args, &h.SSOUpstreamPath)
		case "login_path":
			err = oneArg(d, sub, args, &h.LoginPath)
		case "plan":
			err = h.parsePlan(d, args)
		case "ticket_sync":
			err = onOff(d, sub, args, &h.TicketSync)
		case "create_clients":
			err = onOff(d, sub, args, &h.CreateClients)
		case "ticket_department":
			err = positiveInt(d, sub, args, &h.TicketDepartment)
		case "session_ttl":
			err = duration(d, sub, args, &h.SessionTTL)
		case "reconcile_interval":
			err = duration(d, sub, args, &h.ReconcileInterval)
		case "key_rotation":
			err = duration(d, sub, args, &h.KeyRotation)
		case "public":
			if len(args) == 0 {
				return d.Errf("public: at least one path is required")
			}
			h.Public = append(h.Public, args...)
		case "client":
			err = h.parseClient(d, args)
		case "lockout":
			err = h.parseLockout(d, args)
		default:
			return d.Errf("unknown subdirective %q", sub)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func oneArg(d *caddyfile.Dispenser, sub string, args []string, dst *string) error {
	if len(args) != 1 {
		return d.Errf("%s: expected exactly one value, got %d", sub, len(args))
	}
	*dst = args[0]
	return nil
}

func onOff(d *caddyfile.Dispenser, sub string, args []string, dst *bool) error {
	if len(args) != 1 {
		return d.Errf("%s: expected on or off", sub)
	}
	switch args[0] {
	case "on":
		*dst = true
	case "off":
		*dst = false
	default:
		return d.Errf("%s: expected on or off, got %q", sub, args[0])
	}
	return nil
}

func positiveInt(d *caddyfile.Dispenser, sub string, args []string, dst *int64) error {
	if len(args) != 1 {
		return d.Errf("%s: expected exactly one number", sub)
	}
	n, err := strconv.ParseInt(args[0], 10, 64)
	if err != nil || n <= 0 {
		return d.Errf("%s: expected a positive integer, got %q", sub, args[0])
	}
	*dst = n
	return nil
}

func duration(d *caddyfile.Dispenser, sub string, args []string, dst *caddy.Duration) error {
	if len(args) != 1 {
		return d.Errf("%s: expected exactly one duration", sub)
	}
	v, err := parsePositiveDuration(args[0])
	if err != nil {
		return d.Errf("%s: %v", sub, err)
	}
	*dst = v
	return nil
}

func parsePositiveDuration(s string) (caddy.Duration, error) {
	v, err := caddy.ParseDuration(s)
	if err != nil || v <= 0 {
		return 0, fmt.Errorf("expected a positive duration such as 15m or 12h, got %q", s)
	}
	return caddy.Duration(v), nil
}

func (h *Handler) parsePlan(d *caddyfile.Dispenser, args []string) error {
	if len(args) != 2 {
		return d.Errf("plan: expected a WHMCS product id and a plan name, e.g. `plan 1 Basico`")
	}
	pid, err := strconv.ParseInt(args[0], 10, 64)
	if err != nil || pid <= 0 {
		return d.Errf("plan: product id must be a positive integer, got %q", args[0])
	}
	for _, p := range h.Plans {
		if p.ProductID == pid {
			return d.Errf("plan: product id %d is mapped twice", pid)
		}
	}
	h.Plans = append(h.Plans, PlanMapping{ProductID: pid, Name: args[1]})
	return nil
}

func (h *Handler) parseClient(d *caddyfile.Dispenser, args []string) error {
	if len(args) < 3 {
		return d.Errf("client: expected a client id, a secret (or - for a public client) and at least one redirect URI")
	}
	c := OIDCClient{ID: args[0], RedirectURIs: args[2:]}
	if args[1] != "-" {
		c.Secret = args[1]
	}
	h.Clients = append(h.Clients, c)
	return nil
}

func (h *Handler) parseLockout(d *caddyfile.Dispenser, args []string) error {
	if len(args) != 3 && len(args) != 4 {
		return d.Errf("lockout: expected MAX WINDOW BAN [IP_MAX], e.g. `lockout 5 10m 15m`")
	}
	maxFailures, err := strconv.Atoi(args[0])
	if err != nil || maxFailures <= 0 {
		return d.Errf("lockout: MAX must be a positive integer, got %q", args[0])
	}
	window, err := parsePositiveDuration(args[1])
	if err != nil {
		return d.Errf("lockout: WINDOW: %v", err)
	}
	ban, err := parsePositiveDuration(args[2])
	if err != nil {
		return d.Errf("lockout: BAN: %v", err)
	}
	p := &LockoutPolicy{MaxFailures: maxFailures, Window: window, Ban: ban}
	if len(args) == 4 {
		ipMax, err := strconv.Atoi(args[3])
		if err != nil || ipMax <= 0 {
			return d.Errf("lockout: IP_MAX must be a positive integer, got %q", args[3])
		}
		p.IPMaxFailures = ipMax
	}
	h.Lockout = p
	return nil
}

// isOff reports whether a path-valued setting is switched off.
func isOff(v string) bool { return strings.EqualFold(v, "off") }
