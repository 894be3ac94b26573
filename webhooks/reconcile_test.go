package webhooks

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/rcchat/caddy-whmcs-auth/store"
	"github.com/rcchat/caddy-whmcs-auth/whmcsauth"
)

func (e *env) reconciler() *Reconciler {
	return &Reconciler{Store: e.store, WHMCS: e.api, Plans: testPlans, Logger: e.log, Delay: -1, Metrics: NewMetrics()}
}

func TestSweepRepairsMissedEvents(t *testing.T) {
	e := newEnv(t)
	c1, s1 := e.seed(1, "Active", true)
	c2, s2 := e.seed(1, "Active", true)
	c3, s3 := e.seed(1, "Active", true)
	c4, _ := e.seed(1, "Active", true) // no drift
	e.putCompany(store.Company{Name: "no WHMCS client", Status: store.StatusActive})
	// Changes made in WHMCS whose events never arrived.
	must(t, e.sim.ModuleSuspend(s1))
	must(t, e.sim.ModuleTerminate(s2))
	must(t, e.sim.SetProductID(s3, 2))
	must(t, e.sim.SetNextDueDate(s3, "2033-03-03"))
	// A company that was suspended here while WHMCS reactivated it.
	c, _ := e.company(c4)
	c.Status = store.StatusSuspended
	e.putCompany(c)

	before := time.Now()
	rep, err := e.reconciler().SweepOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Companies != 4 || rep.Checked != 4 || rep.Changed != 4 || rep.Errors != 0 || rep.Aborted {
		t.Errorf("report %+v", rep)
	}
	e.mustStatus(c1, store.StatusSuspended)
	e.mustStatus(c2, store.StatusCancelled)
	got := e.mustStatus(c3, store.StatusActive)
	if got.Plan != "Premium" || got.DueDate != "2033-03-03" {
		t.Errorf("company 3 %+v", got)
	}
	got = e.mustStatus(c4, store.StatusActive)
	if got.LastReconciledAt.Before(before) {
		t.Errorf("LastReconciledAt %v not marked", got.LastReconciledAt)
	}

	// Nothing left to repair.
	rep, err = e.reconciler().SweepOnce(context.Background())
	if err != nil || rep.Changed != 0 || rep.Checked != 4 {
		t.Errorf("second sweep %+v %v", rep, err)
	}
}

func TestSweepFollowsTheRightService(t *testing.T) {
	e := newEnv(t)
	client, old := e.seed(1, "Active", true)
	must(t, e.sim.ModuleTerminate(old))
	newer := e.sim.AddService(whmcsSvc(client, 2, "Active"))
	e.sim.AddService(whmcsSvc(client, 99, "Suspended")) // web hosting, not RC-CHAT

	if _, err := e.reconciler().SweepOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	c := e.mustStatus(client, store.StatusActive)
	if c.WHMCSServiceID != newer || c.Plan != "Premium" {
		t.Errorf("company %+v, want service %d on Premium", c, newer)
	}

	// A client whose every service is gone keeps its state.
	lonely, svc := e.seed(1, "Active", true)
	must(t, e.sim.SetProductID(svc, 99))
	rep, err := e.reconciler().SweepOnce(context.Background())
	if err != nil || rep.NoService != 1 {
		t.Errorf("report %+v %v", rep, err)
	}
	e.mustStatus(lonely, store.StatusActive)
}

func TestSweepStopsOnAuthError(t *testing.T) {
	e := newEnv(t)
	for range 20 {
		e.seed(1, "Active", true)
	}
	e.sim.DenyAction("GetClientsProducts")
	e.sim.ResetCounters()
	r := e.reconciler()
	r.Concurrency = 2
	rep, err := r.SweepOnce(context.Background())
	if !whmcsauth.IsAuth(err) || !rep.Aborted {
		t.Fatalf("err %v, report %+v", err, rep)
	}
	if n := e.sim.Requests(); n > r.Concurrency {
		t.Errorf("%d requests after the first auth error, want at most %d", n, r.Concurrency)
	}
}

func TestSweepStopsWhenWHMCSIsDown(t *testing.T) {
	e := newEnv(t)
	for range 20 {
		e.seed(1, "Active", true)
	}
	e.sim.InjectFault("", whmcssimDown())
	e.sim.ResetCounters()
	r := e.reconciler()
	r.Concurrency = 1
	rep, err := r.SweepOnce(context.Background())
	if err == nil || !rep.Aborted || rep.Errors != maxTransportFailures {
		t.Fatalf("err %v, report %+v", err, rep)
	}
}

func TestRunSweepsUnderTheLease(t *testing.T) {
	e := newEnv(t)
	client, svc := e.seed(1, "Active", true)
	must(t, e.sim.ModuleSuspend(svc))
	r := e.reconciler()

	// Another instance holds the lease: no sweep.
	var lease sync.Mutex
	lease.Lock()
	ctx, cancel := context.WithTimeout(context.Background(), 80*time.Millisecond)
	r.Run(ctx, 20*time.Millisecond, &lease)
	cancel()
	e.mustStatus(client, store.StatusActive)
	lease.Unlock()

	ctx, cancel = context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.Run(ctx, 20*time.Millisecond, &lease); close(done) }()
	deadline := time.Now().Add(3 * time.Second)
	for {
		if c, _ := e.company(client); c.Status == store.StatusSuspended {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("Run did not sweep")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
