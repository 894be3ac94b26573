package demo

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromium finds the headless browser that scripts/test.sh installs.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("headless Chromium is required for the login page test: run scripts/test.sh, which installs Debian's chromium")
	return ""
}

// browser starts headless Chromium the way this machine allows (as root,
// no network beyond loopback) and ends it with the test.
func browser(t *testing.T) context.Context {
	t.Helper()
	profile, err := os.MkdirTemp("", "whmcs-demo-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)),
		chromedp.NoSandbox,
		chromedp.Headless,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.UserDataDir(profile),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(func() {
		cancelTimeout()
		cancel()
		cancelAlloc()
		// Chromium's helper processes may still be writing the profile for
		// a moment after the browser exits; its removal is best effort and
		// not the test's business (t.TempDir would fail the test on it).
		_ = os.RemoveAll(profile)
	})
	return ctx
}

// A person opens the demo, signs in as a demo client, and lands on the
// upstream page that shows the identity headers RC-CHAT received.
func TestBrowserSignsInAndSeesIdentityHeaders(t *testing.T) {
	d, err := Start(Options{StateDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ana := d.Clients[0]

	ctx := browser(t)

	var loginTitle, table, location string
	var screenshot []byte
	err = chromedp.Run(ctx,
		chromedp.Navigate(d.URL+"/inbox?tab=open"),
		chromedp.WaitVisible(`#email`, chromedp.ByQuery),
		chromedp.Title(&loginTitle),
		chromedp.SendKeys(`#email`, ana.Email, chromedp.ByQuery),
		chromedp.SendKeys(`#password`, ana.Password, chromedp.ByQuery),
		chromedp.Click(`button[type=submit]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#identity`, chromedp.ByQuery),
		chromedp.Text(`#identity`, &table, chromedp.ByQuery),
		chromedp.Location(&location),
		chromedp.FullScreenshot(&screenshot, 80),
	)
	if err != nil {
		t.Fatalf("browser flow: %v", err)
	}
	if dir := os.Getenv("SCREENSHOT_DIR"); dir != "" {
		_ = os.WriteFile(dir+"/demo-upstream.jpg", screenshot, 0o644)
	}
	if loginTitle == "" {
		t.Error("the login page has no title")
	}
	if !strings.HasSuffix(location, "/inbox?tab=open") {
		t.Errorf("after sign-in the browser is at %q, want the page it asked for", location)
	}
	for _, want := range []string{"X-Rcchat-User-Email", ana.Email, "X-Rcchat-Plan", ana.Plan, "X-Rcchat-Company-Status", "active", "X-Rcchat-Identity"} {
		if !strings.Contains(table, want) {
			t.Errorf("the upstream page does not show %q:\n%s", want, table)
		}
	}
}

// The suspended demo client is refused with the suspended message.
func TestBrowserSuspendedClientIsRefused(t *testing.T) {
	d, err := Start(Options{StateDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var carla Client
	for _, c := range d.Clients {
		if c.Status == "suspended" {
			carla = c
		}
	}
	if carla.Email == "" {
		t.Fatal("the demo has no suspended client")
	}

	ctx := browser(t)

	var alert string
	err = chromedp.Run(ctx,
		chromedp.Navigate(d.URL+"/"),
		chromedp.WaitVisible(`#email`, chromedp.ByQuery),
		chromedp.SendKeys(`#email`, carla.Email, chromedp.ByQuery),
		chromedp.SendKeys(`#password`, carla.Password, chromedp.ByQuery),
		chromedp.Click(`button[type=submit]`, chromedp.ByQuery),
		chromedp.WaitVisible(`[role=alert]`, chromedp.ByQuery),
		chromedp.Text(`[role=alert]`, &alert, chromedp.ByQuery),
	)
	if err != nil {
		t.Fatalf("browser flow: %v", err)
	}
	if !strings.Contains(strings.ToLower(alert), "suspen") {
		t.Errorf("the suspended client sees %q", alert)
	}
}
