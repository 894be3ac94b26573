package tokens

import (
	"strconv"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/rcchat/caddy-whmcs-auth/store"
)

// tokenUseAccess marks access tokens in their claims. go-oidc's verifier
// does not expose the `typ` header, and without this mark an ID token or an
// identity assertion (same signer, same issuer) could be replayed as a
// bearer token.
const tokenUseAccess = "access"

// registered are the JWT claims common to every token.
type registered struct {
	Issuer   string           `json:"iss"`
	Subject  string           `json:"sub"`
	Audience jwt.Audience     `json:"aud"`
	Expiry   *jwt.NumericDate `json:"exp"`
	IssuedAt *jwt.NumericDate `json:"iat"`
	AuthTime *jwt.NumericDate `json:"auth_time,omitempty"`
}

// profile is who the token speaks for, as the ID token, userinfo and the
// assertion carry it.
type profile struct {
	Email         string `json:"email"`
	EmailVerified bool   `json:"email_verified"`
	Name          string `json:"name"`
	Role          string `json:"role"`
	CompanyID     int64  `json:"company_id"`
	CompanyName   string `json:"company_name"`
	Plan          string `json:"plan"`
	WHMCSClientID int64  `json:"whmcs_client_id"`
}

// idClaims is the payload of an ID token.
type idClaims struct {
	registered
	profile
	Nonce string `json:"nonce,omitempty"`
}

// accessClaims is the payload of an access token. It holds enough to
// rebuild the principal without a session record (bearer tokens have
// none), and `sid`, the grant's family id, to check revocation.
type accessClaims struct {
	registered
	JTI           string `json:"jti"`
	ClientID      string `json:"client_id"`
	Scope         string `json:"scope"`
	SID           string `json:"sid"`
	TokenUse      string `json:"token_use"`
	Email         string `json:"email"`
	EmailVerified bool   `json:"email_verified"`
	Name          string `json:"name"`
	Role          string `json:"role"`
	CompanyID     int64  `json:"company_id"`
}

// assertionClaims is the payload of X-RCChat-Identity: the profile plus
// what RC-CHAT needs to enforce the subscription itself.
type assertionClaims struct {
	registered
	profile
	WHMCSServiceID int64  `json:"whmcs_service_id"`
	DueDate        string `json:"due_date"`
	CompanyStatus  string `json:"company_status"`
}

// identity is the subject of a grant, whichever record it came from.
type identity struct {
	userID        int64
	email         string
	name          string
	role          string
	emailVerified bool
	authTime      time.Time
}

// sessionIdentity is the subject of a session. E-mails of vouched sessions
// come from RC-CHAT accounts a company admin typed in, so nobody verified
// them; the others are the WHMCS client's own address, which the billing
// system is the authority on.
func sessionIdentity(s store.Session) identity {
	return identity{userID: s.UserID, email: s.Email, name: s.Name, role: s.Role, emailVerified: !s.Vouched, authTime: s.AuthTime}
}

func (id identity) profile(c store.Company) profile {
	return profile{
		Email:         id.email,
		EmailVerified: id.emailVerified,
		Name:          id.name,
		Role:          id.role,
		CompanyID:     c.ID,
		CompanyName:   c.Name,
		Plan:          c.Plan,
		WHMCSClientID: c.WHMCSClientID,
	}
}

func subject(userID int64) string { return strconv.FormatInt(userID, 10) }

// numericDate converts a time to a JWT date; the zero time (an unknown
// auth_time) becomes an absent claim rather than a date in year 1.
func numericDate(t time.Time) *jwt.NumericDate {
	if t.IsZero() {
		return nil
	}
	return jwt.NewNumericDate(t)
}

// Scopes the provider knows, in the order it writes them back.
var knownScopes = []string{"openid", "email", "profile", "offline_access"}

// parseScope keeps the known scopes of a request. Unknown ones are dropped
// rather than refused: RFC 6749 lets the server grant less than asked and
// the `scope` of the token response tells the client.
func parseScope(raw string) string {
	asked := strings.Fields(raw)
	var out []string
	for _, s := range knownScopes {
		for _, a := range asked {
			if a == s {
				out = append(out, s)
				break
			}
		}
	}
	return strings.Join(out, " ")
}

func hasScope(scope, want string) bool {
	for _, s := range strings.Fields(scope) {
		if s == want {
			return true
		}
	}
	return false
}
