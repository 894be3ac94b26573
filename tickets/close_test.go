package tickets

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/rcchat/caddy-whmcs-auth/store"
	"github.com/rcchat/caddy-whmcs-auth/whmcsauth/whmcssim"
)

// closeTicket queues a close and checks the 202.
func (e *env) closeTicket(id string) closeAnswer {
	e.t.Helper()
	got := decode[closeAnswer](e.t, e.do("POST", "/sso/api/tickets/"+id+"/close", closeBody()), http.StatusAccepted)
	if got.Status != "queued" {
		e.t.Fatalf("close answer %+v", got)
	}
	return got
}

// checkClosedOnce asserts the WHMCS ticket got exactly one transcript and
// was closed, through exactly one successful call of each write.
func (e *env) checkClosedOnce(whmcsID int64, ticketID string) whmcssim.Ticket {
	e.t.Helper()
	tk := e.simTicket(whmcsID)
	if len(tk.Replies) != 1 {
		e.t.Fatalf("WHMCS ticket has %d replies, want exactly 1: %+v", len(tk.Replies), tk.Replies)
	}
	if tk.Status != "Closed" {
		e.t.Fatalf("WHMCS ticket status %q, want Closed", tk.Status)
	}
	if a, u := e.sim.Calls("AddTicketReply"), e.sim.Calls("UpdateTicket"); a != 1 || u != 1 {
		e.t.Fatalf("AddTicketReply reached WHMCS %d times and UpdateTicket %d times, want 1 and 1", a, u)
	}
	msg := tk.Replies[0].Message
	if !strings.Contains(msg, "RC-CHAT ticket "+ticketID) || !strings.Contains(msg, "[2024-05-01 10:05] Maria: Resolvido!") {
		e.t.Fatalf("transcript does not look right:\n%s", msg)
	}
	if strings.Contains(msg, "nota interna") {
		e.t.Fatalf("private message in the transcript:\n%s", msg)
	}
	if l := e.link(ticketID); l.SyncState != SyncClosed {
		e.t.Fatalf("link state %q, want closed", l.SyncState)
	}
	if left := e.jobs(""); len(left) != 0 {
		e.t.Fatalf("jobs left in the outbox: %+v", left)
	}
	return tk
}

func TestCloseHappyPath(t *testing.T) {
	e := newEnv(t)
	cid := e.sim.AddClient(whmcssim.Client{FirstName: "Ana", LastName: "Souza", Email: "ana@example.com"})
	op := e.openTicket("600", "ana@example.com")
	e.closeTicket("600")
	if l := e.link("600"); l.SyncState != SyncClosing {
		t.Fatalf("link state %q right after the close, want closing", l.SyncState)
	}
	view := decode[linkView](t, e.do("GET", "/sso/api/tickets/600", nil), http.StatusOK)
	if view.SyncState != SyncClosing || view.CloseJob == nil || view.CloseJob.State != "pending" {
		t.Fatalf("GET while queued: %+v", view)
	}
	e.drain()
	tk := e.checkClosedOnce(op.WHMCSTicketID, "600")
	if tk.Replies[0].ClientID != cid {
		t.Fatalf("transcript posted by %+v, want the ticket's client %d", tk.Replies[0], cid)
	}
	view = decode[linkView](t, e.do("GET", "/sso/api/tickets/600", nil), http.StatusOK)
	if view.SyncState != SyncClosed || view.CloseJob != nil || view.WHMCSTicketID != op.WHMCSTicketID {
		t.Fatalf("GET after the close: %+v", view)
	}
}

func TestCloseGuestTicket(t *testing.T) {
	e := newEnv(t)
	op := e.openTicket("601", "guest@example.org")
	e.closeTicket("601")
	e.drain()
	tk := e.checkClosedOnce(op.WHMCSTicketID, "601")
	if r := tk.Replies[0]; r.ClientID != 0 || r.Email != "guest@example.org" || r.Name != "Maria da Silva" {
		t.Fatalf("guest transcript posted as %+v", r)
	}
}

func TestCloseIdempotent(t *testing.T) {
	e := newEnv(t)
	op := e.openTicket("602", "j@example.com")
	e.closeTicket("602")
	e.closeTicket("602")
	if n := len(e.jobs("")); n != 1 {
		t.Fatalf("two closes stored %d jobs, want 1", n)
	}
	e.drain()
	// Once done, a repeat gets the one answer SPEC 8 defines, and
	// queues nothing.
	third := decode[closeAnswer](t, e.do("POST", "/sso/api/tickets/602/close", closeBody()), http.StatusAccepted)
	if third.Status != "queued" {
		t.Fatalf("close after done: %+v", third)
	}
	if n := len(e.jobs("")); n != 0 {
		t.Fatalf("a close after done left %d jobs, want none", n)
	}
	e.drain()
	e.checkClosedOnce(op.WHMCSTicketID, "602")
}

func TestCloseRetriesUntilWHMCSRecovers(t *testing.T) {
	e := newEnv(t)
	op := e.openTicket("603", "k@example.com")
	// Every WHMCS call fails three times (503 from a proxy), then works.
	e.sim.InjectFault("", whmcssim.Fault{Status: http.StatusServiceUnavailable, Times: 3})
	e.closeTicket("603")
	e.drain()
	e.checkClosedOnce(op.WHMCSTicketID, "603")
}

