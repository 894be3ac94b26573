package whmcssim

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestCredentialsErrors(t *testing.T) {
	_, u := startSim(t, Options{BanAfter: -1})
	for _, tc := range []struct {
		name string
		p    url.Values
		want string
	}{
		{"missing identifier", url.Values{"action": {"GetClients"}, "secret": {testSecret}}, "Invalid or missing credentials"},
		{"wrong identifier", url.Values{"action": {"GetClients"}, "identifier": {"x"}, "secret": {testSecret}}, "Invalid or missing credentials"},
		{"wrong secret", url.Values{"action": {"GetClients"}, "identifier": {testID}, "secret": {"nope"}}, "Authentication Failed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.p.Set("responsetype", "json")
			wantError(t, post(t, u, tc.p), http.StatusForbidden, tc.want)
		})
	}
	// username/password are accepted as aliases of identifier/secret.
	a := post(t, u, url.Values{"action": {"GetClients"}, "username": {testID}, "password": {testSecret}, "responsetype": {"json"}})
	wantSuccess(t, a)
}

func TestBanAfterThreeFailures(t *testing.T) {
	s, u := startSim(t, Options{})
	bad := url.Values{"action": {"GetClients"}, "identifier": {testID}, "secret": {"wrong"}, "responsetype": {"json"}}
	for range 3 {
		wantError(t, post(t, u, bad), http.StatusForbidden, "Authentication Failed")
	}
	// Even the right credential is refused now.
	wantError(t, call(t, u, "GetClients"), http.StatusForbidden, "IP Banned")
	if s.Calls("") != 0 || s.Requests() != 4 {
		t.Fatalf("calls=%d requests=%d", s.Calls(""), s.Requests())
	}
	s.Unban()
	wantSuccess(t, call(t, u, "GetClients"))
}

func TestAccessKey(t *testing.T) {
	_, u := startSim(t, Options{Identifier: testID, Secret: testSecret, AccessKey: "k3y"})
	wantError(t, call(t, u, "GetClients"), http.StatusForbidden, "Invalid Access Key")
	wantError(t, call(t, u, "GetClients", "accesskey", "wrong"), http.StatusForbidden, "Invalid Access Key")
	wantSuccess(t, call(t, u, "GetClients", "accesskey", "k3y"))
}

func TestIPAllowList(t *testing.T) {
	_, u := startSim(t, Options{Identifier: testID, Secret: testSecret, AllowedIPs: []string{"10.9.9.9"}})
	wantError(t, call(t, u, "GetClients"), http.StatusForbidden, "Invalid IP 127.0.0.1")
	_, u2 := startSim(t, Options{Identifier: testID, Secret: testSecret, AllowedIPs: []string{"127.0.0.1"}, AccessKey: "k"})
	// An allowed IP needs no key, but a wrong key is still refused.
	wantSuccess(t, call(t, u2, "GetClients"))
	wantError(t, call(t, u2, "GetClients", "accesskey", "bad"), http.StatusForbidden, "Invalid Access Key")
}

func TestActionNames(t *testing.T) {
	s, u := startSim(t, Options{})
	wantSuccess(t, call(t, u, "gEtClIeNtS"))
	if s.Calls("GetClients") != 1 {
		t.Fatalf("calls = %d", s.Calls("GetClients"))
	}
	wantError(t, call(t, u, "Foo"), http.StatusForbidden, `Invalid API Action: "foo" is not a valid API action`)
	wantError(t, call(t, u, ""), http.StatusBadRequest, "Empty action request")
	s.DenyAction("GetInvoice")
	wantError(t, call(t, u, "GETINVOICE", "invoiceid", "1"), http.StatusForbidden, `Invalid Permissions: API action "getinvoice" is not allowed`)
	if s.Calls("getinvoice") != 0 {
		t.Fatal("a denied call must not reach the action")
	}
	s.AllowAction("getinvoice")
	wantError(t, call(t, u, "GetInvoice", "invoiceid", "1"), http.StatusOK, "Invoice ID Not Found")
}

func TestResponseTypes(t *testing.T) {
	s, u := startSim(t, Options{})
	s.AddClient(Client{FirstName: "A", LastName: "B", Email: "a@example.com"})
	base := url.Values{"identifier": {testID}, "secret": {testSecret}}
	with := func(action, rt string, set bool) answer {
		p := url.Values{"action": {action}}
		for k, v := range base {
			p[k] = v
		}
		if set {
			p.Set("responsetype", rt)
		}
		return post(t, u, p)
	}
	if a := with("GetClients", "", false); !strings.HasPrefix(a.raw, "<?xml") || !strings.Contains(a.raw, "<client>") {
		t.Fatalf("list action without responsetype should be XML:\n%s", a.raw)
	}
	if a := with("GetClientsDetails", "", false); a.body != nil || !strings.HasPrefix(a.raw, "result=error;message=") {
		t.Fatalf("other actions default to NVP: %s", a.raw)
	}
	if a := with("GetClients", "NVP", true); !strings.Contains(a.raw, "only supports the XML or JSON") {
		t.Fatalf("nvp on a list action: %s", a.raw)
	}
	if a := with("GetClients", "yaml", true); !strings.Contains(a.raw, "Unsupported API response type format") {
		t.Fatalf("bad responsetype: %s", a.raw)
	}
	if a := with("GetClients", "JSON", true); a.body["result"] != "success" {
		t.Fatalf("responsetype is case-insensitive: %s", a.raw)
	}
}

func TestPathAndQueryMerge(t *testing.T) {
	s := New(Options{Identifier: testID, Secret: testSecret})
	u, stop := s.Start()
	defer stop()
	resp, err := http.Get(strings.TrimSuffix(u, "/includes/api.php") + "/other.php")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("status %d", resp.StatusCode)
	}
	// Query parameters count, as PHP's $_REQUEST would have them.
	a := post(t, u+"?action=GetClients&responsetype=json", url.Values{"identifier": {testID}, "secret": {testSecret}})
	wantSuccess(t, a)
}
