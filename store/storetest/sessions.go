package storetest

import (
	"testing"
	"time"

	"github.com/rcchat/caddy-whmcs-auth/store"
)

func sessionHash(s store.Session) string { return s.IDHash }

// companySessions returns the hashes CompanySessions lists for a company.
func companySessions(t *testing.T, tx store.Tx, companyID int64) []string {
	t.Helper()
	ss, err := tx.CompanySessions(companyID)
	noErr(t, "CompanySessions", err)
	return keysOf(ss, sessionHash)
}

// countSessions returns what CountSessions says.
func countSessions(t *testing.T, tx store.Tx) int {
	t.Helper()
	n, err := tx.CountSessions()
	noErr(t, "CountSessions", err)
	return n
}

// testSessions checks session round trips, the per-company listing
// following a company change, DeleteSession cleaning that listing, and
// CountSessions following all of it.
func testSessions(t *testing.T, s store.Store) {
	s1 := &store.Session{IDHash: "h1", UserID: 1, CompanyID: 1, Email: "a@example.com", Name: "A", Role: "admin",
		AuthTime: base, ExpiresAt: base.Add(time.Hour), ClientIP: "192.0.2.1"}
	s2 := &store.Session{IDHash: "h2", UserID: 2, CompanyID: 1, Email: "b@example.com", Vouched: true, Super: true,
		AuthTime: base, ExpiresAt: base.Add(2 * time.Hour)}
	s3 := &store.Session{IDHash: "h3", UserID: 3, CompanyID: 2, AuthTime: base, ExpiresAt: base.Add(time.Hour)}
	update(t, s, func(tx store.Tx) error {
		for _, x := range []*store.Session{s1, s2, s3} {
			noErr(t, "PutSession", tx.PutSession(x))
		}
		return nil
	})
	view(t, s, func(tx store.Tx) error {
		got, err := tx.Session("h2")
		noErr(t, "Session(h2)", err)
		same(t, "Session(h2)", got, s2)
		sameSet(t, "CompanySessions(1)", companySessions(t, tx, 1), []string{"h1", "h2"})
		sameSet(t, "CompanySessions(2)", companySessions(t, tx, 2), []string{"h3"})
		sameSet(t, "CompanySessions(3)", companySessions(t, tx, 3), nil)
		if n := countSessions(t, tx); n != 3 {
			t.Errorf("CountSessions = %d, want 3", n)
		}
		return nil
	})

	s2.CompanyID = 2
	update(t, s, func(tx store.Tx) error { return tx.PutSession(s2) })
	update(t, s, func(tx store.Tx) error { return tx.DeleteSession("h1") })
	view(t, s, func(tx store.Tx) error {
		_, err := tx.Session("h1")
		wantErr(t, "Session after DeleteSession", err, store.ErrNotFound)
		got, err := tx.Session("h2")
		noErr(t, "Session(h2)", err)
		same(t, "Session(h2) after company change", got, s2)
		sameSet(t, "CompanySessions(1) after move and delete", companySessions(t, tx, 1), nil)
		sameSet(t, "CompanySessions(2) after move", companySessions(t, tx, 2), []string{"h2", "h3"})
		if n := countSessions(t, tx); n != 2 {
			t.Errorf("CountSessions after a move and a delete = %d, want 2", n)
		}
		return nil
	})
}

