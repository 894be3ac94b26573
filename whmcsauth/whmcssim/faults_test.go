package whmcssim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestFaultStatusAndTimes(t *testing.T) {
	s, u := startSim(t, Options{})
	s.InjectFault("getclients", Fault{Status: http.StatusBadGateway, Times: 2})
	for range 2 {
		a := call(t, u, "GetClients")
		if a.status != http.StatusBadGateway || a.body != nil || !strings.Contains(a.raw, "Bad Gateway") {
			t.Fatalf("fault: %d %s", a.status, a.raw)
		}
	}
	wantSuccess(t, call(t, u, "GetClients"))
	if s.Calls("GetClients") != 1 || s.Requests() != 3 {
		t.Fatalf("faulted requests never reach the action: calls=%d requests=%d", s.Calls("GetClients"), s.Requests())
	}
	// Faults for other actions do not apply.
	s.InjectFault("GetInvoice", Fault{Status: 500})
	wantSuccess(t, call(t, u, "GetClients"))
	s.ClearFaults()
	wantError(t, call(t, u, "GetInvoice", "invoiceid", "1"), http.StatusOK, "Invoice ID Not Found")
	s.ResetCounters()
	if s.Calls("") != 0 || s.Requests() != 0 {
		t.Fatal("ResetCounters")
	}
}

func TestFaultMalformed(t *testing.T) {
	s, u := startSim(t, Options{})
	s.InjectFault("", Fault{Malformed: true, Times: 1})
	a := call(t, u, "GetClients")
	if a.status != http.StatusOK || a.body != nil || !strings.Contains(a.raw, "Warning") {
		t.Fatalf("malformed: %d %s", a.status, a.raw)
	}
}

func TestFaultDrop(t *testing.T) {
	s, u := startSim(t, Options{})
	s.InjectFault("GetClients", Fault{Drop: true})
	p := url.Values{"action": {"GetClients"}, "identifier": {testID}, "secret": {testSecret}, "responsetype": {"json"}}
	resp, err := http.PostForm(u, p)
	if err == nil {
		resp.Body.Close()
		t.Fatal("a dropped connection must fail")
	}
	if s.Requests() != 1 {
		t.Fatalf("requests %d", s.Requests())
	}
}

func TestFaultLatencyHonoursClientCancel(t *testing.T) {
	s, u := startSim(t, Options{})
	s.InjectFault("", Fault{Latency: 10 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader("action=GetClients"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	start := time.Now()
	_, err := http.DefaultClient.Do(req)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
		t.Fatalf("err %v after %v", err, time.Since(start))
	}
	s.ClearFaults()
	s.InjectFault("", Fault{Latency: 20 * time.Millisecond, Times: 1})
	start = time.Now()
	wantSuccess(t, call(t, u, "GetClients"))
	if time.Since(start) < 20*time.Millisecond {
		t.Fatal("latency not applied")
	}
}

func TestFaultCommitRunsTheAction(t *testing.T) {
	s, u := startSim(t, Options{})
	s.AddClient(Client{Email: "a@example.com"})
	s.InjectFault("OpenTicket", Fault{Status: http.StatusGatewayTimeout, Commit: true, Times: 1})
	a := call(t, u, "OpenTicket", "deptid", "1", "clientid", "1", "subject", "s", "message", "m")
	if a.status != http.StatusGatewayTimeout {
		t.Fatalf("status %d", a.status)
	}
	if len(s.Tickets()) != 1 || s.Calls("OpenTicket") != 1 {
		t.Fatal("a committed fault keeps the action's effect")
	}
}

func TestConcurrentUse(t *testing.T) {
	s, u := startSim(t, Options{})
	cid := s.AddClient(Client{Email: "a@example.com"})
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			switch i % 4 {
			case 0:
				s.AddService(Service{ClientID: cid, ProductID: 1})
			case 1:
				p := url.Values{"action": {"GetClientsProducts"}, "identifier": {testID}, "secret": {testSecret},
					"responsetype": {"json"}, "clientid": {fmt.Sprint(cid)}}
				if resp, err := http.PostForm(u, p); err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			case 2:
				s.InjectFault("getinvoice", Fault{Times: 1, Status: 500})
				_ = s.Calls("")
			default:
				p := url.Values{"action": {"OpenTicket"}, "identifier": {testID}, "secret": {testSecret},
					"responsetype": {"json"}, "deptid": {"1"}, "clientid": {fmt.Sprint(cid)}, "subject": {"s"}, "message": {"m"}}
				if resp, err := http.PostForm(u, p); err == nil {
					resp.Body.Close()
				}
			}
		}()
	}
	wg.Wait()
	if len(s.Services(cid)) != 5 || len(s.Tickets()) != 5 {
		t.Fatalf("services %d tickets %d", len(s.Services(cid)), len(s.Tickets()))
	}
	seen := map[string]bool{}
	for _, tk := range s.Tickets() {
		if seen[tk.TID] {
			t.Fatalf("duplicate tid %s", tk.TID)
		}
		seen[tk.TID] = true
	}
}
