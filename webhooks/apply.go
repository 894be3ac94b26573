package webhooks

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rcchat/caddy-whmcs-auth/companies"
	"github.com/rcchat/caddy-whmcs-auth/outbox"
	"github.com/rcchat/caddy-whmcs-auth/store"
	"github.com/rcchat/caddy-whmcs-auth/whmcsauth"
)

// Outcomes of ingestion, stored on the event and used as log fields. They
// say what the event did to the company before it was acknowledged; the
// confirmation job may still change the company to WHMCS's state.
const (
	outcomeApplied        = "applied"          // the implied status (or plan) was written
	outcomeUnchanged      = "unchanged"        // the company already was in that state
	outcomeNoStatus       = "awaiting-whmcs"   // InvoicePaid: WHMCS did not name the invoice's services before the answer; the confirmation job applies it
	outcomeUnknownClient  = "unknown-client"   // no company for the client (yet)
	outcomeOtherProduct   = "other-product"    // pid not mapped to a plan (or no mapped service on the paid invoice): not an RC-CHAT service
	outcomeOtherService   = "other-service"    // a mapped service the company does not follow
	outcomeUnknownService = "unknown-service"  // no pid and not the followed service: WHMCS will tell
	outcomeProvisioned    = "provisioned"      // AfterModuleCreate: the company was created from WHMCS before the answer
	outcomeUnpaid         = "invoice-not-paid" // InvoicePaid: WHMCS says the invoice is not Paid, so nothing is implied
	outcomeUnknownInvoice = "unknown-invoice"  // InvoicePaid: WHMCS does not know the invoice
	outcomeNoService      = "no-service"       // InvoicePaid by client: WHMCS lists no mapped service for it
	outcomeConfirmedFirst = "confirmed"        // the confirmation job read WHMCS first; its state stands
)

// ingestResult is what one ingestion decided.
type ingestResult struct {
	id        string
	duplicate bool
	outcome   string
	companyID int64
	jobID     int64
	// follow is the WHMCS work the event needs before its answer (see
	// settle); followNone for most events.
	follow followUp
}

// confirmPayload is the outbox job of one event: what to ask WHMCS.
type confirmPayload struct {
	EventID   string `json:"event_id"`
	Event     string `json:"event"`
	ClientID  int64  `json:"client_id,omitempty"`
	ServiceID int64  `json:"service_id,omitempty"`
	ProductID int64  `json:"product_id,omitempty"`
	InvoiceID int64  `json:"invoice_id,omitempty"`
	Legacy    bool   `json:"legacy,omitempty"`
}

// impliedStatus is the status an event implies, "" for none.
func impliedStatus(typ string) store.CompanyStatus {
	switch typ {
	case EventModuleCreate, EventModuleUnsuspend:
		return store.StatusActive
	case EventModuleSuspend:
		return store.StatusSuspended
	case EventModuleTerminate:
		return store.StatusCancelled
	}
	return ""
}

// ingest stores the event, applies what it implies and enqueues its
// confirmation, all in one Batch transaction, so that a nil error means
// all three are on disk. Batch may run the function more than once, so
// it starts from scratch each time and touches nothing outside tx.
func (rc *Receiver) ingest(ctx context.Context, in Incoming) (ingestResult, error) {
	now := rc.now()
	var res ingestResult
	err := rc.store.Batch(ctx, func(tx store.Tx) error {
		res = ingestResult{}
		return rc.ingestTx(tx, in, now, &res)
	})
	if err != nil {
		return ingestResult{}, err
	}
	return res, nil
}

