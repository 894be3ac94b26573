package tokens_test

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/rcchat/caddy-whmcs-auth/store"
	"github.com/rcchat/caddy-whmcs-auth/tokens"
)

func signingKeys(t *testing.T, st store.Store) []store.SigningKey {
	t.Helper()
	var keys []store.SigningKey
	err := st.View(context.Background(), func(tx store.Tx) error {
		var err error
		keys, err = tx.SigningKeys()
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

func TestRotation(t *testing.T) {
	core, logs := observer.New(zap.DebugLevel)
	e := newEnv(t, func(c *tokens.Config) { c.Logger = zap.New(core) })
	r := e.rp(tokens.LoginClientID, "", "")

	old, err := e.p.LoginTokens(e.ctx, e.srv.URL, e.sess, e.company)
	if err != nil {
		t.Fatal(err)
	}
	kid1 := kidOf(t, old.AccessToken)
	if kid1 == "" || kidOf(t, old.IDToken) != kid1 {
		t.Fatal("tokens lack the kid")
	}
	if _, err := r.verifier.Verify(e.ctx, old.IDToken); err != nil {
		t.Fatal(err)
	}

	if err := e.p.Rotate(e.ctx); err != nil {
		t.Fatal(err)
	}
	fresh, err := e.p.LoginTokens(e.ctx, e.srv.URL, e.sess, e.company)
	if err != nil {
		t.Fatal(err)
	}
	kid2 := kidOf(t, fresh.AccessToken)
	if kid2 == kid1 || kidOf(t, fresh.IDToken) != kid2 {
		t.Fatalf("new tokens carry kid %q, old %q", kid2, kid1)
	}
	if kids := e.jwksKids(); !slices.Contains(kids, kid1) || !slices.Contains(kids, kid2) {
		t.Fatalf("JWKS after rotation = %v", kids)
	}
	// Both verify, at the relying party (which refetches the JWKS for
	// the new kid) and at the edge.
	for _, ts := range []tokens.TokenSet{old, fresh} {
		if _, err := r.verifier.Verify(e.ctx, ts.IDToken); err != nil {
			t.Fatal(err)
		}
		if _, _, err := e.p.VerifyAccessToken(e.ctx, e.proxied(), ts.AccessToken); err != nil {
			t.Fatal(err)
		}
	}

	// The retired key stays published for the longest token lifetime.
	var retired store.SigningKey
	for _, k := range signingKeys(t, e.st) {
		if k.KID == kid1 {
			retired = k
		}
	}
	if retired.RetiredAt.IsZero() || !retired.PublishUntil.Equal(retired.RetiredAt.Add(tokens.DefaultAccessTTL)) {
		t.Fatalf("retired key: retired %v, published until %v", retired.RetiredAt, retired.PublishUntil)
	}

	// A restart over the same store keeps both keys and signs with the
	// current one.
	np, err := tokens.New(e.ctx, e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.swap(np)
	again, err := np.LoginTokens(e.ctx, e.srv.URL, e.sess, e.company)
	if err != nil {
		t.Fatal(err)
	}
	if kidOf(t, again.AccessToken) != kid2 {
		t.Fatal("restart changed the signing key")
	}
	if _, _, err := np.VerifyAccessToken(e.ctx, e.proxied(), old.AccessToken); err != nil {
		t.Fatalf("old token after restart: %v", err)
	}

	// After PublishUntil the old key leaves the JWKS, and the next
	// maintenance deletes it.
	e.clk.Add(retired.PublishUntil.Sub(e.clk.Now()) + time.Second)
	if kids := e.jwksKids(); slices.Contains(kids, kid1) || !slices.Contains(kids, kid2) {
		t.Fatalf("JWKS after PublishUntil = %v", kids)
	}
	if _, _, err := np.VerifyAccessToken(e.ctx, e.proxied(), old.AccessToken); !errors.Is(err, tokens.ErrInvalidToken) {
		t.Fatalf("old token after PublishUntil: %v", err)
	}
	if _, err := tokens.New(e.ctx, e.cfg); err != nil {
		t.Fatal(err)
	}
	if keys := signingKeys(t, e.st); len(keys) != 1 || keys[0].KID != kid2 {
		t.Fatalf("keys after cleanup = %+v", keys)
	}

	// Keys are PEM PKCS#8 in the store and never in the logs.
	block, _ := pem.Decode(signingKeys(t, e.st)[0].PrivatePEM)
	if block == nil || block.Type != "PRIVATE KEY" {
		t.Fatal("key is not PEM PKCS#8")
	}
	if _, err := x509.ParsePKCS8PrivateKey(block.Bytes); err != nil {
		t.Fatal(err)
	}
	for _, entry := range logs.All() {
		line := entry.Message
		for _, f := range entry.Context {
			line += " " + f.String
		}
		if strings.Contains(line, "PRIVATE KEY") || strings.Contains(line, old.RefreshToken) {
			t.Fatalf("secret in the log: %q", line)
		}
	}
}

func TestAutomaticRotation(t *testing.T) {
	e := newEnv(t, func(c *tokens.Config) { c.KeyRotation = time.Hour })
	a, err := e.p.LoginTokens(e.ctx, e.srv.URL, e.sess, e.company)
	if err != nil {
		t.Fatal(err)
	}
	e.clk.Add(time.Hour + time.Minute)
	b, err := e.p.LoginTokens(e.ctx, e.srv.URL, e.sess, e.company)
	if err != nil {
		t.Fatal(err)
	}
	if kidOf(t, a.AccessToken) == kidOf(t, b.AccessToken) {
		t.Fatal("the key was not rotated when due")
	}
	current := 0
	for _, k := range signingKeys(t, e.st) {
		if k.RetiredAt.IsZero() {
			current++
		}
	}
	if current != 1 {
		t.Fatalf("%d current keys", current)
	}

	// Run stops with its context.
	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan struct{})
	go func() { e.p.Run(ctx); close(done) }()
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not stop")
	}
}

// TestConcurrentStart starts several providers on an empty store at once:
// they must agree on a single current key.
func TestConcurrentStart(t *testing.T) {
	st := openStore(t)
	s := store.Session{IDHash: "h", UserID: 1, CompanyID: 1, AuthTime: time.Now()}
	c := store.Company{ID: 1, Status: store.StatusActive}
	kids := make([]string, 8)
	var wg sync.WaitGroup
	for i := range kids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, err := tokens.New(context.Background(), tokens.Config{Store: st, Sessions: nopResolver{}, Issuer: "https://sso.example"})
			if err != nil {
				t.Error(err)
				return
			}
			a, err := p.Assertion(context.Background(), "https://sso.example", s, c)
			if err != nil {
				t.Error(err)
				return
			}
			kids[i] = kidOf(t, a)
		}()
	}
	wg.Wait()
	if keys := signingKeys(t, st); len(keys) != 1 {
		t.Fatalf("%d keys after a concurrent start", len(keys))
	}
	for _, k := range kids {
		if k != kids[0] {
			t.Fatalf("providers sign with different keys: %v", kids)
		}
	}
}

type nopResolver struct{}

func (nopResolver) Resolve(context.Context, string) (store.Session, store.Company, error) {
	return store.Session{}, store.Company{}, errors.New("no sessions here")
}
