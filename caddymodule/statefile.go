package caddymodule

import (
	"fmt"
	"path/filepath"
	"sync"

	"github.com/caddyserver/caddy/v2"

	"github.com/rcchat/caddy-whmcs-auth/store"
	"github.com/rcchat/caddy-whmcs-auth/store/boltstore"
)

// stateFiles shares one open bbolt handle per file. A reload provisions
// the new config before the old one is cleaned up, and bbolt's file lock
// refuses a second open of the same file even within one process, so
// without sharing a reload (or two sites on one file) would hang.
var stateFiles = caddy.NewUsagePool()

// stateFile is one open state file and the rights to its background work.
type stateFile struct {
	store.Store
	// Each lease is held by whichever config instance runs that worker at a
	// given moment, so overlapping configs (a reload) and two sites on one
	// file never run two of the same worker on it.
	outboxLease, reconcileLease, maintenanceLease sync.Mutex
}

// Destruct closes the file when its last user is cleaned up.
func (s *stateFile) Destruct() error { return s.Close() }

// openStateFile returns the shared handle for path and the pool key to
// release in Cleanup.
func openStateFile(path string) (*stateFile, string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, "", fmt.Errorf("state: %v", err)
	}
	key := filepath.Clean(abs)
	v, _, err := stateFiles.LoadOrNew(key, func() (caddy.Destructor, error) {
		st, err := boltstore.Open(key, boltstore.Options{})
		if err != nil {
			return nil, err
		}
		return &stateFile{Store: st}, nil
	})
	if err != nil {
		return nil, "", fmt.Errorf("state: %w", err)
	}
	return v.(*stateFile), key, nil
}
