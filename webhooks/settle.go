package webhooks

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/rcchat/caddy-whmcs-auth/companies"
	"github.com/rcchat/caddy-whmcs-auth/outbox"
	"github.com/rcchat/caddy-whmcs-auth/store"
	"github.com/rcchat/caddy-whmcs-auth/whmcsauth"
)

// DefaultWHMCSWait bounds the WHMCS calls the receiver makes before
// answering (see settle) when Config.WHMCSWait is zero. It is below the
// shipped hook's default timeout (3 s), so that WHMCS normally sees the
// answer.
const DefaultWHMCSWait = 2 * time.Second

// followUp is the WHMCS work an event needs, after it is stored and
// before it is answered, for its implied state to be applied.
type followUp uint8

const (
	followNone      followUp = iota
	followInvoice            // InvoicePaid: GetInvoice names the services to reactivate
	followClient             // InvoicePaid with a userid but no invoiceid: resync the client
	followProvision          // AfterModuleCreate of a mapped product, client without a company
)

// followUp decides, inside the ingest transaction, whether the event needs
// WHMCS before its answer. It is only called for events whose confirmation
// job was enqueued: that job is the fallback when WHMCS does not answer.
// Everything else (suspend, unsuspend, terminate of known companies,
// unmapped products, legacy bodies) is answered without calling WHMCS.
func (rc *Receiver) followUp(in Incoming, c *store.Company) followUp {
	switch {
	case in.Legacy:
		return followNone
	case in.Type == EventInvoicePaid && in.InvoiceID != 0:
		return followInvoice
	case in.Type == EventInvoicePaid:
		return followClient
	case in.Type == EventModuleCreate && c == nil:
		if _, mapped := rc.plans[in.ProductID]; mapped {
			return followProvision
		}
	}
	return followNone
}

// settle runs after the ingest transaction (event and confirmation job on
// disk) and before the answer. It asks WHMCS, within rc.wait, what the
// event's implied state depends on, and applies it, so that the 200 is
// written after the change is visible:
//
//   - InvoicePaid: GetInvoice; when WHMCS says the invoice is Paid, the
//     company of the invoice's client is set active if it follows one of
//     the invoice's Hosting services (or, following none yet, when one of
//     them is a mapped service of the client: ListClientServices), in one
//     transaction that also saves the invoice's services as the job's
//     invoice step, so the job does not ask for the invoice again.
//   - InvoicePaid without invoiceid: the client is resynced (its services
//     from WHMCS), as the job would.
//   - AfterModuleCreate of a mapped product for a client without a
//     company: the company is provisioned as the job would
//     (GetClientsProducts, GetClientsDetails, whmcsauth.Provisioner).
//
// Nothing here can fail the webhook: the event is already stored and its
// job queued. When WHMCS errors or is too slow, the work is simply left
// to the job (the implied state is then applied when WHMCS answers it).
// WHMCS refusing our credentials parks the job at once, as its own run
// would have, so that one event costs one failed authentication (WHMCS
// bans the IP after three). The WHMCS client never retries a call.
func (rc *Receiver) settle(ctx context.Context, in Incoming, res *ingestResult) {
	if res.follow == followNone || res.jobID == 0 || rc.sync.api == nil || rc.wait < 0 {
		return
	}
	if c, ok := rc.sync.api.(interface{ Configured() bool }); ok && !c.Configured() {
		return // no credentials: nobody to ask; the job handles it as it does today
	}
	log := rc.log.With(zap.String("id", res.id), zap.String("event", in.Type))
	// The bound is on WHMCS: each call ends by the deadline. The local
	// work once WHMCS has answered (a write, the Provisioner's hash) is
	// short and is not abandoned, nor is any of it when the sender hangs
	// up: the event is stored already and the work makes the job's cheaper.
	ctx = context.WithoutCancel(ctx)
	bounded := *rc.sync
	bounded.api = boundedAPI{api: rc.sync.api, deadline: time.Now().Add(rc.wait)}

	var outcome string
	var err error
	switch res.follow {
	case followInvoice:
		outcome, err = rc.settleInvoice(ctx, &bounded, in, res)
	case followClient:
		outcome, err = settleClient(ctx, &bounded, in)
	case followProvision:
		outcome, err = settleProvision(ctx, &bounded, in, log)
	}
	switch {
	case err == nil:
	case whmcsauth.IsAuth(err):
		if perr := rc.park(ctx, res.jobID, err); perr != nil {
			log.Error("webhooks: parking a confirmation failed", zap.Int64("job", res.jobID), zap.Error(perr))
		} else {
			rc.metrics.Confirmations.WithLabelValues("failed").Inc()
			log.Error("webhooks: WHMCS rejected the API credentials; the confirmation is parked for an operator",
				zap.Int64("job", res.jobID), zap.Error(err))
		}
		return
	default:
		log.Warn("webhooks: the event's WHMCS follow-up did not finish before the answer; the confirmation job applies it",
			zap.Int64("job", res.jobID), zap.Error(err))
		return
	}
	if outcome == "" || outcome == res.outcome {
		return
	}
	res.outcome = outcome
	if followInvoice == res.follow {
		return // settleInvoice stored it with the status
	}
	if err := rc.recordOutcome(ctx, res.id, outcome); err != nil {
		log.Warn("webhooks: recording an event outcome failed", zap.Error(err))
	}
}

