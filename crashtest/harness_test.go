// Package crashtest runs the real caddy binary (built once from ./cmd/caddy)
// as a separate process and hurts it: SIGKILL in the middle of a webhook
// storm and of outbox work, a WHMCS that is slow, failing or dropping
// connections, and many config reloads. The WHMCS simulator runs in the
// test process. Every process gets its own free loopback ports (site and
// admin), so these tests never collide with the integration package's
// fixed ports, nor with each other.
package crashtest

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

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
	// No VCS stamp: the binary is a test fixture, and a git that refuses
	// the checkout (ownership, missing tool) would fail the build.
	args := []string{"build", "-buildvcs=false", "-o", caddyBin}
	if raceBuild {
		args = append(args, "-race")
	}
	build := exec.Command(goTool(), append(args, "./cmd/caddy")...)
	build.Dir = ".." // the module root
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "crashtest: go build ./cmd/caddy: %v\n%s", err, out)
		_ = os.RemoveAll(dir)
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
		s.checkRaces()
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
	logPath := s.logPath(n)
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
	p := &process{cmd: cmd, done: make(chan struct{})}
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

// checkRaces fails the test when a race-enabled binary reported a data
// race in any run (it reports on stderr and carries on).
func (s *server) checkRaces() {
	for n := 1; n <= s.runs; n++ {
		b, err := os.ReadFile(s.logPath(n))
		if err != nil {
			continue
		}
		if i := bytes.Index(b, []byte("WARNING: DATA RACE")); i >= 0 {
			end := min(len(b), i+4000)
			s.t.Errorf("caddy run %d reported a data race:\n%s", n, b[i:end])
		}
	}
}

func (s *server) logPath(run int) string {
	return filepath.Join(s.dir, fmt.Sprintf("caddy-run%d.log", run))
}

// dumpLogs prints the end of every run's log, for a failed test.
func (s *server) dumpLogs() {
	for n := 1; n <= s.runs; n++ {
		b, err := os.ReadFile(s.logPath(n))
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
