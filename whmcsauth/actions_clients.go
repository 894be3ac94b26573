package whmcsauth

import (
	"bytes"
	"context"
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
)

// ClientDetails is a WHMCS client as GetClientsDetails describes it. Text
// fields are HTML-entity-decoded.
type ClientDetails struct {
	// ID is the WHMCS client id (tblclients.id), the key of an RC-CHAT company.
	ID int64
	// FirstName is the contact's first name.
	FirstName string
	// LastName is the contact's last name.
	LastName string
	// CompanyName is the client's company; often empty for individuals.
	CompanyName string
	// Email is the client's e-mail (not necessarily a login User's e-mail).
	Email string
	// Status is Active, Inactive or Closed.
	Status string
	// PhoneNumber is the phone as stored, without formatting.
	PhoneNumber string
}

// ClientSummary is one row of GetClients. Text fields are entity-decoded.
type ClientSummary struct {
	// ID is the WHMCS client id.
	ID int64
	// FirstName is the contact's first name.
	FirstName string
	// LastName is the contact's last name.
	LastName string
	// CompanyName is the client's company.
	CompanyName string
	// Email is the client's e-mail.
	Email string
	// Status is Active, Inactive or Closed.
	Status string
}

// GetClientsRequest selects a page of GetClients.
type GetClientsRequest struct {
	// Search is WHMCS's prefix LIKE over e-mail, names and company; "_" and
	// "%" act as wildcards. It is not an exact match.
	Search string
	// Status filters by Active, Inactive or Closed; empty means all.
	Status string
	// Start is the zero-based offset (limitstart).
	Start int
	// Limit is the page size (limitnum); 0 means 100.
	Limit int
}

// ClientsPage is one page of GetClients.
type ClientsPage struct {
	// Total is the number of matching clients (totalresults).
	Total int
	// Start is the offset of this page (startnumber).
	Start int
	// Returned is the number of clients on this page (numreturned).
	Returned int
	// Clients are the rows; nil when nothing matched.
	Clients []ClientSummary
}

// AddClientRequest is the input of AddClient. (It is not called NewClient,
// the constructor of Client, to keep both names.)
type AddClientRequest struct {
	// FirstName is required by WHMCS.
	FirstName string
	// LastName is required by WHMCS.
	LastName string
	// CompanyName is optional.
	CompanyName string
	// Email is required and must not belong to an existing user.
	Email string
	// Phone goes to phonenumber.
	Phone string
	// Address1 is required unless SkipValidation.
	Address1 string
	// City is required unless SkipValidation.
	City string
	// State is required unless SkipValidation.
	State string
	// Postcode is required unless SkipValidation.
	Postcode string
	// Country is an ISO 3166-1 alpha-2 code.
	Country string
	// Password is the client-area password (password2), sent raw: WHMCS
	// decodes it explicitly, so pre-escaping would corrupt it.
	Password Secret
	// SkipValidation lets WHMCS accept a client without address fields (a
	// help-desk contact has only name, e-mail and phone).
	SkipValidation bool
	// NoEmail suppresses WHMCS's welcome e-mail.
	NoEmail bool
}

// clientFields are the client fields we read, wherever WHMCS puts them.
type clientFields struct {
	ID          FlexInt    `json:"id"`
	ClientID    FlexInt    `json:"client_id"`
	UserID      FlexInt    `json:"userid"`
	FirstName   FlexString `json:"firstname"`
	LastName    FlexString `json:"lastname"`
	CompanyName FlexString `json:"companyname"`
	Email       FlexString `json:"email"`
	Status      FlexString `json:"status"`
	PhoneNumber FlexString `json:"phonenumber"`
}

// clientsDetailsResponse embeds the deprecated top-level duplicates next to
// the client{} object that newer versions fill.
type clientsDetailsResponse struct {
	clientFields
	Client json.RawMessage `json:"client"`
}

// decodeClientsDetails reads GetClientsDetails, preferring client{} and
// falling back field by field to the top-level duplicates, because versions
// differ in which of the two they fill completely.
func decodeClientsDetails(body []byte) (ClientDetails, error) {
	var resp clientsDetailsResponse
	if err := json.Unmarshal(body, &resp); err != nil {
		return ClientDetails{}, err
	}
	var inner clientFields
	if raw := bytes.TrimSpace(resp.Client); len(raw) > 0 && raw[0] == '{' {
		if err := json.Unmarshal(raw, &inner); err != nil {
			return ClientDetails{}, err
		}
	}
	top := resp.clientFields
	d := ClientDetails{
		ID:          firstID(inner.ID, inner.ClientID, inner.UserID, top.ID, top.ClientID, top.UserID),
		FirstName:   firstText(inner.FirstName, top.FirstName),
		LastName:    firstText(inner.LastName, top.LastName),
		CompanyName: firstText(inner.CompanyName, top.CompanyName),
		Email:       firstText(inner.Email, top.Email),
		Status:      firstText(inner.Status, top.Status),
		PhoneNumber: firstText(inner.PhoneNumber, top.PhoneNumber),
	}
	if d.ID <= 0 {
		return ClientDetails{}, errMissingID
	}
	return d, nil
}

