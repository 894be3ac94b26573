package storetest

import (
	"testing"

	"github.com/rcchat/caddy-whmcs-auth/store"
)

// testCompanies checks lookups by every key, the two uniqueness rules, and
// that the lookups follow a key when it changes.
func testCompanies(t *testing.T, s store.Store) {
	c1 := &store.Company{WHMCSClientID: 10, WHMCSServiceID: 100, Name: "Acme", Plan: "pro",
		Status: store.StatusActive, DueDate: "2030-04-01", CreatedAt: base, UpdatedAt: base}
	c2 := &store.Company{WHMCSClientID: 20, WHMCSServiceID: 200, Name: "Beta", Status: store.StatusSuspended,
		StatusReason: "overdue", CreatedAt: base, UpdatedAt: base, LastReconciledAt: base}
	update(t, s, func(tx store.Tx) error {
		// Two unlinked companies: a zero RC-CHAT id is not a key.
		noErr(t, "PutCompany c1", tx.PutCompany(c1))
		noErr(t, "PutCompany c2", tx.PutCompany(c2))
		return nil
	})
	if c1.ID == 0 || c2.ID == 0 || c1.ID == c2.ID {
		t.Fatalf("assigned ids %d and %d", c1.ID, c2.ID)
	}
	view(t, s, func(tx store.Tx) error {
		got, err := tx.Company(c1.ID)
		noErr(t, "Company", err)
		same(t, "Company(c1)", got, c1)
		got, err = tx.CompanyByWHMCSClient(20)
		noErr(t, "CompanyByWHMCSClient(20)", err)
		same(t, "CompanyByWHMCSClient(20)", got, c2)
		_, err = tx.CompanyByRCChatID(0)
		wantErr(t, "CompanyByRCChatID(0)", err, store.ErrNotFound)
		return nil
	})

	// One company per WHMCS client; a refused insert keeps its zero ID.
	dup := &store.Company{WHMCSClientID: 10, Name: "Dup"}
	wantErr(t, "PutCompany duplicate WHMCS client",
		tryUpdate(s, func(tx store.Tx) error { return tx.PutCompany(dup) }), store.ErrConflict)
	if dup.ID != 0 {
		t.Errorf("refused PutCompany assigned id %d", dup.ID)
	}

	// RC-CHAT id set later becomes a key.
	c1.RCChatCompanyID = 500
	update(t, s, func(tx store.Tx) error { return tx.PutCompany(c1) })
	view(t, s, func(tx store.Tx) error {
		got, err := tx.CompanyByRCChatID(500)
		noErr(t, "CompanyByRCChatID(500)", err)
		same(t, "CompanyByRCChatID(500)", got, c1)
		return nil
	})
	// One company per RC-CHAT id, and the refused update leaves c2 alone.
	c2b := *c2
	c2b.RCChatCompanyID = 500
	c2b.Name = "Beta renamed"
	wantErr(t, "PutCompany duplicate RC-CHAT id",
		tryUpdate(s, func(tx store.Tx) error { return tx.PutCompany(&c2b) }), store.ErrConflict)
	view(t, s, func(tx store.Tx) error {
		got, err := tx.Company(c2.ID)
		noErr(t, "Company(c2)", err)
		same(t, "c2 after refused update", got, c2)
		got, err = tx.CompanyByRCChatID(500)
		noErr(t, "CompanyByRCChatID(500)", err)
		if got.ID != c1.ID {
			t.Errorf("RC-CHAT 500 now points at company %d, want %d", got.ID, c1.ID)
		}
		return nil
	})

	// Changing the WHMCS client moves the key and frees the old one.
	c1.WHMCSClientID = 11
	update(t, s, func(tx store.Tx) error { return tx.PutCompany(c1) })
	view(t, s, func(tx store.Tx) error {
		_, err := tx.CompanyByWHMCSClient(10)
		wantErr(t, "CompanyByWHMCSClient(old key)", err, store.ErrNotFound)
		got, err := tx.CompanyByWHMCSClient(11)
		noErr(t, "CompanyByWHMCSClient(11)", err)
		same(t, "CompanyByWHMCSClient(11)", got, c1)
		return nil
	})
	c3 := &store.Company{WHMCSClientID: 10, Name: "Reuses 10"}
	update(t, s, func(tx store.Tx) error { return tx.PutCompany(c3) })

	// Unlinking from RC-CHAT frees that key too.
	c1.RCChatCompanyID = 0
	update(t, s, func(tx store.Tx) error { return tx.PutCompany(c1) })
	c2.RCChatCompanyID = 500
	update(t, s, func(tx store.Tx) error { return tx.PutCompany(c2) })

	// Re-putting a company with its own keys is not a conflict.
	c2.Status = store.StatusActive
	update(t, s, func(tx store.Tx) error { return tx.PutCompany(c2) })

	view(t, s, func(tx store.Tx) error {
		got, err := tx.CompanyByRCChatID(500)
		noErr(t, "CompanyByRCChatID(500)", err)
		same(t, "CompanyByRCChatID(500) after move", got, c2)
		got, err = tx.CompanyByWHMCSClient(10)
		noErr(t, "CompanyByWHMCSClient(10)", err)
		same(t, "CompanyByWHMCSClient(10) after reuse", got, c3)
		got, err = tx.Company(c1.ID)
		noErr(t, "Company(c1)", err)
		same(t, "c1 after unlinking", got, c1)
		return nil
	})

	// Callers handle a conflict and carry on (typically by loading the
	// existing company), so the transaction must stay usable after one.
	update(t, s, func(tx store.Tx) error {
		wantErr(t, "PutCompany conflicting in same tx",
			tx.PutCompany(&store.Company{WHMCSClientID: 11}), store.ErrConflict)
		got, err := tx.CompanyByWHMCSClient(11)
		noErr(t, "CompanyByWHMCSClient after conflict", err)
		same(t, "existing company after conflict", got, c1)
		n := &store.Company{WHMCSClientID: 30, RCChatCompanyID: 600}
		noErr(t, "PutCompany new", tx.PutCompany(n))
		wantErr(t, "PutCompany same RC-CHAT id in same tx",
			tx.PutCompany(&store.Company{WHMCSClientID: 31, RCChatCompanyID: 600}), store.ErrConflict)
		return nil
	})
}

