package edge

import (
	"time"

	"github.com/rcchat/caddy-whmcs-auth/store"
	"github.com/rcchat/caddy-whmcs-auth/tokens"
)

// userJSON and companyJSON are the shapes of SPEC 5.2, shared by the JSON
// login and /sso/session.
type userJSON struct {
	ID    int64  `json:"id"`
	Email string `json:"email"`
	Name  string `json:"name"`
	Role  string `json:"role"`
}

type companyJSON struct {
	ID            int64  `json:"id"`
	Name          string `json:"name"`
	Plan          string `json:"plan"`
	Status        string `json:"status"`
	DueDate       string `json:"due_date"`
	WHMCSClientID int64  `json:"whmcs_client_id"`
}

type loginResponse struct {
	tokens.TokenSet
	User    userJSON    `json:"user"`
	Company companyJSON `json:"company"`
}

type sessionResponse struct {
	User      userJSON    `json:"user"`
	Company   companyJSON `json:"company"`
	ExpiresAt time.Time   `json:"expires_at"`
}

func userView(s store.Session) userJSON {
	return userJSON{ID: s.UserID, Email: s.Email, Name: s.Name, Role: s.Role}
}

func companyView(c store.Company) companyJSON {
	return companyJSON{ID: c.ID, Name: c.Name, Plan: c.Plan, Status: string(c.Status), DueDate: c.DueDate, WHMCSClientID: c.WHMCSClientID}
}
