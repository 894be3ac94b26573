package whmcsauth

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/rcchat/caddy-whmcs-auth/companies"
	"github.com/rcchat/caddy-whmcs-auth/store"
)

// RoleAdmin is the role of a company's provisioned owner.
const RoleAdmin = "admin"

// Provisioner creates and resyncs companies from WHMCS accounts.
type Provisioner struct {
	Store store.Store
	Now   func() time.Time

	// stripes serialise provisioning per WHMCS client, so that racing
	// first logins wait for the one that creates the company instead of
	// each paying for a bcrypt hash that only one of them can use. The
	// store's uniqueness rules keep it correct without them.
	stripes [64]sync.Mutex
}

// Provisioned is the result of Provision.
type Provisioned struct {
	Company store.Company
	User    store.User
	// Created is true for the one call that created the company.
	Created bool
}

// Provision makes sure the company of the account's client exists and
// matches WHMCS: created on first use (exactly once, however many logins
// race), otherwise its plan, due date, name and service are resynced and an
// active service reactivates it. The client's e-mail becomes the company's
// admin user.
func (p *Provisioner) Provision(ctx context.Context, a Account) (Provisioned, error) {
	lock := &p.stripes[uint64(a.Client.ID)%uint64(len(p.stripes))]
	lock.Lock()
	defer lock.Unlock()

	now := p.now()
	email := NormalizeEmail(a.Client.Email)
	// bcrypt is slow on purpose; pay for it outside the write lock, and only
	// when the user does not exist yet.
	var hash string
	if !p.userExists(ctx, email) {
		h, err := randomPasswordHash()
		if err != nil {
			return Provisioned{}, err
		}
		hash = h
	}

	var out Provisioned
	err := p.Store.Update(ctx, func(tx store.Tx) error {
		out = Provisioned{}
		c, err := tx.CompanyByWHMCSClient(a.Client.ID)
		switch {
		case errors.Is(err, store.ErrNotFound):
			c = store.Company{WHMCSClientID: a.Client.ID, CreatedAt: now}
			out.Created = true
		case err != nil:
			return err
		}
		c.WHMCSServiceID = a.Service.ID
		c.Name = a.CompanyName()
		c.Plan = a.Plan
		c.DueDate = DueDate(a.Service.NextDueDate)
		c.UpdatedAt = now
		changed, err := companies.SetStatus(tx, &c, store.StatusActive, "whmcs service "+a.Service.Status, now)
		if err != nil {
			return err
		}
		if !changed {
			if err := tx.PutCompany(&c); err != nil {
				return err
			}
		}
		u, err := tx.UserByEmail(email)
		switch {
		case errors.Is(err, store.ErrNotFound):
			if hash == "" {
				return fmt.Errorf("provision: user %s vanished while provisioning, retry", email)
			}
			u = store.User{Email: email, Role: RoleAdmin, PasswordHash: hash, CreatedAt: now}
		case err != nil:
			return err
		}
		u.CompanyID = c.ID
		u.Name = a.PersonName()
		if err := tx.PutUser(&u); err != nil {
			return err
		}
		out.Company, out.User = c, u
		return nil
	})
	if err != nil {
		return Provisioned{}, fmt.Errorf("provision company of WHMCS client %d: %w", a.Client.ID, err)
	}
	return out, nil
}

// MarkSuspended records that WHMCS reports the client's service suspended,
// for a company that already exists; a client never seen before is not
// created by a refused login.
func (p *Provisioner) MarkSuspended(ctx context.Context, a Account) error {
	return p.Store.Update(ctx, func(tx store.Tx) error {
		c, err := tx.CompanyByWHMCSClient(a.Client.ID)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		_, err = companies.SetStatus(tx, &c, store.StatusSuspended, "whmcs service Suspended", p.now())
		return err
	})
}

func (p *Provisioner) userExists(ctx context.Context, email string) bool {
	err := p.Store.View(ctx, func(tx store.Tx) error {
		_, err := tx.UserByEmail(email)
		return err
	})
	return err == nil
}

func (p *Provisioner) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

// DueDate keeps WHMCS's YYYY-MM-DD due date, dropping the "0000-00-00"
// placeholder WHMCS uses for "none".
func DueDate(nextDueDate string) string {
	if len(nextDueDate) < 10 || nextDueDate[:10] == "0000-00-00" {
		return ""
	}
	if _, err := time.Parse("2006-01-02", nextDueDate[:10]); err != nil {
		return ""
	}
	return nextDueDate[:10]
}

// randomPasswordHash is the password of a provisioned admin: nobody knows
// it, and only its hash is kept.
func randomPasswordHash() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("provision: reading random bytes: %w", err)
	}
	// bcrypt accepts at most 72 bytes; 32 random bytes are plenty.
	h, err := bcrypt.GenerateFromPassword(b[:], bcrypt.DefaultCost)
	if err != nil {
		return "", fmt.Errorf("provision: hashing: %w", err)
	}
	return string(h), nil
}
