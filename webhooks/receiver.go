package webhooks

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"

	"go.uber.org/zap"

	"github.com/rcchat/caddy-whmcs-auth/outbox"
	"github.com/rcchat/caddy-whmcs-auth/store"
	"github.com/rcchat/caddy-whmcs-auth/whmcsauth"
)

// MaxBodyBytes is the largest body accepted (64 KiB): a real event is a
// few hundred bytes, and the limit keeps an unauthenticated sender from
// making us buffer much before the signature is checked.
const MaxBodyBytes = 64 << 10

// Config wires a Receiver. Store is required; everything else has a
// usable zero value, except that without Secret and LegacyToken every
// request is refused.
type Config struct {
	// Store holds events, companies and outbox jobs.
	Store store.Store
	// WHMCS answers the confirmation job's questions; nil parks every
	// confirmation as failed (there is nobody to ask).
	WHMCS ConfirmAPI
	// Plans maps WHMCS product ids to plan names; events of other
	// products change nothing.
	Plans whmcsauth.Plans
	// Provisioner creates companies on AfterModuleCreate; nil means one
	// over Store.
	Provisioner *whmcsauth.Provisioner
	// Outbox runs the confirmation jobs. New registers the job handler
	// on it (so call New before the outbox's Run) and each accepted event
	// wakes it. Nil leaves both to the caller (see Register).
	Outbox *outbox.Outbox
	// Secret is the HMAC-SHA256 key of signed events (webhook_secret).
	Secret string
	// LegacyToken is RC-CHAT's shared token (webhook_token), accepted in
	// X-Whmcs-Webhook-Token or ?token=; empty disables it.
	LegacyToken string
	// Logger receives one line per event; nil discards.
	Logger *zap.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Metrics counts events; nil means private collectors.
	Metrics *Metrics
	// WHMCSWait bounds the WHMCS calls made before answering the few
	// events whose implied state only WHMCS can tell (InvoicePaid; an
	// AfterModuleCreate that provisions a company). Zero means
	// DefaultWHMCSWait; negative makes no such call, leaving them to the
	// confirmation job. Past it, the event is acknowledged anyway.
	WHMCSWait time.Duration
}

// Receiver serves POST /api/webhooks/whmcs and runs the confirmation
// jobs. It is safe for concurrent use.
type Receiver struct {
	store   store.Store
	plans   whmcsauth.Plans
	secret  string
	token   string
	outbox  *outbox.Outbox
	log     *zap.Logger
	now     func() time.Time
	metrics *Metrics
	sync    *syncer
	wait    time.Duration
}

var _ http.Handler = (*Receiver)(nil)

// New returns a Receiver for cfg and, when cfg.Outbox is set, registers
// the confirmation handler on it.
func New(cfg Config) (*Receiver, error) {
	if cfg.Store == nil {
		return nil, errors.New("webhooks: Config.Store is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Metrics == nil {
		cfg.Metrics = NewMetrics()
	}
	if cfg.WHMCSWait == 0 {
		cfg.WHMCSWait = DefaultWHMCSWait
	}
	if cfg.Provisioner == nil {
		cfg.Provisioner = &whmcsauth.Provisioner{Store: cfg.Store, Now: cfg.Now}
	}
	rc := &Receiver{
		store: cfg.Store, plans: cfg.Plans, secret: cfg.Secret, token: cfg.LegacyToken,
		outbox: cfg.Outbox, log: cfg.Logger, now: cfg.Now, metrics: cfg.Metrics, wait: cfg.WHMCSWait,
		sync: &syncer{store: cfg.Store, api: cfg.WHMCS, plans: cfg.Plans, prov: cfg.Provisioner,
			log: cfg.Logger, now: cfg.Now},
	}
	if cfg.Outbox != nil {
		rc.Register(cfg.Outbox)
	}
	return rc, nil
}

// ServeHTTP answers one webhook delivery. The order of the checks is
// deliberate: the body must be read (bounded) before the signature over it
// can be checked, and nothing about the body is interpreted before the
// sender is authenticated.
func (rc *Receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		rc.refuse(w, http.StatusMethodNotAllowed, "", "method_not_allowed", "method not allowed: use POST")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			rc.refuse(w, http.StatusRequestEntityTooLarge, "", "too_large", "body larger than 64 KiB")
			return
		}
		rc.refuse(w, http.StatusBadRequest, "", "malformed", "cannot read the body")
		return
	}
	if err := authenticate(r, body, rc.secret, rc.token, rc.now()); err != nil {
		rc.log.Warn("webhooks: refused an unauthenticated delivery", zap.String("reason", err.Error()),
			zap.String("remote", r.RemoteAddr))
		rc.refuse(w, http.StatusUnauthorized, "", "unauthorized", err.Error())
		return
	}
	in, err := DecodeEvent(body)
	if err != nil {
		rc.log.Warn("webhooks: malformed event", zap.String("reason", err.Error()))
		rc.refuse(w, http.StatusBadRequest, "", "malformed", err.Error())
		return
	}
	if in.Ignored {
		rc.count(in.Type, "ignored")
		rc.log.Debug("webhooks: ignored event", zap.String("event", in.Type))
		writeJSON(w, http.StatusOK, map[string]string{"status": "ignored"})
		return
	}
	if !in.Legacy && rc.seen(r, in.ID) {
		rc.count(in.Type, "duplicate")
		writeJSON(w, http.StatusOK, map[string]string{"status": "duplicate"})
		return
	}
	res, err := rc.ingest(r.Context(), in)
	if err != nil {
		rc.log.Error("webhooks: storing an event failed", zap.String("id", in.ID), zap.String("event", in.Type), zap.Error(err))
		rc.refuse(w, http.StatusServiceUnavailable, in.Type, "error", "the event could not be stored; retry")
		return
	}
	if res.duplicate {
		rc.count(in.Type, "duplicate")
		writeJSON(w, http.StatusOK, map[string]string{"status": "duplicate"})
		return
	}
	// The event and its confirmation are on disk. The few events whose
	// implied state only WHMCS can tell get it now, before the answer,
	// within a bounded wait; whatever WHMCS does, the answer is 200 and
	// the job finishes the work.
	rc.settle(r.Context(), in, &res)
	if res.jobID != 0 && rc.outbox != nil {
		rc.outbox.Notify()
	}
	rc.count(in.Type, "accepted")
	rc.log.Info("webhooks: event accepted", zap.String("id", res.id), zap.String("event", in.Type),
		zap.Int64("client", in.ClientID), zap.Int64("service", in.ServiceID), zap.Int64("product", in.ProductID),
		zap.Int64("invoice", in.InvoiceID), zap.Int64("company", res.companyID), zap.String("outcome", res.outcome),
		zap.Bool("legacy", in.Legacy))
	var id any = res.id
	if in.NumericID {
		id = json.RawMessage(res.id)
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "accepted", "id": id})
}

// seen is a read-only duplicate check ahead of the write transaction, so
// that redeliveries do not queue behind writers. The transaction checks
// again, which is what makes duplicates exact.
func (rc *Receiver) seen(r *http.Request, id string) bool {
	err := rc.store.View(r.Context(), func(tx store.Tx) error {
		_, err := tx.Event(id)
		return err
	})
	return err == nil
}

// refuse answers an error as {"error": msg}.
func (rc *Receiver) refuse(w http.ResponseWriter, status int, event, outcome, msg string) {
	rc.count(event, outcome)
	writeJSON(w, status, map[string]string{"error": msg})
}

func (rc *Receiver) count(event, outcome string) {
	rc.metrics.Events.WithLabelValues(eventLabel(event), outcome).Inc()
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}
