package webhooks

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/rcchat/caddy-whmcs-auth/whmcsauth"
)

// The WHMCS events the receiver acts on. Every other event name is
// answered {"status":"ignored"}.
const (
	EventModuleCreate        = "AfterModuleCreate"
	EventModuleSuspend       = "AfterModuleSuspend"
	EventModuleUnsuspend     = "AfterModuleUnsuspend"
	EventModuleTerminate     = "AfterModuleTerminate"
	EventInvoicePaid         = "InvoicePaid"
	EventModuleChangePackage = "AfterModuleChangePackage"
)

// knownEvent reports whether the receiver acts on typ.
func knownEvent(typ string) bool {
	switch typ {
	case EventModuleCreate, EventModuleSuspend, EventModuleUnsuspend, EventModuleTerminate,
		EventInvoicePaid, EventModuleChangePackage:
		return true
	}
	return false
}

// maxIDLen bounds event ids: they are stored as keys and written to logs.
const maxIDLen = 200

// legacyIDPrefix starts every id the receiver derives for legacy bodies.
// Signed events may not use it, so a sender can never collide with (or
// pre-empt) a derived id.
const legacyIDPrefix = "legacy/"

// Incoming is an authenticated event body, decoded but not yet stored.
type Incoming struct {
	// ID is the sender's event id. For a legacy body it is the content key
	// that ingestion completes with a generation number.
	ID string
	// NumericID is set when the sender wrote the id as a number, so the
	// answer echoes it in the same JSON type.
	NumericID bool
	// Type is one of the Event* constants, or the sender's name when
	// Ignored.
	Type string
	// Ignored is set for event types the receiver does not act on; the
	// other fields are then not decoded.
	Ignored bool
	// OccurredAt is when WHMCS fired the hook; zero when not sent.
	OccurredAt time.Time
	// ServiceID, ClientID, ProductID and InvoiceID are the params (zero
	// when absent).
	ServiceID, ClientID, ProductID, InvoiceID int64
	// Legacy marks RC-CHAT's legacy body; LegacyStatus is its status,
	// canonically capitalised.
	Legacy       bool
	LegacyStatus string
}

// DecodeError is a malformed body. Field names the offending JSON field
// (dotted for params) so the 400 answer tells the sender what to fix.
type DecodeError struct {
	// Field is the JSON field at fault; empty when the body as a whole is.
	Field string
	// Msg says what is wrong with it.
	Msg string
}

// Error renders "field: problem".
func (e *DecodeError) Error() string {
	if e.Field == "" {
		return e.Msg
	}
	return e.Field + ": " + e.Msg
}

