package webhooks

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rcchat/caddy-whmcs-auth/store"
)

func TestAuthentication(t *testing.T) {
	e := newEnv(t)
	client, svc := e.seed(1, "Suspended", true)
	body := func() []byte {
		return event(EventModuleSuspend, map[string]any{"serviceid": svc, "userid": client, "pid": 1})
	}
	now := time.Now().Unix()

	cases := []struct {
		name string
		req  func() *http.Request
		want int
		msg  string
	}{
		{"valid", func() *http.Request { return signed(body(), 0) }, 200, ""},
		{"bad signature", func() *http.Request {
			b := body()
			r := signed(b, now)
			r.Header.Set(HeaderSignature, Sign("wrong-secret", now, b))
			return r
		}, 401, "invalid signature"},
		{"signature of another body", func() *http.Request {
			r := signed(body(), 0)
			r.Header.Set(HeaderSignature, Sign(testSecret, now, []byte(`{}`)))
			return r
		}, 401, "invalid signature"},
		{"missing signature", func() *http.Request {
			r := signed(body(), 0)
			r.Header.Del(HeaderSignature)
			return r
		}, 401, "missing " + HeaderSignature},
		{"malformed signature", func() *http.Request {
			r := signed(body(), 0)
			r.Header.Set(HeaderSignature, "md5=abc")
			return r
		}, 401, "malformed"},
		{"missing timestamp", func() *http.Request {
			r := signed(body(), 0)
			r.Header.Del(HeaderTimestamp)
			return r
		}, 401, HeaderTimestamp},
		{"timestamp not signed with", func() *http.Request {
			r := signed(body(), now)
			r.Header.Set(HeaderTimestamp, strconv.FormatInt(now-1, 10))
			return r
		}, 401, "invalid signature"},
		{"stale timestamp (-6 min)", func() *http.Request { return signed(body(), now-360) }, 401, "5 minutes"},
		{"future timestamp (+6 min)", func() *http.Request { return signed(body(), now+360) }, 401, "5 minutes"},
		{"old but inside window (-4 min)", func() *http.Request { return signed(body(), now-240) }, 200, ""},
		{"ahead but inside window (+4 min)", func() *http.Request { return signed(body(), now+240) }, 200, ""},
		{"legacy token header", func() *http.Request {
			r := httptest.NewRequest(http.MethodPost, "/api/webhooks/whmcs", strings.NewReader(string(body())))
			r.Header.Set(HeaderToken, testToken)
			return r
		}, 200, ""},
		{"legacy token query", func() *http.Request {
			return httptest.NewRequest(http.MethodPost, "/api/webhooks/whmcs?token="+testToken, strings.NewReader(string(body())))
		}, 200, ""},
		{"wrong legacy token", func() *http.Request {
			r := httptest.NewRequest(http.MethodPost, "/api/webhooks/whmcs", strings.NewReader(string(body())))
			r.Header.Set(HeaderToken, testToken+"x")
			return r
		}, 401, "invalid webhook token"},
		{"bad signature is not rescued by a token", func() *http.Request {
			b := body()
			r := signed(b, now)
			r.Header.Set(HeaderSignature, Sign("wrong", now, b))
			r.Header.Set(HeaderToken, testToken)
			return r
		}, 401, "invalid signature"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := serve(t, e.rc, tc.req())
			if a.Code != tc.want {
				t.Fatalf("code %d (%s), want %d", a.Code, a.Raw, tc.want)
			}
			if tc.want == 200 && a.Status != "accepted" {
				t.Fatalf("answer %s", a.Raw)
			}
			if tc.want == 401 && !strings.Contains(a.Error, tc.msg) {
				t.Fatalf("error %q does not mention %q", a.Error, tc.msg)
			}
		})
	}
	// A refused request changed nothing and stored nothing beyond the
	// accepted ones.
	if n := len(e.jobs()); n != 5 {
		t.Errorf("%d jobs queued, want 5 (one per accepted event)", n)
	}
}

