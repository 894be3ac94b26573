// Package integration runs the module inside a real Caddy (caddytest's
// in-process server, configured through its admin API, so every InitServer
// is a real config reload) against the WHMCS simulator over HTTP and a
// stand-in RC-CHAT upstream.
package integration

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/caddytest"

	_ "github.com/rcchat/caddy-whmcs-auth/caddymodule"
	"github.com/rcchat/caddy-whmcs-auth/whmcsauth/whmcssim"
)

const (
	site         = "http://localhost:9080"
	apiID        = "it-identifier"
	apiSecret    = "it-secret"
	webhookKey   = "it-webhook-secret"
	serviceToken = "it-service-token"
)

// upstream plays RC-CHAT: it records what it receives and answers RC-CHAT's
// login endpoints.
type upstream struct {
	srv  *httptest.Server
	mu   sync.Mutex
	seen []*http.Request
}

func (u *upstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	clone := r.Clone(r.Context())
	clone.Body = io.NopCloser(bytes.NewReader(body))
	u.mu.Lock()
	u.seen = append(u.seen, clone)
	u.mu.Unlock()

	switch {
	case r.Header.Get("Upgrade") == "websocket":
		hj, _ := w.(http.Hijacker)
		conn, buf, err := hj.Hijack()
		if err != nil {
			return
		}
		_, _ = buf.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
		_ = buf.Flush()
		conn.Close()
	case r.URL.Path == "/auth/sso":
		writeLoginResp(w, r, 200, map[string]any{"token": "rcchat-jwt-sso", "user": map[string]any{
			"id": 7, "email": r.Header.Get("X-Rcchat-User-Email"), "profile": "admin", "companyId": 42, "super": false}})
	case strings.TrimSuffix(r.URL.Path, "/") == "/auth/login": // Express ignores one trailing slash
		var creds struct{ Email, Password string }
		_ = json.Unmarshal(body, &creds)
		switch {
		case creds.Email == "agent@rcchat.test" && creds.Password == "agent-pw":
			writeLoginResp(w, r, 200, map[string]any{"token": "rcchat-jwt-agent", "user": map[string]any{
				"id": 9, "email": creds.Email, "profile": "user", "companyId": 42, "super": false}})
		case creds.Email == "root@rcchat.test" && creds.Password == "root-pw":
			writeLoginResp(w, r, 200, map[string]any{"token": "rcchat-jwt-root", "user": map[string]any{
				"id": 1, "email": creds.Email, "profile": "admin", "companyId": 1, "super": true}})
		default:
			writeLoginResp(w, r, 401, map[string]any{"error": "ERR_INVALID_CREDENTIALS"})
		}
	default:
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprintf(w, "upstream %s", r.URL.Path)
	}
}

// writeLoginResp answers like RC-CHAT behind a compressing proxy: gzip
// whenever the request accepts it, as browsers' requests always do.
func writeLoginResp(w http.ResponseWriter, r *http.Request, status int, v any) {
	if !strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		writeJSONResp(w, status, v)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Encoding", "gzip")
	w.WriteHeader(status)
	zw := gzip.NewWriter(w)
	_ = json.NewEncoder(zw).Encode(v)
	_ = zw.Close()
}

