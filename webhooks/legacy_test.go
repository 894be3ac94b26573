package webhooks

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rcchat/caddy-whmcs-auth/store"
)

// legacyReq is RC-CHAT's legacy delivery: token in a header, no signature.
func legacyReq(body string, query bool) *http.Request {
	if query {
		return httptest.NewRequest(http.MethodPost, "/api/webhooks/whmcs?token="+testToken, strings.NewReader(body))
	}
	r := httptest.NewRequest(http.MethodPost, "/api/webhooks/whmcs", strings.NewReader(body))
	r.Header.Set(HeaderToken, testToken)
	return r
}

func TestLegacyBody(t *testing.T) {
	e := newEnv(t)
	client, svc := e.seed(1, "Active", true)
	body := func(status string) string {
		return fmt.Sprintf(`{"clientid":%d,"serviceid":"%d","status":%q,"domain":"loja.example"}`, client, svc, status)
	}
	step := func(status string, query bool, want string, company store.CompanyStatus) answer {
		t.Helper()
		a := serve(t, e.rc, legacyReq(body(status), query))
		if a.Code != 200 || a.Status != want {
			t.Fatalf("legacy %s: %d %s, want %s", status, a.Code, a.Raw, want)
		}
		e.mustStatus(client, company)
		return a
	}

	first := step("Suspended", false, "accepted", store.StatusSuspended)
	if !strings.HasPrefix(string(first.ID), "legacy/") || !strings.HasSuffix(string(first.ID), "/1") {
		t.Errorf("legacy id %q", string(first.ID))
	}
	step("Suspended", true, "duplicate", store.StatusSuspended) // a redelivery changes nothing
	step("suspended", false, "duplicate", store.StatusSuspended)
	step("Active", true, "accepted", store.StatusActive)
	// The same content again, after the company moved: a new change.
	again := step("Suspended", false, "accepted", store.StatusSuspended)
	if string(again.ID) == string(first.ID) || !strings.HasSuffix(string(again.ID), "/2") {
		t.Errorf("second suspension id %q (first %q)", string(again.ID), string(first.ID))
	}
	step("Suspended", false, "duplicate", store.StatusSuspended)
	// Moved by something else than a legacy event (an operator, the sweep).
	c, _ := e.company(client)
	c.Status = store.StatusActive
	e.putCompany(c)
	step("Suspended", false, "accepted", store.StatusSuspended)
	step("Fraud", false, "accepted", store.StatusCancelled)
	step("Terminated", false, "accepted", store.StatusCancelled) // first of its content: stored, no change

	// Signed legacy bodies are accepted too.
	if a := serve(t, e.rc, signed([]byte(body("Active")), 0)); a.Code != 200 || a.Status != "accepted" {
		t.Fatalf("signed legacy body: %d %s", a.Code, a.Raw)
	}
	e.mustStatus(client, store.StatusActive)

	// Confirmation resyncs the whole client: WHMCS says the service is
	// suspended, which wins whatever the legacy sender said last.
	if err := e.sim.ModuleSuspend(svc); err != nil {
		t.Fatal(err)
	}
	e.drain()
	e.mustStatus(client, store.StatusSuspended)
}

func TestLegacyUnknownClientAndSenderQuirks(t *testing.T) {
	e := newEnv(t)
	// No company for client 777: stored, nothing to apply; a repeat is a
	// duplicate while it still has none.
	b := `{"clientid":777,"serviceid":1,"status":"Active"}`
	if a := serve(t, e.rc, legacyReq(b, false)); a.Code != 200 || a.Status != "accepted" {
		t.Fatalf("%d %s", a.Code, a.Raw)
	}
	if a := serve(t, e.rc, legacyReq(b, false)); a.Status != "duplicate" {
		t.Fatalf("repeat: %s", a.Raw)
	}
	if _, ok := e.company(777); ok {
		t.Fatal("a legacy event created a company")
	}

	// RC-CHAT's own sender puts the pid in serviceid: the event still
	// applies by client, and the confirmation looks at all its services.
	client, _ := e.seed(2, "Active", true)
	quirky := fmt.Sprintf(`{"clientid":%d,"serviceid":2,"status":"Suspended","domain":null}`, client)
	if a := serve(t, e.rc, legacyReq(quirky, false)); a.Status != "accepted" {
		t.Fatalf("%s", a.Raw)
	}
	e.mustStatus(client, store.StatusSuspended)
	e.drain()
	e.mustStatus(client, store.StatusActive) // WHMCS: Active
}