func TestAuthenticationNotConfigured(t *testing.T) {
	e := newEnv(t)
	for _, cfg := range []Config{{}, {Secret: testSecret}, {LegacyToken: testToken}} {
		cfg.Store = e.store
		rc, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		body := event(EventModuleSuspend, map[string]any{"serviceid": 1, "userid": 1})
		r := signed(body, 0)
		r.Header.Set(HeaderToken, testToken)
		a := serve(t, rc, r)
		want := 200
		if cfg.Secret == "" && cfg.LegacyToken == "" {
			want = 401
		}
		if cfg.Secret == "" && cfg.LegacyToken != "" {
			want = 200 // the token authenticates; the signature is not checked without a key
		}
		if a.Code != want {
			t.Errorf("secret=%t token=%t: %d %s, want %d", cfg.Secret != "", cfg.LegacyToken != "", a.Code, a.Raw, want)
		}
	}
	// Only a secret: the legacy token is not accepted.
	rc, _ := New(Config{Store: e.store, Secret: testSecret})
	r := httptest.NewRequest(http.MethodPost, "/api/webhooks/whmcs?token="+testToken, strings.NewReader(`{}`))
	if a := serve(t, rc, r); a.Code != 401 {
		t.Errorf("token without legacy_token configured: %d", a.Code)
	}
}

func TestMethodSizeAndShape(t *testing.T) {
	e := newEnv(t)
	for _, m := range []string{http.MethodGet, http.MethodPut, http.MethodDelete, http.MethodHead} {
		w := httptest.NewRecorder()
		e.rc.ServeHTTP(w, httptest.NewRequest(m, "/api/webhooks/whmcs", nil))
		if w.Code != http.StatusMethodNotAllowed || w.Header().Get("Allow") != "POST" {
			t.Errorf("%s: %d Allow=%q", m, w.Code, w.Header().Get("Allow"))
		}
	}

	big := event(EventModuleSuspend, map[string]any{"serviceid": 1, "userid": 1, "pad": strings.Repeat("x", MaxBodyBytes)})
	if a := serve(t, e.rc, signed(big, 0)); a.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized: %d %s", a.Code, a.Raw)
	}
	// Unknown params are ignored, so a body just under the limit is fine.
	pad := MaxBodyBytes - len(event(EventModuleSuspend, map[string]any{"serviceid": 1, "userid": 1, "pad": ""})) - 20
	okBody := event(EventModuleSuspend, map[string]any{"serviceid": 1, "userid": 1, "pad": strings.Repeat("x", pad)})
	if a := serve(t, e.rc, signed(okBody, 0)); a.Code != 200 {
		t.Errorf("body of %d bytes: %d %s", len(okBody), a.Code, a.Raw)
	}

	malformed := []struct{ body, field string }{
		{`not json`, "object"},
		{`{"id":"a","event":"AfterModuleSuspend","params":{"serviceid":1}`, "JSON"},
		{`[1,2]`, "object"},
		{`null`, "object"},
		{`{"id":"a","event":"AfterModuleSuspend","params":{"serviceid":1},"extra":true}`, "extra"},
		{`{"id":"a","event":"AfterModuleSuspend","params":{"serviceid":1}} {}`, "JSON"},
		{`{"id":"a","params":{"serviceid":1}}`, "event"},
		{`{"id":"a","event":7,"params":{"serviceid":1}}`, "event"},
		{`{"event":"AfterModuleSuspend","params":{"serviceid":1}}`, "id"},
		{`{"id":"","event":"AfterModuleSuspend","params":{"serviceid":1}}`, "id"},
		{`{"id":"a b","event":"AfterModuleSuspend","params":{"serviceid":1}}`, "id"},
		{`{"id":"legacy/x","event":"AfterModuleSuspend","params":{"serviceid":1}}`, "id"},
		{`{"id":{},"event":"AfterModuleSuspend","params":{"serviceid":1}}`, "id"},
		{`{"id":"a","event":"AfterModuleSuspend","params":{"serviceid":"12x"}}`, "params.serviceid"},
		{`{"id":"a","event":"AfterModuleSuspend","params":{"serviceid":-3}}`, "params.serviceid"},
		{`{"id":"a","event":"AfterModuleSuspend","params":{"serviceid":1,"userid":true}}`, "params.userid"},
		{`{"id":"a","event":"AfterModuleSuspend","params":{"serviceid":1,"pid":[1]}}`, "params.pid"},
		{`{"id":"a","event":"AfterModuleSuspend","params":{"userid":1}}`, "params.serviceid"},
		{`{"id":"a","event":"InvoicePaid","params":{"invoiceid":"abc"}}`, "params.invoiceid"},
		{`{"id":"a","event":"InvoicePaid","params":{}}`, "params.invoiceid"},
		{`{"id":"a","event":"AfterModuleSuspend","params":"x"}`, "params"},
		{`{"id":"a","event":"AfterModuleSuspend","occurred_at":"yesterday","params":{"serviceid":1}}`, "occurred_at"},
		{`{"clientid":1,"status":"Paused"}`, "status"},
		{`{"clientid":"x","status":"Active"}`, "clientid"},
		{`{"serviceid":3,"status":"Active"}`, "clientid"},
		{`{"clientid":1,"status":"Active","token":"x"}`, "token"},
	}
	for _, m := range malformed {
		a := serve(t, e.rc, signed([]byte(m.body), 0))
		if a.Code != http.StatusBadRequest || !strings.Contains(a.Error, m.field) {
			t.Errorf("%s: %d %q, want 400 naming %q", m.body, a.Code, a.Error, m.field)
		}
	}
	if n := len(e.jobs()); n != 1 {
		t.Errorf("%d jobs after malformed bodies, want 1", n)
	}
}

