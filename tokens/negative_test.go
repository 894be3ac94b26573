package tokens_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"golang.org/x/oauth2"

	"github.com/rcchat/caddy-whmcs-auth/store"
	"github.com/rcchat/caddy-whmcs-auth/tokens"
)

func TestAuthorizeErrorPages(t *testing.T) {
	e := newEnv(t)
	base := e.srv.URL + "/sso/authorize?"
	for name, q := range map[string]url.Values{
		"unknown client":        {"client_id": {"nobody"}, "redirect_uri": {rpRedirect}, "response_type": {"code"}},
		"built-in client":       {"client_id": {tokens.LoginClientID}, "redirect_uri": {rpRedirect}, "response_type": {"code"}},
		"wrong redirect":        {"client_id": {rpID}, "redirect_uri": {"https://evil.example/cb"}, "response_type": {"code"}},
		"redirect prefix":       {"client_id": {rpID}, "redirect_uri": {rpRedirect + "/x"}, "response_type": {"code"}},
		"missing redirect":      {"client_id": {rpID}, "response_type": {"code"}},
		"repeated redirect_uri": {"client_id": {rpID}, "redirect_uri": {rpRedirect, rpRedirect}, "response_type": {"code"}},
	} {
		resp := e.get(base+q.Encode(), e.cookie)
		if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
			t.Errorf("%s: status %d, Location %q", name, resp.StatusCode, resp.Header.Get("Location"))
		}
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
			t.Errorf("%s: Content-Type %q", name, ct)
		}
	}
}

func TestAuthorizeRedirectErrors(t *testing.T) {
	e := newEnv(t)
	v := oauth2.GenerateVerifier()
	for name, tc := range map[string]struct {
		client, redirect string
		q                url.Values
		want             string
	}{
		"response type":       {rpID, rpRedirect, url.Values{"response_type": {"token"}}, "unsupported_response_type"},
		"public without PKCE": {spaID, spaRedirect, url.Values{"response_type": {"code"}}, "invalid_request"},
		"plain PKCE":          {spaID, spaRedirect, url.Values{"response_type": {"code"}, "code_challenge": {v}, "code_challenge_method": {"plain"}}, "invalid_request"},
		"implicit plain":      {rpID, rpRedirect, url.Values{"response_type": {"code"}, "code_challenge": {oauth2.S256ChallengeFromVerifier(v)}}, "invalid_request"},
		"prompt none":         {rpID, rpRedirect, url.Values{"response_type": {"code"}, "prompt": {"none"}}, "login_required"},
	} {
		tc.q.Set("client_id", tc.client)
		tc.q.Set("redirect_uri", tc.redirect)
		tc.q.Set("state", "xyz")
		cookie := e.cookie
		if name == "prompt none" {
			cookie = ""
		}
		resp := e.get(e.srv.URL+"/sso/authorize?"+tc.q.Encode(), cookie)
		loc, _ := url.Parse(resp.Header.Get("Location"))
		if resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc.String(), strings.Split(tc.redirect, "?")[0]) ||
			loc.Query().Get("error") != tc.want || loc.Query().Get("state") != "xyz" || loc.Query().Get("code") != "" {
			t.Errorf("%s: %d %s", name, resp.StatusCode, loc)
		}
	}
}

func TestAuthorizeWithoutSession(t *testing.T) {
	e := newEnv(t)
	r := e.rp(rpID, rpSecret, rpRedirect)
	authURL := r.oauth.AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))
	for _, cookie := range []string{"", "garbage", strings.Repeat("A", 43)} {
		resp := e.get(authURL, cookie)
		u, _ := url.Parse(authURL)
		want := "/sso/login?rd=" + url.QueryEscape("/sso/authorize?"+u.RawQuery)
		if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != want {
			t.Fatalf("cookie %q: %d %q, want %q", cookie, resp.StatusCode, resp.Header.Get("Location"), want)
		}
	}
}

func TestAuthorizeInactiveCompany(t *testing.T) {
	e := newEnv(t)
	r := e.rp(rpID, rpSecret, rpRedirect)
	e.setStatus(store.StatusSuspended)
	resp := e.get(r.oauth.AuthCodeURL("st"), e.cookie)
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || loc.Query().Get("error") != "access_denied" || loc.Query().Get("state") != "st" {
		t.Fatalf("%d %s", resp.StatusCode, loc)
	}
}

