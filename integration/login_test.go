package integration

import (
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/rcchat/caddy-whmcs-auth/whmcsauth/whmcssim"
)

func mainState(e *env) string { return filepath.Join(e.stateDir, "main.db") }

// Each row of SPEC 5.2.
func TestLoginOutcomes(t *testing.T) {
	e := getEnv(t)
	e.load(t, mainState(e), "")

	e.seedClient("active@it.test", "right-pw", "Active", 1)
	e.seedClient("suspended@it.test", "susp-pw", "Suspended", 2)
	e.seedClient("unmapped@it.test", "unmapped-pw", "Active", 99)
	e.seedClient("terminated@it.test", "term-pw", "Terminated", 1)
	e.seedClient("cancelled@it.test", "canc-pw", "Cancelled", 1)
	e.seedClient("fraud@it.test", "fraud-pw", "Fraud", 1)
	closedID, _ := e.seedClient("closed@it.test", "closed-pw", "Active", 1)
	if err := e.sim.SetClientStatus(closedID, "Closed"); err != nil {
		t.Fatal(err)
	}

	rows := []struct {
		name, email, password string
		status                int
		errCode               string
	}{
		{"unknown e-mail", "nobody@it.test", "x", 401, "invalid_credentials"},
		{"wrong password", "active@it.test", "wrong", 401, "invalid_credentials"},
		{"no mapped service", "unmapped@it.test", "unmapped-pw", 401, "invalid_credentials"},
		{"client closed", "closed@it.test", "closed-pw", 401, "invalid_credentials"},
		{"suspended service", "suspended@it.test", "susp-pw", 402, "company_suspended"},
		{"terminated service", "terminated@it.test", "term-pw", 401, "invalid_credentials"},
		{"cancelled service", "cancelled@it.test", "canc-pw", 401, "invalid_credentials"},
		{"fraud service", "fraud@it.test", "fraud-pw", 401, "invalid_credentials"},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			resp, body, cookie := e.loginJSON(t, row.email, row.password)
			if resp.StatusCode != row.status || body["error"] != row.errCode || len(body) != 1 {
				t.Fatalf("got %d %v, want %d {error:%s}", resp.StatusCode, body, row.status, row.errCode)
			}
			if cookie != "" {
				t.Fatal("a refused login set a session cookie")
			}
		})
	}

	t.Run("active service", func(t *testing.T) {
		resp, body, cookie := e.loginJSON(t, "Active@IT.test ", "right-pw")
		if resp.StatusCode != 200 {
			t.Fatalf("status %d %v", resp.StatusCode, body)
		}
		for _, k := range []string{"token_type", "access_token", "id_token", "expires_in", "refresh_token", "user", "company"} {
			if _, ok := body[k]; !ok {
				t.Errorf("login answer lacks %q: %v", k, body)
			}
		}
		user := body["user"].(map[string]any)
		company := body["company"].(map[string]any)
		if user["email"] != "active@it.test" || user["role"] != "admin" {
			t.Errorf("user = %v", user)
		}
		if company["plan"] != "Basico" || company["status"] != "active" || company["due_date"] != "2026-12-31" ||
			company["name"] != "Empresa active@it.test" || company["whmcs_client_id"] == nil {
			t.Errorf("company = %v", company)
		}
		if cookie == "" {
			t.Fatal("no session cookie")
		}
		sc := resp.Header.Get("Set-Cookie")
		for _, attr := range []string{"Path=/", "HttpOnly", "Secure", "SameSite=Lax"} {
			if !strings.Contains(strings.Join(resp.Header.Values("Set-Cookie"), ";"), attr) {
				t.Errorf("session cookie lacks %s: %s", attr, sc)
			}
		}
	})
}

func TestLoginWhenWHMCSFails(t *testing.T) {
	e := getEnv(t)
	e.load(t, mainState(e), "")
	e.seedClient("whmcsdown@it.test", "pw-down", "Active", 1)
	faults := map[string]whmcssim.Fault{
		"connection drop": {Drop: true, Times: 1},
		"5xx":             {Status: 502, Times: 1},
		"malformed JSON":  {Malformed: true, Times: 1},
	}
	for name, f := range faults {
		t.Run(name, func(t *testing.T) {
			e.sim.InjectFault("", f)
			defer e.sim.ClearFaults()
			resp, body, _ := e.loginJSON(t, "whmcsdown@it.test", "pw-down")
			if resp.StatusCode != 503 || body["error"] != "whmcs_unavailable" {
				t.Fatalf("got %d %v", resp.StatusCode, body)
			}
		})
	}

	t.Run("WHMCS rejects our credentials: 503, one call, no retry", func(t *testing.T) {
		strict := whmcssim.New(whmcssim.Options{Identifier: apiID, Secret: "another-secret"})
		strictURL, closeStrict := strict.Start()
		defer closeStrict()
		cf := strings.Replace(e.caddyfile(filepath.Join(e.stateDir, "badcreds.db"), ""), e.simURL, strictURL, 1)
		e.tester.InitServer(cf, "caddyfile")
		defer e.load(t, mainState(e), "")
		resp, body, _ := e.loginJSON(t, "whmcsdown@it.test", "pw-down")
		if resp.StatusCode != 503 || body["error"] != "whmcs_unavailable" {
			t.Fatalf("got %d %v", resp.StatusCode, body)
		}
		if n := strict.Requests(); n != 1 {
			t.Fatalf("WHMCS saw %d requests for one login; an auth failure must never be retried", n)
		}
	})
}

