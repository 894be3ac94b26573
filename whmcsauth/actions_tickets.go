package whmcsauth

import (
	"context"
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
)

// OpenTicketRequest is the input of OpenTicket. Either ClientID, or Name and
// Email for a guest, identifies who opens it.
type OpenTicketRequest struct {
	// DeptID is the WHMCS support department (required).
	DeptID int64
	// ClientID opens the ticket as this client; 0 opens it as a guest.
	ClientID int64
	// Name is the guest's name (ignored when ClientID is set).
	Name string
	// Email is the guest's e-mail (ignored when ClientID is set).
	Email string
	// Subject is required.
	Subject string
	// Message is the first message (required), sent raw: WHMCS escapes it.
	Message string
	// Priority is Low, Medium or High; empty leaves WHMCS's default.
	Priority string
	// NoEmail suppresses the e-mail WHMCS would send about the new ticket.
	NoEmail bool
}

// OpenedTicket identifies a new ticket.
type OpenedTicket struct {
	// ID is the database id used by AddTicketReply, UpdateTicket, GetTicket
	// and the admin link (…viewticket&id=ID).
	ID int64
	// TID is the public ticket number shown to the customer.
	TID string
	// AccessKey is the client-area access code ("c").
	AccessKey string
}

// AddTicketReplyRequest is the input of AddTicketReply. The author is
// AdminUsername if set, else ClientID if set, else Name and Email.
type AddTicketReplyRequest struct {
	// TicketID is the database id (OpenedTicket.ID), not the public TID.
	TicketID int64
	// ClientID posts the reply as this client.
	ClientID int64
	// Name is a guest author's name.
	Name string
	// Email is a guest author's e-mail.
	Email string
	// AdminUsername posts the reply as this WHMCS admin.
	AdminUsername string
	// Message is the reply text (required), sent raw.
	Message string
	// NoEmail suppresses the notification e-mail.
	NoEmail bool
}

// Ticket is the part of GetTicket the sidecar needs. Text is entity-decoded.
type Ticket struct {
	// ID is the database id.
	ID int64
	// TID is the public ticket number.
	TID string
	// DeptID is the department.
	DeptID int64
	// ClientID is the owning client, 0 for a guest ticket.
	ClientID int64
	// Status is Open, Answered, Customer-Reply, On Hold, In Progress, Closed
	// or a custom status.
	Status string
	// Priority is Low, Medium or High.
	Priority string
	// Subject is the ticket subject.
	Subject string
	// Name is the opener's name.
	Name string
	// Email is the opener's e-mail.
	Email string
	// Replies start with the original message (WHMCS lists it as reply 0).
	Replies []TicketReply
}

// TicketReply is one message of a ticket.
type TicketReply struct {
	// Name is the author's name; empty for admin replies.
	Name string
	// Email is the author's e-mail; empty for admin replies.
	Email string
	// Admin is the admin's name for admin replies.
	Admin string
	// Date is "Y-m-d H:i:s" in WHMCS's time zone.
	Date string
	// Message is the reply text.
	Message string
}

// ticketReplyRow is one element of replies.reply[].
type ticketReplyRow struct {
	Name    FlexString `json:"name"`
	Email   FlexString `json:"email"`
	Admin   FlexString `json:"admin"`
	Date    FlexString `json:"date"`
	Message FlexString `json:"message"`
}

// ticketResponse is GetTicket.
type ticketResponse struct {
	TicketID FlexInt         `json:"ticketid"`
	ID       FlexInt         `json:"id"`
	TID      FlexString      `json:"tid"`
	DeptID   FlexInt         `json:"deptid"`
	UserID   FlexInt         `json:"userid"`
	Status   FlexString      `json:"status"`
	Priority FlexString      `json:"priority"`
	Subject  FlexString      `json:"subject"`
	Name     FlexString      `json:"name"`
	Email    FlexString      `json:"email"`
	Replies  json.RawMessage `json:"replies"`
}