// settleInvoice reads the invoice and applies what its payment implies.
// It returns the event's outcome.
func (rc *Receiver) settleInvoice(ctx context.Context, sy *syncer, in Incoming, res *ingestResult) (string, error) {
	inv, err := sy.api.GetInvoice(ctx, in.InvoiceID)
	unknown := whmcsauth.IsNotFound(err)
	if err != nil && !unknown {
		return "", err
	}
	ids := hostingServices(inv)
	clientID := inv.ClientID
	if clientID == 0 {
		clientID = in.ClientID
	}
	paid := strings.EqualFold(strings.TrimSpace(inv.Status), "Paid")
	// A company that follows no service yet is reactivated by a mapped
	// service of its client; only WHMCS knows a service's product.
	var mapped []int64
	if paid && len(ids) > 0 && clientID > 0 {
		c, found, err := rc.companyOf(ctx, clientID)
		if err != nil {
			return "", err
		}
		if found && c.WHMCSServiceID == 0 {
			services, err := sy.api.ListClientServices(ctx, clientID)
			if err != nil {
				return "", err
			}
			for _, s := range services {
				if _, ok := rc.plans[s.ProductID]; ok && slices.Contains(ids, s.ID) {
					mapped = append(mapped, s.ID)
				}
			}
		}
	}

	now := rc.now()
	reason := fmt.Sprintf("whmcs event %s (invoice %d)", EventInvoicePaid, in.InvoiceID)
	var outcome string
	err = rc.store.Update(ctx, func(tx store.Tx) error {
		outcome = ""
		job, err := tx.Job(res.jobID)
		if errors.Is(err, store.ErrNotFound) {
			outcome = outcomeConfirmedFirst // done already
			return nil
		}
		if err != nil {
			return err
		}
		if _, read := job.Steps[stepInvoice]; read {
			// The job read the invoice itself, in a run racing with this
			// request: it applies (or applied) WHMCS's state, which must
			// not be overwritten by the implied one.
			outcome = outcomeConfirmedFirst
			return nil
		}
		switch {
		case unknown:
			outcome = outcomeUnknownInvoice
		case !paid:
			outcome = outcomeUnpaid
		default:
			outcome, err = activatePaid(tx, clientID, ids, mapped, reason, now)
			if err != nil {
				return err
			}
		}
		if job.Steps == nil {
			job.Steps = map[string]string{}
		}
		job.Steps[stepInvoice] = joinIDs(ids)
		if err := tx.PutJob(&job); err != nil {
			return err
		}
		return setOutcome(tx, res.id, outcome)
	})
	if err != nil {
		return "", err
	}
	return outcome, nil
}

