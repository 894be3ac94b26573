package edge_test

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rcchat/caddy-whmcs-auth/edge"
)

// serveEdge runs e behind a real net/http server, whose connections the
// body deadline acts on.
func serveEdge(t *testing.T, e *edge.Edge) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = e.ServeHTTP(w, r, func(w http.ResponseWriter, _ *http.Request) error {
			w.WriteHeader(http.StatusTeapot)
			return nil
		})
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// A client that sends a module endpoint's body a byte at a time is cut off
// at BodyTimeout instead of holding its connection and handler forever.
func TestSlowBodyIsCutOff(t *testing.T) {
	reached := make(chan struct{}, 1)
	e := edge.New(edge.Config{BodyTimeout: 300 * time.Millisecond,
		ServiceAPI: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if _, err := io.ReadAll(r.Body); err == nil {
				reached <- struct{}{}
			}
			w.WriteHeader(http.StatusBadRequest)
		})})
	conn, err := net.Dial("tcp", serveEdge(t, e))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "POST /sso/api/tickets HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	start := time.Now()
	_, err = http.ReadResponse(bufio.NewReader(conn), nil)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("the server still waited for the body after %v", time.Since(start))
	}
	if len(reached) != 0 {
		t.Fatal("the handler read a complete body that was never sent")
	}
}

// The deadline bounds the body, not the handler: one that waits on WHMCS
// longer than BodyTimeout after reading the body keeps its request alive.
func TestSlowHandlerOutlivesTheBodyDeadline(t *testing.T) {
	e := edge.New(edge.Config{BodyTimeout: 200 * time.Millisecond,
		ServiceAPI: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if _, err := io.ReadAll(r.Body); err != nil {
				w.WriteHeader(http.StatusBadRequest)
				return
			}
			time.Sleep(700 * time.Millisecond)
			if r.Context().Err() != nil {
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			w.WriteHeader(http.StatusOK)
		})})
	addr := serveEdge(t, e)
	resp, err := http.Post("http://"+addr+"/sso/api/tickets", "application/json", strings.NewReader(`{"a":1}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("a handler slower than the body deadline got %d: its request was cancelled", resp.StatusCode)
	}
}
