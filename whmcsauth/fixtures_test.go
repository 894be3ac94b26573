package whmcsauth

import (
	"context"
	"reflect"
	"testing"
)

// These fixtures are hand-written WHMCS answers in the shapes the fact sheet
// reports, including those the simulator does not emit by default.

func TestProductsShapes(t *testing.T) {
	row := `{"id":"12","clientid":"3","pid":"1","name":"B&aacute;sico &amp; Mais","status":"Active","domain":"","username":"u",` +
		`"password":"a&amp;b","nextduedate":"0000-00-00","regdate":"2024-02-03"}`
	numeric := `{"id":12,"clientid":3,"pid":1,"name":"Básico & Mais","status":"Active","password":"a&amp;b","nextduedate":"2030-01-01"}`
	for name, tc := range map[string]struct {
		body  string
		ids   []int64
		total int
	}{
		"documented":          {`{"result":"success","totalresults":"1","startnumber":0,"numreturned":1,"products":{"product":[` + row + `]}}`, []int64{12}, 1},
		"numbers not strings": {`{"result":"success","totalresults":1,"numreturned":"1","products":{"product":[` + numeric + `]}}`, []int64{12}, 1},
		"single object":       {`{"result":"success","totalresults":"1","products":{"product":` + row + `}}`, []int64{12}, 1},
		"bare array":          {`{"result":"success","totalresults":"1","products":[` + row + `]}`, []int64{12}, 1},
		"object without wrap": {`{"result":"success","totalresults":"1","products":` + row + `}`, []int64{12}, 1},
		"php numeric keys":    {`{"result":"success","totalresults":"2","products":{"product":{"3":` + numeric + `,"0":` + row + `}}}`, []int64{12, 12}, 2},
		"empty string":        {`{"result":"success","totalresults":"0","products":""}`, nil, 0},
		"empty array":         {`{"result":"success","totalresults":0,"products":[]}`, nil, 0},
		"empty object":        {`{"result":"success","totalresults":"","products":{}}`, nil, 0},
		"null":                {`{"result":"success","totalresults":null,"products":null}`, nil, 0},
		"empty wrapper":       {`{"result":"success","products":{"product":[]}}`, nil, 0},
		"absent":              {`{"result":"success"}`, nil, 0},
		"empty elements":      {`{"result":"success","totalresults":"1","products":{"product":[[],null,"",` + row + `]}}`, []int64{12}, 1},
	} {
		t.Run(name, func(t *testing.T) {
			c, _ := fixtureClient(t, 200, tc.body)
			page, err := c.GetClientsProducts(context.Background(), GetClientsProductsRequest{ClientID: 3})
			if err != nil {
				t.Fatal(err)
			}
			var ids []int64
			for _, s := range page.Services {
				ids = append(ids, s.ID)
			}
			if !reflect.DeepEqual(ids, tc.ids) || page.Total != tc.total {
				t.Fatalf("ids %v total %d", ids, page.Total)
			}
			if len(page.Services) == 0 {
				return
			}
			s := page.Services[0]
			if s.ClientID != 3 || s.ProductID != 1 || s.Name != "Básico & Mais" || s.Status != "Active" {
				t.Fatalf("service %+v", s)
			}
			if s.Password.Reveal() != "a&amp;b" {
				t.Fatalf("password must stay raw, got %q", s.Password.Reveal())
			}
		})
	}
	c, _ := fixtureClient(t, 200, `{"result":"success","products":{"product":[`+row+`]}}`)
	page, _ := c.GetClientsProducts(context.Background(), GetClientsProductsRequest{})
	if s := page.Services[0]; s.NextDueDate != "" || s.RegDate != "2024-02-03" || page.Returned != 1 {
		t.Fatalf("zero date and fallback count: %+v", page)
	}
}

func TestListClientServicesDropsForeignRows(t *testing.T) {
	c, _ := fixtureClient(t, 200, `{"result":"success","totalresults":"2","products":{"product":[`+
		`{"id":"1","clientid":"3","pid":"1"},{"id":"2","clientid":"4","pid":"1"}]}}`)
	all, err := c.ListClientServices(context.Background(), 3)
	if err != nil || len(all) != 1 || all[0].ID != 1 {
		t.Fatalf("%+v %v", all, err)
	}
}

