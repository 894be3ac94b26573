package whmcsauth

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"

	"github.com/rcchat/caddy-whmcs-auth/whmcsauth/whmcssim"
)

// Test credentials; long and distinctive so leak checks are meaningful.
const (
	tIdent     = "api-ident-1"
	tSecret    = "Sup3r-Secr3t-Value"
	tAccessKey = "Acc3ss-K3y-Value"
)

// simClient starts a simulator and a client configured for it.
func simClient(t *testing.T, opts whmcssim.Options) (*whmcssim.Sim, *Client) {
	t.Helper()
	if opts.Identifier == "" {
		opts.Identifier, opts.Secret = tIdent, tSecret
	}
	sim := whmcssim.New(opts)
	u, stop := sim.Start()
	t.Cleanup(stop)
	c, err := NewClient(Config{URL: u, Identifier: opts.Identifier, Secret: Secret(opts.Secret), AccessKey: Secret(opts.AccessKey)})
	if err != nil {
		t.Fatal(err)
	}
	return sim, c
}

// recorder remembers the forms a fixture server received.
type recorder struct {
	mu    sync.Mutex
	forms []url.Values
}

func (r *recorder) add(f url.Values) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.forms = append(r.forms, f)
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.forms)
}

func (r *recorder) last() url.Values {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.forms) == 0 {
		return nil
	}
	return r.forms[len(r.forms)-1]
}

// handlerClient serves h and returns a client for it plus a request recorder.
func handlerClient(t *testing.T, h http.HandlerFunc) (*Client, *recorder) {
	t.Helper()
	rec := &recorder{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		rec.add(r.PostForm)
		h(w, r)
	}))
	t.Cleanup(srv.Close)
	c, err := NewClient(Config{URL: srv.URL + "/includes/api.php", Identifier: tIdent, Secret: tSecret})
	if err != nil {
		t.Fatal(err)
	}
	return c, rec
}

// fixtureClient answers every request with status and body.
func fixtureClient(t *testing.T, status int, body string) (*Client, *recorder) {
	t.Helper()
	return handlerClient(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	})
}

// wantKind asserts err is an *Error of the given kind.
func wantKind(t *testing.T, err error, kind Kind) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("want *Error of kind %v, got %T %v", kind, err, err)
	}
	if e.Kind != kind {
		t.Fatalf("want kind %v, got %v: %v", kind, e.Kind, err)
	}
	return e
}

// handlerClientJSON answers each action with a fixed JSON body.
func handlerClientJSON(t *testing.T, byAction map[string]string) (*Client, *recorder) {
	t.Helper()
	return handlerClient(t, func(w http.ResponseWriter, r *http.Request) {
		body, ok := byAction[r.PostForm.Get("action")]
		if !ok {
			body = `{"result":"error","message":"unexpected action"}`
		}
		_, _ = w.Write([]byte(body))
	})
}
