package tickets

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/rcchat/caddy-whmcs-auth/outbox"
	"github.com/rcchat/caddy-whmcs-auth/store"
	"github.com/rcchat/caddy-whmcs-auth/store/boltstore"
	"github.com/rcchat/caddy-whmcs-auth/whmcsauth"
	"github.com/rcchat/caddy-whmcs-auth/whmcsauth/whmcssim"
)

const (
	testToken    = "rcchat-service-token"
	simID        = "sidecar"
	simSecret    = "s3cret-value"
	testPanelURL = "https://whmcs.example/admin/supporttickets.php?action=viewticket&id="
)

// env is one sidecar under test: a WHMCS simulator over real HTTP, a
// bbolt state file, an outbox with tiny backoff and the Service.
type env struct {
	t      *testing.T
	sim    *whmcssim.Sim
	apiURL string
	client *whmcsauth.Client
	path   string
	st     *boltstore.Store
	ob     *outbox.Outbox
	svc    *Service
	cfg    Config
}

// newEnv starts an env with ticket sync on; opts adjust the Config.
func newEnv(t *testing.T, opts ...func(*Config)) *env {
	t.Helper()
	sim := whmcssim.New(whmcssim.Options{Identifier: simID, Secret: simSecret})
	apiURL, stop := sim.Start()
	t.Cleanup(stop)
	e := &env{t: t, sim: sim, apiURL: apiURL, path: filepath.Join(t.TempDir(), "state.db")}
	e.client = e.whmcsClient(simSecret)
	e.cfg = Config{WHMCS: e.client, ServiceToken: testToken, TicketSync: true, PanelURL: testPanelURL, Logger: zap.NewNop()}
	for _, o := range opts {
		o(&e.cfg)
	}
	e.open()
	t.Cleanup(func() { _ = e.st.Close() })
	return e
}

// whmcsClient returns a client of the simulator using secret.
func (e *env) whmcsClient(secret string) *whmcsauth.Client {
	e.t.Helper()
	c, err := whmcsauth.NewClient(whmcsauth.Config{URL: e.apiURL, Identifier: simID,
		Secret: whmcsauth.Secret(secret), Timeout: 5 * time.Second})
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// open (re)opens the state file with a fresh outbox and Service, as a
// restarted process would.
func (e *env) open() {
	e.t.Helper()
	st, err := boltstore.Open(e.path, boltstore.Options{})
	if err != nil {
		e.t.Fatal(err)
	}
	e.st = st
	e.ob = newTestOutbox(st)
	cfg := e.cfg
	cfg.Store, cfg.Outbox = st, e.ob
	if e.svc, err = New(cfg); err != nil {
		e.t.Fatal(err)
	}
	e.svc.Register(e.ob)
}

// restart simulates a process restart on the same state file.
func (e *env) restart() {
	e.t.Helper()
	if err := e.st.Close(); err != nil {
		e.t.Fatal(err)
	}
	e.open()
}

// newTestOutbox backs off for a few milliseconds only, so retry tests are
// fast, yet long enough that RunDue does not spin on a failing job.
func newTestOutbox(st store.Store) *outbox.Outbox {
	o := outbox.New(st, zap.NewNop())
	o.MinBackoff, o.MaxBackoff = 20*time.Millisecond, 40*time.Millisecond
	return o
}

// do sends a request with the service token.
func (e *env) do(method, path string, body any) *httptest.ResponseRecorder {
	return e.doAuth(method, path, body, "Bearer "+testToken)
}

// doAuth sends a request with the given Authorization ("" for none).
func (e *env) doAuth(method, path string, body any, auth string) *httptest.ResponseRecorder {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	r := httptest.NewRequest(method, path, rd)
	if rd != nil {
		r.Header.Set("Content-Type", "application/json")
	}
	if auth != "" {
		r.Header.Set("Authorization", auth)
	}
	w := httptest.NewRecorder()
	e.svc.ServeHTTP(w, r)
	return w
}

// decode reads a JSON answer, failing on a status other than want.
func decode[T any](t *testing.T, w *httptest.ResponseRecorder, want int) T {
	t.Helper()
	if w.Code != want {
		t.Fatalf("status %d, want %d; body %s", w.Code, want, w.Body.String())
	}
	var v T
	if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil {
		t.Fatalf("decoding %s: %v", w.Body.String(), err)
	}
	return v
}

// openBody is a valid open request for ticket id and contact e-mail.
func openBody(id, email string) map[string]any {
	return map[string]any{
		"ticket_id":  id,
		"company_id": 7,
		"contact":    map[string]any{"name": "Maria da Silva", "email": email, "phone": "+55 11 91234-5678"},
		"subject":    "Site fora do ar",
		"message":    "Olá,\nmeu site caiu.",
	}
}

// openTicket opens a ticket and returns the answer.
func (e *env) openTicket(id, email string) openedView {
	e.t.Helper()
	return decode[openedView](e.t, e.do("POST", "/sso/api/tickets", openBody(id, email)), http.StatusCreated)
}

// closeBody is a small conversation with one private note.
func closeBody() map[string]any {
	return map[string]any{
		"closed_by": "Maria",
		"messages": []map[string]any{
			{"from": "Cliente", "body": "meu site caiu", "at": "2024-05-01T10:00:00Z"},
			{"from": "Maria", "body": "nota interna: cliente VIP", "at": "2024-05-01T10:01:00Z", "private": true},
			{"from": "Maria", "body": "Resolvido!", "at": "2024-05-01T10:05:00Z", "private": false},
		},
	}
}

// drain runs the outbox until no job is pending (failed ones may stay).
func (e *env) drain() {
	e.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		e.ob.RunDue(context.Background())
		if len(e.jobs(store.JobPending)) == 0 {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("outbox not drained: %+v", e.jobs(""))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// jobs lists stored jobs in a state ("" for all).
func (e *env) jobs(state store.JobState) []store.Job {
	e.t.Helper()
	var out []store.Job
	err := e.st.View(context.Background(), func(tx store.Tx) error {
		all, err := tx.Jobs(0)
		for _, j := range all {
			if state == "" || j.State == state {
				out = append(out, j)
			}
		}
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return out
}

// link reads a ticket link from the store.
func (e *env) link(id string) store.TicketLink {
	e.t.Helper()
	var l store.TicketLink
	err := e.st.View(context.Background(), func(tx store.Tx) error {
		var err error
		l, err = tx.TicketLink(id)
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return l
}

// simTicket returns the simulator's copy of a WHMCS ticket.
func (e *env) simTicket(id int64) whmcssim.Ticket {
	e.t.Helper()
	tk, ok := e.sim.Ticket(id)
	if !ok {
		e.t.Fatalf("WHMCS ticket %d does not exist", id)
	}
	return tk
}
