package caddymodule

import (
	"context"
	"time"

	"go.uber.org/zap"

	"github.com/rcchat/caddy-whmcs-auth/lockout"
	"github.com/rcchat/caddy-whmcs-auth/session"
	"github.com/rcchat/caddy-whmcs-auth/store"
)

// auditRetention is how long audit entries (logins, company status changes)
// are kept; older ones are pruned by the periodic maintenance, so the audit
// log cannot grow the state file without end.
const auditRetention = 90 * 24 * time.Hour

// pruneBatch is how many audit entries one prune transaction removes, so
// the prune never holds the write lock for long.
const pruneBatch = 500

// maintain is one round of the periodic maintenance of the state file:
// expired sessions, stale lockout counters and audit entries past
// auditRetention (as of now) are removed.
func maintain(ctx context.Context, st store.Store, sessions *session.Manager, guard *lockout.Guard, now time.Time, log *zap.Logger) {
	if n, err := sessions.Sweep(ctx); err != nil {
		log.Error("sweeping expired sessions", zap.Error(err))
	} else if n > 0 {
		log.Debug("expired sessions removed", zap.Int("count", n))
	}
	if n, err := guard.Sweep(ctx); err != nil {
		log.Error("sweeping stale login lockouts", zap.Error(err))
	} else if n > 0 {
		log.Debug("stale lockouts removed", zap.Int("count", n))
	}
	if n, err := pruneAudit(ctx, st, now.Add(-auditRetention)); err != nil {
		log.Error("pruning the audit log", zap.Error(err))
	} else if n > 0 {
		log.Debug("old audit entries removed", zap.Int("count", n))
	}
}

// pruneAudit removes the audit entries recorded before cutoff, pruneBatch
// at a time, and returns how many it removed.
func pruneAudit(ctx context.Context, st store.Store, cutoff time.Time) (int, error) {
	total := 0
	for {
		var n int
		err := st.Update(ctx, func(tx store.Tx) error {
			var err error
			n, err = tx.DeleteAuditBefore(cutoff, pruneBatch)
			return err
		})
		total += n
		if err != nil || n < pruneBatch {
			return total, err
		}
	}
}
