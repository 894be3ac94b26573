package webhooks

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rcchat/caddy-whmcs-auth/store"
	"github.com/rcchat/caddy-whmcs-auth/whmcsauth"
	"github.com/rcchat/caddy-whmcs-auth/whmcsauth/whmcssim"
)

func TestOutOfOrderEventsEndInWHMCSState(t *testing.T) {
	e := newEnv(t)
	client, svc := e.seed(1, "Active", true)
	params := map[string]any{"serviceid": svc, "userid": client, "pid": 1}
	// WHMCS suspended, then unsuspended: the service is Active. The
	// deliveries cross: the unsuspension arrives first.
	if err := e.sim.ModuleSuspend(svc); err != nil {
		t.Fatal(err)
	}
	if err := e.sim.ModuleUnsuspend(svc); err != nil {
		t.Fatal(err)
	}
	e.send(event(EventModuleUnsuspend, params), "accepted")
	e.send(event(EventModuleSuspend, params), "accepted")
	e.mustStatus(client, store.StatusSuspended) // the implied state of the last arrival
	e.drain()
	e.mustStatus(client, store.StatusActive)

	// And the other way round: WHMCS ends Suspended.
	if err := e.sim.ModuleSuspend(svc); err != nil {
		t.Fatal(err)
	}
	e.send(event(EventModuleSuspend, params), "accepted")
	e.send(event(EventModuleUnsuspend, params), "accepted")
	e.mustStatus(client, store.StatusActive)
	e.drain()
	e.mustStatus(client, store.StatusSuspended)
}

func TestEventsWhileWHMCSIsDownAreConfirmedLater(t *testing.T) {
	e := newEnv(t)
	// Backoff long enough that one RunDue makes one attempt per job.
	e.outbox.MinBackoff, e.outbox.MaxBackoff = 150*time.Millisecond, 150*time.Millisecond
	c1, s1 := e.seed(1, "Active", true)
	c2, s2 := e.seed(1, "Active", true)
	for _, s := range []int64{s1, s2} {
		if err := e.sim.ModuleSuspend(s); err != nil {
			t.Fatal(err)
		}
		if err := e.sim.SetNextDueDate(s, "2031-06-30"); err != nil {
			t.Fatal(err)
		}
	}

	e.sim.InjectFault("GetClientsProducts", whmcssim.Fault{Status: 502})
	e.send(event(EventModuleSuspend, map[string]any{"serviceid": s1, "userid": c1, "pid": 1}), "accepted")
	e.outbox.RunDue(context.Background())
	e.sim.ClearFaults()
	e.sim.InjectFault("", whmcssim.Fault{Drop: true})
	e.send(event(EventModuleSuspend, map[string]any{"serviceid": s2, "userid": c2, "pid": 1}), "accepted")
	e.outbox.RunDue(context.Background())

	for _, c := range []int64{c1, c2} {
		got := e.mustStatus(c, store.StatusSuspended) // implied state kept
		if got.DueDate != "2030-01-15" {
			t.Errorf("due date %q changed without WHMCS", got.DueDate)
		}
	}
	jobs := e.jobs()
	if len(jobs) != 2 {
		t.Fatalf("jobs %+v", jobs)
	}
	for _, j := range jobs {
		if j.State != store.JobPending || j.Attempts < 1 || !strings.Contains(j.LastError, "WHMCS unavailable") {
			t.Errorf("job while WHMCS is down: state=%s attempts=%d error=%q", j.State, j.Attempts, j.LastError)
		}
	}

	e.sim.ClearFaults()
	e.drain()
	for _, c := range []int64{c1, c2} {
		got := e.mustStatus(c, store.StatusSuspended)
		if got.DueDate != "2031-06-30" {
			t.Errorf("due date %q not confirmed from WHMCS", got.DueDate)
		}
	}
	if n := len(e.jobs()); n != 0 {
		t.Errorf("%d jobs left", n)
	}
}

func TestAuthErrorParksTheConfirmation(t *testing.T) {
	e := newEnv(t)
	client, svc := e.seed(1, "Active", true)
	e.sim.DenyAction("GetClientsProducts")
	e.send(event(EventModuleSuspend, map[string]any{"serviceid": svc, "userid": client, "pid": 1}), "accepted")
	e.sim.ResetCounters()
	for range 3 {
		e.outbox.RunDue(context.Background())
		time.Sleep(5 * time.Millisecond)
	}
	if n := e.sim.Requests(); n != 1 {
		t.Errorf("%d requests to WHMCS, want 1 (no retry after an auth error)", n)
	}
	jobs := e.jobs()
	if len(jobs) != 1 || jobs[0].State != store.JobFailed || !strings.Contains(jobs[0].LastError, "rejected the API credentials") {
		t.Fatalf("jobs %+v", jobs)
	}
	e.mustStatus(client, store.StatusSuspended)
}

