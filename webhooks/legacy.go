package webhooks

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/rcchat/caddy-whmcs-auth/store"
)

// legacyFields are the fields of RC-CHAT's legacy body. pid is accepted
// too because the fix RC-CHAT's own integration needs is to send it.
var legacyFields = map[string]bool{"clientid": true, "serviceid": true, "status": true, "domain": true, "pid": true}

// legacyStatuses maps the legacy status (case-insensitively) to its
// canonical spelling and the event it stands for.
var legacyStatuses = map[string]struct{ canonical, event string }{
	"active":     {"Active", EventModuleUnsuspend},
	"suspended":  {"Suspended", EventModuleSuspend},
	"terminated": {"Terminated", EventModuleTerminate},
	"fraud":      {"Fraud", EventModuleTerminate},
	"cancelled":  {"Cancelled", EventModuleTerminate},
}

// legacyHeadType marks the bookkeeping record that holds the current
// generation of one legacy content key. It shares the events table so
// that the generation and the event are written in one transaction with
// the same uniqueness rule (one record per id).
const legacyHeadType = "legacy-head"

// isLegacyShape tells a legacy body (no "event") from a malformed new one.
func isLegacyShape(top map[string]json.RawMessage) bool {
	_, status := top["status"]
	_, client := top["clientid"]
	return status || client
}

// decodeLegacy reads {clientid, serviceid, status, domain}. Its id is the
// content key "legacy/<hash of client, service and status>"; ingestion
// appends the generation (see the package documentation).
func decodeLegacy(top map[string]json.RawMessage) (Incoming, error) {
	if err := unknownFields(top, legacyFields); err != nil {
		return Incoming{}, err
	}
	var in Incoming
	var err error
	if in.ClientID, err = idField(top, "clientid"); err != nil {
		return Incoming{}, err
	}
	if in.ClientID == 0 {
		return Incoming{}, badField("clientid", "required")
	}
	if in.ServiceID, err = idField(top, "serviceid"); err != nil {
		return Incoming{}, err
	}
	if in.ProductID, err = idField(top, "pid"); err != nil {
		return Incoming{}, err
	}
	if _, err := stringField(top, "domain"); err != nil {
		return Incoming{}, err
	}
	status, err := stringField(top, "status")
	if err != nil {
		return Incoming{}, err
	}
	st, ok := legacyStatuses[strings.ToLower(status)]
	if !ok {
		return Incoming{}, badField("status", "must be Active, Suspended, Terminated or Fraud")
	}
	in.Legacy = true
	in.LegacyStatus = st.canonical
	in.Type = st.event
	// The domain is left out of the key: a changed domain is not a status
	// change, and RC-CHAT treats the field as optional.
	sum := sha256.Sum256(fmt.Appendf(nil, "%d|%d|%s", in.ClientID, in.ServiceID, st.canonical))
	in.ID = legacyIDPrefix + hex.EncodeToString(sum[:16])
	return in, nil
}

// legacyGeneration decides, inside the ingest transaction, whether a
// legacy body is a duplicate and otherwise returns the id of its new
// generation. A repeat is a duplicate while it would change nothing: the
// content was seen and the company is still in the status it implied (or
// still unknown). Once something else moved the company, the same content
// is a new status change and applies.
func legacyGeneration(tx store.Tx, in Incoming, c *store.Company, target store.CompanyStatus) (id string, gen int, dup bool, err error) {
	head, err := tx.Event(in.ID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return in.ID + "/1", 1, false, nil
	case err != nil:
		return "", 0, false, err
	}
	last, _ := strconv.Atoi(head.Outcome)
	if (c == nil) || (target != "" && c.Status == target) {
		return in.ID + "/" + strconv.Itoa(last), last, true, nil
	}
	return in.ID + "/" + strconv.Itoa(last+1), last + 1, false, nil
}

// putLegacyHead records the current generation of a content key.
func putLegacyHead(tx store.Tx, in Incoming, gen int, ev *store.Event) error {
	head := store.Event{
		ID: in.ID, Type: legacyHeadType, ClientID: in.ClientID, ServiceID: in.ServiceID,
		ReceivedAt: ev.ReceivedAt, Outcome: strconv.Itoa(gen),
	}
	return tx.PutEvent(&head)
}
