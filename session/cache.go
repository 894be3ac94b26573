package session

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/rcchat/caddy-whmcs-auth/store"
)

// cache keeps resolved sessions with their company. It is valid for one
// store revision: any committed write (a logout, a suspension, a new
// session) empties it, which is rare next to reads and keeps the rule
// simple enough to trust.
type cache struct {
	store store.Store
	limit int

	mu       sync.RWMutex
	revision uint64
	entries  map[[sha256.Size]byte]*Entry
}

// Entry is a session and its company as read at one store revision. It is
// shared by every request presenting the same cookie until the next store
// write retires it, so it must be treated as read-only.
type Entry struct {
	Session store.Session
	Company store.Company

	derived atomic.Value
}

// Derived returns what build derives from e (the edge's identity headers),
// calling build only the first time; when first calls race, one result is
// kept for all. Because the entry is retired on the next store write, what
// is derived from it can never outlive the records it was derived from.
// Every caller must build values of one concrete type (sync/atomic.Value).
func (e *Entry) Derived(build func(*Entry) any) any {
	if v := e.derived.Load(); v != nil {
		return v
	}
	v := build(e)
	if e.derived.CompareAndSwap(nil, v) {
		return v
	}
	return e.derived.Load()
}

func newCache(st store.Store, limit int) *cache {
	return &cache{store: st, limit: limit, entries: make(map[[sha256.Size]byte]*Entry)}
}

func (c *cache) get(ctx context.Context, key [sha256.Size]byte) (*Entry, error) {
	rev := c.store.Revision()
	c.mu.RLock()
	e, ok := c.entries[key]
	fresh := c.revision == rev
	c.mu.RUnlock()
	if ok && fresh {
		return e, nil
	}

	e, err := c.load(ctx, key)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	// A load that started before another one moved the cache to a newer
	// revision is returned but not kept: keeping it would empty the newer
	// entries for data that is already known to be old.
	if rev >= c.revision {
		if c.revision != rev || len(c.entries) >= c.limit {
			c.entries = make(map[[sha256.Size]byte]*Entry)
			c.revision = rev
		}
		c.entries[key] = e
	}
	c.mu.Unlock()
	return e, nil
}

func (c *cache) load(ctx context.Context, key [sha256.Size]byte) (*Entry, error) {
	e := &Entry{}
	err := c.store.View(ctx, func(tx store.Tx) error {
		s, err := tx.Session(hex.EncodeToString(key[:]))
		if err != nil {
			return err
		}
		co, err := tx.Company(s.CompanyID)
		if err != nil {
			return err
		}
		e.Session, e.Company = s, co
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNoSession
	}
	if err != nil {
		return nil, err
	}
	return e, nil
}
