package lockout

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rcchat/caddy-whmcs-auth/store"
	"github.com/rcchat/caddy-whmcs-auth/store/boltstore"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newGuard(t *testing.T, p Policy) (*Guard, *clock) {
	t.Helper()
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "state.db"), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	g := NewGuard(st, p)
	c := &clock{t: time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)}
	g.now = c.now
	return g, c
}

func wait(t *testing.T, g *Guard, email, ip string) time.Duration {
	t.Helper()
	d, err := g.Check(context.Background(), email, ip)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func fail(t *testing.T, g *Guard, email, ip string, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		if err := g.Fail(context.Background(), email, ip); err != nil {
			t.Fatal(err)
		}
	}
}

func TestEmailBannedAfterMaxFailuresForBan(t *testing.T) {
	g, c := newGuard(t, Policy{MaxFailures: 3, Window: 10 * time.Minute, Ban: 15 * time.Minute})
	fail(t, g, "A@x.test ", "192.0.2.1", 2)
	if d := wait(t, g, "a@x.test", "192.0.2.9"); d != 0 {
		t.Fatalf("banned after 2 of 3 failures: %v", d)
	}
	fail(t, g, "a@x.test", "192.0.2.2", 1)
	if d := wait(t, g, "a@x.test", "192.0.2.9"); d != 15*time.Minute {
		t.Fatalf("wait after 3 failures = %v, want the 15m ban (e-mails compare normalised)", d)
	}
	c.t = c.t.Add(15*time.Minute + time.Second)
	if d := wait(t, g, "a@x.test", ""); d != 0 {
		t.Fatalf("still banned after the ban: %v", d)
	}
}

func TestFailuresOutsideTheWindowStartOver(t *testing.T) {
	g, c := newGuard(t, Policy{MaxFailures: 3, Window: 10 * time.Minute, Ban: 15 * time.Minute})
	fail(t, g, "b@x.test", "", 2)
	c.t = c.t.Add(11 * time.Minute)
	fail(t, g, "b@x.test", "", 2)
	if d := wait(t, g, "b@x.test", ""); d != 0 {
		t.Fatalf("failures from an old window counted: %v", d)
	}
}

func TestIPBannedAcrossEmails(t *testing.T) {
	g, _ := newGuard(t, Policy{MaxFailures: 3, Window: 10 * time.Minute, Ban: 15 * time.Minute})
	for i, email := range []string{"1@x.test", "2@x.test", "3@x.test", "4@x.test", "5@x.test", "6@x.test", "7@x.test", "8@x.test", "9@x.test", "10@x.test", "11@x.test", "12@x.test"} {
		if d := wait(t, g, "fresh@x.test", "198.51.100.7"); d != 0 {
			t.Fatalf("IP banned after %d failures, IP_MAX defaults to 12", i)
		}
		fail(t, g, email, "198.51.100.7", 1)
	}
	if d := wait(t, g, "fresh@x.test", "198.51.100.7"); d == 0 {
		t.Fatal("12 failures from one IP did not ban it")
	}
	if d := wait(t, g, "fresh@x.test", "198.51.100.8"); d != 0 {
		t.Fatal("another IP is banned too")
	}
}

func TestSuccessClearsTheEmailNotTheIP(t *testing.T) {
	g, _ := newGuard(t, Policy{MaxFailures: 2, IPMaxFailures: 3, Window: time.Minute, Ban: time.Minute})
	fail(t, g, "c@x.test", "203.0.113.5", 1)
	if err := g.Succeed(context.Background(), "c@x.test"); err != nil {
		t.Fatal(err)
	}
	fail(t, g, "c@x.test", "203.0.113.5", 1)
	if d := wait(t, g, "c@x.test", ""); d != 0 {
		t.Fatal("the e-mail counter survived a success")
	}
	fail(t, g, "d@x.test", "203.0.113.5", 1)
	if d := wait(t, g, "e@x.test", "203.0.113.5"); d == 0 {
		t.Fatal("a success laundered the IP's failures")
	}
}

func TestSweepForgetsOnlyStaleCounters(t *testing.T) {
	g, c := newGuard(t, Policy{MaxFailures: 2, Window: time.Minute, Ban: 5 * time.Minute})
	fail(t, g, "old@x.test", "", 1)
	fail(t, g, "banned@x.test", "", 2)
	c.t = c.t.Add(2 * time.Minute)
	fail(t, g, "new@x.test", "", 1)
	n, err := g.Sweep(context.Background())
	if err != nil || n != 1 {
		t.Fatalf("Sweep = %d, %v; want only old@ removed", n, err)
	}
	if d := wait(t, g, "banned@x.test", ""); d == 0 {
		t.Fatal("the sweep lifted a running ban")
	}
}

// TestOverlongKeysAreCountedBounded shows that an e-mail far past bbolt's
// 32 KiB key limit is still counted (its own ban and the IP's), under a key
// of bounded size, and that two long e-mails do not share a counter.
func TestOverlongKeysAreCountedBounded(t *testing.T) {
	g, _ := newGuard(t, Policy{MaxFailures: 2, IPMaxFailures: 3, Window: time.Minute, Ban: time.Minute})
	long := strings.Repeat("a", 65000) + "@x.test"
	fail(t, g, long, "192.0.2.50", 2)
	if d := wait(t, g, long, ""); d == 0 {
		t.Fatal("two failures of an over-long e-mail did not ban it")
	}
	if d := wait(t, g, strings.Repeat("a", 65001)+"@x.test", ""); d != 0 {
		t.Fatal("another over-long e-mail shares the ban")
	}
	fail(t, g, strings.Repeat("b", 65000), "192.0.2.50", 1)
	if d := wait(t, g, "fresh@x.test", "192.0.2.50"); d == 0 {
		t.Fatal("the IP was not counted alongside over-long e-mails")
	}
	err := g.store.View(context.Background(), func(tx store.Tx) error {
		ls, err := tx.Lockouts("", 100)
		if len(ls) != 3 {
			t.Errorf("%d counters, want 3 (two e-mails, one IP)", len(ls))
		}
		for _, l := range ls {
			if len(l.Key) > MaxKeyBytes {
				t.Errorf("counter key of %d bytes, over %d", len(l.Key), MaxKeyBytes)
			}
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if k := emailKey("a@x.test"); k != "email:a@x.test" {
		t.Fatalf("a short e-mail's key is %q", k)
	}
}

func TestFailWithoutEmailCountsOnlyTheIP(t *testing.T) {
	g, _ := newGuard(t, Policy{MaxFailures: 1, IPMaxFailures: 2, Window: time.Minute, Ban: time.Minute})
	ctx := context.Background()
	if err := g.Fail(ctx, "", "192.0.2.60"); err != nil {
		t.Fatal(err)
	}
	if d := wait(t, g, "x@x.test", "192.0.2.60"); d != 0 {
		t.Fatal("banned after 1 of 2 IP failures (or the e-mail was counted)")
	}
	if err := g.Fail(ctx, "", "192.0.2.60"); err != nil {
		t.Fatal(err)
	}
	if d := wait(t, g, "x@x.test", "192.0.2.60"); d == 0 {
		t.Fatal("2 IP failures did not ban the IP")
	}
	if d := wait(t, g, "x@x.test", "192.0.2.61"); d != 0 {
		t.Fatal("Fail without an e-mail counted one")
	}
	if d := wait(t, g, "", "192.0.2.61"); d != 0 {
		t.Fatal("attempts without an e-mail share a counter: one IP's failures lock out another's")
	}
	if err := g.Fail(ctx, "", ""); err != nil {
		t.Fatal(err)
	}
}
