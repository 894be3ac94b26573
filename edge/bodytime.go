package edge

import (
	"io"
	"net/http"
	"time"
)

// DefaultBodyTimeout bounds how long a client may take to send the body of
// a request the module reads itself (logins, webhooks, tokens, the service
// API): the bodies are small, so a slow one is a client holding a
// connection open on purpose. Caddy sets no body timeout by default, and a
// server-wide one would cut RC-CHAT's media uploads.
const DefaultBodyTimeout = 10 * time.Second

// timeBody sets a read deadline for r's body. It is lifted as soon as the
// body ends, so that it bounds the body only, not the reads net/http makes
// on the connection afterwards while the handler waits on WHMCS or RC-CHAT
// (it watches for the client going away). A body that never ends keeps the
// deadline, so that net/http's own draining of it after the handler is cut
// off too; net/http sets the connection's deadlines afresh for the next
// request.
func (e *Edge) timeBody(w http.ResponseWriter, r *http.Request) {
	if r.Body == nil || r.Body == http.NoBody || e.cfg.BodyTimeout < 0 {
		return
	}
	timeout := e.cfg.BodyTimeout
	if timeout == 0 {
		timeout = DefaultBodyTimeout
	}
	rc := http.NewResponseController(w)
	if rc.SetReadDeadline(time.Now().Add(timeout)) != nil {
		return // a writer without a connection (a test recorder)
	}
	r.Body = &timedBody{ReadCloser: r.Body, rc: rc}
}

// timedBody lifts the read deadline when the body ends.
type timedBody struct {
	io.ReadCloser
	rc     *http.ResponseController
	lifted bool
}

func (b *timedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF && !b.lifted {
		b.lifted = true
		_ = b.rc.SetReadDeadline(time.Time{})
	}
	return n, err
}
