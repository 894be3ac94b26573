package whmcssim

import (
	"net/http"
	"testing"
)

func TestAddClient(t *testing.T) {
	s, u := startSim(t, Options{})
	full := []string{"firstname", "Ana", "lastname", "Souza", "companyname", "Ben & Jerry", "email", "ana@example.com",
		"address1", "Rua 1", "city", "SP", "state", "SP", "postcode", "01000", "country", "br",
		"phonenumber", "11999", "password2", "p&ss"}
	a := call(t, u, "AddClient", full...)
	wantSuccess(t, a)
	id := int64(a.body["clientid"].(float64))
	c, ok := s.Client(id)
	if !ok || c.CompanyName != "Ben & Jerry" || c.Password != "p&ss" || c.Country != "BR" || a.body["owner_id"] != float64(c.OwnerUserID) {
		t.Fatalf("stored %+v from %s", c, a.raw)
	}
	wantError(t, call(t, u, "AddClient", append(full[:6:6], "email", "ANA@example.com", "skipvalidation", "true")...),
		http.StatusOK, "A user already exists with that email address")
	wantError(t, call(t, u, "AddClient", "firstname", "x"), http.StatusOK, "You did not enter your last name")
	wantError(t, call(t, u, "AddClient", "email", "bad", "skipvalidation", "1"), http.StatusOK, "The email address you entered was not valid")
	wantError(t, call(t, u, "AddClient", "email", "b@example.com", "country", "Brazil", "skipvalidation", "1"), http.StatusOK, "Valid country required")
	wantSuccess(t, call(t, u, "AddClient", "firstname", "Guest", "email", "g@example.com", "skipvalidation", "true"))
}

func TestUpdateClient(t *testing.T) {
	s, u := startSim(t, Options{})
	id := s.AddClient(Client{Email: "a@example.com"})
	s.AddClient(Client{Email: "b@example.com"})
	a := call(t, u, "UpdateClient", "clientid", str(id), "status", "inactive")
	wantSuccess(t, a)
	if a.body["clientid"] != str(id) {
		t.Fatalf("clientid echoed as a string: %s", a.raw)
	}
	if c, _ := s.Client(id); c.Status != "Inactive" {
		t.Fatalf("status %q", c.Status)
	}
	wantError(t, call(t, u, "UpdateClient", "clientid", str(id), "status", "Deleted"), http.StatusOK, invalidClientStatus)
	wantError(t, call(t, u, "UpdateClient", "clientid", "77", "status", "Closed"), http.StatusOK, "Client ID Not Found")
	wantError(t, call(t, u, "UpdateClient", "clientid", str(id), "email", "B@example.com"), http.StatusOK, "Duplicate Email Address")
	wantSuccess(t, call(t, u, "UpdateClient", "clientemail", "a@example.com", "status", "Closed"))
	if c, _ := s.Client(id); c.Status != "Closed" {
		t.Fatalf("status %q", c.Status)
	}
}

func TestModuleActionsAndSeedMutators(t *testing.T) {
	s, u := startSim(t, Options{})
	id := s.AddService(Service{ClientID: 1, ProductID: 1, Status: "Pending"})
	steps := []struct{ action, want string }{
		{"ModuleCreate", "Active"}, {"ModuleSuspend", "Suspended"}, {"ModuleUnsuspend", "Active"}, {"ModuleTerminate", "Terminated"},
	}
	for _, st := range steps {
		wantSuccess(t, call(t, u, st.action, "serviceid", str(id), "suspendreason", "Overdue"))
		if svc, _ := s.Service(id); svc.Status != st.want {
			t.Fatalf("%s: status %q", st.action, svc.Status)
		}
	}
	wantSuccess(t, call(t, u, "ModuleSuspend", "accountid", str(id)))
	wantError(t, call(t, u, "ModuleSuspend"), http.StatusOK, "Service ID is required")
	wantError(t, call(t, u, "ModuleSuspend", "serviceid", "999"), http.StatusOK, "Service ID not found")

	wantSuccess(t, call(t, u, "UpdateClientProduct", "serviceid", str(id), "status", "Active", "servicepassword", "n3w", "pid", "2", "nextduedate", "2031-01-01"))
	if svc, _ := s.Service(id); svc.Status != "Active" || svc.Password != "n3w" || svc.ProductID != 2 || svc.NextDueDate != "2031-01-01" {
		t.Fatalf("UpdateClientProduct: %+v", svc)
	}

	// Go-side mutators used by tests to play the WHMCS admin.
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.ModuleSuspend(id))
	must(s.SetServicePassword(id, "x"))
	must(s.SetProductID(id, 3))
	must(s.SetNextDueDate(id, "2032-02-02"))
	if svc, _ := s.Service(id); svc.Status != "Suspended" || svc.Password != "x" || svc.ProductID != 3 || svc.NextDueDate != "2032-02-02" {
		t.Fatalf("mutators: %+v", svc)
	}
	must(s.ModuleUnsuspend(id))
	must(s.ModuleTerminate(id))
	must(s.ModuleCreate(id))
	must(s.SetServiceStatus(id, "Fraud"))
	if svc, _ := s.Service(id); svc.Status != "Fraud" {
		t.Fatalf("status %q", svc.Status)
	}
	if s.ModuleSuspend(404) == nil || s.SetClientStatus(404, "Closed") == nil || s.SetInvoiceStatus(404, "Paid") == nil {
		t.Fatal("unknown ids must be reported")
	}
	if got := s.Services(1); len(got) != 1 || len(s.Services(0)) != 1 || len(s.Services(2)) != 0 {
		t.Fatalf("Services: %v", got)
	}
}

