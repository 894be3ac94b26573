package tokens_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/rcchat/caddy-whmcs-auth/tokens"
)

// customClaims are the claims RC-CHAT relies on beyond standard OIDC.
type customClaims struct {
	Sub           string `json:"sub"`
	Email         string `json:"email"`
	EmailVerified bool   `json:"email_verified"`
	Name          string `json:"name"`
	Role          string `json:"role"`
	CompanyID     int64  `json:"company_id"`
	CompanyName   string `json:"company_name"`
	Plan          string `json:"plan"`
	WHMCSClientID int64  `json:"whmcs_client_id"`
	AuthTime      int64  `json:"auth_time"`
	Nonce         string `json:"nonce"`
}

func (e *env) wantProfile(t *testing.T, c customClaims) {
	t.Helper()
	want := customClaims{
		Sub: strconv.FormatInt(e.user.ID, 10), Email: e.user.Email, EmailVerified: true, Name: e.user.Name,
		Role: "admin", CompanyID: e.company.ID, CompanyName: e.company.Name, Plan: e.company.Plan,
		WHMCSClientID: 42, AuthTime: c.AuthTime, Nonce: c.Nonce,
	}
	if c != want {
		t.Fatalf("claims = %+v\nwant     %+v", c, want)
	}
}

func TestDiscovery(t *testing.T) {
	e := newEnv(t)
	resp, err := http.Get(e.srv.URL + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var d map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&d); err != nil {
		t.Fatal(err)
	}
	iss := e.srv.URL
	want := map[string]any{
		"issuer":                                iss,
		"authorization_endpoint":                iss + "/sso/authorize",
		"token_endpoint":                        iss + "/sso/token",
		"userinfo_endpoint":                     iss + "/sso/userinfo",
		"jwks_uri":                              iss + "/sso/jwks",
		"revocation_endpoint":                   iss + "/sso/revoke",
		"response_types_supported":              []any{"code"},
		"grant_types_supported":                 []any{"authorization_code", "refresh_token"},
		"code_challenge_methods_supported":      []any{"S256"},
		"id_token_signing_alg_values_supported": []any{"ES256"},
		"scopes_supported":                      []any{"openid", "email", "profile", "offline_access"},
		"subject_types_supported":               []any{"public"},
		"token_endpoint_auth_methods_supported": []any{"client_secret_basic", "client_secret_post", "none"},
	}
	if !reflect.DeepEqual(d, want) {
		t.Fatalf("discovery = %v", d)
	}
}

// TestCodeFlow is the full path of a standard relying party: discovery,
// PKCE authorization with a session, exchange, ID token verification,
// userinfo, refresh with rotation, reuse detection and revocation.
func TestCodeFlow(t *testing.T) {
	e := newEnv(t)
	r := e.rp(rpID, rpSecret, rpRedirect)

	code, verifier := r.code("n-0S6_WzA2Mj")
	tok, err := r.oauth.Exchange(e.ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	if tok.TokenType != "Bearer" || tok.RefreshToken == "" || tok.AccessToken == "" {
		t.Fatalf("token = %+v", tok)
	}
	if got := tok.Extra("expires_in"); got != float64(900) {
		t.Fatalf("expires_in = %v", got)
	}
	rawID, _ := tok.Extra("id_token").(string)
	idt, err := r.verifier.Verify(e.ctx, rawID)
	if err != nil {
		t.Fatal(err)
	}
	if idt.Nonce != "n-0S6_WzA2Mj" {
		t.Fatalf("nonce = %q", idt.Nonce)
	}
	var c customClaims
	if err := idt.Claims(&c); err != nil {
		t.Fatal(err)
	}
	e.wantProfile(t, c)
	if c.AuthTime != e.sess.AuthTime.Unix() {
		t.Fatalf("auth_time = %d, want %d", c.AuthTime, e.sess.AuthTime.Unix())
	}

	// The access token is a JWT for this client, usable at userinfo and
	// as a bearer token on proxied requests.
	at, err := r.provider.Verifier(&oidc.Config{ClientID: rpID}).Verify(e.ctx, tok.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if !at.Expiry.Before(time.Now().Add(16 * time.Minute)) {
		t.Fatalf("access token expires at %v", at.Expiry)
	}
	ui, err := r.provider.UserInfo(e.ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		t.Fatal(err)
	}
	var uc customClaims
	if err := ui.Claims(&uc); err != nil {
		t.Fatal(err)
	}
	uc.AuthTime, uc.Nonce = 0, ""
	e.wantProfile(t, uc)
	s, co, err := e.p.VerifyAccessToken(e.ctx, e.proxied(), tok.AccessToken)
	if err != nil || s.UserID != e.user.ID || co.ID != e.company.ID || s.Email != e.user.Email || s.Super {
		t.Fatalf("VerifyAccessToken = %+v, %+v, %v", s, co, err)
	}

	// Refresh rotates the refresh token.
	tok2, err := r.refresh(tok.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	if tok2.RefreshToken == "" || tok2.RefreshToken == tok.RefreshToken {
		t.Fatal("refresh token was not rotated")
	}
	if _, err := r.verifier.Verify(e.ctx, tok2.Extra("id_token").(string)); err != nil {
		t.Fatalf("refreshed ID token: %v", err)
	}

	// Within the grace window the rotated token still works once more
	// (a concurrent refresh), in the same family.
	tok3, err := r.refresh(tok.RefreshToken)
	if err != nil {
		t.Fatalf("refresh within the grace window: %v", err)
	}

	// After it, reuse revokes the whole family: the newest refresh tokens
	// and the access tokens too.
	e.clk.Add(6 * time.Second)
	if _, err := r.refresh(tok.RefreshToken); oauthCode(t, err) != "invalid_grant" {
		t.Fatalf("reuse after the grace window: %v", err)
	}
	for _, newest := range []string{tok2.RefreshToken, tok3.RefreshToken} {
		if _, err := r.refresh(newest); oauthCode(t, err) != "invalid_grant" {
			t.Fatalf("newest refresh token after reuse: %v", err)
		}
	}
	if resp, _ := e.userinfo(tok3.AccessToken); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("userinfo after reuse: %d", resp.StatusCode)
	}
}

func TestPublicClientAndRevoke(t *testing.T) {
	e := newEnv(t)
	r := e.rp(spaID, "", spaRedirect)
	code, verifier := r.code("n1")
	tok, err := r.oauth.Exchange(e.ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	// The redirect URI's own query survives next to code and state.
	q := r.authorize("s2", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))
	if q.Get("app") != "1" || q.Get("code") == "" {
		t.Fatalf("redirect query = %v", q)
	}

	// Revoking the refresh token kills the family, access token included.
	resp, _ := e.postForm("/sso/revoke", "", "", url.Values{"client_id": {spaID}, "token": {tok.RefreshToken}})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("revoke: %d", resp.StatusCode)
	}
	if _, err := r.refresh(tok.RefreshToken); oauthCode(t, err) != "invalid_grant" {
		t.Fatalf("refresh after revoke: %v", err)
	}
	if resp, body := e.userinfo(tok.AccessToken); resp.StatusCode != http.StatusUnauthorized ||
		body["error"] != "invalid_token" || resp.Header.Get("WWW-Authenticate") == "" {
		t.Fatalf("userinfo after revoke: %d %v", resp.StatusCode, body)
	}
	// Unknown tokens are 200 too (RFC 7009).
	resp, _ = e.postForm("/sso/revoke", "", "", url.Values{"client_id": {spaID}, "token": {"nope"}})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("revoke unknown: %d", resp.StatusCode)
	}
}

