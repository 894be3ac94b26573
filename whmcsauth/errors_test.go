package whmcsauth

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rcchat/caddy-whmcs-auth/whmcsauth/whmcssim"
)

func TestAuthErrorIsNotRetried(t *testing.T) {
	sim := whmcssim.New(whmcssim.Options{Identifier: tIdent, Secret: "the-real-secret"})
	u, stop := sim.Start()
	defer stop()
	c, err := NewClient(Config{URL: u, Identifier: tIdent, Secret: tSecret})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.GetClientsDetails(context.Background(), 1, "")
	e := wantKind(t, err, KindAuth)
	if !IsAuth(err) || IsRetryable(err) || IsNotFound(err) || e.HTTPStatus != http.StatusForbidden {
		t.Fatalf("classification of %v", err)
	}
	if got := err.Error(); got != "whmcs GetClientsDetails: WHMCS rejected the API credentials: Authentication Failed" {
		t.Fatalf("message %q", got)
	}
	if sim.Requests() != 1 {
		t.Fatalf("the client must make exactly one request, made %d", sim.Requests())
	}
}

func TestBanAfterThreeBadSecrets(t *testing.T) {
	sim := whmcssim.New(whmcssim.Options{Identifier: tIdent, Secret: "the-real-secret"})
	u, stop := sim.Start()
	defer stop()
	c, _ := NewClient(Config{URL: u, Identifier: tIdent, Secret: tSecret})
	for range 3 {
		if _, err := c.GetClients(context.Background(), GetClientsRequest{}); !IsAuth(err) || IsBanned(err) {
			t.Fatalf("want Authentication Failed, got %v", err)
		}
	}
	_, err := c.GetClients(context.Background(), GetClientsRequest{})
	if e := wantKind(t, err, KindAuth); e.Message != "IP Banned" || !IsBanned(err) {
		t.Fatalf("4th call: %v", err)
	}
	if sim.Requests() != 4 {
		t.Fatalf("requests %d", sim.Requests())
	}
}

func TestOtherAuthErrors(t *testing.T) {
	ctx := context.Background()
	sim, c := simClient(t, whmcssim.Options{Identifier: tIdent, Secret: tSecret, AccessKey: tAccessKey})
	c.keys = keyring(apiKeys{secret: tSecret})
	_, err := c.GetInvoice(ctx, 1)
	if e := wantKind(t, err, KindAuth); e.Message != "Invalid Access Key" {
		t.Fatalf("access key: %v", err)
	}
	c.keys = keyring(apiKeys{secret: tSecret, accessKey: tAccessKey})
	sim.DenyAction("GetInvoice")
	_, err = c.GetInvoice(ctx, 1)
	if e := wantKind(t, err, KindAuth); e.Message != `Invalid Permissions: API action "getinvoice" is not allowed` {
		t.Fatalf("permission: %v", err)
	}
	if sim.Calls("GetInvoice") != 0 {
		t.Fatal("denied call reached the action")
	}

	wrongID, _ := NewClient(Config{URL: "http://x.invalid/includes/api.php", Identifier: "nobody", Secret: tSecret})
	wrongID.endpoint = c.endpoint
	wrongID.keys = keyring(apiKeys{secret: tSecret, accessKey: tAccessKey})
	if _, err := wrongID.GetInvoice(ctx, 1); !IsAuth(err) || err.(*Error).Message != "Invalid or missing credentials" {
		t.Fatalf("identifier: %v", err)
	}
}

func TestAuthClassification(t *testing.T) {
	for _, tc := range []struct {
		status int
		body   string
	}{
		{403, `{"result":"error","message":"Invalid IP 203.0.113.9"}`},
		{403, `{"result":"error","message":"Administrator Account Disabled"}`},
		{200, `{"result":"error","message":"Access Denied"}`}, // status rewritten by a proxy
		{200, `{"result":"error","message":"Invalid Permissions: API action \"getclients\" is not allowed"}`},
		{403, `<html>Forbidden by WAF</html>`},
		{401, ``},
	} {
		c, rec := fixtureClient(t, tc.status, tc.body)
		_, err := c.GetClients(context.Background(), GetClientsRequest{})
		wantKind(t, err, KindAuth)
		if rec.count() != 1 || IsRetryable(err) {
			t.Fatalf("%d %s: %v", tc.status, tc.body, err)
		}
	}
}

func TestBusinessErrors(t *testing.T) {
	for _, tc := range []struct {
		body     string
		notFound bool
	}{
		{`{"result":"error","message":"Client Not Found"}`, true},
		{`{"result":"error","message":"Client ID Not Found"}`, true},
		{`{"result":"error","message":"Invoice ID Not Found"}`, true},
		{`{"result":"error","message":"Ticket ID not found"}`, true},
		{`{"result":"error","message":"Service ID not found."}`, true},
		{`{"result":"error","message":"Command Not Found"}`, false},
		{`{"result":"error","message":"A user already exists with that email address"}`, false},
		{`{"result":"error"}`, false},
	} {
		c, _ := fixtureClient(t, 200, tc.body)
		_, err := c.GetInvoice(context.Background(), 7)
		wantKind(t, err, KindBusiness)
		if IsNotFound(err) != tc.notFound || IsRetryable(err) || IsAuth(err) {
			t.Errorf("%s: IsNotFound=%v err=%v", tc.body, IsNotFound(err), err)
		}
	}
	c, _ := fixtureClient(t, 400, `{"result":"error","message":"Empty action request"}`)
	_, err := c.GetInvoice(context.Background(), 7)
	if e := wantKind(t, err, KindBusiness); e.HTTPStatus != 400 || err.Error() != "whmcs GetInvoice: Empty action request" {
		t.Fatalf("400: %v", err)
	}
}

