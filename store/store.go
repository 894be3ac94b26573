// Package store defines the durable state of the sidecar: companies, users,
// sessions, tokens, webhook events, outbox jobs, ticket links, signing keys,
// lockouts and the audit log.
//
// The domain packages see only the Store and Tx interfaces below. The
// embedded implementation lives in store/boltstore; a PostgreSQL one can
// follow because every operation is a typed read or write inside one
// transaction, and every uniqueness rule (one company per WHMCS client, one
// user per e-mail, one event per id, one link per RC-CHAT ticket) is a
// unique key that SQL can express.
package store

import (
	"context"
	"errors"
	"time"
)

// Errors returned by Tx methods. Callers test them with errors.Is.
var (
	// ErrNotFound means the record does not exist.
	ErrNotFound = errors.New("store: not found")
	// ErrConflict means a write would break a uniqueness rule.
	ErrConflict = errors.New("store: conflict")
)

// Store opens transactions on the state.
type Store interface {
	// View runs fn in a read-only transaction.
	View(ctx context.Context, fn func(Tx) error) error
	// Update runs fn in a read-write transaction. When Update returns nil
	// the writes are on disk (fsync'd); when fn returns an error nothing
	// is written.
	Update(ctx context.Context, fn func(Tx) error) error
	// Batch is Update for many small concurrent writers: several callers'
	// functions may share one transaction and one fsync. fn may run more
	// than once, so it must be idempotent and have no side effects outside
	// the transaction. Like Update, a nil return means durable.
	Batch(ctx context.Context, fn func(Tx) error) error
	// Revision increases after every committed write. Readers that cache
	// records (the request path does) drop their cache when it changes.
	Revision() uint64
	// Close releases the underlying file.
	Close() error
}

// Tx is one transaction. Put methods insert or replace by primary key;
// a zero numeric ID is assigned by the store.
type Tx interface {
	Company(id int64) (Company, error)
	CompanyByWHMCSClient(clientID int64) (Company, error)
	CompanyByRCChatID(rcchatID int64) (Company, error)
	// Companies lists companies with ID > afterID in ID order.
	Companies(afterID int64, limit int) ([]Company, error)
	// PutCompany enforces one company per WHMCS client id and per RC-CHAT
	// company id (when non-zero), returning ErrConflict otherwise.
	PutCompany(c *Company) error

	User(id int64) (User, error)
	// UserByEmail finds a user by normalised (lower-case, trimmed) e-mail.
	UserByEmail(email string) (User, error)
	// PutUser enforces one user per e-mail.
	PutUser(u *User) error

	// Session looks a session up by the SHA-256 of its cookie value.
	Session(idHash string) (Session, error)
	PutSession(s *Session) error
	DeleteSession(idHash string) error
	// CompanySessions lists the sessions of a company.
	CompanySessions(companyID int64) ([]Session, error)
	// DeleteExpiredSessions removes up to limit sessions that expired
	// before now, returning how many it removed.
	DeleteExpiredSessions(now time.Time, limit int) (int, error)
	// CountSessions counts the stored sessions, expired ones that the
	// sweep has not removed yet included. It is for metrics, so it should
	// not read every record when the backend can count without.
	CountSessions() (int, error)

	AuthCode(codeHash string) (AuthCode, error)
	PutAuthCode(c *AuthCode) error
	DeleteAuthCode(codeHash string) error

	RefreshToken(tokenHash string) (RefreshToken, error)
	PutRefreshToken(t *RefreshToken) error
	// RevokeRefreshFamily marks every token of a family revoked.
	RevokeRefreshFamily(familyID string) error
	// RevokeCompanyRefreshTokens marks every token of a company revoked.
	RevokeCompanyRefreshTokens(companyID int64) error

	SigningKeys() ([]SigningKey, error)
	PutSigningKey(k *SigningKey) error
	DeleteSigningKey(kid string) error

	Event(id string) (Event, error)
	PutEvent(e *Event) error

	Job(id int64) (Job, error)
	PutJob(j *Job) error
	DeleteJob(id int64) error
	// DueJobs lists pending jobs whose NextAttempt is not after now,
	// oldest first.
	DueJobs(now time.Time, limit int) ([]Job, error)
	// Jobs lists every job that is not done (pending and failed), oldest first.
	Jobs(limit int) ([]Job, error)

	TicketLink(ticketID string) (TicketLink, error)
	PutTicketLink(l *TicketLink) error

	Lockout(key string) (Lockout, error)
	PutLockout(l *Lockout) error
	DeleteLockout(key string) error
	// Lockouts lists counters with Key > afterKey in key order.
	Lockouts(afterKey string, limit int) ([]Lockout, error)

	AppendAudit(a *AuditEntry) error
	// Audit lists the newest entries first.
	Audit(limit int) ([]AuditEntry, error)
	// DeleteAuditBefore removes up to limit of the oldest entries (in ID
	// order) whose At is before cutoff, returning how many it removed. It
	// may stop at the first entry that is not before cutoff, so an entry
	// appended after a newer one can outlive the cutoff until that newer
	// one is removed too.
	DeleteAuditBefore(cutoff time.Time, limit int) (int, error)
}

