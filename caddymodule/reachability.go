package caddymodule

import (
	"net/http"
	"sync/atomic"
	"time"
)

// reachability remembers how the last WHMCS call went, for /sso/healthz,
// without calling WHMCS from a health check (a probe every few seconds
// would be noise in WHMCS's logs, and a bad credential would risk a ban).
type reachability struct {
	next http.RoundTripper
	last atomic.Pointer[callResult]
}

type callResult struct {
	at time.Time
	ok bool
}

func newReachability() *reachability {
	return &reachability{next: http.DefaultTransport}
}

// RoundTrip records whether WHMCS answered (any status below 500 counts:
// an error envelope still means WHMCS is up).
func (r *reachability) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.next.RoundTrip(req)
	r.last.Store(&callResult{at: time.Now(), ok: err == nil && resp.StatusCode < 500})
	return resp, err
}

// report is the WHMCS part of the health answer.
func (r *reachability) report() map[string]any {
	last := r.last.Load()
	if last == nil {
		return map[string]any{"whmcs_reachable": nil, "whmcs_last_call": nil}
	}
	return map[string]any{"whmcs_reachable": last.ok, "whmcs_last_call": last.at.UTC().Format(time.RFC3339)}
}
