package crashtest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rcchat/caddy-whmcs-auth/webhooks"
	"github.com/rcchat/caddy-whmcs-auth/whmcsauth/whmcssim"
)

// What the tests do to a running server: requests to the site, the
// service API, the webhook endpoint and the admin endpoint's /metrics.

func (s *server) url(path string) string {
	return "http://127.0.0.1:" + strconv.Itoa(s.httpPort) + path
}

func (s *server) adminURL(path string) string {
	return "http://127.0.0.1:" + strconv.Itoa(s.adminPort) + path
}

// do sends a request; headers are name, value pairs. It returns the
// status and the body, or the transport error.
func (s *server) do(method, path string, body []byte, headers ...string) (int, []byte, error) {
	req, err := http.NewRequest(method, s.url(path), bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// api calls /sso/api/* with the service token and decodes the answer.
func (s *server) api(method, path string, body any) (int, map[string]any) {
	s.t.Helper()
	var raw []byte
	if body != nil {
		raw, _ = json.Marshal(body)
	}
	status, b, err := s.do(method, path, raw, "Authorization", "Bearer "+serviceToken, "Content-Type", "application/json")
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return status, out
}

// login signs in through the JSON login; it returns the status, the error
// code of a refusal and the session cookie of a success.
func (s *server) login(email, password string) (status int, errCode, cookie string, err error) {
	b, _ := json.Marshal(map[string]string{"email": email, "password": password})
	req, _ := http.NewRequest("POST", s.url("/sso/login"), bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, "", "", err
	}
	defer resp.Body.Close()
	var out struct {
		Error string `json:"error"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&out)
	for _, c := range resp.Cookies() {
		if c.Name == cookieName && c.MaxAge >= 0 {
			cookie = c.Value
		}
	}
	return resp.StatusCode, out.Error, cookie, nil
}

// mustLogin signs in and returns the session cookie.
func (s *server) mustLogin(email, password string) string {
	s.t.Helper()
	status, code, cookie, err := s.login(email, password)
	if err != nil || status != http.StatusOK || cookie == "" {
		s.t.Fatalf("login %s: %d %s %v", email, status, code, err)
	}
	return cookie
}

// withSession requests path as the holder of cookie and returns the status.
func (s *server) withSession(path, cookie string) int {
	s.t.Helper()
	status, _, err := s.do("GET", path, nil, "Cookie", cookieName+"="+cookie, "Accept", "application/json")
	if err != nil {
		s.t.Fatalf("GET %s: %v", path, err)
	}
	return status
}

// seedClient adds a WHMCS client with one service of product pid.
func seedClient(sim *whmcssim.Sim, email, password, status string, pid int64) (clientID, serviceID int64) {
	clientID = sim.AddClient(whmcssim.Client{FirstName: "Crash", LastName: "Test", CompanyName: "Empresa " + email,
		Email: email, Status: "Active"})
	serviceID = sim.AddService(whmcssim.Service{ClientID: clientID, ProductID: pid, Name: "RC-CHAT", Password: password,
		Status: status, RegDate: "2026-01-01", NextDueDate: "2026-12-31"})
	return clientID, serviceID
}

// event is one signed webhook delivery's body.
func event(id, typ string, clientID, serviceID, pid int64) []byte {
	b, _ := json.Marshal(map[string]any{"id": id, "event": typ, "occurred_at": time.Now().UTC().Format(time.RFC3339),
		"params": map[string]any{"serviceid": serviceID, "userid": strconv.FormatInt(clientID, 10), "pid": pid, "invoiceid": nil}})
	return b
}

// sendEvent delivers body, signed now, and returns the status and the
// answer's "status" field.
func (s *server) sendEvent(body []byte) (int, string, error) {
	ts := time.Now().Unix()
	status, b, err := s.do("POST", "/api/webhooks/whmcs", body, "Content-Type", "application/json",
		webhooks.HeaderTimestamp, strconv.FormatInt(ts, 10), webhooks.HeaderSignature, webhooks.Sign(webhookKey, ts, body))
	if err != nil {
		return 0, "", err
	}
	var out struct {
		Status string `json:"status"`
	}
	_ = json.Unmarshal(b, &out)
	return status, out.Status, nil
}

// outboxJobs lists GET /sso/api/outbox.
func (s *server) outboxJobs() []map[string]any {
	s.t.Helper()
	status, out := s.api("GET", "/sso/api/outbox", nil)
	if status != http.StatusOK {
		s.t.Fatalf("GET /sso/api/outbox: %d %v", status, out)
	}
	var jobs []map[string]any
	for _, j := range out["jobs"].([]any) {
		jobs = append(jobs, j.(map[string]any))
	}
	return jobs
}

// waitOutboxEmpty waits until every job is done; a parked (failed) job
// fails the test at once.
func (s *server) waitOutboxEmpty(timeout time.Duration) {
	s.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		jobs := s.outboxJobs()
		if len(jobs) == 0 {
			return
		}
		for _, j := range jobs {
			if j["state"] == "failed" {
				s.t.Fatalf("outbox job parked as failed: %v", j)
			}
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("outbox still has %d jobs after %v: %v", len(jobs), timeout, jobs)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// companyStatuses maps WHMCS client ids to company statuses, from
// GET /sso/api/companies.
func (s *server) companyStatuses() map[int64]string {
	s.t.Helper()
	status, out := s.api("GET", "/sso/api/companies?limit=1000", nil)
	if status != http.StatusOK {
		s.t.Fatalf("GET /sso/api/companies: %d %v", status, out)
	}
	m := map[int64]string{}
	for _, c := range out["companies"].([]any) {
		c := c.(map[string]any)
		m[int64(c["whmcs_client_id"].(float64))] = c["status"].(string)
	}
	return m
}

// metrics fetches the admin endpoint's /metrics.
func (s *server) metrics() string {
	s.t.Helper()
	resp, err := s.client.Get(s.adminURL("/metrics"))
	if err != nil {
		// Right after a reload the previous admin server may still be
		// closing its listener (see load); read again once.
		s.client.CloseIdleConnections()
		time.Sleep(50 * time.Millisecond)
		resp, err = s.client.Get(s.adminURL("/metrics"))
	}
	if err != nil {
		s.t.Fatalf("GET admin /metrics: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		s.t.Fatalf("GET admin /metrics: %d %s", resp.StatusCode, b)
	}
	return string(b)
}

// metricValue sums the samples of name whose labels include every
// name="value" pair given; ok is false when there is none.
func metricValue(text, name string, labels ...string) (sum float64, ok bool) {
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || !strings.HasPrefix(line, name) {
			continue
		}
		rest := line[len(name):]
		if rest == "" || (rest[0] != '{' && rest[0] != ' ') {
			continue // a longer name with this prefix
		}
		match := true
		for i := 0; i+1 < len(labels); i += 2 {
			if !strings.Contains(rest, labels[i]+`="`+labels[i+1]+`"`) {
				match = false
			}
		}
		sp := strings.LastIndexByte(rest, ' ')
		v, err := strconv.ParseFloat(rest[sp+1:], 64)
		if !match || err != nil {
			continue
		}
		sum += v
		ok = true
	}
	return sum, ok
}

// eventually polls cond until it holds or timeout passes.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
