package loginpage

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

const hostile = `"><script>alert(1)</script><img src=x onerror=alert(2)>`

func renderLogin(t *testing.T, status int, f LoginForm) (*httptest.ResponseRecorder, document) {
	t.Helper()
	w := httptest.NewRecorder()
	if err := RenderLogin(w, status, f); err != nil {
		t.Fatalf("RenderLogin: %v", err)
	}
	return w, parseHTML(t, w.Body.String())
}

func TestRenderLoginStructure(t *testing.T) {
	for _, lang := range []Lang{LangPtBR, LangEn} {
		t.Run(string(lang), func(t *testing.T) {
			w, doc := renderLogin(t, http.StatusOK, LoginForm{Lang: lang, Redirect: "/tickets?tab=open", CSRFToken: "csrf-123"})
			if w.Code != http.StatusOK {
				t.Fatalf("status = %d", w.Code)
			}
			checkSecurityHeaders(t, w)
			checkLayout(t, doc, lang, w.Header().Get("Content-Security-Policy"))

			form := doc.one(t, "form", nil)
			if form.attrs["method"] != "post" || form.attrs["action"] != "/sso/login" {
				t.Errorf("form = %v, want post to /sso/login", form.attrs)
			}
			email := doc.one(t, "input", byAttr("id", "email"))
			wantAttrs(t, email, map[string]string{"name": "email", "type": "email", "autocomplete": "username", "value": ""})
			password := doc.one(t, "input", byAttr("id", "password"))
			wantAttrs(t, password, map[string]string{"name": "password", "type": "password", "autocomplete": "current-password"})
			for _, in := range []*element{email, password} {
				if !hasAttr(in, "required") {
					t.Errorf("#%s is not required", in.attrs["id"])
				}
			}
			if !hasAttr(email, "autofocus") || hasAttr(password, "autofocus") {
				t.Error("an empty form should focus the e-mail field")
			}
			if hasAttr(password, "value") {
				t.Error("the password field carries a value")
			}
			rd := doc.one(t, "input", byAttr("name", "rd"))
			wantAttrs(t, rd, map[string]string{"type": "hidden", "value": "/tickets?tab=open"})
			csrf := doc.one(t, "input", byAttr("name", "csrf_token"))
			wantAttrs(t, csrf, map[string]string{"type": "hidden", "value": "csrf-123"})

			for _, in := range doc.all("input") {
				if in.attrs["type"] == "hidden" {
					continue
				}
				label := doc.one(t, "label", byAttr("for", in.attrs["id"]))
				if strings.TrimSpace(label.text) == "" {
					t.Errorf("label for #%s is empty", in.attrs["id"])
				}
			}
			button := doc.one(t, "button", byAttr("type", "submit"))
			want := map[Lang][3]string{LangPtBR: {"Entrar", "E-mail", "Senha"}, LangEn: {"Sign in", "Email", "Password"}}[lang]
			if strings.TrimSpace(button.text) != want[0] {
				t.Errorf("button = %q, want %q", button.text, want[0])
			}
			if got := strings.TrimSpace(doc.one(t, "h1", nil).text); got != want[0] {
				t.Errorf("h1 = %q, want %q", got, want[0])
			}
			if got := strings.TrimSpace(doc.one(t, "title", nil).text); !strings.HasPrefix(got, want[0]) {
				t.Errorf("title = %q, want it to start with %q", got, want[0])
			}
			if got := strings.TrimSpace(doc.one(t, "label", byAttr("for", "email")).text); got != want[1] {
				t.Errorf("e-mail label = %q, want %q", got, want[1])
			}
			if got := strings.TrimSpace(doc.one(t, "label", byAttr("for", "password")).text); got != want[2] {
				t.Errorf("password label = %q, want %q", got, want[2])
			}
			for _, e := range doc.elements {
				if e.attrs["role"] == "alert" {
					t.Errorf("a fresh form shows an alert: %q", e.text)
				}
			}
		})
	}
}

