package tickets

import (
	"context"
	"sync"
)

// keyedMutex serialises work per key (an RC-CHAT ticket id). Opening a
// ticket calls WHMCS between reading and writing the store, which cannot
// happen inside one transaction; holding the key's lock across the whole
// sequence is what keeps concurrent duplicate requests from opening two
// WHMCS tickets. Entries are dropped when unused, so memory follows the
// number of requests in flight, not the number of tickets ever seen.
//
// It protects one process only. Several Caddy instances on a shared
// database would need a reservation row instead (see the package report).
type keyedMutex struct {
	mu      sync.Mutex
	entries map[string]*keyedEntry
}

type keyedEntry struct {
	sem  chan struct{}
	refs int
}

// lock waits for key, giving up when ctx ends. The returned function
// releases it.
func (k *keyedMutex) lock(ctx context.Context, key string) (func(), error) {
	k.mu.Lock()
	if k.entries == nil {
		k.entries = make(map[string]*keyedEntry)
	}
	e := k.entries[key]
	if e == nil {
		e = &keyedEntry{sem: make(chan struct{}, 1)}
		k.entries[key] = e
	}
	e.refs++
	k.mu.Unlock()

	select {
	case e.sem <- struct{}{}:
		return func() { <-e.sem; k.release(key, e) }, nil
	case <-ctx.Done():
		k.release(key, e)
		return nil, ctx.Err()
	}
}

// release drops one reference and forgets the entry when it was the last.
func (k *keyedMutex) release(key string, e *keyedEntry) {
	k.mu.Lock()
	defer k.mu.Unlock()
	e.refs--
	if e.refs == 0 {
		delete(k.entries, key)
	}
}
