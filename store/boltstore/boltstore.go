// Package boltstore implements store.Store on one bbolt file.
//
// Every record kind has its own bucket holding JSON values, so a record can
// gain fields without a migration. Lookups other than by primary key go
// through index buckets that are written in the same transaction as the
// record, which keeps the request path (session, then company) to two
// point reads and lets the background sweeps (due jobs, expired sessions)
// walk only what they need.
//
// Records created with a zero ID get their ID written back into the
// caller's struct. Because a Batch function may run more than once, and a
// rolled-back transaction does not undo that write-back, callers should
// build new records inside the function they pass to Batch or Update.
package boltstore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/rcchat/caddy-whmcs-auth/store"
)

// DefaultTimeout is how long Open waits for the file lock when
// Options.Timeout is zero. bbolt would otherwise wait forever, which turns
// a second "caddy run" on the same file into a silent hang.
const DefaultTimeout = 3 * time.Second

// Options tunes Open.
type Options struct {
	// Timeout bounds the wait for the exclusive file lock; zero or
	// negative means DefaultTimeout.
	Timeout time.Duration
}

// LockedError is returned by Open when another process holds the file
// lock. It is a distinct type so callers can tell an operator mistake (two
// servers on one file) from a broken file.
type LockedError struct {
	// Path is the state file that could not be locked.
	Path string
}

// Error explains the usual cause, because the lock holder is nearly
// always a second caddy started instead of a reload.
func (e *LockedError) Error() string {
	return fmt.Sprintf("state file %s is locked by another process "+
		"(is another caddy running on it? use \"caddy reload\" instead of a second \"caddy run\")", e.Path)
}

// Unwrap lets errors.Is(err, berrors.ErrTimeout) keep working.
func (e *LockedError) Unwrap() error { return berrors.ErrTimeout }

// Store is a store.Store backed by a bbolt file. It is safe for concurrent
// use.
type Store struct {
	db  *bolt.DB
	rev atomic.Uint64
}

var _ store.Store = (*Store)(nil)

// Open opens or creates the state file at path. A new file gets the current
// schema; an existing one must not be from a newer binary.
func Open(path string, opts Options) (*Store, error) {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	// The file holds signing keys and session hashes, so neither it nor
	// its directory is readable by anyone but the owner.
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("boltstore: create directory for state file %s: %w", path, err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout: opts.Timeout,
		// NoSync stays false: Update's contract is that a nil return
		// means the write is on disk.
		NoSync: false,
	})
	if err != nil {
		if errors.Is(err, berrors.ErrTimeout) {
			return nil, &LockedError{Path: path}
		}
		return nil, fmt.Errorf("boltstore: open state file %s: %w", path, err)
	}
	if err := tightenMode(path); err != nil {
		db.Close()
		return nil, err
	}
	if err := db.Update(initSchema); err != nil {
		db.Close()
		return nil, fmt.Errorf("boltstore: state file %s: %w", path, err)
	}
	return &Store{db: db}, nil
}

// tightenMode fixes a file created by an older tool or a restore with a
// permissive umask; bbolt only applies the mode when it creates the file.
func tightenMode(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("boltstore: stat state file %s: %w", path, err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(path, 0o600); err != nil {
			return fmt.Errorf("boltstore: restrict permissions of state file %s: %w", path, err)
		}
	}
	return nil
}

// View runs fn in a read-only transaction.
func (s *Store) View(ctx context.Context, fn func(store.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.View(func(btx *bolt.Tx) error { return fn(tx{btx}) })
}

// Update runs fn in a read-write transaction and fsyncs before returning
// nil.
func (s *Store) Update(ctx context.Context, fn func(store.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := s.db.Update(wrapWrite(ctx, fn)); err != nil {
		return err
	}
	s.rev.Add(1)
	return nil
}

// Batch runs fn in a transaction that may be shared with other concurrent
// Batch callers, trading a little latency for one fsync per group.
func (s *Store) Batch(ctx context.Context, fn func(store.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := s.db.Batch(wrapWrite(ctx, fn)); err != nil {
		return err
	}
	s.rev.Add(1)
	return nil
}

// wrapWrite re-checks ctx once the write lock is held: a caller that gave
// up while queued behind other writers should not have its write applied.
func wrapWrite(ctx context.Context, fn func(store.Tx) error) func(*bolt.Tx) error {
	return func(btx *bolt.Tx) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		return fn(tx{btx})
	}
}

// Revision returns a counter bumped after every successful Update or Batch.
// It starts at zero on each Open, so it is only meaningful within one
// process.
func (s *Store) Revision() uint64 { return s.rev.Load() }

// Close releases the file and its lock.
func (s *Store) Close() error { return s.db.Close() }
