package edge_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/rcchat/caddy-whmcs-auth/edge"
	"github.com/rcchat/caddy-whmcs-auth/session"
	"github.com/rcchat/caddy-whmcs-auth/store"
)

// pointReads is a store.Store whose transactions offer only the two point
// reads the request path may make. Its store.Tx is embedded as nil, so any
// other method (a listing, a scan, a write) panics, which the test reports.
type pointReads struct {
	store.Store
	calls []string
}

type pointReadsTx struct {
	store.Tx // nil: everything but Session and Company panics
	real     store.Tx
	calls    *[]string
}

func (s *pointReads) View(ctx context.Context, fn func(store.Tx) error) error {
	return s.Store.View(ctx, func(tx store.Tx) error { return fn(pointReadsTx{real: tx, calls: &s.calls}) })
}

func (s *pointReads) Update(context.Context, func(store.Tx) error) error {
	panic("the request path wrote to the store")
}

func (s *pointReads) Batch(context.Context, func(store.Tx) error) error {
	panic("the request path wrote to the store")
}

func (t pointReadsTx) Session(idHash string) (store.Session, error) {
	*t.calls = append(*t.calls, "Session")
	return t.real.Session(idHash)
}

func (t pointReadsTx) Company(id int64) (store.Company, error) {
	*t.calls = append(*t.calls, "Company")
	return t.real.Company(id)
}

// TestRequestPathReadsOnlyByKey shows that serving a signed-in user's
// request costs at most one session and one company read by primary key,
// whatever the store holds: no listing, scan or write, so its cost does not
// grow with the number of companies or sessions (bench/ measures it at 100k).
func TestRequestPathReadsOnlyByKey(t *testing.T) {
	be := newBenchEdge(t, nil)
	st := &pointReads{Store: be.store}
	e := edge.New(edge.Config{Store: st, Sessions: session.NewManager(st, 12*time.Hour), Tokens: be.tokens})
	serve := func() (code int) {
		defer func() {
			if p := recover(); p != nil {
				t.Fatalf("the request path used the store beyond point reads: %v", p)
			}
		}()
		r := httptest.NewRequest(http.MethodGet, "/backend/tickets", nil)
		r.Host, r.Header = "chat.example.com", browserHeader(be.cookie)
		w := httptest.NewRecorder()
		if err := e.ServeHTTP(w, r, okNext); err != nil {
			t.Fatal(err)
		}
		return w.Code
	}
	if code := serve(); code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	if got := fmt.Sprint(st.calls); got != "[Session Company]" {
		t.Fatalf("first request read %s", got)
	}
	st.calls = nil
	for range 3 {
		serve()
	}
	if len(st.calls) != 0 {
		t.Fatalf("cached requests read %v", st.calls)
	}
}
