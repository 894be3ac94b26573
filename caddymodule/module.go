// Package caddymodule is the Caddy glue of the WHMCS auth sidecar: the
// `http.handlers.whmcs_auth` module, its Caddyfile directive and its
// lifecycle. The behaviour lives in the domain packages it wires together.
package caddymodule

import (
	"context"
	"net"
	"net/http"
	"strconv"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"

	"github.com/rcchat/caddy-whmcs-auth/edge"
	"github.com/rcchat/caddy-whmcs-auth/gate"
)

func init() {
	caddy.RegisterModule(Handler{})
}

// CaddyModule returns the Caddy module information.
func (Handler) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.whmcs_auth",
		New: func() caddy.Module { return new(Handler) },
	}
}

// runtime is what Provision builds; it is released by Cleanup.
type runtime struct {
	logger   *zap.Logger
	state    *stateFile
	stateKey string
	edge     *edge.Edge
	cancel   context.CancelFunc
}

// Provision resolves the configuration, opens the shared state file and
// builds the pipeline. It makes no network call, since `caddy validate`
// runs it too.
func (h *Handler) Provision(ctx caddy.Context) error {
	h.runtime = &runtime{logger: ctx.Logger()}
	if err := h.resolve(); err != nil {
		return err
	}
	return h.build(ctx)
}

// Validate checks the resolved configuration.
func (h *Handler) Validate() error {
	return h.validate()
}

// Cleanup stops the background work and releases the state file. It copes
// with a Provision that failed half-way.
func (h *Handler) Cleanup() error {
	rt := h.runtime
	if rt == nil {
		return nil
	}
	if rt.cancel != nil {
		rt.cancel()
	}
	if rt.stateKey != "" {
		_, err := stateFiles.Delete(rt.stateKey)
		rt.stateKey = ""
		return err
	}
	return nil
}

// ServeHTTP runs the pipeline; next is the rest of the route (RC-CHAT).
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	return h.runtime.edge.ServeHTTP(w, r, next.ServeHTTP)
}

// publishIdentity sets the placeholders of SPEC 5.4; Caddy's access log
// reads `http.auth.user.id` as the user of the request.
func publishIdentity(r *http.Request, id gate.Identity) {
	repl, ok := r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer)
	if !ok {
		return
	}
	repl.Set("http.auth.user.id", id.UserID)
	repl.Set("http.auth.user.email", id.Email)
	repl.Set("http.auth.user.company_id", strconv.FormatInt(id.CompanyID, 10))
	repl.Set("http.auth.user.plan", id.Plan)
}

// clientIP is Caddy's judgement of the client address, which honours the
// server's trusted_proxies.
func clientIP(r *http.Request) string {
	if ip, ok := caddyhttp.GetVar(r.Context(), caddyhttp.ClientIPVarKey).(string); ok && ip != "" {
		return ip
	}
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

// Interface guards.
var (
	_ caddy.Provisioner           = (*Handler)(nil)
	_ caddy.Validator             = (*Handler)(nil)
	_ caddy.CleanerUpper          = (*Handler)(nil)
	_ caddyhttp.MiddlewareHandler = (*Handler)(nil)
	_ caddyfile.Unmarshaler       = (*Handler)(nil)
)
