package session

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"sync"

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
	entries  map[[sha256.Size]byte]entry
}

type entry struct {
	session store.Session
	company store.Company
}

func newCache(st store.Store, limit int) *cache {
	return &cache{store: st, limit: limit, entries: make(map[[sha256.Size]byte]entry)}
}

func (c *cache) get(ctx context.Context, key [sha256.Size]byte) (entry, error) {
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
		return entry{}, err
	}
	c.mu.Lock()
	if c.revision != rev || len(c.entries) >= c.limit {
		c.entries = make(map[[sha256.Size]byte]entry)
		c.revision = rev
	}
	c.entries[key] = e
	c.mu.Unlock()
	return e, nil
}

func (c *cache) load(ctx context.Context, key [sha256.Size]byte) (entry, error) {
	var e entry
	err := c.store.View(ctx, func(tx store.Tx) error {
		s, err := tx.Session(hex.EncodeToString(key[:]))
		if err != nil {
			return err
		}
		co, err := tx.Company(s.CompanyID)
		if err != nil {
			return err
		}
		e = entry{session: s, company: co}
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return entry{}, ErrNoSession
	}
	return e, err
}
