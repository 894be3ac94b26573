package tickets

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"go.uber.org/zap"

	"github.com/rcchat/caddy-whmcs-auth/companies"
	"github.com/rcchat/caddy-whmcs-auth/outbox"
	"github.com/rcchat/caddy-whmcs-auth/store"
)

// Paging bounds of GET /sso/api/companies.
const (
	defaultCompaniesLimit = 100
	maxCompaniesLimit     = 1000
)

// companyView is a company as RC-CHAT's backend sees it. Every field is
// always present so the caller need not tell 0 from missing.
type companyView struct {
	ID              int64               `json:"id"`
	Name            string              `json:"name"`
	Plan            string              `json:"plan"`
	Status          store.CompanyStatus `json:"status"`
	DueDate         string              `json:"due_date"`
	WHMCSClientID   int64               `json:"whmcs_client_id"`
	WHMCSServiceID  int64               `json:"whmcs_service_id"`
	RCChatCompanyID int64               `json:"rcchat_company_id"`
}

func newCompanyView(c *store.Company) companyView {
	return companyView{ID: c.ID, Name: c.Name, Plan: c.Plan, Status: c.Status, DueDate: c.DueDate,
		WHMCSClientID: c.WHMCSClientID, WHMCSServiceID: c.WHMCSServiceID, RCChatCompanyID: c.RCChatCompanyID}
}

// companyList is the body of GET /sso/api/companies. NextAfter is the
// `after` of the next page, absent on the last one.
type companyList struct {
	Companies []companyView `json:"companies"`
	NextAfter int64         `json:"next_after,omitempty"`
}

