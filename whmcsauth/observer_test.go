package whmcsauth

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/rcchat/caddy-whmcs-auth/whmcsauth/whmcssim"
)

// observed is what an Observer heard.
type observed struct {
	action, outcome string
	took            time.Duration
}

// The Observer hears of every request once, with the outcome the caller
// gets: a success envelope whose content cannot be read is a transport
// failure, and a call refused locally (no request sent) is not heard of.
func TestObserverOutcomes(t *testing.T) {
	sim := whmcssim.New(whmcssim.Options{Identifier: tIdent, Secret: tSecret})
	u, stop := sim.Start()
	t.Cleanup(stop)
	var (
		mu   sync.Mutex
		seen []observed
	)
	c, err := NewClient(Config{URL: u, Identifier: tIdent, Secret: tSecret, Timeout: 200 * time.Millisecond,
		Observer: func(action, outcome string, took time.Duration) {
			mu.Lock()
			defer mu.Unlock()
			seen = append(seen, observed{action, outcome, took})
		}})
	if err != nil {
		t.Fatal(err)
	}
	id := sim.AddClient(whmcssim.Client{FirstName: "A", LastName: "B", Email: "a@example.com", Status: "Active"})
	ctx := context.Background()

	steps := []struct {
		name    string
		setup   func()
		call    func() error
		action  string
		outcome string
	}{
		{"ok", nil, func() error { _, err := c.GetClientsDetails(ctx, id, ""); return err }, "GetClientsDetails", "ok"},
		{"business", nil, func() error { _, err := c.GetClientsDetails(ctx, id+100, ""); return err }, "GetClientsDetails", "business"},
		{"auth", func() { sim.DenyAction("GetInvoice") }, func() error { _, err := c.GetInvoice(ctx, 1); return err }, "GetInvoice", "auth"},
		{"5xx", func() { sim.InjectFault("GetClients", whmcssim.Fault{Status: 502, Times: 1}) },
			func() error { _, err := c.GetClients(ctx, GetClientsRequest{}); return err }, "GetClients", "transport"},
		{"malformed", func() { sim.InjectFault("GetTicket", whmcssim.Fault{Malformed: true, Times: 1}) },
			func() error { _, err := c.GetTicket(ctx, 1); return err }, "GetTicket", "transport"},
		{"timeout", func() { sim.InjectFault("UpdateTicket", whmcssim.Fault{Latency: time.Second, Times: 1}) },
			func() error { return c.UpdateTicketStatus(ctx, 1, "Closed") }, "UpdateTicket", "transport"},
		{"no request", nil, func() error { _, err := c.GetClientsDetails(ctx, 0, ""); return err }, "", ""},
	}
	for _, st := range steps {
		if st.setup != nil {
			st.setup()
		}
		mu.Lock()
		before := len(seen)
		mu.Unlock()
		start := time.Now()
		err := st.call()
		elapsed := time.Since(start)
		mu.Lock()
		got := seen[before:]
		mu.Unlock()
		if st.action == "" {
			if len(got) != 0 {
				t.Errorf("%s: observed %+v for a call that sent no request", st.name, got)
			}
			continue
		}
		if len(got) != 1 {
			t.Fatalf("%s: observed %d times (%+v), want once", st.name, len(got), got)
		}
		o := got[0]
		if o.action != st.action || o.outcome != st.outcome {
			t.Errorf("%s: observed %s/%s, want %s/%s (err %v)", st.name, o.action, o.outcome, st.action, st.outcome, err)
		}
		if (err == nil) != (st.outcome == OutcomeOK) {
			t.Errorf("%s: err %v does not match outcome %s", st.name, err, o.outcome)
		}
		if o.took <= 0 || o.took > elapsed {
			t.Errorf("%s: took %v, the call lasted %v", st.name, o.took, elapsed)
		}
	}
}