// testCompaniesPaging checks that Companies pages in ID order by afterID.
func testCompaniesPaging(t *testing.T, s store.Store) {
	var ids []int64
	update(t, s, func(tx store.Tx) error {
		for i := range 5 {
			c := &store.Company{WHMCSClientID: int64(100 + i)}
			noErr(t, "PutCompany", tx.PutCompany(c))
			ids = append(ids, c.ID)
		}
		return nil
	})
	id := func(c store.Company) int64 { return c.ID }
	view(t, s, func(tx store.Tx) error {
		page, err := tx.Companies(0, 2)
		noErr(t, "Companies(0, 2)", err)
		sameKeys(t, "first page", keysOf(page, id), ids[:2])
		page, err = tx.Companies(ids[1], 2)
		noErr(t, "Companies(second)", err)
		sameKeys(t, "second page", keysOf(page, id), ids[2:4])
		page, err = tx.Companies(ids[3], 10)
		noErr(t, "Companies(third)", err)
		sameKeys(t, "last page", keysOf(page, id), ids[4:])
		page, err = tx.Companies(ids[4], 10)
		noErr(t, "Companies(after last)", err)
		if len(page) != 0 {
			t.Errorf("page after the last company: %v", keysOf(page, id))
		}
		return nil
	})
}

// testUsers checks e-mail lookup with normalisation, one user per e-mail,
// and that an e-mail change moves the key.
func testUsers(t *testing.T, s store.Store) {
	alice := &store.User{CompanyID: 1, Email: "alice@example.com", Name: "Alice", Role: "admin",
		PasswordHash: "$argon2id$x", CreatedAt: base}
	bob := &store.User{CompanyID: 1, Email: "bob@example.com", Name: "Bob", Role: "agent", CreatedAt: base}
	update(t, s, func(tx store.Tx) error {
		noErr(t, "PutUser alice", tx.PutUser(alice))
		noErr(t, "PutUser bob", tx.PutUser(bob))
		return nil
	})
	if alice.ID == 0 || bob.ID == 0 || alice.ID == bob.ID {
		t.Fatalf("assigned ids %d and %d", alice.ID, bob.ID)
	}
	view(t, s, func(tx store.Tx) error {
		got, err := tx.User(alice.ID)
		noErr(t, "User", err)
		same(t, "User(alice)", got, alice)
		got, err = tx.UserByEmail("  ALICE@Example.com\t")
		noErr(t, "UserByEmail(mixed case, spaces)", err)
		same(t, "UserByEmail(alice)", got, alice)
		return nil
	})

	dup := &store.User{CompanyID: 2, Email: " Alice@EXAMPLE.com "}
	wantErr(t, "PutUser duplicate e-mail",
		tryUpdate(s, func(tx store.Tx) error { return tx.PutUser(dup) }), store.ErrConflict)
	if dup.ID != 0 {
		t.Errorf("refused PutUser assigned id %d", dup.ID)
	}
	bob2 := *bob
	bob2.Email = "alice@example.com"
	wantErr(t, "PutUser changing to a taken e-mail",
		tryUpdate(s, func(tx store.Tx) error { return tx.PutUser(&bob2) }), store.ErrConflict)

	// Changing an e-mail frees the old one.
	alice.Email = "alice@new.example.com"
	update(t, s, func(tx store.Tx) error { return tx.PutUser(alice) })
	carol := &store.User{CompanyID: 3, Email: "alice@example.com", Name: "Carol"}
	update(t, s, func(tx store.Tx) error { return tx.PutUser(carol) })
	// Re-putting with the same e-mail is not a conflict.
	bob.Role = "admin"
	update(t, s, func(tx store.Tx) error { return tx.PutUser(bob) })

	view(t, s, func(tx store.Tx) error {
		got, err := tx.UserByEmail("alice@new.example.com")
		noErr(t, "UserByEmail(new)", err)
		same(t, "alice by new e-mail", got, alice)
		got, err = tx.UserByEmail("alice@example.com")
		noErr(t, "UserByEmail(reused)", err)
		same(t, "carol by reused e-mail", got, carol)
		got, err = tx.User(bob.ID)
		noErr(t, "User(bob)", err)
		same(t, "bob after re-put", got, bob)
		return nil
	})
}
