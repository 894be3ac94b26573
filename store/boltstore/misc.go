package boltstore

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/rcchat/caddy-whmcs-auth/store"
)

// TicketLink returns the link of an RC-CHAT ticket.
func (t tx) TicketLink(ticketID string) (store.TicketLink, error) {
	var l store.TicketLink
	ok, err := getJSON(t.b.Bucket(bTicketLinks), "ticket link", []byte(ticketID), &l)
	if err != nil {
		return store.TicketLink{}, err
	}
	if !ok {
		return store.TicketLink{}, notFound("ticket link", fmt.Sprintf("%q", ticketID))
	}
	return l, nil
}

// PutTicketLink inserts or replaces the link of a ticket; keying by the
// RC-CHAT ticket ID is what makes it one link per ticket.
func (t tx) PutTicketLink(l *store.TicketLink) error {
	if l.TicketID == "" {
		return errors.New("boltstore: ticket link has no ticket id")
	}
	return putJSON(t.b.Bucket(bTicketLinks), "ticket link", []byte(l.TicketID), l)
}

// Lockout returns the failed-login counter of a key.
func (t tx) Lockout(key string) (store.Lockout, error) {
	var l store.Lockout
	ok, err := getJSON(t.b.Bucket(bLockouts), "lockout", []byte(key), &l)
	if err != nil {
		return store.Lockout{}, err
	}
	if !ok {
		return store.Lockout{}, notFound("lockout", fmt.Sprintf("%q", key))
	}
	return l, nil
}

// PutLockout inserts or replaces the counter of a key.
func (t tx) PutLockout(l *store.Lockout) error {
	if l.Key == "" {
		return errors.New("boltstore: lockout has no key")
	}
	return putJSON(t.b.Bucket(bLockouts), "lockout", []byte(l.Key), l)
}

// DeleteLockout clears a counter; a missing one is not an error, since a
// successful login clears whether or not anything failed before.
func (t tx) DeleteLockout(key string) error {
	if key == "" {
		return nil
	}
	if err := t.b.Bucket(bLockouts).Delete([]byte(key)); err != nil {
		return fmt.Errorf("boltstore: delete lockout %q: %w", key, err)
	}
	return nil
}

// Lockouts lists counters after afterKey in key order, for the sweep that
// forgets stale ones.
func (t tx) Lockouts(afterKey string, limit int) ([]store.Lockout, error) {
	var out []store.Lockout
	c := t.b.Bucket(bLockouts).Cursor()
	k, v := c.Seek([]byte(afterKey))
	if k != nil && string(k) == afterKey {
		k, v = c.Next()
	}
	for ; k != nil && (limit <= 0 || len(out) < limit); k, v = c.Next() {
		var l store.Lockout
		if err := json.Unmarshal(v, &l); err != nil {
			return nil, fmt.Errorf("boltstore: decode lockout %q: %w", k, err)
		}
		out = append(out, l)
	}
	return out, nil
}

// AppendAudit stores an audit entry, assigning the next sequence when its
// ID is zero so ID order is append order.
func (t tx) AppendAudit(a *store.AuditEntry) error {
	if err := checkID("audit entry", a.ID); err != nil {
		return err
	}
	b := t.appendBucket(bAudit)
	if err := assignID(b, &a.ID); err != nil {
		return fmt.Errorf("boltstore: assign audit id: %w", err)
	}
	return putJSON(b, "audit entry", idKey(a.ID), a)
}

// Audit lists up to limit (all when limit <= 0) entries, newest first.
func (t tx) Audit(limit int) ([]store.AuditEntry, error) {
	var out []store.AuditEntry
	c := t.b.Bucket(bAudit).Cursor()
	for k, v := c.Last(); k != nil && !limitReached(len(out), limit); k, v = c.Prev() {
		var a store.AuditEntry
		if err := decode("audit entry", k, v, &a); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

// DeleteAuditBefore removes up to limit (all when limit <= 0) entries
// recorded before cutoff, walking from the oldest ID and stopping at the
// first entry that is not older, so a prune touches only what it removes.
func (t tx) DeleteAuditBefore(cutoff time.Time, limit int) (int, error) {
	b := t.b.Bucket(bAudit)
	var victims [][]byte
	c := b.Cursor()
	for k, v := c.First(); k != nil && !limitReached(len(victims), limit); k, v = c.Next() {
		var a struct {
			At time.Time `json:"at"`
		}
		if err := decode("audit entry", k, v, &a); err != nil {
			return 0, err
		}
		if !a.At.Before(cutoff) {
			break
		}
		victims = append(victims, bytes.Clone(k))
	}
	for _, k := range victims {
		if err := b.Delete(k); err != nil {
			return 0, fmt.Errorf("boltstore: delete audit entry %x: %w", k, err)
		}
	}
	return len(victims), nil
}
