package whmcsauth

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/rcchat/caddy-whmcs-auth/whmcsauth/whmcssim"
)

const servicePassword = "Svc-Pa55word-Value"

// render prints v in every way a log line or debug dump might.
func render(v any) string {
	var b strings.Builder
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%20s", "%-8v"} {
		fmt.Fprintf(&b, verb+"\n", v)
	}
	fmt.Fprintln(&b, v)
	if j, err := json.Marshal(v); err == nil {
		b.Write(j)
	}
	var logBuf bytes.Buffer
	slog.New(slog.NewJSONHandler(&logBuf, nil)).Info("dump", "v", v)
	slog.New(slog.NewTextHandler(&logBuf, nil)).Info("dump", "v", v)
	b.Write(logBuf.Bytes())
	if x, err := xml.Marshal(struct{ V any }{v}); err == nil {
		b.Write(x)
	}
	return b.String()
}

// assertNoLeak fails if any rendering of v contains a secret.
func assertNoLeak(t *testing.T, name string, v any) {
	t.Helper()
	out := render(v)
	for _, s := range []string{tSecret, tAccessKey, servicePassword} {
		if strings.Contains(out, s) {
			t.Errorf("%s leaks %q:\n%s", name, s, out)
		}
	}
}

func TestSecretRedaction(t *testing.T) {
	s := Secret(tSecret)
	if s.Reveal() != tSecret || s.IsZero() || !Secret("").IsZero() {
		t.Fatal("Reveal/IsZero")
	}
	assertNoLeak(t, "Secret", s)
	assertNoLeak(t, "*Secret", &s)
	if fmt.Sprint(s) != "[redacted]" {
		t.Fatalf("Sprint %q", fmt.Sprint(s))
	}
	if j, _ := json.Marshal(map[string]Secret{"k": s}); string(j) != `{"k":"[redacted]"}` {
		t.Fatalf("json %s", j)
	}
	// Decoding is unaffected by the redacting marshalers.
	var back struct{ P Secret }
	if err := json.Unmarshal([]byte(`{"P":"x&y"}`), &back); err != nil || back.P.Reveal() != "x&y" {
		t.Fatalf("unmarshal %v %q", err, back.P.Reveal())
	}
}

func TestNoTypeLeaksSecrets(t *testing.T) {
	sim, c := simClient(t, whmcssim.Options{Identifier: tIdent, Secret: tSecret, AccessKey: tAccessKey})
	cid := sim.AddClient(whmcssim.Client{Email: "a@example.com"})
	sim.AddService(whmcssim.Service{ClientID: cid, ProductID: 1, Password: servicePassword})
	ctx := context.Background()

	page, err := c.GetClientsProducts(ctx, GetClientsProductsRequest{ClientID: cid})
	if err != nil || page.Services[0].Password.Reveal() != servicePassword {
		t.Fatalf("%+v %v", page, err)
	}
	services, _ := c.ListClientServices(ctx, cid)
	cfg := Config{URL: "https://x/includes/api.php", Identifier: tIdent, Secret: tSecret, AccessKey: tAccessKey}
	for name, v := range map[string]any{
		"Service":          page.Services[0],
		"*Service":         &page.Services[0],
		"ProductsPage":     page,
		"[]Service":        services,
		"Config":           cfg,
		"*Config":          &cfg,
		"*Client":          c,
		"Client":           *c,
		"AddClientRequest": AddClientRequest{Email: "a@example.com", Password: servicePassword},
	} {
		assertNoLeak(t, name, v)
	}
}

func TestErrorsNeverLeakSecrets(t *testing.T) {
	ctx := context.Background()
	var errs []error

	bad := whmcssim.New(whmcssim.Options{Identifier: tIdent, Secret: "other-secret"})
	u, stop := bad.Start()
	defer stop()
	c, _ := NewClient(Config{URL: u, Identifier: tIdent, Secret: tSecret, AccessKey: tAccessKey})
	_, err := c.GetClientsDetails(ctx, 1, "")
	errs = append(errs, err)

	// A proxy or a buggy module echoing the request body.
	echo, _ := fixtureClient(t, 403, `{"result":"error","message":"bad credential `+tSecret+` key `+tAccessKey+`"}`)
	echo.keys = keyring(apiKeys{secret: tSecret, accessKey: tAccessKey})
	_, err = echo.GetInvoice(ctx, 1)
	errs = append(errs, err)
	echo5, _ := fixtureClient(t, 500, `{"result":"error","message":"secret=`+tSecret+`"}`)
	_, err = echo5.GetInvoice(ctx, 1)
	errs = append(errs, err)

	// Malformed answers carrying a service password.
	for _, body := range []string{
		`{"result":"success","products":{"product":[{"id":"1","clientid":{"x":1},"password":"` + servicePassword + `"}]}}`,
		`{"result":"success","products":{"product":[{"id":"1","password":{"p":"` + servicePassword + `"}}]}}`,
		`{"result":"success","products":{"product":[{"id":"` + servicePassword + `","password":"x"}]}}`,
		`{"result":"success","products":"` + servicePassword + `"}`,
		`{"result":"success","products":{"product":[{"password":"` + servicePassword + `" "id":1}]}}`,
		`<html>` + servicePassword + `</html>`,
	} {
		mc, _ := fixtureClient(t, 200, body)
		_, err := mc.GetClientsProducts(ctx, GetClientsProductsRequest{ClientID: 1})
		if err == nil {
			t.Fatalf("%s: want an error", body)
		}
		errs = append(errs, err)
	}

	sim, sc := simClient(t, whmcssim.Options{Identifier: tIdent, Secret: tSecret})
	sim.InjectFault("", whmcssim.Fault{Drop: true})
	_, err = sc.ListClientServices(ctx, 1)
	errs = append(errs, err)

	for i, err := range errs {
		assertNoLeak(t, fmt.Sprintf("error %d (%v)", i, err), err)
		if e, ok := asError(err); ok {
			assertNoLeak(t, fmt.Sprintf("*Error %d fields", i), *e)
		}
	}
}
