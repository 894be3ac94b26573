package loginpage

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func renderBlocked(t *testing.T, status int, b Blocked) (*httptest.ResponseRecorder, document) {
	t.Helper()
	w := httptest.NewRecorder()
	if err := RenderBlocked(w, status, b); err != nil {
		t.Fatalf("RenderBlocked: %v", err)
	}
	return w, parseHTML(t, w.Body.String())
}

func TestRenderBlocked(t *testing.T) {
	tests := []struct {
		reason string
		status int
		lang   Lang
		title  string
		text   string
	}{
		{ReasonCompanySuspended, http.StatusPaymentRequired, LangPtBR, "Assinatura suspensa", "está suspensa"},
		{ReasonCompanySuspended, http.StatusPaymentRequired, LangEn, "Subscription suspended", "is suspended"},
		{ReasonCompanyCancelled, http.StatusForbidden, LangPtBR, "Assinatura cancelada", "foi cancelada"},
		{ReasonCompanyCancelled, http.StatusForbidden, LangEn, "Subscription cancelled", "was cancelled"},
	}
	for _, tt := range tests {
		t.Run(tt.reason+"/"+string(tt.lang), func(t *testing.T) {
			w, doc := renderBlocked(t, tt.status, Blocked{
				Lang:          tt.lang,
				Reason:        tt.reason,
				CompanyName:   "Padaria São João",
				ClientAreaURL: "https://billing.example.com/clientarea.php",
			})
			if w.Code != tt.status {
				t.Errorf("status = %d, want %d", w.Code, tt.status)
			}
			checkSecurityHeaders(t, w)
			checkLayout(t, doc, tt.lang, w.Header().Get("Content-Security-Policy"))
			if got := strings.TrimSpace(doc.one(t, "h1", nil).text); got != tt.title {
				t.Errorf("h1 = %q, want %q", got, tt.title)
			}
			if !strings.Contains(doc.one(t, "title", nil).text, tt.title) {
				t.Errorf("title lacks %q", tt.title)
			}
			main := doc.one(t, "main", nil)
			if !strings.Contains(main.text, tt.text) || !strings.Contains(main.text, "Padaria São João") {
				t.Errorf("page text %q lacks %q or the company name", main.text, tt.text)
			}
			link := doc.one(t, "a", byAttr("href", "https://billing.example.com/clientarea.php"))
			if strings.TrimSpace(link.text) == "" {
				t.Error("the client-area link has no text")
			}
			if tt.reason == ReasonCompanySuspended {
				form := doc.one(t, "form", nil)
				if form.attrs["action"] != "/sso/logout" || form.attrs["method"] != "post" {
					t.Errorf("sign-out form = %v", form.attrs)
				}
				doc.one(t, "button", byAttr("type", "submit"))
			} else {
				doc.one(t, "a", byAttr("href", "/sso/login"))
				if len(doc.all("form")) != 0 {
					t.Error("a cancelled company's page offers to sign out of a revoked session")
				}
			}
		})
	}
}

func TestRenderBlockedWithoutOptionalValues(t *testing.T) {
	for _, reason := range []string{ReasonCompanySuspended, ReasonCompanyCancelled} {
		_, doc := renderBlocked(t, 402, Blocked{Reason: reason})
		main := doc.one(t, "main", nil)
		if !strings.Contains(main.text, "da sua empresa") {
			t.Errorf("%s: unnamed text missing: %q", reason, main.text)
		}
		if len(doc.all("strong")) != 0 {
			t.Errorf("%s: an empty company name was rendered", reason)
		}
		for _, a := range doc.all("a") {
			if strings.Contains(a.attrs["href"], "clientarea") || a.attrs["href"] == "" {
				t.Errorf("%s: client-area link without a URL: %v", reason, a.attrs)
			}
		}
	}
}

func TestRenderBlockedEscapesHostileValues(t *testing.T) {
	for _, lang := range []Lang{LangPtBR, LangEn} {
		w, doc := renderBlocked(t, 402, Blocked{
			Lang:          lang,
			Reason:        ReasonCompanySuspended,
			CompanyName:   "Acme" + hostile,
			ClientAreaURL: "javascript:alert(1)",
		})
		body := w.Body.String()
		if strings.Contains(body, "<script") || strings.Contains(body, "<img") || strings.Contains(body, "javascript:") {
			t.Errorf("%s: hostile value reached the markup:\n%s", lang, body)
		}
		if got := doc.one(t, "strong", nil).text; got != "Acme"+hostile {
			t.Errorf("%s: company name round-trips as %q", lang, got)
		}
		if len(doc.all("a")) != 0 {
			t.Errorf("%s: a javascript: client-area URL became a link", lang)
		}
	}
	w, _ := renderBlocked(t, 402, Blocked{Reason: ReasonCompanySuspended, ClientAreaURL: `https://billing.example.com/"><script>`})
	if strings.Contains(w.Body.String(), "<script") {
		t.Error("a hostile client-area URL broke out of its attribute")
	}
}

func TestRenderBlockedUnknownReasonWritesNothing(t *testing.T) {
	for _, reason := range []string{"", "suspended", "company_terminated"} {
		w := httptest.NewRecorder()
		if err := RenderBlocked(w, 403, Blocked{Reason: reason}); err == nil {
			t.Errorf("reason %q accepted", reason)
		}
		if w.Body.Len() != 0 || len(w.Header()) != 0 {
			t.Errorf("reason %q: wrote %v %q", reason, w.Header(), w.Body.String())
		}
	}
}