func writeJSONResp(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// last returns the last request the upstream saw for a path.
func (u *upstream) last(path string) *http.Request {
	u.mu.Lock()
	defer u.mu.Unlock()
	for i := len(u.seen) - 1; i >= 0; i-- {
		if u.seen[i].URL.Path == path {
			return u.seen[i]
		}
	}
	return nil
}

func (u *upstream) count(path string) int {
	u.mu.Lock()
	defer u.mu.Unlock()
	n := 0
	for _, r := range u.seen {
		if r.URL.Path == path {
			n++
		}
	}
	return n
}

// env is the shared test environment: one Caddy per test binary.
type env struct {
	tester   *caddytest.Tester
	sim      *whmcssim.Sim
	simURL   string
	up       *upstream
	stateDir string
	client   *http.Client
}

var (
	envOnce sync.Once
	theEnv  *env
)

func getEnv(t *testing.T) *env {
	t.Helper()
	envOnce.Do(func() {
		e := &env{sim: whmcssim.New(whmcssim.Options{Identifier: apiID, Secret: apiSecret})}
		e.simURL, _ = e.sim.Start()
		e.up = &upstream{}
		e.up.srv = httptest.NewServer(e.up)
		e.stateDir = filepath.Join(tempDirForProcess(), "state")
		e.client = &http.Client{
			Timeout:       30 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
		theEnv = e
	})
	theEnv.tester = caddytest.NewTester(t)
	return theEnv
}

// load (re)loads the Caddy config with the module's state in stateFile.
func (e *env) load(t *testing.T, stateFile string, extra string) {
	t.Helper()
	e.tester.InitServer(e.caddyfile(stateFile, extra), "caddyfile")
	if t.Failed() {
		t.FailNow()
	}
}

func (e *env) caddyfile(stateFile, extra string) string {
	up := strings.TrimPrefix(e.up.srv.URL, "http://")
	return fmt.Sprintf(`{
	admin localhost:2999
	http_port 9080
	https_port 9443
	grace_period 1ns
	skip_install_trust
	auto_https off
	persist_config off
}
http://localhost:9080 {
	whmcs_auth {
		api_url %s
		api_identifier %s
		api_secret %s
		state %s
		issuer http://localhost:9080
		plan 1 Basico
		plan 2 Premium
		webhook_secret %s
		service_token %s
		ticket_sync on
		public /manifest.json /static/* /backend/public/*
		client app app-secret http://127.0.0.1:9999/cb
		%s
	}
	respond /config.json 404
	handle_path /backend/* {
		reverse_proxy %s
	}
	reverse_proxy /socket.io/* %s
	reverse_proxy %s
}
`, e.simURL, apiID, apiSecret, stateFile, webhookKey, serviceToken, extra, up, up, up)
}

// do sends a request with an optional session cookie and headers.
func (e *env) do(t *testing.T, method, path, cookie string, body io.Reader, headers ...string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, site+path, body)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Add(headers[i], headers[i+1])
	}
	if cookie != "" {
		req.AddCookie(&http.Cookie{Name: "__Host-rcchat_sso", Value: cookie})
	}
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// loginJSON signs in through the JSON login and returns the response, its
// decoded body and the session cookie.
func (e *env) loginJSON(t *testing.T, email, password string, headers ...string) (*http.Response, map[string]any, string) {
	t.Helper()
	b, _ := json.Marshal(map[string]string{"email": email, "password": password})
	resp := e.do(t, "POST", "/sso/login", "", bytes.NewReader(b), append([]string{"Content-Type", "application/json"}, headers...)...)
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp, body, sessionCookie(resp)
}

func sessionCookie(resp *http.Response) string {
	for _, c := range resp.Cookies() {
		if c.Name == "__Host-rcchat_sso" && c.MaxAge >= 0 {
			return c.Value
		}
	}
	return ""
}

// seedClient adds a WHMCS client with one service and returns their ids.
func (e *env) seedClient(email, password, status string, pid int64) (clientID, serviceID int64) {
	clientID = e.sim.AddClient(whmcssim.Client{FirstName: "Test", LastName: "Client", CompanyName: "Empresa " + email, Email: email, Status: "Active"})
	serviceID = e.sim.AddService(whmcssim.Service{ClientID: clientID, ProductID: pid, Name: "RC-CHAT", Password: password,
		Status: status, RegDate: "2026-01-01", NextDueDate: "2026-12-31"})
	return clientID, serviceID
}

// rawRequest sends bytes over TCP and returns the status line and headers,
// for requests net/http would refuse to build (or would normalise).
func rawRequest(t *testing.T, raw string) (string, http.Header) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", "127.0.0.1:9080", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, raw); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	return resp.Status, resp.Header
}

var (
	processDirOnce sync.Once
	processDir     string
)

// tempDirForProcess outlives single tests: the Caddy config, and the state
// file it holds open, are shared by the whole package run.
func tempDirForProcess() string {
	processDirOnce.Do(func() {
		d, err := os.MkdirTemp("", "whmcs-it-")
		if err != nil {
			panic(err)
		}
		processDir = d
	})
	return processDir
}
