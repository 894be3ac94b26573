package whmcssim

import (
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
)

// ticketStatuses are WHMCS's default support statuses (GetSupportStatuses).
var ticketStatuses = []string{"Open", "Answered", "Customer-Reply", "On Hold", "In Progress", "Closed"}

// ticketPriorities are the valid priorities.
var ticketPriorities = []string{"Low", "Medium", "High"}

const (
	invalidTicketStatus   = "Invalid Ticket Status. Valid statuses are: Open,Answered,Customer-Reply,On Hold,In Progress,Closed"
	invalidTicketPriority = "Invalid Ticket Priority. Valid priorities are: Low,Medium,High"
	guestNeedsNameEmail   = "Name and email address are required if not a client"
)

// canonical returns the list entry equal to v ignoring case, "" if none.
func canonical(list []string, v string) string {
	for _, s := range list {
		if strings.EqualFold(s, v) {
			return s
		}
	}
	return ""
}

// ticketCodes derives a ticket's six-digit public number and eight-character
// access key; they look random like WHMCS's but stay reproducible in tests.
func (s *Sim) ticketCodes(id int64) (tid, c string) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	for salt := 0; ; salt++ {
		h := fnv.New64a()
		_, _ = fmt.Fprintf(h, "ticket-%d-%d", id, salt)
		v := h.Sum64()
		tid = fmt.Sprintf("%06d", 100000+v%900000)
		if !s.tidTakenLocked(tid) {
			break
		}
	}
	h := fnv.New64a()
	_, _ = fmt.Fprintf(h, "access-%d", id)
	v := h.Sum64()
	key := make([]byte, 8)
	for i := range key {
		key[i] = alphabet[v%uint64(len(alphabet))]
		v /= uint64(len(alphabet))
	}
	return tid, string(key)
}

// tidTakenLocked reports whether a public ticket number is in use.
func (s *Sim) tidTakenLocked(tid string) bool {
	for _, t := range s.tickets {
		if t.TID == tid {
			return true
		}
	}
	return false
}

// openTicket implements OpenTicket.
func (s *Sim) openTicket(f form) (int, obj) {
	if _, ok := s.departments[f.id("deptid")]; !ok {
		return fail("Department ID not found")
	}
	t := &Ticket{DeptID: f.id("deptid")}
	if id := f.id("clientid"); id > 0 {
		c, found := s.clients[id]
		if !found {
			return fail("Client ID Not Found")
		}
		t.ClientID, t.Name, t.Email = c.ID, strings.TrimSpace(c.FirstName+" "+c.LastName), c.Email
	} else {
		t.Name, t.Email = f.str("name"), f.str("email")
		if t.Name == "" || t.Email == "" {
			return fail(guestNeedsNameEmail)
		}
		if !emailValid(t.Email) {
			return fail("Email Address Invalid")
		}
	}
	if t.Subject = f.str("subject"); t.Subject == "" {
		return fail("Subject is required")
	}
	if t.Message = f.raw("message"); strings.TrimSpace(t.Message) == "" {
		return fail("Message is required")
	}
	t.Priority = "Medium"
	if f.str("priority") != "" {
		if t.Priority = canonical(ticketPriorities, f.str("priority")); t.Priority == "" {
			return fail(invalidTicketPriority)
		}
	}
	t.ID = s.nextTicket
	s.nextTicket++
	t.TID, t.C = s.ticketCodes(t.ID)
	t.Status = "Open"
	t.Date = s.now().Format(dateTimeLayout)
	t.LastReply = t.Date
	s.tickets[t.ID] = t
	return ok(kv{"id", t.ID}, kv{"tid", t.TID}, kv{"c", t.C})
}

