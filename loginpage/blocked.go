package loginpage

import (
	"fmt"
	"net/http"
)

// The Blocked reasons equal the codes of the JSON answers (SPEC 5.5), so the
// caller can pass one value to both.
const (
	// ReasonCompanySuspended is shown with 402 until the invoice is paid.
	ReasonCompanySuspended = "company_suspended"
	// ReasonCompanyCancelled is shown with 403; the sessions are revoked.
	ReasonCompanyCancelled = "company_cancelled"
)

// Blocked is what the page for a signed-in user of a blocked company shows.
type Blocked struct {
	Lang Lang
	// Reason is ReasonCompanySuspended (402: pay to get back in) or
	// ReasonCompanyCancelled (403: the sessions are gone for good).
	Reason      string
	CompanyName string
	// ClientAreaURL is the WHMCS client area where the invoice can be paid.
	// Only an absolute http(s) URL becomes a link; otherwise the page just
	// explains, rather than offering a link that goes nowhere.
	ClientAreaURL string
}

type blockedView struct {
	layout
	CompanyName   string
	ClientAreaURL string
	Named         [2]string
	Unnamed       string
	HowTo         string
	// Cancelled swaps the sign-out button for a sign-in link, because a
	// cancelled company's sessions are already revoked.
	Cancelled bool
}

var blockedPage = parsePage("blocked.html")

// RenderBlocked writes the suspended or cancelled page with the given status
// (402 or 403 per SPEC 5.5). An unknown reason is a caller bug and returns
// an error without writing, rather than showing the wrong explanation.
func RenderBlocked(w http.ResponseWriter, status int, b Blocked) error {
	v := blockedView{layout: newLayout(b.Lang), CompanyName: b.CompanyName}
	if _, ok := cspOrigin(b.ClientAreaURL); ok {
		v.ClientAreaURL = b.ClientAreaURL
	}
	t := v.T
	switch b.Reason {
	case ReasonCompanySuspended:
		v.Title, v.Named, v.Unnamed, v.HowTo = t.SuspendedTitle, t.SuspendedNamed, t.SuspendedUnnamed, t.SuspendedHowTo
	case ReasonCompanyCancelled:
		v.Title, v.Named, v.Unnamed, v.HowTo = t.CancelledTitle, t.CancelledNamed, t.CancelledUnnamed, t.CancelledHowTo
		v.Cancelled = true
	default:
		return fmt.Errorf("loginpage: unknown blocked reason %q", b.Reason)
	}
	return write(w, status, blockedPage, v, contentSecurityPolicy(nil))
}
