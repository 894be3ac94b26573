package webhooks

import (
	"context"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rcchat/caddy-whmcs-auth/store"
	"github.com/rcchat/caddy-whmcs-auth/whmcsauth"
	"github.com/rcchat/caddy-whmcs-auth/whmcsauth/whmcssim"
)

// The tests below check the state right after ServeHTTP returns. The env's
// outbox never runs by itself (only drain runs it), so whatever the store
// holds at that point was done by the receiver before its answer.

// suspendedPayer seeds a client whose RC-CHAT service WHMCS has in
// whmcsStatus, its company suspended, and a Paid invoice billing that
// service.
func (e *env) suspendedPayer(whmcsStatus string) (client, svc, inv int64) {
	e.t.Helper()
	client, svc = e.seed(1, whmcsStatus, true)
	setStatus(e, client, store.StatusSuspended)
	inv = e.sim.AddInvoice(whmcssim.Invoice{ClientID: client, Status: "Paid",
		Items: []whmcssim.InvoiceItem{{Type: "Hosting", RelID: svc, Description: "RC-CHAT Basico"}}})
	return client, svc, inv
}

// newClient adds a WHMCS client with an active service of pid and no company.
func (e *env) newClient(pid int64) (client, svc int64) {
	e.t.Helper()
	client = e.sim.AddClient(whmcssim.Client{FirstName: "Bruno", LastName: "Lima",
		Email: "bruno" + strconv.FormatInt(time.Now().UnixNano(), 36) + "@example.com"})
	svc = e.sim.AddService(whmcssim.Service{ClientID: client, ProductID: pid, Status: "Active", Password: "SECRET-PW",
		NextDueDate: "2030-03-10"})
	return client, svc
}

func (e *env) outcome(id flexID) string {
	e.t.Helper()
	var ev store.Event
	err := e.store.View(context.Background(), func(tx store.Tx) error {
		var err error
		ev, err = tx.Event(string(id))
		return err
	})
	if err != nil {
		e.t.Fatalf("event %s: %v", id, err)
	}
	return ev.Outcome
}

