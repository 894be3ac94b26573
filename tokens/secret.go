package tokens

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"strings"
)

// secretBytes is the entropy of codes and refresh tokens (256 bits).
const secretBytes = 32

// newSecret returns a random opaque token. crypto/rand.Read never fails on
// supported platforms (it panics instead), so there is no error to return.
func newSecret() string {
	var b [secretBytes]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// newID returns a random identifier that is not a credential (a family
// id, a jti): 128 bits suffice to avoid collisions.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// hashSecret is the store key of a code or refresh token, so a copy of the
// state file holds nothing that can be redeemed.
func hashSecret(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// wellFormedSecret rejects values newSecret cannot have produced before
// they cost a store lookup.
func wellFormedSecret(s string) bool {
	if len(s) != base64.RawURLEncoding.EncodedLen(secretBytes) {
		return false
	}
	return strings.IndexFunc(s, func(r rune) bool { return !isB64URL(r) }) < 0
}

func isB64URL(r rune) bool {
	return r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_'
}

// checkSecret compares a presented client secret with the stored digest.
// Hashing first makes the comparison constant-time in the length too.
func (c *client) checkSecret(presented string) bool {
	sum := sha256.Sum256([]byte(presented))
	return subtle.ConstantTimeCompare(sum[:], c.secret[:]) == 1
}

// familyKey is the store key of the anchor record of a grant: a
// RefreshToken that is never handed out and whose key cannot collide with a
// real token hash (those are 64 hex digits, with no ':'). It exists so an
// access token's `sid` can be checked for revocation in one lookup, since
// RevokeRefreshFamily marks it revoked together with the real tokens.
func familyKey(familyID string) string { return "family:" + familyID }

// codeFamily derives the family id of the tokens issued for a code from the
// code's hash, so that a replayed code, already deleted, still leads to the
// tokens it produced and they can be revoked.
func codeFamily(codeHash string) string {
	sum := sha256.Sum256([]byte("rcchat-sso code family\x00" + codeHash))
	return hex.EncodeToString(sum[:16])
}
