package whmcssim

import (
	"net/http"
	"strings"
	"testing"
)

func TestGetClientsProductsShape(t *testing.T) {
	s, u := startSim(t, Options{})
	cid := s.AddClient(Client{FirstName: "A", LastName: "B", Email: "a@example.com"})
	sid := s.AddService(Service{ClientID: cid, ProductID: 7, Name: "Plan <Pro>", Password: `p&'"`, NextDueDate: "2030-01-02"})

	a := call(t, u, "GetClientsProducts", "clientid", "1")
	wantSuccess(t, a)
	if a.body["clientid"] != "1" || a.body["serviceid"] != nil || a.body["pid"] != nil || a.body["domain"] != nil {
		t.Fatalf("filters must be echoed (null when absent): %s", a.raw)
	}
	if a.body["totalresults"] != "1" {
		t.Fatalf("totalresults must be a string: %#v", a.body["totalresults"])
	}
	if _, isNum := a.body["numreturned"].(float64); !isNum {
		t.Fatalf("numreturned must be a number: %#v", a.body["numreturned"])
	}
	rows := list(t, a.body, "products", "product")
	for k, v := range rows[0] {
		if _, isStr := v.(string); !isStr && k != "customfields" && k != "configoptions" {
			t.Errorf("products.product[].%s = %#v, want a string", k, v)
		}
	}
	if rows[0]["id"] != str(sid) || rows[0]["pid"] != "7" || rows[0]["name"] != "Plan &lt;Pro&gt;" {
		t.Fatalf("row: %v", rows[0])
	}
	if rows[0]["password"] != "p&amp;&#039;&quot;" {
		t.Fatalf("password is returned as stored (escaped): %q", rows[0]["password"])
	}

	empty := call(t, u, "GetClientsProducts", "clientid", "99")
	if empty.body["products"] != "" || empty.body["totalresults"] != "0" {
		t.Fatalf(`no match must give "products":"": %s`, empty.raw)
	}
	if !strings.Contains(empty.raw, `"products":""`) {
		t.Fatalf("raw: %s", empty.raw)
	}
}

func TestRawServicePasswordsOption(t *testing.T) {
	s, u := startSim(t, Options{Identifier: testID, Secret: testSecret, RawServicePasswords: true})
	s.AddService(Service{ClientID: 1, ProductID: 1, Password: "a&b"})
	rows := list(t, call(t, u, "GetClientsProducts", "clientid", "1").body, "products", "product")
	if rows[0]["password"] != "a&b" {
		t.Fatalf("password %q", rows[0]["password"])
	}
}

func TestGetClientsProductsPaging(t *testing.T) {
	s, u := startSim(t, Options{})
	for range 5 {
		s.AddService(Service{ClientID: 1, ProductID: 1})
	}
	s.AddService(Service{ClientID: 2, ProductID: 1})
	all := call(t, u, "GetClientsProducts", "clientid", "1")
	if len(list(t, all.body, "products", "product")) != 5 {
		t.Fatal("without limitnum every row comes back")
	}
	page := call(t, u, "GetClientsProducts", "clientid", "1", "limitstart", "3", "limitnum", "2")
	rows := list(t, page.body, "products", "product")
	if len(rows) != 2 || rows[0]["id"] != "4" || page.body["totalresults"] != "5" || page.body["startnumber"] != float64(3) {
		t.Fatalf("page: %s", page.raw)
	}
	if n := call(t, u, "GetClientsProducts", "serviceid", "6").body["totalresults"]; n != "1" {
		t.Fatalf("serviceid filter: %v", n)
	}
	if n := call(t, u, "GetClientsProducts", "pid", "2").body["totalresults"]; n != "0" {
		t.Fatalf("pid filter: %v", n)
	}
}

func TestGetClientsShape(t *testing.T) {
	s, u := startSim(t, Options{})
	s.AddClient(Client{FirstName: "Zed", LastName: "Zulu", Email: "zed@example.com"})
	s.AddClient(Client{FirstName: "Ann", LastName: "Alpha", CompanyName: "Ben & Jerry's", Email: "ann@example.com", Status: "Closed"})
	s.AddClient(Client{FirstName: "Ann", LastName: "Beta", Email: "ann@example.com.br"})

	a := call(t, u, "GetClients", "search", "ann@example.com")
	wantSuccess(t, a)
	if a.body["totalresults"] != float64(2) || a.body["numreturned"] != float64(2) {
		t.Fatalf("search is a prefix match and counts are ints: %s", a.raw)
	}
	rows := list(t, a.body, "clients", "client")
	if rows[0]["lastname"] != "Alpha" || rows[0]["companyname"] != "Ben &amp; Jerry&#039;s" || rows[0]["id"] != float64(2) {
		t.Fatalf("rows sorted by last name, text escaped: %v", rows)
	}
	none := call(t, u, "GetClients", "search", "nobody")
	if _, present := none.body["clients"]; present || none.body["totalresults"] != float64(0) {
		t.Fatalf("no match must omit clients: %s", none.raw)
	}
	if got := call(t, u, "GetClients", "status", "Closed").body["totalresults"]; got != float64(1) {
		t.Fatalf("status filter: %v", got)
	}
	wantError(t, call(t, u, "GetClients", "status", "Gone"), http.StatusOK, invalidClientStatus)
	if got := call(t, u, "GetClients", "search", "ann_"); got.body["totalresults"] != float64(2) {
		t.Fatalf("_ is a wildcard: %s", got.raw)
	}
	if got := call(t, u, "GetClients", "search", "Ann Beta"); got.body["totalresults"] != float64(1) {
		t.Fatalf("full name search: %s", got.raw)
	}
	if got := call(t, u, "GetClients", "search", "Ben & J"); got.body["totalresults"] != float64(1) {
		t.Fatalf("search with entities: %s", got.raw)
	}
	// Default page size is 25.
	for range 30 {
		s.AddClient(Client{LastName: "Many", Email: "m@example.com"})
	}
	if got := call(t, u, "GetClients"); got.body["numreturned"] != float64(25) {
		t.Fatalf("default page: %v", got.body["numreturned"])
	}
}