// CompanyStatus is the access state of a company at the edge.
type CompanyStatus string

// The company statuses.
const (
	StatusActive    CompanyStatus = "active"
	StatusSuspended CompanyStatus = "suspended"
	StatusCancelled CompanyStatus = "cancelled"
)

// Valid reports whether s is one of the known statuses.
func (s CompanyStatus) Valid() bool {
	return s == StatusActive || s == StatusSuspended || s == StatusCancelled
}

// Company is one RC-CHAT tenant, owned by one WHMCS client.
type Company struct {
	ID              int64         `json:"id"`
	WHMCSClientID   int64         `json:"whmcs_client_id"`
	WHMCSServiceID  int64         `json:"whmcs_service_id"`
	RCChatCompanyID int64         `json:"rcchat_company_id,omitempty"`
	Name            string        `json:"name"`
	Plan            string        `json:"plan"`
	Status          CompanyStatus `json:"status"`
	DueDate         string        `json:"due_date"`
	StatusReason    string        `json:"status_reason,omitempty"`
	// CancelledAt is when the company was last cancelled. Sessions that
	// started before it are revoked for good, even after a reactivation.
	CancelledAt      time.Time `json:"cancelled_at,omitempty"`
	CreatedAt        time.Time `json:"created_at"`
	UpdatedAt        time.Time `json:"updated_at"`
	LastReconciledAt time.Time `json:"last_reconciled_at,omitempty"`
}

// User is a person who signs in. Provisioned admins carry a random password
// hash that is never shown; it exists so RC-CHAT-style local logins can be
// added without a schema change.
type User struct {
	ID           int64     `json:"id"`
	CompanyID    int64     `json:"company_id"`
	Email        string    `json:"email"`
	Name         string    `json:"name"`
	Role         string    `json:"role"`
	PasswordHash string    `json:"password_hash"`
	CreatedAt    time.Time `json:"created_at"`
}

// Session is the server-side record behind the session cookie.
type Session struct {
	IDHash    string `json:"id_hash"`
	UserID    int64  `json:"user_id"`
	CompanyID int64  `json:"company_id"`
	Email     string `json:"email"`
	Name      string `json:"name"`
	Role      string `json:"role"`
	// Vouched sessions come from an RC-CHAT login answer (staff, agents)
	// rather than a WHMCS service password.
	Vouched bool `json:"vouched,omitempty"`
	// Super is RC-CHAT's `user.super` flag from a vouched login.
	Super     bool      `json:"super,omitempty"`
	AuthTime  time.Time `json:"auth_time"`
	ExpiresAt time.Time `json:"expires_at"`
	ClientIP  string    `json:"client_ip,omitempty"`
}

// AuthCode is a single-use OAuth authorization code.
type AuthCode struct {
	CodeHash      string    `json:"code_hash"`
	ClientID      string    `json:"client_id"`
	RedirectURI   string    `json:"redirect_uri"`
	SessionHash   string    `json:"session_hash"`
	UserID        int64     `json:"user_id"`
	CompanyID     int64     `json:"company_id"`
	Scope         string    `json:"scope"`
	Nonce         string    `json:"nonce,omitempty"`
	CodeChallenge string    `json:"code_challenge,omitempty"`
	AuthTime      time.Time `json:"auth_time"`
	ExpiresAt     time.Time `json:"expires_at"`
}

