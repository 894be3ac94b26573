package tokens

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"strings"
)

// validChallenge accepts exactly what S256 produces: the unpadded
// base64url of a SHA-256, 43 characters.
func validChallenge(c string) bool {
	return len(c) == base64.RawURLEncoding.EncodedLen(sha256.Size) &&
		strings.IndexFunc(c, func(r rune) bool { return !isB64URL(r) }) < 0
}

// validVerifier follows RFC 7636 4.1: 43 to 128 unreserved characters.
func validVerifier(v string) bool {
	if len(v) < 43 || len(v) > 128 {
		return false
	}
	return strings.IndexFunc(v, func(r rune) bool {
		return !isB64URL(r) && r != '.' && r != '~'
	}) < 0
}

// pkceMatches checks verifier against an S256 challenge.
func pkceMatches(verifier, challenge string) bool {
	sum := sha256.Sum256([]byte(verifier))
	got := base64.RawURLEncoding.EncodeToString(sum[:])
	return subtle.ConstantTimeCompare([]byte(got), []byte(challenge)) == 1
}
