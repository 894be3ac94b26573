package whmcssim

import (
	"fmt"
	"hash/fnv"
	"net/mail"
	"sort"
	"strings"
)

// clientStatuses are the statuses GetClients and UpdateClient accept.
var clientStatuses = []string{"Active", "Inactive", "Closed"}

// canonicalClientStatus maps a status to its canonical spelling, "" if invalid.
func canonicalClientStatus(s string) string {
	for _, c := range clientStatuses {
		if strings.EqualFold(c, s) {
			return c
		}
	}
	return ""
}

// invalidClientStatus is the wording the fact sheet reports for GetClients.
const invalidClientStatus = "Invalid client status supplied. Valid statuses are: Active, Inactive, Closed"

// uuidFor derives a stable UUID-shaped value for a client, enough for code
// that keys identities by the WHMCS uuid.
func uuidFor(id int64) string {
	h := fnv.New64a()
	_, _ = fmt.Fprintf(h, "client-%d", id)
	v := h.Sum64()
	return fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", uint32(v>>32), uint16(v>>16), uint16(v)&0xfff, uint16(v>>4)&0xfff, id)
}

// clientFields renders a client as GetClientsDetails does; the scalar part
// is also duplicated at the top level of the answer.
func (s *Sim) clientFields(c *Client) (scalars obj, nested obj) {
	full := strings.TrimSpace(c.FirstName + " " + c.LastName)
	scalars = obj{
		{"userid", c.ID},
		{"client_id", c.ID},
		{"id", c.ID},
		{"owner_user_id", c.OwnerUserID},
		{"uuid", uuidFor(c.ID)},
		{"firstname", esc(c.FirstName)},
		{"lastname", esc(c.LastName)},
		{"fullname", esc(full)},
		{"companyname", esc(c.CompanyName)},
		{"email", esc(c.Email)},
		{"address1", esc(c.Address1)},
		{"address2", ""},
		{"city", esc(c.City)},
		{"fullstate", esc(c.State)},
		{"state", esc(c.State)},
		{"postcode", esc(c.Postcode)},
		{"countrycode", c.Country},
		{"country", c.Country},
		{"phonenumber", esc(c.PhoneNumber)},
		{"tax_id", ""},
		{"statecode", esc(c.State)},
		{"phonecc", 1},
		{"phonenumberformatted", esc(c.PhoneNumber)},
		{"billingcid", 0},
		{"notes", ""},
		{"currency", 1},
		{"defaultgateway", ""},
		{"groupid", 0},
		{"status", c.Status},
		{"credit", "0.00"},
		{"taxexempt", false},
		{"latefeeoveride", false},
		{"overideduenotices", false},
		{"separateinvoices", false},
		{"disableautocc", false},
		{"emailoptout", false},
		{"marketing_emails_opt_in", false},
		{"overrideautoclose", false},
		{"allowSingleSignOn", 1},
		{"email_verified", false},
		{"language", ""},
		{"lastlogin", "No Login Logged"},
		{"currency_code", "USD"},
	}
	nested = obj{
		{"email_preferences", obj{{"general", "1"}, {"invoice", "1"}, {"support", "1"}, {"product", "1"}, {"domain", "1"}, {"affiliate", "1"}}},
		{"customfields", []any{}},
		{"users", obj{{"user", []obj{{
			{"id", c.OwnerUserID}, {"name", esc(full)}, {"email", esc(c.Email)}, {"is_owner", true},
		}}}}},
	}
	return scalars, nested
}

// getClientsDetails implements GetClientsDetails.
func (s *Sim) getClientsDetails(f form) (int, obj) {
	var c *Client
	switch id, email := f.id("clientid"), f.str("email"); {
	case id > 0:
		c = s.clients[id]
	case email != "":
		c = s.clientByEmailLocked(email, s.opts.StrictEmailLookup)
	default:
		return fail("Either clientid Or email Is Required")
	}
	if c == nil {
		return fail("Client Not Found")
	}
	scalars, nested := s.clientFields(c)
	inner := append(append(obj{}, scalars...), nested...)
	members := []kv{{"client", inner}}
	// WHMCS still duplicates the client fields at the top level (deprecated).
	members = append(members, scalars...)
	if f.flag("stats") {
		members = append(members, kv{"stats", s.clientStats(c.ID)})
	}
	return ok(members...)
}

