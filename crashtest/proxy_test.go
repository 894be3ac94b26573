package crashtest

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// answerHolder sits between Caddy and the simulator and delays WHMCS's
// answers to chosen actions after WHMCS has done the work: the window in
// which a crash loses the answer to a write that happened. The simulator's
// own Latency fault delays before the work, which a crash simply cancels.
type answerHolder struct {
	target string
	hold   time.Duration
	srv    *httptest.Server

	mu      sync.Mutex
	actions map[string]bool // lower-case actions whose answers are held
	seen    map[string]int
	trap    *trap
}

// trap holds the n-th answer to action until the caller goes away, and
// reports when it starts holding it.
type trap struct {
	action  string
	n       int
	holding chan struct{}
}

func newAnswerHolder(t *testing.T, target string, hold time.Duration, actions ...string) *answerHolder {
	h := &answerHolder{target: target, hold: hold, actions: map[string]bool{}, seen: map[string]int{}}
	for _, a := range actions {
		h.actions[strings.ToLower(a)] = true
	}
	h.srv = httptest.NewServer(h)
	t.Cleanup(h.srv.Close)
	return h
}

// URL is the api.php address to give Caddy.
func (h *answerHolder) URL() string { return h.srv.URL + "/includes/api.php" }

// trapAnswer arms the trap; the returned channel closes once the n-th
// answer to action is done in WHMCS and being held.
func (h *answerHolder) trapAnswer(action string, n int) <-chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.trap = &trap{action: strings.ToLower(action), n: n, holding: make(chan struct{})}
	return h.trap.holding
}

func (h *answerHolder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	form, _ := url.ParseQuery(string(body))
	action := strings.ToLower(form.Get("action"))
	req, err := http.NewRequestWithContext(r.Context(), http.MethodPost, h.target, bytes.NewReader(body))
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	req.Header.Set("Content-Type", r.Header.Get("Content-Type"))
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		panic(http.ErrAbortHandler) // WHMCS dropped us: drop Caddy too
	}
	answer, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		panic(http.ErrAbortHandler)
	}

	h.mu.Lock()
	hold := time.Duration(0)
	var trapped chan struct{}
	if h.actions[action] {
		h.seen[action]++
		hold = h.hold
		if tr := h.trap; tr != nil && tr.action == action && tr.n == h.seen[action] {
			trapped, hold = tr.holding, time.Minute
		}
	}
	h.mu.Unlock()
	if trapped != nil {
		close(trapped)
	}
	if hold > 0 {
		select {
		case <-time.After(hold):
		case <-r.Context().Done():
			return // the caller is gone; WHMCS did the work anyway
		}
	}
	w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(answer)
}