// addTicketReply implements AddTicketReply. Like WHMCS it moves the ticket
// to Answered for an admin reply and Customer-Reply otherwise, unless a
// status is given.
func (s *Sim) addTicketReply(f form) (int, obj) {
	t, found := s.tickets[f.id("ticketid")]
	if !found {
		return fail("Ticket ID not found")
	}
	msg := f.raw("message")
	if strings.TrimSpace(msg) == "" {
		return fail("Message is required")
	}
	r := TicketReply{Message: msg, Date: s.now().Format(dateTimeLayout)}
	status := "Customer-Reply"
	switch {
	case f.str("adminusername") != "":
		r.Admin, status = f.str("adminusername"), "Answered"
	case f.id("clientid") > 0:
		c, ok := s.clients[f.id("clientid")]
		if !ok {
			return fail("Client ID Not Found")
		}
		r.ClientID, r.Name, r.Email = c.ID, strings.TrimSpace(c.FirstName+" "+c.LastName), c.Email
	case f.str("name") != "" && f.str("email") != "":
		r.Name, r.Email = f.str("name"), f.str("email")
	default:
		return fail(guestNeedsNameEmail)
	}
	if f.str("status") != "" {
		if status = canonical(ticketStatuses, f.str("status")); status == "" {
			return fail("Invalid Ticket Status")
		}
	}
	t.Replies = append(t.Replies, r)
	t.Status, t.LastReply = status, r.Date
	return ok()
}

// updateTicket implements UpdateTicket for status, priority, department and
// subject.
func (s *Sim) updateTicket(f form) (int, obj) {
	t, found := s.tickets[f.id("ticketid")]
	if !found {
		return fail("Ticket ID Not Found")
	}
	next := *t
	if f.str("deptid") != "" {
		if _, ok := s.departments[f.id("deptid")]; !ok {
			return fail("Department ID Not Found")
		}
		next.DeptID = f.id("deptid")
	}
	if f.str("status") != "" {
		if next.Status = canonical(ticketStatuses, f.str("status")); next.Status == "" {
			return fail(invalidTicketStatus)
		}
	}
	if f.str("priority") != "" {
		if next.Priority = canonical(ticketPriorities, f.str("priority")); next.Priority == "" {
			return fail(invalidTicketPriority)
		}
	}
	if f.str("subject") != "" {
		next.Subject = f.str("subject")
	}
	*t = next
	return ok(kv{"ticketid", str(t.ID)})
}

// getTicket implements GetTicket; the opening message is listed as reply 0.
func (s *Sim) getTicket(f form) (int, obj) {
	var t *Ticket
	if id := f.id("ticketid"); id > 0 {
		t = s.tickets[id]
	} else if num := f.str("ticketnum"); num != "" {
		for _, cand := range s.tickets {
			if cand.TID == num {
				t = cand
			}
		}
	}
	if t == nil {
		return fail("Ticket ID Not Found")
	}
	opening := TicketReply{ClientID: t.ClientID, Name: t.Name, Email: t.Email, Message: t.Message, Date: t.Date}
	all := append([]TicketReply{opening}, t.Replies...)
	replies := make([]obj, 0, len(all))
	for i, r := range all {
		requestor := "Owner"
		if r.Admin != "" {
			requestor = "Operator"
		} else if r.ClientID == 0 {
			requestor = "Guest"
		}
		replies = append(replies, obj{
			{"replyid", str(int64(i))}, {"userid", r.ClientID}, {"contactid", 0},
			{"name", esc(r.Name)}, {"email", esc(r.Email)},
			{"requestor_name", esc(firstNonEmpty(r.Name, r.Admin))}, {"requestor_email", esc(r.Email)},
			{"requestor_type", requestor}, {"date", r.Date}, {"message", esc(r.Message)},
			{"attachment", ""}, {"attachments", []any{[]any{}}}, {"attachments_removed", false},
			{"admin", esc(r.Admin)},
		})
	}
	if strings.EqualFold(f.str("repliessort"), "DESC") {
		slices.Reverse(replies)
	}
	return ok(
		kv{"ticketid", t.ID}, kv{"tid", t.TID}, kv{"c", t.C},
		kv{"deptid", t.DeptID}, kv{"deptname", esc(s.departments[t.DeptID])},
		kv{"userid", t.ClientID}, kv{"contactid", 0},
		kv{"name", esc(t.Name)}, kv{"email", esc(t.Email)}, kv{"cc", ""},
		kv{"date", t.Date}, kv{"subject", esc(t.Subject)}, kv{"status", t.Status},
		kv{"priority", t.Priority}, kv{"admin", ""}, kv{"lastreply", t.LastReply},
		kv{"flag", 0}, kv{"service", ""},
		kv{"replies", obj{{"reply", replies}}},
		kv{"notes", obj{{"note", []any{}}}},
	)
}
