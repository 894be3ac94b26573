package boltstore

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	bolt "go.etcd.io/bbolt"

	"github.com/rcchat/caddy-whmcs-auth/store"
)

// familyPrefix length-prefixes a family ID so family "ab" never matches
// the entries of family "abc" in a prefix scan.
func familyPrefix(familyID string) []byte {
	k := make([]byte, 4, 4+len(familyID))
	binary.BigEndian.PutUint32(k, uint32(len(familyID)))
	return append(k, familyID...)
}

// RefreshToken returns the refresh token with the given hash.
func (t tx) RefreshToken(tokenHash string) (store.RefreshToken, error) {
	var rt store.RefreshToken
	ok, err := getJSON(t.b.Bucket(bRefresh), "refresh token", []byte(tokenHash), &rt)
	if err != nil {
		return store.RefreshToken{}, err
	}
	if !ok {
		return store.RefreshToken{}, notFound("refresh token", "(hash)")
	}
	return rt, nil
}

// PutRefreshToken inserts or replaces a token and moves its family and
// company index entries if those changed.
func (t tx) PutRefreshToken(rt *store.RefreshToken) error {
	if rt.TokenHash == "" {
		return errors.New("boltstore: refresh token has no hash")
	}
	b := t.b.Bucket(bRefresh)
	byFamily := t.b.Bucket(bIdxRefreshFamily)
	byCompany := t.b.Bucket(bIdxRefreshCompany)
	var old store.RefreshToken
	found, err := getJSON(b, "refresh token", []byte(rt.TokenHash), &old)
	if err != nil {
		return err
	}
	if found {
		if err := byFamily.Delete(joinKey(familyPrefix(old.FamilyID), old.TokenHash)); err != nil {
			return fmt.Errorf("boltstore: unindex refresh token by family: %w", err)
		}
		if err := byCompany.Delete(joinKey(idKey(old.CompanyID), old.TokenHash)); err != nil {
			return fmt.Errorf("boltstore: unindex refresh token by company: %w", err)
		}
	}
	if err := byFamily.Put(joinKey(familyPrefix(rt.FamilyID), rt.TokenHash), nil); err != nil {
		return fmt.Errorf("boltstore: index refresh token by family: %w", err)
	}
	if err := byCompany.Put(joinKey(idKey(rt.CompanyID), rt.TokenHash), nil); err != nil {
		return fmt.Errorf("boltstore: index refresh token by company: %w", err)
	}
	return putJSON(b, "refresh token", []byte(rt.TokenHash), rt)
}

// RevokeRefreshFamily marks every token of a family revoked; used when a
// rotated token is replayed, which means the family leaked.
func (t tx) RevokeRefreshFamily(familyID string) error {
	return t.revokeIndexed(t.b.Bucket(bIdxRefreshFamily), familyPrefix(familyID))
}

// RevokeCompanyRefreshTokens marks every token of a company revoked; used
// when the company is suspended or cancelled.
func (t tx) RevokeCompanyRefreshTokens(companyID int64) error {
	return t.revokeIndexed(t.b.Bucket(bIdxRefreshCompany), idKey(companyID))
}

// revokeIndexed revokes the tokens whose index keys start with prefix;
// the rest of each key is the token hash. Revoking keeps the records, so
// a later replay is still recognised as one.
func (t tx) revokeIndexed(idx *bolt.Bucket, prefix []byte) error {
	b := t.b.Bucket(bRefresh)
	for _, k := range prefixKeys(idx, prefix) {
		hash := k[len(prefix):]
		var rt store.RefreshToken
		ok, err := getJSON(b, "refresh token", hash, &rt)
		if err != nil {
			return err
		}
		if !ok {
			return errors.New("boltstore: refresh token index points at a missing token")
		}
		if rt.Revoked {
			continue
		}
		rt.Revoked = true
		// Family and company are unchanged, so the indexes stay valid.
		if err := putJSON(b, "refresh token", hash, &rt); err != nil {
			return err
		}
	}
	return nil
}

// SigningKeys returns every signing key, oldest first, so the caller can
// take the last unretired one as current.
func (t tx) SigningKeys() ([]store.SigningKey, error) {
	var out []store.SigningKey
	err := t.b.Bucket(bSigningKeys).ForEach(func(k, v []byte) error {
		var sk store.SigningKey
		if err := decode("signing key", k, v, &sk); err != nil {
			return err
		}
		out = append(out, sk)
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b store.SigningKey) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.KID, b.KID)
	})
	return out, nil
}

// PutSigningKey inserts or replaces a key by KID.
func (t tx) PutSigningKey(k *store.SigningKey) error {
	if k.KID == "" {
		return errors.New("boltstore: signing key has no kid")
	}
	return putJSON(t.b.Bucket(bSigningKeys), "signing key", []byte(k.KID), k)
}

// DeleteSigningKey removes a key; a missing one is not an error.
func (t tx) DeleteSigningKey(kid string) error {
	if kid == "" {
		return nil
	}
	if err := t.b.Bucket(bSigningKeys).Delete([]byte(kid)); err != nil {
		return fmt.Errorf("boltstore: delete signing key %q: %w", kid, err)
	}
	return nil
}