func TestCreateProvisionsTheCompany(t *testing.T) {
	e := newEnv(t)
	client := e.sim.AddClient(whmcssim.Client{FirstName: "Bruno", LastName: "Lima", Email: "Bruno@Example.com"})
	svc := e.sim.AddService(whmcssim.Service{ClientID: client, ProductID: 2, Status: "Active", Password: "SECRET-PW",
		NextDueDate: "2030-03-10"})
	other := e.sim.AddClient(whmcssim.Client{FirstName: "Caio", LastName: "Reis", Email: "caio@example.com"})
	hosting := e.sim.AddService(whmcssim.Service{ClientID: other, ProductID: 99, Status: "Active"})

	e.send(event(EventModuleCreate, map[string]any{"serviceid": svc, "userid": client, "pid": 2}), "accepted")
	e.send(event(EventModuleCreate, map[string]any{"serviceid": hosting, "userid": other, "pid": 99}), "accepted")
	// Provisioned before the answer (see settle_test.go), then confirmed.
	e.mustStatus(client, store.StatusActive)
	e.drain()
	c := e.mustStatus(client, store.StatusActive)
	if c.Name != "Bruno Lima" || c.Plan != "Premium" || c.DueDate != "2030-03-10" || c.WHMCSServiceID != svc {
		t.Errorf("provisioned company %+v", c)
	}
	var u store.User
	_ = e.store.View(context.Background(), func(tx store.Tx) error { u, _ = tx.UserByEmail("bruno@example.com"); return nil })
	if u.CompanyID != c.ID || u.Role != whmcsauth.RoleAdmin || u.PasswordHash == "" {
		t.Errorf("admin user %+v", u)
	}
	if _, ok := e.company(other); ok {
		t.Error("a company was provisioned for an unmapped product")
	}
	// A redelivered create is a duplicate; a second create event for the
	// same client does not make a second company.
	e.send(event(EventModuleCreate, map[string]any{"serviceid": svc, "userid": client, "pid": 2}), "accepted")
	e.drain()
	var n int
	_ = e.store.View(context.Background(), func(tx store.Tx) error {
		all, _ := tx.Companies(0, 100)
		n = len(all)
		return nil
	})
	if n != 1 {
		t.Errorf("%d companies", n)
	}
}

func TestAcknowledgedEventSurvivesACrash(t *testing.T) {
	e := newEnv(t)
	client, svc := e.seed(1, "Active", true)
	if err := e.sim.ModuleSuspend(svc); err != nil {
		t.Fatal(err)
	}
	if err := e.sim.SetNextDueDate(svc, "2032-02-02"); err != nil {
		t.Fatal(err)
	}
	body := event(EventModuleSuspend, map[string]any{"serviceid": svc, "userid": client, "pid": 1})
	e.send(body, "accepted")
	// "Kill" the process right after the 200: the outbox never ran.
	if err := e.store.Close(); err != nil {
		t.Fatal(err)
	}
	e.open()
	e.mustStatus(client, store.StatusSuspended)
	e.send(body, "duplicate")
	if jobs := e.jobs(); len(jobs) != 1 || jobs[0].Kind != JobKind {
		t.Fatalf("jobs after restart %+v", jobs)
	}
	e.drain()
	if c := e.mustStatus(client, store.StatusSuspended); c.DueDate != "2032-02-02" {
		t.Errorf("confirmation did not run after the restart: %+v", c)
	}
}

