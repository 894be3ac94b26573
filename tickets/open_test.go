package tickets

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/rcchat/caddy-whmcs-auth/whmcsauth/whmcssim"
)

func TestOpenExistingClient(t *testing.T) {
	e := newEnv(t)
	cid := e.sim.AddClient(whmcssim.Client{FirstName: "Ana", LastName: "Souza", Email: "Ana.Souza@Example.com"})
	got := e.openTicket("101", "ana.souza@example.com")

	tk := e.simTicket(got.WHMCSTicketID)
	if tk.ClientID != cid {
		t.Fatalf("WHMCS ticket owner %d, want client %d", tk.ClientID, cid)
	}
	if got.TicketID != "101" || got.WHMCSTID != tk.TID || got.WHMCSTID == "" {
		t.Fatalf("answer %+v does not match WHMCS ticket %+v", got, tk)
	}
	if want := strconv.FormatInt(tk.ID, 10); got.Protocol != want {
		t.Fatalf("protocol %q, want the WHMCS ticket id %q", got.Protocol, want)
	}
	if want := testPanelURL + strconv.FormatInt(tk.ID, 10); got.PanelLink != want {
		t.Fatalf("panel_link %q, want %q", got.PanelLink, want)
	}
	if tk.DeptID != DefaultDepartment || tk.Priority != "Medium" || tk.Subject != "Site fora do ar" || tk.Message != "Olá,\nmeu site caiu." {
		t.Fatalf("WHMCS ticket fields %+v", tk)
	}
	if n := e.sim.Calls("AddClient"); n != 0 {
		t.Fatalf("AddClient called %d times for an existing client", n)
	}
	l := e.link("101")
	if l.WHMCSTicketID != tk.ID || l.WHMCSTID != tk.TID || l.WHMCSClientID != cid || l.CompanyID != 7 || l.SyncState != SyncOpen {
		t.Fatalf("stored link %+v", l)
	}
}

func TestOpenCreatesClient(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.CreateClients = true })
	got := e.openTicket("102", "novo@cliente.com.br")
	clients := e.sim.Clients()
	if len(clients) != 1 {
		t.Fatalf("WHMCS has %d clients, want the one created", len(clients))
	}
	c := clients[0]
	if c.FirstName != "Maria" || c.LastName != "da Silva" || c.Email != "novo@cliente.com.br" ||
		c.PhoneNumber != "+55 11 91234-5678" || c.Country != DefaultClientCountry || c.Password == "" {
		t.Fatalf("created client %+v", c)
	}
	if tk := e.simTicket(got.WHMCSTicketID); tk.ClientID != c.ID {
		t.Fatalf("ticket owner %d, want the new client %d", tk.ClientID, c.ID)
	}
	// A second ticket of the same contact finds the client instead.
	e.openTicket("103", "novo@cliente.com.br")
	if n := e.sim.Calls("AddClient"); n != 1 {
		t.Fatalf("AddClient called %d times, want 1", n)
	}
}

func TestOpenAsGuest(t *testing.T) {
	e := newEnv(t) // create_clients off
	got := e.openTicket("104", "visitante@example.org")
	tk := e.simTicket(got.WHMCSTicketID)
	if tk.ClientID != 0 || tk.Name != "Maria da Silva" || tk.Email != "visitante@example.org" {
		t.Fatalf("guest ticket %+v", tk)
	}
	if len(e.sim.Clients()) != 0 || e.sim.Calls("AddClient") != 0 {
		t.Fatal("a client was created with create_clients off")
	}
}

func TestOpenPriorityAndDepartment(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.DefaultDepartment = 2; c.PanelURL = "" })
	b := openBody("105", "a@example.com")
	b["priority"] = "high"
	got := decode[openedView](t, e.do("POST", "/sso/api/tickets", b), http.StatusCreated)
	if tk := e.simTicket(got.WHMCSTicketID); tk.Priority != "High" || tk.DeptID != 2 {
		t.Fatalf("priority %q dept %d, want High and the configured default 2", tk.Priority, tk.DeptID)
	}
	if got.PanelLink != "" {
		t.Fatalf("panel_link %q without a panel URL", got.PanelLink)
	}
	b = openBody("106", "a@example.com")
	b["department_id"] = "1"
	got = decode[openedView](t, e.do("POST", "/sso/api/tickets", b), http.StatusCreated)
	if tk := e.simTicket(got.WHMCSTicketID); tk.DeptID != 1 {
		t.Fatalf("dept %d, want the requested 1", tk.DeptID)
	}
}

