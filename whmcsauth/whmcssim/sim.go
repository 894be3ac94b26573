// Package whmcssim is a stateful test double of WHMCS's External API
// (includes/api.php) for tests (via httptest) and for the demo binary.
//
// It is not WHMCS. It follows the project's WHMCS fact sheet
// (shared/reference/whmcs-api.md): the answer shapes with their
// inconsistencies (ids as strings in GetClientsProducts, ints elsewhere,
// "products":"" when empty, no clients key when GetClients matches nothing,
// top-level duplicates in GetClientsDetails, HTML-escaped stored text), the
// exact error strings and HTTP statuses, case-insensitive action names, the
// XML/NVP default when responsetype is not json, and the IP ban after repeated
// authentication failures. Behaviour the fact sheet marks as unverified is
// reproduced as described there; where it is silent the simulator picks the
// stricter plausible behaviour and says so in a comment. Seeding, inspection
// and fault-injection methods let tests arrange and observe every case.
package whmcssim

import (
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Options configures a Sim.
type Options struct {
	// Identifier is the API credential identifier the Sim accepts.
	Identifier string
	// Secret is the API credential secret the Sim accepts.
	Secret string
	// AccessKey, when set, is required ($api_access_key): a request must send
	// it unless its IP is in AllowedIPs; a wrong key is always refused.
	AccessKey string
	// AllowedIPs is the API IP allow-list; empty means no restriction
	// (unless AccessKey is set).
	AllowedIPs []string
	// BanAfter is how many failed authentications from one IP trigger the
	// ban ("IP Banned" for every later call); 0 means 3, negative disables.
	BanAfter int
	// StrictEmailLookup makes GetClientsDetails(email) match byte-exactly,
	// as on a database with a binary collation. By default it ignores case,
	// as MySQL's usual collation does.
	StrictEmailLookup bool
	// RawServicePasswords returns service passwords unescaped. By default
	// they come back HTML-escaped like other stored text, the form module
	// authors report for passwords saved through the admin area.
	RawServicePasswords bool
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Sim is a fake WHMCS. It is safe for concurrent use; every API call runs
// under one lock, so calls are linearizable.
type Sim struct {
	opts Options
	now  func() time.Time

	mu          sync.Mutex
	clients     map[int64]*Client
	services    map[int64]*Service
	invoices    map[int64]*Invoice
	tickets     map[int64]*Ticket
	departments map[int64]string
	nextClient  int64
	nextUser    int64
	nextService int64
	nextInvoice int64
	nextItem    int64
	nextTicket  int64

	denied   map[string]bool
	failures map[string]int
	banned   map[string]bool

	requests int
	calls    map[string]int
	faults   []*faultRule
}

// New returns an empty Sim with support departments 1 and 2.
func New(opts Options) *Sim {
	if opts.BanAfter == 0 {
		opts.BanAfter = 3
	}
	now := opts.Now
	if now == nil {
		now = func() time.Time { return time.Now().UTC() }
	}
	return &Sim{
		opts:        opts,
		now:         now,
		clients:     make(map[int64]*Client),
		services:    make(map[int64]*Service),
		invoices:    make(map[int64]*Invoice),
		tickets:     make(map[int64]*Ticket),
		departments: map[int64]string{1: "General Enquiries", 2: "Technical Support"},
		nextClient:  1,
		nextUser:    1,
		nextService: 1,
		nextInvoice: 1,
		nextItem:    1,
		nextTicket:  1,
		denied:      make(map[string]bool),
		failures:    make(map[string]int),
		banned:      make(map[string]bool),
		calls:       make(map[string]int),
	}
}

// Start serves the Sim on a local httptest server and returns the full
// includes/api.php URL and a function that stops the server.
func (s *Sim) Start() (apiURL string, closeFn func()) {
	srv := httptest.NewServer(s)
	return srv.URL + "/includes/api.php", srv.Close
}

// ServeHTTP answers requests to any path ending in /includes/api.php, so the
// Sim can be mounted under a prefix as WHMCS often is.
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests++
	s.mu.Unlock()
	if !strings.HasSuffix(r.URL.Path, "/includes/api.php") {
		http.Error(w, "404 Not Found", http.StatusNotFound)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 8<<20)
	// PHP merges query parameters with the body ($_REQUEST); ParseForm does
	// the same, body first.
	if err := r.ParseForm(); err != nil {
		http.Error(w, "400 Bad Request", http.StatusBadRequest)
		return
	}
	action := strings.ToLower(strings.TrimSpace(r.Form.Get("action")))
	fault := s.takeFault(action)
	if fault != nil && !fault.wait(r) {
		return
	}
	if fault != nil && fault.fails() && !fault.Commit {
		fault.respond(w)
		return
	}
	format, formatErr := responseFormat(r.Form.Get("responsetype"), action)
	status, body := s.handle(r, action, formatErr)
	if fault != nil && fault.fails() {
		fault.respond(w)
		return
	}
	write(w, format, action, status, body)
}

// handle runs access control and the action under the lock.
func (s *Sim) handle(r *http.Request, action, formatErr string) (int, obj) {
	ip := remoteIP(r)
	f := form(r.Form)
	s.mu.Lock()
	defer s.mu.Unlock()
	if status, body, refused := s.checkAccessLocked(ip, f); refused {
		return status, body
	}
	if action == "" {
		return http.StatusBadRequest, errorBody("Empty action request")
	}
	if status, body, refused := s.checkCredentialsLocked(ip, f); refused {
		return status, body
	}
	h, known := handlers[action]
	if !known {
		// Reported by the authorization layer, hence 403 like the other
		// access errors (fact sheet §1 lists it with them).
		return deny(`Invalid API Action: "` + action + `" is not a valid API action`)
	}
	if s.denied[action] {
		return deny(`Invalid Permissions: API action "` + action + `" is not allowed`)
	}
	s.calls[action]++
	if formatErr != "" {
		return fail(formatErr)
	}
	return h(s, f)
}

// checkAccessLocked applies the ban, the access key and the IP allow-list,
// which WHMCS checks before looking at the credential.
func (s *Sim) checkAccessLocked(ip string, f form) (int, obj, bool) {
	if s.banned[ip] {
		st, b := deny("IP Banned")
		return st, b, true
	}
	key := f.str("accesskey")
	allowed := false
	for _, a := range s.opts.AllowedIPs {
		allowed = allowed || a == ip
	}
	var msg string
	switch {
	case s.opts.AccessKey != "" && key == s.opts.AccessKey:
	case s.opts.AccessKey != "" && key != "":
		msg = "Invalid Access Key"
	case allowed:
	case s.opts.AccessKey != "":
		msg = "Invalid Access Key"
	case len(s.opts.AllowedIPs) > 0:
		msg = "Invalid IP " + ip
	}
	if msg == "" {
		return 0, nil, false
	}
	st, b := deny(msg)
	return st, b, true
}

// checkCredentialsLocked verifies identifier/secret (also accepted as
// username/password) and counts failures towards the ban.
func (s *Sim) checkCredentialsLocked(ip string, f form) (int, obj, bool) {
	id := firstNonEmpty(f.str("identifier"), f.str("username"))
	secret := firstNonEmpty(f.str("secret"), f.str("password"))
	var msg string
	switch {
	case id == "" || id != s.opts.Identifier:
		msg = "Invalid or missing credentials"
	case secret != s.opts.Secret:
		msg = "Authentication Failed"
	default:
		return 0, nil, false
	}
	s.failures[ip]++
	if s.opts.BanAfter > 0 && s.failures[ip] >= s.opts.BanAfter {
		s.banned[ip] = true
	}
	st, b := deny(msg)
	return st, b, true
}

// remoteIP is the client address without the port.
func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// Unban lifts every IP ban and forgets failed authentications, as an admin
// would under Utilities > Logs > Banned IPs.
func (s *Sim) Unban() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.banned)
	clear(s.failures)
}