// activatePaid sets active the company of clientID when it follows one of
// the paid services, or follows none yet and one of them is mapped.
func activatePaid(tx store.Tx, clientID int64, ids, mapped []int64, reason string, now time.Time) (string, error) {
	if clientID <= 0 {
		return outcomeUnknownClient, nil
	}
	c, err := tx.CompanyByWHMCSClient(clientID)
	if errors.Is(err, store.ErrNotFound) {
		return outcomeUnknownClient, nil
	}
	if err != nil {
		return "", err
	}
	switch {
	case c.WHMCSServiceID != 0 && !slices.Contains(ids, c.WHMCSServiceID):
		return outcomeOtherService, nil
	case c.WHMCSServiceID == 0 && len(mapped) == 0:
		return outcomeOtherProduct, nil
	}
	changed, err := companies.SetStatus(tx, &c, store.StatusActive, reason, now)
	if err != nil {
		return "", err
	}
	if changed {
		return outcomeApplied, nil
	}
	return outcomeUnchanged, nil
}

// settleClient resyncs the client of an InvoicePaid that named no invoice.
func settleClient(ctx context.Context, sy *syncer, in Incoming) (string, error) {
	res, err := sy.client(ctx, in.ClientID, "whmcs event "+EventInvoicePaid+" without invoiceid", false)
	if err != nil {
		return "", err
	}
	switch res {
	case syncChanged:
		return outcomeApplied, nil
	case syncUnchanged:
		return outcomeUnchanged, nil
	case syncNoService:
		return outcomeNoService, nil
	}
	return outcomeUnknownClient, nil
}

// settleProvision provisions the company of a created mapped service.
func settleProvision(ctx context.Context, sy *syncer, in Incoming, log *zap.Logger) (string, error) {
	provisioned, err := sy.service(ctx, in.ServiceID, true, "whmcs event "+in.Type, log)
	if err != nil || !provisioned {
		return "", err
	}
	return outcomeProvisioned, nil
}

// companyOf reads the company of a WHMCS client.
func (rc *Receiver) companyOf(ctx context.Context, clientID int64) (store.Company, bool, error) {
	var c store.Company
	err := rc.store.View(ctx, func(tx store.Tx) error {
		var err error
		c, err = tx.CompanyByWHMCSClient(clientID)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return store.Company{}, false, nil
	}
	return c, err == nil, err
}

// park marks the still pending confirmation job as failed (outbox.Park):
// WHMCS refused our credentials, and its run would only add a failed
// authentication.
func (rc *Receiver) park(ctx context.Context, jobID int64, cause error) error {
	return rc.store.Update(ctx, func(tx store.Tx) error {
		return outbox.Park(tx, jobID, fmt.Errorf("before the answer: %w", cause))
	})
}

// recordOutcome replaces the stored outcome of an event.
func (rc *Receiver) recordOutcome(ctx context.Context, id, outcome string) error {
	return rc.store.Update(ctx, func(tx store.Tx) error { return setOutcome(tx, id, outcome) })
}

func setOutcome(tx store.Tx, id, outcome string) error {
	ev, err := tx.Event(id)
	if err != nil {
		return err
	}
	if ev.Outcome == outcome {
		return nil
	}
	ev.Outcome = outcome
	return tx.PutEvent(&ev)
}

// boundedAPI ends every WHMCS call by a deadline: the receiver's wait
// before answering.
type boundedAPI struct {
	api      ConfirmAPI
	deadline time.Time
}

var _ ConfirmAPI = boundedAPI{}

func (b boundedAPI) GetClientsProducts(ctx context.Context, req whmcsauth.GetClientsProductsRequest) (whmcsauth.ProductsPage, error) {
	ctx, cancel := context.WithDeadline(ctx, b.deadline)
	defer cancel()
	return b.api.GetClientsProducts(ctx, req)
}

func (b boundedAPI) ListClientServices(ctx context.Context, clientID int64) ([]whmcsauth.Service, error) {
	ctx, cancel := context.WithDeadline(ctx, b.deadline)
	defer cancel()
	return b.api.ListClientServices(ctx, clientID)
}

func (b boundedAPI) GetInvoice(ctx context.Context, invoiceID int64) (whmcsauth.Invoice, error) {
	ctx, cancel := context.WithDeadline(ctx, b.deadline)
	defer cancel()
	return b.api.GetInvoice(ctx, invoiceID)
}

func (b boundedAPI) GetClientsDetails(ctx context.Context, clientID int64, email string) (whmcsauth.ClientDetails, error) {
	ctx, cancel := context.WithDeadline(ctx, b.deadline)
	defer cancel()
	return b.api.GetClientsDetails(ctx, clientID, email)
}
