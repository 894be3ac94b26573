package caddymodule

import (
	"sync/atomic"
	"time"
)

// reachability remembers how the last WHMCS call went, for /sso/healthz,
// without calling WHMCS from a health check (a probe every few seconds
// would be noise in WHMCS's logs, and a bad credential would risk a ban).
type reachability struct {
	last atomic.Pointer[callResult]
}

type callResult struct {
	at time.Time
	ok bool
}

func newReachability() *reachability { return &reachability{} }

// observe records one WHMCS call by its outcome (the whmcsauth Observer's):
// anything but a transport failure means WHMCS answered — an error
// envelope still means WHMCS is up.
func (r *reachability) observe(outcome string) {
	r.last.Store(&callResult{at: time.Now(), ok: outcome != "transport"})
}

// report is the WHMCS part of the health answer.
func (r *reachability) report() map[string]any {
	last := r.last.Load()
	if last == nil {
		return map[string]any{"whmcs_reachable": nil, "whmcs_last_call": nil}
	}
	return map[string]any{"whmcs_reachable": last.ok, "whmcs_last_call": last.at.UTC().Format(time.RFC3339)}
}
