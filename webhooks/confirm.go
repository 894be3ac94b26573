package webhooks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/rcchat/caddy-whmcs-auth/companies"
	"github.com/rcchat/caddy-whmcs-auth/outbox"
	"github.com/rcchat/caddy-whmcs-auth/store"
	"github.com/rcchat/caddy-whmcs-auth/whmcsauth"
)

// JobKind is the outbox job kind of event confirmations.
const JobKind = "webhook.confirm"

// ConfirmAPI is the part of the WHMCS API that confirmations and the
// sweep read; *whmcsauth.Client implements it.
type ConfirmAPI interface {
	GetClientsProducts(ctx context.Context, req whmcsauth.GetClientsProductsRequest) (whmcsauth.ProductsPage, error)
	ListClientServices(ctx context.Context, clientID int64) ([]whmcsauth.Service, error)
	GetInvoice(ctx context.Context, invoiceID int64) (whmcsauth.Invoice, error)
	GetClientsDetails(ctx context.Context, clientID int64, email string) (whmcsauth.ClientDetails, error)
}

var _ ConfirmAPI = (*whmcsauth.Client)(nil)

// Register sets the confirmation handler on o. New does it for
// Config.Outbox; call it yourself for another outbox, before o.Run.
func (rc *Receiver) Register(o *outbox.Outbox) {
	o.Register(JobKind, func(ctx context.Context, job *store.Job) error {
		err := rc.confirm(ctx, o, job)
		switch {
		case err == nil:
			rc.metrics.Confirmations.WithLabelValues("confirmed").Inc()
		case outbox.IsPermanent(err):
			rc.metrics.Confirmations.WithLabelValues("failed").Inc()
		default:
			rc.metrics.Confirmations.WithLabelValues("retry").Inc()
		}
		return err
	})
}

// confirm runs one confirmation job. Errors are classified for the
// outbox: WHMCS refusing our credentials and WHMCS's own "no" are
// permanent (retrying cannot fix them, and failed authentications get our
// IP banned); transport and storage errors are retried with backoff while
// the implied state stays in place.
func (rc *Receiver) confirm(ctx context.Context, o *outbox.Outbox, job *store.Job) error {
	var p confirmPayload
	if err := json.Unmarshal(job.Payload, &p); err != nil {
		return outbox.Permanent(fmt.Errorf("webhooks: decoding confirmation payload: %w", err))
	}
	if rc.sync.api == nil {
		return outbox.Permanent(errors.New("webhooks: no WHMCS API configured to confirm events"))
	}
	log := rc.log.With(zap.String("event_id", p.EventID), zap.String("event", p.Event))
	var err error
	switch {
	case p.Event == EventInvoicePaid && p.InvoiceID != 0:
		err = rc.confirmInvoice(ctx, o, job, p, log)
	case p.Legacy, p.Event == EventInvoicePaid:
		// A legacy body, or an InvoicePaid that named only the client:
		// resync the whole client.
		var res syncResult
		res, err = rc.sync.client(ctx, p.ClientID, "whmcs confirm of "+confirmWhat(p), false)
		if err == nil {
			log.Info("webhooks: event confirmed by a client resync", zap.Int64("client", p.ClientID), zap.String("result", res.String()))
		}
	default:
		_, err = rc.sync.service(ctx, p.ServiceID, p.Event == EventModuleCreate, "whmcs confirm of "+p.Event, log)
	}
	return classify(err)
}

// confirmWhat names a client-resync confirmation in status reasons.
func confirmWhat(p confirmPayload) string {
	if p.Legacy {
		return "legacy event"
	}
	return p.Event + " without invoiceid"
}

// stepInvoice is the confirmation step that saves an invoice's service
// ids. The receiver saves it itself when it read the invoice before
// answering, so the job does not ask WHMCS again.
const stepInvoice = "invoice"

// hostingServices lists the service ids an invoice bills: the relid of
// its Hosting lines, each once, in invoice order.
func hostingServices(inv whmcsauth.Invoice) []int64 {
	var ids []int64
	seen := map[int64]bool{}
	for _, it := range inv.Items {
		if strings.EqualFold(it.Type, "Hosting") && it.RelID > 0 && !seen[it.RelID] {
			seen[it.RelID] = true
			ids = append(ids, it.RelID)
		}
	}
	return ids
}

// joinIDs is the saved form of stepInvoice: ids separated by commas.
func joinIDs(ids []int64) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.FormatInt(id, 10)
	}
	return strings.Join(s, ",")
}