// handleListCompanies serves GET /sso/api/companies?after=&limit=, in id
// order. ?rcchat_company_id= or ?whmcs_client_id= select the one company
// with that id instead (RC-CHAT knows its own company ids, not ours).
func (s *Service) handleListCompanies(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	after, err := queryInt(q, "after", 0, 0)
	if err != nil {
		writeRequestError(w, err)
		return
	}
	limit, err := queryInt(q, "limit", defaultCompaniesLimit, 1)
	if err != nil {
		writeRequestError(w, err)
		return
	}
	limit = min(limit, maxCompaniesLimit)
	rcchat, err := queryInt(q, "rcchat_company_id", 0, 1)
	if err != nil {
		writeRequestError(w, err)
		return
	}
	client, err := queryInt(q, "whmcs_client_id", 0, 1)
	if err != nil {
		writeRequestError(w, err)
		return
	}
	out := companyList{Companies: []companyView{}}
	err = s.store.View(r.Context(), func(tx store.Tx) error {
		if rcchat > 0 || client > 0 {
			var c store.Company
			var err error
			if rcchat > 0 {
				c, err = tx.CompanyByRCChatID(rcchat)
			} else {
				c, err = tx.CompanyByWHMCSClient(client)
			}
			if errors.Is(err, store.ErrNotFound) || (err == nil && client > 0 && rcchat > 0 && c.WHMCSClientID != client) {
				return nil
			}
			if err == nil {
				out.Companies = append(out.Companies, newCompanyView(&c))
			}
			return err
		}
		list, err := tx.Companies(after, int(limit))
		for i := range list {
			out.Companies = append(out.Companies, newCompanyView(&list[i]))
		}
		if len(list) == int(limit) {
			out.NextAfter = list[len(list)-1].ID
		}
		return err
	})
	if err != nil {
		s.writeInternal(w, "listing companies", err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// queryInt reads an optional integer query parameter of at least lo.
func queryInt(q url.Values, key string, def, lo int64) (int64, error) {
	v := strings.TrimSpace(q.Get(key))
	if v == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < lo {
		return 0, &fieldError{key, "must be an integer of at least " + strconv.FormatInt(lo, 10)}
	}
	return n, nil
}

// idParam reads the {id} path value of /sso/api/companies/{id}/... and
// /sso/api/outbox/{id}/retry.
func idParam(r *http.Request) (int64, error) {
	n, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || n <= 0 {
		return 0, &fieldError{"id", "must be a positive integer"}
	}
	return n, nil
}

// handleGetCompany serves GET /sso/api/companies/{id}.
func (s *Service) handleGetCompany(w http.ResponseWriter, r *http.Request) {
	id, err := idParam(r)
	if err != nil {
		writeRequestError(w, err)
		return
	}
	var c store.Company
	err = s.store.View(r.Context(), func(tx store.Tx) error {
		var err error
		c, err = tx.Company(id)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "not_found", "")
		return
	}
	if err != nil {
		s.writeInternal(w, "reading a company", err, zap.Int64("company_id", id))
		return
	}
	writeJSON(w, http.StatusOK, newCompanyView(&c))
}

// whmcsClientStatus maps a company status to the WHMCS client status that
// UpdateClient accepts.
var whmcsClientStatus = map[store.CompanyStatus]string{
	store.StatusActive:    "Active",
	store.StatusSuspended: "Inactive",
	store.StatusCancelled: "Closed",
}

// statusAnswer is the company after a status change, plus the WHMCS sync
// outcome ("queued", or "skipped" when the company has no WHMCS client).
type statusAnswer struct {
	companyView
	WHMCSSync string `json:"whmcs_sync,omitempty"`
}

// statusReason is recorded on companies changed through this API.
const statusReason = "set through the RC-CHAT API"

// handleCompanyStatus serves POST /sso/api/companies/{id}/status {status,
// sync_whmcs}. The change goes through companies.SetStatus, like a WHMCS
// webhook's, so the company's next request at the edge already sees it.
// With sync_whmcs the UpdateClient job is queued in the same transaction,
// so an acknowledged change always reaches WHMCS eventually. It is queued
// even when the status did not change, because the caller explicitly asked
// to push it (WHMCS may have drifted).
func (s *Service) handleCompanyStatus(w http.ResponseWriter, r *http.Request) {
	id, err := idParam(r)
	if err != nil {
		writeRequestError(w, err)
		return
	}
	o, err := readObject(r, "status", "sync_whmcs")
	if err != nil {
		writeRequestError(w, err)
		return
	}
	st, err := o.str("status", true)
	if err != nil {
		writeRequestError(w, err)
		return
	}
	status := store.CompanyStatus(strings.ToLower(strings.TrimSpace(st)))
	if !status.Valid() {
		writeRequestError(w, &fieldError{"status", "must be active, suspended or cancelled"})
		return
	}
	sync, err := o.boolean("sync_whmcs")
	if err != nil {
		writeRequestError(w, err)
		return
	}
	if sync && s.whmcs == nil {
		writeError(w, http.StatusConflict, "whmcs_not_configured", "sync_whmcs needs the WHMCS API settings")
		return
	}
	now := s.now()
	var (
		c       store.Company
		answer  statusAnswer
		changed bool
		jobID   int64
	)
	err = s.store.Update(r.Context(), func(tx store.Tx) error {
		var err error
		jobID = 0
		if c, err = tx.Company(id); err != nil {
			return err
		}
		if changed, err = companies.SetStatus(tx, &c, status, statusReason, now); err != nil {
			return err
		}
		answer = statusAnswer{companyView: newCompanyView(&c)}
		if changed {
			if err := tx.AppendAudit(&store.AuditEntry{At: now, Action: "company.status", Outcome: string(status),
				CompanyID: c.ID, Detail: statusReason}); err != nil {
				return err
			}
		}
		if !sync {
			return nil
		}
		if c.WHMCSClientID <= 0 {
			answer.WHMCSSync = "skipped"
			return nil
		}
		j, err := outbox.Enqueue(tx, JobUpdateClient, "company:"+strconv.FormatInt(c.ID, 10),
			updateClientPayload{CompanyID: c.ID, WHMCSClientID: c.WHMCSClientID, Status: whmcsClientStatus[status]}, now)
		if err != nil {
			return err
		}
		jobID, answer.WHMCSSync = j.ID, "queued"
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "not_found", "")
		return
	}
	if err != nil {
		s.writeInternal(w, "changing a company's status", err, zap.Int64("company_id", id))
		return
	}
	if jobID != 0 {
		s.notify()
	}
	s.log.Info("sso api: company status set", zap.Int64("company_id", id), zap.String("status", string(status)),
		zap.Bool("changed", changed), zap.String("whmcs_sync", answer.WHMCSSync))
	writeJSON(w, http.StatusOK, answer)
}
