package caddymodule

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/rcchat/caddy-whmcs-auth/webhooks"
	"github.com/rcchat/caddy-whmcs-auth/whmcsauth/whmcssim"
)

// Each config load provisions the module with a new, empty registry. The
// same collectors must land on every one of them, still counting: a login
// after the reload counts on from the earlier ones instead of from zero.
func TestMetricsSurviveReloads(t *testing.T) {
	sim := whmcssim.New(whmcssim.Options{Identifier: "ident", Secret: "secret"})
	apiURL, stop := sim.Start()
	t.Cleanup(stop)
	clientID := sim.AddClient(whmcssim.Client{FirstName: "Ana", LastName: "Lima", Email: "ana@example.com", Status: "Active"})
	serviceID := sim.AddService(whmcssim.Service{ClientID: clientID, ProductID: 1, Password: "pw", Status: "Active",
		RegDate: "2026-01-01", NextDueDate: "2026-12-31"})
	state := filepath.Join(t.TempDir(), "state.db")

	var before *snapshot
	for load := 1; load <= 2; load++ {
		ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
		h := &Handler{APIURL: apiURL, APIIdentifier: "ident", APISecret: "secret", State: state,
			Plans: []PlanMapping{{ProductID: 1, Name: "Basico"}}, WebhookSecret: "whsec", ServiceToken: "svc"}
		if err := h.Provision(ctx); err != nil {
			t.Fatalf("load %d: Provision: %v", load, err)
		}
		if err := h.Validate(); err != nil {
			t.Fatalf("load %d: Validate: %v", load, err)
		}

		if code := serve(t, h, "POST", "/sso/login", `{"email":"ana@example.com","password":"pw"}`); code != 200 {
			t.Fatalf("load %d: login answered %d", load, code)
		}
		if code := serve(t, h, "POST", "/sso/login", `{"email":"ana@example.com","password":"wrong"}`); code != 401 {
			t.Fatalf("load %d: wrong password answered %d", load, code)
		}
		event, _ := json.Marshal(map[string]any{"id": "ev-" + strconv.Itoa(load), "event": "AfterModuleUnsuspend",
			"occurred_at": time.Now().UTC().Format(time.RFC3339),
			"params":      map[string]any{"serviceid": serviceID, "userid": clientID, "pid": 1}})
		ts := time.Now().Unix()
		if code := serve(t, h, "POST", "/api/webhooks/whmcs", string(event),
			webhooks.HeaderTimestamp, strconv.FormatInt(ts, 10), webhooks.HeaderSignature, webhooks.Sign("whsec", ts, event)); code != 200 {
			t.Fatalf("load %d: webhook answered %d", load, code)
		}

		reg := ctx.GetMetricsRegistry()
		// The confirmation job runs in the background; wait for it.
		var now *snapshot
		deadline := time.Now().Add(10 * time.Second)
		for {
			now = gather(t, reg)
			if now.value("caddy_whmcs_auth_outbox_job_runs_total", "kind", webhooks.JobKind, "outcome", "done") >= float64(load) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("load %d: the confirmation job did not run: %v", load, now)
			}
			time.Sleep(20 * time.Millisecond)
		}

		for _, c := range []struct {
			name   string
			labels []string
			want   float64
		}{
			{"caddy_whmcs_auth_logins_total", []string{"outcome", "success"}, float64(load)},
			{"caddy_whmcs_auth_logins_total", []string{"outcome", "invalid_credentials"}, float64(load)},
			{"caddy_whmcs_auth_events_total", []string{"event", "AfterModuleUnsuspend", "outcome", "accepted"}, float64(load)},
			// Sessions live in the state file, so the first load's one is still there.
			{"caddy_whmcs_auth_sessions_active", nil, float64(load)},
			{"caddy_whmcs_auth_outbox_jobs", []string{"state", "pending"}, 0},
			{"caddy_whmcs_auth_outbox_jobs", []string{"state", "failed"}, 0},
			{"caddy_whmcs_auth_outbox_oldest_job_age_seconds", nil, 0},
		} {
			if got := now.value(c.name, c.labels...); got != c.want {
				t.Errorf("load %d: %s%v = %v, want %v", load, c.name, c.labels, got, c.want)
			}
		}
		// Two logins look the client up, and one confirmation reads the
		// service; each call counted once, and timed.
		calls := now.value("caddy_whmcs_auth_whmcs_calls_total", "action", "GetClientsDetails", "outcome", "ok")
		timed := now.histogramCount("caddy_whmcs_auth_whmcs_call_duration_seconds", "action", "GetClientsDetails")
		if calls < float64(2*load) || timed != calls {
			t.Errorf("load %d: GetClientsDetails calls %v (want >= %d), timed %v", load, calls, 2*load, timed)
		}
		if before != nil {
			for _, name := range []string{"caddy_whmcs_auth_whmcs_calls_total", "caddy_whmcs_auth_outbox_job_runs_total"} {
				if now.sum(name) <= before.sum(name) {
					t.Errorf("load %d: %s went from %v to %v", load, name, before.sum(name), now.sum(name))
				}
			}
		}
		before = now

		if err := h.Cleanup(); err != nil {
			t.Fatalf("load %d: Cleanup: %v", load, err)
		}
		cancel()
	}
}

