package webhooks

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rcchat/caddy-whmcs-auth/store"
	"github.com/rcchat/caddy-whmcs-auth/whmcsauth/whmcssim"
)

// hookFile is the shipped WHMCS hook.
const hookFile = "whmcs/rcchat_webhooks.php"

// phpHarness stands in for WHMCS (see the file); the integration tests
// run it against a real Caddy too.
const phpHarness = "whmcs/testdata/harness.php"

// phpBinary finds php-cli; the hook is tested for real, never skipped.
func phpBinary(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("php")
	if err != nil {
		t.Fatalf("php (php-cli) is not installed, so the WHMCS hook %s cannot be tested; run scripts/test.sh, which installs it", hookFile)
	}
	return p
}

type hookCall struct {
	Hook string         `json:"hook"`
	Vars map[string]any `json:"vars"`
}

// moduleVars are module hook vars the way WHMCS builds them: the full
// module params, secrets included.
func moduleVars(serviceID, clientID, pid int64) map[string]any {
	return map[string]any{"params": map[string]any{
		"accountid": serviceID, "serviceid": serviceID, "userid": clientID, "pid": pid, "serverid": 1,
		"domain": "loja.example", "username": "loja", "password": "SECRET-PW",
		"producttype": "other", "moduletype": "rcchat", "configoption1": "x",
		"serverip": "10.0.0.1", "serverusername": "root", "serverpassword": "SECRET-PW-SERVER",
		"serveraccesshash": "SECRET-HASH",
		"clientsdetails":   map[string]any{"userid": clientID, "email": "ana@example.com", "firstname": "Ana"},
		"customfields":     map[string]any{"Token": "SECRET-PW"},
	}}
}

type delivery struct {
	body   []byte
	header http.Header
	code   int
	answer string
}

// runHook runs the harness with the hook against url and returns the
// output.
func runHook(t *testing.T, url, secret string, calls []hookCall, phpArgs ...string) string {
	t.Helper()
	php := phpBinary(t)
	dir := t.TempDir()
	harness, err := filepath.Abs(phpHarness)
	must(t, err)
	callsFile := filepath.Join(dir, "calls.json")
	b, _ := json.Marshal(calls)
	must(t, os.WriteFile(callsFile, b, 0o600))
	hook, err := filepath.Abs(hookFile)
	must(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	// Every notice shown: a hook that warns would litter WHMCS's pages.
	args := append([]string{"-d", "display_errors=stderr", "-d", "error_reporting=-1"}, phpArgs...)
	cmd := exec.CommandContext(ctx, php, append(args, harness)...)
	cmd.Env = append(os.Environ(), "HOOK_FILE="+hook, "CALLS_FILE="+callsFile,
		"RCCHAT_WEBHOOK_URL="+url, "RCCHAT_WEBHOOK_SECRET="+secret)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("php exited with %v:\n%s", err, out.String())
	}
	for _, bad := range []string{"Warning", "Notice", "Deprecated", "Fatal", "Stack trace"} {
		if strings.Contains(out.String(), bad) {
			t.Errorf("php printed a %s:\n%s", bad, out.String())
		}
	}
	return out.String()
}

func TestPHPHookDeliversSignedEvents(t *testing.T) {
	for _, mode := range []struct {
		name string
		args []string
	}{
		{"curl", nil},
		{"streams fallback", []string{"-d", "disable_functions=curl_init"}},
	} {
		t.Run(mode.name, func(t *testing.T) {
			if mode.args == nil && !phpHasCurl(t) {
				t.Log("php-curl is not installed: the hook uses its PHP streams fallback (install php-curl to test the cURL path)")
			}
			testPHPHook(t, mode.args)
		})
	}
}

func phpHasCurl(t *testing.T) bool {
	out, err := exec.Command(phpBinary(t), "-r", "echo function_exists('curl_init') ? 'yes' : 'no';").Output()
	return err == nil && string(out) == "yes"
}