func TestOpenIdempotent(t *testing.T) {
	e := newEnv(t)
	first := e.openTicket("200", "x@example.com")
	again := decode[openedView](t, e.do("POST", "/sso/api/tickets", openBody("200", "x@example.com")), http.StatusOK)
	if again != first {
		t.Fatalf("second open %+v, want %+v", again, first)
	}
	// A numeric ticket_id names the same ticket as its decimal string.
	b := openBody("200", "x@example.com")
	b["ticket_id"] = 200
	decode[openedView](t, e.do("POST", "/sso/api/tickets", b), http.StatusOK)
	if n := e.sim.Calls("OpenTicket"); n != 1 {
		t.Fatalf("OpenTicket called %d times, want 1", n)
	}
}

func TestOpenConcurrentDuplicates(t *testing.T) {
	e := newEnv(t)
	const n = 10
	codes := make([]int, n)
	bodies := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			w := e.do("POST", "/sso/api/tickets", openBody("300", "c@example.com"))
			codes[i], bodies[i] = w.Code, w.Body.String()
		})
	}
	wg.Wait()
	created := 0
	for i, c := range codes {
		switch c {
		case http.StatusCreated:
			created++
		case http.StatusOK:
		default:
			t.Fatalf("request %d: status %d %s", i, c, bodies[i])
		}
		if bodies[i] != bodies[0] {
			t.Fatalf("answers differ: %s vs %s", bodies[i], bodies[0])
		}
	}
	if created != 1 {
		t.Fatalf("%d answers were 201, want exactly 1", created)
	}
	if got := len(e.sim.Tickets()); got != 1 || e.sim.Calls("OpenTicket") != 1 {
		t.Fatalf("WHMCS has %d tickets after %d OpenTicket calls, want 1", got, e.sim.Calls("OpenTicket"))
	}
}

func TestOpenWHMCSUnavailable(t *testing.T) {
	e := newEnv(t)
	e.sim.InjectFault("OpenTicket", whmcssim.Fault{Status: http.StatusBadGateway, Times: 1})
	w := e.do("POST", "/sso/api/tickets", openBody("400", "d@example.com"))
	if w.Code != http.StatusServiceUnavailable || !strings.Contains(w.Body.String(), `"error":"whmcs_unavailable"`) {
		t.Fatalf("status %d %s, want 503 whmcs_unavailable", w.Code, w.Body.String())
	}
	if w := e.do("GET", "/sso/api/tickets/400", nil); w.Code != http.StatusNotFound {
		t.Fatalf("a link was stored after WHMCS failed: %d %s", w.Code, w.Body.String())
	}
	// The caller's retry succeeds once WHMCS is back.
	e.openTicket("400", "d@example.com")
}

func TestOpenWHMCSRejectsCredentials(t *testing.T) {
	e := newEnv(t)
	e.cfg.WHMCS = e.whmcsClient("wrong-secret")
	e.restart()
	before := e.sim.Requests()
	w := e.do("POST", "/sso/api/tickets", openBody("401", "e@example.com"))
	if w.Code != http.StatusServiceUnavailable || !strings.Contains(w.Body.String(), "whmcs_unavailable") {
		t.Fatalf("status %d %s, want 503", w.Code, w.Body.String())
	}
	if n := e.sim.Requests() - before; n != 1 {
		t.Fatalf("%d WHMCS requests after an authentication failure, want 1 (no retry)", n)
	}
	if w.Header().Get("Retry-After") != "" {
		t.Fatal("Retry-After invites retrying refused credentials")
	}
	if len(e.sim.Tickets()) != 0 {
		t.Fatal("a ticket was opened")
	}
}

