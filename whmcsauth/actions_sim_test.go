package whmcsauth

import (
	"context"
	"testing"

	"github.com/rcchat/caddy-whmcs-auth/whmcsauth/whmcssim"
)

func TestClientAgainstSimClients(t *testing.T) {
	ctx := context.Background()
	sim, c := simClient(t, whmcssim.Options{})
	id := sim.AddClient(whmcssim.Client{FirstName: `Jo "J"`, LastName: "O'Neil", CompanyName: "Ben & Jerry <Ltda>",
		Email: "jo@example.com", PhoneNumber: "+55 11 9999"})

	d, err := c.GetClientsDetails(ctx, id, "")
	if err != nil {
		t.Fatal(err)
	}
	want := ClientDetails{ID: id, FirstName: `Jo "J"`, LastName: "O'Neil", CompanyName: "Ben & Jerry <Ltda>",
		Email: "jo@example.com", Status: "Active", PhoneNumber: "+55 11 9999"}
	if d != want {
		t.Fatalf("details\n got %+v\nwant %+v", d, want)
	}
	if d2, err := c.GetClientsDetails(ctx, 0, "jo@example.com"); err != nil || d2 != want {
		t.Fatalf("by email: %+v %v", d2, err)
	}
	if _, err := c.GetClientsDetails(ctx, 999, ""); !IsNotFound(err) {
		t.Fatalf("want not found, got %v", err)
	}

	for range 3 {
		sim.AddClient(whmcssim.Client{LastName: "Zz", Email: "jo@example.com.br"})
	}
	page, err := c.GetClients(ctx, GetClientsRequest{Search: "jo@", Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if page.Total != 4 || page.Returned != 2 || len(page.Clients) != 2 || page.Clients[0].CompanyName != "Ben & Jerry <Ltda>" {
		t.Fatalf("page %+v", page)
	}
	empty, err := c.GetClients(ctx, GetClientsRequest{Search: "nobody"})
	if err != nil || empty.Total != 0 || empty.Clients != nil {
		t.Fatalf("empty page %+v %v", empty, err)
	}
	if _, err := c.GetClients(ctx, GetClientsRequest{Status: "Gone"}); !IsBusiness(err) {
		t.Fatalf("bad status: %v", err)
	}

	newID, err := c.AddClient(ctx, AddClientRequest{FirstName: "Ana", LastName: "Lima", CompanyName: "A&B",
		Email: "ana@example.com", Phone: "1", Address1: "R", City: "C", State: "S", Postcode: "P", Country: "br", Password: "p&ss"})
	if err != nil {
		t.Fatal(err)
	}
	if stored, _ := sim.Client(newID); stored.CompanyName != "A&B" || stored.Password != "p&ss" || stored.Country != "BR" {
		t.Fatalf("values must be sent raw, never pre-escaped: %+v", stored)
	}
	if _, err := c.AddClient(ctx, AddClientRequest{FirstName: "X", Email: "ANA@example.com", SkipValidation: true}); !IsBusiness(err) ||
		err.(*Error).Message != "A user already exists with that email address" {
		t.Fatalf("duplicate: %v", err)
	}
	guest, err := c.AddClient(ctx, AddClientRequest{FirstName: "Chat", LastName: "Contact", Email: "chat@example.com", SkipValidation: true, NoEmail: true})
	if err != nil || guest == 0 {
		t.Fatalf("skipvalidation: %d %v", guest, err)
	}

	if err := c.UpdateClientStatus(ctx, newID, "inactive"); err != nil {
		t.Fatal(err)
	}
	if stored, _ := sim.Client(newID); stored.Status != "Inactive" {
		t.Fatalf("status %q", stored.Status)
	}
	before := sim.Requests()
	if err := c.UpdateClientStatus(ctx, newID, "Suspended"); !IsBusiness(err) || sim.Requests() != before {
		t.Fatalf("invalid status is refused locally: %v", err)
	}
	if err := c.UpdateClientStatus(ctx, 999, "Closed"); !IsNotFound(err) {
		t.Fatalf("unknown client: %v", err)
	}
}

func TestFindClientByEmail(t *testing.T) {
	ctx := context.Background()
	sim, c := simClient(t, whmcssim.Options{Identifier: tIdent, Secret: tSecret, StrictEmailLookup: true})
	sim.AddClient(whmcssim.Client{FirstName: "Prefix", Email: "ana@example.com.br"})
	id := sim.AddClient(whmcssim.Client{FirstName: "Ana", CompanyName: "Ana & Co", Email: "Ana@Example.com"})
	for i := range 150 {
		sim.AddClient(whmcssim.Client{LastName: "Aaa", Email: "ana@example.com" + string(rune('a'+i%26))})
	}

	// Exact lookup hits directly.
	d, err := c.FindClientByEmail(ctx, "Ana@Example.com")
	if err != nil || d.ID != id {
		t.Fatalf("exact: %+v %v", d, err)
	}
	// A case difference misses GetClientsDetails on this strict database, so
	// the prefix search runs (two pages here) and the exact filter picks Ana.
	sim.ResetCounters()
	d, err = c.FindClientByEmail(ctx, "ana@example.com")
	if err != nil || d.ID != id || d.CompanyName != "Ana & Co" {
		t.Fatalf("fallback: %+v %v", d, err)
	}
	if sim.Calls("GetClients") != 2 || sim.Calls("GetClientsDetails") != 2 {
		t.Fatalf("calls: GetClients=%d GetClientsDetails=%d", sim.Calls("GetClients"), sim.Calls("GetClientsDetails"))
	}
	// A prefix match alone is not a match.
	if _, err := c.FindClientByEmail(ctx, "ana@example.co"); !IsNotFound(err) {
		t.Fatalf("prefix only: %v", err)
	}
	if _, err := c.FindClientByEmail(ctx, "  "); err == nil || IsNotFound(err) {
		t.Fatalf("empty email: %v", err)
	}
}

func TestClientAgainstSimProducts(t *testing.T) {
	ctx := context.Background()
	sim, c := simClient(t, whmcssim.Options{})
	cid := sim.AddClient(whmcssim.Client{Email: "a@example.com"})
	other := sim.AddClient(whmcssim.Client{Email: "b@example.com"})
	first := sim.AddService(whmcssim.Service{ClientID: cid, ProductID: 1, Name: "Básico & Mais", Password: `p&'"<x>`,
		Domain: "a.example", NextDueDate: "2030-05-06", RegDate: "2024-01-02"})
	for range 204 {
		sim.AddService(whmcssim.Service{ClientID: cid, ProductID: 2})
	}
	sim.AddService(whmcssim.Service{ClientID: other, ProductID: 1})

	page, err := c.GetClientsProducts(ctx, GetClientsProductsRequest{ClientID: cid, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	s := page.Services[0]
	if page.Total != 205 || page.Returned != 10 || s.ID != first || s.ClientID != cid || s.ProductID != 1 ||
		s.Name != "Básico & Mais" || s.NextDueDate != "2030-05-06" || s.RegDate != "2024-01-02" || s.Domain != "a.example" {
		t.Fatalf("page %+v", page)
	}
	// Passwords come back exactly as WHMCS stored them (escaped); the login
	// code compares both forms.
	if s.Password.Reveal() != "p&amp;&#039;&quot;&lt;x&gt;" {
		t.Fatalf("password %q", s.Password.Reveal())
	}
	if byService, err := c.GetClientsProducts(ctx, GetClientsProductsRequest{ServiceID: first}); err != nil || len(byService.Services) != 1 {
		t.Fatalf("by service: %+v %v", byService, err)
	}
	if byPID, err := c.GetClientsProducts(ctx, GetClientsProductsRequest{ClientID: cid, ProductID: 1}); err != nil || byPID.Total != 1 {
		t.Fatalf("by pid: %+v %v", byPID, err)
	}
	none, err := c.GetClientsProducts(ctx, GetClientsProductsRequest{ClientID: 4040})
	if err != nil || none.Total != 0 || none.Services != nil {
		t.Fatalf(`"products":"": %+v %v`, none, err)
	}

	sim.ResetCounters()
	all, err := c.ListClientServices(ctx, cid)
	if err != nil || len(all) != 205 || sim.Calls("GetClientsProducts") != 3 {
		t.Fatalf("list: %d services, %d calls, %v", len(all), sim.Calls("GetClientsProducts"), err)
	}
	if _, err := c.ListClientServices(ctx, 0); err == nil {
		t.Fatal("client id 0 would list every client's services")
	}
}

func TestClientAgainstSimInvoice(t *testing.T) {
	ctx := context.Background()
	sim, c := simClient(t, whmcssim.Options{})
	id := sim.AddInvoice(whmcssim.Invoice{ClientID: 3, Status: "Paid", Items: []whmcssim.InvoiceItem{
		{Type: "Hosting", RelID: 12, Description: "RC-CHAT & Co (01/01 - 31/01)", Amount: "99.90"},
		{Type: "AddFunds", Description: "Credit", Amount: "5.00"},
	}})
	inv, err := c.GetInvoice(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if inv.ID != id || inv.ClientID != 3 || inv.Status != "Paid" || len(inv.Items) != 2 ||
		inv.Items[0].Type != "Hosting" || inv.Items[0].RelID != 12 || inv.Items[0].Description != "RC-CHAT & Co (01/01 - 31/01)" {
		t.Fatalf("invoice %+v", inv)
	}
	if _, err := c.GetInvoice(ctx, 999); !IsNotFound(err) {
		t.Fatalf("missing: %v", err)
	}
}

func TestClientAgainstSimTickets(t *testing.T) {
	ctx := context.Background()
	sim, c := simClient(t, whmcssim.Options{})
	cid := sim.AddClient(whmcssim.Client{FirstName: "Ana", LastName: "Lima", Email: "ana@example.com"})

	opened, err := c.OpenTicket(ctx, OpenTicketRequest{DeptID: 1, ClientID: cid, Subject: "Chat #42 <urgent>", Message: "Olá & bom dia", Priority: "High"})
	if err != nil {
		t.Fatal(err)
	}
	if opened.ID == 0 || len(opened.TID) != 6 || opened.AccessKey == "" {
		t.Fatalf("opened %+v", opened)
	}
	guest, err := c.OpenTicket(ctx, OpenTicketRequest{DeptID: 2, Name: "Visitante", Email: "v@example.com", Subject: "s", Message: "m", NoEmail: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.AddTicketReply(ctx, AddTicketReplyRequest{TicketID: opened.ID, AdminUsername: "rcchat", Message: "Transcript:\nline & more"}); err != nil {
		t.Fatal(err)
	}
	if err := c.AddTicketReply(ctx, AddTicketReplyRequest{TicketID: opened.ID, ClientID: cid, Message: "ok"}); err != nil {
		t.Fatal(err)
	}
	if err := c.AddTicketReply(ctx, AddTicketReplyRequest{TicketID: guest.ID, Name: "Visitante", Email: "v@example.com", Message: "eu"}); err != nil {
		t.Fatal(err)
	}
	if err := c.UpdateTicketStatus(ctx, opened.ID, "Closed"); err != nil {
		t.Fatal(err)
	}

	tk, err := c.GetTicket(ctx, opened.ID)
	if err != nil {
		t.Fatal(err)
	}
	if tk.ID != opened.ID || tk.TID != opened.TID || tk.Status != "Closed" || tk.Subject != "Chat #42 <urgent>" ||
		tk.ClientID != cid || tk.DeptID != 1 || tk.Priority != "High" || tk.Name != "Ana Lima" || tk.Email != "ana@example.com" {
		t.Fatalf("ticket %+v", tk)
	}
	if len(tk.Replies) != 3 || tk.Replies[0].Message != "Olá & bom dia" || tk.Replies[1].Admin != "rcchat" ||
		tk.Replies[1].Message != "Transcript:\nline & more" || tk.Replies[2].Name != "Ana Lima" {
		t.Fatalf("replies %+v", tk.Replies)
	}
	stored, _ := sim.Ticket(guest.ID)
	if stored.Status != "Customer-Reply" || stored.Replies[0].Email != "v@example.com" {
		t.Fatalf("guest ticket %+v", stored)
	}

	for name, err := range map[string]error{
		"reply":  c.AddTicketReply(ctx, AddTicketReplyRequest{TicketID: 999, AdminUsername: "a", Message: "m"}),
		"update": c.UpdateTicketStatus(ctx, 999, "Closed"),
	} {
		if !IsNotFound(err) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := c.GetTicket(ctx, 999); !IsNotFound(err) {
		t.Fatalf("get: %v", err)
	}
	if err := c.UpdateTicketStatus(ctx, opened.ID, "Finished"); !IsBusiness(err) || IsNotFound(err) {
		t.Fatalf("bad status: %v", err)
	}
	if _, err := c.OpenTicket(ctx, OpenTicketRequest{DeptID: 9, ClientID: cid, Subject: "s", Message: "m"}); !IsBusiness(err) {
		t.Fatalf("bad department: %v", err)
	}
	if _, err := c.OpenTicket(ctx, OpenTicketRequest{DeptID: 1, Subject: "s", Message: "m"}); err == nil ||
		err.(*Error).Message != "Name and email address are required if not a client" {
		t.Fatalf("guest without name: %v", err)
	}
}
