package tokens

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"sort"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"go.uber.org/zap"

	"github.com/rcchat/caddy-whmcs-auth/store"
)

// signingKey is the key that signs new tokens.
type signingKey struct {
	kid     string
	created time.Time
	// jwt signs ID tokens and assertions, at signs access tokens: their
	// `typ` headers differ (RFC 9068) so neither can pass for the other
	// with a careful verifier.
	jwt, at jose.Signer
}

// publicKey is a key whose tokens still verify.
type publicKey struct {
	kid string
	key *ecdsa.PublicKey
	// until is when the key leaves the JWKS; zero while it signs.
	until time.Time
}

// keyring is an immutable snapshot of the keys; replaced, never mutated.
type keyring struct {
	current *signingKey
	public  []publicKey // newest first
}

// lookup returns the public key of kid if tokens it signed may still be
// valid at now.
func (kr *keyring) lookup(kid string, now time.Time) (*ecdsa.PublicKey, bool) {
	for _, k := range kr.public {
		if k.kid == kid && (k.until.IsZero() || now.Before(k.until)) {
			return k.key, true
		}
	}
	return nil, false
}

// jwks is the public half of the keys still published at now.
func (kr *keyring) jwks(now time.Time) jose.JSONWebKeySet {
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{}}
	for _, k := range kr.public {
		if k.until.IsZero() || now.Before(k.until) {
			set.Keys = append(set.Keys, jose.JSONWebKey{Key: k.key, KeyID: k.kid, Algorithm: string(jose.ES256), Use: "sig"})
		}
	}
	return set
}

// maxTokenTTL is the longest lifetime of anything a key signs: a retired
// key stays published for that long, so every token it signed can still be
// verified until it expires.
func (p *Provider) maxTokenTTL() time.Duration {
	return max(p.accessTTL, assertionTTL)
}

// loadKeys reads the keys and falls back to a write transaction only when
// one is needed (no current key, rotation due, expired keys to drop), so
// that a Caddy config reload does not cost an fsync.
func (p *Provider) loadKeys(ctx context.Context) error {
	var recs []store.SigningKey
	err := p.store.View(ctx, func(tx store.Tx) error {
		var err error
		recs, err = tx.SigningKeys()
		return err
	})
	if err != nil {
		return fmt.Errorf("tokens: reading signing keys: %w", err)
	}
	if p.keysNeedWork(recs, p.now()) {
		return p.maintainKeys(ctx, false)
	}
	return p.install(recs)
}

// reloadKeys picks up a rotation made by another instance sharing the
// store. It only reads; a failure keeps the keys already loaded.
func (p *Provider) reloadKeys(ctx context.Context) {
	var recs []store.SigningKey
	err := p.store.View(ctx, func(tx store.Tx) error {
		var err error
		recs, err = tx.SigningKeys()
		return err
	})
	if err == nil {
		err = p.install(recs)
	}
	if err != nil {
		p.log.Warn("reloading signing keys", zap.Error(err))
	}
}

func (p *Provider) keysNeedWork(recs []store.SigningKey, now time.Time) bool {
	current := 0
	for _, k := range recs {
		if k.RetiredAt.IsZero() {
			current++
			if !now.Before(k.CreatedAt.Add(p.rotation)) {
				return true
			}
		} else if !now.Before(k.PublishUntil) {
			return true
		}
	}
	return current != 1
}

// maintainKeys makes sure exactly one fresh current key exists, in a single
// transaction so that instances starting together agree on one key: the
// second one to get the write lock sees the first one's key and keeps it.
// force retires the current key whatever its age.
func (p *Provider) maintainKeys(ctx context.Context, force bool) error {
	var recs []store.SigningKey
	var created, retired []string
	err := p.store.Update(ctx, func(tx store.Tx) error {
		created, retired = nil, nil
		var err error
		recs, err = tx.SigningKeys()
		if err != nil {
			return err
		}
		now := p.now()
		sort.SliceStable(recs, func(i, j int) bool { return recs[i].CreatedAt.Before(recs[j].CreatedAt) })
		cur := -1
		for i := range recs {
			if recs[i].RetiredAt.IsZero() {
				if cur >= 0 {
					// Two current keys can only come from an older
					// bug or a crash mid-way; keep the newest signing.
					if err := p.retire(tx, &recs[cur], now); err != nil {
						return err
					}
					retired = append(retired, recs[cur].KID)
				}
				cur = i
			}
		}
		if cur < 0 || force || !now.Before(recs[cur].CreatedAt.Add(p.rotation)) {
			if cur >= 0 {
				if err := p.retire(tx, &recs[cur], now); err != nil {
					return err
				}
				retired = append(retired, recs[cur].KID)
			}
			k, err := generateKey(now)
			if err != nil {
				return err
			}
			if err := tx.PutSigningKey(&k); err != nil {
				return err
			}
			recs = append(recs, k)
			created = append(created, k.KID)
		}
		kept := recs[:0]
		for _, k := range recs {
			if !k.RetiredAt.IsZero() && !now.Before(k.PublishUntil) {
				if err := tx.DeleteSigningKey(k.KID); err != nil {
					return err
				}
				continue
			}
			kept = append(kept, k)
		}
		recs = kept
		return nil
	})
	if err != nil {
		return fmt.Errorf("tokens: rotating signing keys: %w", err)
	}
	for _, kid := range retired {
		p.log.Info("signing key retired", zap.String("kid", kid))
	}
	for _, kid := range created {
		p.log.Info("signing key created", zap.String("kid", kid))
	}
	return p.install(recs)
}

