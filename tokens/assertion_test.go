package tokens_test

import (
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/rcchat/caddy-whmcs-auth/tokens"
)

type assertionClaims struct {
	Sub            string `json:"sub"`
	Email          string `json:"email"`
	Name           string `json:"name"`
	Role           string `json:"role"`
	CompanyID      int64  `json:"company_id"`
	CompanyName    string `json:"company_name"`
	Plan           string `json:"plan"`
	WHMCSClientID  int64  `json:"whmcs_client_id"`
	WHMCSServiceID int64  `json:"whmcs_service_id"`
	DueDate        string `json:"due_date"`
	CompanyStatus  string `json:"company_status"`
}

func TestAssertion(t *testing.T) {
	e := newEnv(t)
	a1, err := e.p.Assertion(e.ctx, e.srv.URL, e.sess, e.company)
	if err != nil {
		t.Fatal(err)
	}
	a2, err := e.p.Assertion(e.ctx, e.srv.URL, e.sess, e.company)
	if err != nil {
		t.Fatal(err)
	}
	if a1 != a2 {
		t.Fatal("the assertion was signed twice for the same principal")
	}

	// RC-CHAT verifies it with the published JWKS and audience "rcchat".
	v := oidc.NewVerifier(e.srv.URL, oidc.NewRemoteKeySet(e.ctx, e.srv.URL+"/sso/jwks"), &oidc.Config{
		ClientID: tokens.AssertionAudience, SupportedSigningAlgs: []string{"ES256"},
	})
	tok, err := v.Verify(e.ctx, a1)
	if err != nil {
		t.Fatal(err)
	}
	if d := tok.Expiry.Sub(tok.IssuedAt); d != 5*time.Minute {
		t.Fatalf("assertion lifetime %v", d)
	}
	var c assertionClaims
	if err := tok.Claims(&c); err != nil {
		t.Fatal(err)
	}
	want := assertionClaims{
		Sub: strconv.FormatInt(e.user.ID, 10), Email: e.user.Email, Name: e.user.Name, Role: "admin",
		CompanyID: e.company.ID, CompanyName: e.company.Name, Plan: "pro", WHMCSClientID: 42, WHMCSServiceID: 7,
		DueDate: "2030-01-31", CompanyStatus: "active",
	}
	if c != want {
		t.Fatalf("claims = %+v\nwant     %+v", c, want)
	}

	// A company change yields a new assertion.
	changed := e.company
	changed.Plan = "enterprise"
	changed.UpdatedAt = changed.UpdatedAt.Add(time.Second)
	a3, err := e.p.Assertion(e.ctx, e.srv.URL, e.sess, changed)
	if err != nil || a3 == a1 {
		t.Fatalf("company change: same assertion (%v)", err)
	}

	// Principals without a session hash (bearer tokens) never share one.
	s1, s2 := e.sess, e.sess
	s1.IDHash, s2.IDHash = "", ""
	s2.UserID, s2.Email = s2.UserID+1, "other@example.com"
	b1, _ := e.p.Assertion(e.ctx, e.srv.URL, s1, e.company)
	b2, _ := e.p.Assertion(e.ctx, e.srv.URL, s2, e.company)
	if b1 == b2 {
		t.Fatal("two bearer principals share an assertion")
	}

	// Reused while at least a minute is left, then re-signed.
	e.clk.Add(3*time.Minute + 58*time.Second)
	if a, _ := e.p.Assertion(e.ctx, e.srv.URL, e.sess, e.company); a != a1 {
		t.Fatal("re-signed with more than a minute left")
	}
	e.clk.Add(3 * time.Second)
	a4, _ := e.p.Assertion(e.ctx, e.srv.URL, e.sess, e.company)
	if a4 == a1 {
		t.Fatal("reused with less than a minute left")
	}

	// A rotation re-signs with the new key.
	if err := e.p.Rotate(e.ctx); err != nil {
		t.Fatal(err)
	}
	a5, _ := e.p.Assertion(e.ctx, e.srv.URL, e.sess, e.company)
	if a5 == a4 || kidOf(t, a5) == kidOf(t, a4) {
		t.Fatal("assertion not re-signed after a rotation")
	}
}

// Reusable must agree with Assertion: an assertion kept with a cached session
// is sent again exactly when Assertion would have returned it.
func TestRequestAssertionReusable(t *testing.T) {
	for _, fixedIssuer := range []bool{true, false} {
		e := newEnv(t, func(c *tokens.Config) {
			if !fixedIssuer {
				c.Issuer = ""
			}
		})
		r := httptest.NewRequest("GET", "/backend/tickets", nil)
		r.Host = "Chat.Example.com"
		a, err := e.p.RequestAssertion(e.ctx, r, e.sess, e.company)
		if err != nil {
			t.Fatal(err)
		}
		if want, _ := e.p.Assertion(e.ctx, e.p.IssuerFor(r), e.sess, e.company); a.Token != want {
			t.Fatal("RequestAssertion and Assertion disagree")
		}
		if !e.p.Reusable(&a, r) {
			t.Fatal("a fresh assertion is not reusable")
		}
		if e.p.Reusable(nil, r) || e.p.Reusable(&tokens.SignedAssertion{}, r) {
			t.Fatal("no assertion is reusable")
		}

		// Another host is another issuer, unless the issuer is fixed.
		other := r.Clone(e.ctx)
		other.Host = "chat.example.com"
		if e.p.Reusable(&a, other) != fixedIssuer {
			t.Fatalf("fixed issuer %v: reusable for another host = %v", fixedIssuer, !fixedIssuer)
		}

		// Reused while at least a minute is left, as Assertion does.
		e.clk.Add(3*time.Minute + 58*time.Second)
		if !e.p.Reusable(&a, r) {
			t.Fatal("not reusable with more than a minute left")
		}
		e.clk.Add(3 * time.Second)
		if e.p.Reusable(&a, r) {
			t.Fatal("reusable with less than a minute left")
		}

		// A rotation makes the new key sign.
		b, _ := e.p.RequestAssertion(e.ctx, r, e.sess, e.company)
		if !e.p.Reusable(&b, r) || b.Token == a.Token {
			t.Fatal("not re-signed once stale")
		}
		if err := e.p.Rotate(e.ctx); err != nil {
			t.Fatal(err)
		}
		if e.p.Reusable(&b, r) {
			t.Fatal("reusable after a rotation")
		}
	}
}

// A key due for rotation is not reused either: Assertion would rotate it.
func TestRequestAssertionNotReusableWhenRotationIsDue(t *testing.T) {
	e := newEnv(t, func(c *tokens.Config) { c.KeyRotation = time.Hour })
	r := httptest.NewRequest("GET", "/", nil)
	a, err := e.p.RequestAssertion(e.ctx, r, e.sess, e.company)
	if err != nil {
		t.Fatal(err)
	}
	e.clk.Add(time.Hour)
	if e.p.Reusable(&a, r) {
		t.Fatal("reusable although the key is due for rotation")
	}
	b, _ := e.p.RequestAssertion(e.ctx, r, e.sess, e.company)
	if kidOf(t, b.Token) == kidOf(t, a.Token) {
		t.Fatal("not signed by a new key")
	}
}
