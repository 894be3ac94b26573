package crashtest

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rcchat/caddy-whmcs-auth/whmcsauth/whmcssim"
)

// SIGKILL while the outbox closes tickets in a slow WHMCS, at the worst
// moment: WHMCS has stored a transcript and its answer has not reached
// Caddy yet. After a restart every ticket ends with exactly one transcript
// and status Closed: the job that died re-reads the ticket (GetTicket),
// finds its transcript's Ref and does not post it again.
func TestKillDuringOutboxWork(t *testing.T) {
	t.Parallel()
	sim := newSim(t)
	simURL := startSim(t, sim)
	holder := newAnswerHolder(t, simURL, 100*time.Millisecond, "AddTicketReply", "UpdateTicket")
	s := newServer(t, sim, holder.URL())
	s.start()

	const tickets = 6
	const trappedReply = 3
	seedClient(sim, "tickets@crash.test", "tickets-pw", "Active", 1)
	whmcsIDs := map[string]int64{}
	for i := 1; i <= tickets; i++ {
		id := fmt.Sprintf("rc-crash-%d", i)
		status, out := s.api("POST", "/sso/api/tickets", map[string]any{"ticket_id": id, "company_id": 42,
			"subject": "Pedido " + id, "message": "Olá",
			"contact": map[string]any{"name": "Crash Test", "email": "tickets@crash.test", "phone": "+5511999999999"}})
		if status != http.StatusCreated {
			t.Fatalf("open %s: %d %v", id, status, out)
		}
		whmcsIDs[id] = int64(out["whmcs_ticket_id"].(float64))
	}

	// WHMCS is slow to start each write, and slow to answer once done.
	sim.InjectFault("AddTicketReply", whmcssim.Fault{Latency: 100 * time.Millisecond})
	sim.InjectFault("UpdateTicket", whmcssim.Fault{Latency: 100 * time.Millisecond})
	holding := holder.trapAnswer("AddTicketReply", trappedReply)
	for id := range whmcsIDs {
		status, out := s.api("POST", "/sso/api/tickets/"+id+"/close", map[string]any{"closed_by": "Agente",
			"messages": []map[string]any{
				{"from": "Cliente", "body": "Preciso de ajuda com " + id, "at": "2026-11-28T10:00:00Z", "private": false},
				{"from": "Agente", "body": "Resolvido", "at": "2026-11-28T10:02:00Z", "private": false},
			}})
		if status != http.StatusAccepted || out["status"] != "queued" {
			t.Fatalf("close %s: %d %v", id, status, out)
		}
	}
	select {
	case <-holding:
	case <-time.After(30 * time.Second):
		t.Fatal("the outbox never got to the trapped transcript")
	}
	if err := s.kill(); err != nil {
		t.Fatal(err)
	}
	replies := 0
	for _, tk := range sim.Tickets() {
		replies += len(tk.Replies)
	}
	if replies != trappedReply {
		t.Fatalf("WHMCS holds %d transcripts at the kill, want %d (the trapped one included)", replies, trappedReply)
	}
	getTicketBefore := sim.Calls("GetTicket")

	s.start()
	s.waitOutboxEmpty(30 * time.Second)
	for id, wid := range whmcsIDs {
		tk, ok := sim.Ticket(wid)
		if !ok {
			t.Fatalf("WHMCS ticket %d of %s is gone", wid, id)
		}
		if tk.Status != "Closed" {
			t.Errorf("WHMCS ticket of %s is %q, want Closed", id, tk.Status)
		}
		if len(tk.Replies) != 1 {
			t.Errorf("WHMCS ticket of %s has %d replies, want exactly one transcript", id, len(tk.Replies))
		} else if !strings.Contains(tk.Replies[0].Message, "Preciso de ajuda com "+id) {
			t.Errorf("WHMCS ticket of %s holds another transcript:\n%s", id, tk.Replies[0].Message)
		}
		if status, out := s.api("GET", "/sso/api/tickets/"+id, nil); status != http.StatusOK || out["sync_state"] != "closed" {
			t.Errorf("link of %s: %d %v", id, status, out)
		}
	}
	if sim.Calls("GetTicket") == getTicketBefore {
		t.Error("the job that died never looked for its transcript in WHMCS before going on")
	}
}
