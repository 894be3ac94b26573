package boltstore

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	"github.com/rcchat/caddy-whmcs-auth/store"
)

// Session returns the session whose cookie hashes to idHash. It is on the
// path of every proxied request, so it is one point read and one decode.
func (t tx) Session(idHash string) (store.Session, error) {
	var s store.Session
	ok, err := getJSON(t.b.Bucket(bSessions), "session", []byte(idHash), &s)
	if err != nil {
		return store.Session{}, err
	}
	if !ok {
		return store.Session{}, notFound("session", "(hash)")
	}
	return s, nil
}

// PutSession inserts or replaces a session and its company and expiry
// index entries.
func (t tx) PutSession(s *store.Session) error {
	if s.IDHash == "" {
		return errors.New("boltstore: session has no id hash")
	}
	key := []byte(s.IDHash)
	var old store.Session
	found, err := getJSON(t.b.Bucket(bSessions), "session", key, &old)
	if err != nil {
		return err
	}
	if found {
		if err := t.unindexSession(old.IDHash, old.CompanyID, old.ExpiresAt); err != nil {
			return err
		}
	}
	if err := t.b.Bucket(bIdxSessionCompany).Put(joinKey(idKey(s.CompanyID), s.IDHash), nil); err != nil {
		return fmt.Errorf("boltstore: index session by company: %w", err)
	}
	// The company ID rides in the value so the sweep can drop the company
	// index entry without decoding the session.
	if err := t.appendBucket(bIdxSessionExpiry).Put(joinKey(timeKey(s.ExpiresAt), s.IDHash), idKey(s.CompanyID)); err != nil {
		return fmt.Errorf("boltstore: index session by expiry: %w", err)
	}
	return putJSON(t.b.Bucket(bSessions), "session", key, s)
}

// DeleteSession removes a session and its index entries. Deleting a
// session that is already gone (swept, or a double logout) is not an
// error.
func (t tx) DeleteSession(idHash string) error {
	var old store.Session
	found, err := getJSON(t.b.Bucket(bSessions), "session", []byte(idHash), &old)
	if err != nil || !found {
		return err
	}
	return t.deleteSession(idHash, old.CompanyID, old.ExpiresAt)
}

func (t tx) deleteSession(idHash string, companyID int64, expiresAt time.Time) error {
	if err := t.unindexSession(idHash, companyID, expiresAt); err != nil {
		return err
	}
	if err := t.b.Bucket(bSessions).Delete([]byte(idHash)); err != nil {
		return fmt.Errorf("boltstore: delete session: %w", err)
	}
	return nil
}

func (t tx) unindexSession(idHash string, companyID int64, expiresAt time.Time) error {
	if err := t.b.Bucket(bIdxSessionCompany).Delete(joinKey(idKey(companyID), idHash)); err != nil {
		return fmt.Errorf("boltstore: unindex session by company: %w", err)
	}
	if err := t.b.Bucket(bIdxSessionExpiry).Delete(joinKey(timeKey(expiresAt), idHash)); err != nil {
		return fmt.Errorf("boltstore: unindex session by expiry: %w", err)
	}
	return nil
}

// CompanySessions lists the sessions of a company in hash order.
func (t tx) CompanySessions(companyID int64) ([]store.Session, error) {
	prefix := idKey(companyID)
	sessions := t.b.Bucket(bSessions)
	var out []store.Session
	c := t.b.Bucket(bIdxSessionCompany).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		var s store.Session
		ok, err := getJSON(sessions, "session", k[len(prefix):], &s)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("boltstore: company %d index points at a missing session", companyID)
		}
		out = append(out, s)
	}
	return out, nil
}

// DeleteExpiredSessions removes up to limit sessions (all when limit <= 0)
// whose ExpiresAt is before now, walking the expiry index from the oldest
// so the sweep never touches live sessions.
func (t tx) DeleteExpiredSessions(now time.Time, limit int) (int, error) {
	type victim struct {
		key       []byte
		companyID int64
	}
	nowKey := timeKey(now)
	var victims []victim
	c := t.b.Bucket(bIdxSessionExpiry).Cursor()
	for k, v := c.First(); k != nil && !limitReached(len(victims), limit); k, v = c.Next() {
		if len(k) < timeKeyLen || len(v) != 8 {
			return 0, fmt.Errorf("boltstore: malformed session expiry index entry %x", k)
		}
		if bytes.Compare(k[:timeKeyLen], nowKey) >= 0 {
			break
		}
		victims = append(victims, victim{bytes.Clone(k), keyID(v)})
	}
	idx := t.b.Bucket(bIdxSessionExpiry)
	byCompany := t.b.Bucket(bIdxSessionCompany)
	sessions := t.b.Bucket(bSessions)
	for _, v := range victims {
		hash := v.key[timeKeyLen:]
		if err := byCompany.Delete(joinKey(idKey(v.companyID), string(hash))); err != nil {
			return 0, fmt.Errorf("boltstore: unindex expired session: %w", err)
		}
		if err := idx.Delete(v.key); err != nil {
			return 0, fmt.Errorf("boltstore: unindex expired session: %w", err)
		}
		if err := sessions.Delete(hash); err != nil {
			return 0, fmt.Errorf("boltstore: delete expired session: %w", err)
		}
	}
	return len(victims), nil
}

// CountSessions counts the keys of the sessions bucket from its pages'
// headers, without decoding a session.
func (t tx) CountSessions() (int, error) {
	return t.b.Bucket(bSessions).Stats().KeyN, nil
}

// AuthCode returns the authorization code with the given hash.
func (t tx) AuthCode(codeHash string) (store.AuthCode, error) {
	var c store.AuthCode
	ok, err := getJSON(t.b.Bucket(bAuthCodes), "auth code", []byte(codeHash), &c)
	if err != nil {
		return store.AuthCode{}, err
	}
	if !ok {
		return store.AuthCode{}, notFound("auth code", "(hash)")
	}
	return c, nil
}

// PutAuthCode inserts or replaces an authorization code.
func (t tx) PutAuthCode(c *store.AuthCode) error {
	if c.CodeHash == "" {
		return errors.New("boltstore: auth code has no hash")
	}
	return putJSON(t.b.Bucket(bAuthCodes), "auth code", []byte(c.CodeHash), c)
}

// DeleteAuthCode removes a code; a missing one is not an error, since
// redeeming and expiring race harmlessly.
func (t tx) DeleteAuthCode(codeHash string) error {
	if codeHash == "" {
		return nil
	}
	if err := t.b.Bucket(bAuthCodes).Delete([]byte(codeHash)); err != nil {
		return fmt.Errorf("boltstore: delete auth code: %w", err)
	}
	return nil
}
