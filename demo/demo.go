package demo

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	// The demo config is a Caddyfile using reverse_proxy and the module.
	_ "github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	_ "github.com/caddyserver/caddy/v2/modules/standard"

	_ "github.com/rcchat/caddy-whmcs-auth/caddymodule"

	"github.com/rcchat/caddy-whmcs-auth/whmcsauth/whmcssim"
)

// Options tune the demo.
type Options struct {
	// Listen is the address of the demo site; port 0 picks a free one.
	Listen string
	// StateDir holds the state file; empty means a new temporary directory.
	StateDir string
}

// Client is a seeded WHMCS client and its RC-CHAT service password.
type Client struct {
	Email, Password, Plan, Status string
}

// Demo is a running demo.
type Demo struct {
	// URL is the demo site.
	URL string
	// WHMCSURL is the simulator's api.php.
	WHMCSURL string
	// Clients are the seeded clients.
	Clients []Client
	// Sim is the simulator, for tests that drive WHMCS-side changes.
	Sim *whmcssim.Sim

	closers []func()
}

// The simulator's API credentials and the demo's webhook and service secrets;
// they only ever guard loopback addresses of this process.
const (
	demoIdentifier   = "demo-identifier"
	demoSecret       = "demo-secret"
	demoWebhook      = "demo-webhook-secret"
	demoServiceToken = "demo-service-token"
)

// Start runs the simulator, the upstream and Caddy with the module.
func Start(opts Options) (*Demo, error) {
	d := &Demo{}
	ok := false
	defer func() {
		if !ok {
			d.Close()
		}
	}()

	d.Sim = whmcssim.New(whmcssim.Options{Identifier: demoIdentifier, Secret: demoSecret})
	simURL, closeSim := d.Sim.Start()
	d.closers = append(d.closers, closeSim)
	d.WHMCSURL = simURL
	d.Clients = seed(d.Sim)

	upstream, closeUp, err := startUpstream()
	if err != nil {
		return nil, err
	}
	d.closers = append(d.closers, closeUp)

	listen := opts.Listen
	if listen == "" {
		listen = "127.0.0.1:0"
	}
	addr, err := freeAddr(listen)
	if err != nil {
		return nil, err
	}
	d.URL = "http://" + addr

	dir := opts.StateDir
	if dir == "" {
		dir, err = os.MkdirTemp("", "whmcs-demo-")
		if err != nil {
			return nil, err
		}
		d.closers = append(d.closers, func() { os.RemoveAll(dir) })
	}

	cfg, err := adapt(caddyfile(addr, simURL, upstream, dir))
	if err != nil {
		return nil, err
	}
	if err := caddy.Load(cfg, true); err != nil {
		return nil, fmt.Errorf("demo: starting caddy: %w", err)
	}
	d.closers = append(d.closers, func() { _ = caddy.Stop() })
	if err := waitListening(addr); err != nil {
		return nil, err
	}
	ok = true
	return d, nil
}

// Close stops everything the demo started.
func (d *Demo) Close() {
	for i := len(d.closers) - 1; i >= 0; i-- {
		d.closers[i]()
	}
	d.closers = nil
}

func seed(sim *whmcssim.Sim) []Client {
	type row struct {
		first, last, company, email, password, status string
		pid                                           int64
		plan                                          string
	}
	rows := []row{
		{"Ana", "Souza", "Loja da Ana", "ana@demo.test", "ana-basico-123", "Active", 1, "Basico"},
		{"Bruno", "Lima", "", "bruno@demo.test", "bruno-premium-123", "Active", 2, "Premium"},
		{"Carla", "Dias", "Carla & Filhos", "carla@demo.test", "carla-suspensa-123", "Suspended", 1, "Basico"},
	}
	var out []Client
	for i, r := range rows {
		id := sim.AddClient(whmcssim.Client{FirstName: r.first, LastName: r.last, CompanyName: r.company, Email: r.email, Status: "Active"})
		sim.AddService(whmcssim.Service{ClientID: id, ProductID: r.pid, Name: "RC-CHAT " + r.plan, Password: r.password,
			Status: r.status, RegDate: fmt.Sprintf("2026-0%d-01", i+1), NextDueDate: time.Now().AddDate(0, 1, 0).Format("2006-01-02")})
		out = append(out, Client{Email: r.email, Password: r.password, Plan: r.plan, Status: strings.ToLower(r.status)})
	}
	return out
}

func caddyfile(addr, simURL, upstream, dir string) string {
	return fmt.Sprintf(`{
	admin off
	auto_https off
	storage file_system %[4]s/caddy
	persist_config off
}

http://%[1]s {
	bind 127.0.0.1
	whmcs_auth {
		api_url %[2]s
		api_identifier %[5]s
		api_secret %[6]s
		state %[4]s/state.db
		issuer http://%[1]s
		plan 1 Basico
		plan 2 Premium
		webhook_secret %[7]s
		service_token %[8]s
		ticket_sync on
		public /favicon.ico
	}
	reverse_proxy %[3]s
}
`, addr, simURL, upstream, filepath.ToSlash(dir), demoIdentifier, demoSecret, demoWebhook, demoServiceToken)
}

func adapt(cf string) ([]byte, error) {
	a := caddyconfig.GetAdapter("caddyfile")
	if a == nil {
		return nil, fmt.Errorf("demo: the caddyfile adapter is not compiled in")
	}
	out, _, err := a.Adapt([]byte(cf), nil)
	if err != nil {
		return nil, fmt.Errorf("demo: adapting the demo Caddyfile: %w", err)
	}
	return out, nil
}

// freeAddr turns port 0 into a free port now, so the URL can be printed.
func freeAddr(listen string) (string, error) {
	l, err := net.Listen("tcp", listen)
	if err != nil {
		return "", fmt.Errorf("demo: cannot listen on %s: %w", listen, err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr, nil
}

func waitListening(addr string) error {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			c.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("demo: caddy did not start listening on %s", addr)
}
