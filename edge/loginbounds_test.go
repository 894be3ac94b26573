package edge_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/rcchat/caddy-whmcs-auth/edge"
	"github.com/rcchat/caddy-whmcs-auth/lockout"
	"github.com/rcchat/caddy-whmcs-auth/session"
	"github.com/rcchat/caddy-whmcs-auth/store"
	"github.com/rcchat/caddy-whmcs-auth/store/boltstore"
	"github.com/rcchat/caddy-whmcs-auth/whmcsauth"
)

// refusingWHMCS refuses every login, counting the checks it was asked for.
type refusingWHMCS struct{ calls atomic.Int64 }

func (w *refusingWHMCS) Login(context.Context, string, string) (whmcsauth.Account, whmcsauth.Outcome, error) {
	w.calls.Add(1)
	return whmcsauth.Account{}, whmcsauth.OutcomeInvalid, nil
}

type boundsEdge struct {
	edge    *edge.Edge
	store   store.Store
	whmcs   *refusingWHMCS
	metrics *edge.Metrics
	logs    *observer.ObservedLogs
}

// newBoundsEdge is an edge over a real bolt file whose WHMCS refuses
// everything, with a 1 ms failure floor so many refusals stay quick, and
// every log line (debug included) observed.
func newBoundsEdge(t *testing.T, p lockout.Policy) *boundsEdge {
	t.Helper()
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "state.db"), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	core, logs := observer.New(zapcore.DebugLevel)
	be := &boundsEdge{store: st, whmcs: &refusingWHMCS{}, metrics: edge.NewMetrics(), logs: logs}
	be.edge = edge.New(edge.Config{
		Store:           st,
		Login:           be.whmcs,
		Provisioner:     &whmcsauth.Provisioner{Store: st},
		Sessions:        session.NewManager(st, 12*time.Hour),
		Lockout:         lockout.NewGuard(st, p),
		LoginPath:       "/backend/auth/login",
		SSOUpstreamPath: "/backend/auth/sso",
		FailureFloor:    time.Millisecond,
		Logger:          zap.New(core),
		Metrics:         be.metrics,
	})
	return be
}

// login posts JSON credentials to path from ip and returns the status and
// the error code of the answer.
func (be *boundsEdge) login(t *testing.T, path, ip, email, password string, next edge.Next) (int, string) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"email": email, "password": password})
	r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(string(body)))
	r.Host = "chat.example.com"
	r.RemoteAddr = ip + ":40000"
	r.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	if next == nil {
		next = okNext
	}
	if err := be.edge.ServeHTTP(w, r, next); err != nil {
		t.Fatal(err)
	}
	var answer struct {
		Error string `json:"error"`
	}
	_ = json.Unmarshal(w.Body.Bytes(), &answer)
	return w.Code, answer.Error
}

