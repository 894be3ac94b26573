package outbox

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/rcchat/caddy-whmcs-auth/store"
	"github.com/rcchat/caddy-whmcs-auth/store/boltstore"
)

// The Observer hears of each run once, with a bounded kind, and
// QueueDepth sees what is left.
func TestObserverAndDepth(t *testing.T) {
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "state.db"), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	ctx := context.Background()
	o := New(st, nil)
	var heard []string
	o.Observer = func(kind, outcome string) { heard = append(heard, kind+"/"+outcome) }
	o.Register("ok", func(context.Context, *store.Job) error { return nil })
	o.Register("flaky", func(context.Context, *store.Job) error { return errors.New("WHMCS unavailable") })
	o.Register("refused", func(context.Context, *store.Job) error { return Permanent(errors.New("no")) })

	created := time.Now().Add(-time.Minute).Truncate(time.Second)
	err = st.Update(ctx, func(tx store.Tx) error {
		for i, kind := range []string{"ok", "flaky", "refused", "from-a-newer-binary"} {
			if _, err := Enqueue(tx, kind, "", map[string]int{"n": i}, created.Add(time.Duration(i)*time.Second)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := o.RunDue(ctx); n != 4 {
		t.Fatalf("RunDue ran %d jobs, want 4", n)
	}
	slices.Sort(heard)
	want := []string{"flaky/retry", "ok/done", "refused/failed", "unknown/failed"}
	if !slices.Equal(heard, want) {
		t.Fatalf("observer heard %v, want %v", heard, want)
	}

	d, err := QueueDepth(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	if d.Pending != 1 || d.Failed != 2 || !d.Oldest.Equal(created.Add(time.Second)) {
		t.Fatalf("depth %+v, want 1 pending, 2 failed, oldest %v", d, created.Add(time.Second))
	}
	if od, err := o.Depth(ctx); err != nil || od != d {
		t.Fatalf("Outbox.Depth %+v %v, want %+v", od, err, d)
	}
}