// clientStats is a small subset of GetClientsDetails stats, as strings.
func (s *Sim) clientStats(clientID int64) obj {
	var active, total, tickets, open int
	for _, svc := range s.services {
		if svc.ClientID == clientID {
			total++
			if svc.Status == "Active" {
				active++
			}
		}
	}
	for _, t := range s.tickets {
		if t.ClientID == clientID {
			tickets++
			if t.Status != "Closed" {
				open++
			}
		}
	}
	return obj{
		{"productsnumactive", fmt.Sprint(active)}, {"productsnumtotal", fmt.Sprint(total)},
		{"numtickets", fmt.Sprint(tickets)}, {"numactivetickets", fmt.Sprint(open)},
		{"creditbalance", "$0.00 USD"},
	}
}

// getClients implements GetClients: a prefix LIKE search, status filter,
// ordering by last name, paging with limitnum defaulting to 25.
func (s *Sim) getClients(f form) (int, obj) {
	status := ""
	if f.str("status") != "" {
		if status = canonicalClientStatus(f.str("status")); status == "" {
			return fail(invalidClientStatus)
		}
	}
	// WHMCS compares the escaped search term with escaped stored values.
	pattern := strings.ToLower(esc(f.raw("search"))) + "%"
	var matches []*Client
	for _, c := range s.clients {
		if status != "" && c.Status != status {
			continue
		}
		if f.str("search") != "" && !clientMatches(c, pattern) {
			continue
		}
		matches = append(matches, c)
	}
	sort.Slice(matches, func(i, j int) bool {
		a, b := strings.ToLower(matches[i].LastName), strings.ToLower(matches[j].LastName)
		if a != b {
			return a < b
		}
		return matches[i].ID < matches[j].ID
	})
	if strings.EqualFold(f.str("sorting"), "DESC") {
		for i, j := 0, len(matches)-1; i < j; i, j = i+1, j-1 {
			matches[i], matches[j] = matches[j], matches[i]
		}
	}
	start, limit := int(f.id("limitstart")), 25
	if f.str("limitnum") != "" {
		limit = int(f.id("limitnum"))
	}
	page := pageOf(matches, start, limit)
	members := []kv{{"totalresults", len(matches)}, {"startnumber", start}, {"numreturned", len(page)}}
	if len(page) > 0 {
		rows := make([]obj, 0, len(page))
		for _, c := range page {
			rows = append(rows, obj{
				{"id", c.ID}, {"firstname", esc(c.FirstName)}, {"lastname", esc(c.LastName)},
				{"companyname", esc(c.CompanyName)}, {"email", esc(c.Email)},
				{"datecreated", c.DateCreated}, {"groupid", 0}, {"status", c.Status},
			})
		}
		members = append(members, kv{"clients", obj{{"client", rows}}})
	}
	// With zero rows WHMCS omits the clients key altogether.
	return ok(members...)
}

// clientMatches applies the LIKE pattern to the columns WHMCS searches.
func clientMatches(c *Client, pattern string) bool {
	for _, v := range []string{c.Email, c.FirstName, c.LastName, c.CompanyName, c.FirstName + " " + c.LastName} {
		if like(strings.ToLower(esc(v)), pattern) {
			return true
		}
	}
	return false
}

// like implements SQL LIKE with % and _ wildcards (no escape character).
func like(s, pattern string) bool {
	sr, pr := []rune(s), []rune(pattern)
	// Classic two-pointer wildcard matching with backtracking to the last %.
	si, pi, star, mark := 0, 0, -1, 0
	for si < len(sr) {
		switch {
		case pi < len(pr) && (pr[pi] == '_' || pr[pi] == sr[si]):
			si++
			pi++
		case pi < len(pr) && pr[pi] == '%':
			star, mark = pi, si
			pi++
		case star >= 0:
			mark++
			si, pi = mark, star+1
		default:
			return false
		}
	}
	for pi < len(pr) && pr[pi] == '%' {
		pi++
	}
	return pi == len(pr)
}

