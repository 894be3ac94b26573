package webhooks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/rcchat/caddy-whmcs-auth/outbox"
	"github.com/rcchat/caddy-whmcs-auth/store"
	"github.com/rcchat/caddy-whmcs-auth/store/boltstore"
	"github.com/rcchat/caddy-whmcs-auth/whmcsauth"
	"github.com/rcchat/caddy-whmcs-auth/whmcsauth/whmcssim"
)

const (
	testSecret = "test-webhook-secret"
	testToken  = "legacy-token-123"
	apiID      = "sidecar"
	apiSecret  = "api-secret"
)

var testPlans = whmcsauth.Plans{1: "Basico", 2: "Premium"}

// env is one receiver over a bolt file and a simulated WHMCS over HTTP.
type env struct {
	t      *testing.T
	sim    *whmcssim.Sim
	api    *whmcsauth.Client
	path   string
	store  store.Store
	outbox *outbox.Outbox
	rc     *Receiver
	log    *zap.Logger
	// wait is the receiver's Config.WHMCSWait (zero: the default).
	wait time.Duration
}

func newEnv(t *testing.T) *env {
	t.Helper()
	sim := whmcssim.New(whmcssim.Options{Identifier: apiID, Secret: apiSecret, BanAfter: -1})
	url, stop := sim.Start()
	t.Cleanup(stop)
	api, err := whmcsauth.NewClient(whmcsauth.Config{URL: url, Identifier: apiID, Secret: apiSecret, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, sim: sim, api: api, path: filepath.Join(t.TempDir(), "state.db"), log: zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel))}
	e.open()
	t.Cleanup(func() { _ = e.store.Close() })
	return e
}

// open (re)opens the state file and builds a fresh outbox and receiver,
// as a restarted process would.
func (e *env) open() {
	e.t.Helper()
	st, err := boltstore.Open(e.path, boltstore.Options{})
	if err != nil {
		e.t.Fatal(err)
	}
	e.store = st
	e.build()
}

// build makes a fresh outbox and receiver over the open state file, with
// e.api and e.wait.
func (e *env) build() {
	e.t.Helper()
	e.outbox = outbox.New(e.store, e.log)
	e.outbox.MinBackoff, e.outbox.MaxBackoff = time.Millisecond, 2*time.Millisecond
	var err error
	e.rc, err = New(Config{
		Store: e.store, WHMCS: e.api, Plans: testPlans, Outbox: e.outbox,
		Secret: testSecret, LegacyToken: testToken, Logger: e.log, WHMCSWait: e.wait,
	})
	if err != nil {
		e.t.Fatal(err)
	}
}

// seed adds a WHMCS client with one service of product pid and, when
// company is set, the company the sidecar would have after a login.
func (e *env) seed(pid int64, status string, company bool) (clientID, serviceID int64) {
	e.t.Helper()
	clientID = e.sim.AddClient(whmcssim.Client{FirstName: "Ana", LastName: "Souza", CompanyName: "Loja da Ana",
		Email: fmt.Sprintf("ana%d@example.com", time.Now().UnixNano())})
	serviceID = e.sim.AddService(whmcssim.Service{ClientID: clientID, ProductID: pid, Status: status,
		Password: "SECRET-PW", NextDueDate: "2030-01-15"})
	if company {
		e.putCompany(store.Company{WHMCSClientID: clientID, WHMCSServiceID: serviceID, Name: "Loja da Ana",
			Plan: testPlans[pid], Status: store.StatusActive, DueDate: "2030-01-15"})
	}
	return clientID, serviceID
}

func (e *env) putCompany(c store.Company) store.Company {
	e.t.Helper()
	err := e.store.Update(context.Background(), func(tx store.Tx) error { return tx.PutCompany(&c) })
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// company returns the company of a WHMCS client; ok is false when none.
func (e *env) company(clientID int64) (store.Company, bool) {
	e.t.Helper()
	var c store.Company
	err := e.store.View(context.Background(), func(tx store.Tx) error {
		var err error
		c, err = tx.CompanyByWHMCSClient(clientID)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return store.Company{}, false
	}
	if err != nil {
		e.t.Fatal(err)
	}
	return c, true
}

func (e *env) mustStatus(clientID int64, want store.CompanyStatus) store.Company {
	e.t.Helper()
	c, ok := e.company(clientID)
	if !ok {
		e.t.Fatalf("client %d has no company, want one %s", clientID, want)
	}
	if c.Status != want {
		e.t.Fatalf("company of client %d is %s (%s), want %s", clientID, c.Status, c.StatusReason, want)
	}
	return c
}

// jobs lists the outbox jobs that are not done.
func (e *env) jobs() []store.Job {
	e.t.Helper()
	var jobs []store.Job
	err := e.store.View(context.Background(), func(tx store.Tx) error {
		var err error
		jobs, err = tx.Jobs(1000)
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return jobs
}

// drain runs the outbox until no job is pending or due within a second.
func (e *env) drain() {
	e.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		e.outbox.RunDue(context.Background())
		pending := 0
		for _, j := range e.jobs() {
			if j.State == store.JobPending {
				pending++
			}
		}
		if pending == 0 {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	e.t.Fatalf("outbox did not drain: %+v", e.jobs())
}

var eventSeq atomic.Int64

// event builds a SPEC 7 body with a fresh id.
func event(typ string, params map[string]any) []byte {
	b, _ := json.Marshal(map[string]any{
		"id":          "evt-" + strconv.FormatInt(eventSeq.Add(1), 10) + "-" + strconv.FormatInt(time.Now().UnixNano(), 36),
		"event":       typ,
		"occurred_at": time.Now().UTC().Format(time.RFC3339),
		"params":      params,
	})
	return b
}

// signed builds a signed request for body at ts (now when zero).
func signed(body []byte, ts int64) *http.Request {
	if ts == 0 {
		ts = time.Now().Unix()
	}
	r := httptest.NewRequest(http.MethodPost, "/api/webhooks/whmcs", strings.NewReader(string(body)))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	r.Header.Set(HeaderSignature, Sign(testSecret, ts, body))
	return r
}

// answer is a decoded response.
type answer struct {
	Code   int
	Status string `json:"status"`
	ID     flexID `json:"id"`
	Error  string `json:"error"`
	Header http.Header
	Raw    string
}

func serve(t *testing.T, h http.Handler, r *http.Request) answer {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	a := answer{Code: w.Code, Header: w.Header(), Raw: w.Body.String()}
	if err := json.Unmarshal(w.Body.Bytes(), &a); err != nil {
		t.Fatalf("answer %d is not JSON: %q", w.Code, w.Body.String())
	}
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q", ct)
	}
	return a
}

// send posts a signed body and requires 200 with the given status.
func (e *env) send(body []byte, want string) answer {
	e.t.Helper()
	a := serve(e.t, e.rc, signed(body, 0))
	if a.Code != http.StatusOK || a.Status != want {
		e.t.Fatalf("answer %d %q, want 200 %q", a.Code, a.Raw, want)
	}
	return a
}

func whmcsSvc(clientID, pid int64, status string) whmcssim.Service {
	return whmcssim.Service{ClientID: clientID, ProductID: pid, Status: status, Password: "SECRET-PW", NextDueDate: "2030-02-01"}
}

func whmcssimDown() whmcssim.Fault { return whmcssim.Fault{Status: 503} }

// flexID reads an answered id whether it came back as a string or a number.
type flexID string

func (f *flexID) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*f = flexID(s)
		return nil
	}
	*f = flexID(b)
	return nil
}
