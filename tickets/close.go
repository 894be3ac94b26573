package tickets

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/rcchat/caddy-whmcs-auth/outbox"
	"github.com/rcchat/caddy-whmcs-auth/store"
)

// closeRequest is a validated POST /sso/api/tickets/{id}/close body.
type closeRequest struct {
	messages []chatMessage
	closedBy string
}

// closePayload is the JobTicketClose payload. The transcript is rendered
// when the close is accepted, so private messages never reach the state
// file and a retry posts exactly the text that was queued.
type closePayload struct {
	TicketID      string `json:"ticket_id"`
	WHMCSTicketID int64  `json:"whmcs_ticket_id"`
	WHMCSClientID int64  `json:"whmcs_client_id,omitempty"`
	Ref           string `json:"ref"`
	Transcript    string `json:"transcript"`
}

// parseClose validates {messages:[{from, body, at, private}], closed_by}.
// `at` is required (RFC 3339) because every transcript line is dated;
// `from` and `body` may be empty (media messages have no text).
func parseClose(r *http.Request) (closeRequest, error) {
	var req closeRequest
	o, err := readObject(r, "messages", "closed_by")
	if err != nil {
		return req, err
	}
	items, err := o.array("messages")
	if err != nil {
		return req, err
	}
	for i, raw := range items {
		m, err := asObject(fmt.Sprintf("messages[%d]", i), raw, "from", "body", "at", "private")
		if err != nil {
			return req, err
		}
		var msg chatMessage
		if msg.From, err = m.str("from", false); err != nil {
			return req, err
		}
		if msg.Body, err = m.str("body", false); err != nil {
			return req, err
		}
		at, err := m.str("at", true)
		if err != nil {
			return req, err
		}
		if msg.At, err = time.Parse(time.RFC3339Nano, strings.TrimSpace(at)); err != nil {
			return req, &fieldError{m.name("at"), "must be an RFC 3339 timestamp such as 2024-05-01T10:02:00Z"}
		}
		if msg.Private, err = m.boolean("private"); err != nil {
			return req, err
		}
		req.messages = append(req.messages, msg)
	}
	closedBy, err := o.str("closed_by", false)
	if err != nil {
		return req, err
	}
	req.closedBy = clip(oneLine(closedBy), 100)
	return req, nil
}

// closeAnswer is the body of a close: exactly SPEC 8's {"status":...}. The
// job id is for logs; GET /sso/api/outbox shows the job.
type closeAnswer struct {
	Status string `json:"status"`
	JobID  int64  `json:"-"`
}

// handleClose serves POST /sso/api/tickets/{ticket_id}/close: it queues a
// JobTicketClose in the same transaction that marks the link closing, and
// answers 202 only once that is on disk. A repeated close finds the link
// closing or closed and queues nothing; it gets the same 202, the only
// answer SPEC 8 defines, so a client that retries a close cannot tell it
// apart from the first.
func (s *Service) handleClose(w http.ResponseWriter, r *http.Request) {
	if !s.ticketSync {
		writeError(w, http.StatusConflict, "ticket_sync_disabled", "")
		return
	}
	id, err := checkTicketID("ticket_id", r.PathValue("ticket_id"))
	if err != nil {
		writeRequestError(w, err)
		return
	}
	// An unknown ticket is a 404 whatever the body holds.
	err = s.store.View(r.Context(), func(tx store.Tx) error {
		_, err := tx.TicketLink(id)
		return err
	})
	if err != nil {
		s.writeLinkError(w, err, id)
		return
	}
	req, err := parseClose(r)
	if err != nil {
		writeRequestError(w, err)
		return
	}
	ref := newRef()
	text := transcript{TicketID: id, ClosedBy: req.closedBy, Ref: ref, Messages: req.messages, Location: s.loc}.Format()
	now := s.now()
	var (
		status int
		answer closeAnswer
		queued bool
	)
	err = s.store.Update(r.Context(), func(tx store.Tx) error {
		queued = false
		link, err := tx.TicketLink(id)
		if err != nil {
			return err
		}
		switch link.SyncState {
		case SyncClosed:
			// Already in WHMCS: nothing to queue, and the caller gets
			// the same answer as the first time (GET shows the state).
			status, answer = http.StatusAccepted, closeAnswer{Status: "queued"}
			return nil
		case SyncClosing:
			_, err := tx.Job(link.CloseJobID)
			if err == nil {
				status, answer = http.StatusAccepted, closeAnswer{Status: "queued", JobID: link.CloseJobID}
				return nil
			}
			if !errors.Is(err, store.ErrNotFound) {
				return err
			}
			// The job was removed without finishing (an operator
			// deleted it): this close queues a new one.
		}
		job, err := outbox.Enqueue(tx, JobTicketClose, id, closePayload{TicketID: id, WHMCSTicketID: link.WHMCSTicketID,
			WHMCSClientID: link.WHMCSClientID, Ref: ref, Transcript: text}, now)
		if err != nil {
			return err
		}
		link.SyncState, link.CloseJobID, link.UpdatedAt = SyncClosing, job.ID, now
		if err := tx.PutTicketLink(&link); err != nil {
			return err
		}
		status, answer, queued = http.StatusAccepted, closeAnswer{Status: "queued", JobID: job.ID}, true
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "not_found", "")
		return
	}
	if err != nil {
		s.writeInternal(w, "queueing a ticket close", err, zap.String("ticket_id", id))
		return
	}
	if queued {
		s.notify()
		s.log.Info("sso api: ticket close queued", zap.String("ticket_id", id), zap.Int64("job", answer.JobID))
	}
	writeJSON(w, status, answer)
}

// newRef returns the marker that identifies one transcript in WHMCS.
func newRef() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b) // crypto/rand.Read never fails since Go 1.24
	return "rcchat-" + hex.EncodeToString(b)
}