// A job that cannot finish shows in the gauges while it waits.
func TestOutboxGaugesShowWaitingJobs(t *testing.T) {
	sim := whmcssim.New(whmcssim.Options{Identifier: "ident", Secret: "secret"})
	apiURL, stop := sim.Start()
	t.Cleanup(stop)
	sim.InjectFault("", whmcssim.Fault{Status: 503})
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	defer cancel()
	h := &Handler{APIURL: apiURL, APIIdentifier: "ident", APISecret: "secret", State: filepath.Join(t.TempDir(), "state.db"),
		Plans: []PlanMapping{{ProductID: 1, Name: "Basico"}}, WebhookSecret: "whsec"}
	if err := h.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	defer h.Cleanup()
	event := []byte(`{"id":"gauge-1","event":"AfterModuleSuspend","occurred_at":"2026-01-01T00:00:00Z","params":{"serviceid":5,"userid":6,"pid":1}}`)
	ts := time.Now().Unix()
	if code := serve(t, h, "POST", "/api/webhooks/whmcs", string(event),
		webhooks.HeaderTimestamp, strconv.FormatInt(ts, 10), webhooks.HeaderSignature, webhooks.Sign("whsec", ts, event)); code != 200 {
		t.Fatalf("webhook answered %d", code)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		s := gather(t, ctx.GetMetricsRegistry())
		if s.value("caddy_whmcs_auth_whmcs_calls_total", "action", "GetClientsProducts", "outcome", "transport") >= 1 {
			if got := s.value("caddy_whmcs_auth_outbox_jobs", "state", "pending"); got != 1 {
				t.Fatalf("pending jobs = %v, want 1", got)
			}
			if got := s.value("caddy_whmcs_auth_outbox_oldest_job_age_seconds"); got <= 0 {
				t.Fatalf("oldest job age = %v, want > 0", got)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no failed WHMCS call counted: %v", s)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// serve runs one request through the handler and returns the status.
func serve(t *testing.T, h *Handler, method, path, body string, headers ...string) int {
	t.Helper()
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Set(headers[i], headers[i+1])
	}
	w := httptest.NewRecorder()
	if err := h.ServeHTTP(w, r, nextHandler{}); err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return w.Code
}

type nextHandler struct{}

func (nextHandler) ServeHTTP(w http.ResponseWriter, _ *http.Request) error {
	w.WriteHeader(http.StatusTeapot)
	return nil
}

// snapshot is one gathering of a registry.
type snapshot struct{ families map[string]*dto.MetricFamily }

func gather(t *testing.T, reg *prometheus.Registry) *snapshot {
	t.Helper()
	fams, err := reg.Gather() // the pedantic registry checks descriptions too
	if err != nil {
		t.Fatalf("gathering metrics: %v", err)
	}
	s := &snapshot{families: map[string]*dto.MetricFamily{}}
	for _, f := range fams {
		s.families[f.GetName()] = f
	}
	return s
}

// metric finds the series of name with the given label pairs (a subset).
func (s *snapshot) metric(name string, labels ...string) *dto.Metric {
	f := s.families[name]
	if f == nil {
		return nil
	}
next:
	for _, m := range f.GetMetric() {
		for i := 0; i+1 < len(labels); i += 2 {
			found := false
			for _, lp := range m.GetLabel() {
				if lp.GetName() == labels[i] && lp.GetValue() == labels[i+1] {
					found = true
				}
			}
			if !found {
				continue next
			}
		}
		return m
	}
	return nil
}

// value is a counter's or gauge's value, -1 when the series is absent.
func (s *snapshot) value(name string, labels ...string) float64 {
	m := s.metric(name, labels...)
	switch {
	case m == nil:
		return -1
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	}
	return -1
}

func (s *snapshot) histogramCount(name string, labels ...string) float64 {
	m := s.metric(name, labels...)
	if m == nil || m.Histogram == nil {
		return -1
	}
	return float64(m.Histogram.GetSampleCount())
}

// sum adds up every series of a counter.
func (s *snapshot) sum(name string) float64 {
	total := 0.0
	if f := s.families[name]; f != nil {
		for _, m := range f.GetMetric() {
			total += m.GetCounter().GetValue()
		}
	}
	return total
}

func (s *snapshot) String() string {
	var b bytes.Buffer
	for name := range s.families {
		if strings.HasPrefix(name, "caddy_whmcs_auth_") {
			b.WriteString(name + " ")
		}
	}
	return b.String()
}
