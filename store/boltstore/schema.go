package boltstore

import (
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// SchemaVersion is the layout this binary writes. Bump it, and add a step
// to migrate, whenever a bucket or key format changes incompatibly; adding
// JSON fields does not need a bump.
const SchemaVersion = 1

// Bucket names. Index buckets are prefixed "idx_" and hold keys that point
// back at a primary bucket, so they can be rebuilt from the records if a
// future migration needs to.
var (
	bMeta = []byte("meta")

	bCompanies   = []byte("companies")
	bUsers       = []byte("users")
	bSessions    = []byte("sessions")
	bAuthCodes   = []byte("auth_codes")
	bRefresh     = []byte("refresh_tokens")
	bSigningKeys = []byte("signing_keys")
	bEvents      = []byte("events")
	bJobs        = []byte("jobs")
	bTicketLinks = []byte("ticket_links")
	bLockouts    = []byte("lockouts")
	bAudit       = []byte("audit")

	// whmcs client id -> company id
	bIdxCompanyWHMCS = []byte("idx_company_whmcs")
	// rc-chat company id -> company id
	bIdxCompanyRCChat = []byte("idx_company_rcchat")
	// normalised e-mail -> user id
	bIdxUserEmail = []byte("idx_user_email")
	// company id | session hash -> empty
	bIdxSessionCompany = []byte("idx_session_company")
	// expiry time | session hash -> company id
	bIdxSessionExpiry = []byte("idx_session_expiry")
	// len(family) | family | token hash -> empty
	bIdxRefreshFamily = []byte("idx_refresh_family")
	// company id | token hash -> empty
	bIdxRefreshCompany = []byte("idx_refresh_company")
	// next attempt time | job id -> empty, pending jobs only
	bIdxJobDue = []byte("idx_job_due")

	keySchemaVersion = []byte("schema_version")
)

// allBuckets is every bucket of the current schema.
var allBuckets = [][]byte{
	bCompanies, bUsers, bSessions, bAuthCodes, bRefresh, bSigningKeys,
	bEvents, bJobs, bTicketLinks, bLockouts, bAudit,
	bIdxCompanyWHMCS, bIdxCompanyRCChat, bIdxUserEmail,
	bIdxSessionCompany, bIdxSessionExpiry,
	bIdxRefreshFamily, bIdxRefreshCompany, bIdxJobDue,
}

// initSchema creates the layout on an empty file and checks the version of
// an existing one. It runs in the same transaction as the check so two
// processes can never both believe they initialised the file.
func initSchema(btx *bolt.Tx) error {
	meta := btx.Bucket(bMeta)
	if meta == nil {
		// A file with buckets but no meta bucket was not written by
		// us; refusing beats adding our buckets to someone else's data.
		if k, _ := btx.Cursor().First(); k != nil {
			return fmt.Errorf("not a state file: it has bucket %q but no %q bucket", k, bMeta)
		}
		var err error
		if meta, err = btx.CreateBucket(bMeta); err != nil {
			return fmt.Errorf("create bucket %s: %w", bMeta, err)
		}
		if err := meta.Put(keySchemaVersion, u64key(SchemaVersion)); err != nil {
			return fmt.Errorf("write schema version: %w", err)
		}
	}
	v := meta.Get(keySchemaVersion)
	if len(v) != 8 {
		return fmt.Errorf("schema version is missing or malformed (%d bytes)", len(v))
	}
	version := binary.BigEndian.Uint64(v)
	if version > SchemaVersion {
		return fmt.Errorf("state file was written by a newer version (schema %d), this binary knows up to %d",
			version, SchemaVersion)
	}
	if version < 1 {
		return fmt.Errorf("schema version %d is invalid", version)
	}
	// Version 1 is the first layout, so there is nothing to migrate yet;
	// creating missing buckets still repairs a file that lost one.
	for _, name := range allBuckets {
		if _, err := btx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("create bucket %s: %w", name, err)
		}
	}
	return nil
}
