package boltstore

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/rcchat/caddy-whmcs-auth/store"
)

// tx adapts a bolt transaction to store.Tx. It is a single pointer so
// wrapping it in the interface on every View does not allocate.
type tx struct{ b *bolt.Tx }

var _ store.Tx = tx{}

// appendFill is how full bbolt leaves the pages it splits in buckets whose
// keys mostly arrive in increasing order: sequence ids, times, WHMCS client
// ids. bbolt's default of one half suits random keys (session hashes); for
// appended keys it leaves every page half empty, which at 100k companies made
// the file half again as large and the company tree a level deeper
// (bench/RESULTS.md). Rewriting a record in place still fits, with room to
// spare for one that grows.
const appendFill = 0.9

// appendBucket is the named bucket of a write transaction, set up for keys
// that are mostly appended.
func (t tx) appendBucket(name []byte) *bolt.Bucket {
	b := t.b.Bucket(name)
	b.FillPercent = appendFill
	return b
}

// u64key encodes v big-endian so bbolt's byte order is numeric order.
func u64key(v uint64) []byte {
	k := make([]byte, 8)
	binary.BigEndian.PutUint64(k, v)
	return k
}

// idKey is u64key for record IDs, which Put methods keep non-negative so
// the unsigned encoding still sorts them correctly.
func idKey(id int64) []byte { return u64key(uint64(id)) }

// keyID decodes the first 8 bytes of an index key or value.
func keyID(k []byte) int64 { return int64(binary.BigEndian.Uint64(k[:8])) }

// timeKeyLen is the size of timeKey's output.
const timeKeyLen = 12

// timeKey encodes t so byte order is time order across the whole range of
// time.Time, including the zero time (UnixNano would overflow there).
// Seconds get their sign bit flipped so negative values sort first.
func timeKey(t time.Time) []byte {
	k := make([]byte, timeKeyLen)
	binary.BigEndian.PutUint64(k[:8], uint64(t.Unix())^(1<<63))
	binary.BigEndian.PutUint32(k[8:], uint32(t.Nanosecond()))
	return k
}

// joinKey concatenates an index prefix and a suffix into a new slice.
func joinKey(prefix []byte, suffix string) []byte {
	k := make([]byte, 0, len(prefix)+len(suffix))
	k = append(k, prefix...)
	return append(k, suffix...)
}

// normEmail is the form e-mails are unique in.
func normEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// checkID rejects negative IDs, which would sort after every positive one
// in the unsigned key encoding.
func checkID(kind string, id int64) error {
	if id < 0 {
		return fmt.Errorf("boltstore: %s id %d is negative", kind, id)
	}
	return nil
}

// assignID gives a zero ID the bucket's next sequence, and moves the
// sequence past an explicit ID so a later zero ID cannot collide with it.
func assignID(b *bolt.Bucket, id *int64) error {
	if *id == 0 {
		seq, err := b.NextSequence()
		if err != nil {
			return err
		}
		*id = int64(seq)
		return nil
	}
	if uint64(*id) > b.Sequence() {
		return b.SetSequence(uint64(*id))
	}
	return nil
}

// getJSON decodes the kind record at key into v, reporting whether it
// exists. The decode copies, so v stays valid after the transaction ends.
func getJSON(b *bolt.Bucket, kind string, key []byte, v any) (bool, error) {
	data := b.Get(key)
	if data == nil {
		return false, nil
	}
	return true, decode(kind, key, data, v)
}

// decode unmarshals one stored record, naming it on failure.
func decode(kind string, key, data []byte, v any) error {
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("boltstore: decode %s %x: %w", kind, key, err)
	}
	return nil
}

// putJSON encodes v at key. bbolt keeps a reference to the value until
// commit, which is safe because Marshal returns a fresh slice.
func putJSON(b *bolt.Bucket, kind string, key []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("boltstore: encode %s %x: %w", kind, key, err)
	}
	if err := b.Put(key, data); err != nil {
		return fmt.Errorf("boltstore: write %s %x: %w", kind, key, err)
	}
	return nil
}

// notFound wraps store.ErrNotFound with what was looked up.
func notFound(kind string, key any) error {
	return fmt.Errorf("boltstore: %s %v: %w", kind, key, store.ErrNotFound)
}

// conflict wraps store.ErrConflict with the rule that was broken.
func conflict(format string, args ...any) error {
	return fmt.Errorf("boltstore: "+format+": %w", append(args, store.ErrConflict)...)
}

// prefixKeys returns the keys of b that start with prefix. Callers collect
// before deleting because mutating a bucket under a live cursor can skip
// entries.
func prefixKeys(b *bolt.Bucket, prefix []byte) [][]byte {
	var keys [][]byte
	c := b.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		keys = append(keys, bytes.Clone(k))
	}
	return keys
}

// limitReached reports whether a list of n items is full; limit <= 0 means
// no limit.
func limitReached(n, limit int) bool { return limit > 0 && n >= limit }
