package tickets

import (
	"encoding/json"
	"errors"
	"net/http"

	"go.uber.org/zap"

	"github.com/rcchat/caddy-whmcs-auth/whmcsauth"
)

// apiError is the JSON body of every error answer.
type apiError struct {
	Error       string `json:"error"`
	Field       string `json:"field,omitempty"`
	Description string `json:"error_description,omitempty"`
}

// writeJSON answers v with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		// Every answer type here marshals; this only guards a future one.
		status, body = http.StatusInternalServerError, []byte(`{"error":"internal_error"}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}

// writeError answers {"error":code} with an optional description.
func writeError(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, apiError{Error: code, Description: desc})
}

// writeRequestError answers a request that could not be parsed: 400 naming
// the field, 413 for an oversized body, 415 for a non-JSON content type.
func writeRequestError(w http.ResponseWriter, err error) {
	var fe *fieldError
	switch {
	case errors.As(err, &fe):
		writeJSON(w, http.StatusBadRequest, apiError{Error: "invalid_request", Field: fe.field, Description: fe.desc})
	case errors.Is(err, errTooLarge):
		writeError(w, http.StatusRequestEntityTooLarge, "request_too_large", "the body must not exceed 64 KiB")
	case errors.Is(err, errMediaType):
		writeError(w, http.StatusUnsupportedMediaType, "unsupported_media_type", "send application/json")
	default:
		writeJSON(w, http.StatusBadRequest, apiError{Error: "invalid_request", Field: "body", Description: "malformed request"})
	}
}

// writeInternal logs a store failure and answers 500 without details.
func (s *Service) writeInternal(w http.ResponseWriter, msg string, err error, fields ...zap.Field) {
	s.log.Error("sso api: "+msg, append(fields, zap.Error(err))...)
	writeError(w, http.StatusInternalServerError, "internal_error", "")
}

// writeWHMCSFailure answers a failed synchronous WHMCS call. Transport
// failures and refused credentials are 503 whmcs_unavailable (nothing was
// stored, so the caller may retry); a refused credential is logged as an
// error because only an operator can fix it, and nothing here retries it.
// WHMCS rejecting the request itself (an unknown department, say) is 502
// whmcs_rejected with WHMCS's message, since retrying cannot help.
func (s *Service) writeWHMCSFailure(w http.ResponseWriter, what string, err error, fields ...zap.Field) {
	fields = append(fields, zap.Error(err))
	switch {
	case whmcsauth.IsAuth(err):
		s.log.Error("sso api: "+what+": WHMCS refused the API credentials; fix them, nothing retries this", fields...)
	case whmcsauth.IsBusiness(err):
		s.log.Warn("sso api: "+what+": WHMCS refused the request", fields...)
		var we *whmcsauth.Error
		desc := "WHMCS refused the request"
		if errors.As(err, &we) {
			desc = we.Message
		}
		writeError(w, http.StatusBadGateway, "whmcs_rejected", desc)
		return
	default:
		s.log.Warn("sso api: "+what+": WHMCS unavailable", fields...)
		w.Header().Set("Retry-After", "30")
	}
	writeError(w, http.StatusServiceUnavailable, "whmcs_unavailable", "")
}