func testPHPHook(t *testing.T, phpArgs []string) {
	e := newEnv(t)
	// One client per event, each in the state WHMCS just moved it to.
	createC := e.sim.AddClient(whmcssim.Client{FirstName: "Nova", LastName: "Loja", Email: "nova@example.com"})
	createS := e.sim.AddService(whmcsSvc(createC, 2, "Active"))
	suspC, suspS := e.seed(1, "Suspended", true)
	unsC, unsS := e.seed(1, "Active", true)
	setStatus(e, unsC, store.StatusSuspended)
	termC, termS := e.seed(1, "Terminated", true)
	pkgC, pkgS := e.seed(2, "Active", true)
	setPlan(e, pkgC, "Basico")
	paidC, paidS := e.seed(1, "Active", true)
	setStatus(e, paidC, store.StatusSuspended)
	inv := e.sim.AddInvoice(whmcssim.Invoice{ClientID: paidC, Status: "Paid",
		Items: []whmcssim.InvoiceItem{{Type: "Hosting", RelID: paidS}}})

	var mu sync.Mutex
	var got []delivery
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		rec := httptest.NewRecorder()
		e.rc.ServeHTTP(rec, r)
		mu.Lock()
		got = append(got, delivery{body: body, header: r.Header.Clone(), code: rec.Code, answer: rec.Body.String()})
		mu.Unlock()
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
	}))
	defer srv.Close()

	calls := []hookCall{
		{EventModuleCreate, moduleVars(createS, createC, 2)},
		{EventModuleSuspend, moduleVars(suspS, suspC, 1)},
		{EventModuleUnsuspend, moduleVars(unsS, unsC, 1)},
		{EventModuleTerminate, moduleVars(termS, termC, 1)},
		{EventModuleChangePackage, moduleVars(pkgS, pkgC, 2)},
		{EventInvoicePaid, map[string]any{"invoiceid": inv}},
	}
	// WHMCS hands some ids over as strings.
	calls[1].Vars["params"].(map[string]any)["serviceid"] = jsonNumberString(suspS)
	out := runHook(t, srv.URL+"/api/webhooks/whmcs", testSecret, calls, phpArgs...)

	if !strings.Contains(out, "registered: AfterModuleCreate,AfterModuleSuspend,AfterModuleUnsuspend,AfterModuleTerminate,AfterModuleChangePackage,InvoicePaid\n") {
		t.Errorf("registered hooks:\n%s", out)
	}
	if strings.Contains(out, "logActivity") {
		t.Errorf("the hook logged a failure:\n%s", out)
	}
	if len(got) != len(calls) {
		t.Fatalf("%d deliveries, want %d\n%s", len(got), len(calls), out)
	}
	ids := map[string]bool{}
	for i, d := range got {
		if bytes.Contains(d.body, []byte("SECRET")) {
			t.Errorf("delivery %d leaks a secret: %s", i, d.body)
		}
		if d.code != 200 || !strings.Contains(d.answer, `"accepted"`) {
			t.Errorf("delivery %d answered %d %s: %s", i, d.code, d.answer, d.body)
		}
		var ev struct {
			OccurredAt string         `json:"occurred_at"`
			Params     map[string]any `json:"params"`
		}
		var raw map[string]json.RawMessage
		must(t, json.Unmarshal(d.body, &raw))
		must(t, json.Unmarshal(d.body, &ev))
		if _, err := time.Parse(time.RFC3339, ev.OccurredAt); err != nil || len(raw) != 4 || len(ev.Params) != 4 {
			t.Errorf("delivery %d fields: %s", i, d.body)
		}
		var id, typ string
		_ = json.Unmarshal(raw["id"], &id)
		_ = json.Unmarshal(raw["event"], &typ)
		if typ != calls[i].Hook || len(id) != 32 || ids[id] {
			t.Errorf("delivery %d: event %q id %q", i, typ, id)
		}
		ids[id] = true
		if !strings.HasPrefix(d.header.Get(HeaderSignature), "sha256=") || d.header.Get("Content-Type") != "application/json" {
			t.Errorf("delivery %d headers %v", i, d.header)
		}
	}

	// Implied at once...
	e.mustStatus(suspC, store.StatusSuspended)
	e.mustStatus(unsC, store.StatusActive)
	e.mustStatus(termC, store.StatusCancelled)
	if c := e.mustStatus(pkgC, store.StatusActive); c.Plan != "Premium" {
		t.Errorf("plan after package change %q", c.Plan)
	}
	// (the paid invoice and the provisioning asked WHMCS before answering)...
	e.mustStatus(paidC, store.StatusActive)
	if c := e.mustStatus(createC, store.StatusActive); c.Plan != "Premium" || c.Name != "Nova Loja" {
		t.Errorf("provisioned %+v", c)
	}
	// ...and confirmed against WHMCS.
	e.drain()
	if c := e.mustStatus(createC, store.StatusActive); c.Plan != "Premium" || c.Name != "Nova Loja" {
		t.Errorf("provisioned %+v", c)
	}
	e.mustStatus(paidC, store.StatusActive)
}

