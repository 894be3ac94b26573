// Package storetest is the conformance suite for store.Store
// implementations. Every implementation runs the same Run, so the rules
// the domain packages rely on (uniqueness, index maintenance, rollback,
// ordering) hold whichever backend is configured.
//
// Besides the rules written on store.Tx, the suite pins down behaviour the
// domain code relies on but the interface comments leave open:
//
//   - deleting or revoking something that does not exist is not an error;
//   - a Put refused with ErrConflict leaves the caller's zero ID alone and
//     the transaction usable (callers load the existing record and go on);
//   - a record put with an explicit ID never collides with a later
//     store-assigned one;
//   - DueJobs is ordered by NextAttempt, then by ID;
//   - Jobs and Companies are in ID order, Audit in reverse ID order;
//   - DeleteAuditBefore removes entries strictly before the cutoff, oldest
//     first, and never reuses a removed entry's ID.
//
// The suite compares records after normalising times to UTC and treating
// empty and absent fields alike, and its test times have whole-second
// precision, so a backend that stores microseconds or returns local time
// zones still passes. It never passes a limit <= 0.
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/rcchat/caddy-whmcs-auth/store"
)

// Run runs the suite. open must return a new, empty store for each call;
// Run closes every store it opens. Subtests run one at a time, so open may
// reuse one database as long as it empties it.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"NotFound", testNotFound},
		{"EmptyLists", testEmptyLists},
		{"Rollback", testRollback},
		{"Revision", testRevision},
		{"Context", testContext},
		{"ReadOnlyView", testReadOnlyView},
		{"OwnWrites", testOwnWrites},
		{"ExplicitIDs", testExplicitIDs},
		{"ConcurrentBatch", testConcurrentBatch},
		{"Companies", testCompanies},
		{"CompaniesPaging", testCompaniesPaging},
		{"Users", testUsers},
		{"Sessions", testSessions},
		{"ExpiredSessions", testExpiredSessions},
		{"AuthCodes", testAuthCodes},
		{"RefreshTokens", testRefreshTokens},
		{"SigningKeys", testSigningKeys},
		{"Events", testEvents},
		{"Jobs", testJobs},
		{"DueJobs", testDueJobs},
		{"TicketLinks", testTicketLinks},
		{"Lockouts", testLockouts},
		{"Audit", testAudit},
		{"AuditRetention", testAuditRetention},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tc.fn(t, s)
		})
	}
}

// base is the suite's fixed "now": fixed so expiry and due-time tests do
// not depend on the wall clock, whole seconds so every backend keeps it
// exactly.
var base = time.Date(2030, time.March, 4, 5, 6, 7, 0, time.UTC)

var errBoom = errors.New("storetest: deliberate failure")

// update runs fn in a write transaction and fails the test if it errs.
func update(t *testing.T, s store.Store, fn func(tx store.Tx) error) {
	t.Helper()
	if err := s.Update(context.Background(), fn); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

// view runs fn in a read transaction and fails the test if it errs.
func view(t *testing.T, s store.Store, fn func(tx store.Tx) error) {
	t.Helper()
	if err := s.View(context.Background(), fn); err != nil {
		t.Fatalf("View: %v", err)
	}
}

// tryUpdate runs fn in a write transaction and returns its error, for
// checks that expect a refusal.
func tryUpdate(s store.Store, fn func(tx store.Tx) error) error {
	return s.Update(context.Background(), fn)
}

// wantErr fails unless err matches target.
func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: got error %v, want %v", what, err, target)
	}
}

// noErr fails the test on err.
func noErr(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// same fails unless got and want are the same record up to time zones and
// empty-versus-absent fields.
func same(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(canon(t, got), canon(t, want)) {
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(want)
		t.Errorf("%s:\n got  %s\n want %s", what, g, w)
	}
}

// canon turns a record into a comparable JSON tree: times in UTC, and
// null, "", {} and [] fields dropped, since backends may legitimately
// differ there (nil versus empty payload, omitted zero values).
func canon(t *testing.T, v any) any {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal %T: %v", v, err)
	}
	var tree any
	if err := json.Unmarshal(data, &tree); err != nil {
		t.Fatalf("unmarshal %T: %v", v, err)
	}
	return canonValue(tree)
}

func canonValue(x any) any {
	switch x := x.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, v := range x {
			if v = canonValue(v); !emptyJSON(v) {
				out[k] = v
			}
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, v := range x {
			out[i] = canonValue(v)
		}
		return out
	case string:
		if ts, err := time.Parse(time.RFC3339Nano, x); err == nil {
			return ts.UTC().Format(time.RFC3339Nano)
		}
	}
	return x
}

func emptyJSON(v any) bool {
	switch v := v.(type) {
	case nil:
		return true
	case string:
		return v == ""
	case map[string]any:
		return len(v) == 0
	case []any:
		return len(v) == 0
	}
	return false
}

// keysOf maps records to their keys for order and membership checks.
func keysOf[T any, K any](items []T, key func(T) K) []K {
	out := make([]K, 0, len(items))
	for _, it := range items {
		out = append(out, key(it))
	}
	return out
}

// sameKeys fails unless got lists exactly want, in order.
func sameKeys[K comparable](t *testing.T, what string, got, want []K) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s: got %v, want %v", what, got, want)
	}
}

// sameSet fails unless got and want hold the same keys in any order.
func sameSet(t *testing.T, what string, got, want []string) {
	t.Helper()
	g, w := slices.Clone(got), slices.Clone(want)
	slices.Sort(g)
	slices.Sort(w)
	if !slices.Equal(g, w) {
		t.Errorf("%s: got %v, want %v (any order)", what, got, want)
	}
}
