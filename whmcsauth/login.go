package whmcsauth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"html"
	"sort"
	"strings"
)

// LoginAPI is the part of WHMCS the login check reads.
type LoginAPI interface {
	GetClientsDetails(ctx context.Context, clientID int64, email string) (ClientDetails, error)
	ListClientServices(ctx context.Context, clientID int64) ([]Service, error)
}

// Plans maps WHMCS product ids (pid) to RC-CHAT plan names.
type Plans map[int64]string

// Outcome is the answer of a login check.
type Outcome int

// The login outcomes. Everything that is not a match on a usable service is
// OutcomeInvalid, so the caller answers one generic "no".
const (
	OutcomeInvalid Outcome = iota
	OutcomeActive
	OutcomeSuspended
)

// String names the outcome for logs and metrics.
func (o Outcome) String() string {
	switch o {
	case OutcomeActive:
		return "active"
	case OutcomeSuspended:
		return "suspended"
	default:
		return "invalid"
	}
}

// Account is a WHMCS client with the service whose password matched.
type Account struct {
	Client  ClientDetails
	Service Service
	Plan    string
}

// CompanyName is the RC-CHAT company name of the client: its company name,
// else its first and last name.
func (a Account) CompanyName() string {
	if n := strings.TrimSpace(a.Client.CompanyName); n != "" {
		return n
	}
	return strings.TrimSpace(strings.TrimSpace(a.Client.FirstName) + " " + strings.TrimSpace(a.Client.LastName))
}

// PersonName is the client's first and last name.
func (a Account) PersonName() string {
	return strings.TrimSpace(strings.TrimSpace(a.Client.FirstName) + " " + strings.TrimSpace(a.Client.LastName))
}

// PasswordLogin checks an e-mail and the password of an RC-CHAT service in
// WHMCS: the client is found by e-mail, then its services of mapped products
// are compared against the password.
type PasswordLogin struct {
	API   LoginAPI
	Plans Plans
}

// NormalizeEmail is the form e-mails are compared and stored in.
func NormalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// Login returns OutcomeActive with the account when the password matches an
// Active service of a mapped product, OutcomeSuspended when it matches only
// Suspended ones, and OutcomeInvalid for every other "no". A non-nil error
// means WHMCS could not answer (unreachable, 5xx, malformed, or refusing our
// credentials): the caller must not count it as the user's failure.
func (p *PasswordLogin) Login(ctx context.Context, email, password string) (Account, Outcome, error) {
	email = NormalizeEmail(email)
	if email == "" || password == "" || !strings.Contains(email, "@") {
		return Account{}, OutcomeInvalid, nil
	}
	client, err := p.API.GetClientsDetails(ctx, 0, email)
	if IsNotFound(err) {
		return Account{}, OutcomeInvalid, nil
	}
	if err != nil {
		return Account{}, OutcomeInvalid, err
	}
	// GetClientsDetails by e-mail is an exact match, but a second look
	// costs nothing and guards against a WHMCS that matches loosely.
	if NormalizeEmail(client.Email) != email || strings.EqualFold(client.Status, "Closed") {
		return Account{}, OutcomeInvalid, nil
	}
	services, err := p.API.ListClientServices(ctx, client.ID)
	if err != nil {
		return Account{}, OutcomeInvalid, err
	}
	svc, outcome := p.pick(services, password)
	if outcome == OutcomeInvalid {
		return Account{}, OutcomeInvalid, nil
	}
	return Account{Client: client, Service: svc, Plan: p.Plans[svc.ProductID]}, outcome, nil
}

// pick finds the service the password opens: an Active one wins over a
// Suspended one; among equals the most recently registered wins.
func (p *PasswordLogin) pick(services []Service, password string) (Service, Outcome) {
	var matched []Service
	for _, s := range services {
		if _, ok := p.Plans[s.ProductID]; !ok {
			continue
		}
		// Compare every mapped service, even after a match, so timing does
		// not reveal which one matched.
		if passwordMatches(s.Password.Reveal(), password) {
			matched = append(matched, s)
		}
	}
	sort.SliceStable(matched, func(i, j int) bool { return newer(matched[i], matched[j]) })
	for _, want := range []string{"Active", "Suspended"} {
		for _, s := range matched {
			if strings.EqualFold(s.Status, want) {
				if want == "Active" {
					return s, OutcomeActive
				}
				return s, OutcomeSuspended
			}
		}
	}
	return Service{}, OutcomeInvalid
}

// newer orders services most recently registered first; regdate is
// YYYY-MM-DD so strings compare as dates, and the id breaks ties.
func newer(a, b Service) bool {
	if a.RegDate != b.RegDate {
		return a.RegDate > b.RegDate
	}
	return a.ID > b.ID
}

// passwordMatches compares in constant time. WHMCS HTML-escapes request
// data on the way in, so a stored password may carry entities (`&amp;`) the
// user never typed; both forms are accepted.
func passwordMatches(stored, typed string) bool {
	t := sha256.Sum256([]byte(typed))
	raw := sha256.Sum256([]byte(stored))
	unescaped := sha256.Sum256([]byte(html.UnescapeString(stored)))
	a := subtle.ConstantTimeCompare(raw[:], t[:])
	b := subtle.ConstantTimeCompare(unescaped[:], t[:])
	return stored != "" && a|b == 1
}