func (rc *Receiver) ingestTx(tx store.Tx, in Incoming, now time.Time, res *ingestResult) error {
	var company *store.Company
	if in.ClientID != 0 {
		c, err := tx.CompanyByWHMCSClient(in.ClientID)
		switch {
		case err == nil:
			company = &c
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
	}
	target := impliedStatus(in.Type)

	res.id = in.ID
	var gen int
	if in.Legacy {
		id, g, dup, err := legacyGeneration(tx, in, company, target)
		if err != nil {
			return err
		}
		res.id, gen = id, g
		if dup {
			res.duplicate = true
			return nil
		}
	}
	switch _, err := tx.Event(res.id); {
	case err == nil:
		res.duplicate = true
		return nil
	case !errors.Is(err, store.ErrNotFound):
		return err
	}

	ev := store.Event{
		ID: res.id, Type: in.Type, ServiceID: in.ServiceID, ClientID: in.ClientID,
		ProductID: in.ProductID, InvoiceID: in.InvoiceID, OccurredAt: in.OccurredAt, ReceivedAt: now,
	}
	outcome, err := rc.applyImplied(tx, in, company, target, now)
	if err != nil {
		return err
	}
	ev.Outcome = outcome
	if in.Legacy {
		ev.Outcome = "legacy " + in.LegacyStatus + ": " + outcome
		if err := putLegacyHead(tx, in, gen, &ev); err != nil {
			return err
		}
	}
	if err := tx.PutEvent(&ev); err != nil {
		return err
	}
	res.outcome = outcome
	if company != nil {
		res.companyID = company.ID
	}
	if !rc.needsConfirmation(in, company) {
		return nil
	}
	job, err := outbox.Enqueue(tx, JobKind, "webhook:"+res.id, confirmPayload{
		EventID: res.id, Event: in.Type, ClientID: in.ClientID, ServiceID: in.ServiceID,
		ProductID: in.ProductID, InvoiceID: in.InvoiceID, Legacy: in.Legacy,
	}, now)
	if err != nil {
		return err
	}
	res.jobID = job.ID
	res.follow = rc.followUp(in, company)
	return nil
}

// needsConfirmation skips the WHMCS round trip for events of products
// that are not RC-CHAT's, which on a busy WHMCS are most module events
// (provisioning included: only mapped products get a company). A package
// change of the service a company follows is still confirmed: it may have
// moved the service off every mapped product.
func (rc *Receiver) needsConfirmation(in Incoming, c *store.Company) bool {
	if in.Type == EventInvoicePaid && in.InvoiceID == 0 {
		return c != nil // paid "something" of a client: only a company can follow it
	}
	if in.Legacy || in.Type == EventInvoicePaid || in.ProductID == 0 {
		return true
	}
	if _, mapped := rc.plans[in.ProductID]; mapped {
		return true
	}
	return c != nil && c.WHMCSServiceID != 0 && c.WHMCSServiceID == in.ServiceID
}

// applyImplied writes the state the event implies to the company, within
// the ingest transaction. See the package documentation for why an event
// about another product or service leaves the company alone. InvoicePaid
// implies nothing yet: only WHMCS knows which services the invoice billed,
// and settle applies it once WHMCS has said (after this transaction,
// before the answer).
func (rc *Receiver) applyImplied(tx store.Tx, in Incoming, c *store.Company, target store.CompanyStatus, now time.Time) (string, error) {
	if in.Type == EventInvoicePaid {
		return outcomeNoStatus, nil
	}
	if c == nil {
		return outcomeUnknownClient, nil
	}
	followed := c.WHMCSServiceID == 0 || c.WHMCSServiceID == in.ServiceID
	plan, mapped := rc.plans[in.ProductID]
	if !in.Legacy {
		switch {
		case in.ProductID != 0 && !mapped:
			return outcomeOtherProduct, nil
		case in.ProductID == 0 && (c.WHMCSServiceID == 0 || c.WHMCSServiceID != in.ServiceID):
			return outcomeUnknownService, nil
		case !followed && target != store.StatusActive:
			return outcomeOtherService, nil
		}
	}
	reason := "whmcs event " + in.Type
	if in.Legacy {
		reason = "whmcs legacy event " + in.LegacyStatus
	}
	changed := false
	if target != "" {
		ch, err := companies.SetStatus(tx, c, target, reason, now)
		if err != nil {
			return "", err
		}
		changed = ch
	}
	// A package change names the new product; the plan follows at once
	// for the service the company follows. Legacy bodies are not trusted
	// with this (RC-CHAT's sender mixes up serviceid and pid).
	dirty := false
	if !in.Legacy && followed {
		if c.WHMCSServiceID == 0 && in.ServiceID != 0 {
			c.WHMCSServiceID = in.ServiceID
			dirty = true
		}
		if in.Type == EventModuleChangePackage && mapped && c.Plan != plan {
			c.Plan = plan
			dirty = true
		}
	}
	if dirty {
		c.UpdatedAt = now
		if err := tx.PutCompany(c); err != nil {
			return "", err
		}
		changed = true
	}
	if changed {
		return outcomeApplied, nil
	}
	return outcomeUnchanged, nil
}

// applyService makes c match one WHMCS service: status (when the service
// status implies one; Pending implies none), plan, due date and the
// service it follows. It reports whether anything changed.
func applyService(tx store.Tx, c *store.Company, svc whmcsauth.Service, plan, reason string, now time.Time) (bool, error) {
	changed := false
	if st, ok := companies.StatusForService(svc.Status); ok {
		ch, err := companies.SetStatus(tx, c, st, fmt.Sprintf("%s: whmcs service %d %s", reason, svc.ID, svc.Status), now)
		if err != nil {
			return false, err
		}
		changed = ch
	}
	dirty := false
	if plan != "" && c.Plan != plan {
		c.Plan = plan
		dirty = true
	}
	if due := whmcsauth.DueDate(svc.NextDueDate); c.DueDate != due {
		c.DueDate = due
		dirty = true
	}
	if c.WHMCSServiceID != svc.ID {
		c.WHMCSServiceID = svc.ID
		dirty = true
	}
	if dirty {
		c.UpdatedAt = now
		if err := tx.PutCompany(c); err != nil {
			return false, err
		}
	}
	return changed || dirty, nil
}
