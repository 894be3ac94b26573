package tickets

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"go.uber.org/zap"

	"github.com/rcchat/caddy-whmcs-auth/outbox"
	"github.com/rcchat/caddy-whmcs-auth/store"
	"github.com/rcchat/caddy-whmcs-auth/whmcsauth"
)

// Job kinds run by the outbox for this package.
const (
	// JobTicketClose posts a transcript (AddTicketReply) and closes the
	// WHMCS ticket (UpdateTicket status=Closed).
	JobTicketClose = "ticket.close"
	// JobUpdateClient sets a WHMCS client's status (UpdateClient).
	JobUpdateClient = "whmcs.update_client"
)

// Step names; they are saved in store.Job.Steps, so renaming one would make
// queued jobs repeat it.
const (
	stepReplyAttempted = "reply_attempted"
	stepReply          = "reply"
	stepClose          = "close"
	stepUpdateClient   = "update_client"
)

// errNoWHMCS parks jobs when the Service has no WHMCS client configured.
var errNoWHMCS = errors.New("no WHMCS API client is configured")

// closeJob returns the JobTicketClose handler. Each WHMCS write is an
// outbox step, so a retry or a restart never repeats a finished one.
//
// A step can still be repeated when WHMCS stored the reply but its answer
// was lost (timeout, dropped connection) or the process died before the
// step was saved. To cover that, the job records that it is about to post,
// and any later attempt first reads the ticket (GetTicket) and looks for the
// transcript's unique Ref before posting again.
func (s *Service) closeJob(o *outbox.Outbox) outbox.Handler {
	return func(ctx context.Context, job *store.Job) error {
		var p closePayload
		if err := json.Unmarshal(job.Payload, &p); err != nil || p.WHMCSTicketID <= 0 {
			return outbox.Permanent(fmt.Errorf("ticket.close job %d: unreadable payload", job.ID))
		}
		if s.whmcs == nil {
			return outbox.Permanent(errNoWHMCS)
		}
		_, err := o.Step(ctx, job, stepReply, func() (string, error) { return s.postTranscript(ctx, o, job, &p) })
		if err != nil {
			return s.jobError(job, err)
		}
		_, err = o.Step(ctx, job, stepClose, func() (string, error) {
			return "done", s.whmcs.UpdateTicketStatus(ctx, p.WHMCSTicketID, "Closed")
		})
		if err != nil {
			return s.jobError(job, err)
		}
		// Last, and idempotent: a failure here retries only this write.
		return s.markClosed(ctx, p.TicketID, job.ID)
	}
}

// postTranscript performs the reply step.
func (s *Service) postTranscript(ctx context.Context, o *outbox.Outbox, job *store.Job, p *closePayload) (string, error) {
	_, retry := job.Steps[stepReplyAttempted]
	if !retry {
		if _, err := o.Step(ctx, job, stepReplyAttempted, func() (string, error) { return "1", nil }); err != nil {
			return "", err
		}
	}
	req := whmcsauth.AddTicketReplyRequest{TicketID: p.WHMCSTicketID, Message: p.Transcript, NoEmail: true}
	// The reply is posted as the ticket's owner: its client, or for a guest
	// ticket the guest's name and e-mail, which only GetTicket knows
	// (the link does not keep the contact).
	if p.WHMCSClientID > 0 {
		req.ClientID = p.WHMCSClientID
	}
	if retry || p.WHMCSClientID == 0 {
		t, err := s.whmcs.GetTicket(ctx, p.WHMCSTicketID)
		if err != nil {
			return "", err
		}
		if retry && p.Ref != "" {
			for _, r := range t.Replies {
				if strings.Contains(r.Message, p.Ref) {
					s.log.Info("outbox: transcript already in WHMCS from an earlier attempt; not posting it again",
						zap.Int64("job", job.ID), zap.Int64("whmcs_ticket_id", p.WHMCSTicketID))
					return "found", nil
				}
			}
		}
		if p.WHMCSClientID == 0 {
			req.Name, req.Email = t.Name, t.Email
			if req.Name == "" || req.Email == "" {
				req.Name, req.Email = "RC-CHAT", t.Email
			}
		}
	}
	if err := s.whmcs.AddTicketReply(ctx, req); err != nil {
		return "", err
	}
	return "posted", nil
}

// markClosed records that the close finished.
func (s *Service) markClosed(ctx context.Context, ticketID string, jobID int64) error {
	return s.store.Update(ctx, func(tx store.Tx) error {
		l, err := tx.TicketLink(ticketID)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if l.CloseJobID != jobID {
			return nil // a newer close job owns the link now
		}
		l.SyncState, l.UpdatedAt = SyncClosed, s.now()
		return tx.PutTicketLink(&l)
	})
}

// updateClientPayload is the JobUpdateClient payload.
type updateClientPayload struct {
	CompanyID     int64  `json:"company_id"`
	WHMCSClientID int64  `json:"whmcs_client_id"`
	Status        string `json:"status"`
}

// updateClientJob returns the JobUpdateClient handler.
func (s *Service) updateClientJob(o *outbox.Outbox) outbox.Handler {
	return func(ctx context.Context, job *store.Job) error {
		var p updateClientPayload
		if err := json.Unmarshal(job.Payload, &p); err != nil || p.WHMCSClientID <= 0 || p.Status == "" {
			return outbox.Permanent(fmt.Errorf("whmcs.update_client job %d: unreadable payload", job.ID))
		}
		if s.whmcs == nil {
			return outbox.Permanent(errNoWHMCS)
		}
		_, err := o.Step(ctx, job, stepUpdateClient, func() (string, error) {
			return "done", s.whmcs.UpdateClientStatus(ctx, p.WHMCSClientID, p.Status)
		})
		return s.jobError(job, err)
	}
}

// jobError classifies a failed step for the outbox. Refused credentials
// are permanent: retrying them gets WHMCS to ban our IP, so the job is
// parked for an operator after this single call. WHMCS refusing the
// request itself ("Ticket ID not found") is permanent too, since a retry
// gets the same answer. Everything else (transport failures, the store)
// is retried with backoff.
func (s *Service) jobError(job *store.Job, err error) error {
	switch {
	case err == nil:
		return nil
	case whmcsauth.IsAuth(err):
		s.log.Error("outbox: WHMCS refused the API credentials; job parked until an operator retries it",
			zap.String("kind", job.Kind), zap.Int64("job", job.ID), zap.Error(err))
		return outbox.Permanent(err)
	case whmcsauth.IsBusiness(err):
		return outbox.Permanent(err)
	default:
		return err
	}
}
