// Package session keeps the server-side sessions behind the
// `__Host-rcchat_sso` cookie.
//
// A session id is 256 random bits handed to the browser; the store keeps only
// its SHA-256, so a copy of the state file does not let anyone sign in. The
// request path resolves a session and its company from an in-memory cache
// that is dropped whenever the store commits a write, so a suspension or a
// logout is seen by the very next request without a disk read on every one.
package session

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/rcchat/caddy-whmcs-auth/store"
)

// CookieName is the session cookie. The __Host- prefix makes browsers
// refuse it unless it is Secure, host-only and on Path=/.
const CookieName = "__Host-rcchat_sso"

// ErrNoSession means the presented id is malformed, unknown, expired or
// revoked: the request is unauthenticated.
var ErrNoSession = errors.New("session: no valid session")

// tokenBytes is the entropy of a session id (256 bits).
const tokenBytes = 32

// tokenLen is the length of a cookie value: tokenBytes in unpadded base64url.
const tokenLen = (tokenBytes*8 + 5) / 6

// Manager opens, resolves and revokes sessions.
type Manager struct {
	store store.Store
	ttl   time.Duration
	now   func() time.Time
	cache *cache
}

// NewManager returns a Manager whose sessions live for ttl.
func NewManager(st store.Store, ttl time.Duration) *Manager {
	return &Manager{store: st, ttl: ttl, now: time.Now, cache: newCache(st, 100_000)}
}

// TTL is the lifetime of a new session.
func (m *Manager) TTL() time.Duration { return m.ttl }

// Options describe how a session was established.
type Options struct {
	// Vouched marks a session opened from RC-CHAT's own login answer.
	Vouched bool
	// Super is RC-CHAT's super-admin flag (vouched sessions only).
	Super bool
	// ClientIP is recorded for the audit trail.
	ClientIP string
}

// Open creates a session for user in company and returns the cookie value.
func (m *Manager) Open(ctx context.Context, user store.User, company store.Company, opts Options) (string, store.Session, error) {
	token, err := NewToken()
	if err != nil {
		return "", store.Session{}, err
	}
	now := m.now()
	s := store.Session{
		IDHash:    HashToken(token),
		UserID:    user.ID,
		CompanyID: company.ID,
		Email:     user.Email,
		Name:      user.Name,
		Role:      user.Role,
		Vouched:   opts.Vouched,
		Super:     opts.Super && opts.Vouched,
		AuthTime:  now,
		ExpiresAt: now.Add(m.ttl),
		ClientIP:  opts.ClientIP,
	}
	if err := m.store.Update(ctx, func(tx store.Tx) error { return tx.PutSession(&s) }); err != nil {
		return "", store.Session{}, fmt.Errorf("session: saving: %w", err)
	}
	return token, s, nil
}

// Resolve returns the session behind a cookie value and its company as they
// are now. Anything but a live session yields ErrNoSession; the caller then
// treats the request as unauthenticated, never as a pass-through.
func (m *Manager) Resolve(ctx context.Context, token string) (store.Session, store.Company, error) {
	e, err := m.Lookup(ctx, token)
	if err != nil {
		return store.Session{}, store.Company{}, err
	}
	return e.Session, e.Company, nil
}

// Lookup is Resolve for the request path: it returns the cached entry
// itself, so that what the caller derives from it (Entry.Derived) is
// computed once per store revision rather than once per request.
func (m *Manager) Lookup(ctx context.Context, token string) (*Entry, error) {
	key, ok := tokenKey(token)
	if !ok {
		return nil, ErrNoSession
	}
	e, err := m.cache.get(ctx, key)
	if err != nil {
		return nil, err
	}
	if !m.now().Before(e.Session.ExpiresAt) {
		return nil, ErrNoSession
	}
	return e, nil
}

// Revoke ends the session behind a cookie value. Unknown ids are not an error.
func (m *Manager) Revoke(ctx context.Context, token string) error {
	key, ok := tokenKey(token)
	if !ok {
		return nil
	}
	return m.RevokeHash(ctx, hex.EncodeToString(key[:]))
}

// RevokeHash ends the session whose id hashes to idHash.
func (m *Manager) RevokeHash(ctx context.Context, idHash string) error {
	err := m.store.Update(ctx, func(tx store.Tx) error {
		err := tx.DeleteSession(idHash)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("session: revoking: %w", err)
	}
	return nil
}

// Sweep deletes sessions that expired, in small transactions so that it
// never holds the write lock for long. It returns how many it removed.
func (m *Manager) Sweep(ctx context.Context) (int, error) {
	total := 0
	for {
		var n int
		err := m.store.Update(ctx, func(tx store.Tx) error {
			var err error
			n, err = tx.DeleteExpiredSessions(m.now(), 500)
			return err
		})
		total += n
		if err != nil || n < 500 {
			return total, err
		}
	}
}

// NewToken returns a fresh random cookie value.
func NewToken() (string, error) {
	var b [tokenBytes]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("session: reading random bytes: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// HashToken is the store key of a cookie value.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// tokenKey validates the shape of a cookie value and hashes it without
// allocating; malformed values never reach the store.
func tokenKey(token string) ([sha256.Size]byte, bool) {
	// The copy is what keeps this free of allocations: []byte(token)
	// only gets a stack buffer up to 32 bytes, and a token has 43.
	var buf [tokenLen]byte
	if len(token) != len(buf) {
		return [sha256.Size]byte{}, false
	}
	for i := 0; i < len(token); i++ {
		c := token[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return [sha256.Size]byte{}, false
		}
		buf[i] = c
	}
	return sha256.Sum256(buf[:]), true
}