func TestInvoicePaidReactivatesItsServices(t *testing.T) {
	e := newEnv(t)
	client, svc := e.seed(1, "Suspended", true)
	c, _ := e.company(client)
	c.Status = store.StatusSuspended
	e.putCompany(c)
	hosting := e.sim.AddService(whmcsSvc(client, 99, "Active"))
	// Payment automation unsuspends the service, then InvoicePaid fires.
	inv := e.sim.AddInvoice(whmcssim.Invoice{ClientID: client, Status: "Paid", Items: []whmcssim.InvoiceItem{
		{Type: "Hosting", RelID: svc, Description: "RC-CHAT Basico"},
		{Type: "Hosting", RelID: hosting, Description: "Web hosting"},
		{Type: "Domain", RelID: 5, Description: "loja.example"},
		{Type: "LateFee", Description: "Late fee"},
	}})
	if err := e.sim.ModuleUnsuspend(svc); err != nil {
		t.Fatal(err)
	}
	e.send(event(EventInvoicePaid, map[string]any{"invoiceid": inv, "userid": nil}), "accepted")
	e.mustStatus(client, store.StatusActive) // GetInvoice before the answer named its services
	e.drain()
	e.mustStatus(client, store.StatusActive)
	if n := e.sim.Calls("GetInvoice"); n != 1 {
		t.Errorf("GetInvoice called %d times, want 1 (the job reuses the receiver's answer)", n)
	}
	// An invoice WHMCS does not know is confirmed as nothing to do.
	e.send(event(EventInvoicePaid, map[string]any{"invoiceid": "9999"}), "accepted")
	e.drain()
	if n := len(e.jobs()); n != 0 {
		t.Errorf("%d jobs left", n)
	}
}

func TestChangePackageResyncsThePlan(t *testing.T) {
	e := newEnv(t)
	client, svc := e.seed(1, "Active", true)
	if err := e.sim.SetProductID(svc, 2); err != nil {
		t.Fatal(err)
	}
	e.send(event(EventModuleChangePackage, map[string]any{"serviceid": svc, "userid": client, "pid": 2}), "accepted")
	if c := e.mustStatus(client, store.StatusActive); c.Plan != "Premium" {
		t.Errorf("plan %q right after the event", c.Plan)
	}
	// A stale pid in the event: WHMCS has the last word.
	if err := e.sim.SetProductID(svc, 1); err != nil {
		t.Fatal(err)
	}
	e.send(event(EventModuleChangePackage, map[string]any{"serviceid": svc, "userid": client, "pid": 2}), "accepted")
	e.drain()
	if c := e.mustStatus(client, store.StatusActive); c.Plan != "Basico" {
		t.Errorf("plan %q after confirmation, want Basico", c.Plan)
	}
	// Moved to a product that is not RC-CHAT's: the service is ignored and
	// the company keeps what it had.
	if err := e.sim.SetProductID(svc, 99); err != nil {
		t.Fatal(err)
	}
	e.send(event(EventModuleChangePackage, map[string]any{"serviceid": svc, "userid": client, "pid": 99}), "accepted")
	e.drain()
	if c := e.mustStatus(client, store.StatusActive); c.Plan != "Basico" {
		t.Errorf("plan %q", c.Plan)
	}
}

func TestPickService(t *testing.T) {
	svc := func(id, pid int64, status, reg string) whmcsauth.Service {
		return whmcsauth.Service{ID: id, ProductID: pid, Status: status, RegDate: reg}
	}
	cases := []struct {
		name     string
		services []whmcsauth.Service
		followed int64
		want     int64
	}{
		{"none mapped", []whmcsauth.Service{svc(1, 99, "Active", "2024-01-01")}, 0, 0},
		{"followed active", []whmcsauth.Service{svc(1, 1, "Active", "2024-01-01"), svc(2, 1, "Active", "2025-01-01")}, 1, 1},
		{"newest active", []whmcsauth.Service{svc(1, 1, "Active", "2024-01-01"), svc(2, 2, "Active", "2025-01-01")}, 0, 2},
		{"active beats followed terminated", []whmcsauth.Service{svc(1, 1, "Terminated", "2025-01-01"), svc(2, 1, "Active", "2024-01-01")}, 1, 2},
		{"followed when none active", []whmcsauth.Service{svc(1, 1, "Terminated", "2024-01-01"), svc(2, 1, "Suspended", "2025-01-01")}, 1, 1},
		{"suspended over terminated", []whmcsauth.Service{svc(1, 1, "Terminated", "2025-01-01"), svc(2, 1, "Suspended", "2024-01-01")}, 0, 2},
		{"newest otherwise", []whmcsauth.Service{svc(1, 1, "Terminated", "2024-01-01"), svc(2, 1, "Cancelled", "2024-01-01")}, 0, 2},
	}
	for _, tc := range cases {
		got, ok := pickService(tc.services, testPlans, tc.followed)
		if (tc.want == 0) == ok || got.ID != tc.want {
			t.Errorf("%s: got %d (%t), want %d", tc.name, got.ID, ok, tc.want)
		}
	}
}