func TestCloseLostAnswerDoesNotRepost(t *testing.T) {
	e := newEnv(t)
	op := e.openTicket("604", "l@example.com")
	// WHMCS stores the reply but the answer is lost: the retry must find
	// the transcript instead of posting it again.
	e.sim.InjectFault("AddTicketReply", whmcssim.Fault{Status: http.StatusGatewayTimeout, Times: 1, Commit: true})
	e.closeTicket("604")
	e.drain()
	e.checkClosedOnce(op.WHMCSTicketID, "604")
}

func TestCloseSurvivesRestartBetweenSteps(t *testing.T) {
	e := newEnv(t)
	op := e.openTicket("605", "m@example.com")
	e.sim.InjectFault("UpdateTicket", whmcssim.Fault{Status: http.StatusInternalServerError})
	e.closeTicket("605")
	e.ob.RunDue(context.Background())
	jobs := e.jobs("")
	if len(jobs) != 1 || jobs[0].Steps[stepReply] == "" || jobs[0].Steps[stepClose] != "" || jobs[0].Attempts == 0 {
		t.Fatalf("before the restart want the reply done and the close failed: %+v", jobs)
	}

	e.restart()
	e.sim.ClearFaults()
	e.drain()
	e.checkClosedOnce(op.WHMCSTicketID, "605")
}

func TestCloseCredentialFailureParksJob(t *testing.T) {
	e := newEnv(t)
	e.openTicket("606", "n@example.com")
	e.cfg.WHMCS = e.whmcsClient("wrong-secret")
	e.restart()
	e.closeTicket("606")
	before := e.sim.Requests()
	e.ob.RunDue(context.Background())
	e.ob.RunDue(context.Background())
	if n := e.sim.Requests() - before; n != 1 {
		t.Fatalf("%d WHMCS requests, want a single one before parking", n)
	}
	failed := e.jobs(store.JobFailed)
	if len(failed) != 1 || len(e.jobs(store.JobPending)) != 0 {
		t.Fatalf("jobs %+v, want one failed", e.jobs(""))
	}
	list := decode[outboxList](t, e.do("GET", "/sso/api/outbox", nil), http.StatusOK)
	if len(list.Jobs) != 1 {
		t.Fatalf("outbox list %+v", list)
	}
	j := list.Jobs[0]
	if j.Kind != JobTicketClose || j.State != "failed" || j.Attempts != 1 ||
		!strings.Contains(j.LastError, "Authentication Failed") || j.CreatedAt.IsZero() {
		t.Fatalf("outbox entry %+v", j)
	}
	w := e.do("GET", "/sso/api/outbox", nil)
	if strings.Contains(w.Body.String(), "payload") || strings.Contains(w.Body.String(), "transcript") ||
		strings.Contains(w.Body.String(), simSecret) {
		t.Fatalf("outbox answer leaks job contents: %s", w.Body.String())
	}
	view := decode[linkView](t, e.do("GET", "/sso/api/tickets/606", nil), http.StatusOK)
	if view.SyncState != SyncClosing || view.CloseJob == nil || view.CloseJob.State != "failed" {
		t.Fatalf("GET of a ticket whose close is parked: %+v", view)
	}
	// A repeated close from RC-CHAT does not queue a second job.
	decode[closeAnswer](t, e.do("POST", "/sso/api/tickets/606/close", closeBody()), http.StatusAccepted)
	if len(e.jobs("")) != 1 {
		t.Fatal("a second job was queued")
	}
}

func TestCloseErrors(t *testing.T) {
	e := newEnv(t)
	for _, body := range []any{closeBody(), nil, "{"} {
		if w := e.do("POST", "/sso/api/tickets/nope/close", body); w.Code != http.StatusNotFound {
			t.Fatalf("close of an unknown ticket with body %v: %d %s", body, w.Code, w.Body.String())
		}
	}
	if w := e.do("GET", "/sso/api/tickets/nope", nil); w.Code != http.StatusNotFound ||
		strings.TrimSpace(w.Body.String()) != `{"error":"not_found"}` {
		t.Fatalf("GET of an unknown ticket: %d %s", w.Code, w.Body.String())
	}
	e.openTicket("607", "o@example.com")
	cases := []struct {
		body  string
		field string
	}{
		{`{"messages":{}}`, "messages"},
		{`{"messages":[1]}`, "messages[0]"},
		{`{"messages":[{"from":"a","body":"b","at":"2024-05-01T10:00:00Z"},{"from":"a","body":"b","at":"ontem"}]}`, "messages[1].at"},
		{`{"messages":[{"from":"a","body":"b"}]}`, "messages[0].at"},
		{`{"messages":[{"at":"2024-05-01T10:00:00Z","private":"yes"}]}`, "messages[0].private"},
		{`{"messages":[{"at":"2024-05-01T10:00:00Z","media":"x"}]}`, "messages[0].media"},
		{`{"messages":[],"closed_by":["x"]}`, "closed_by"},
		{`{"messages":[],"reason":"x"}`, "reason"},
	}
	for _, c := range cases {
		got := decode[apiError](t, e.do("POST", "/sso/api/tickets/607/close", c.body), http.StatusBadRequest)
		if got.Field != c.field {
			t.Fatalf("%s: field %q, want %q", c.body, got.Field, c.field)
		}
	}
	if len(e.jobs("")) != 0 {
		t.Fatal("a malformed close queued a job")
	}
}
