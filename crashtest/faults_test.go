package crashtest

import (
	"net/http"
	"testing"
	"time"

	"github.com/rcchat/caddy-whmcs-auth/webhooks"
	"github.com/rcchat/caddy-whmcs-auth/whmcsauth"
	"github.com/rcchat/caddy-whmcs-auth/whmcsauth/whmcssim"
)

// A WHMCS that is slow, failing or dropping connections: logins answer
// 503 (and never wait past the WHMCS client's timeout), webhooks are
// still accepted with their implied status applied at once, and outbox
// jobs keep being retried until WHMCS is back, then finish exactly once.
func TestWHMCSFaults(t *testing.T) {
	t.Parallel()
	s := newServer(t, nil, "")
	s.start()
	sim := s.sim
	seedClient(sim, "login@crash.test", "login-pw", "Active", 1)
	hookClient, hookService := seedClient(sim, "hook@crash.test", "hook-pw", "Active", 2)
	seedClient(sim, "ticket@crash.test", "ticket-pw", "Active", 1)
	hookCookie := s.mustLogin("hook@crash.test", "hook-pw")
	status, out := s.api("POST", "/sso/api/tickets", map[string]any{"ticket_id": "rc-fault", "company_id": 7,
		"subject": "Pedido", "message": "Olá",
		"contact": map[string]any{"name": "Crash Test", "email": "ticket@crash.test", "phone": "+5511999999999"}})
	if status != http.StatusCreated {
		t.Fatalf("open ticket: %d %v", status, out)
	}
	ticketID := int64(out["whmcs_ticket_id"].(float64))

	// A WHMCS that never answers: the login gives up with the client's
	// timeout. It runs alongside the rest, which does not need to wait.
	type result struct {
		status int
		code   string
		took   time.Duration
		err    error
	}
	slow := make(chan result, 1)
	requestsBefore := sim.Requests()
	sim.InjectFault("GetClientsDetails", whmcssim.Fault{Latency: time.Minute, Times: 1})
	go func() {
		start := time.Now()
		st, code, _, err := s.login("login@crash.test", "login-pw")
		slow <- result{st, code, time.Since(start), err}
	}()
	eventually(t, 10*time.Second, "the slow login reaching WHMCS", func() bool { return sim.Requests() > requestsBefore })

	// Failures that come at once: 503 at once.
	quick := map[string]whmcssim.Fault{
		"HTTP 502":       {Status: 502, Times: 1},
		"dropped":        {Drop: true, Times: 1},
		"malformed":      {Malformed: true, Times: 1},
		"slow, then 500": {Latency: 300 * time.Millisecond, Status: 500, Times: 1},
	}
	for name, f := range quick {
		sim.InjectFault("GetClientsDetails", f)
		start := time.Now()
		st, code, _, err := s.login("login@crash.test", "login-pw")
		if err != nil || st != http.StatusServiceUnavailable || code != "whmcs_unavailable" {
			t.Errorf("login with WHMCS %s: %d %q %v", name, st, code, err)
		}
		if took := time.Since(start); took > 5*time.Second {
			t.Errorf("login with WHMCS %s took %v", name, took)
		}
	}

	// WHMCS down for everything, and the transcript's answer lost after it
	// was stored (rules apply in the order injected).
	sim.InjectFault("AddTicketReply", whmcssim.Fault{Drop: true, Commit: true, Times: 1})
	sim.InjectFault("", whmcssim.Fault{Status: 503})
	st, answer, err := s.sendEvent(event("fault-suspend", webhooks.EventModuleSuspend, hookClient, hookService, 2))
	if err != nil || st != http.StatusOK || answer != "accepted" {
		t.Fatalf("webhook while WHMCS is down: %d %q %v", st, answer, err)
	}
	if got := s.companyStatuses()[hookClient]; got != "suspended" {
		t.Fatalf("the suspension was not applied at once: company is %q", got)
	}
	if st := s.withSession("/backend/tickets", hookCookie); st != http.StatusPaymentRequired {
		t.Fatalf("suspended company's session: %d, want 402", st)
	}
	status, out = s.api("POST", "/sso/api/tickets/rc-fault/close", map[string]any{"closed_by": "Agente",
		"messages": []map[string]any{{"from": "Cliente", "body": "Obrigado", "at": "2026-11-28T10:00:00Z", "private": false}}})
	if status != http.StatusAccepted {
		t.Fatalf("close while WHMCS is down: %d %v", status, out)
	}
	if st, code, _, _ := s.login("login@crash.test", "login-pw"); st != http.StatusServiceUnavailable || code != "whmcs_unavailable" {
		t.Errorf("login while WHMCS is down: %d %q", st, code)
	}
	// Both jobs fail and wait for a retry rather than being parked.
	eventually(t, 15*time.Second, "both jobs failing at least once", func() bool {
		jobs := s.outboxJobs()
		failing := 0
		for _, j := range jobs {
			if j["state"] == "failed" {
				t.Fatalf("job parked for an operator while WHMCS was only unavailable: %v", j)
			}
			if j["attempts"].(float64) >= 1 && j["last_error"] != "" {
				failing++
			}
		}
		return failing == 2
	})
	if tk, _ := sim.Ticket(ticketID); len(tk.Replies) != 1 {
		t.Fatalf("the dropped AddTicketReply should have stored one transcript, WHMCS has %d", len(tk.Replies))
	}

	// WHMCS is back: the jobs finish on their next attempt, and the last
	// word is WHMCS's (the service was never suspended there).
	sim.ClearFaults()
	s.waitOutboxEmpty(30 * time.Second)
	if got := s.companyStatuses()[hookClient]; got != "active" {
		t.Errorf("after the confirmation against WHMCS the company is %q, want active", got)
	}
	if st := s.withSession("/backend/tickets", hookCookie); st != http.StatusOK {
		t.Errorf("reactivated company's session: %d, want 200", st)
	}
	tk, _ := sim.Ticket(ticketID)
	if tk.Status != "Closed" || len(tk.Replies) != 1 {
		t.Errorf("WHMCS ticket: status %q with %d replies, want Closed with exactly one", tk.Status, len(tk.Replies))
	}
	if _, code, cookie, err := s.login("login@crash.test", "login-pw"); cookie == "" {
		t.Errorf("login after WHMCS came back: %q %v", code, err)
	}

	r := <-slow
	if r.err != nil || r.status != http.StatusServiceUnavailable || r.code != "whmcs_unavailable" {
		t.Errorf("login with a WHMCS that never answers: %d %q %v", r.status, r.code, r.err)
	}
	if limit := whmcsauth.DefaultTimeout + 3*time.Second; r.took > limit {
		t.Errorf("login with a WHMCS that never answers took %v, more than %v", r.took, limit)
	}

	m := s.metrics()
	for _, outcome := range []string{"ok", "transport"} {
		if v, ok := metricValue(m, "caddy_whmcs_auth_whmcs_calls_total", "action", "GetClientsDetails", "outcome", outcome); !ok || v < 1 {
			t.Errorf("whmcs_calls_total{GetClientsDetails,%s} = %v (present %v)", outcome, v, ok)
		}
	}
	// The quick failures, the one while WHMCS was down, the slow one.
	if v, _ := metricValue(m, "caddy_whmcs_auth_logins_total", "outcome", "whmcs_unavailable"); int(v) != len(quick)+2 {
		t.Errorf("logins_total{whmcs_unavailable} = %v, want %d", v, len(quick)+2)
	}
	if v, _ := metricValue(m, "caddy_whmcs_auth_outbox_job_runs_total", "outcome", "retry"); v < 2 {
		t.Errorf("outbox_job_runs_total{retry} = %v, want at least 2", v)
	}
}
