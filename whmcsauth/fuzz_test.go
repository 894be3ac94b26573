package whmcsauth

import (
	"testing"
)

// Seeds cover every shape the fact sheet documents, so the fuzzer starts
// from realistic answers and mutates towards the odd ones.
var responseSeeds = []string{
	`{"result":"success","clientid":"1","serviceid":null,"pid":null,"domain":null,"totalresults":"2","startnumber":0,"numreturned":2,` +
		`"products":{"product":[{"id":"1","clientid":"1","pid":"1","name":"Starter","status":"Active","password":"xxxxxxxx","nextduedate":"2016-11-25",` +
		`"customfields":{"customfield":[]},"configoptions":{"configoption":[{"id":"1","option":"o","type":"dropdown","value":"v"}]}}]}}`,
	`{"result":"success","totalresults":"0","startnumber":0,"numreturned":0,"products":""}`,
	`{"result":"success","products":{"product":{"id":5,"clientid":5,"pid":"2","password":"a&amp;b"}}}`,
	`{"result":"success","products":{"product":{"0":{"id":"1"},"7":{"id":"2"}}}}`,
	`{"result":"success","totalresults":2,"startnumber":0,"numreturned":2,"clients":{"client":[{"id":1,"firstname":"Price","lastname":"Beier",` +
		`"companyname":"","email":"cecelia99@example.com","datecreated":"2016-01-01","groupid":0,"status":"Active"}]}}`,
	`{"result":"success","totalresults":0,"startnumber":0,"numreturned":0}`,
	`{"result":"success","clients":{"client":{"id":"3","companyname":"A &amp; B"}}}`,
	`{"result":"success","userid":1,"id":1,"firstname":"Test","client":{"userid":1,"id":"1","firstname":"Test","lastname":"Client",` +
		`"email":"test-client@example.com","status":"Active","users":{"user":[{"id":1,"is_owner":true}]}}}`,
	`{"result":"success","invoiceid":"1","userid":"2361","status":"Unpaid","items":{"item":[{"id":"1","type":"Hosting","relid":"1","description":"x"}]},"transactions":""}`,
	`{"result":"success","ticketid":"1","tid":"516757","replies":{"reply":[{"replyid":"0","message":"Hey","attachments":[[]]}]},"notes":{"note":[]}}`,
	`{"result":"success","id":"1","tid":"516757","c":"KPqH7yG3"}`,
	`{"result":"success","products":{"product":{"product":{"product":{"product":[]}}}}}`,
	`{"result":"success","products":[[],null,"",{"id":"1e3"}]}`,
	`{}`, `[]`, `null`, `""`, `{"products":7}`, `{"clients":{"client":[1]}}`,
}

func FuzzDecodeProducts(f *testing.F) {
	for _, s := range responseSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		page, err := decodeProductsPage(data)
		if err == nil {
			for _, s := range page.Services {
				if s.ID <= 0 {
					t.Fatalf("decoded a service without id: %+v", s)
				}
			}
			if page.Total < 0 || page.Returned < 0 || page.Start < 0 {
				t.Fatalf("negative counts: %+v", page)
			}
		}
	})
}

func FuzzDecodeClients(f *testing.F) {
	for _, s := range responseSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		page, err := decodeClientsPage(data)
		if err == nil {
			for _, c := range page.Clients {
				if c.ID <= 0 {
					t.Fatalf("decoded a client without id: %+v", c)
				}
			}
		}
		if d, err := decodeClientsDetails(data); err == nil && d.ID <= 0 {
			t.Fatalf("details without id: %+v", d)
		}
	})
}

func FuzzDecodeOthers(f *testing.F) {
	for _, s := range responseSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if inv, err := decodeInvoice(data); err == nil && inv.ID <= 0 {
			t.Fatalf("invoice without id: %+v", inv)
		}
		if tk, err := decodeTicket(data); err == nil && tk.ID <= 0 {
			t.Fatalf("ticket without id: %+v", tk)
		}
		if o, err := decodeOpenedTicket(data); err == nil && o.ID <= 0 {
			t.Fatalf("opened ticket without id: %+v", o)
		}
		_, _ = DecodeList[productRow](data, "product")
	})
}
