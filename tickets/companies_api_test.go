package tickets

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/rcchat/caddy-whmcs-auth/store"
	"github.com/rcchat/caddy-whmcs-auth/whmcsauth/whmcssim"
)

// addCompany stores a company owned by a new simulator client.
func (e *env) addCompany(name string, rcchatID int64) store.Company {
	e.t.Helper()
	cid := e.sim.AddClient(whmcssim.Client{FirstName: name, LastName: "Ltda", Email: name + "@empresa.com"})
	c := store.Company{WHMCSClientID: cid, WHMCSServiceID: 10 + cid, RCChatCompanyID: rcchatID, Name: name,
		Plan: "Basico", Status: store.StatusActive, DueDate: "2030-01-31", CreatedAt: time.Now()}
	err := e.st.Update(context.Background(), func(tx store.Tx) error { return tx.PutCompany(&c) })
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

func TestCompanyStatusSyncsWHMCS(t *testing.T) {
	e := newEnv(t)
	c := e.addCompany("acme", 5)
	path := fmt.Sprintf("/sso/api/companies/%d/status", c.ID)
	got := decode[statusAnswer](t, e.do("POST", path, map[string]any{"status": "suspended", "sync_whmcs": true}), http.StatusOK)
	if got.Status != store.StatusSuspended || got.WHMCSSync != "queued" || got.ID != c.ID || got.WHMCSClientID != c.WHMCSClientID {
		t.Fatalf("answer %+v", got)
	}
	// The edge reads the store: the change is there before WHMCS hears of it.
	var stored store.Company
	_ = e.st.View(context.Background(), func(tx store.Tx) error { stored, _ = tx.Company(c.ID); return nil })
	if stored.Status != store.StatusSuspended {
		t.Fatalf("stored status %q", stored.Status)
	}
	e.drain()
	if cl, _ := e.sim.Client(c.WHMCSClientID); cl.Status != "Inactive" {
		t.Fatalf("WHMCS client status %q, want Inactive", cl.Status)
	}
	if n := e.sim.Calls("UpdateClient"); n != 1 {
		t.Fatalf("UpdateClient called %d times", n)
	}

	got = decode[statusAnswer](t, e.do("POST", path, map[string]any{"status": "cancelled", "sync_whmcs": true}), http.StatusOK)
	e.drain()
	if cl, _ := e.sim.Client(c.WHMCSClientID); cl.Status != "Closed" || got.Status != store.StatusCancelled {
		t.Fatalf("after cancel: WHMCS %q, answer %+v", cl.Status, got)
	}
	_ = e.st.View(context.Background(), func(tx store.Tx) error { stored, _ = tx.Company(c.ID); return nil })
	if stored.CancelledAt.IsZero() {
		t.Fatal("cancelling did not go through companies.SetStatus")
	}

	// Without sync_whmcs nothing is queued and WHMCS is not called.
	got = decode[statusAnswer](t, e.do("POST", path, `{"status":"active"}`), http.StatusOK)
	if got.Status != store.StatusActive || got.WHMCSSync != "" || len(e.jobs("")) != 0 {
		t.Fatalf("answer %+v, jobs %+v", got, e.jobs(""))
	}
	if n := e.sim.Calls("UpdateClient"); n != 2 {
		t.Fatalf("UpdateClient called %d times, want 2", n)
	}
}

func TestCompanyStatusErrors(t *testing.T) {
	e := newEnv(t)
	c := e.addCompany("beta", 0)
	path := fmt.Sprintf("/sso/api/companies/%d/status", c.ID)
	for body, field := range map[string]string{
		`{"status":"paused"}`:                    "status",
		`{}`:                                     "status",
		`{"status":"active","sync_whmcs":"yes"}`: "sync_whmcs",
		`{"status":"active","notify":true}`:      "notify",
	} {
		if a := decode[apiError](t, e.do("POST", path, body), http.StatusBadRequest); a.Field != field {
			t.Fatalf("%s: field %q, want %q", body, a.Field, field)
		}
	}
	if w := e.do("POST", "/sso/api/companies/999/status", `{"status":"active"}`); w.Code != http.StatusNotFound {
		t.Fatalf("unknown company: %d", w.Code)
	}
	if a := decode[apiError](t, e.do("POST", "/sso/api/companies/x/status", `{"status":"active"}`), http.StatusBadRequest); a.Field != "id" {
		t.Fatalf("bad id: %+v", a)
	}
}

func TestCompaniesList(t *testing.T) {
	e := newEnv(t)
	var ids []int64
	for i := range 5 {
		ids = append(ids, e.addCompany(fmt.Sprintf("c%d", i), int64(100+i)).ID)
	}
	page := decode[companyList](t, e.do("GET", "/sso/api/companies?limit=2", nil), http.StatusOK)
	if len(page.Companies) != 2 || page.Companies[0].ID != ids[0] || page.NextAfter != ids[1] {
		t.Fatalf("first page %+v", page)
	}
	page = decode[companyList](t, e.do("GET", fmt.Sprintf("/sso/api/companies?after=%d&limit=10", page.NextAfter), nil), http.StatusOK)
	if len(page.Companies) != 3 || page.Companies[0].ID != ids[2] || page.NextAfter != 0 {
		t.Fatalf("second page %+v", page)
	}
	one := decode[companyView](t, e.do("GET", fmt.Sprintf("/sso/api/companies/%d", ids[3]), nil), http.StatusOK)
	if one.Name != "c3" || one.Plan != "Basico" || one.Status != store.StatusActive || one.DueDate != "2030-01-31" ||
		one.RCChatCompanyID != 103 || one.WHMCSClientID == 0 || one.WHMCSServiceID == 0 {
		t.Fatalf("company %+v", one)
	}
	byRC := decode[companyList](t, e.do("GET", "/sso/api/companies?rcchat_company_id=104", nil), http.StatusOK)
	if len(byRC.Companies) != 1 || byRC.Companies[0].ID != ids[4] {
		t.Fatalf("by RC-CHAT id: %+v", byRC)
	}
	if none := decode[companyList](t, e.do("GET", "/sso/api/companies?rcchat_company_id=999", nil), http.StatusOK); len(none.Companies) != 0 {
		t.Fatalf("unknown RC-CHAT id: %+v", none)
	}
	if w := e.do("GET", "/sso/api/companies/999", nil); w.Code != http.StatusNotFound {
		t.Fatalf("unknown company: %d", w.Code)
	}
	if a := decode[apiError](t, e.do("GET", "/sso/api/companies?limit=0", nil), http.StatusBadRequest); a.Field != "limit" {
		t.Fatalf("limit=0: %+v", a)
	}
}