// decodeTicket reads GetTicket.
func decodeTicket(body []byte) (Ticket, error) {
	var resp ticketResponse
	if err := json.Unmarshal(body, &resp); err != nil {
		return Ticket{}, err
	}
	rows, err := DecodeList[ticketReplyRow](resp.Replies, "reply")
	if err != nil {
		return Ticket{}, err
	}
	t := Ticket{
		ID:       firstID(resp.TicketID, resp.ID),
		TID:      strings.TrimSpace(string(resp.TID)),
		DeptID:   int64(resp.DeptID),
		ClientID: int64(resp.UserID),
		Status:   resp.Status.text(),
		Priority: resp.Priority.text(),
		Subject:  resp.Subject.text(),
		Name:     resp.Name.text(),
		Email:    resp.Email.text(),
	}
	if t.ID <= 0 {
		return Ticket{}, errMissingID
	}
	for _, r := range rows {
		t.Replies = append(t.Replies, TicketReply{
			Name:    r.Name.text(),
			Email:   r.Email.text(),
			Admin:   r.Admin.text(),
			Date:    r.Date.date(),
			Message: r.Message.text(),
		})
	}
	return t, nil
}

// decodeOpenedTicket reads OpenTicket.
func decodeOpenedTicket(body []byte) (OpenedTicket, error) {
	var resp struct {
		ID  FlexInt    `json:"id"`
		TID FlexString `json:"tid"`
		C   FlexString `json:"c"`
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		return OpenedTicket{}, err
	}
	if resp.ID <= 0 {
		return OpenedTicket{}, errMissingID
	}
	return OpenedTicket{ID: int64(resp.ID), TID: strings.TrimSpace(string(resp.TID)), AccessKey: string(resp.C)}, nil
}

// OpenTicket opens a support ticket. It is not idempotent: a transport error
// may hide a ticket that was created, which the caller's outbox must accept.
func (c *Client) OpenTicket(ctx context.Context, req OpenTicketRequest) (OpenedTicket, error) {
	const action = "OpenTicket"
	p := url.Values{}
	p.Set("deptid", strconv.FormatInt(req.DeptID, 10))
	p.Set("subject", req.Subject)
	p.Set("message", req.Message)
	if req.ClientID > 0 {
		p.Set("clientid", strconv.FormatInt(req.ClientID, 10))
	} else {
		setIf(p, "name", req.Name)
		setIf(p, "email", strings.TrimSpace(req.Email))
	}
	setIf(p, "priority", req.Priority)
	if req.NoEmail {
		p.Set("noemail", "true")
	}
	var t OpenedTicket
	err := c.call(ctx, action, p, func(body []byte) (err error) {
		t, err = decodeOpenedTicket(body)
		return err
	})
	if err != nil {
		return OpenedTicket{}, err
	}
	return t, nil
}

// AddTicketReply posts a reply. Like OpenTicket it is not idempotent.
func (c *Client) AddTicketReply(ctx context.Context, req AddTicketReplyRequest) error {
	const action = "AddTicketReply"
	p := url.Values{}
	p.Set("ticketid", strconv.FormatInt(req.TicketID, 10))
	p.Set("message", req.Message)
	switch {
	case req.AdminUsername != "":
		p.Set("adminusername", req.AdminUsername)
	case req.ClientID > 0:
		p.Set("clientid", strconv.FormatInt(req.ClientID, 10))
	default:
		setIf(p, "name", req.Name)
		setIf(p, "email", strings.TrimSpace(req.Email))
	}
	if req.NoEmail {
		p.Set("noemail", "true")
	}
	return c.call(ctx, action, p, nil)
}

// UpdateTicketStatus sets a ticket's status (UpdateTicket). Statuses are not
// checked locally because WHMCS installations may define custom ones.
func (c *Client) UpdateTicketStatus(ctx context.Context, ticketID int64, status string) error {
	const action = "UpdateTicket"
	p := url.Values{}
	p.Set("ticketid", strconv.FormatInt(ticketID, 10))
	p.Set("status", status)
	return c.call(ctx, action, p, nil)
}

// GetTicket returns a ticket by database id with its replies in
// chronological order.
func (c *Client) GetTicket(ctx context.Context, ticketID int64) (Ticket, error) {
	const action = "GetTicket"
	p := url.Values{}
	p.Set("ticketid", strconv.FormatInt(ticketID, 10))
	p.Set("repliessort", "ASC")
	var t Ticket
	err := c.call(ctx, action, p, func(body []byte) (err error) {
		t, err = decodeTicket(body)
		return err
	})
	if err != nil {
		return Ticket{}, err
	}
	return t, nil
}