func (e *env) companyCount() int {
	e.t.Helper()
	var n int
	err := e.store.View(context.Background(), func(tx store.Tx) error {
		all, err := tx.Companies(0, 1000)
		n = len(all)
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

func (e *env) onlyJob() store.Job {
	e.t.Helper()
	jobs := e.jobs()
	if len(jobs) != 1 {
		e.t.Fatalf("jobs %+v, want one", jobs)
	}
	return jobs[0]
}

func paid(inv int64) []byte {
	return event(EventInvoicePaid, map[string]any{"invoiceid": inv, "userid": nil})
}

func created(client, svc, pid int64) []byte {
	return event(EventModuleCreate, map[string]any{"serviceid": svc, "userid": client, "pid": pid})
}

// (a) A paid invoice of a suspended company's service reactivates it
// before the answer; the job then confirms without asking for the invoice
// again, and WHMCS's final state wins.
func TestInvoicePaidActivatesBeforeTheAnswer(t *testing.T) {
	e := newEnv(t)
	client, svc, inv := e.suspendedPayer("Active") // payment automation unsuspended the service
	e.sim.ResetCounters()
	a := e.send(paid(inv), "accepted")
	c := e.mustStatus(client, store.StatusActive)
	if !strings.Contains(c.StatusReason, EventInvoicePaid) {
		t.Errorf("reason %q", c.StatusReason)
	}
	if got := e.outcome(a.ID); got != outcomeApplied {
		t.Errorf("outcome %q", got)
	}
	if n, g := e.sim.Calls(""), e.sim.Calls("GetInvoice"); n != 1 || g != 1 {
		t.Errorf("%d WHMCS calls (%d GetInvoice) before the answer, want GetInvoice only", n, g)
	}
	if j := e.onlyJob(); j.State != store.JobPending || j.Steps[stepInvoice] != strconv.FormatInt(svc, 10) {
		t.Errorf("job %+v, want pending with the invoice's services saved", j)
	}
	e.drain()
	e.mustStatus(client, store.StatusActive)
	if n := e.sim.Calls("GetInvoice"); n != 1 {
		t.Errorf("GetInvoice called %d times, want 1", n)
	}
	if n := e.sim.Calls("GetClientsProducts"); n != 1 {
		t.Errorf("GetClientsProducts called %d times, want 1 (the confirmation)", n)
	}

	// WHMCS did not unsuspend the service (automation off): the implied
	// state applies at once, and the confirmation puts WHMCS's back.
	client2, _, inv2 := e.suspendedPayer("Suspended")
	e.send(paid(inv2), "accepted")
	e.mustStatus(client2, store.StatusActive)
	e.drain()
	e.mustStatus(client2, store.StatusSuspended)
}

// Only the company's RC-CHAT service on a Paid invoice implies anything.
func TestInvoicePaidImpliesOnlyForTheCompanysService(t *testing.T) {
	e := newEnv(t)
	client, svc := e.seed(1, "Active", true)
	setStatus(e, client, store.StatusSuspended)
	hosting := e.sim.AddService(whmcsSvc(client, 99, "Active"))
	other := e.sim.AddService(whmcsSvc(client, 2, "Active")) // mapped, but not the one it follows
	item := func(id int64) whmcssim.InvoiceItem { return whmcssim.InvoiceItem{Type: "Hosting", RelID: id} }

	cases := []struct {
		name    string
		inv     whmcssim.Invoice
		outcome string
	}{
		{"another service", whmcssim.Invoice{Status: "Paid", Items: []whmcssim.InvoiceItem{item(hosting), item(other)}}, outcomeOtherService},
		{"not a hosting line", whmcssim.Invoice{Status: "Paid", Items: []whmcssim.InvoiceItem{{Type: "Domain", RelID: svc}}}, outcomeOtherService},
		{"unpaid", whmcssim.Invoice{Status: "Unpaid", Items: []whmcssim.InvoiceItem{item(svc)}}, outcomeUnpaid},
	}
	for _, tc := range cases {
		tc.inv.ClientID = client
		inv := e.sim.AddInvoice(tc.inv)
		a := e.send(paid(inv), "accepted")
		e.mustStatus(client, store.StatusSuspended)
		if got := e.outcome(a.ID); got != tc.outcome {
			t.Errorf("%s: outcome %q, want %q", tc.name, got, tc.outcome)
		}
	}
	a := e.send(paid(9999), "accepted")
	if got := e.outcome(a.ID); got != outcomeUnknownInvoice {
		t.Errorf("unknown invoice: outcome %q", got)
	}

	// A company that follows no service yet: a mapped service of its
	// client on the invoice reactivates it (WHMCS tells the product).
	c, _ := e.company(client)
	c.WHMCSServiceID = 0
	e.putCompany(c)
	inv := e.sim.AddInvoice(whmcssim.Invoice{ClientID: client, Status: "Paid", Items: []whmcssim.InvoiceItem{item(hosting)}})
	a = e.send(paid(inv), "accepted")
	e.mustStatus(client, store.StatusSuspended)
	if got := e.outcome(a.ID); got != outcomeOtherProduct {
		t.Errorf("unmapped only: outcome %q", got)
	}
	inv = e.sim.AddInvoice(whmcssim.Invoice{ClientID: client, Status: "Paid", Items: []whmcssim.InvoiceItem{item(hosting), item(svc)}})
	e.sim.ResetCounters()
	a = e.send(paid(inv), "accepted")
	e.mustStatus(client, store.StatusActive)
	if got := e.outcome(a.ID); got != outcomeApplied {
		t.Errorf("mapped service: outcome %q", got)
	}
	if n := e.sim.Calls("GetClientsProducts"); n != 1 {
		t.Errorf("GetClientsProducts called %d times before the answer, want 1 (the client's services)", n)
	}
	e.drain()
}

// An InvoicePaid naming only the client resyncs that client from WHMCS.
func TestInvoicePaidWithoutInvoiceID(t *testing.T) {
	e := newEnv(t)
	client, _ := e.seed(1, "Active", true)
	setStatus(e, client, store.StatusSuspended)
	a := e.send(event(EventInvoicePaid, map[string]any{"userid": client}), "accepted")
	e.mustStatus(client, store.StatusActive)
	if got := e.outcome(a.ID); got != outcomeApplied {
		t.Errorf("outcome %q", got)
	}
	e.drain()
	e.mustStatus(client, store.StatusActive)

	// A client without a company: nothing to resync, and no WHMCS call.
	stranger := e.sim.AddClient(whmcssim.Client{FirstName: "X", LastName: "Y", Email: "xy@example.com"})
	e.sim.ResetCounters()
	e.send(event(EventInvoicePaid, map[string]any{"userid": stranger}), "accepted")
	if n := e.sim.Requests(); n != 0 || len(e.jobs()) != 0 {
		t.Errorf("%d WHMCS requests, jobs %+v", n, e.jobs())
	}
}

// (b) AfterModuleCreate of a mapped product provisions the company
// before the answer.
func TestCreateProvisionsBeforeTheAnswer(t *testing.T) {
	e := newEnv(t)
	client, svc := e.newClient(2)
	a := e.send(created(client, svc, 2), "accepted")
	c := e.mustStatus(client, store.StatusActive)
	if c.Name != "Bruno Lima" || c.Plan != "Premium" || c.DueDate != "2030-03-10" || c.WHMCSServiceID != svc {
		t.Errorf("company right after the answer %+v", c)
	}
	if got := e.outcome(a.ID); got != outcomeProvisioned {
		t.Errorf("outcome %q", got)
	}
	cl, _ := e.sim.Client(client)
	var u store.User
	_ = e.store.View(context.Background(), func(tx store.Tx) error {
		u, _ = tx.UserByEmail(whmcsauth.NormalizeEmail(cl.Email))
		return nil
	})
	if u.CompanyID != c.ID || u.Role != whmcsauth.RoleAdmin || u.PasswordHash == "" {
		t.Errorf("admin user %+v", u)
	}
	if j := e.onlyJob(); j.State != store.JobPending {
		t.Errorf("confirmation %+v", j)
	}
	e.drain()
	e.mustStatus(client, store.StatusActive)
	if n := e.companyCount(); n != 1 {
		t.Errorf("%d companies", n)
	}
	// A create for a client that has a company already needs no WHMCS
	// call before the answer.
	second := e.sim.AddService(whmcsSvc(client, 1, "Active"))
	e.sim.ResetCounters()
	e.send(created(client, second, 1), "accepted")
	if n := e.sim.Requests(); n != 0 {
		t.Errorf("%d WHMCS requests for a known client's create", n)
	}
}

// (c) WHMCS down or slow: the events are acknowledged anyway and the
// confirmation job does the work once WHMCS is back.
func TestWHMCSDownAtTheAnswer(t *testing.T) {
	for _, tc := range []struct {
		name  string
		wait  time.Duration
		fault whmcssim.Fault
	}{
		{"503", 0, whmcssimDown()},
		{"dropped", 0, whmcssim.Fault{Drop: true}},
		{"slower than the wait", 200 * time.Millisecond, whmcssim.Fault{Latency: 20 * time.Second}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.wait = tc.wait
			e.build()
			payer, _, inv := e.suspendedPayer("Active")
			client, svc := e.newClient(2)
			e.sim.InjectFault("", tc.fault)

			start := time.Now()
			a1 := e.send(paid(inv), "accepted")
			a2 := e.send(created(client, svc, 2), "accepted")
			if took := time.Since(start); took > 3*time.Second {
				t.Errorf("answers took %v", took)
			}
			e.mustStatus(payer, store.StatusSuspended)
			if _, ok := e.company(client); ok {
				t.Fatal("provisioned without WHMCS")
			}
			if o1, o2 := e.outcome(a1.ID), e.outcome(a2.ID); o1 != outcomeNoStatus || o2 != outcomeUnknownClient {
				t.Errorf("outcomes %q %q", o1, o2)
			}
			jobs := e.jobs()
			if len(jobs) != 2 || jobs[0].State != store.JobPending || jobs[1].State != store.JobPending {
				t.Fatalf("jobs %+v", jobs)
			}

			e.sim.ClearFaults()
			e.drain()
			e.mustStatus(payer, store.StatusActive)
			if c := e.mustStatus(client, store.StatusActive); c.Plan != "Premium" {
				t.Errorf("provisioned by the job %+v", c)
			}
		})
	}
}

// (d) WHMCS refusing our credentials: one request for the event, the
// answer is 200, and the confirmation is parked without a second failed
// authentication; an operator's retry finishes it.
func TestCredentialsRefusedAtTheAnswer(t *testing.T) {
	e := newEnv(t)
	good := e.api
	bad, err := whmcsauth.NewClient(whmcsauth.Config{URL: apiURL(t, e), Identifier: apiID, Secret: "wrong-secret", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	e.api = bad
	e.build()
	payer, _, inv := e.suspendedPayer("Active")
	client, svc := e.newClient(2)

	var parked []int64
	for _, body := range [][]byte{paid(inv), created(client, svc, 2)} {
		e.sim.ResetCounters()
		e.send(body, "accepted")
		if n := e.sim.Requests(); n != 1 {
			t.Errorf("%d WHMCS requests before the answer, want 1", n)
		}
		for range 3 {
			e.outbox.RunDue(context.Background())
		}
		if n := e.sim.Requests(); n != 1 {
			t.Errorf("%d WHMCS requests after the outbox ran, want still 1", n)
		}
	}
	for _, j := range e.jobs() {
		if j.State != store.JobFailed || !strings.Contains(j.LastError, "rejected the API credentials") {
			t.Errorf("job %+v, want parked with the credential error", j)
		}
		parked = append(parked, j.ID)
	}
	if len(parked) != 2 {
		t.Fatalf("parked %v", parked)
	}
	e.mustStatus(payer, store.StatusSuspended)
	if _, ok := e.company(client); ok {
		t.Error("provisioned without WHMCS")
	}

	e.api = good
	e.build()
	for _, id := range parked {
		if err := e.outbox.Retry(context.Background(), id); err != nil {
			t.Fatal(err)
		}
	}
	e.drain()
	e.mustStatus(payer, store.StatusActive)
	e.mustStatus(client, store.StatusActive)
}

func apiURL(t *testing.T, e *env) string {
	t.Helper()
	url, stop := e.sim.Start()
	t.Cleanup(stop)
	return url
}

// (e) A replay of an acknowledged id is a duplicate and asks WHMCS nothing.
func TestReplayMakesNoWHMCSCall(t *testing.T) {
	e := newEnv(t)
	payer, _, inv := e.suspendedPayer("Active")
	client, svc := e.newClient(2)
	bodies := [][]byte{paid(inv), created(client, svc, 2)}
	for _, b := range bodies {
		e.send(b, "accepted")
	}
	for round := range 2 {
		e.sim.ResetCounters()
		for _, b := range bodies {
			e.send(b, "duplicate")
		}
		if n := e.sim.Requests(); n != 0 {
			t.Errorf("round %d: %d WHMCS requests for replays", round, n)
		}
		e.drain()
	}
	e.mustStatus(payer, store.StatusActive)
	e.mustStatus(client, store.StatusActive)
	if n := e.companyCount(); n != 2 {
		t.Errorf("%d companies", n)
	}
}

// (f) Events that need no WHMCS answer are acknowledged without a call.
func TestNoWHMCSCallOnTheHotPath(t *testing.T) {
	e := newEnv(t)
	stranger, hosting := e.newClient(99)
	client, svc := e.seed(1, "Active", true)
	params := map[string]any{"serviceid": svc, "userid": client, "pid": 1}
	e.sim.ResetCounters()
	a := e.send(created(stranger, hosting, 99), "accepted")
	if _, ok := e.company(stranger); ok {
		t.Error("company provisioned for an unmapped product")
	}
	if got := e.outcome(a.ID); got != outcomeUnknownClient {
		t.Errorf("outcome %q", got)
	}
	for _, typ := range []string{EventModuleSuspend, EventModuleUnsuspend, EventModuleCreate, EventModuleTerminate} {
		e.send(event(typ, params), "accepted")
	}
	e.mustStatus(client, store.StatusCancelled)
	if n := e.sim.Requests(); n != 0 {
		t.Errorf("%d WHMCS requests before the answers, want 0", n)
	}
	if n := len(e.jobs()); n != 4 {
		t.Errorf("%d jobs, want 4 (none for the unmapped product)", n)
	}
}

// Crash points: the state file after a crash between storing the event
// and calling WHMCS (modelled by a receiver that makes no call), or
// between provisioning and the answer, is repaired by the confirmation
// job after a restart, and a redelivery is a duplicate without effects.
func TestCrashAroundTheWHMCSCall(t *testing.T) {
	e := newEnv(t)
	e.wait = -1
	e.build()
	payer, _, inv := e.suspendedPayer("Active")
	client, svc := e.newClient(2)
	body1, body2 := paid(inv), created(client, svc, 2)
	e.send(body1, "accepted")
	e.send(body2, "accepted")
	if n := e.sim.Requests(); n != 0 {
		t.Fatalf("%d WHMCS requests with the wait disabled", n)
	}
	restart := func() {
		t.Helper()
		if err := e.store.Close(); err != nil {
			t.Fatal(err)
		}
		e.open()
	}
	// Crash after storing, before WHMCS answered.
	e.wait = 0
	restart()
	e.sim.ResetCounters()
	e.send(body1, "duplicate")
	e.send(body2, "duplicate")
	if n := e.sim.Requests(); n != 0 {
		t.Errorf("%d WHMCS requests for redeliveries", n)
	}
	e.mustStatus(payer, store.StatusSuspended)
	e.drain()
	e.mustStatus(payer, store.StatusActive)
	e.mustStatus(client, store.StatusActive)

	// Crash after provisioning, before the answer reached WHMCS.
	client2, svc2 := e.newClient(1)
	body3 := created(client2, svc2, 1)
	e.send(body3, "accepted")
	before := e.mustStatus(client2, store.StatusActive)
	restart()
	e.send(body3, "duplicate")
	e.drain()
	after := e.mustStatus(client2, store.StatusActive)
	if after.ID != before.ID || e.companyCount() != 3 {
		t.Errorf("company %+v after restart, was %+v; %d companies", after, before, e.companyCount())
	}
}

// Provisioning by the receiver, by the confirmation job and by a login
// (through another Provisioner, so only the store's transaction and
// uniqueness keep them apart) race: one company per client.
func TestProvisioningRacesMakeOneCompany(t *testing.T) {
	e := newEnv(t)
	login := &whmcsauth.Provisioner{Store: e.store}
	const n = 6
	type acct struct {
		client, svc int64
		account     whmcsauth.Account
	}
	var accts []acct
	for range n {
		client, svc := e.newClient(2)
		details, err := e.api.GetClientsDetails(context.Background(), client, "")
		if err != nil {
			t.Fatal(err)
		}
		page, err := e.api.GetClientsProducts(context.Background(), whmcsauth.GetClientsProductsRequest{ServiceID: svc})
		if err != nil || len(page.Services) != 1 {
			t.Fatalf("%v %+v", err, page)
		}
		accts = append(accts, acct{client, svc, whmcsauth.Account{Client: details, Service: page.Services[0], Plan: "Premium"}})
	}
	ctx, cancel := context.WithCancel(context.Background())
	var workers sync.WaitGroup
	workers.Add(1)
	go func() {
		defer workers.Done()
		for ctx.Err() == nil {
			e.outbox.RunDue(ctx)
			time.Sleep(time.Millisecond)
		}
	}()
	var wg sync.WaitGroup
	for _, a := range accts {
		wg.Add(2)
		go func() {
			defer wg.Done()
			w := httptest.NewRecorder()
			e.rc.ServeHTTP(w, signed(created(a.client, a.svc, 2), 0))
			if w.Code != 200 || !strings.Contains(w.Body.String(), "accepted") {
				t.Errorf("answer %d %s", w.Code, w.Body.String())
			}
		}()
		go func() {
			defer wg.Done()
			if _, err := login.Provision(context.Background(), a.account); err != nil {
				t.Errorf("login provisioning: %v", err)
			}
		}()
	}
	wg.Wait()
	cancel()
	workers.Wait()
	e.drain()
	if got := e.companyCount(); got != n {
		t.Errorf("%d companies for %d clients", got, n)
	}
	for _, a := range accts {
		e.mustStatus(a.client, store.StatusActive)
	}
}

// settle leaves the implied state alone once the confirmation job has
// read the invoice itself (a run racing with the request), or is done:
// WHMCS's state must win.
func TestSettleDefersToTheConfirmationJob(t *testing.T) {
	for _, jobState := range []string{"read the invoice", "done"} {
		t.Run(jobState, func(t *testing.T) {
			e := newEnv(t)
			payer, svc, inv := e.suspendedPayer("Suspended")
			body := paid(inv)
			in, err := DecodeEvent(body)
			if err != nil {
				t.Fatal(err)
			}
			res, err := e.rc.ingest(context.Background(), in)
			if err != nil || res.follow != followInvoice || res.jobID == 0 {
				t.Fatalf("ingest %+v %v", res, err)
			}
			err = e.store.Update(context.Background(), func(tx store.Tx) error {
				if jobState == "done" {
					return tx.DeleteJob(res.jobID)
				}
				j, err := tx.Job(res.jobID)
				if err != nil {
					return err
				}
				j.Steps = map[string]string{stepInvoice: strconv.FormatInt(svc, 10)}
				return tx.PutJob(&j)
			})
			if err != nil {
				t.Fatal(err)
			}
			e.rc.settle(context.Background(), in, &res)
			e.mustStatus(payer, store.StatusSuspended)
			if res.outcome != outcomeConfirmedFirst {
				t.Errorf("outcome %q", res.outcome)
			}
		})
	}
}