func TestCodeExchangeFailures(t *testing.T) {
	e := newEnv(t)
	r := e.rp(rpID, rpSecret, rpRedirect)
	pub := e.rp(spaID, "", spaRedirect)

	t.Run("replay", func(t *testing.T) {
		code, verifier := r.code("n")
		tok, err := r.oauth.Exchange(e.ctx, code, oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatal(err)
		}
		_, err = r.oauth.Exchange(e.ctx, code, oauth2.VerifierOption(verifier))
		if oauthCode(t, err) != "invalid_grant" {
			t.Fatalf("replay: %v", err)
		}
		// The replay revoked what the first exchange produced.
		if _, err := r.refresh(tok.RefreshToken); oauthCode(t, err) != "invalid_grant" {
			t.Fatalf("refresh after replay: %v", err)
		}
		if _, _, err := e.p.VerifyAccessToken(e.ctx, e.proxied(), tok.AccessToken); !errors.Is(err, tokens.ErrInvalidToken) {
			t.Fatalf("access token after replay: %v", err)
		}
	})
	t.Run("wrong verifier", func(t *testing.T) {
		code, _ := r.code("n")
		_, err := r.oauth.Exchange(e.ctx, code, oauth2.VerifierOption(oauth2.GenerateVerifier()))
		if oauthCode(t, err) != "invalid_grant" {
			t.Fatal(err)
		}
	})
	t.Run("public client without verifier", func(t *testing.T) {
		code, _ := pub.code("n")
		_, err := pub.oauth.Exchange(e.ctx, code)
		if oauthCode(t, err) != "invalid_grant" {
			t.Fatal(err)
		}
	})
	t.Run("verifier without challenge", func(t *testing.T) {
		q := r.authorize("s")
		_, err := r.oauth.Exchange(e.ctx, q.Get("code"), oauth2.VerifierOption(oauth2.GenerateVerifier()))
		if oauthCode(t, err) != "invalid_grant" {
			t.Fatal(err)
		}
	})
	t.Run("wrong redirect_uri", func(t *testing.T) {
		code, verifier := r.code("n")
		other := r.oauth
		other.RedirectURL = "https://rp.example/other"
		_, err := other.Exchange(e.ctx, code, oauth2.VerifierOption(verifier))
		if oauthCode(t, err) != "invalid_grant" {
			t.Fatal(err)
		}
	})
	t.Run("other client", func(t *testing.T) {
		code, verifier := r.code("n")
		other := pub.oauth
		other.RedirectURL = rpRedirect
		_, err := other.Exchange(e.ctx, code, oauth2.VerifierOption(verifier))
		if oauthCode(t, err) != "invalid_grant" {
			t.Fatal(err)
		}
	})
	t.Run("expired", func(t *testing.T) {
		code, verifier := r.code("n")
		e.clk.Add(61 * time.Second)
		_, err := r.oauth.Exchange(e.ctx, code, oauth2.VerifierOption(verifier))
		if oauthCode(t, err) != "invalid_grant" {
			t.Fatal(err)
		}
	})
	t.Run("logged out in between", func(t *testing.T) {
		code, verifier := r.code("n")
		if err := e.sessions.Revoke(e.ctx, e.cookie); err != nil {
			t.Fatal(err)
		}
		_, err := r.oauth.Exchange(e.ctx, code, oauth2.VerifierOption(verifier))
		if oauthCode(t, err) != "invalid_grant" {
			t.Fatal(err)
		}
	})
}

func TestTokenEndpointErrors(t *testing.T) {
	e := newEnv(t)
	resp, body := e.postForm("/sso/token", rpID, "wrong", url.Values{"grant_type": {"authorization_code"}, "code": {"x"}})
	if resp.StatusCode != http.StatusUnauthorized || body["error"] != "invalid_client" ||
		resp.Header.Get("WWW-Authenticate") == "" || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("wrong secret: %d %v %v", resp.StatusCode, body, resp.Header)
	}
	resp, body = e.postForm("/sso/token", "", "", url.Values{"grant_type": {"refresh_token"}, "client_id": {rpID}, "refresh_token": {"x"}})
	if resp.StatusCode != http.StatusUnauthorized || body["error"] != "invalid_client" {
		t.Fatalf("confidential client without secret: %d %v", resp.StatusCode, body)
	}
	resp, body = e.postForm("/sso/token", rpID, rpSecret, url.Values{"grant_type": {"password"}})
	if resp.StatusCode != http.StatusBadRequest || body["error"] != "unsupported_grant_type" {
		t.Fatalf("password grant: %d %v", resp.StatusCode, body)
	}
	resp, body = e.postForm("/sso/token", rpID, rpSecret, url.Values{"grant_type": {"authorization_code"}, "code": {strings.Repeat("a", 43)}})
	if resp.StatusCode != http.StatusBadRequest || body["error"] != "invalid_grant" || body["error_description"] == "" {
		t.Fatalf("unknown code: %d %v", resp.StatusCode, body)
	}
	for path, method := range map[string]string{"/sso/token": "POST", "/sso/revoke": "POST", "/sso/authorize": "GET", "/sso/jwks": "GET, HEAD"} {
		req, _ := http.NewRequest(http.MethodPut, e.srv.URL+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != method {
			t.Fatalf("PUT %s: %d Allow %q", path, resp.StatusCode, resp.Header.Get("Allow"))
		}
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") || !strings.Contains(string(raw), `"method_not_allowed"`) {
			t.Fatalf("PUT %s: Content-Type %q body %s, want the JSON error method_not_allowed", path, ct, raw)
		}
	}
}