// testExpiredSessions checks the sweep: only sessions that expired before
// now go, at most limit per call, and a session whose expiry was extended
// is judged by its new expiry.
func testExpiredSessions(t *testing.T, s store.Store) {
	now := base
	sessions := []*store.Session{
		{IDHash: "old3h", CompanyID: 1, ExpiresAt: now.Add(-3 * time.Hour)},
		{IDHash: "old2h", CompanyID: 2, ExpiresAt: now.Add(-2 * time.Hour)},
		{IDHash: "old1s", CompanyID: 1, ExpiresAt: now.Add(-time.Second)},
		{IDHash: "atnow", CompanyID: 1, ExpiresAt: now},
		{IDHash: "live", CompanyID: 2, ExpiresAt: now.Add(time.Hour)},
		{IDHash: "extended", CompanyID: 1, ExpiresAt: now.Add(-time.Hour)},
	}
	update(t, s, func(tx store.Tx) error {
		for _, x := range sessions {
			noErr(t, "PutSession", tx.PutSession(x))
		}
		return nil
	})
	ext := *sessions[5]
	ext.ExpiresAt = now.Add(2 * time.Hour)
	update(t, s, func(tx store.Tx) error { return tx.PutSession(&ext) })

	for i, want := range []int{2, 1, 0} {
		update(t, s, func(tx store.Tx) error {
			n, err := tx.DeleteExpiredSessions(now, 2)
			noErr(t, "DeleteExpiredSessions", err)
			if n != want {
				t.Errorf("sweep %d removed %d, want %d", i, n, want)
			}
			return nil
		})
	}
	view(t, s, func(tx store.Tx) error {
		for _, h := range []string{"old3h", "old2h", "old1s"} {
			_, err := tx.Session(h)
			wantErr(t, "expired session "+h, err, store.ErrNotFound)
		}
		for _, h := range []string{"atnow", "live", "extended"} {
			_, err := tx.Session(h)
			noErr(t, "live session "+h, err)
		}
		sameSet(t, "CompanySessions(1) after sweep", companySessions(t, tx, 1), []string{"atnow", "extended"})
		sameSet(t, "CompanySessions(2) after sweep", companySessions(t, tx, 2), []string{"live"})
		if n := countSessions(t, tx); n != 3 {
			t.Errorf("CountSessions after sweep = %d, want 3", n)
		}
		return nil
	})
	// Later, the extended one expires too.
	update(t, s, func(tx store.Tx) error {
		n, err := tx.DeleteExpiredSessions(now.Add(3*time.Hour), 10)
		noErr(t, "DeleteExpiredSessions", err)
		if n != 3 {
			t.Errorf("final sweep removed %d, want 3", n)
		}
		return nil
	})
}

// testAuthCodes checks the authorization code round trip and deletion.
func testAuthCodes(t *testing.T, s store.Store) {
	c := &store.AuthCode{CodeHash: "ch", ClientID: "rcchat", RedirectURI: "https://chat.example.com/cb",
		SessionHash: "h1", UserID: 1, CompanyID: 2, Scope: "openid email", Nonce: "n",
		CodeChallenge: "cc", AuthTime: base, ExpiresAt: base.Add(time.Minute)}
	update(t, s, func(tx store.Tx) error { return tx.PutAuthCode(c) })
	view(t, s, func(tx store.Tx) error {
		got, err := tx.AuthCode("ch")
		noErr(t, "AuthCode", err)
		same(t, "AuthCode", got, c)
		return nil
	})
	update(t, s, func(tx store.Tx) error { return tx.DeleteAuthCode("ch") })
	view(t, s, func(tx store.Tx) error {
		_, err := tx.AuthCode("ch")
		wantErr(t, "AuthCode after delete", err, store.ErrNotFound)
		return nil
	})
}