func TestIgnoredEvents(t *testing.T) {
	e := newEnv(t)
	for _, typ := range []string{"ClientAdd", "AfterModuleSuspendFailed", "TicketOpen", "invoicepaid"} {
		body := []byte(fmt.Sprintf(`{"id":"i-%s","event":%q,"params":{"anything":{"nested":[1]}}}`, typ, typ))
		if a := serve(t, e.rc, signed(body, 0)); a.Code != 200 || a.Status != "ignored" || a.Raw != `{"status":"ignored"}`+"\n" {
			t.Errorf("%s: %d %q", typ, a.Code, a.Raw)
		}
		// Still authenticated first.
		r := signed(body, 0)
		r.Header.Set(HeaderSignature, Sign("nope", time.Now().Unix(), body))
		if a := serve(t, e.rc, r); a.Code != 401 {
			t.Errorf("%s unsigned: %d", typ, a.Code)
		}
	}
	if n := len(e.jobs()); n != 0 {
		t.Errorf("ignored events queued %d jobs", n)
	}
}

func TestIDsAsNumbersAndStrings(t *testing.T) {
	e := newEnv(t)
	client, svc := e.seed(1, "Suspended", true)
	bodies := []string{
		fmt.Sprintf(`{"id":"n1","event":"AfterModuleSuspend","params":{"serviceid":%d,"userid":%d,"pid":1,"invoiceid":null}}`, svc, client),
		fmt.Sprintf(`{"id":"s1","event":"AfterModuleUnsuspend","params":{"serviceid":"%d","userid":"%d","pid":"1","invoiceid":""}}`, svc, client),
		fmt.Sprintf(`{"id":42,"event":"AfterModuleSuspend","occurred_at":"2026-01-02T03:04:05-03:00","params":{"serviceid":" %d ","userid":%d.0,"pid":1,"password":"x","domain":"a.example"}}`, svc, client),
	}
	want := []store.CompanyStatus{store.StatusSuspended, store.StatusActive, store.StatusSuspended}
	for i, b := range bodies {
		a := e.send([]byte(b), "accepted")
		if i == 2 && !strings.Contains(a.Raw, `"id":42`) {
			t.Errorf("numeric event id answered as %s, want the number 42", a.Raw)
		}
		if i == 0 && !strings.Contains(a.Raw, `"id":"n1"`) {
			t.Errorf("string event id answered as %s", a.Raw)
		}
		e.mustStatus(client, want[i])
	}
	var ev store.Event
	_ = e.store.View(context.Background(), func(tx store.Tx) error { ev, _ = tx.Event("42"); return nil })
	if ev.ServiceID != svc || ev.ClientID != client || ev.ProductID != 1 || ev.OccurredAt.IsZero() {
		t.Errorf("stored event %+v", ev)
	}
}