func (p *Provider) retire(tx store.Tx, k *store.SigningKey, now time.Time) error {
	k.RetiredAt = now
	k.PublishUntil = now.Add(p.maxTokenTTL())
	return tx.PutSigningKey(k)
}

// generateKey makes a P-256 key whose kid is its RFC 7638 thumbprint, so
// the kid says nothing but identifies the key for good.
func generateKey(now time.Time) (store.SigningKey, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return store.SigningKey{}, fmt.Errorf("generating a signing key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return store.SigningKey{}, fmt.Errorf("encoding a signing key: %w", err)
	}
	jwk := jose.JSONWebKey{Key: &priv.PublicKey}
	tp, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return store.SigningKey{}, fmt.Errorf("fingerprinting a signing key: %w", err)
	}
	return store.SigningKey{
		KID:        base64.RawURLEncoding.EncodeToString(tp),
		PrivatePEM: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}),
		CreatedAt:  now,
	}, nil
}

func parseKey(k store.SigningKey) (*ecdsa.PrivateKey, error) {
	block, _ := pem.Decode(k.PrivatePEM)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("signing key %s: not a PEM PKCS#8 private key", k.KID)
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", k.KID, err)
	}
	ec, ok := key.(*ecdsa.PrivateKey)
	if !ok || ec.Curve != elliptic.P256() {
		return nil, fmt.Errorf("signing key %s: not a P-256 key", k.KID)
	}
	return ec, nil
}

// install builds a keyring from the store records. A retired key that does
// not parse is skipped (it only costs the tokens it signed); a current one
// that does not parse is an error, since nothing could be signed.
func (p *Provider) install(recs []store.SigningKey) error {
	now := p.now()
	kr := &keyring{}
	sorted := append([]store.SigningKey(nil), recs...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].CreatedAt.After(sorted[j].CreatedAt) })
	for _, rec := range sorted {
		if !rec.RetiredAt.IsZero() && !now.Before(rec.PublishUntil) {
			continue
		}
		priv, err := parseKey(rec)
		if err != nil {
			if rec.RetiredAt.IsZero() && kr.current == nil {
				return fmt.Errorf("tokens: %w", err)
			}
			p.log.Warn("skipping an unreadable signing key", zap.String("kid", rec.KID))
			continue
		}
		if rec.RetiredAt.IsZero() && kr.current == nil {
			sk, err := newSigningKey(rec, priv)
			if err != nil {
				return err
			}
			kr.current = sk
		}
		until := rec.PublishUntil
		if rec.RetiredAt.IsZero() {
			until = time.Time{}
		}
		kr.public = append(kr.public, publicKey{kid: rec.KID, key: &priv.PublicKey, until: until})
	}
	if kr.current == nil {
		return errors.New("tokens: the store holds no current signing key")
	}
	p.keys.Store(kr)
	return nil
}

func newSigningKey(rec store.SigningKey, priv *ecdsa.PrivateKey) (*signingKey, error) {
	key := jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: priv, KeyID: rec.KID}}
	jwtSigner, err := jose.NewSigner(key, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return nil, fmt.Errorf("tokens: signer for %s: %w", rec.KID, err)
	}
	atSigner, err := jose.NewSigner(key, (&jose.SignerOptions{}).WithType("at+jwt"))
	if err != nil {
		return nil, fmt.Errorf("tokens: signer for %s: %w", rec.KID, err)
	}
	return &signingKey{kid: rec.KID, created: rec.CreatedAt, jwt: jwtSigner, at: atSigner}, nil
}

// signer returns the key to sign with now. When the current key is due,
// the first caller rotates it right away, rather than waiting for Run's
// next tick, so every instance sharing the store switches at the same
// moment and no token outlives its key's publication. If the rotation
// fails the old key keeps signing: it is still valid and published.
func (p *Provider) signer(ctx context.Context) *signingKey {
	kr := p.keys.Load()
	if p.now().Before(kr.current.created.Add(p.rotation)) {
		return kr.current
	}
	p.rotMu.Lock()
	defer p.rotMu.Unlock()
	kr = p.keys.Load()
	if p.now().Before(kr.current.created.Add(p.rotation)) {
		return kr.current
	}
	if err := p.maintainKeys(ctx, false); err != nil {
		p.log.Error("rotating the signing key", zap.Error(err))
	}
	return p.keys.Load().current
}

// Rotate retires the current signing key and creates a new one at once.
// The retired key stays in the JWKS until the tokens it signed expire.
func (p *Provider) Rotate(ctx context.Context) error {
	p.rotMu.Lock()
	defer p.rotMu.Unlock()
	return p.maintainKeys(ctx, true)
}

// Run keeps the keys fresh until ctx is done: it rotates the key when due,
// drops keys whose tokens have all expired, and picks up rotations made by
// other instances sharing the store.
func (p *Provider) Run(ctx context.Context) {
	every := time.Hour
	if q := p.rotation / 4; q < every {
		every = max(q, time.Second)
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			p.rotMu.Lock()
			err := p.loadKeys(ctx)
			p.rotMu.Unlock()
			if err != nil && ctx.Err() == nil {
				p.log.Error("maintaining signing keys", zap.Error(err))
			}
		}
	}
}