// confirmInvoice reactivates what a paid invoice bills: its Hosting
// lines are service ids. Each step is saved, so a retry after WHMCS
// failed half-way does not ask again about what is already confirmed.
func (rc *Receiver) confirmInvoice(ctx context.Context, o *outbox.Outbox, job *store.Job, p confirmPayload, log *zap.Logger) error {
	list, err := o.Step(ctx, job, stepInvoice, func() (string, error) {
		inv, err := rc.sync.api.GetInvoice(ctx, p.InvoiceID)
		if whmcsauth.IsNotFound(err) {
			log.Warn("webhooks: paid invoice not found in WHMCS", zap.Int64("invoice", p.InvoiceID))
			return "", nil
		}
		if err != nil {
			return "", err
		}
		return joinIDs(hostingServices(inv)), nil
	})
	if err != nil {
		return err
	}
	for _, s := range strings.Split(list, ",") {
		sid, _ := strconv.ParseInt(s, 10, 64)
		if sid <= 0 {
			continue
		}
		_, err := o.Step(ctx, job, "service:"+s, func() (string, error) {
			_, err := rc.sync.service(ctx, sid, false, fmt.Sprintf("whmcs confirm of invoice %d", p.InvoiceID), log)
			return "confirmed", err
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// classify maps an error to what the outbox should do with it.
func classify(err error) error {
	switch {
	case err == nil:
		return nil
	case whmcsauth.IsAuth(err), whmcsauth.IsBusiness(err):
		return outbox.Permanent(err)
	}
	return err
}

// syncer reads WHMCS and applies its truth; shared by the confirmation
// jobs and the sweep so both follow the same rules.
type syncer struct {
	store store.Store
	api   ConfirmAPI
	plans whmcsauth.Plans
	prov  *whmcsauth.Provisioner
	log   *zap.Logger
	now   func() time.Time
}

// service confirms one service: GetClientsProducts(serviceid) gives its
// status, product and due date, which become the company's. A service of
// an unmapped product is ignored; when the company follows another of the
// client's services, the whole client is resynced instead so that the
// rule for picking its service stays in one place. With provision set, a
// client without a company gets one (AfterModuleCreate); provisioned
// reports that it was created (or found created) by the Provisioner.
func (s *syncer) service(ctx context.Context, serviceID int64, provision bool, reason string, log *zap.Logger) (provisioned bool, err error) {
	page, err := s.api.GetClientsProducts(ctx, whmcsauth.GetClientsProductsRequest{ServiceID: serviceID})
	if err != nil {
		return false, err
	}
	var svc whmcsauth.Service
	for _, row := range page.Services {
		if row.ID == serviceID {
			svc = row
		}
	}
	if svc.ID == 0 {
		log.Warn("webhooks: service not found in WHMCS; nothing to confirm", zap.Int64("service", serviceID))
		return false, nil
	}
	plan, mapped := s.plans[svc.ProductID]
	var needProvision, needResync bool
	var outcome string
	err = s.store.Update(ctx, func(tx store.Tx) error {
		needProvision, needResync, outcome = false, false, ""
		c, err := tx.CompanyByWHMCSClient(svc.ClientID)
		switch {
		case errors.Is(err, store.ErrNotFound):
			needProvision = provision && mapped
			outcome = "no company"
			return nil
		case err != nil:
			return err
		case !mapped:
			// Not an RC-CHAT product. It matters only when it is the
			// service the company follows (a package change moved it off
			// every plan): then another mapped service may take over.
			needResync = c.WHMCSServiceID == svc.ID
			outcome = "product not mapped"
			return nil
		case c.WHMCSServiceID != 0 && c.WHMCSServiceID != svc.ID:
			needResync = true
			return nil
		}
		changed, err := applyService(tx, &c, svc, plan, reason, s.now())
		outcome = "unchanged"
		if changed {
			outcome = "changed"
		}
		return err
	})
	if err != nil {
		return false, err
	}
	switch {
	case needProvision:
		return s.provision(ctx, svc, plan, log)
	case needResync:
		res, err := s.client(ctx, svc.ClientID, reason, false)
		if err == nil {
			log.Info("webhooks: client resynced", zap.Int64("client", svc.ClientID), zap.Int64("service", svc.ID),
				zap.String("result", res.String()))
		}
		return false, err
	}
	log.Info("webhooks: event confirmed", zap.Int64("service", svc.ID), zap.Int64("client", svc.ClientID),
		zap.String("whmcs_status", svc.Status), zap.Int64("product", svc.ProductID), zap.String("result", outcome))
	return false, nil
}

// provision creates the company of a newly created service, ahead of the
// client's first login, with the same Provisioner a login uses (whose
// per-client lock and single write transaction, with the store's one
// company per WHMCS client, keep it exactly-once however many provisionings
// and logins race). WHMCS is called before the Provisioner takes the
// state file's write lock, never while it holds it.
func (s *syncer) provision(ctx context.Context, svc whmcsauth.Service, plan string, log *zap.Logger) (bool, error) {
	if st, ok := companies.StatusForService(svc.Status); !ok || st != store.StatusActive {
		log.Info("webhooks: created service is not active; not provisioning", zap.Int64("service", svc.ID),
			zap.String("whmcs_status", svc.Status))
		return false, nil
	}
	client, err := s.api.GetClientsDetails(ctx, svc.ClientID, "")
	if whmcsauth.IsNotFound(err) {
		log.Warn("webhooks: client of a created service not found", zap.Int64("client", svc.ClientID))
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if strings.EqualFold(client.Status, "Closed") {
		log.Info("webhooks: client is closed; not provisioning", zap.Int64("client", client.ID))
		return false, nil
	}
	out, err := s.prov.Provision(ctx, whmcsauth.Account{Client: client, Service: svc, Plan: plan})
	if err != nil {
		return false, err
	}
	log.Info("webhooks: company provisioned from AfterModuleCreate", zap.Int64("company", out.Company.ID),
		zap.Int64("client", client.ID), zap.Int64("service", svc.ID), zap.String("plan", plan), zap.Bool("created", out.Created))
	return true, nil
}

// syncResult says what a client resync did.
type syncResult int

const (
	syncNoCompany syncResult = iota
	syncNoService
	syncUnchanged
	syncChanged
)

// String names the result for logs and metrics.
func (r syncResult) String() string {
	return [...]string{"no_company", "no_service", "unchanged", "changed"}[r]
}

// client resyncs a client's company from all its services (paged by
// ListClientServices), picking the one the company should follow. A client
// with no mapped service keeps its state: an empty answer cannot be told
// from a service deleted by mistake, and cancelling is not undoable for
// open sessions. mark records the sweep's LastReconciledAt.
func (s *syncer) client(ctx context.Context, clientID int64, reason string, mark bool) (syncResult, error) {
	if clientID <= 0 {
		return syncNoCompany, nil
	}
	services, err := s.api.ListClientServices(ctx, clientID)
	if err != nil {
		return 0, err
	}
	var res syncResult
	err = s.store.Update(ctx, func(tx store.Tx) error {
		c, err := tx.CompanyByWHMCSClient(clientID)
		if errors.Is(err, store.ErrNotFound) {
			res = syncNoCompany
			return nil
		}
		if err != nil {
			return err
		}
		now := s.now()
		svc, ok := pickService(services, s.plans, c.WHMCSServiceID)
		res = syncNoService
		if ok {
			changed, err := applyService(tx, &c, svc, s.plans[svc.ProductID], reason, now)
			if err != nil {
				return err
			}
			res = syncUnchanged
			if changed {
				res = syncChanged
			}
		}
		if mark {
			c.LastReconciledAt = now
			return tx.PutCompany(&c)
		}
		return nil
	})
	return res, err
}

// pickService chooses the service a company follows among the client's
// services of mapped products: the followed one while it is active, else
// the newest active one (a login with it would succeed, so the company
// must not stay blocked), else the followed one, else the newest
// suspended one, else the newest. "Newest" is the login's rule: latest
// registration date, then highest id.
func pickService(services []whmcsauth.Service, plans whmcsauth.Plans, followed int64) (whmcsauth.Service, bool) {
	var mapped []whmcsauth.Service
	for _, s := range services {
		if _, ok := plans[s.ProductID]; ok {
			mapped = append(mapped, s)
		}
	}
	if len(mapped) == 0 {
		return whmcsauth.Service{}, false
	}
	sort.SliceStable(mapped, func(i, j int) bool {
		if mapped[i].RegDate != mapped[j].RegDate {
			return mapped[i].RegDate > mapped[j].RegDate
		}
		return mapped[i].ID > mapped[j].ID
	})
	status := func(s whmcsauth.Service) store.CompanyStatus {
		st, _ := companies.StatusForService(s.Status)
		return st
	}
	for _, pass := range []func(whmcsauth.Service) bool{
		func(s whmcsauth.Service) bool { return s.ID == followed && status(s) == store.StatusActive },
		func(s whmcsauth.Service) bool { return status(s) == store.StatusActive },
		func(s whmcsauth.Service) bool { return s.ID == followed },
		func(s whmcsauth.Service) bool { return status(s) == store.StatusSuspended },
	} {
		for _, s := range mapped {
			if pass(s) {
				return s, true
			}
		}
	}
	return mapped[0], true
}
