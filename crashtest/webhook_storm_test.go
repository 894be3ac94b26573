package crashtest

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rcchat/caddy-whmcs-auth/webhooks"
)

// SIGKILL in the middle of a webhook storm loses no acknowledged event and
// applies none twice: after a restart on the same state file every event
// acknowledged before the kill is a duplicate, every event is accepted at
// most once over all deliveries, and once the confirmation jobs have run
// every company is in the state WHMCS says, whatever the events claimed.
func TestKillDuringWebhookStorm(t *testing.T) {
	t.Parallel()
	s := newServer(t, nil, "")
	s.start()

	const (
		companies = 12
		events    = 300
		senders   = 8
		killAfter = 100 // acknowledged events
	)
	type company struct{ client, service int64 }
	cos := make([]company, companies)
	for i := range cos {
		email := fmt.Sprintf("storm%02d@crash.test", i)
		cos[i].client, cos[i].service = seedClient(s.sim, email, "storm-pw", "Active", 1)
		s.mustLogin(email, "storm-pw") // creates the company
	}
	// WHMCS's word, which the storm contradicts at random.
	want := map[int64]string{}
	for i, c := range cos {
		want[c.client] = "active"
		if i%3 == 0 {
			if err := s.sim.ModuleSuspend(c.service); err != nil {
				t.Fatal(err)
			}
			want[c.client] = "suspended"
		}
	}

	bodies := make([][]byte, events)
	ids := make([]string, events)
	for i := range bodies {
		c := cos[rand.IntN(companies)]
		typ := webhooks.EventModuleSuspend
		if rand.IntN(2) == 0 {
			typ = webhooks.EventModuleUnsuspend
		}
		ids[i] = fmt.Sprintf("storm-%03d", i)
		bodies[i] = event(ids[i], typ, c.client, c.service, 1)
	}

	// The storm: senders deliver every event once; a watcher kills Caddy
	// once killAfter of them are acknowledged.
	var (
		mu      sync.Mutex
		acked   = map[string]bool{}
		nAcked  atomic.Int32
		lost    atomic.Int32 // deliveries that got no answer (the kill)
		killErr = make(chan error, 1)
		stormed = make(chan struct{})
	)
	go func() {
		for nAcked.Load() < killAfter {
			select {
			case <-stormed:
				killErr <- fmt.Errorf("the storm ended with %d acknowledged events, before the kill", nAcked.Load())
				return
			case <-time.After(time.Millisecond):
			}
		}
		killErr <- s.kill()
	}()
	work := make(chan int)
	var wg sync.WaitGroup
	for range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				status, answer, err := s.sendEvent(bodies[i])
				switch {
				case err != nil:
					lost.Add(1)
				case status == http.StatusOK && answer == "accepted":
					mu.Lock()
					acked[ids[i]] = true
					mu.Unlock()
					nAcked.Add(1)
				default:
					t.Errorf("event %s before the kill: %d %q", ids[i], status, answer)
				}
			}
		}()
	}
	for i := range bodies {
		work <- i
	}
	close(work)
	wg.Wait()
	close(stormed)
	if err := <-killErr; err != nil {
		t.Fatal(err)
	}
	if len(acked) >= events || lost.Load() == 0 {
		t.Fatalf("the kill was not mid-storm: %d acknowledged, %d unanswered", len(acked), lost.Load())
	}
	t.Logf("storm: %d of %d events acknowledged before SIGKILL, %d unanswered", len(acked), events, lost.Load())

	s.start()
	accepted := map[string]int{}
	for k := range acked {
		accepted[k] = 1
	}
	// Redeliver everything twice, as WHMCS's hook retrying would: an
	// acknowledged event must be a duplicate; any other is accepted once
	// (it never got in) or a duplicate (it got in, and its answer died
	// with the process); the second round must be all duplicates.
	storedUnanswered := 0
	for round := 1; round <= 2; round++ {
		for i, body := range bodies {
			status, answer, err := s.sendEvent(body)
			if err != nil || status != http.StatusOK {
				t.Fatalf("round %d, event %s: %d %v", round, ids[i], status, err)
			}
			switch answer {
			case "accepted":
				accepted[ids[i]]++
				if acked[ids[i]] {
					t.Errorf("event %s was acknowledged before the kill and is accepted again after it: lost", ids[i])
				}
			case "duplicate":
				if round == 1 && !acked[ids[i]] {
					storedUnanswered++
				}
			default:
				t.Errorf("round %d, event %s: answer %q", round, ids[i], answer)
			}
		}
	}
	t.Logf("after the restart: %d events were stored but unanswered at the kill", storedUnanswered)
	for id, n := range accepted {
		if n > 1 {
			t.Errorf("event %s accepted %d times", id, n)
		}
	}
	// Every event is in: answered "accepted" once, or stored by the
	// process that was killed before it could answer.
	if len(accepted)+storedUnanswered != events {
		t.Errorf("%d events accepted with an answer and %d stored without one, want %d in all",
			len(accepted), storedUnanswered, events)
	}
	// This process counted exactly the acceptances it answered.
	afterRestart := len(accepted) - len(acked)
	if v, _ := metricValue(s.metrics(), "caddy_whmcs_auth_events_total", "outcome", "accepted"); int(v) != afterRestart {
		t.Errorf("events_total{outcome=accepted} = %v after the restart, want %d", v, afterRestart)
	}

	// Every event's confirmation job survived the kill and ran; the last
	// word on each company is WHMCS's.
	s.waitOutboxEmpty(30 * time.Second)
	got := s.companyStatuses()
	for client, st := range want {
		if got[client] != st {
			t.Errorf("company of WHMCS client %d is %q, WHMCS says %q", client, got[client], st)
		}
	}
}