// firstID returns the first positive id.
func firstID(ids ...FlexInt) int64 {
	for _, id := range ids {
		if id > 0 {
			return int64(id)
		}
	}
	return 0
}

// firstText returns the first non-empty value, entity-decoded.
func firstText(vals ...FlexString) string {
	for _, v := range vals {
		if t := v.text(); t != "" {
			return t
		}
	}
	return ""
}

// clientRow is one element of clients.client[].
type clientRow struct {
	ID          FlexInt    `json:"id"`
	FirstName   FlexString `json:"firstname"`
	LastName    FlexString `json:"lastname"`
	CompanyName FlexString `json:"companyname"`
	Email       FlexString `json:"email"`
	Status      FlexString `json:"status"`
}

// clientsResponse is GetClients; clients is absent when nothing matched.
type clientsResponse struct {
	TotalResults FlexInt         `json:"totalresults"`
	StartNumber  FlexInt         `json:"startnumber"`
	NumReturned  FlexInt         `json:"numreturned"`
	Clients      json.RawMessage `json:"clients"`
}

// decodeClientsPage reads GetClients.
func decodeClientsPage(body []byte) (ClientsPage, error) {
	var resp clientsResponse
	if err := json.Unmarshal(body, &resp); err != nil {
		return ClientsPage{}, err
	}
	rows, err := DecodeList[clientRow](resp.Clients, "client")
	if err != nil {
		return ClientsPage{}, err
	}
	page := ClientsPage{
		Total:    clampInt(resp.TotalResults),
		Start:    clampInt(resp.StartNumber),
		Returned: clampInt(resp.NumReturned),
	}
	for _, r := range rows {
		if r.ID <= 0 {
			return ClientsPage{}, errMissingID
		}
		page.Clients = append(page.Clients, ClientSummary{
			ID:          int64(r.ID),
			FirstName:   r.FirstName.text(),
			LastName:    r.LastName.text(),
			CompanyName: r.CompanyName.text(),
			Email:       r.Email.text(),
			Status:      r.Status.text(),
		})
	}
	if page.Returned == 0 {
		page.Returned = len(page.Clients)
	}
	return page, nil
}

// GetClientsDetails returns one client by id or, when clientID is 0, by
// exact client e-mail. WHMCS answers "Client Not Found" (IsNotFound) when
// there is none.
func (c *Client) GetClientsDetails(ctx context.Context, clientID int64, email string) (ClientDetails, error) {
	const action = "GetClientsDetails"
	p := url.Values{}
	switch {
	case clientID > 0:
		p.Set("clientid", strconv.FormatInt(clientID, 10))
	case strings.TrimSpace(email) != "":
		p.Set("email", strings.TrimSpace(email))
	default:
		// The same words WHMCS would answer, without spending a request.
		return ClientDetails{}, &Error{Action: action, Kind: KindBusiness, Message: "Either clientid Or email Is Required"}
	}
	var d ClientDetails
	err := c.call(ctx, action, p, func(body []byte) (err error) {
		d, err = decodeClientsDetails(body)
		return err
	})
	if err != nil {
		return ClientDetails{}, err
	}
	return d, nil
}

// GetClients returns one page of clients. Limit defaults to 100 and is
// always sent, because WHMCS's own default (25) is easy to forget when paging.
func (c *Client) GetClients(ctx context.Context, req GetClientsRequest) (ClientsPage, error) {
	const action = "GetClients"
	p := url.Values{}
	if req.Search != "" {
		p.Set("search", req.Search)
	}
	if req.Status != "" {
		p.Set("status", req.Status)
	}
	p.Set("limitstart", strconv.Itoa(max(req.Start, 0)))
	p.Set("limitnum", strconv.Itoa(pageSize(req.Limit)))
	var page ClientsPage
	err := c.call(ctx, action, p, func(body []byte) (err error) {
		page, err = decodeClientsPage(body)
		return err
	})
	if err != nil {
		return ClientsPage{}, err
	}
	return page, nil
}

