// Package lockout refuses logins after too many failures, per e-mail and per
// client IP. Counters live in the store so that a restart does not hand an
// attacker a fresh budget.
package lockout

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"time"

	"github.com/rcchat/caddy-whmcs-auth/store"
)

// Policy is "MaxFailures of one e-mail, or IPMaxFailures from one IP, within
// Window → refused for Ban".
type Policy struct {
	MaxFailures   int
	IPMaxFailures int
	Window        time.Duration
	Ban           time.Duration
}

// DefaultPolicy is `lockout 5 10m 15m` with IP_MAX = 4 × MAX.
var DefaultPolicy = Policy{MaxFailures: 5, IPMaxFailures: 20, Window: 10 * time.Minute, Ban: 15 * time.Minute}

// Guard applies a Policy.
type Guard struct {
	store  store.Store
	policy Policy
	now    func() time.Time
}

// NewGuard returns a Guard over st.
func NewGuard(st store.Store, p Policy) *Guard {
	if p.IPMaxFailures <= 0 {
		p.IPMaxFailures = 4 * p.MaxFailures
	}
	return &Guard{store: st, policy: p, now: time.Now}
}

// MaxKeyBytes bounds a counter's key. Longer keys (an e-mail of 65,000
// characters, which bbolt could not even store past 32 KiB) are replaced
// by the SHA-256 of their value, so every attempt is still counted and a
// counter never costs more than a few hundred bytes of state.
const MaxKeyBytes = 320

func emailKey(email string) string {
	return boundKey("email", strings.ToLower(strings.TrimSpace(email)))
}
func ipKey(ip string) string { return boundKey("ip", ip) }

// boundKey is kind:value, or kind#sha256:hex(value) when that would be
// longer than MaxKeyBytes. '#' never follows the kind in a plain key, so a
// hashed key cannot collide with one.
func boundKey(kind, value string) string {
	if len(kind)+1+len(value) <= MaxKeyBytes {
		return kind + ":" + value
	}
	sum := sha256.Sum256([]byte(value))
	return kind + "#sha256:" + hex.EncodeToString(sum[:])
}

// Check returns how long the e-mail or the IP is still refused; zero means
// the attempt may go ahead.
func (g *Guard) Check(ctx context.Context, email, ip string) (time.Duration, error) {
	now := g.now()
	var wait time.Duration
	err := g.store.View(ctx, func(tx store.Tx) error {
		for _, key := range keys(email, ip) {
			l, err := tx.Lockout(key.name)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			if d := l.BannedUntil.Sub(now); d > wait {
				wait = d
			}
		}
		return nil
	})
	return wait, err
}

// Fail counts one failed attempt against the e-mail and the IP. An empty
// e-mail (a login whose e-mail could not be read, or one too long to be an
// e-mail, which the caller drops) has no counter: it would be one shared
// by every such attempt, and locking it would lock them all out.
func (g *Guard) Fail(ctx context.Context, email, ip string) error {
	ks := keys(email, ip)
	if len(ks) == 0 {
		return nil
	}
	now := g.now()
	return g.store.Update(ctx, func(tx store.Tx) error {
		for _, k := range ks {
			limit := g.policy.MaxFailures
			if k.ip {
				limit = g.policy.IPMaxFailures
			}
			if err := g.count(tx, k.name, limit, now); err != nil {
				return err
			}
		}
		return nil
	})
}

// Succeed clears the e-mail's counter; the IP's counter is kept, so one
// valid account does not launder an IP that is guessing others.
func (g *Guard) Succeed(ctx context.Context, email string) error {
	// Most logins have nothing to clear: skip the fsync'd write then.
	var counted bool
	if err := g.store.View(ctx, func(tx store.Tx) error {
		_, err := tx.Lockout(emailKey(email))
		counted = err == nil
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		return err
	}); err != nil || !counted {
		return err
	}
	return g.store.Update(ctx, func(tx store.Tx) error {
		err := tx.DeleteLockout(emailKey(email))
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		return err
	})
}

// stale reports whether a counter's window and ban are both over.
func (g *Guard) stale(l store.Lockout, now time.Time) bool {
	return now.Sub(l.WindowStart) > g.policy.Window && now.After(l.BannedUntil)
}

func (g *Guard) count(tx store.Tx, key string, limit int, now time.Time) error {
	l, err := tx.Lockout(key)
	if errors.Is(err, store.ErrNotFound) || (err == nil && g.stale(l, now)) {
		l, err = store.Lockout{Key: key, WindowStart: now}, nil
	}
	if err != nil {
		return err
	}
	l.Failures++
	if l.Failures >= limit {
		l.BannedUntil = now.Add(g.policy.Ban)
	}
	return tx.PutLockout(&l)
}

func keys(email, ip string) []counterKey {
	ks := make([]counterKey, 0, 2)
	if strings.TrimSpace(email) != "" {
		ks = append(ks, counterKey{name: emailKey(email)})
	}
	if ip != "" {
		ks = append(ks, counterKey{name: ipKey(ip), ip: true})
	}
	return ks
}

// counterKey is a counter's key in the store, and whether it counts an IP
// (IPMaxFailures) rather than an e-mail (MaxFailures).
type counterKey struct {
	name string
	ip   bool
}

// Sweep forgets counters whose window and ban are both over, in small
// transactions, so failed e-mails do not pile up in the state file.
func (g *Guard) Sweep(ctx context.Context) (int, error) {
	removed, after := 0, ""
	for {
		var page []store.Lockout
		if err := g.store.View(ctx, func(tx store.Tx) error {
			var err error
			page, err = tx.Lockouts(after, 500)
			return err
		}); err != nil {
			return removed, err
		}
		if len(page) == 0 {
			return removed, nil
		}
		now := g.now()
		n := 0
		// Re-read inside the write: a failure counted since the listing
		// must not be forgotten.
		err := g.store.Update(ctx, func(tx store.Tx) error {
			n = 0
			for _, l := range page {
				cur, err := tx.Lockout(l.Key)
				if errors.Is(err, store.ErrNotFound) {
					continue
				}
				if err != nil {
					return err
				}
				if g.stale(cur, now) {
					if err := tx.DeleteLockout(cur.Key); err != nil {
						return err
					}
					n++
				}
			}
			return nil
		})
		if err != nil {
			return removed, err
		}
		removed += n
		after = page[len(page)-1].Key
	}
}
