package caddymodule

import (
	"context"
	"fmt"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/rcchat/caddy-whmcs-auth/edge"
	"github.com/rcchat/caddy-whmcs-auth/gate"
	"github.com/rcchat/caddy-whmcs-auth/lockout"
	"github.com/rcchat/caddy-whmcs-auth/outbox"
	"github.com/rcchat/caddy-whmcs-auth/session"
	"github.com/rcchat/caddy-whmcs-auth/tickets"
	"github.com/rcchat/caddy-whmcs-auth/tokens"
	"github.com/rcchat/caddy-whmcs-auth/webhooks"
	"github.com/rcchat/caddy-whmcs-auth/whmcsauth"
)

// failureFloor is the least time a refused login takes.
const failureFloor = 250 * time.Millisecond

// build opens the state file and wires the domain packages.
func (h *Handler) build(ctx caddy.Context) error {
	rt := h.runtime
	switch {
	case h.APIIdentifier != "" && h.APISecret == "":
		return fmt.Errorf("whmcs_auth: api_secret: required with api_identifier (or WHMCS_API_SECRET)")
	case h.APIIdentifier == "" && h.APISecret != "":
		return fmt.Errorf("whmcs_auth: api_identifier: required with api_secret (or WHMCS_API_IDENTIFIER)")
	case h.APIIdentifier == "":
		rt.logger.Warn("api_identifier and api_secret are not set (nor WHMCS_API_IDENTIFIER and WHMCS_API_SECRET): " +
			"WHMCS is never called, so WHMCS logins answer 503 and webhook confirmations wait until they are")
	}
	m := sharedMetrics()
	if err := registerMetrics(ctx, m); err != nil {
		return fmt.Errorf("whmcs_auth: metrics: %v", err)
	}
	reach := newReachability()
	api, err := whmcsauth.NewClient(whmcsauth.Config{
		URL:        h.APIURL,
		Identifier: h.APIIdentifier,
		Secret:     whmcsauth.Secret(h.APISecret),
		AccessKey:  whmcsauth.Secret(h.APIAccessKey),
		Observer: func(action, outcome string, took time.Duration) {
			m.observeWHMCS(action, outcome, took)
			reach.observe(outcome)
		},
	})
	if err != nil {
		return fmt.Errorf("whmcs_auth: api_url: %v", err)
	}
	public, err := gate.NewPublicPaths(h.Public)
	if err != nil {
		return fmt.Errorf("whmcs_auth: public: %v", err)
	}

	sf, key, err := openStateFile(h.State)
	if err != nil {
		return fmt.Errorf("whmcs_auth: state: %v", err)
	}
	rt.state, rt.stateKey = sf, key

	bg, cancel := context.WithCancel(ctx)
	rt.cancel = cancel

	sessions := session.NewManager(sf, time.Duration(h.SessionTTL))
	guard := lockout.NewGuard(sf, h.lockoutPolicy())
	provider, err := tokens.New(bg, tokens.Config{
		Store:       sf,
		Sessions:    sessions,
		Clients:     h.tokenClients(),
		Issuer:      h.Issuer,
		RefreshTTL:  time.Duration(h.SessionTTL),
		KeyRotation: time.Duration(h.KeyRotation),
		Logger:      rt.logger.Named("tokens"),
	})
	if err != nil {
		return fmt.Errorf("whmcs_auth: signing keys: %v", err)
	}

	plans := h.plans()
	provisioner := &whmcsauth.Provisioner{Store: sf}
	jobs := outbox.New(sf, rt.logger.Named("outbox"))
	jobs.Observer = m.observeJob
	receiver, err := webhooks.New(webhooks.Config{
		Store:       sf,
		WHMCS:       api,
		Plans:       plans,
		Provisioner: provisioner,
		Outbox:      jobs,
		Secret:      h.WebhookSecret,
		LegacyToken: h.WebhookToken,
		Logger:      rt.logger.Named("webhooks"),
		Metrics:     m.webhooks,
	})
	if err != nil {
		return fmt.Errorf("whmcs_auth: webhooks: %v", err)
	}
	serviceAPI, err := tickets.New(tickets.Config{
		Store:             sf,
		WHMCS:             api,
		Outbox:            jobs,
		ServiceToken:      h.ServiceToken,
		TicketSync:        h.TicketSync,
		CreateClients:     h.CreateClients,
		DefaultDepartment: h.TicketDepartment,
		PanelURL:          h.PanelURL,
		Logger:            rt.logger.Named("tickets"),
	})
	if err != nil {
		return fmt.Errorf("whmcs_auth: ticket_sync: %v", err)
	}
	serviceAPI.Register(jobs)
	reconciler := &webhooks.Reconciler{Store: sf, WHMCS: api, Plans: plans,
		Logger: rt.logger.Named("reconcile"), Metrics: m.webhooks}

	loginPath := h.LoginPath
	if isOff(loginPath) {
		loginPath = ""
	}
	rt.edge = edge.New(edge.Config{
		Store:           sf,
		Login:           &whmcsauth.PasswordLogin{API: api, Plans: plans},
		Provisioner:     provisioner,
		Sessions:        sessions,
		Lockout:         guard,
		Tokens:          provider,
		Public:          public,
		LoginPath:       loginPath,
		SSOUpstreamPath: h.SSOUpstreamPath,
		ClientAreaURL:   h.ClientAreaURL,
		Webhooks:        receiver,
		ServiceAPI:      serviceAPI,
		Health:          healthReport(jobs, reach),
		OnIdentity:      publishIdentity,
		ClientIP:        clientIP,
		FailureFloor:    failureFloor,
		Logger:          rt.logger,
		Metrics:         m.edge,
	})

	go provider.Run(bg)
	go jobs.Run(bg, &sf.outboxLease)
	go reconciler.Run(bg, time.Duration(h.ReconcileInterval), &sf.reconcileLease)
	go h.runBackground(bg, sf, sessions, guard)
	return nil
}

// runBackground runs the periodic maintenance of the state file. Only one
// config instance per file does it at a time.
func (h *Handler) runBackground(ctx context.Context, sf *stateFile, sessions *session.Manager, guard *lockout.Guard) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if !sf.maintenanceLease.TryLock() {
			continue
		}
		maintain(ctx, sf, sessions, guard, time.Now(), h.runtime.logger)
		sf.maintenanceLease.Unlock()
	}
}

func (h *Handler) plans() whmcsauth.Plans {
	p := make(whmcsauth.Plans, len(h.Plans))
	for _, m := range h.Plans {
		p[m.ProductID] = m.Name
	}
	return p
}

func (h *Handler) tokenClients() []tokens.Client {
	out := make([]tokens.Client, 0, len(h.Clients))
	for _, c := range h.Clients {
		out = append(out, tokens.Client{ID: c.ID, Secret: c.Secret, RedirectURIs: c.RedirectURIs})
	}
	return out
}

func (h *Handler) lockoutPolicy() lockout.Policy {
	l := h.Lockout
	if l == nil {
		return lockout.DefaultPolicy
	}
	return lockout.Policy{MaxFailures: l.MaxFailures, IPMaxFailures: l.IPMaxFailures,
		Window: time.Duration(l.Window), Ban: time.Duration(l.Ban)}
}

// healthReport adds the outbox depth and WHMCS reachability to /sso/healthz.
func healthReport(jobs *outbox.Outbox, reach *reachability) func(ctx context.Context) map[string]any {
	return func(ctx context.Context) map[string]any {
		out := reach.report()
		if d, err := jobs.Depth(ctx); err == nil {
			out["outbox"] = d
		}
		return out
	}
}