// FindClientByEmail finds the client whose e-mail equals email, ignoring
// case. It asks GetClientsDetails(email) first (one exact lookup); when WHMCS
// answers "Client Not Found" it falls back to GetClients(search=email), whose
// prefix LIKE may match other clients, and keeps only exact e-mail matches
// (the lowest client id wins if several differ only by case). No match is a
// KindBusiness "Client Not Found" error, for which IsNotFound is true.
func (c *Client) FindClientByEmail(ctx context.Context, email string) (ClientDetails, error) {
	const action = "FindClientByEmail"
	email = strings.TrimSpace(email)
	if email == "" {
		return ClientDetails{}, &Error{Action: action, Kind: KindBusiness, Message: "Either clientid Or email Is Required"}
	}
	d, err := c.GetClientsDetails(ctx, 0, email)
	switch {
	case err == nil && strings.EqualFold(d.Email, email):
		return d, nil
	case err != nil && !IsNotFound(err):
		return ClientDetails{}, err
	}
	// Either "Client Not Found" or an answer for a different address, which
	// must not log anyone into someone else's account.
	var best int64
	err = c.eachClientPage(ctx, email, func(page ClientsPage) {
		for _, s := range page.Clients {
			if strings.EqualFold(s.Email, email) && (best == 0 || s.ID < best) {
				best = s.ID
			}
		}
	})
	if err != nil {
		return ClientDetails{}, err
	}
	if best == 0 {
		return ClientDetails{}, &Error{Action: action, Kind: KindBusiness, Message: "Client Not Found"}
	}
	return c.GetClientsDetails(ctx, best, "")
}

// maxPages stops a paging loop against a server whose counts never add up.
const maxPages = 1000

// eachClientPage pages GetClients(search) until WHMCS says it is done.
func (c *Client) eachClientPage(ctx context.Context, search string, fn func(ClientsPage)) error {
	start := 0
	for range maxPages {
		page, err := c.GetClients(ctx, GetClientsRequest{Search: search, Start: start, Limit: defaultPageSize})
		if err != nil {
			return err
		}
		fn(page)
		if len(page.Clients) == 0 {
			return nil
		}
		start += len(page.Clients)
		if start >= page.Total {
			return nil
		}
	}
	return nil
}

// AddClient creates a client and returns its id. WHMCS refuses an e-mail that
// already belongs to a user ("A user already exists with that email address").
func (c *Client) AddClient(ctx context.Context, req AddClientRequest) (int64, error) {
	const action = "AddClient"
	p := url.Values{}
	setIf(p, "firstname", req.FirstName)
	setIf(p, "lastname", req.LastName)
	setIf(p, "companyname", req.CompanyName)
	setIf(p, "email", strings.TrimSpace(req.Email))
	setIf(p, "phonenumber", req.Phone)
	setIf(p, "address1", req.Address1)
	setIf(p, "city", req.City)
	setIf(p, "state", req.State)
	setIf(p, "postcode", req.Postcode)
	setIf(p, "country", strings.ToUpper(strings.TrimSpace(req.Country)))
	setIf(p, "password2", req.Password.Reveal())
	if req.SkipValidation {
		p.Set("skipvalidation", "true")
	}
	if req.NoEmail {
		p.Set("noemail", "true")
	}
	var resp struct {
		ClientID FlexInt `json:"clientid"`
	}
	err := c.call(ctx, action, p, func(body []byte) error {
		if err := json.Unmarshal(body, &resp); err != nil {
			return err
		}
		if resp.ClientID <= 0 {
			return errMissingID
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return int64(resp.ClientID), nil
}

// clientStatuses are the statuses UpdateClient accepts.
var clientStatuses = []string{"Active", "Inactive", "Closed"}

// UpdateClientStatus sets a client's status to Active, Inactive or Closed
// (UpdateClient). Other values are refused locally, since WHMCS would refuse
// them anyway.
func (c *Client) UpdateClientStatus(ctx context.Context, clientID int64, status string) error {
	const action = "UpdateClient"
	canonical := ""
	for _, s := range clientStatuses {
		if strings.EqualFold(s, strings.TrimSpace(status)) {
			canonical = s
		}
	}
	if canonical == "" {
		return &Error{Action: action, Kind: KindBusiness, Message: "Invalid client status supplied. Valid statuses are: Active, Inactive, Closed"}
	}
	if clientID <= 0 {
		return &Error{Action: action, Kind: KindBusiness, Message: "Client ID Not Found"}
	}
	p := url.Values{}
	p.Set("clientid", strconv.FormatInt(clientID, 10))
	p.Set("status", canonical)
	return c.call(ctx, action, p, nil)
}
