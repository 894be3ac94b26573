// Package crashtest runs the real caddy binary (built once from ./cmd/caddy)
// as a separate process and hurts it: SIGKILL in the middle of a webhook
// storm and of outbox work, a WHMCS that is slow, failing or dropping
// connections, and many config reloads. The WHMCS simulator runs in the
// test process. Every process gets its own free loopback ports (site and
// admin), so these tests never collide with the integration package's
// fixed ports, nor with each other.
package crashtest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rcchat/caddy-whmcs-auth/webhooks"
	"github.com/rcchat/caddy-whmcs-auth/whmcsauth/whmcssim"
)

// Secrets of the test setup; they guard loopback addresses only.
const (
	apiID        = "crash-identifier"
	apiSecret    = "crash-secret"
	webhookKey   = "crash-webhook-secret"
	serviceToken = "crash-service-token"
	cookieName   = "__Host-rcchat_sso"
)

// caddyBin is the binary TestMain builds.
var caddyBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "crashtest-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "crashtest:", err)
		os.Exit(1)
	}
	caddyBin = filepath.Join(dir, "caddy")
	args := []string{"build", "-o", caddyBin}
	if os.Getenv("CRASHTEST_RACE") == "1" {
		args = append(args, "-race") // slower, but finds races in the real binary under stress
	}
	build := exec.Command(goTool(), append(args, "./cmd/caddy")...)
	build.Dir = ".." // the module root
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "crashtest: go build ./cmd/caddy: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// goTool is the go command that runs these tests.
func goTool() string {
	if p := filepath.Join(runtime.GOROOT(), "bin", "go"); fileExists(p) {
		return p
	}
	return "go"
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// server is one test's Caddy across restarts: the same ports, state file
// and WHMCS, a new process each start.
type server struct {
	t         *testing.T
	dir       string
	sim       *whmcssim.Sim
	apiURL    string // what Caddy calls: the simulator, or a proxy in front of it
	httpPort  int
	adminPort int
	state     string
	client    *http.Client

	mu   sync.Mutex
	proc *process
	runs int
}

// process is one run of the binary.
type process struct {
	cmd  *exec.Cmd
	log  string
	done chan struct{} // closed when the process has exited
}

// newServer prepares a server and its simulator; apiURL may name a proxy
// in front of the simulator (empty: the simulator itself).
func newServer(t *testing.T, sim *whmcssim.Sim, apiURL string) *server {
	t.Helper()
	if sim == nil {
		sim = newSim(t)
	}
	if apiURL == "" {
		apiURL = startSim(t, sim)
	}
	dir := t.TempDir()
	s := &server{t: t, dir: dir, sim: sim, apiURL: apiURL, httpPort: freePort(t), adminPort: freePort(t),
		state: filepath.Join(dir, "state.db"),
		client: &http.Client{
			Timeout:       30 * time.Second, // longer than the module's 15 s WHMCS timeout
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
			Transport:     &http.Transport{MaxIdleConnsPerHost: 32},
		}}
	t.Cleanup(func() {
		s.stop()
		if t.Failed() {
			s.dumpLogs()
		}
	})
	return s
}

func newSim(t *testing.T) *whmcssim.Sim {
	return whmcssim.New(whmcssim.Options{Identifier: apiID, Secret: apiSecret, BanAfter: -1})
}

func startSim(t *testing.T, sim *whmcssim.Sim) string {
	u, stop := sim.Start()
	t.Cleanup(stop)
	return u
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// caddyfile is the configuration; variant changes a harmless detail so
// that two variants are two different configs (Caddy skips a /load of the
// config it already runs). GET /version answers the variant.
func (s *server) caddyfile(variant string) string {
	ttl := "12h"
	if variant == "B" {
		ttl = "11h"
	}
	return fmt.Sprintf(`{
	admin 127.0.0.1:%[2]d
	http_port %[1]d
	default_bind 127.0.0.1
	auto_https off
	skip_install_trust
	persist_config off
	grace_period 1s
}
http://127.0.0.1:%[1]d {
	whmcs_auth {
		api_url %[3]s
		api_identifier %[4]s
		api_secret %[5]s
		state %[6]s
		issuer http://127.0.0.1:%[1]d
		plan 1 Basico
		plan 2 Premium
		webhook_secret %[7]s
		service_token %[8]s
		ticket_sync on
		session_ttl %[9]s
		public /version
	}
	respond /version "%[10]s" 200
	respond "upstream {path}" 200
}
`, s.httpPort, s.adminPort, s.apiURL, apiID, apiSecret, s.state, webhookKey, serviceToken, ttl, variant)
}

// start runs the binary on config variant A and waits until the module
// answers its health check.
func (s *server) start() {
	s.t.Helper()
	s.mu.Lock()
	s.runs++
	n := s.runs
	s.mu.Unlock()
	cfg := filepath.Join(s.dir, "Caddyfile")
	if err := os.WriteFile(cfg, []byte(s.caddyfile("A")), 0o600); err != nil {
		s.t.Fatal(err)
	}
	logPath := filepath.Join(s.dir, fmt.Sprintf("caddy-run%d.log", n))
	logFile, err := os.Create(logPath)
	if err != nil {
		s.t.Fatal(err)
	}
	cmd := exec.Command(caddyBin, "run", "--config", cfg, "--adapter", "caddyfile")
	cmd.Dir = s.dir
	// Caddy's data and config directories go to the test's directory.
	cmd.Env = append(os.Environ(), "HOME="+s.dir, "XDG_DATA_HOME="+s.dir, "XDG_CONFIG_HOME="+s.dir)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		s.t.Fatalf("starting caddy: %v", err)
	}
	p := &process{cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		logFile.Close()
		close(p.done)
	}()
	s.mu.Lock()
	s.proc = p
	s.mu.Unlock()

	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-p.done:
			s.t.Fatalf("caddy exited during start-up: %v", cmd.ProcessState)
		default:
		}
		resp, err := s.client.Get(s.url("/sso/healthz"))
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("caddy did not become healthy within 30s (last: %v)", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// kill sends SIGKILL and waits for the process to be gone. It may run on
// any goroutine; it reports instead of failing.
func (s *server) kill() error {
	s.mu.Lock()
	p := s.proc
	s.proc = nil
	s.mu.Unlock()
	if p == nil {
		return errors.New("no caddy process to kill")
	}
	if err := p.cmd.Process.Kill(); err != nil {
		return err
	}
	select {
	case <-p.done:
		return nil
	case <-time.After(10 * time.Second):
		return errors.New("caddy did not die within 10s of SIGKILL")
	}
}

// stop ends a still-running process at the end of the test.
func (s *server) stop() {
	s.mu.Lock()
	p := s.proc
	s.mu.Unlock()
	if p == nil {
		return
	}
	_ = p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		_ = s.kill()
	}
}

// dumpLogs prints the end of every run's log, for a failed test.
func (s *server) dumpLogs() {
	for n := 1; n <= s.runs; n++ {
		b, err := os.ReadFile(filepath.Join(s.dir, fmt.Sprintf("caddy-run%d.log", n)))
		if err != nil {
			continue
		}
		lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
		if len(lines) > 40 {
			lines = lines[len(lines)-40:]
		}
		s.t.Logf("caddy run %d, last log lines:\n%s", n, strings.Join(lines, "\n"))
	}
}

func (s *server) url(path string) string {
	return "http://127.0.0.1:" + strconv.Itoa(s.httpPort) + path
}

func (s *server) adminURL(path string) string {
	return "http://127.0.0.1:" + strconv.Itoa(s.adminPort) + path
}

// do sends a request; headers are name, value pairs. It returns the
// status and the body, or the transport error.
func (s *server) do(method, path string, body []byte, headers ...string) (int, []byte, error) {
	req, err := http.NewRequest(method, s.url(path), bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// api calls /sso/api/* with the service token and decodes the answer.
func (s *server) api(method, path string, body any) (int, map[string]any) {
	s.t.Helper()
	var raw []byte
	if body != nil {
		raw, _ = json.Marshal(body)
	}
	status, b, err := s.do(method, path, raw, "Authorization", "Bearer "+serviceToken, "Content-Type", "application/json")
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return status, out
}

// login signs in through the JSON login; it returns the status, the error
// code of a refusal and the session cookie of a success.
func (s *server) login(email, password string) (status int, errCode, cookie string, err error) {
	b, _ := json.Marshal(map[string]string{"email": email, "password": password})
	req, _ := http.NewRequest("POST", s.url("/sso/login"), bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, "", "", err
	}
	defer resp.Body.Close()
	var out struct {
		Error string `json:"error"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&out)
	for _, c := range resp.Cookies() {
		if c.Name == cookieName && c.MaxAge >= 0 {
			cookie = c.Value
		}
	}
	return resp.StatusCode, out.Error, cookie, nil
}

// mustLogin signs in and returns the session cookie.
func (s *server) mustLogin(email, password string) string {
	s.t.Helper()
	status, code, cookie, err := s.login(email, password)
	if err != nil || status != http.StatusOK || cookie == "" {
		s.t.Fatalf("login %s: %d %s %v", email, status, code, err)
	}
	return cookie
}

// withSession requests path as the holder of cookie and returns the status.
func (s *server) withSession(path, cookie string) int {
	s.t.Helper()
	status, _, err := s.do("GET", path, nil, "Cookie", cookieName+"="+cookie, "Accept", "application/json")
	if err != nil {
		s.t.Fatalf("GET %s: %v", path, err)
	}
	return status
}

// seedClient adds a WHMCS client with one service of product pid.
func seedClient(sim *whmcssim.Sim, email, password, status string, pid int64) (clientID, serviceID int64) {
	clientID = sim.AddClient(whmcssim.Client{FirstName: "Crash", LastName: "Test", CompanyName: "Empresa " + email,
		Email: email, Status: "Active"})
	serviceID = sim.AddService(whmcssim.Service{ClientID: clientID, ProductID: pid, Name: "RC-CHAT", Password: password,
		Status: status, RegDate: "2026-01-01", NextDueDate: "2026-12-31"})
	return clientID, serviceID
}

// event is one signed webhook delivery's body.
func event(id, typ string, clientID, serviceID, pid int64) []byte {
	b, _ := json.Marshal(map[string]any{"id": id, "event": typ, "occurred_at": time.Now().UTC().Format(time.RFC3339),
		"params": map[string]any{"serviceid": serviceID, "userid": strconv.FormatInt(clientID, 10), "pid": pid, "invoiceid": nil}})
	return b
}

// sendEvent delivers body, signed now, and returns the status and the
// answer's "status" field.
func (s *server) sendEvent(body []byte) (int, string, error) {
	ts := time.Now().Unix()
	status, b, err := s.do("POST", "/api/webhooks/whmcs", body, "Content-Type", "application/json",
		webhooks.HeaderTimestamp, strconv.FormatInt(ts, 10), webhooks.HeaderSignature, webhooks.Sign(webhookKey, ts, body))
	if err != nil {
		return 0, "", err
	}
	var out struct {
		Status string `json:"status"`
	}
	_ = json.Unmarshal(b, &out)
	return status, out.Status, nil
}

// outboxJobs lists GET /sso/api/outbox.
func (s *server) outboxJobs() []map[string]any {
	s.t.Helper()
	status, out := s.api("GET", "/sso/api/outbox", nil)
	if status != http.StatusOK {
		s.t.Fatalf("GET /sso/api/outbox: %d %v", status, out)
	}
	var jobs []map[string]any
	for _, j := range out["jobs"].([]any) {
		jobs = append(jobs, j.(map[string]any))
	}
	return jobs
}

// waitOutboxEmpty waits until every job is done; a parked (failed) job
// fails the test at once.
func (s *server) waitOutboxEmpty(timeout time.Duration) {
	s.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		jobs := s.outboxJobs()
		if len(jobs) == 0 {
			return
		}
		for _, j := range jobs {
			if j["state"] == "failed" {
				s.t.Fatalf("outbox job parked as failed: %v", j)
			}
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("outbox still has %d jobs after %v: %v", len(jobs), timeout, jobs)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// companyStatuses maps WHMCS client ids to company statuses, from
// GET /sso/api/companies.
func (s *server) companyStatuses() map[int64]string {
	s.t.Helper()
	status, out := s.api("GET", "/sso/api/companies?limit=1000", nil)
	if status != http.StatusOK {
		s.t.Fatalf("GET /sso/api/companies: %d %v", status, out)
	}
	m := map[int64]string{}
	for _, c := range out["companies"].([]any) {
		c := c.(map[string]any)
		m[int64(c["whmcs_client_id"].(float64))] = c["status"].(string)
	}
	return m
}

// metrics fetches the admin endpoint's /metrics.
func (s *server) metrics() string {
	s.t.Helper()
	resp, err := s.client.Get(s.adminURL("/metrics"))
	if err != nil {
		s.t.Fatalf("GET admin /metrics: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		s.t.Fatalf("GET admin /metrics: %d %s", resp.StatusCode, b)
	}
	return string(b)
}

// metricValue sums the samples of name whose labels include every
// name="value" pair given; ok is false when there is none.
func metricValue(text, name string, labels ...string) (sum float64, ok bool) {
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || !strings.HasPrefix(line, name) {
			continue
		}
		rest := line[len(name):]
		if rest == "" || (rest[0] != '{' && rest[0] != ' ') {
			continue // a longer name with this prefix
		}
		match := true
		for i := 0; i+1 < len(labels); i += 2 {
			if !strings.Contains(rest, labels[i]+`="`+labels[i+1]+`"`) {
				match = false
			}
		}
		sp := strings.LastIndexByte(rest, ' ')
		v, err := strconv.ParseFloat(rest[sp+1:], 64)
		if !match || err != nil {
			continue
		}
		sum += v
		ok = true
	}
	return sum, ok
}

// eventually polls cond until it holds or timeout passes.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