func TestRenderLoginErrors(t *testing.T) {
	tests := []struct {
		kind   ErrorKind
		status int
		pt, en string
	}{
		{ErrorInvalidCredentials, 401, "E-mail ou senha inválidos.", "Invalid email or password."},
		{ErrorCompanySuspended, 402, "A assinatura da sua empresa está suspensa", "Your company's subscription is suspended"},
		{ErrorTooManyAttempts, 429, "Muitas tentativas", "Too many sign-in attempts"},
		{ErrorWHMCSUnavailable, 503, "indisponível", "unavailable"},
		{ErrorCSRF, 403, "O formulário expirou", "The form expired"},
		{ErrorCancelled, 403, "cancelado", "cancelled"},
		{ErrorKind("something_new"), 400, "Não foi possível entrar", "Could not sign you in"},
	}
	for _, tt := range tests {
		for lang, want := range map[Lang]string{LangPtBR: tt.pt, LangEn: tt.en} {
			t.Run(string(tt.kind)+"/"+string(lang), func(t *testing.T) {
				w, doc := renderLogin(t, tt.status, LoginForm{Lang: lang, Email: "ana@example.com", CSRFToken: "t", Error: tt.kind})
				if w.Code != tt.status {
					t.Errorf("status = %d, want %d", w.Code, tt.status)
				}
				alert := doc.one(t, "p", byAttr("role", "alert"))
				if !strings.Contains(alert.text, want) {
					t.Errorf("alert = %q, want it to contain %q", alert.text, want)
				}
				id := alert.attrs["id"]
				for _, field := range []string{"email", "password"} {
					in := doc.one(t, "input", byAttr("id", field))
					if in.attrs["aria-describedby"] != id || in.attrs["aria-invalid"] != "true" {
						t.Errorf("#%s does not point at the error: %v", field, in.attrs)
					}
				}
				email := doc.one(t, "input", byAttr("id", "email"))
				if email.attrs["value"] != "ana@example.com" {
					t.Errorf("e-mail not echoed: %q", email.attrs["value"])
				}
				if hasAttr(email, "autofocus") || !hasAttr(doc.one(t, "input", byAttr("id", "password")), "autofocus") {
					t.Error("with the e-mail filled in, the password field should have focus")
				}
			})
		}
	}
	for kind, text := range catalog[LangPtBR].Errors {
		if catalog[LangEn].Errors[kind] == "" || text == "" {
			t.Errorf("error %q lacks a translation", kind)
		}
	}
}

func TestRenderLoginEscapesHostileValues(t *testing.T) {
	for _, lang := range []Lang{LangPtBR, LangEn} {
		w, doc := renderLogin(t, http.StatusUnauthorized, LoginForm{
			Lang:      lang,
			Email:     "a" + hostile + "@x.com",
			Redirect:  "/x?q=" + strings.ReplaceAll(hostile, " ", "+"),
			CSRFToken: hostile,
			Error:     ErrorInvalidCredentials,
		})
		body := w.Body.String()
		for _, raw := range []string{"<script", "<img", `"><`} {
			if strings.Contains(body, raw) {
				t.Errorf("%s: raw %q in the page", lang, raw)
			}
		}
		if len(doc.all("script")) != 0 || len(doc.all("img")) != 0 {
			t.Errorf("%s: hostile markup became elements", lang)
		}
		// The values survive as data: what the browser decodes is what was given.
		if got := doc.one(t, "input", byAttr("id", "email")).attrs["value"]; got != "a"+hostile+"@x.com" {
			t.Errorf("%s: e-mail round-trips as %q", lang, got)
		}
		if got := doc.one(t, "input", byAttr("name", "csrf_token")).attrs["value"]; got != hostile {
			t.Errorf("%s: csrf token round-trips as %q", lang, got)
		}
		for _, e := range doc.elements {
			for k := range e.attrs {
				if strings.HasPrefix(k, "on") {
					t.Errorf("%s: event handler attribute %q on <%s>", lang, k, e.name)
				}
			}
		}
	}
}