// RefreshToken is stored by the SHA-256 of its value.
type RefreshToken struct {
	TokenHash string `json:"token_hash"`
	FamilyID  string `json:"family_id"`
	ClientID  string `json:"client_id"`
	UserID    int64  `json:"user_id"`
	CompanyID int64  `json:"company_id"`
	Scope     string `json:"scope"`
	// SessionHash ties a login's grant to its session: the grant ends
	// when the session does (logout, expiry). Empty for OIDC grants,
	// which outlive the sign-in by design (offline_access).
	SessionHash string    `json:"session_hash,omitempty"`
	AuthTime    time.Time `json:"auth_time"`
	ExpiresAt   time.Time `json:"expires_at"`
	// RotatedAt is set when this token was exchanged for a newer one.
	RotatedAt time.Time `json:"rotated_at,omitempty"`
	// Successor is the hash of the token that replaced this one.
	Successor string `json:"successor,omitempty"`
	Revoked   bool   `json:"revoked,omitempty"`
}

// SigningKey is an ES256 key pair, PEM-encoded PKCS#8.
type SigningKey struct {
	KID        string    `json:"kid"`
	PrivatePEM []byte    `json:"private_pem"`
	CreatedAt  time.Time `json:"created_at"`
	// RetiredAt is when the key stopped signing; zero while it is current.
	RetiredAt time.Time `json:"retired_at,omitempty"`
	// PublishUntil is when the public key may leave the JWKS.
	PublishUntil time.Time `json:"publish_until,omitempty"`
}

// Event is a received WHMCS webhook event.
type Event struct {
	ID         string    `json:"id"`
	Type       string    `json:"type"`
	ServiceID  int64     `json:"service_id,omitempty"`
	ClientID   int64     `json:"client_id,omitempty"`
	ProductID  int64     `json:"product_id,omitempty"`
	InvoiceID  int64     `json:"invoice_id,omitempty"`
	OccurredAt time.Time `json:"occurred_at"`
	ReceivedAt time.Time `json:"received_at"`
	Outcome    string    `json:"outcome"`
}

// JobState is where an outbox job is in its life.
type JobState string

// The job states. Done jobs are deleted, so they have no state.
const (
	JobPending JobState = "pending"
	// JobFailed jobs are parked: they need an operator (for example after
	// WHMCS rejected the API credentials) and are not retried on their own.
	JobFailed JobState = "failed"
)

// Job is one unit of work that must reach WHMCS. Steps records which of
// its steps already succeeded, so a retry never repeats one.
type Job struct {
	ID          int64             `json:"id"`
	Kind        string            `json:"kind"`
	Key         string            `json:"key,omitempty"`
	Payload     []byte            `json:"payload"`
	Steps       map[string]string `json:"steps,omitempty"`
	State       JobState          `json:"state"`
	Attempts    int               `json:"attempts"`
	LastError   string            `json:"last_error,omitempty"`
	CreatedAt   time.Time         `json:"created_at"`
	NextAttempt time.Time         `json:"next_attempt"`
}

// TicketLink ties an RC-CHAT ticket to its WHMCS ticket.
type TicketLink struct {
	TicketID      string    `json:"ticket_id"`
	CompanyID     int64     `json:"company_id,omitempty"`
	WHMCSTicketID int64     `json:"whmcs_ticket_id"`
	WHMCSTID      string    `json:"whmcs_tid"`
	WHMCSClientID int64     `json:"whmcs_client_id,omitempty"`
	SyncState     string    `json:"sync_state"`
	CloseJobID    int64     `json:"close_job_id,omitempty"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// Lockout counts failed logins of one key (an e-mail or a client IP).
type Lockout struct {
	Key         string    `json:"key"`
	Failures    int       `json:"failures"`
	WindowStart time.Time `json:"window_start"`
	BannedUntil time.Time `json:"banned_until,omitempty"`
}

// AuditEntry records one security-relevant action. It never holds a password.
type AuditEntry struct {
	ID        int64     `json:"id"`
	At        time.Time `json:"at"`
	Action    string    `json:"action"`
	Outcome   string    `json:"outcome"`
	Email     string    `json:"email,omitempty"`
	ClientIP  string    `json:"client_ip,omitempty"`
	CompanyID int64     `json:"company_id,omitempty"`
	Detail    string    `json:"detail,omitempty"`
}
