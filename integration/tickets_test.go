package integration

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

func (e *env) api(t *testing.T, method, path string, body any) (*http.Response, map[string]any) {
	t.Helper()
	var rd *bytes.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	resp := e.do(t, method, path, "", rd, "Authorization", "Bearer "+serviceToken, "Content-Type", "application/json")
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp, out
}

// RC-CHAT opens a WHMCS ticket, closes it, and the transcript lands in WHMCS
// exactly once through the outbox of the running module.
func TestTicketSyncThroughCaddy(t *testing.T) {
	e := getEnv(t)
	e.load(t, mainState(e), "")
	clientID, _ := e.seedClient("ticket@it.test", "ticket-pw", "Active", 1)

	if resp := e.do(t, "POST", "/sso/api/tickets", "", strings.NewReader("{}"), "Authorization", "Bearer wrong"); resp.StatusCode != 401 {
		t.Fatalf("wrong bearer: %d", resp.StatusCode)
	}
	open := map[string]any{"ticket_id": "rc-77", "company_id": 42, "subject": "Pedido", "message": "Olá",
		"contact": map[string]any{"name": "Test Client", "email": "ticket@it.test", "phone": "+5511999999999"}}
	resp, link := e.api(t, "POST", "/sso/api/tickets", open)
	if resp.StatusCode != 201 || link["whmcs_ticket_id"] == nil || link["protocol"] == "" {
		t.Fatalf("open: %d %v", resp.StatusCode, link)
	}
	whmcsID := int64(link["whmcs_ticket_id"].(float64))
	if tk, ok := e.sim.Ticket(whmcsID); !ok || tk.ClientID != clientID {
		t.Fatalf("the WHMCS ticket is not the client's: %+v", tk)
	}
	if resp, again := e.api(t, "POST", "/sso/api/tickets", open); resp.StatusCode != 200 || again["whmcs_ticket_id"] != link["whmcs_ticket_id"] {
		t.Fatalf("idempotent open: %d %v", resp.StatusCode, again)
	}

	_, rendered := e.api(t, "POST", "/sso/api/render", map[string]any{"ticket_id": "rc-77", "template": "Protocolo {{protocolo}} para {{name}}"})
	if rendered["text"] != "Protocolo "+strconv.FormatInt(whmcsID, 10)+" para {{name}}" {
		t.Fatalf("render: %v", rendered)
	}

	closeBody := map[string]any{"closed_by": "Agente", "messages": []map[string]any{
		{"from": "Cliente", "body": "Preciso de ajuda", "at": "2026-11-28T10:00:00Z", "private": false},
		{"from": "Agente", "body": "nota interna", "at": "2026-11-28T10:01:00Z", "private": true},
		{"from": "Agente", "body": "Resolvido", "at": "2026-11-28T10:02:00Z", "private": false},
	}}
	if resp, out := e.api(t, "POST", "/sso/api/tickets/rc-77/close", closeBody); resp.StatusCode != 202 || out["status"] != "queued" {
		t.Fatalf("close: %d %v", resp.StatusCode, out)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		tk, _ := e.sim.Ticket(whmcsID)
		if tk.Status == "Closed" {
			if len(tk.Replies) != 1 {
				t.Fatalf("WHMCS ticket has %d replies, want exactly one transcript", len(tk.Replies))
			}
			tr := tk.Replies[0].Message
			if !strings.Contains(tr, "Resolvido") || strings.Contains(tr, "nota interna") || !strings.Contains(tr, "[2026-11-28 10:00] Cliente: Preciso de ajuda") {
				t.Fatalf("transcript:\n%s", tr)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the outbox did not close the WHMCS ticket: %+v", tk)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if _, out := e.api(t, "GET", "/sso/api/outbox", nil); len(out["jobs"].([]any)) != 0 {
		t.Fatalf("outbox not empty: %v", out)
	}
}

// A status change through the companies API blocks the next request, as a
// webhook would.
func TestCompaniesAPIStatusBlocksNextRequest(t *testing.T) {
	e := getEnv(t)
	e.load(t, mainState(e), "")
	e.seedClient("companyapi@it.test", "capi-pw", "Active", 1)
	_, body, cookie := e.loginJSON(t, "companyapi@it.test", "capi-pw")
	id := strconv.FormatFloat(body["company"].(map[string]any)["id"].(float64), 'f', 0, 64)

	resp, out := e.api(t, "POST", "/sso/api/companies/"+id+"/status", map[string]any{"status": "suspended", "sync_whmcs": false})
	if resp.StatusCode != 200 || out["status"] != "suspended" {
		t.Fatalf("status change: %d %v", resp.StatusCode, out)
	}
	if resp := e.do(t, "GET", "/backend/tickets", cookie, nil); resp.StatusCode != 402 {
		t.Fatalf("after suspension via the API: %d", resp.StatusCode)
	}
	if resp, out := e.api(t, "GET", "/sso/api/companies/"+id, nil); resp.StatusCode != 200 || out["status"] != "suspended" {
		t.Fatalf("show: %d %v", resp.StatusCode, out)
	}
}