func badField(field, format string, args ...any) error {
	return &DecodeError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// signedFields are the top-level fields of the SPEC 7 body. Anything else
// is refused rather than ignored: a typo such as "serviceId" at the top
// level would otherwise be silently dropped and the event applied without
// it.
var signedFields = map[string]bool{"id": true, "event": true, "occurred_at": true, "params": true}

// DecodeEvent decodes a webhook body: the SPEC 7 format, or RC-CHAT's
// legacy {clientid, serviceid, status, domain} when there is no "event"
// field. Top-level fields are strict; ids inside params may be numbers or
// strings, and unknown params are ignored (WHMCS adds module params
// freely). An event type we do not act on decodes with Ignored set and is
// not validated further.
func DecodeEvent(body []byte) (Incoming, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil || top == nil {
		if err != nil && bytes.HasPrefix(bytes.TrimSpace(body), []byte("{")) {
			return Incoming{}, badField("", "body is not valid JSON: %s", describeJSON(err))
		}
		return Incoming{}, badField("", "body must be a JSON object")
	}
	if _, ok := top["event"]; !ok {
		if isLegacyShape(top) {
			return decodeLegacy(top)
		}
		return Incoming{}, badField("event", "required")
	}
	if err := unknownFields(top, signedFields); err != nil {
		return Incoming{}, err
	}
	var in Incoming
	typ, err := stringField(top, "event")
	if err != nil {
		return Incoming{}, err
	}
	if typ == "" {
		return Incoming{}, badField("event", "required")
	}
	in.Type = typ
	if !knownEvent(typ) {
		in.Ignored = true
		return in, nil
	}
	if in.ID, err = decodeID(top["id"]); err != nil {
		return Incoming{}, err
	}
	in.NumericID = len(top["id"]) > 0 && top["id"][0] != '"'
	if in.OccurredAt, err = decodeTime(top["occurred_at"]); err != nil {
		return Incoming{}, err
	}
	if err := decodeParams(top["params"], &in); err != nil {
		return Incoming{}, err
	}
	switch {
	case typ == EventInvoicePaid && in.InvoiceID == 0 && in.ClientID == 0:
		// Without the invoice, a userid still says whose services to
		// resync (see the package documentation).
		return Incoming{}, badField("params.invoiceid", "required for %s (or at least params.userid)", typ)
	case typ != EventInvoicePaid && in.ServiceID == 0:
		return Incoming{}, badField("params.serviceid", "required for %s", typ)
	}
	return in, nil
}

// unknownFields names the first (alphabetically, for a stable message)
// field not in allowed.
func unknownFields(top map[string]json.RawMessage, allowed map[string]bool) error {
	var unknown []string
	for k := range top {
		if !allowed[k] {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	sort.Strings(unknown)
	return badField(unknown[0], "unknown field")
}

// stringField reads an optional string field; null and absent are "".
func stringField(top map[string]json.RawMessage, name string) (string, error) {
	raw, ok := top[name]
	if !ok || isNull(raw) {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", badField(name, "must be a string")
	}
	return strings.TrimSpace(s), nil
}

// decodeID reads the event id: a string, or an integer for senders that
// number their events. It must be printable ASCII without spaces, because
// it is a storage key and appears in logs.
func decodeID(raw json.RawMessage) (string, error) {
	if len(raw) == 0 || isNull(raw) {
		return "", badField("id", "required")
	}
	var id string
	if raw[0] == '"' {
		if err := json.Unmarshal(raw, &id); err != nil {
			return "", badField("id", "must be a string")
		}
	} else {
		var n whmcsauth.FlexInt
		if err := json.Unmarshal(raw, &n); err != nil || n <= 0 {
			return "", badField("id", "must be a string or a positive integer")
		}
		id = fmt.Sprint(int64(n))
	}
	switch {
	case id == "":
		return "", badField("id", "required")
	case len(id) > maxIDLen:
		return "", badField("id", "longer than %d characters", maxIDLen)
	case strings.HasPrefix(id, legacyIDPrefix):
		return "", badField("id", "the %q prefix is reserved", legacyIDPrefix)
	}
	for i := 0; i < len(id); i++ {
		if id[i] <= ' ' || id[i] > '~' {
			return "", badField("id", "must be printable ASCII without spaces")
		}
	}
	return id, nil
}

// decodeTime reads occurred_at; absent, null or "" mean "not sent".
func decodeTime(raw json.RawMessage) (time.Time, error) {
	if len(raw) == 0 || isNull(raw) {
		return time.Time{}, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return time.Time{}, badField("occurred_at", "must be an RFC 3339 time string")
	}
	if strings.TrimSpace(s) == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, strings.TrimSpace(s))
	if err != nil {
		return time.Time{}, badField("occurred_at", "must be an RFC 3339 time")
	}
	return t.UTC(), nil
}

// decodeParams reads the ids of params; other params are ignored.
func decodeParams(raw json.RawMessage, in *Incoming) error {
	if len(raw) == 0 || isNull(raw) {
		return nil // the per-event required checks name the missing id
	}
	var params map[string]json.RawMessage
	if err := json.Unmarshal(raw, &params); err != nil {
		return badField("params", "must be an object")
	}
	for _, f := range []struct {
		name string
		dst  *int64
	}{
		{"serviceid", &in.ServiceID}, {"userid", &in.ClientID}, {"pid", &in.ProductID}, {"invoiceid", &in.InvoiceID},
	} {
		v, err := idField(params, f.name)
		if err != nil {
			return badField("params."+f.name, "%s", err.(*DecodeError).Msg)
		}
		*f.dst = v
	}
	return nil
}

// idField reads a WHMCS id sent as a number or a string; absent, null and
// "" are zero.
func idField(m map[string]json.RawMessage, name string) (int64, error) {
	raw, ok := m[name]
	if !ok {
		return 0, nil
	}
	var n whmcsauth.FlexInt
	if err := json.Unmarshal(raw, &n); err != nil || n < 0 {
		return 0, badField(name, "must be a non-negative integer id (number or string)")
	}
	return int64(n), nil
}

func isNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }

// describeJSON words a syntax error without quoting the body.
func describeJSON(err error) string {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return fmt.Sprintf("syntax error at offset %d", syn.Offset)
	}
	return "cannot decode"
}
