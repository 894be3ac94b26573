package whmcssim

import (
	"net/http"
	"strings"
	"time"
)

// Fault describes a failure to inject into matching requests, to test how
// callers cope with a slow, broken or unreachable WHMCS.
type Fault struct {
	// Latency delays the answer (or the failure). The delay ends early if the
	// client gives up, so timeouts can be tested without slow tests.
	Latency time.Duration
	// Status answers with this HTTP status and an HTML error page instead of
	// WHMCS's JSON, as a proxy or PHP-FPM failure would (e.g. 500, 502).
	Status int
	// Drop hijacks the connection and closes it without an answer.
	Drop bool
	// Malformed answers 200 with a body that is not valid JSON (a PHP warning
	// printed ahead of truncated JSON).
	Malformed bool
	// Times is how many matching requests the fault affects; 0 means every
	// one until ClearFaults.
	Times int
	// Commit runs the action (authentication included) before failing, so
	// its effect persists although the caller sees an error: the lost-answer
	// case that makes retried writes duplicate.
	Commit bool
}

// faultRule is an injected fault and how many uses remain (-1: unlimited).
type faultRule struct {
	Fault
	action string
	left   int
}

// InjectFault applies f to requests for action (case-insensitive; "" means
// any action). Rules are tried in the order they were injected.
func (s *Sim) InjectFault(action string, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	left := f.Times
	if left <= 0 {
		left = -1
	}
	s.faults = append(s.faults, &faultRule{Fault: f, action: strings.ToLower(strings.TrimSpace(action)), left: left})
}

// ClearFaults removes every injected fault.
func (s *Sim) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// takeFault consumes one use of the first rule matching action.
func (s *Sim) takeFault(action string) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, r := range s.faults {
		if r.action != "" && r.action != action {
			continue
		}
		f := r.Fault
		if r.left > 0 {
			r.left--
			if r.left == 0 {
				s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
			}
		}
		return &f
	}
	return nil
}

// wait sleeps for the latency; it reports false if the client went away.
func (f *Fault) wait(r *http.Request) bool {
	if f.Latency <= 0 {
		return true
	}
	t := time.NewTimer(f.Latency)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

// fails reports whether the fault replaces the answer (latency alone does not).
func (f *Fault) fails() bool { return f.Drop || f.Status != 0 || f.Malformed }

// respond writes the failure.
func (f *Fault) respond(w http.ResponseWriter) {
	switch {
	case f.Drop:
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.Close()
				return
			}
		}
		// HTTP/2 or a recorder: abort the response the standard way.
		panic(http.ErrAbortHandler)
	case f.Status != 0:
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(f.Status)
		_, _ = w.Write([]byte("<html><head><title>" + http.StatusText(f.Status) +
			"</title></head><body><h1>" + http.StatusText(f.Status) + "</h1></body></html>\n"))
	default:
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte("<br />\n<b>Warning</b>:  Undefined array key \"id\" in <b>/home/whmcs/includes/api.php</b> on line <b>42</b><br />\n{\"result\":\"success\",\"clients\":{\"client\":[{\"id\":"))
	}
}