func TestForgedTokens(t *testing.T) {
	e := newEnv(t)
	ts, err := e.p.LoginTokens(e.ctx, e.srv.URL, e.sess, e.company)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(ts.AccessToken, ".")
	payload := []byte(parts[1])
	payload[10] ^= 1
	tampered := parts[0] + "." + string(payload) + "." + parts[2]

	// A well-formed token signed by a key the provider never had.
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	signer, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: priv, KeyID: "unknown"}}, nil)
	claims := map[string]any{
		"iss": e.srv.URL, "sub": "1", "aud": tokens.LoginClientID, "client_id": tokens.LoginClientID,
		"exp": time.Now().Add(time.Hour).Unix(), "iat": time.Now().Unix(), "token_use": "access", "sid": "x", "company_id": e.company.ID,
	}
	unknownKid, _ := jwt.Signed(signer).Claims(claims).Serialize()
	// The same forged token claiming a kid the provider publishes.
	signer2, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: priv, KeyID: kidOf(t, ts.AccessToken)}}, nil)
	knownKid, _ := jwt.Signed(signer2).Claims(claims).Serialize()

	idAsAccess := ts.IDToken
	assertion, _ := e.p.Assertion(e.ctx, e.srv.URL, e.sess, e.company)

	for name, raw := range map[string]string{
		"tampered": tampered, "unknown kid": unknownKid, "known kid wrong key": knownKid,
		"id token": idAsAccess, "assertion": assertion, "garbage": "a.b.c",
	} {
		if _, _, err := e.p.VerifyAccessToken(e.ctx, e.proxied(), raw); !errors.Is(err, tokens.ErrInvalidToken) {
			t.Errorf("%s: VerifyAccessToken = %v", name, err)
		}
		if resp, body := e.userinfo(raw); resp.StatusCode != http.StatusUnauthorized || body["error"] != "invalid_token" ||
			!strings.Contains(resp.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
			t.Errorf("%s: userinfo = %d %v", name, resp.StatusCode, body)
		}
	}
	// Another issuer (Host) does not accept the token either.
	req := e.proxied()
	other, err := tokens.New(e.ctx, tokens.Config{Store: e.st, Sessions: e.sessions, Now: e.clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	req.Host = "other.example"
	if _, _, err := other.VerifyAccessToken(e.ctx, req, ts.AccessToken); !errors.Is(err, tokens.ErrInvalidToken) {
		t.Errorf("other issuer: %v", err)
	}
	// And it expires.
	e.clk.Add(16 * time.Minute)
	if _, _, err := e.p.VerifyAccessToken(e.ctx, e.proxied(), ts.AccessToken); !errors.Is(err, tokens.ErrInvalidToken) {
		t.Errorf("expired: %v", err)
	}
}

func TestInactiveCompanyTokens(t *testing.T) {
	for _, tc := range []struct {
		status store.CompanyStatus
		want   error
	}{
		{store.StatusSuspended, tokens.ErrCompanySuspended},
		{store.StatusCancelled, tokens.ErrCompanyCancelled},
	} {
		t.Run(string(tc.status), func(t *testing.T) {
			e := newEnv(t)
			r := e.rp(rpID, rpSecret, rpRedirect)
			code, verifier := r.code("n")
			tok, err := r.oauth.Exchange(e.ctx, code, oauth2.VerifierOption(verifier))
			if err != nil {
				t.Fatal(err)
			}
			e.setStatus(tc.status)
			if _, err := r.refresh(tok.RefreshToken); oauthCode(t, err) != "invalid_grant" {
				t.Fatalf("refresh: %v", err)
			}
			if _, err := r.provider.UserInfo(e.ctx, oauth2.StaticTokenSource(tok)); err == nil {
				t.Fatal("userinfo succeeded")
			}
			if _, _, err := e.p.VerifyAccessToken(e.ctx, e.proxied(), tok.AccessToken); !errors.Is(err, tc.want) {
				t.Fatalf("VerifyAccessToken = %v, want %v", err, tc.want)
			}
			if _, err := e.p.LoginTokens(e.ctx, e.srv.URL, e.sess, e.company); !errors.Is(err, tc.want) {
				t.Fatalf("LoginTokens = %v", err)
			}

			// A suspension ends; a cancellation revokes for good.
			e.setStatus(store.StatusActive)
			_, err = r.refresh(tok.RefreshToken)
			if tc.status == store.StatusSuspended && err != nil {
				t.Fatalf("refresh after reactivation: %v", err)
			}
			if tc.status == store.StatusCancelled && oauthCode(t, err) != "invalid_grant" {
				t.Fatalf("refresh after a cancellation: %v", err)
			}
		})
	}
}

// TestIDTokenAudience makes sure a relying party's verifier refuses an ID
// token minted for another client.
func TestIDTokenAudience(t *testing.T) {
	e := newEnv(t)
	ts, err := e.p.LoginTokens(e.ctx, e.srv.URL, e.sess, e.company)
	if err != nil {
		t.Fatal(err)
	}
	r := e.rp(rpID, rpSecret, rpRedirect)
	if _, err := r.provider.Verifier(&oidc.Config{ClientID: rpID}).Verify(e.ctx, ts.IDToken); err == nil {
		t.Fatal("ID token of rcchat-sso accepted by rp")
	}
}
