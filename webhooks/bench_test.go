package webhooks

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rcchat/caddy-whmcs-auth/outbox"
	"github.com/rcchat/caddy-whmcs-auth/store"
	"github.com/rcchat/caddy-whmcs-auth/store/boltstore"
)

// BenchmarkIngest measures durable events per second: signed events from
// many concurrent senders into a bolt file (fsync'd), each applying its
// implied status and queueing its confirmation. Batch lets concurrent
// events share one transaction and one fsync.
func BenchmarkIngest(b *testing.B) {
	st, err := boltstore.Open(filepath.Join(b.TempDir(), "state.db"), boltstore.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	const companies = 200
	err = st.Update(context.Background(), func(tx store.Tx) error {
		for i := int64(1); i <= companies; i++ {
			c := store.Company{WHMCSClientID: i, WHMCSServiceID: 1000 + i, Plan: "Basico", Status: store.StatusActive}
			if err := tx.PutCompany(&c); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	rc, err := New(Config{Store: st, Plans: testPlans, Outbox: outbox.New(st, nil), Secret: testSecret})
	if err != nil {
		b.Fatal(err)
	}
	var seq atomic.Int64
	run := fmt.Sprint(time.Now().UnixNano())
	b.SetParallelism(64) // WHMCS cron suspending many services, several WHMCS workers
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			n := seq.Add(1)
			client := n%companies + 1
			typ := EventModuleSuspend
			if n%2 == 0 {
				typ = EventModuleUnsuspend
			}
			body := fmt.Sprintf(`{"id":"bench-%s-%d","event":%q,"params":{"serviceid":%d,"userid":%d,"pid":1}}`,
				run, n, typ, 1000+client, client)
			ts := time.Now().Unix()
			r := httptest.NewRequest(http.MethodPost, "/api/webhooks/whmcs", strings.NewReader(body))
			r.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
			r.Header.Set(HeaderSignature, Sign(testSecret, ts, []byte(body)))
			w := httptest.NewRecorder()
			rc.ServeHTTP(w, r)
			if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "accepted") {
				b.Errorf("answer %d %s", w.Code, w.Body.String())
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
}