// pageOf slices one page; a limit of 0 or less means everything.
func pageOf[T any](all []T, start, limit int) []T {
	if start >= len(all) {
		return nil
	}
	all = all[start:]
	if limit > 0 && limit < len(all) {
		all = all[:limit]
	}
	return all
}

// addClientRequired are AddClient's mandatory fields with WHMCS's
// client-area validation messages (wording not verified against 8.x).
var addClientRequired = []struct{ field, msg string }{
	{"firstname", "You did not enter your first name"},
	{"lastname", "You did not enter your last name"},
	{"email", "You did not enter your email address"},
	{"address1", "You did not enter your address (line 1)"},
	{"city", "You did not enter your city"},
	{"state", "You did not enter your state"},
	{"postcode", "You did not enter your postcode"},
	{"phonenumber", "You did not enter your phone number"},
}

// emailValid is a plain syntactic check like WHMCS's.
func emailValid(e string) bool {
	a, err := mail.ParseAddress(e)
	return err == nil && a.Address == e && strings.Contains(e[strings.LastIndexByte(e, '@'):], ".")
}

// emailTakenLocked reports whether another client (or its owner user) uses
// the address; WHMCS compares case-insensitively.
func (s *Sim) emailTakenLocked(email string, except int64) bool {
	for _, c := range s.clients {
		if c.ID != except && strings.EqualFold(c.Email, email) {
			return true
		}
	}
	return false
}

// addClient implements AddClient.
func (s *Sim) addClient(f form) (int, obj) {
	skip := f.flag("skipvalidation")
	if !skip {
		for _, r := range addClientRequired {
			if f.str(r.field) == "" {
				return fail(r.msg)
			}
		}
		if f.raw("password2") == "" && f.id("owner_user_id") == 0 {
			return fail("You did not enter a password")
		}
	}
	email := f.str("email")
	if !emailValid(email) {
		return fail("The email address you entered was not valid")
	}
	country := strings.ToUpper(f.str("country"))
	if !skip || country != "" {
		if len(country) != 2 || strings.Map(asciiUpper, country) != country {
			return fail("Valid country required")
		}
	}
	if s.emailTakenLocked(email, 0) {
		return fail("A user already exists with that email address")
	}
	id := s.addClientLocked(Client{
		FirstName: f.str("firstname"), LastName: f.str("lastname"), CompanyName: f.str("companyname"),
		Email: email, PhoneNumber: f.str("phonenumber"), Address1: f.str("address1"), City: f.str("city"),
		State: f.str("state"), Postcode: f.str("postcode"), Country: country,
		// password2 is the one field WHMCS explicitly decodes, so it is kept raw.
		Password: f.raw("password2"),
	})
	return ok(kv{"clientid", id}, kv{"owner_id", s.clients[id].OwnerUserID})
}

// asciiUpper keeps A-Z and drops everything else, to validate ISO-2 codes.
func asciiUpper(r rune) rune {
	if r >= 'A' && r <= 'Z' {
		return r
	}
	return -1
}

// updateClient implements UpdateClient for status and the profile fields
// the sidecar could touch.
func (s *Sim) updateClient(f form) (int, obj) {
	var c *Client
	if id := f.id("clientid"); id > 0 {
		c = s.clients[id]
	} else if e := f.str("clientemail"); e != "" {
		c = s.clientByEmailLocked(e, false)
	}
	if c == nil {
		return fail("Client ID Not Found")
	}
	status := c.Status
	if f.has("status") {
		if status = canonicalClientStatus(f.str("status")); status == "" {
			return fail(invalidClientStatus)
		}
	}
	email := c.Email
	if f.str("email") != "" {
		email = f.str("email")
		if s.emailTakenLocked(email, c.ID) {
			return fail("Duplicate Email Address")
		}
	}
	c.Status, c.Email = status, email
	for field, dst := range map[string]*string{
		"firstname": &c.FirstName, "lastname": &c.LastName, "companyname": &c.CompanyName,
		"phonenumber": &c.PhoneNumber, "address1": &c.Address1, "city": &c.City,
		"state": &c.State, "postcode": &c.Postcode, "country": &c.Country,
	} {
		if f.has(field) {
			*dst = f.str(field)
		}
	}
	return ok(kv{"clientid", str(c.ID)})
}