// testRefreshTokens checks revocation by family and by company, including
// after a token moved family or company.
func testRefreshTokens(t *testing.T, s store.Store) {
	tok := func(hash, family string, company int64) *store.RefreshToken {
		return &store.RefreshToken{TokenHash: hash, FamilyID: family, ClientID: "rcchat", UserID: 1,
			CompanyID: company, Scope: "openid", AuthTime: base, ExpiresAt: base.Add(24 * time.Hour)}
	}
	a1 := tok("a1", "famA", 1)
	a1.RotatedAt = base.Add(time.Minute)
	a1.Successor = "a2"
	a2 := tok("a2", "famA", 1)
	b1 := tok("b1", "famB", 1)
	c1 := tok("c1", "famC", 2)
	// Family "fam" is a prefix of the others; it must not catch them.
	p1 := tok("p1", "fam", 3)
	moved := tok("m1", "famA", 1)
	update(t, s, func(tx store.Tx) error {
		for _, x := range []*store.RefreshToken{a1, a2, b1, c1, p1, moved} {
			noErr(t, "PutRefreshToken", tx.PutRefreshToken(x))
		}
		return nil
	})
	view(t, s, func(tx store.Tx) error {
		got, err := tx.RefreshToken("a1")
		noErr(t, "RefreshToken(a1)", err)
		same(t, "RefreshToken(a1)", got, a1)
		return nil
	})
	// m1 leaves family A and company 1 before either is revoked.
	moved.FamilyID, moved.CompanyID = "famD", 4
	update(t, s, func(tx store.Tx) error { return tx.PutRefreshToken(moved) })

	revoked := func(tx store.Tx) map[string]bool {
		out := map[string]bool{}
		for _, h := range []string{"a1", "a2", "b1", "c1", "p1", "m1"} {
			rt, err := tx.RefreshToken(h)
			noErr(t, "RefreshToken("+h+")", err)
			out[h] = rt.Revoked
		}
		return out
	}
	check := func(what string, want map[string]bool) {
		t.Helper()
		view(t, s, func(tx store.Tx) error {
			got := revoked(tx)
			for h, w := range want {
				if got[h] != w {
					t.Errorf("%s: token %s revoked=%v, want %v", what, h, got[h], w)
				}
			}
			return nil
		})
	}

	update(t, s, func(tx store.Tx) error { return tx.RevokeRefreshFamily("fam") })
	check("after RevokeRefreshFamily(fam)", map[string]bool{
		"a1": false, "a2": false, "b1": false, "c1": false, "p1": true, "m1": false})

	update(t, s, func(tx store.Tx) error { return tx.RevokeRefreshFamily("famA") })
	check("after RevokeRefreshFamily(famA)", map[string]bool{
		"a1": true, "a2": true, "b1": false, "c1": false, "p1": true, "m1": false})
	view(t, s, func(tx store.Tx) error {
		got, err := tx.RefreshToken("a1")
		noErr(t, "RefreshToken(a1)", err)
		want := *a1
		want.Revoked = true
		same(t, "a1 after revocation keeps its other fields", got, &want)
		return nil
	})

	update(t, s, func(tx store.Tx) error { return tx.RevokeCompanyRefreshTokens(1) })
	check("after RevokeCompanyRefreshTokens(1)", map[string]bool{
		"a1": true, "a2": true, "b1": true, "c1": false, "p1": true, "m1": false})

	update(t, s, func(tx store.Tx) error { return tx.RevokeCompanyRefreshTokens(4) })
	check("after RevokeCompanyRefreshTokens(4)", map[string]bool{
		"c1": false, "p1": true, "m1": true})
}

// testSigningKeys checks listing, replacing and deleting signing keys.
func testSigningKeys(t *testing.T, s store.Store) {
	k1 := &store.SigningKey{KID: "k1", PrivatePEM: []byte("-----BEGIN PRIVATE KEY-----\n1\n"), CreatedAt: base}
	k2 := &store.SigningKey{KID: "k2", PrivatePEM: []byte("-----BEGIN PRIVATE KEY-----\n2\n"), CreatedAt: base.Add(time.Hour)}
	update(t, s, func(tx store.Tx) error {
		noErr(t, "PutSigningKey k1", tx.PutSigningKey(k1))
		noErr(t, "PutSigningKey k2", tx.PutSigningKey(k2))
		return nil
	})
	kid := func(k store.SigningKey) string { return k.KID }
	view(t, s, func(tx store.Tx) error {
		ks, err := tx.SigningKeys()
		noErr(t, "SigningKeys", err)
		sameSet(t, "SigningKeys", keysOf(ks, kid), []string{"k1", "k2"})
		for _, k := range ks {
			if k.KID == "k2" {
				same(t, "k2", k, k2)
			}
		}
		return nil
	})
	k1.RetiredAt = base.Add(time.Hour)
	k1.PublishUntil = base.Add(48 * time.Hour)
	update(t, s, func(tx store.Tx) error {
		noErr(t, "PutSigningKey k1 retired", tx.PutSigningKey(k1))
		noErr(t, "DeleteSigningKey k2", tx.DeleteSigningKey("k2"))
		return nil
	})
	view(t, s, func(tx store.Tx) error {
		ks, err := tx.SigningKeys()
		noErr(t, "SigningKeys", err)
		if len(ks) != 1 {
			t.Fatalf("SigningKeys after delete: %v", keysOf(ks, kid))
		}
		same(t, "retired k1", ks[0], k1)
		return nil
	})
}