// DenyAction removes an action from the credential's API role, so calls get
// `Invalid Permissions: API action "<lowercase>" is not allowed`.
func (s *Sim) DenyAction(action string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.denied[strings.ToLower(action)] = true
}

// AllowAction undoes DenyAction.
func (s *Sim) AllowAction(action string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.denied, strings.ToLower(action))
}

// Calls returns how many requests for action (case-insensitive) passed
// authentication and authorization and reached the action; "" sums all
// actions. Requests answered by a fault before reaching WHMCS are not counted.
func (s *Sim) Calls(action string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if action == "" {
		n := 0
		for _, c := range s.calls {
			n += c
		}
		return n
	}
	return s.calls[strings.ToLower(action)]
}

// Requests returns how many HTTP requests arrived, including refused,
// malformed and faulted ones.
func (s *Sim) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// ResetCounters zeroes Calls and Requests.
func (s *Sim) ResetCounters() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = 0
	clear(s.calls)
}

// form reads request parameters.
type form url.Values

// str returns a trimmed parameter.
func (f form) str(k string) string { return strings.TrimSpace(url.Values(f).Get(k)) }

// raw returns a parameter as sent (messages keep their whitespace).
func (f form) raw(k string) string { return url.Values(f).Get(k) }

// has reports whether a parameter was sent.
func (f form) has(k string) bool { _, ok := f[k]; return ok }

// id parses an id parameter; absent, empty or malformed ids are 0, as PHP's
// (int) cast makes them.
func (f form) id(k string) int64 {
	var n int64
	for _, r := range f.str(k) {
		if r < '0' || r > '9' {
			break
		}
		n = n*10 + int64(r-'0')
		if n > 1<<53 {
			return 0
		}
	}
	return n
}

// flag reads a boolean parameter the way PHP code tends to.
func (f form) flag(k string) bool {
	switch strings.ToLower(f.str(k)) {
	case "1", "true", "yes", "on":
		return true
	}
	return false
}

// handler runs one API action; s.mu is held.
type handler func(s *Sim, f form) (int, obj)

// handlers is the action catalog, keyed by lower-case action name.
var handlers = map[string]handler{
	"getclientsdetails":   (*Sim).getClientsDetails,
	"getclients":          (*Sim).getClients,
	"addclient":           (*Sim).addClient,
	"updateclient":        (*Sim).updateClient,
	"getclientsproducts":  (*Sim).getClientsProducts,
	"updateclientproduct": (*Sim).updateClientProduct,
	"modulecreate":        moduleAction("Active"),
	"modulesuspend":       moduleAction("Suspended"),
	"moduleunsuspend":     moduleAction("Active"),
	"moduleterminate":     moduleAction("Terminated"),
	"getinvoice":          (*Sim).getInvoice,
	"openticket":          (*Sim).openTicket,
	"addticketreply":      (*Sim).addTicketReply,
	"updateticket":        (*Sim).updateTicket,
	"getticket":           (*Sim).getTicket,
}
