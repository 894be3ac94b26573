// Package tickets serves RC-CHAT's backend API under /sso/api/ (SPEC
// section 8): ticket sync from RC-CHAT to WHMCS (open, close with the
// transcript through the durable outbox, the {{protocolo}} variable), the
// companies' access state, and a view of the outbox with the retry of its
// failed (parked) jobs.
//
// Every request needs `Authorization: Bearer <service_token>`. The handler
// never imports Caddy: the caddymodule package mounts it, so it can be
// tested with plain net/http.
package tickets

import (
	"context"
	"crypto/sha256"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/rcchat/caddy-whmcs-auth/outbox"
	"github.com/rcchat/caddy-whmcs-auth/store"
	"github.com/rcchat/caddy-whmcs-auth/whmcsauth"
)

// API is the part of the WHMCS client (*whmcsauth.Client) this package
// calls. It is an interface so tests can count or fail calls without a
// server, although the package's own tests use the simulator over HTTP.
type API interface {
	FindClientByEmail(ctx context.Context, email string) (whmcsauth.ClientDetails, error)
	AddClient(ctx context.Context, req whmcsauth.AddClientRequest) (int64, error)
	OpenTicket(ctx context.Context, req whmcsauth.OpenTicketRequest) (whmcsauth.OpenedTicket, error)
	AddTicketReply(ctx context.Context, req whmcsauth.AddTicketReplyRequest) error
	UpdateTicketStatus(ctx context.Context, ticketID int64, status string) error
	GetTicket(ctx context.Context, ticketID int64) (whmcsauth.Ticket, error)
	UpdateClientStatus(ctx context.Context, clientID int64, status string) error
}

var _ API = (*whmcsauth.Client)(nil)

// DefaultDepartment is the WHMCS deptid used when Config.DefaultDepartment
// is zero (the Caddyfile default of ticket_department).
const DefaultDepartment = 1

// DefaultClientCountry is the country given to clients created by AddClient
// when Config.ClientCountry is empty: RC-CHAT is a Brazilian product, and
// WHMCS insists on some ISO country.
const DefaultClientCountry = "BR"

// Config configures a Service.
type Config struct {
	// Store holds ticket links, companies and outbox jobs (required).
	Store store.Store
	// WHMCS is the API client; required when TicketSync is on or a
	// companies status change asks for sync_whmcs.
	WHMCS API
	// Outbox is woken after a job is queued (or re-queued through
	// /sso/api/outbox/.../retry) so it runs without waiting for the poll;
	// nil only delays the job until the next poll of whichever outbox runs
	// the store's jobs.
	Outbox *outbox.Outbox
	// ServiceToken is the bearer token of RC-CHAT's backend. Empty refuses
	// every request rather than leaving the API open.
	ServiceToken string
	// TicketSync enables opening and closing WHMCS tickets ("ticket_sync").
	TicketSync bool
	// CreateClients lets an open create the WHMCS client of an unknown
	// contact ("create_clients"); otherwise it opens a guest ticket.
	CreateClients bool
	// DefaultDepartment is the WHMCS deptid when a request names none;
	// zero means DefaultDepartment.
	DefaultDepartment int64
	// PanelURL is the admin ticket link prefix (…viewticket&id=); the
	// WHMCS ticket id is appended. Empty gives empty panel links.
	PanelURL string
	// ClientCountry is the ISO country of clients created by AddClient;
	// empty means DefaultClientCountry.
	ClientCountry string
	// Location is the time zone of transcript timestamps; nil means UTC.
	Location *time.Location
	// Logger receives operational logs; nil discards them.
	Logger *zap.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Service is the /sso/api/ handler. It is safe for concurrent use.
type Service struct {
	store         store.Store
	whmcs         API
	outbox        *outbox.Outbox
	tokenHash     [sha256.Size]byte
	hasToken      bool
	ticketSync    bool
	createClients bool
	department    int64
	panelURL      string
	country       string
	loc           *time.Location
	log           *zap.Logger
	now           func() time.Time

	mux   *http.ServeMux
	locks keyedMutex
}

// New checks cfg and returns a Service. Call Register on the outbox that
// runs the jobs before starting it.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil {
		return nil, errors.New("tickets: a store is required")
	}
	// A nil *whmcsauth.Client in the interface is not a nil interface; treat
	// it as "no WHMCS" instead of panicking on the first call.
	if c, ok := cfg.WHMCS.(*whmcsauth.Client); ok && c == nil {
		cfg.WHMCS = nil
	}
	if cfg.TicketSync && cfg.WHMCS == nil {
		return nil, errors.New("tickets: ticket_sync needs a WHMCS API client")
	}
	if cfg.DefaultDepartment < 0 {
		return nil, errors.New("tickets: ticket_department must be a positive WHMCS department id")
	}
	s := &Service{
		store:         cfg.Store,
		whmcs:         cfg.WHMCS,
		outbox:        cfg.Outbox,
		ticketSync:    cfg.TicketSync,
		createClients: cfg.CreateClients,
		department:    cfg.DefaultDepartment,
		panelURL:      strings.TrimSpace(cfg.PanelURL),
		country:       strings.ToUpper(strings.TrimSpace(cfg.ClientCountry)),
		loc:           cfg.Location,
		log:           cfg.Logger,
		now:           cfg.Now,
	}
	if s.department == 0 {
		s.department = DefaultDepartment
	}
	if s.country == "" {
		s.country = DefaultClientCountry
	}
	if len(s.country) != 2 {
		return nil, errors.New("tickets: the client country must be an ISO 3166-1 alpha-2 code")
	}
	if s.loc == nil {
		s.loc = time.UTC
	}
	if s.log == nil {
		s.log = zap.NewNop()
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.outbox == nil {
		// Retries still need the one implementation of a re-queue; this
		// outbox never runs, so its wake-up reaches nobody.
		s.outbox = outbox.New(s.store, s.log)
	}
	if cfg.ServiceToken != "" {
		s.tokenHash = sha256.Sum256([]byte(cfg.ServiceToken))
		s.hasToken = true
	}
	s.routes()
	return s, nil
}