func TestLike(t *testing.T) {
	for _, tc := range []struct {
		s, p string
		want bool
	}{
		{"abc", "a%", true}, {"abc", "abc%", true}, {"abc", "abcd%", false}, {"abc", "a_c%", true},
		{"abc", "%c", true}, {"abc", "%b%", true}, {"abc", "_%_", true}, {"a", "__%", false},
		{"", "%", true}, {"x@y.z", "x@y.z%", true},
	} {
		if got := like(tc.s, tc.p); got != tc.want {
			t.Errorf("like(%q, %q) = %v", tc.s, tc.p, got)
		}
	}
}

func TestGetClientsDetailsShape(t *testing.T) {
	s, u := startSim(t, Options{})
	id := s.AddClient(Client{FirstName: `Jo "J"`, LastName: "O'Neil", CompanyName: "A&B <Ltda>", Email: "Jo@Example.com", PhoneNumber: "+55 11"})
	a := call(t, u, "GetClientsDetails", "clientid", str(id))
	wantSuccess(t, a)
	client := a.body["client"].(map[string]any)
	for _, k := range []string{"id", "userid", "client_id", "firstname", "lastname", "companyname", "email", "status", "uuid"} {
		if a.body[k] != client[k] {
			t.Errorf("top-level duplicate %s: %v vs %v", k, a.body[k], client[k])
		}
	}
	if client["firstname"] != "Jo &quot;J&quot;" || client["lastname"] != "O&#039;Neil" || client["companyname"] != "A&amp;B &lt;Ltda&gt;" {
		t.Fatalf("escaping: %v", client)
	}
	if client["email_verified"] != false || client["id"] != float64(id) {
		t.Fatalf("types: %v", client)
	}
	users := list(t, client, "users", "user")
	if users[0]["is_owner"] != true {
		t.Fatalf("users: %v", users)
	}
	// Email lookup ignores case unless StrictEmailLookup.
	wantSuccess(t, call(t, u, "GetClientsDetails", "email", "jo@example.com"))
	wantError(t, call(t, u, "GetClientsDetails", "email", "no@example.com"), http.StatusOK, "Client Not Found")
	wantError(t, call(t, u, "GetClientsDetails"), http.StatusOK, "Either clientid Or email Is Required")
	if st := call(t, u, "GetClientsDetails", "clientid", "1", "stats", "true").body["stats"]; st == nil {
		t.Fatal("stats=true adds stats")
	}

	s2, u2 := startSim(t, Options{Identifier: testID, Secret: testSecret, StrictEmailLookup: true})
	s2.AddClient(Client{Email: "Jo@Example.com"})
	wantError(t, call(t, u2, "GetClientsDetails", "email", "jo@example.com"), http.StatusOK, "Client Not Found")
	wantSuccess(t, call(t, u2, "GetClientsDetails", "email", "Jo@Example.com"))
}

func TestGetInvoiceShape(t *testing.T) {
	s, u := startSim(t, Options{})
	id := s.AddInvoice(Invoice{ClientID: 4, Items: []InvoiceItem{
		{Type: "Hosting", RelID: 9, Description: "RC-CHAT & co", Amount: "10.50"},
		{Type: "LateFee", Description: "Late", Amount: "1.00"},
	}})
	a := call(t, u, "GetInvoice", "invoiceid", str(id))
	wantSuccess(t, a)
	if a.body["transactions"] != "" || a.body["userid"] != float64(4) || a.body["invoiceid"] != float64(id) || a.body["total"] != "11.50" {
		t.Fatalf("invoice: %s", a.raw)
	}
	items := list(t, a.body, "items", "item")
	if items[0]["relid"] != float64(9) || items[0]["description"] != "RC-CHAT &amp; co" {
		t.Fatalf("items: %v", items)
	}
	if err := s.SetInvoiceStatus(id, "Paid"); err != nil {
		t.Fatal(err)
	}
	paid := call(t, u, "GetInvoice", "invoiceid", str(id))
	if paid.body["status"] != "Paid" || len(list(t, paid.body, "transactions", "transaction")) != 1 {
		t.Fatalf("paid: %s", paid.raw)
	}
	wantError(t, call(t, u, "GetInvoice", "invoiceid", "404"), http.StatusOK, "Invoice ID Not Found")
}
