package whmcsauth

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestNewClientValidation(t *testing.T) {
	good := Config{URL: "https://billing.example.com/includes/api.php", Identifier: tIdent, Secret: tSecret}
	if c, err := NewClient(good); err != nil || c.timeout != DefaultTimeout {
		t.Fatalf("good config: %v", err)
	}
	for name, mutate := range map[string]func(*Config){
		"relative":        func(c *Config) { c.URL = "/includes/api.php" },
		"no host":         func(c *Config) { c.URL = "https:///includes/api.php" },
		"ftp":             func(c *Config) { c.URL = "ftp://billing.example.com/includes/api.php" },
		"garbage":         func(c *Config) { c.URL = "http://[::1" },
		"userinfo":        func(c *Config) { c.URL = "https://u:p@billing.example.com/includes/api.php" },
		"no identifier":   func(c *Config) { c.Identifier = " " },
		"no secret":       func(c *Config) { c.Secret = "" },
		"negative timeut": func(c *Config) { c.Timeout = -time.Second },
	} {
		cfg := good
		mutate(&cfg)
		if _, err := NewClient(cfg); err == nil {
			t.Errorf("%s: want error", name)
		} else if strings.Contains(err.Error(), tSecret) {
			t.Errorf("%s: error leaks the secret", name)
		}
	}
}

// Without credentials the client is built (the module may run before the
// operator sets them) but never sends a request: WHMCS would count each as a
// failed login and ban the IP after three.
func TestUnconfiguredClientNeverCallsWHMCS(t *testing.T) {
	c, rec := handlerClient(t, func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"result":"success"}`))
	})
	bare, err := NewClient(Config{URL: c.endpoint})
	if err != nil {
		t.Fatalf("no credentials: %v, want a client", err)
	}
	if bare.Configured() || !c.Configured() {
		t.Fatalf("Configured() = %v without credentials, %v with", bare.Configured(), c.Configured())
	}
	_, err = bare.GetClientsDetails(context.Background(), 0, "ana@example.com")
	var e *Error
	if !errors.As(err, &e) || e.Kind != KindAuth || !strings.Contains(err.Error(), "api_identifier") {
		t.Fatalf("call without credentials: %v, want a KindAuth error naming api_identifier", err)
	}
	if n := rec.count(); n != 0 {
		t.Fatalf("WHMCS received %d requests from an unconfigured client, want 0", n)
	}
}

func TestWireFormat(t *testing.T) {
	var gotMethod, gotType string
	c, rec := handlerClient(t, func(w http.ResponseWriter, r *http.Request) {
		gotMethod, gotType = r.Method, r.Header.Get("Content-Type")
		_, _ = w.Write([]byte(`{"result":"success","totalresults":0,"startnumber":0,"numreturned":0}`))
	})
	c.keys = keyring(apiKeys{secret: tSecret, accessKey: tAccessKey})
	if _, err := c.GetClients(context.Background(), GetClientsRequest{Search: "a+b@example.com"}); err != nil {
		t.Fatal(err)
	}
	f := rec.last()
	if gotMethod != http.MethodPost || gotType != "application/x-www-form-urlencoded" {
		t.Fatalf("method %s type %s", gotMethod, gotType)
	}
	for k, want := range map[string]string{
		"action": "GetClients", "identifier": tIdent, "secret": tSecret, "accesskey": tAccessKey,
		"responsetype": "json", "search": "a+b@example.com", "limitstart": "0", "limitnum": "100",
	} {
		if f.Get(k) != want {
			t.Errorf("%s = %q, want %q", k, f.Get(k), want)
		}
	}

	c2, rec2 := fixtureClient(t, 200, `{"result":"success","products":""}`)
	if _, err := c2.GetClientsProducts(context.Background(), GetClientsProductsRequest{ClientID: 5, Start: 200}); err != nil {
		t.Fatal(err)
	}
	f = rec2.last()
	if f.Get("limitnum") != "100" || f.Get("limitstart") != "200" || f.Get("clientid") != "5" || f.Has("serviceid") || f.Has("pid") || f.Has("accesskey") {
		t.Fatalf("products form %v", f)
	}
}

func TestRedirectIsNotFollowed(t *testing.T) {
	c, rec := handlerClient(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "https://elsewhere.example/includes/api.php", http.StatusPermanentRedirect)
	})
	_, err := c.GetClientsDetails(context.Background(), 1, "")
	e := wantKind(t, err, KindTransport)
	if e.HTTPStatus != http.StatusPermanentRedirect || rec.count() != 1 {
		t.Fatalf("redirect: %v (requests %d)", err, rec.count())
	}
}

func TestOversizedAnswer(t *testing.T) {
	c, _ := handlerClient(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"result":"success","pad":"`))
		_, _ = w.Write([]byte(strings.Repeat("x", maxResponseBytes)))
		_, _ = w.Write([]byte(`"}`))
	})
	_, err := c.GetClientsDetails(context.Background(), 1, "")
	if e := wantKind(t, err, KindTransport); !strings.Contains(e.Message, "4 MiB") {
		t.Fatalf("message %q", e.Message)
	}
}

func TestConfiguredTimeout(t *testing.T) {
	block := make(chan struct{})
	defer close(block)
	c, _ := handlerClient(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	})
	c.timeout = 50 * time.Millisecond
	start := time.Now()
	_, err := c.GetInvoice(context.Background(), 1)
	wantKind(t, err, KindTransport)
	if !IsRetryable(err) || time.Since(start) > 5*time.Second {
		t.Fatalf("timeout: %v after %v", err, time.Since(start))
	}
}

func TestUserHTTPClientIsCopied(t *testing.T) {
	hc := &http.Client{Timeout: time.Minute}
	c, err := NewClient(Config{URL: "http://127.0.0.1:1/includes/api.php", Identifier: tIdent, Secret: tSecret, HTTPClient: hc, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if hc.CheckRedirect != nil || c.httpClient == hc || c.httpClient.CheckRedirect == nil {
		t.Fatal("the caller's client must not be modified")
	}
}