// routes registers the endpoints. Patterns carry no method so that a wrong
// method gets this API's JSON 405 instead of ServeMux's plain-text one.
func (s *Service) routes() {
	m := http.NewServeMux()
	m.Handle("/sso/api/tickets", methods{http.MethodPost: s.handleOpen})
	m.Handle("/sso/api/tickets/{ticket_id}", methods{http.MethodGet: s.handleGetTicket})
	m.Handle("/sso/api/tickets/{ticket_id}/close", methods{http.MethodPost: s.handleClose})
	m.Handle("/sso/api/render", methods{http.MethodPost: s.handleRender})
	m.Handle("/sso/api/companies", methods{http.MethodGet: s.handleListCompanies})
	m.Handle("/sso/api/companies/{id}", methods{http.MethodGet: s.handleGetCompany})
	m.Handle("/sso/api/companies/{id}/status", methods{http.MethodPost: s.handleCompanyStatus})
	m.Handle("/sso/api/outbox", methods{http.MethodGet: s.handleOutbox})
	m.Handle("/sso/api/outbox/retry", methods{http.MethodPost: s.handleRetryAll})
	m.Handle("/sso/api/outbox/{id}/retry", methods{http.MethodPost: s.handleRetry})
	m.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", "")
	})
	s.mux = m
}

// ServeHTTP authenticates, bounds the body and routes. Authentication
// comes first, so an unauthenticated caller learns nothing about which
// paths exist.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Answers carry tickets and company states: never cache them.
	w.Header().Set("Cache-Control", "no-store")
	if r.URL.Path != "/sso/api" && !strings.HasPrefix(r.URL.Path, "/sso/api/") {
		writeError(w, http.StatusNotFound, "not_found", "")
		return
	}
	if !s.authorized(r) {
		w.Header().Set("WWW-Authenticate", "Bearer")
		writeError(w, http.StatusUnauthorized, "unauthorized", "")
		return
	}
	if r.Body != nil {
		r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
	}
	s.mux.ServeHTTP(w, r)
}

// Register installs the job handlers of this package (JobTicketClose and
// JobUpdateClient) on o. Call it before o.Run; the handlers use o.Step so
// that each WHMCS write of a job happens once.
func (s *Service) Register(o *outbox.Outbox) {
	o.Register(JobTicketClose, s.closeJob(o))
	o.Register(JobUpdateClient, s.updateClientJob(o))
}

// notify wakes the outbox after a commit that queued a job.
func (s *Service) notify() { s.outbox.Notify() }

// methods routes by HTTP method and answers 405 with an Allow header for
// the others. GET also serves HEAD, as net/http does for its own handlers.
type methods map[string]http.HandlerFunc

func (m methods) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	method := r.Method
	if method == http.MethodHead {
		method = http.MethodGet
	}
	if h, ok := m[method]; ok {
		h(w, r)
		return
	}
	allow := make([]string, 0, len(m)+1)
	for k := range m {
		allow = append(allow, k)
		if k == http.MethodGet {
			allow = append(allow, http.MethodHead)
		}
	}
	slices.Sort(allow)
	w.Header().Set("Allow", strings.Join(allow, ", "))
	writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", "")
}