func TestTransportErrorsFromSim(t *testing.T) {
	ctx := context.Background()
	for name, fault := range map[string]whmcssim.Fault{
		"drop":      {Drop: true},
		"502":       {Status: http.StatusBadGateway},
		"500":       {Status: http.StatusInternalServerError},
		"malformed": {Malformed: true},
	} {
		t.Run(name, func(t *testing.T) {
			sim, c := simClient(t, whmcssim.Options{})
			sim.InjectFault("GetClientsProducts", fault)
			_, err := c.ListClientServices(ctx, 1)
			wantKind(t, err, KindTransport)
			if !IsRetryable(err) || IsAuth(err) || sim.Requests() != 1 {
				t.Fatalf("%v (requests %d)", err, sim.Requests())
			}
		})
	}
	t.Run("context timeout", func(t *testing.T) {
		sim, c := simClient(t, whmcssim.Options{})
		sim.InjectFault("", whmcssim.Fault{Latency: 10 * time.Second})
		tctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		defer cancel()
		_, err := c.GetTicket(tctx, 1)
		wantKind(t, err, KindTransport)
		if !IsRetryable(err) || !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "timed out") {
			t.Fatalf("%v", err)
		}
	})
	t.Run("refused", func(t *testing.T) {
		c, _ := NewClient(Config{URL: "http://127.0.0.1:1/includes/api.php", Identifier: tIdent, Secret: tSecret})
		_, err := c.GetInvoice(ctx, 1)
		wantKind(t, err, KindTransport)
		if strings.Contains(err.Error(), "127.0.0.1:1/includes") {
			t.Fatalf("url repeated in %v", err)
		}
	})
}

func TestTransportClassification(t *testing.T) {
	for _, tc := range []struct {
		status int
		body   string
	}{
		{200, `not json`},
		{200, `<?xml version="1.0"?><whmcsapi><result>success</result></whmcsapi>`},
		{200, `result=success;clientid=1;`},
		{200, ``},
		{200, `[]`},
		{200, `null`},
		{200, `{"result":"maybe"}`},
		{503, `{"result":"error","message":"Service Unavailable"}`},
		{502, `<html>bad gateway</html>`},
		{404, `<html>not found</html>`},
		{200, `{"result":"success","products":{"product":[{"id":"abc"}]}}`},
		{200, `{"result":"success","products":{"product":[{"id":"1","clientid":"1","name":{"x":1}}]}}`},
		{200, `{"result":"success","products":7}`},
	} {
		c, _ := fixtureClient(t, tc.status, tc.body)
		_, err := c.GetClientsProducts(context.Background(), GetClientsProductsRequest{ClientID: 1})
		e := wantKind(t, err, KindTransport)
		if !IsRetryable(err) || e.HTTPStatus != tc.status {
			t.Errorf("%d %q: %v", tc.status, tc.body, err)
		}
	}
}

func TestCommittedFaultOpensTicketOnce(t *testing.T) {
	// The client reports the lost answer and does not retry; the ticket
	// exists anyway, which is why writes go through the caller's outbox.
	sim, c := simClient(t, whmcssim.Options{})
	cid := sim.AddClient(whmcssim.Client{Email: "a@example.com"})
	sim.InjectFault("OpenTicket", whmcssim.Fault{Status: 504, Commit: true, Times: 1})
	_, err := c.OpenTicket(context.Background(), OpenTicketRequest{DeptID: 1, ClientID: cid, Subject: "s", Message: "m"})
	if !IsRetryable(err) || len(sim.Tickets()) != 1 || sim.Requests() != 1 {
		t.Fatalf("%v tickets=%d requests=%d", err, len(sim.Tickets()), sim.Requests())
	}
}

func TestKindString(t *testing.T) {
	if KindAuth.String() != "auth" || KindBusiness.String() != "business" || KindTransport.String() != "transport" || Kind(0).String() != "unknown" {
		t.Fatal("Kind.String")
	}
	if IsAuth(nil) || IsRetryable(errors.New("x")) || IsNotFound(nil) || IsBusiness(nil) || IsBanned(nil) {
		t.Fatal("helpers on foreign errors")
	}
	wrapped := errors.Join(errors.New("ctx"), &Error{Action: "A", Kind: KindAuth, Message: "IP Banned"})
	if !IsAuth(wrapped) || !IsBanned(wrapped) {
		t.Fatal("helpers must see through wrapping")
	}
}
