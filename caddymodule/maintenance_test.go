package caddymodule

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/rcchat/caddy-whmcs-auth/lockout"
	"github.com/rcchat/caddy-whmcs-auth/session"
	"github.com/rcchat/caddy-whmcs-auth/store"
	"github.com/rcchat/caddy-whmcs-auth/store/boltstore"
)

func auditActions(t *testing.T, st store.Store) []string {
	t.Helper()
	var out []string
	err := st.View(context.Background(), func(tx store.Tx) error {
		as, err := tx.Audit(0)
		for _, a := range as {
			out = append(out, a.Action)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestMaintenancePrunesTheAuditLog: a maintenance round removes audit
// entries older than the 90-day retention, in as many batches as it takes,
// and keeps the newer ones.
func TestMaintenancePrunesTheAuditLog(t *testing.T) {
	ctx := context.Background()
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "state.db"), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	old := 3*pruneBatch/2 + 1 // more than one prune transaction
	err = st.Update(ctx, func(tx store.Tx) error {
		for i := range old {
			at := now.Add(-auditRetention - time.Hour - time.Duration(old-i)*time.Second)
			if err := tx.AppendAudit(&store.AuditEntry{At: at, Action: "old", Outcome: "ok"}); err != nil {
				return err
			}
		}
		for _, age := range []time.Duration{auditRetention - time.Hour, time.Minute} {
			if err := tx.AppendAudit(&store.AuditEntry{At: now.Add(-age), Action: "kept", Outcome: "ok"}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if auditRetention != 90*24*time.Hour {
		t.Errorf("audit retention %v, documented as 90 days", auditRetention)
	}
	maintain(ctx, st, session.NewManager(st, time.Hour), lockout.NewGuard(st, lockout.DefaultPolicy), now, zap.NewNop())
	if got := auditActions(t, st); len(got) != 2 || got[0] != "kept" || got[1] != "kept" {
		t.Fatalf("after maintenance the audit log holds %d entries (newest %v), want the 2 within the retention", len(got), got[:min(len(got), 3)])
	}
}
