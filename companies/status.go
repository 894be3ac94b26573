// Package companies holds the rules for changing a company's access state,
// shared by every path that changes it (WHMCS events, the periodic sweep,
// RC-CHAT's companies API, logins), so they all have the same effect.
package companies

import (
	"time"

	"github.com/rcchat/caddy-whmcs-auth/store"
)

// SetStatus changes c's status inside tx. Cancelling a company also revokes
// every session that started before now (they are refused with 403 on their
// next request and stay revoked after a reactivation) and every refresh
// token of the company. It reports whether anything changed.
func SetStatus(tx store.Tx, c *store.Company, status store.CompanyStatus, reason string, now time.Time) (bool, error) {
	if c.Status == status {
		return false, nil
	}
	c.Status = status
	c.StatusReason = reason
	c.UpdatedAt = now
	if status == store.StatusCancelled {
		c.CancelledAt = now
		if err := tx.RevokeCompanyRefreshTokens(c.ID); err != nil {
			return false, err
		}
	}
	if err := tx.PutCompany(c); err != nil {
		return false, err
	}
	return true, nil
}

// StatusForService maps a WHMCS service status to the company status it
// implies: Active (and Completed) → active, Suspended → suspended,
// Terminated/Cancelled/Fraud → cancelled. Pending and unknown statuses
// imply nothing (ok is false).
func StatusForService(whmcsStatus string) (status store.CompanyStatus, ok bool) {
	switch whmcsStatus {
	case "Active", "Completed":
		return store.StatusActive, true
	case "Suspended":
		return store.StatusSuspended, true
	case "Terminated", "Cancelled", "Fraud":
		return store.StatusCancelled, true
	}
	return "", false
}
