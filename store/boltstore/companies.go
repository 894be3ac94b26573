package boltstore

import (
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/rcchat/caddy-whmcs-auth/store"
)

// Company returns the company with the given ID.
func (t tx) Company(id int64) (store.Company, error) {
	var c store.Company
	ok, err := getJSON(t.b.Bucket(bCompanies), "company", idKey(id), &c)
	if err != nil {
		return store.Company{}, err
	}
	if !ok {
		return store.Company{}, notFound("company", id)
	}
	return c, nil
}

// CompanyByWHMCSClient returns the company owned by a WHMCS client.
func (t tx) CompanyByWHMCSClient(clientID int64) (store.Company, error) {
	return t.companyByIndex(bIdxCompanyWHMCS, "WHMCS client", clientID)
}

// CompanyByRCChatID returns the company linked to an RC-CHAT company.
func (t tx) CompanyByRCChatID(rcchatID int64) (store.Company, error) {
	return t.companyByIndex(bIdxCompanyRCChat, "RC-CHAT company", rcchatID)
}

func (t tx) companyByIndex(idx []byte, kind string, key int64) (store.Company, error) {
	// Zero means "not linked", so it never names a company.
	owner := indexOwner(t.b.Bucket(idx), key)
	if owner == 0 {
		return store.Company{}, notFound("company for "+kind, key)
	}
	c, err := t.Company(owner)
	if errors.Is(err, store.ErrNotFound) {
		// Reported as corruption rather than not-found so a broken
		// index is noticed instead of looking like a new client.
		return store.Company{}, fmt.Errorf("boltstore: index for %s %d points at missing company %d", kind, key, owner)
	}
	return c, err
}

// Companies lists companies with ID > afterID in ID order; limit <= 0
// means all of them.
func (t tx) Companies(afterID int64, limit int) ([]store.Company, error) {
	if afterID < 0 {
		afterID = 0
	}
	var out []store.Company
	c := t.b.Bucket(bCompanies).Cursor()
	for k, v := c.Seek(idKey(afterID + 1)); k != nil && !limitReached(len(out), limit); k, v = c.Next() {
		var co store.Company
		if err := decode("company", k, v, &co); err != nil {
			return nil, err
		}
		out = append(out, co)
	}
	return out, nil
}

// PutCompany inserts or replaces a company, keeping its WHMCS client and
// RC-CHAT indexes unique and pointing at it.
func (t tx) PutCompany(c *store.Company) error {
	if err := checkID("company", c.ID); err != nil {
		return err
	}
	b := t.appendBucket(bCompanies)
	idxW := t.appendBucket(bIdxCompanyWHMCS)
	idxR := t.b.Bucket(bIdxCompanyRCChat)
	// Checked before an ID is assigned, so a refused insert leaves c as
	// the caller passed it.
	if owner := indexOwner(idxW, c.WHMCSClientID); owner != 0 && owner != c.ID {
		return conflict("WHMCS client %d already has company %d", c.WHMCSClientID, owner)
	}
	if owner := indexOwner(idxR, c.RCChatCompanyID); owner != 0 && owner != c.ID {
		return conflict("RC-CHAT company %d is already linked to company %d", c.RCChatCompanyID, owner)
	}
	var old store.Company
	if c.ID != 0 {
		if _, err := getJSON(b, "company", idKey(c.ID), &old); err != nil {
			return err
		}
	}
	if err := assignID(b, &c.ID); err != nil {
		return fmt.Errorf("boltstore: assign company id: %w", err)
	}
	if err := reindex(idxW, old.WHMCSClientID, c.WHMCSClientID, c.ID); err != nil {
		return err
	}
	if err := reindex(idxR, old.RCChatCompanyID, c.RCChatCompanyID, c.ID); err != nil {
		return err
	}
	return putJSON(b, "company", idKey(c.ID), c)
}

// User returns the user with the given ID.
func (t tx) User(id int64) (store.User, error) {
	var u store.User
	ok, err := getJSON(t.b.Bucket(bUsers), "user", idKey(id), &u)
	if err != nil {
		return store.User{}, err
	}
	if !ok {
		return store.User{}, notFound("user", id)
	}
	return u, nil
}

// UserByEmail finds a user by e-mail, ignoring case and surrounding space.
func (t tx) UserByEmail(email string) (store.User, error) {
	norm := normEmail(email)
	if norm == "" {
		return store.User{}, notFound("user with e-mail", fmt.Sprintf("%q", email))
	}
	v := t.b.Bucket(bIdxUserEmail).Get([]byte(norm))
	if v == nil {
		return store.User{}, notFound("user with e-mail", fmt.Sprintf("%q", norm))
	}
	u, err := t.User(keyID(v))
	if errors.Is(err, store.ErrNotFound) {
		return store.User{}, fmt.Errorf("boltstore: index for e-mail %q points at missing user %d", norm, keyID(v))
	}
	return u, err
}

// PutUser inserts or replaces a user, keeping one user per normalised
// e-mail. The record keeps the e-mail as given; only the index is
// normalised, so display stays as the user typed it.
func (t tx) PutUser(u *store.User) error {
	if err := checkID("user", u.ID); err != nil {
		return err
	}
	b := t.appendBucket(bUsers)
	idx := t.b.Bucket(bIdxUserEmail)
	norm := normEmail(u.Email)
	if norm != "" {
		if v := idx.Get([]byte(norm)); v != nil && keyID(v) != u.ID {
			return conflict("e-mail %q is already used by user %d", norm, keyID(v))
		}
	}
	var old store.User
	if u.ID != 0 {
		if _, err := getJSON(b, "user", idKey(u.ID), &old); err != nil {
			return err
		}
	}
	if err := assignID(b, &u.ID); err != nil {
		return fmt.Errorf("boltstore: assign user id: %w", err)
	}
	if oldNorm := normEmail(old.Email); oldNorm != "" && oldNorm != norm {
		if v := idx.Get([]byte(oldNorm)); v != nil && keyID(v) == u.ID {
			if err := idx.Delete([]byte(oldNorm)); err != nil {
				return fmt.Errorf("boltstore: unindex e-mail %q: %w", oldNorm, err)
			}
		}
	}
	if norm != "" {
		if err := idx.Put([]byte(norm), idKey(u.ID)); err != nil {
			return fmt.Errorf("boltstore: index e-mail %q: %w", norm, err)
		}
	}
	return putJSON(b, "user", idKey(u.ID), u)
}

// indexOwner returns the record ID a numeric unique index maps key to, or
// zero when the key is zero or unmapped.
func indexOwner(idx *bolt.Bucket, key int64) int64 {
	if key == 0 {
		return 0
	}
	v := idx.Get(idKey(key))
	if len(v) != 8 {
		return 0
	}
	return keyID(v)
}

// reindex moves a numeric unique index entry of record id from oldKey to
// newKey. The old entry is removed only if it is still ours, so a repaired
// or reassigned key of another record is never deleted.
func reindex(idx *bolt.Bucket, oldKey, newKey, id int64) error {
	if oldKey != 0 && oldKey != newKey && indexOwner(idx, oldKey) == id {
		if err := idx.Delete(idKey(oldKey)); err != nil {
			return fmt.Errorf("boltstore: unindex %d: %w", oldKey, err)
		}
	}
	if newKey != 0 {
		if err := idx.Put(idKey(newKey), idKey(id)); err != nil {
			return fmt.Errorf("boltstore: index %d: %w", newKey, err)
		}
	}
	return nil
}
