package tickets

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"strings"

	"go.uber.org/zap"

	"github.com/rcchat/caddy-whmcs-auth/whmcsauth"
)

// Placeholders for the AddClient fields WHMCS requires but a help-desk
// contact does not have. The request also sets skipvalidation, so WHMCS
// would accept them empty; they are sent anyway so that installations
// whose validation hooks ignore skipvalidation still accept the client,
// and so the admin area shows where the client came from.
const (
	// PlaceholderLastName completes a one-word contact name.
	PlaceholderLastName = "(RC-CHAT)"
	// PlaceholderAddress fills address1, city, state and postcode.
	PlaceholderAddress = "N/A"
	// PlaceholderPhone fills phonenumber when the contact has none.
	PlaceholderPhone = "N/A"
)

// resolveClient returns the WHMCS client a contact's ticket belongs to, or
// 0 to open it as a guest. The client is found by exact e-mail
// (FindClientByEmail: GetClientsDetails, then GetClients filtered exactly
// and case-insensitively). With CreateClients an unknown contact becomes a
// client; if WHMCS refuses that (typically "A user already exists with
// that email address": a WHMCS 8 login user owns the address without
// owning a client), the ticket is opened as a guest rather than not at all.
func (s *Service) resolveClient(ctx context.Context, c contact) (int64, error) {
	d, err := s.whmcs.FindClientByEmail(ctx, c.email)
	if err == nil {
		return d.ID, nil
	}
	if !whmcsauth.IsNotFound(err) {
		return 0, err
	}
	if !s.createClients {
		return 0, nil
	}
	id, err := s.whmcs.AddClient(ctx, s.newClient(c))
	switch {
	case err == nil:
		s.log.Info("sso api: WHMCS client created for a ticket contact", zap.Int64("whmcs_client_id", id))
		return id, nil
	case whmcsauth.IsBusiness(err):
		s.log.Warn("sso api: WHMCS refused to create the contact's client; opening the ticket as a guest", zap.Error(err))
		return 0, nil
	default:
		return 0, err
	}
}

// newClient builds AddClient's input from what RC-CHAT knows about the
// contact: the name split into first and last, the e-mail, the phone, and
// placeholders for the rest. The client-area password is random and never
// stored or shown: the contact can set one with WHMCS's password reset.
// NoEmail keeps WHMCS from mailing a welcome message the contact did not
// ask for.
func (s *Service) newClient(c contact) whmcsauth.AddClientRequest {
	first, last := splitName(c.name)
	phone := c.phone
	if phone == "" {
		phone = PlaceholderPhone
	}
	return whmcsauth.AddClientRequest{
		FirstName: first, LastName: last, Email: c.email, Phone: phone,
		Address1: PlaceholderAddress, City: PlaceholderAddress, State: PlaceholderAddress, Postcode: PlaceholderAddress,
		Country: s.country, Password: whmcsauth.Secret(randomPassword()),
		SkipValidation: true, NoEmail: true,
	}
}

// splitName splits a display name at its first blank: "Maria da Silva" →
// "Maria", "da Silva". WHMCS requires both parts, so a single word gets
// PlaceholderLastName.
func splitName(name string) (first, last string) {
	parts := strings.Fields(name)
	switch len(parts) {
	case 0:
		return "RC-CHAT", PlaceholderLastName
	case 1:
		return parts[0], PlaceholderLastName
	default:
		return parts[0], strings.Join(parts[1:], " ")
	}
}

// randomPassword returns 144 random bits, URL-safe.
func randomPassword() string {
	b := make([]byte, 18)
	_, _ = rand.Read(b) // crypto/rand.Read never fails since Go 1.24
	return base64.RawURLEncoding.EncodeToString(b)
}