func jsonNumberString(n int64) string { b, _ := json.Marshal(n); return string(b) }

func TestPHPHookNeverBreaksWHMCS(t *testing.T) {
	// A port nobody listens on.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	down := "http://" + l.Addr().String() + "/api/webhooks/whmcs"
	l.Close()

	calls := []hookCall{
		{EventModuleSuspend, moduleVars(1, 2, 1)},
		{EventInvoicePaid, map[string]any{"invoiceid": 7}},
		{EventModuleTerminate, map[string]any{}}, // odd vars must not throw either
	}
	start := time.Now()
	out := runHook(t, down, testSecret, calls)
	if time.Since(start) > 20*time.Second {
		t.Errorf("the hook blocked WHMCS for %v", time.Since(start))
	}
	if n := strings.Count(out, "logActivity: RC-CHAT webhook:"); n != len(calls) {
		t.Errorf("%d failures logged, want %d:\n%s", n, len(calls), out)
	}
	if strings.Count(out, "called: ") != len(calls) || strings.Contains(out, "SECRET") {
		t.Errorf("output:\n%s", out)
	}

	// A receiver that refuses (wrong secret): logged with the status.
	e := newEnv(t)
	srv := httptest.NewServer(e.rc)
	defer srv.Close()
	out = runHook(t, srv.URL+"/api/webhooks/whmcs", "wrong-secret", calls[:1])
	if !strings.Contains(out, "AfterModuleSuspend") || !strings.Contains(out, "HTTP 401") {
		t.Errorf("refusal not logged:\n%s", out)
	}
	// Not configured: logged, nothing sent.
	out = runHook(t, "", "", calls[:1])
	if !strings.Contains(out, "RCCHAT_WEBHOOK_URL") {
		t.Errorf("missing configuration not logged:\n%s", out)
	}
}

func TestPHPHookFile(t *testing.T) {
	php := phpBinary(t)
	if out, err := exec.Command(php, "-l", hookFile).CombinedOutput(); err != nil {
		t.Fatalf("php -l: %v\n%s", err, out)
	}
	// Opened directly (outside WHMCS) it refuses and registers nothing.
	out, _ := exec.Command(php, hookFile).CombinedOutput()
	if strings.TrimSpace(string(out)) != "This file cannot be accessed directly" {
		t.Errorf("direct access: %q", out)
	}
}

func setStatus(e *env, clientID int64, s store.CompanyStatus) {
	c, _ := e.company(clientID)
	c.Status = s
	e.putCompany(c)
}

func setPlan(e *env, clientID int64, plan string) {
	c, _ := e.company(clientID)
	c.Plan = plan
	e.putCompany(c)
}