func TestTicketLifecycle(t *testing.T) {
	s, u := startSim(t, Options{})
	cid := s.AddClient(Client{FirstName: "Ana", LastName: "Souza", Email: "ana@example.com"})

	a := call(t, u, "OpenTicket", "deptid", "1", "clientid", str(cid), "subject", "Help <now>", "message", "It's broken & sad", "priority", "high")
	wantSuccess(t, a)
	id := int64(a.body["id"].(float64))
	tid, _ := a.body["tid"].(string)
	if len(tid) != 6 || len(a.body["c"].(string)) != 8 {
		t.Fatalf("open: %s", a.raw)
	}
	wantSuccess(t, call(t, u, "AddTicketReply", "ticketid", str(id), "adminusername", "bot", "message", "Transcript"))
	if tk, _ := s.Ticket(id); tk.Status != "Answered" || tk.Priority != "High" || len(tk.Replies) != 1 || tk.Replies[0].Admin != "bot" {
		t.Fatalf("after admin reply: %+v", tk)
	}
	wantSuccess(t, call(t, u, "AddTicketReply", "ticketid", str(id), "clientid", str(cid), "message", "Thanks"))
	if tk, _ := s.Ticket(id); tk.Status != "Customer-Reply" {
		t.Fatalf("after client reply: %+v", tk)
	}
	up := call(t, u, "UpdateTicket", "ticketid", str(id), "status", "Closed")
	wantSuccess(t, up)
	if up.body["ticketid"] != str(id) {
		t.Fatalf("update: %s", up.raw)
	}

	g := call(t, u, "GetTicket", "ticketid", str(id))
	wantSuccess(t, g)
	replies := list(t, g.body, "replies", "reply")
	if g.body["status"] != "Closed" || g.body["subject"] != "Help &lt;now&gt;" || len(replies) != 3 {
		t.Fatalf("get: %s", g.raw)
	}
	if replies[0]["replyid"] != "0" || replies[0]["message"] != "It&#039;s broken &amp; sad" || replies[1]["admin"] != "bot" {
		t.Fatalf("replies: %v", replies)
	}
	byNum := call(t, u, "GetTicket", "ticketnum", tid, "repliessort", "DESC")
	if r := list(t, byNum.body, "replies", "reply"); r[0]["message"] != "Thanks" {
		t.Fatalf("DESC: %v", r)
	}

	wantError(t, call(t, u, "OpenTicket", "deptid", "9", "clientid", str(cid), "subject", "s", "message", "m"), http.StatusOK, "Department ID not found")
	wantError(t, call(t, u, "OpenTicket", "deptid", "2", "subject", "s", "message", "m"), http.StatusOK, guestNeedsNameEmail)
	wantError(t, call(t, u, "OpenTicket", "deptid", "2", "clientid", "99", "subject", "s", "message", "m"), http.StatusOK, "Client ID Not Found")
	wantError(t, call(t, u, "OpenTicket", "deptid", "2", "name", "G", "email", "g@example.com", "subject", "s", "message", "m", "priority", "Urgent"), http.StatusOK, invalidTicketPriority)
	wantError(t, call(t, u, "OpenTicket", "deptid", "2", "name", "G", "email", "g@example.com", "message", "m"), http.StatusOK, "Subject is required")
	wantError(t, call(t, u, "AddTicketReply", "ticketid", "404", "message", "m", "adminusername", "a"), http.StatusOK, "Ticket ID not found")
	wantError(t, call(t, u, "AddTicketReply", "ticketid", str(id), "message", "m", "adminusername", "a", "status", "Nope"), http.StatusOK, "Invalid Ticket Status")
	wantError(t, call(t, u, "UpdateTicket", "ticketid", "404", "status", "Closed"), http.StatusOK, "Ticket ID Not Found")
	wantError(t, call(t, u, "UpdateTicket", "ticketid", str(id), "status", "Done"), http.StatusOK, invalidTicketStatus)
	wantError(t, call(t, u, "UpdateTicket", "ticketid", str(id), "priority", "Urgent"), http.StatusOK, invalidTicketPriority)
	wantError(t, call(t, u, "GetTicket", "ticketid", "404"), http.StatusOK, "Ticket ID Not Found")

	guest := call(t, u, "OpenTicket", "deptid", "2", "name", "Guest", "email", "g@example.com", "subject", "s", "message", "m")
	wantSuccess(t, guest)
	if tks := s.Tickets(); len(tks) != 2 || tks[1].ClientID != 0 || tks[1].Email != "g@example.com" || tks[0].TID == tks[1].TID {
		t.Fatalf("tickets: %+v", tks)
	}
	if d := s.AddDepartment("Sales"); d != 3 {
		t.Fatalf("department id %d", d)
	}
}
