package tickets

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"go.uber.org/zap"

	"github.com/rcchat/caddy-whmcs-auth/store"
)

// The sync states of a ticket link (store.TicketLink.SyncState).
const (
	// SyncOpen: the WHMCS ticket exists and no close was requested.
	SyncOpen = "open"
	// SyncClosing: a close job is queued (or parked as failed).
	SyncClosing = "closing"
	// SyncClosed: the transcript was posted and the WHMCS ticket closed.
	SyncClosed = "closed"
)

// linkView is the JSON form of a ticket link.
type linkView struct {
	TicketID      string    `json:"ticket_id"`
	WHMCSTicketID int64     `json:"whmcs_ticket_id"`
	WHMCSTID      string    `json:"whmcs_tid"`
	Protocol      string    `json:"protocol"`
	PanelLink     string    `json:"panel_link"`
	CompanyID     int64     `json:"company_id,omitempty"`
	WHMCSClientID int64     `json:"whmcs_client_id,omitempty"`
	SyncState     string    `json:"sync_state,omitempty"`
	CloseJob      *jobView  `json:"close_job,omitempty"`
	CreatedAt     time.Time `json:"created_at,omitzero"`
	UpdatedAt     time.Time `json:"updated_at,omitzero"`
}

// openedView is the answer of POST /sso/api/tickets: exactly the fields
// SPEC section 8 lists.
type openedView struct {
	TicketID      string `json:"ticket_id"`
	WHMCSTicketID int64  `json:"whmcs_ticket_id"`
	WHMCSTID      string `json:"whmcs_tid"`
	Protocol      string `json:"protocol"`
	PanelLink     string `json:"panel_link"`
}

// opened renders the answer of an open.
func (s *Service) opened(l *store.TicketLink) openedView {
	return openedView{TicketID: l.TicketID, WHMCSTicketID: l.WHMCSTicketID, WHMCSTID: l.WHMCSTID,
		Protocol: Protocol(l), PanelLink: s.panelLink(l.WHMCSTicketID)}
}

// Protocol is the value of {{protocolo}} for a linked ticket: the WHMCS
// ticket id (the database id that AddTicketReply, UpdateTicket and the
// admin panel link use), as SPEC section 8 defines it.
func Protocol(l *store.TicketLink) string { return strconv.FormatInt(l.WHMCSTicketID, 10) }

// panelLink is the admin link of a WHMCS ticket, empty without a PanelURL.
func (s *Service) panelLink(whmcsID int64) string {
	if s.panelURL == "" {
		return ""
	}
	return s.panelURL + strconv.FormatInt(whmcsID, 10)
}

// loadLink reads a link; found is false when there is none.
func (s *Service) loadLink(ctx context.Context, ticketID string) (l store.TicketLink, found bool, err error) {
	err = s.store.View(ctx, func(tx store.Tx) error {
		var err error
		l, err = tx.TicketLink(ticketID)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return store.TicketLink{}, false, nil
	}
	return l, err == nil, err
}

// handleGetTicket serves GET /sso/api/tickets/{ticket_id}: the link, its
// sync state and, while a close is pending or parked, its job.
func (s *Service) handleGetTicket(w http.ResponseWriter, r *http.Request) {
	id, err := checkTicketID("ticket_id", r.PathValue("ticket_id"))
	if err != nil {
		writeRequestError(w, err)
		return
	}
	var (
		link  store.TicketLink
		job   store.Job
		hasJb bool
	)
	err = s.store.View(r.Context(), func(tx store.Tx) error {
		var err error
		if link, err = tx.TicketLink(id); err != nil {
			return err
		}
		if link.CloseJobID == 0 || link.SyncState != SyncClosing {
			return nil
		}
		job, err = tx.Job(link.CloseJobID)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		hasJb = err == nil
		return err
	})
	if err != nil {
		s.writeLinkError(w, err, id)
		return
	}
	v := linkView{TicketID: link.TicketID, WHMCSTicketID: link.WHMCSTicketID, WHMCSTID: link.WHMCSTID,
		Protocol: Protocol(&link), PanelLink: s.panelLink(link.WHMCSTicketID), CompanyID: link.CompanyID,
		WHMCSClientID: link.WHMCSClientID, SyncState: link.SyncState, CreatedAt: link.CreatedAt, UpdatedAt: link.UpdatedAt}
	if hasJb {
		jv := newJobView(&job)
		v.CloseJob = &jv
	}
	writeJSON(w, http.StatusOK, v)
}

// writeLinkError answers a failed read of ticket id's link: 404 when there
// is none, 500 otherwise.
func (s *Service) writeLinkError(w http.ResponseWriter, err error, id string) {
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "not_found", "")
		return
	}
	s.writeInternal(w, "reading a ticket link", err, zap.String("ticket_id", id))
}
