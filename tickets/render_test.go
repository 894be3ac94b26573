package tickets

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
)

func TestRenderFunction(t *testing.T) {
	cases := []struct{ in, want string }{
		{"Protocolo {{protocolo}}.", "Protocolo 42."},
		{"{{ protocolo }} e {{whmcsTicketId}} e {{\twhmcsTicketId  }}", "42 e 42 e 42"},
		{"{{{protocolo}}}", "42"},
		{"{{name}}, {{protocol}} {{ticket_id}} {{ms}}", "{{name}}, {{protocol}} {{ticket_id}} {{ms}}"},
		{"{{Protocolo}} {{protocolo_x}} {{protocolo}", "{{Protocolo}} {{protocolo_x}} {{protocolo}"},
		{"{{{protocolo}}", "{42"},
		{"", ""},
	}
	for _, c := range cases {
		if got := Render(c.in, "42"); got != c.want {
			t.Errorf("Render(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestRenderEndpoint(t *testing.T) {
	e := newEnv(t)
	tmpl := "Olá {{name}}, seu protocolo é {{protocolo}} ({{ whmcsTicketId }}); {{protocol}} {{hora}}"
	got := decode[renderAnswer](t, e.do("POST", "/sso/api/render", map[string]any{"ticket_id": "900", "template": tmpl}), http.StatusOK)
	if want := "Olá {{name}}, seu protocolo é 900 (900); {{protocol}} {{hora}}"; got.Text != want {
		t.Fatalf("without a link: %q, want %q", got.Text, want)
	}
	op := e.openTicket("900", "p@example.com")
	got = decode[renderAnswer](t, e.do("POST", "/sso/api/render", map[string]any{"ticket_id": 900, "template": tmpl}), http.StatusOK)
	id := strconv.FormatInt(op.WHMCSTicketID, 10)
	if want := "Olá {{name}}, seu protocolo é " + id + " (" + id + "); {{protocol}} {{hora}}"; got.Text != want {
		t.Fatalf("with a link: %q, want %q", got.Text, want)
	}
	for body, field := range map[string]string{
		`{"template":"x"}`:                      "ticket_id",
		`{"ticket_id":"1"}`:                     "template",
		`{"ticket_id":"1","template":5}`:        "template",
		`{"ticket_id":"1","template":"","x":1}`: "x",
	} {
		if a := decode[apiError](t, e.do("POST", "/sso/api/render", body), http.StatusBadRequest); a.Field != field {
			t.Fatalf("%s: field %q, want %q", body, a.Field, field)
		}
	}
	// Rendering works with ticket sync off: it only reads links.
	e.cfg.TicketSync = false
	e.restart()
	got = decode[renderAnswer](t, e.do("POST", "/sso/api/render", map[string]any{"ticket_id": "900", "template": "{{protocolo}}"}), http.StatusOK)
	if got.Text != id {
		t.Fatalf("with sync off: %q", got.Text)
	}
}

func FuzzRender(f *testing.F) {
	for _, s := range []string{"", "{{protocolo}}", "{{ whmcsTicketId }}", "{{{protocolo}}}", "{{name}} {{protocol}}",
		"{{", "}}{{", "{{ protocolo", "a{{protocolo}}b{{x}}", "\x00{{\xffprotocolo}}"} {
		f.Add(s, "12345")
	}
	f.Fuzz(func(t *testing.T, tmpl, value string) {
		out := Render(tmpl, value)
		if !strings.Contains(tmpl, "protocolo") && !strings.Contains(tmpl, "whmcsTicketId") && out != tmpl {
			t.Fatalf("text without the variables changed: %q → %q", tmpl, out)
		}
		// With a value that cannot form a variable, none survives.
		digits := strconv.Itoa(len(value))
		if out := Render(tmpl, digits); protocolVar.MatchString(out) {
			t.Fatalf("a variable survived rendering %q: %q", tmpl, out)
		}
	})
}