func TestOpenWHMCSRejectsRequest(t *testing.T) {
	e := newEnv(t)
	b := openBody("402", "f@example.com")
	b["department_id"] = 99
	w := e.do("POST", "/sso/api/tickets", b)
	if w.Code != http.StatusBadGateway || !strings.Contains(w.Body.String(), "Department ID not found") {
		t.Fatalf("status %d %s, want 502 with WHMCS's message", w.Code, w.Body.String())
	}
}

func TestTicketSyncOff(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.TicketSync = false })
	for _, p := range []string{"/sso/api/tickets", "/sso/api/tickets/1/close"} {
		w := e.do("POST", p, openBody("1", "g@example.com"))
		if w.Code != http.StatusConflict || strings.TrimSpace(w.Body.String()) != `{"error":"ticket_sync_disabled"}` {
			t.Fatalf("POST %s: %d %s, want 409 ticket_sync_disabled", p, w.Code, w.Body.String())
		}
	}
	if e.sim.Requests() != 0 {
		t.Fatal("WHMCS was called with ticket_sync off")
	}
}

func TestOpenMalformed(t *testing.T) {
	e := newEnv(t)
	with := func(mut func(map[string]any)) map[string]any {
		b := openBody("500", "h@example.com")
		mut(b)
		return b
	}
	cases := []struct {
		name  string
		body  any
		field string
	}{
		{"not json", `{"ticket_id":`, "body"},
		{"array", `[1]`, "body"},
		{"trailing", `{"ticket_id":"1"} {}`, "body"},
		{"empty", ``, "body"},
		{"unknown field", with(func(b map[string]any) { b["ticketid"] = "1" }), "ticketid"},
		{"missing ticket_id", with(func(b map[string]any) { delete(b, "ticket_id") }), "ticket_id"},
		{"bad ticket_id", with(func(b map[string]any) { b["ticket_id"] = "a/b" }), "ticket_id"},
		{"ticket_id bool", with(func(b map[string]any) { b["ticket_id"] = true }), "ticket_id"},
		{"missing company", with(func(b map[string]any) { delete(b, "company_id") }), "company_id"},
		{"company text", with(func(b map[string]any) { b["company_id"] = "x" }), "company_id"},
		{"missing contact", with(func(b map[string]any) { delete(b, "contact") }), "contact"},
		{"contact unknown", with(func(b map[string]any) { b["contact"] = map[string]any{"email": "a@b.co", "cpf": "1"} }), "contact.cpf"},
		{"contact email missing", with(func(b map[string]any) { b["contact"] = map[string]any{"name": "A"} }), "contact.email"},
		{"contact email bad", with(func(b map[string]any) { b["contact"] = map[string]any{"email": "Ana <a@b.co>"} }), "contact.email"},
		{"contact name number", with(func(b map[string]any) { b["contact"] = map[string]any{"email": "a@b.co", "name": 5} }), "contact.name"},
		{"empty subject", with(func(b map[string]any) { b["subject"] = "  " }), "subject"},
		{"missing message", with(func(b map[string]any) { delete(b, "message") }), "message"},
		{"bad priority", with(func(b map[string]any) { b["priority"] = "Urgent" }), "priority"},
		{"bad department", with(func(b map[string]any) { b["department_id"] = 1.5 }), "department_id"},
		{"negative department", with(func(b map[string]any) { b["department_id"] = -1 }), "department_id"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := decode[apiError](t, e.do("POST", "/sso/api/tickets", c.body), http.StatusBadRequest)
			if got.Error != "invalid_request" || got.Field != c.field || got.Description == "" {
				t.Fatalf("answer %+v, want invalid_request naming %q", got, c.field)
			}
		})
	}
	if e.sim.Requests() != 0 {
		t.Fatal("WHMCS was called for a malformed request")
	}
}

func TestBodyLimits(t *testing.T) {
	e := newEnv(t)
	b := openBody("501", "i@example.com")
	b["message"] = strings.Repeat("x", MaxBodyBytes)
	if w := e.do("POST", "/sso/api/tickets", b); w.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d for an oversized body, want 413", w.Code)
	}
	r := e.do("POST", "/sso/api/tickets", nil)
	if r.Code != http.StatusBadRequest {
		t.Fatalf("status %d for a missing body, want 400", r.Code)
	}
}
