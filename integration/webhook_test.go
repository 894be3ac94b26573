package integration

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rcchat/caddy-whmcs-auth/webhooks"
)

func eventID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// sendEvent posts a signed SPEC 7 event to the running module.
func (e *env) sendEvent(t *testing.T, event string, params map[string]any) map[string]any {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"id": eventID(), "event": event, "occurred_at": time.Now().UTC().Format(time.RFC3339), "params": params})
	ts := time.Now().Unix()
	resp := e.do(t, "POST", "/api/webhooks/whmcs", "", bytes.NewReader(body), "Content-Type", "application/json",
		"X-Whmcs-Timestamp", strconv.FormatInt(ts, 10), "X-Whmcs-Signature", webhooks.Sign(webhookKey, ts, body))
	var answer map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&answer)
	if resp.StatusCode != 200 {
		t.Fatalf("%s: %d %v", event, resp.StatusCode, answer)
	}
	return answer
}

// WHMCS events change access on the very next request.
func TestWebhookEventsEnforcedOnTheNextRequest(t *testing.T) {
	e := getEnv(t)
	e.load(t, mainState(e), "")
	clientID, serviceID := e.seedClient("hooked@it.test", "hooked-pw", "Active", 1)
	_, _, cookie := e.loginJSON(t, "hooked@it.test", "hooked-pw")
	params := map[string]any{"serviceid": serviceID, "userid": strconv.FormatInt(clientID, 10), "pid": 1, "invoiceid": nil}

	_ = e.sim.ModuleSuspend(serviceID)
	if a := e.sendEvent(t, "AfterModuleSuspend", params); a["status"] != "accepted" {
		t.Fatalf("suspend answer %v", a)
	}
	if resp := e.do(t, "GET", "/backend/tickets", cookie, nil); resp.StatusCode != 402 {
		t.Fatalf("after AfterModuleSuspend: %d", resp.StatusCode)
	}

	_ = e.sim.ModuleUnsuspend(serviceID)
	e.sendEvent(t, "AfterModuleUnsuspend", params)
	if resp := e.do(t, "GET", "/backend/tickets", cookie, nil); resp.StatusCode != 200 {
		t.Fatalf("after AfterModuleUnsuspend: %d", resp.StatusCode)
	}

	_ = e.sim.ModuleTerminate(serviceID)
	e.sendEvent(t, "AfterModuleTerminate", params)
	resp := e.do(t, "GET", "/backend/tickets", cookie, nil)
	if resp.StatusCode != 403 || strings.TrimSpace(readAll(t, resp)) != `{"error":"company_cancelled"}` {
		t.Fatalf("after AfterModuleTerminate: %d", resp.StatusCode)
	}
	// Revoked for good: even a reactivation does not bring the session back.
	_ = e.sim.ModuleUnsuspend(serviceID)
	e.sendEvent(t, "AfterModuleUnsuspend", params)
	if resp := e.do(t, "GET", "/backend/tickets", cookie, nil); resp.StatusCode != 401 {
		t.Fatalf("cancelled session after reactivation: %d", resp.StatusCode)
	}

	// Unsigned and stale events are refused.
	body := []byte(`{"id":"x1","event":"AfterModuleSuspend","occurred_at":"2026-01-01T00:00:00Z","params":{"serviceid":1,"userid":1,"pid":1}}`)
	if resp := e.do(t, "POST", "/api/webhooks/whmcs", "", bytes.NewReader(body), "Content-Type", "application/json"); resp.StatusCode != 401 {
		t.Fatalf("unsigned event: %d", resp.StatusCode)
	}
	old := time.Now().Add(-10 * time.Minute).Unix()
	if resp := e.do(t, "POST", "/api/webhooks/whmcs", "", bytes.NewReader(body), "Content-Type", "application/json",
		"X-Whmcs-Timestamp", strconv.FormatInt(old, 10), "X-Whmcs-Signature", webhooks.Sign(webhookKey, old, body)); resp.StatusCode != 401 {
		t.Fatalf("stale event: %d", resp.StatusCode)
	}
}

// The shipped PHP hook, run by real php as WHMCS would, reaches the running
// module through Caddy and suspends the company.
func TestPHPHookAgainstRunningModule(t *testing.T) {
	php, err := exec.LookPath("php")
	if err != nil {
		t.Fatal("php-cli is required: run scripts/test.sh, which installs it")
	}
	e := getEnv(t)
	e.load(t, mainState(e), "")
	clientID, serviceID := e.seedClient("phphook@it.test", "php-pw", "Active", 2)
	_, _, cookie := e.loginJSON(t, "phphook@it.test", "php-pw")
	_ = e.sim.ModuleSuspend(serviceID)

	calls, _ := json.Marshal([]map[string]any{{"hook": "AfterModuleSuspend", "vars": map[string]any{"params": map[string]any{
		"serviceid": serviceID, "userid": clientID, "pid": 2, "password": "SECRET-PW", "domain": "loja.example"}}}})
	dir := t.TempDir()
	callsFile := filepath.Join(dir, "calls.json")
	if err := os.WriteFile(callsFile, calls, 0o600); err != nil {
		t.Fatal(err)
	}
	hook, _ := filepath.Abs("../webhooks/whmcs/rcchat_webhooks.php")
	harness, _ := filepath.Abs("../webhooks/whmcs/testdata/harness.php")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, php, "-d", "display_errors=stderr", harness)
	cmd.Env = append(os.Environ(), "HOOK_FILE="+hook, "CALLS_FILE="+callsFile,
		"RCCHAT_WEBHOOK_URL="+site+"/api/webhooks/whmcs", "RCCHAT_WEBHOOK_SECRET="+webhookKey)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("php: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "called: AfterModuleSuspend") {
		t.Fatalf("the hook did not run:\n%s", out)
	}
	if resp := e.do(t, "GET", "/backend/tickets", cookie, nil); resp.StatusCode != http.StatusPaymentRequired {
		t.Fatalf("after the PHP hook's suspend: %d\n%s", resp.StatusCode, out)
	}
}
