package tickets

import (
	"net/http"
	"regexp"

	"go.uber.org/zap"
)

// protocolVar matches the variables that name a ticket's protocol:
// {{protocolo}} (promised by RC-CHAT's WHMCS guide but missing from its
// Mustache view) and {{whmcsTicketId}}, with optional blanks inside the
// braces as Mustache allows, and also in the triple-brace (unescaped)
// form, which would otherwise leave a stray brace on each side.
var protocolVar = regexp.MustCompile(`\{\{\{[ \t]*(?:protocolo|whmcsTicketId)[ \t]*\}\}\}|\{\{[ \t]*(?:protocolo|whmcsTicketId)[ \t]*\}\}`)

// Render replaces {{protocolo}} and {{whmcsTicketId}} in template with
// protocol and leaves everything else, other {{...}} variables included,
// exactly as written: RC-CHAT renders those itself afterwards.
func Render(template, protocol string) string {
	return protocolVar.ReplaceAllLiteralString(template, protocol)
}

// renderAnswer is the body of POST /sso/api/render.
type renderAnswer struct {
	Text string `json:"text"`
}

// handleRender serves POST /sso/api/render {ticket_id, template} → {text}.
// The protocol is the linked WHMCS ticket id, else the RC-CHAT ticket id,
// so a greeting sent before the WHMCS ticket exists still shows a number.
func (s *Service) handleRender(w http.ResponseWriter, r *http.Request) {
	o, err := readObject(r, "ticket_id", "template")
	if err != nil {
		writeRequestError(w, err)
		return
	}
	id, err := o.ticketID("ticket_id")
	if err != nil {
		writeRequestError(w, err)
		return
	}
	if _, ok := o.get("template"); !ok {
		writeRequestError(w, &fieldError{"template", "is required"})
		return
	}
	tmpl, err := o.str("template", false)
	if err != nil {
		writeRequestError(w, err)
		return
	}
	link, found, err := s.loadLink(r.Context(), id)
	if err != nil {
		s.writeInternal(w, "reading a ticket link", err, zap.String("ticket_id", id))
		return
	}
	protocol := id
	if found {
		protocol = Protocol(&link)
	}
	writeJSON(w, http.StatusOK, renderAnswer{Text: Render(tmpl, protocol)})
}