func (be *boundsEdge) audit(t *testing.T) []store.AuditEntry {
	t.Helper()
	var as []store.AuditEntry
	if err := be.store.View(context.Background(), func(tx store.Tx) error {
		var err error
		as, err = tx.Audit(0)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return as
}

func (be *boundsEdge) lockoutKeys(t *testing.T) []string {
	t.Helper()
	var keys []string
	if err := be.store.View(context.Background(), func(tx store.Tx) error {
		ls, err := tx.Lockouts("", 100)
		for _, l := range ls {
			keys = append(keys, l.Key)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return keys
}

// longestLogField is the length of the longest string field of any
// observed log line.
func (be *boundsEdge) longestLogField() int {
	n := 0
	for _, e := range be.logs.All() {
		n = max(n, len(e.Message))
		for _, f := range e.Context {
			n = max(n, len(f.String))
		}
	}
	return n
}

// TestOverlongEmailRefusedBounded is the state-file flood: a 65,000-character
// e-mail is refused as invalid_credentials without asking WHMCS, audited and
// logged cut to 254 bytes, counted against the IP alone, and the IP's
// lockout still answers 429 after IP_MAX tries.
func TestOverlongEmailRefusedBounded(t *testing.T) {
	p := lockout.Policy{MaxFailures: 5, IPMaxFailures: 20, Window: 10 * time.Minute, Ban: 15 * time.Minute}
	be := newBoundsEdge(t, p)
	long := strings.Repeat("a", 65000) + "@x.test"
	start := time.Now()
	for i := range p.IPMaxFailures {
		if code, errCode := be.login(t, "/sso/login", "192.0.2.80", long, "pw", nil); code != http.StatusUnauthorized || errCode != "invalid_credentials" {
			t.Fatalf("try %d: %d %q, want 401 invalid_credentials", i+1, code, errCode)
		}
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("%d refusals took %v", p.IPMaxFailures, d)
	}
	if code, errCode := be.login(t, "/sso/login", "192.0.2.80", long, "pw", nil); code != http.StatusTooManyRequests || errCode != "too_many_attempts" {
		t.Fatalf("after IP_MAX tries: %d %q, want 429 too_many_attempts", code, errCode)
	}
	if n := be.whmcs.calls.Load(); n != 0 {
		t.Errorf("WHMCS was asked %d times about an over-long e-mail", n)
	}
	as := be.audit(t)
	if len(as) != p.IPMaxFailures {
		t.Errorf("%d audit entries, want %d (one per 401, none for the 429)", len(as), p.IPMaxFailures)
	}
	want := strings.Repeat("a", 254) + "…"
	for _, a := range as {
		if a.Email != want {
			t.Fatalf("audit e-mail of %d bytes, want the first 254 and an ellipsis", len(a.Email))
		}
	}
	keys := be.lockoutKeys(t)
	if len(keys) != 1 || keys[0] != "ip:192.0.2.80" {
		t.Errorf("lockout counters %.80q, want only the IP's", keys)
	}
	if n := be.longestLogField(); n > 300 {
		t.Errorf("a log line carries a %d-byte field", n)
	}
}

// TestOverlongPasswordRefused: a password over 1 KiB never reaches WHMCS
// and counts against the IP only.
func TestOverlongPasswordRefused(t *testing.T) {
	be := newBoundsEdge(t, lockout.DefaultPolicy)
	code, errCode := be.login(t, "/sso/login", "192.0.2.81", "ana@x.test", strings.Repeat("p", 1025), nil)
	if code != http.StatusUnauthorized || errCode != "invalid_credentials" {
		t.Fatalf("%d %q, want 401 invalid_credentials", code, errCode)
	}
	if n := be.whmcs.calls.Load(); n != 0 {
		t.Errorf("WHMCS was asked about a %d-byte password", 1025)
	}
	if keys := be.lockoutKeys(t); len(keys) != 1 || keys[0] != "ip:192.0.2.81" {
		t.Errorf("lockout counters %q, want only the IP's", keys)
	}
	// At the bound it is an ordinary attempt.
	be.login(t, "/sso/login", "192.0.2.81", strings.Repeat("e", 244)+"@x.test", strings.Repeat("p", 1024), nil)
	if n := be.whmcs.calls.Load(); n != 1 {
		t.Errorf("a 251-byte e-mail and 1024-byte password were not checked with WHMCS (%d calls)", n)
	}
}

// TestLockedOutAttemptsAreNotAudited: once an e-mail is locked out, its 429s
// are counted in the metric but add nothing to the audit log.
func TestLockedOutAttemptsAreNotAudited(t *testing.T) {
	be := newBoundsEdge(t, lockout.Policy{MaxFailures: 3, IPMaxFailures: 100, Window: time.Minute, Ban: time.Minute})
	for range 3 {
		if code, _ := be.login(t, "/sso/login", "192.0.2.82", "ana@x.test", "wrong", nil); code != http.StatusUnauthorized {
			t.Fatalf("status %d, want 401", code)
		}
	}
	for range 10 {
		if code, _ := be.login(t, "/sso/login", "192.0.2.82", "ana@x.test", "wrong", nil); code != http.StatusTooManyRequests {
			t.Fatalf("status %d, want 429", code)
		}
	}
	if as := be.audit(t); len(as) != 3 {
		t.Errorf("%d audit entries, want the 3 refusals only", len(as))
	}
	var m dto.Metric
	if err := be.metrics.Logins.WithLabelValues("too_many_attempts").Write(&m); err != nil {
		t.Fatal(err)
	}
	if n := m.GetCounter().GetValue(); n != 10 {
		t.Errorf("too_many_attempts counted %v times, want 10", n)
	}
}

// TestInterceptedOverlongEmailLeftToRCChat: RC-CHAT's own login with an
// over-long e-mail is not a WHMCS check; RC-CHAT judges it, and its
// refusal is counted without a bbolt error (the key is bounded).
func TestInterceptedOverlongEmailLeftToRCChat(t *testing.T) {
	be := newBoundsEdge(t, lockout.Policy{MaxFailures: 5, IPMaxFailures: 2, Window: time.Minute, Ban: time.Minute})
	long := strings.Repeat("a", 65000) + "@x.test"
	var reached int
	refuse := func(w http.ResponseWriter, r *http.Request) error {
		reached++
		w.WriteHeader(http.StatusUnauthorized)
		return nil
	}
	for range 2 {
		if code, _ := be.login(t, "/backend/auth/login", "192.0.2.83", long, "pw", refuse); code != http.StatusUnauthorized {
			t.Fatalf("status %d, want RC-CHAT's 401", code)
		}
	}
	if reached != 2 || be.whmcs.calls.Load() != 0 {
		t.Errorf("RC-CHAT reached %d times, WHMCS %d; want 2 and 0", reached, be.whmcs.calls.Load())
	}
	if code, _ := be.login(t, "/backend/auth/login", "192.0.2.83", long, "pw", refuse); code != http.StatusTooManyRequests {
		t.Fatalf("status %d after IP_MAX refusals, want 429", code)
	}
	for _, e := range be.logs.FilterLevelExact(zapcore.ErrorLevel).All() {
		t.Errorf("error logged: %s", e.Message)
	}
}
