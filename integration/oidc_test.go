package integration

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// A standard relying party (go-oidc + x/oauth2, unmodified) against the
// module in a real Caddy.
func TestOIDCRelyingPartyThroughCaddy(t *testing.T) {
	e := getEnv(t)
	e.load(t, mainState(e), "")
	e.seedClient("oidc@it.test", "oidc-pw", "Active", 2)
	_, _, cookie := e.loginJSON(t, "oidc@it.test", "oidc-pw")

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	provider, err := oidc.NewProvider(ctx, site)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	cfg := oauth2.Config{
		ClientID: "app", ClientSecret: "app-secret", Endpoint: provider.Endpoint(),
		RedirectURL: "http://127.0.0.1:9999/cb", Scopes: []string{oidc.ScopeOpenID, "email", "profile", oidc.ScopeOfflineAccess},
	}
	verifier := oauth2.GenerateVerifier()
	authURL := cfg.AuthCodeURL("state-123", oauth2.S256ChallengeOption(verifier), oidc.Nonce("nonce-456"))

	// The signed-in browser gets the code at once.
	resp := e.do(t, "GET", strings.TrimPrefix(authURL, site), cookie, nil)
	loc, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || err != nil || loc.Query().Get("state") != "state-123" || loc.Query().Get("code") == "" {
		t.Fatalf("authorize: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	// Without a session, the login page comes first.
	if resp := e.do(t, "GET", strings.TrimPrefix(authURL, site), "", nil); resp.StatusCode != http.StatusFound ||
		!strings.HasPrefix(resp.Header.Get("Location"), "/sso/login?rd=") {
		t.Fatalf("authorize without a session: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}

	tok, err := cfg.Exchange(ctx, loc.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	rawID, _ := tok.Extra("id_token").(string)
	idToken, err := provider.Verifier(&oidc.Config{ClientID: "app"}).Verify(ctx, rawID)
	if err != nil {
		t.Fatalf("verify ID token: %v", err)
	}
	var claims struct {
		Email         string `json:"email"`
		Plan          string `json:"plan"`
		CompanyID     any    `json:"company_id"`
		WHMCSClientID any    `json:"whmcs_client_id"`
		Role          string `json:"role"`
	}
	if err := idToken.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	if idToken.Nonce != "nonce-456" || claims.Email != "oidc@it.test" || claims.Plan != "Premium" || claims.Role != "admin" ||
		claims.CompanyID == nil || claims.WHMCSClientID == nil {
		t.Fatalf("ID token claims: nonce %q %+v", idToken.Nonce, claims)
	}

	info, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil || info.Email != "oidc@it.test" {
		t.Fatalf("userinfo: %v %+v", err, info)
	}

	// The access token authenticates a proxied request too.
	if resp := e.do(t, "GET", "/backend/oidc", "", nil, "Authorization", "Bearer "+tok.AccessToken); resp.StatusCode != 200 {
		t.Fatalf("bearer access token on a proxied request: %d", resp.StatusCode)
	}
	// RC-CHAT can verify the identity assertion it receives with the JWKS.
	assertion := e.up.last("/oidc").Header.Get("X-Rcchat-Identity")
	keys := oidc.NewRemoteKeySet(ctx, site+"/sso/jwks")
	if _, err := oidc.NewVerifier(site, keys, &oidc.Config{ClientID: "rcchat", SupportedSigningAlgs: []string{oidc.ES256}}).Verify(ctx, assertion); err != nil {
		t.Fatalf("X-RCChat-Identity does not verify against /sso/jwks: %v", err)
	}

	// Refresh rotates the refresh token.
	old := tok.RefreshToken
	tok.Expiry = time.Now().Add(-time.Minute)
	refreshed, err := cfg.TokenSource(ctx, tok).Token()
	if err != nil || refreshed.RefreshToken == "" || refreshed.RefreshToken == old {
		t.Fatalf("refresh: %v", err)
	}
	// Reusing the rotated token after the grace window revokes the family.
	time.Sleep(5500 * time.Millisecond)
	_, err = cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: old, Expiry: time.Now().Add(-time.Minute)}).Token()
	if err == nil || !strings.Contains(err.Error(), "invalid_grant") {
		t.Fatalf("reuse of a rotated refresh token: %v", err)
	}
	_, err = cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: refreshed.RefreshToken, Expiry: time.Now().Add(-time.Minute)}).Token()
	if err == nil {
		t.Fatal("the family survived the reuse of a rotated token")
	}

	// Revocation (RFC 7009) of a fresh grant.
	code2 := e.code(t, cfg, cookie, verifier)
	tok2, err := cfg.Exchange(ctx, code2, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cfg.Exchange(ctx, code2, oauth2.VerifierOption(verifier)); err == nil || !strings.Contains(err.Error(), "invalid_grant") {
		t.Fatalf("replayed code: %v", err)
	}
	form := url.Values{"token": {tok2.RefreshToken}, "client_id": {"app"}, "client_secret": {"app-secret"}}
	if resp := e.do(t, "POST", "/sso/revoke", "", strings.NewReader(form.Encode()), "Content-Type", "application/x-www-form-urlencoded"); resp.StatusCode != 200 {
		t.Fatalf("revoke: %d", resp.StatusCode)
	}
	if _, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: tok2.RefreshToken, Expiry: time.Now().Add(-time.Minute)}).Token(); err == nil {
		t.Fatal("a revoked refresh token still works")
	}
}

func (e *env) code(t *testing.T, cfg oauth2.Config, cookie, verifier string) string {
	t.Helper()
	authURL := cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier))
	resp := e.do(t, "GET", strings.TrimPrefix(authURL, site), cookie, nil)
	loc, _ := url.Parse(resp.Header.Get("Location"))
	return loc.Query().Get("code")
}