func TestRenderLoginRefusesUnsafeRedirect(t *testing.T) {
	for _, rd := range []string{"//evil.com", `/\evil.com`, "https://evil.com", "javascript:alert(1)", "/%2f%2fevil.com", "", hostile} {
		_, doc := renderLogin(t, http.StatusOK, LoginForm{Redirect: rd})
		if got := doc.one(t, "input", byAttr("name", "rd")).attrs["value"]; got != "/" {
			t.Errorf("rd %q rendered as %q, want /", rd, got)
		}
	}
}

func TestRenderLoginDefaultsToPortuguese(t *testing.T) {
	for _, lang := range []Lang{"", "fr", "pt", "PT-br", "es-ES"} {
		_, doc := renderLogin(t, http.StatusOK, LoginForm{Lang: lang})
		if got := doc.one(t, "html", nil).attrs["lang"]; got != "pt-BR" {
			t.Errorf("Lang %q rendered as %q", lang, got)
		}
	}
	for _, lang := range []Lang{"en", "EN", "en-US"} {
		_, doc := renderLogin(t, http.StatusOK, LoginForm{Lang: lang})
		if got := doc.one(t, "html", nil).attrs["lang"]; got != "en" {
			t.Errorf("Lang %q rendered as %q", lang, got)
		}
	}
}

func TestRenderLoginFormActionOrigins(t *testing.T) {
	w := httptest.NewRecorder()
	err := RenderLogin(w, 200, LoginForm{FormActionOrigins: []string{
		"https://app.example.com/callback?x=1",
		"http://localhost:5556/auth/callback",
		"javascript:alert(1)",
		"https://evil.com; script-src *",
		"https://user:pw@host.example",
		"/relative",
		"",
	}})
	if err != nil {
		t.Fatal(err)
	}
	csp := w.Header().Get("Content-Security-Policy")
	if !strings.Contains(csp, "; form-action 'self' https://app.example.com http://localhost:5556; ") {
		t.Errorf("CSP = %q", csp)
	}
	if strings.Contains(csp, "evil") || strings.Contains(csp, "javascript") || strings.Contains(csp, "host.example") || strings.Count(csp, ";") != 4 {
		t.Errorf("CSP took an unsafe origin: %q", csp)
	}
}

func TestRenderLoginInvalidStatusWritesNothing(t *testing.T) {
	w := httptest.NewRecorder()
	if err := RenderLogin(w, 42, LoginForm{}); err == nil {
		t.Fatal("want an error for status 42")
	}
	if w.Body.Len() != 0 || len(w.Header()) != 0 {
		t.Errorf("wrote something: %v %q", w.Header(), w.Body.String())
	}
}

type failingWriter struct{ *httptest.ResponseRecorder }

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("client gone") }

func TestRenderLoginReportsWriteErrors(t *testing.T) {
	if err := RenderLogin(failingWriter{httptest.NewRecorder()}, 200, LoginForm{}); err == nil {
		t.Fatal("a failed write was not reported")
	}
}

func TestLangFor(t *testing.T) {
	tests := map[string]Lang{
		"":                                "pt-BR",
		"pt-BR,pt;q=0.9,en;q=0.8":         "pt-BR",
		"en-US,en;q=0.9":                  "en",
		"de-DE,de;q=0.9,en;q=0.8":         "en",
		"es":                              "pt-BR",
		"en;q=0.5, pt-BR;q=0.9":           "pt-BR",
		"*":                               "pt-BR",
		"en;q=bogus":                      "pt-BR",
		"en-GB;q=0.9, pt;q=0.8, *;q=0.1 ": "en",
	}
	for header, want := range tests {
		if got := LangFor(header); got != want {
			t.Errorf("LangFor(%q) = %q, want %q", header, got, want)
		}
	}
}

func BenchmarkRenderLogin(b *testing.B) {
	f := LoginForm{Email: "ana@example.com", Redirect: "/tickets", CSRFToken: "abcdef0123456789", Error: ErrorInvalidCredentials}
	b.ReportAllocs()
	for b.Loop() {
		if err := RenderLogin(httptest.NewRecorder(), 401, f); err != nil {
			b.Fatal(err)
		}
	}
}
