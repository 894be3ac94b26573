package edge

import (
	"net/http"

	"github.com/rcchat/caddy-whmcs-auth/store"
)

// serveHealth answers 200 while the state file can be read, with details
// (outbox depth, WHMCS reachability) from Config.Health.
func (e *Edge) serveHealth(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		methodNotAllowed(w, "GET, HEAD")
		return
	}
	body := map[string]any{"status": "ok"}
	err := e.cfg.Store.View(r.Context(), func(tx store.Tx) error {
		_, err := tx.Companies(0, 1)
		return err
	})
	if err != nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "unavailable", "state": err.Error()})
		return
	}
	if e.cfg.Health != nil {
		for k, v := range e.cfg.Health(r.Context()) {
			body[k] = v
		}
	}
	writeJSON(w, http.StatusOK, body)
}