func TestDuplicate(t *testing.T) {
	e := newEnv(t)
	client, svc := e.seed(1, "Suspended", true)
	body := event(EventModuleSuspend, map[string]any{"serviceid": svc, "userid": client, "pid": 1})
	first := e.send(body, "accepted")
	if string(first.ID) == "" {
		t.Fatal("accepted without id")
	}
	// The operator reactivates by hand; a replay of the old suspension
	// must not suspend again.
	c := e.mustStatus(client, store.StatusSuspended)
	c.Status = store.StatusActive
	e.putCompany(c)
	for range 3 {
		a := serve(t, e.rc, signed(body, 0)) // re-signed: a fresh timestamp does not make a new event
		if a.Code != 200 || a.Raw != `{"status":"duplicate"}`+"\n" {
			t.Fatalf("replay: %d %q", a.Code, a.Raw)
		}
	}
	e.mustStatus(client, store.StatusActive)
	if n := len(e.jobs()); n != 1 {
		t.Errorf("%d jobs, want 1", n)
	}
}

func TestSuspendTerminateUnsuspendApplyBeforeAnswer(t *testing.T) {
	e := newEnv(t)
	client, svc := e.seed(1, "Active", true)
	c, _ := e.company(client)
	// A refresh token and a session of the company, to see what a
	// cancellation does to them.
	err := e.store.Update(context.Background(), func(tx store.Tx) error {
		return tx.PutRefreshToken(&store.RefreshToken{TokenHash: "rt1", FamilyID: "fam", CompanyID: c.ID,
			ExpiresAt: time.Now().Add(time.Hour)})
	})
	if err != nil {
		t.Fatal(err)
	}
	params := map[string]any{"serviceid": svc, "userid": client, "pid": 1}

	e.send(event(EventModuleSuspend, params), "accepted")
	got := e.mustStatus(client, store.StatusSuspended) // no outbox run: applied in the ingest transaction
	if !strings.Contains(got.StatusReason, EventModuleSuspend) {
		t.Errorf("reason %q", got.StatusReason)
	}

	e.send(event(EventModuleUnsuspend, params), "accepted")
	e.mustStatus(client, store.StatusActive)

	before := time.Now()
	e.send(event(EventModuleTerminate, params), "accepted")
	got = e.mustStatus(client, store.StatusCancelled)
	if got.CancelledAt.Before(before.Add(-time.Second)) {
		t.Errorf("CancelledAt %v not set", got.CancelledAt)
	}
	var rt store.RefreshToken
	_ = e.store.View(context.Background(), func(tx store.Tx) error { rt, _ = tx.RefreshToken("rt1"); return nil })
	if !rt.Revoked {
		t.Error("refresh token not revoked by the termination")
	}
	if n := len(e.jobs()); n != 3 {
		t.Errorf("%d confirmation jobs, want 3", n)
	}
}

func TestOtherProductsAndServicesLeaveTheCompanyAlone(t *testing.T) {
	e := newEnv(t)
	client, svc := e.seed(1, "Active", true)
	hosting := e.sim.AddService(whmcsSvc(client, 99, "Suspended"))
	second := e.sim.AddService(whmcsSvc(client, 2, "Terminated"))

	// A suspended web hosting of the same client (pid 99 is not mapped).
	e.send(event(EventModuleSuspend, map[string]any{"serviceid": hosting, "userid": client, "pid": 99}), "accepted")
	e.mustStatus(client, store.StatusActive)
	// A mapped service the company does not follow.
	e.send(event(EventModuleTerminate, map[string]any{"serviceid": second, "userid": client, "pid": 2}), "accepted")
	e.mustStatus(client, store.StatusActive)
	// No pid: only the followed service counts.
	e.send(event(EventModuleSuspend, map[string]any{"serviceid": hosting, "userid": client}), "accepted")
	e.mustStatus(client, store.StatusActive)
	e.drain()
	c := e.mustStatus(client, store.StatusActive)
	if c.WHMCSServiceID != svc {
		t.Errorf("company follows service %d, want %d", c.WHMCSServiceID, svc)
	}
	// The unmapped product's event skipped the WHMCS round trip; the
	// other mapped service cost its lookup plus a client resync, the
	// pid-less event one lookup.
	if n := e.sim.Calls("GetClientsProducts"); n != 3 {
		t.Errorf("GetClientsProducts called %d times, want 3", n)
	}
}