func TestClientsShapes(t *testing.T) {
	row := `{"id":"7","firstname":"Jos&eacute;","lastname":"D&#039;&Aacute;vila","companyname":"A &amp; B","email":"j@example.com","status":"Active"}`
	for name, tc := range map[string]struct {
		body  string
		ids   []int64
		total int
	}{
		"documented":      {`{"result":"success","totalresults":1,"startnumber":0,"numreturned":1,"clients":{"client":[` + row + `]}}`, []int64{7}, 1},
		"strings":         {`{"result":"success","totalresults":"1","startnumber":"0","numreturned":"1","clients":{"client":[` + row + `]}}`, []int64{7}, 1},
		"single":          {`{"result":"success","totalresults":1,"clients":{"client":` + row + `}}`, []int64{7}, 1},
		"missing clients": {`{"result":"success","totalresults":0,"startnumber":0,"numreturned":0}`, nil, 0},
		"empty string":    {`{"result":"success","totalresults":0,"clients":""}`, nil, 0},
	} {
		t.Run(name, func(t *testing.T) {
			c, _ := fixtureClient(t, 200, tc.body)
			page, err := c.GetClients(context.Background(), GetClientsRequest{Search: "j"})
			if err != nil {
				t.Fatal(err)
			}
			var ids []int64
			for _, s := range page.Clients {
				ids = append(ids, s.ID)
			}
			if !reflect.DeepEqual(ids, tc.ids) || page.Total != tc.total {
				t.Fatalf("ids %v total %d", ids, page.Total)
			}
			if len(ids) > 0 {
				want := ClientSummary{ID: 7, FirstName: "José", LastName: "D'Ávila", CompanyName: "A & B", Email: "j@example.com", Status: "Active"}
				if page.Clients[0] != want {
					t.Fatalf("got %+v", page.Clients[0])
				}
			}
		})
	}
}

func TestClientsDetailsShapes(t *testing.T) {
	want := ClientDetails{ID: 5, FirstName: "Ana", LastName: "O'Neil", CompanyName: "Ben & Jerry", Email: "ana@example.com", Status: "Active", PhoneNumber: "123"}
	inner := `{"id":5,"firstname":"Ana","lastname":"O&#039;Neil","companyname":"Ben &amp; Jerry","email":"ana@example.com","status":"Active","phonenumber":"123"}`
	for name, body := range map[string]string{
		"client object": `{"result":"success","client":` + inner + `}`,
		"top level only": `{"result":"success","userid":"5","firstname":"Ana","lastname":"O&#039;Neil","companyname":"Ben &amp; Jerry",` +
			`"email":"ana@example.com","status":"Active","phonenumber":123}`,
		"partial client, top-level rest": `{"result":"success","client":{"client_id":"5","firstname":"Ana"},"lastname":"O&#039;Neil",` +
			`"companyname":"Ben &amp; Jerry","email":"ana@example.com","status":"Active","phonenumber":"123"}`,
		"both":             `{"result":"success","client":` + inner + `,"id":5,"firstname":"Stale"}`,
		"client as string": `{"result":"success","client":"","userid":5,"firstname":"Ana","lastname":"O'Neil","companyname":"Ben & Jerry","email":"ana@example.com","status":"Active","phonenumber":"123"}`,
	} {
		t.Run(name, func(t *testing.T) {
			c, _ := fixtureClient(t, 200, body)
			got, err := c.GetClientsDetails(context.Background(), 5, "")
			if err != nil || got != want {
				t.Fatalf("got %+v %v", got, err)
			}
		})
	}
	c, _ := fixtureClient(t, 200, `{"result":"success","client":{"firstname":"NoID"}}`)
	if _, err := c.GetClientsDetails(context.Background(), 5, ""); !IsRetryable(err) {
		t.Fatalf("an answer without id is malformed: %v", err)
	}
}

func TestFindClientByEmailRejectsOtherAddress(t *testing.T) {
	// A GetClientsDetails answer for a different address must never be
	// taken as the match; the fallback search finds nothing here.
	c, rec := handlerClientJSON(t, map[string]string{
		"GetClientsDetails": `{"result":"success","client":{"id":9,"email":"someone@else.com"}}`,
		"GetClients":        `{"result":"success","totalresults":0,"startnumber":0,"numreturned":0}`,
	})
	if _, err := c.FindClientByEmail(context.Background(), "ana@example.com"); !IsNotFound(err) {
		t.Fatalf("%v", err)
	}
	if rec.count() != 2 {
		t.Fatalf("requests %d", rec.count())
	}
}

