package whmcssim

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

const (
	testID     = "ident-1"
	testSecret = "s3cret-value"
)

// startSim starts a Sim with the test credential.
func startSim(t *testing.T, opts Options) (*Sim, string) {
	t.Helper()
	if opts.Identifier == "" {
		opts.Identifier, opts.Secret = testID, testSecret
	}
	s := New(opts)
	u, stop := s.Start()
	t.Cleanup(stop)
	return s, u
}

// answer is one raw API answer.
type answer struct {
	status int
	raw    string
	body   map[string]any
}

// call posts an authenticated JSON request with the given extra parameters
// (pairs of key, value).
func call(t *testing.T, apiURL, action string, kv ...string) answer {
	t.Helper()
	p := url.Values{"action": {action}, "identifier": {testID}, "secret": {testSecret}, "responsetype": {"json"}}
	for i := 0; i+1 < len(kv); i += 2 {
		p.Set(kv[i], kv[i+1])
	}
	return post(t, apiURL, p)
}

// post sends a raw form.
func post(t *testing.T, apiURL string, p url.Values) answer {
	t.Helper()
	resp, err := http.PostForm(apiURL, p)
	if err != nil {
		t.Fatalf("post: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, raw: string(b)}
	if strings.HasPrefix(strings.TrimSpace(a.raw), "{") {
		if err := json.Unmarshal(b, &a.body); err != nil {
			t.Fatalf("answer is not JSON: %v\n%s", err, b)
		}
	}
	return a
}

// wantError asserts an error envelope.
func wantError(t *testing.T, a answer, status int, msg string) {
	t.Helper()
	if a.status != status || a.body["result"] != "error" || a.body["message"] != msg {
		t.Fatalf("want %d %q, got %d %s", status, msg, a.status, a.raw)
	}
}

// wantSuccess asserts result=success with 200.
func wantSuccess(t *testing.T, a answer) {
	t.Helper()
	if a.status != http.StatusOK || a.body["result"] != "success" {
		t.Fatalf("want success, got %d %s", a.status, a.raw)
	}
}

// list returns body[plural][singular] as a slice of objects.
func list(t *testing.T, body map[string]any, plural, singular string) []map[string]any {
	t.Helper()
	wrap, ok := body[plural].(map[string]any)
	if !ok {
		t.Fatalf("%s is %T, want object", plural, body[plural])
	}
	items, ok := wrap[singular].([]any)
	if !ok {
		t.Fatalf("%s.%s is %T, want array", plural, singular, wrap[singular])
	}
	out := make([]map[string]any, len(items))
	for i, it := range items {
		out[i] = it.(map[string]any)
	}
	return out
}