// Provisioning happens exactly once however many first logins race.
func TestProvisionOnceUnderConcurrentFirstLogins(t *testing.T) {
	e := getEnv(t)
	e.load(t, mainState(e), "")
	e.seedClient("race@it.test", "race-pw", "Active", 2)

	const n = 50
	ids := make([]string, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			resp, body, _ := e.loginJSON(t, "race@it.test", "race-pw")
			if resp.StatusCode != 200 {
				t.Errorf("login %d: %d %v", i, resp.StatusCode, body)
				return
			}
			c := body["company"].(map[string]any)
			u := body["user"].(map[string]any)
			ids[i] = strconv.FormatFloat(c["id"].(float64), 'f', 0, 64) + "/" + strconv.FormatFloat(u["id"].(float64), 'f', 0, 64)
		}(i)
	}
	wg.Wait()
	for i := 1; i < n; i++ {
		if ids[i] != ids[0] {
			t.Fatalf("logins got different company/user ids: %q vs %q", ids[0], ids[i])
		}
	}
	resp := e.do(t, "GET", "/sso/api/companies", "", nil, "Authorization", "Bearer "+serviceToken)
	if resp.StatusCode == http.StatusOK {
		body := readAll(t, resp)
		if strings.Count(body, `"race@it.test"`) > 1 || strings.Count(body, "Empresa race@it.test") != 1 {
			t.Fatalf("companies API shows the company other than once: %s", body)
		}
	}
}

// A lockout survives the state file being closed and opened again (what a
// restart does).
func TestLockoutSurvivesRestart(t *testing.T) {
	e := getEnv(t)
	state := filepath.Join(e.stateDir, "lockout.db")
	e.load(t, state, "lockout 3 10m 10m")
	e.seedClient("locked@it.test", "locked-pw", "Active", 1)
	for i := 0; i < 3; i++ {
		if resp, _, _ := e.loginJSON(t, "locked@it.test", "bad"); resp.StatusCode != 401 {
			t.Fatalf("failure %d: status %d", i, resp.StatusCode)
		}
	}
	resp, body, _ := e.loginJSON(t, "locked@it.test", "locked-pw")
	if resp.StatusCode != 429 || body["error"] != "too_many_attempts" || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("after 3 failures: %d %v Retry-After=%q", resp.StatusCode, body, resp.Header.Get("Retry-After"))
	}

	// Another state file: the pool closes lockout.db (last user gone).
	e.load(t, filepath.Join(e.stateDir, "elsewhere.db"), "lockout 3 10m 10m")
	e.load(t, state, "lockout 3 10m 10m")
	resp, body, _ = e.loginJSON(t, "locked@it.test", "locked-pw")
	if resp.StatusCode != 429 {
		t.Fatalf("after reopening the state file: %d %v (the lockout was lost)", resp.StatusCode, body)
	}
	e.load(t, mainState(e), "")
}

// Loading the same config twice (a reload) keeps sessions and never hangs
// on bbolt's file lock.
func TestReloadOnSameStateFile(t *testing.T) {
	e := getEnv(t)
	e.load(t, mainState(e), "")
	e.seedClient("reload@it.test", "reload-pw", "Active", 1)
	_, _, cookie := e.loginJSON(t, "reload@it.test", "reload-pw")
	for i := 0; i < 3; i++ {
		e.load(t, mainState(e), "session_ttl 11h")
		e.load(t, mainState(e), "")
	}
	if resp := e.do(t, "GET", "/sso/session", cookie, nil); resp.StatusCode != 200 {
		t.Fatalf("session lost across reloads: %d", resp.StatusCode)
	}
}

// A login body over 64 KiB is refused as too large, on the module's login
// and on RC-CHAT's intercepted one alike.
func TestOversizedLoginBody(t *testing.T) {
	e := getEnv(t)
	e.load(t, mainState(e), "")
	big := `{"email":"big@it.test","password":"` + strings.Repeat("x", 64<<10) + `"}`
	for _, path := range []string{"/sso/login", "/backend/auth/login"} {
		resp := e.do(t, "POST", path, "", strings.NewReader(big), "Content-Type", "application/json")
		if body := readAll(t, resp); resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(body, "body_too_large") {
			t.Errorf("POST %s with %d bytes: %d %s, want 413 body_too_large", path, len(big), resp.StatusCode, body)
		}
	}
}
