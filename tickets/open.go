package tickets

import (
	"context"
	"errors"
	"net/http"
	"net/mail"
	"strings"

	"go.uber.org/zap"

	"github.com/rcchat/caddy-whmcs-auth/store"
	"github.com/rcchat/caddy-whmcs-auth/whmcsauth"
)

// maxSubjectRunes keeps subjects within what WHMCS shows in its lists;
// longer ones are clipped rather than refused, since RC-CHAT may build the
// subject from a customer's first message.
const maxSubjectRunes = 255

// openRequest is a validated POST /sso/api/tickets body.
type openRequest struct {
	ticketID   string
	companyID  int64
	contact    contact
	subject    string
	message    string
	department int64
	priority   string
}

// contact is the RC-CHAT contact a ticket is opened for.
type contact struct {
	name  string
	email string
	phone string
}

// priorities are WHMCS's ticket priorities.
var priorities = []string{"Low", "Medium", "High"}

// parseOpen validates the body of an open.
func parseOpen(r *http.Request) (openRequest, error) {
	var req openRequest
	o, err := readObject(r, "ticket_id", "company_id", "contact", "subject", "message", "department_id", "priority")
	if err != nil {
		return req, err
	}
	if req.ticketID, err = o.ticketID("ticket_id"); err != nil {
		return req, err
	}
	if req.companyID, _, err = o.positiveInt("company_id", true); err != nil {
		return req, err
	}
	c, err := o.child("contact", "name", "email", "phone")
	if err != nil {
		return req, err
	}
	if req.contact, err = parseContact(c); err != nil {
		return req, err
	}
	subject, err := o.str("subject", true)
	if err != nil {
		return req, err
	}
	if req.subject = clip(oneLine(subject), maxSubjectRunes); req.subject == "" {
		return req, &fieldError{"subject", "must not be empty"}
	}
	if req.message, err = o.str("message", true); err != nil {
		return req, err
	}
	if req.department, _, err = o.positiveInt("department_id", false); err != nil {
		return req, err
	}
	p, err := o.str("priority", false)
	if err != nil {
		return req, err
	}
	req.priority = "Medium"
	if strings.TrimSpace(p) != "" {
		req.priority = ""
		for _, v := range priorities {
			if strings.EqualFold(v, strings.TrimSpace(p)) {
				req.priority = v
			}
		}
		if req.priority == "" {
			return req, &fieldError{"priority", "must be Low, Medium or High"}
		}
	}
	return req, nil
}

// parseContact validates contact{name,email,phone}. The e-mail is required:
// it is how the WHMCS client is found, and WHMCS needs it for a guest
// ticket. A missing name falls back to the e-mail's local part.
func parseContact(o *object) (contact, error) {
	var c contact
	email, err := o.str("email", true)
	if err != nil {
		return c, err
	}
	email = strings.TrimSpace(email)
	addr, perr := mail.ParseAddress(email)
	if perr != nil || addr.Address != email || len(email) > 254 || !strings.Contains(email[strings.LastIndexByte(email, '@'):], ".") {
		return c, &fieldError{o.name("email"), "must be a plain e-mail address"}
	}
	c.email = email
	name, err := o.str("name", false)
	if err != nil {
		return c, err
	}
	c.name = clip(oneLine(name), 100)
	if c.name == "" {
		c.name = email[:strings.IndexByte(email, '@')]
	}
	phone, err := o.str("phone", false)
	if err != nil {
		return c, err
	}
	c.phone = clip(oneLine(phone), 32)
	return c, nil
}

// handleOpen serves POST /sso/api/tickets.
func (s *Service) handleOpen(w http.ResponseWriter, r *http.Request) {
	if !s.ticketSync {
		writeError(w, http.StatusConflict, "ticket_sync_disabled", "")
		return
	}
	req, err := parseOpen(r)
	if err != nil {
		writeRequestError(w, err)
		return
	}
	// Once WHMCS is called, finish the job even if RC-CHAT hangs up: a
	// ticket opened in WHMCS but not stored would be duplicated by the
	// caller's retry, while a stored one makes the retry idempotent.
	ctx := context.WithoutCancel(r.Context())
	unlock, err := s.locks.lock(r.Context(), req.ticketID)
	if err != nil {
		// The caller went away while a duplicate request held the ticket.
		writeError(w, http.StatusServiceUnavailable, "request_cancelled", "")
		return
	}
	defer unlock()

	link, found, err := s.loadLink(ctx, req.ticketID)
	if err != nil {
		s.writeInternal(w, "reading a ticket link", err, zap.String("ticket_id", req.ticketID))
		return
	}
	if found {
		writeJSON(w, http.StatusOK, s.opened(&link))
		return
	}
	clientID, err := s.resolveClient(ctx, req.contact)
	if err != nil {
		s.writeWHMCSFailure(w, "finding the WHMCS client of a ticket", err, zap.String("ticket_id", req.ticketID))
		return
	}
	open := whmcsauth.OpenTicketRequest{DeptID: s.department, ClientID: clientID, Subject: req.subject,
		Message: req.message, Priority: req.priority}
	if req.department > 0 {
		open.DeptID = req.department
	}
	if clientID == 0 {
		open.Name, open.Email = req.contact.name, req.contact.email
	}
	t, err := s.whmcs.OpenTicket(ctx, open)
	if err != nil {
		s.writeWHMCSFailure(w, "opening a WHMCS ticket", err, zap.String("ticket_id", req.ticketID))
		return
	}
	now := s.now()
	link = store.TicketLink{TicketID: req.ticketID, CompanyID: req.companyID, WHMCSTicketID: t.ID, WHMCSTID: t.TID,
		WHMCSClientID: clientID, SyncState: SyncOpen, CreatedAt: now, UpdatedAt: now}
	stored, created, err := s.storeLink(ctx, link)
	if err != nil {
		// The WHMCS ticket exists but is not linked; say which one so an
		// operator can close the orphan if RC-CHAT's retry opens another.
		s.writeInternal(w, "storing a ticket link; the WHMCS ticket is orphaned", err,
			zap.String("ticket_id", req.ticketID), zap.Int64("whmcs_ticket_id", t.ID))
		return
	}
	if !created {
		// Another instance linked the ticket while WHMCS was answering us.
		s.log.Warn("sso api: ticket linked concurrently; the WHMCS ticket just opened is a duplicate",
			zap.String("ticket_id", req.ticketID), zap.Int64("duplicate_whmcs_ticket_id", t.ID),
			zap.Int64("whmcs_ticket_id", stored.WHMCSTicketID))
		writeJSON(w, http.StatusOK, s.opened(&stored))
		return
	}
	s.log.Info("sso api: WHMCS ticket opened", zap.String("ticket_id", req.ticketID),
		zap.Int64("whmcs_ticket_id", t.ID), zap.Int64("whmcs_client_id", clientID))
	writeJSON(w, http.StatusCreated, s.opened(&stored))
}

// storeLink writes l unless the ticket is already linked, in which case it
// returns the existing link and created=false. The check sits in the same
// transaction as the write, so two writers can never both create it.
func (s *Service) storeLink(ctx context.Context, l store.TicketLink) (stored store.TicketLink, created bool, err error) {
	err = s.store.Update(ctx, func(tx store.Tx) error {
		existing, err := tx.TicketLink(l.TicketID)
		switch {
		case err == nil:
			stored, created = existing, false
			return nil
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
		stored, created = l, true
		return tx.PutTicketLink(&stored)
	})
	return stored, created, err
}