func TestRevokeAccessToken(t *testing.T) {
	e := newEnv(t)
	r := e.rp(rpID, rpSecret, rpRedirect)
	code, verifier := r.code("n")
	tok, err := r.oauth.Exchange(e.ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	// Another client cannot revoke it.
	resp, _ := e.postForm("/sso/revoke", "", "", url.Values{"client_id": {spaID}, "token": {tok.AccessToken}})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("revoke by another client: %d", resp.StatusCode)
	}
	if _, _, err := e.p.VerifyAccessToken(e.ctx, e.proxied(), tok.AccessToken); err != nil {
		t.Fatalf("token revoked by another client: %v", err)
	}
	resp, _ = e.postForm("/sso/revoke", rpID, rpSecret, url.Values{"token": {tok.AccessToken}, "token_type_hint": {"access_token"}})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("revoke: %d", resp.StatusCode)
	}
	if _, _, err := e.p.VerifyAccessToken(e.ctx, e.proxied(), tok.AccessToken); err == nil {
		t.Fatal("revoked access token still verifies")
	}
	if _, err := r.refresh(tok.RefreshToken); oauthCode(t, err) != "invalid_grant" {
		t.Fatalf("refresh after revoking its access token: %v", err)
	}
}

func TestClientSecretPostAndNoOfflineAccess(t *testing.T) {
	e := newEnv(t)
	r := e.rp(rpID, rpSecret, rpRedirect, oidc.ScopeOpenID, "email", "bogus")
	r.oauth.Endpoint.AuthStyle = oauth2.AuthStyleInParams
	code, verifier := r.code("n")
	tok, err := r.oauth.Exchange(e.ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	if tok.RefreshToken != "" {
		t.Fatal("refresh token without offline_access")
	}
	if got := tok.Extra("scope"); got != "openid email" {
		t.Fatalf("scope = %v", got)
	}
}

func TestLoginTokens(t *testing.T) {
	e := newEnv(t)
	ts, err := e.p.LoginTokens(e.ctx, e.srv.URL, e.sess, e.company)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(ts)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if !reflect.DeepEqual(keys, []string{"access_token", "expires_in", "id_token", "refresh_token", "token_type"}) {
		t.Fatalf("TokenSet JSON keys = %v", keys)
	}
	if ts.TokenType != "Bearer" || ts.ExpiresIn != 900 {
		t.Fatalf("token set = %+v", ts)
	}
	r := e.rp(tokens.LoginClientID, "", "")
	if _, err := r.verifier.Verify(e.ctx, ts.IDToken); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.p.VerifyAccessToken(e.ctx, e.proxied(), ts.AccessToken); err != nil {
		t.Fatal(err)
	}
	// The refresh token works at /sso/token as the public client rcchat-sso.
	_, body := e.postForm("/sso/token", "", "", url.Values{
		"grant_type": {"refresh_token"}, "client_id": {tokens.LoginClientID}, "refresh_token": {ts.RefreshToken},
	})
	if body["refresh_token"] == nil || body["access_token"] == nil || body["token_type"] != "Bearer" {
		t.Fatalf("refresh as rcchat-sso: %v", body)
	}
	// But not as another client, which also burns the family.
	_, body = e.postForm("/sso/token", "", "", url.Values{
		"grant_type": {"refresh_token"}, "client_id": {spaID}, "refresh_token": {body["refresh_token"].(string)},
	})
	if body["error"] != "invalid_grant" {
		t.Fatalf("refresh as another client: %v", body)
	}
}