func TestInvoiceShapes(t *testing.T) {
	for name, tc := range map[string]struct {
		body  string
		items int
	}{
		"documented": {`{"result":"success","invoiceid":"1","userid":"2361","status":"Unpaid","items":{"item":[{"id":"1","type":"Hosting","relid":"1","description":"A &amp; B"}]},"transactions":""}`, 1},
		"single":     {`{"result":"success","invoiceid":1,"userid":2361,"status":"Unpaid","items":{"item":{"id":1,"type":"Hosting","relid":1,"description":"A & B"}},"transactions":[]}`, 1},
		"no items":   {`{"result":"success","invoiceid":1,"userid":2361,"status":"Unpaid","items":"","transactions":""}`, 0},
	} {
		t.Run(name, func(t *testing.T) {
			c, _ := fixtureClient(t, 200, tc.body)
			inv, err := c.GetInvoice(context.Background(), 1)
			if err != nil || inv.ID != 1 || inv.ClientID != 2361 || len(inv.Items) != tc.items {
				t.Fatalf("%+v %v", inv, err)
			}
			if tc.items > 0 && (inv.Items[0].RelID != 1 || inv.Items[0].Description != "A & B" || inv.Items[0].Type != "Hosting") {
				t.Fatalf("item %+v", inv.Items[0])
			}
		})
	}
}

func TestTicketShapes(t *testing.T) {
	body := `{"result":"success","ticketid":"1","tid":"516757","c":"KPqH7yG3","deptid":"1","userid":"1","name":"Cynthia &amp; Co",` +
		`"email":"t@example.com","subject":"Sample &lt;1&gt;","status":"Closed","priority":"Medium",` +
		`"replies":{"reply":{"replyid":"0","name":"Cynthia","email":"t@example.com","date":"2016-01-01 06:26:29",` +
		`"message":"Hey &amp; thanks","attachment":"","attachments":[[]],"admin":""}},"notes":{"note":[]}}`
	c, _ := fixtureClient(t, 200, body)
	tk, err := c.GetTicket(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	want := Ticket{ID: 1, TID: "516757", DeptID: 1, ClientID: 1, Status: "Closed", Priority: "Medium", Subject: "Sample <1>",
		Name: "Cynthia & Co", Email: "t@example.com",
		Replies: []TicketReply{{Name: "Cynthia", Email: "t@example.com", Date: "2016-01-01 06:26:29", Message: "Hey & thanks"}}}
	if !reflect.DeepEqual(tk, want) {
		t.Fatalf("got  %+v\nwant %+v", tk, want)
	}
	for _, open := range []string{
		`{"result":"success","id":"1","tid":"516757","c":"KPqH7yG3"}`,
		`{"result":"success","id":1,"tid":516757,"c":"KPqH7yG3"}`,
	} {
		c, _ := fixtureClient(t, 200, open)
		got, err := c.OpenTicket(context.Background(), OpenTicketRequest{DeptID: 1, Name: "n", Email: "e@example.com", Subject: "s", Message: "m"})
		if err != nil || got != (OpenedTicket{ID: 1, TID: "516757", AccessKey: "KPqH7yG3"}) {
			t.Fatalf("%s: %+v %v", open, got, err)
		}
	}
}

func TestAddClientShapes(t *testing.T) {
	for _, body := range []string{`{"result":"success","clientid":"42"}`, `{"result":"success","clientid":42,"owner_id":7}`} {
		c, rec := fixtureClient(t, 200, body)
		id, err := c.AddClient(context.Background(), AddClientRequest{FirstName: "A&B", Email: " a@example.com ", Password: "p&ss", Country: "br"})
		if err != nil || id != 42 {
			t.Fatalf("%s: %d %v", body, id, err)
		}
		f := rec.last()
		if f.Get("firstname") != "A&B" || f.Get("password2") != "p&ss" || f.Get("email") != "a@example.com" || f.Get("country") != "BR" || f.Has("skipvalidation") {
			t.Fatalf("form %v", f)
		}
	}
	c, _ := fixtureClient(t, 200, `{"result":"success"}`)
	if _, err := c.AddClient(context.Background(), AddClientRequest{Email: "a@example.com"}); !IsRetryable(err) {
		t.Fatalf("missing clientid: %v", err)
	}
}
