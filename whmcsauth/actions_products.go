package whmcsauth

import (
	"context"
	"encoding/json"
	"net/url"
	"strconv"
)

// Service is one product/service of a client (a tblhosting row), as
// GetClientsProducts returns it.
type Service struct {
	// ID is the service id (tblhosting.id), the relid of Hosting invoice items.
	ID int64
	// ClientID is the owning client.
	ClientID int64
	// ProductID is the product (pid); it maps to an RC-CHAT plan.
	ProductID int64
	// Name is the product name, entity-decoded.
	Name string
	// Status is Pending, Active, Completed, Suspended, Terminated, Cancelled
	// or Fraud.
	Status string
	// Domain is the service's domain field, entity-decoded.
	Domain string
	// Username is the service username, entity-decoded.
	Username string
	// NextDueDate is YYYY-MM-DD, or "" when WHMCS has none (0000-00-00).
	NextDueDate string
	// RegDate is YYYY-MM-DD, or "" when WHMCS has none.
	RegDate string
	// Password is the plaintext service password exactly as WHMCS sent it.
	// It is deliberately not entity-decoded: whether WHMCS stored it escaped
	// depends on how it was set, so the login code compares both forms.
	Password Secret
}

// GetClientsProductsRequest filters GetClientsProducts; zero fields are not
// sent.
type GetClientsProductsRequest struct {
	// ClientID restricts to one client.
	ClientID int64
	// ServiceID restricts to one service.
	ServiceID int64
	// ProductID restricts to one product (pid).
	ProductID int64
	// Start is the zero-based offset (limitstart).
	Start int
	// Limit is the page size (limitnum); 0 means 100. It is always sent:
	// WHMCS 8.7 returns every row when it is absent.
	Limit int
}

// ProductsPage is one page of GetClientsProducts.
type ProductsPage struct {
	// Total is the number of matching services (totalresults).
	Total int
	// Start is the offset of this page (startnumber).
	Start int
	// Returned is the number of services on this page (numreturned).
	Returned int
	// Services are the rows; nil when nothing matched ("products":"").
	Services []Service
}

// productRow is one element of products.product[]; every value may be a
// string (the documented form) or a number.
type productRow struct {
	ID          FlexInt    `json:"id"`
	ClientID    FlexInt    `json:"clientid"`
	PID         FlexInt    `json:"pid"`
	Name        FlexString `json:"name"`
	Status      FlexString `json:"status"`
	Domain      FlexString `json:"domain"`
	Username    FlexString `json:"username"`
	Password    FlexString `json:"password"`
	NextDueDate FlexString `json:"nextduedate"`
	RegDate     FlexString `json:"regdate"`
}

// productsResponse is GetClientsProducts; products is "" when empty.
type productsResponse struct {
	TotalResults FlexInt         `json:"totalresults"`
	StartNumber  FlexInt         `json:"startnumber"`
	NumReturned  FlexInt         `json:"numreturned"`
	Products     json.RawMessage `json:"products"`
}

// decodeProductsPage reads GetClientsProducts.
func decodeProductsPage(body []byte) (ProductsPage, error) {
	var resp productsResponse
	if err := json.Unmarshal(body, &resp); err != nil {
		return ProductsPage{}, err
	}
	rows, err := DecodeList[productRow](resp.Products, "product")
	if err != nil {
		return ProductsPage{}, err
	}
	page := ProductsPage{
		Total:    clampInt(resp.TotalResults),
		Start:    clampInt(resp.StartNumber),
		Returned: clampInt(resp.NumReturned),
	}
	for _, r := range rows {
		if r.ID <= 0 {
			return ProductsPage{}, errMissingID
		}
		page.Services = append(page.Services, Service{
			ID:          int64(r.ID),
			ClientID:    int64(r.ClientID),
			ProductID:   int64(r.PID),
			Name:        r.Name.text(),
			Status:      r.Status.text(),
			Domain:      r.Domain.text(),
			Username:    r.Username.text(),
			NextDueDate: r.NextDueDate.date(),
			RegDate:     r.RegDate.date(),
			Password:    Secret(r.Password),
		})
	}
	if page.Returned == 0 {
		page.Returned = len(page.Services)
	}
	return page, nil
}

// GetClientsProducts returns one page of services matching req.
func (c *Client) GetClientsProducts(ctx context.Context, req GetClientsProductsRequest) (ProductsPage, error) {
	const action = "GetClientsProducts"
	p := url.Values{}
	if req.ClientID > 0 {
		p.Set("clientid", strconv.FormatInt(req.ClientID, 10))
	}
	if req.ServiceID > 0 {
		p.Set("serviceid", strconv.FormatInt(req.ServiceID, 10))
	}
	if req.ProductID > 0 {
		p.Set("pid", strconv.FormatInt(req.ProductID, 10))
	}
	p.Set("limitstart", strconv.Itoa(max(req.Start, 0)))
	p.Set("limitnum", strconv.Itoa(pageSize(req.Limit)))
	var page ProductsPage
	err := c.call(ctx, action, p, func(body []byte) (err error) {
		page, err = decodeProductsPage(body)
		return err
	})
	if err != nil {
		return ProductsPage{}, err
	}
	return page, nil
}

// ListClientServices returns every service of a client, paging until WHMCS's
// totalresults is reached. A service that moves between pages while we page
// is reported once. Rows that name another client are dropped: the login
// compares passwords against these services, so a filter that WHMCS ignored
// must not widen the set to everyone's services.
func (c *Client) ListClientServices(ctx context.Context, clientID int64) ([]Service, error) {
	if clientID <= 0 {
		return nil, &Error{Action: "GetClientsProducts", Kind: KindBusiness, Message: "Client ID Not Found"}
	}
	var out []Service
	seen := make(map[int64]bool)
	start := 0
	for range maxPages {
		page, err := c.GetClientsProducts(ctx, GetClientsProductsRequest{ClientID: clientID, Start: start, Limit: defaultPageSize})
		if err != nil {
			return nil, err
		}
		for _, s := range page.Services {
			if s.ClientID == clientID && !seen[s.ID] {
				seen[s.ID] = true
				out = append(out, s)
			}
		}
		if len(page.Services) == 0 {
			break
		}
		start += len(page.Services)
		if start >= page.Total {
			break
		}
	}
	return out, nil
}
