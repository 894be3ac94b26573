package tickets

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxBodyBytes bounds every request body; larger ones get 413. 64 KiB is
// far above any ticket or close request RC-CHAT sends for a normal chat.
const MaxBodyBytes = 64 << 10

// fieldError is a 400 answer naming the offending field, so RC-CHAT's
// developers see at once what to fix.
type fieldError struct {
	field string
	desc  string
}

func (e *fieldError) Error() string { return e.field + ": " + e.desc }

// errTooLarge is reported as 413.
var errTooLarge = errors.New("request body too large")

// errMediaType is reported as 415.
var errMediaType = errors.New("unsupported media type")

// readObject reads the body as one JSON object whose keys must all be in
// allowed. It is hand-rolled over encoding/json's raw messages, rather than
// decoding into a struct, so that every error names the full path of the
// field ("contact.email", "messages[2].at"), which the standard decoder
// does not do for unknown fields or array elements.
func readObject(r *http.Request, allowed ...string) (*object, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return nil, errMediaType
		}
	}
	if r.Body == nil {
		return nil, &fieldError{"body", "a JSON object is required"}
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, errTooLarge
		}
		return nil, &fieldError{"body", "could not read the request body"}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		return nil, &fieldError{"body", "malformed JSON: " + describeJSON(err)}
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, &fieldError{"body", "unexpected data after the JSON object"}
	}
	return asObject("", raw, allowed...)
}

// describeJSON words a decoding error without echoing the input.
func describeJSON(err error) string {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return fmt.Sprintf("invalid JSON at offset %d", syn.Offset)
	}
	if errors.Is(err, io.EOF) {
		return "empty body"
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return "truncated JSON"
	}
	return "invalid JSON"
}

// object is a JSON object being validated field by field.
type object struct {
	path   string
	fields map[string]json.RawMessage
}

// asObject checks that raw is an object with only allowed keys.
func asObject(path string, raw json.RawMessage, allowed ...string) (*object, error) {
	name := path
	if name == "" {
		name = "body"
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return nil, &fieldError{name, "must be a JSON object"}
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return nil, &fieldError{name, "must be a JSON object"}
	}
	o := &object{path: path, fields: fields}
	var unknown []string
	for k := range fields {
		if !slices.Contains(allowed, k) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return nil, &fieldError{o.name(unknown[0]), "unknown field"}
	}
	return o, nil
}

// name is the full path of a key of o.
func (o *object) name(key string) string {
	if o.path == "" {
		return key
	}
	return o.path + "." + key
}

// get returns a field's raw value; JSON null counts as absent, because
// JavaScript callers send null for "not set" as often as they omit it.
func (o *object) get(key string) (json.RawMessage, bool) {
	v, ok := o.fields[key]
	if !ok || string(bytes.TrimSpace(v)) == "null" {
		return nil, false
	}
	return v, true
}

// str reads a string field; required fields must not be blank. The value
// is returned as sent (untrimmed) so message text keeps its layout.
func (o *object) str(key string, required bool) (string, error) {
	v, ok := o.get(key)
	if !ok {
		if required {
			return "", &fieldError{o.name(key), "is required"}
		}
		return "", nil
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return "", &fieldError{o.name(key), "must be a string"}
	}
	if required && strings.TrimSpace(s) == "" {
		return "", &fieldError{o.name(key), "must not be empty"}
	}
	return s, nil
}

// boolean reads an optional boolean field (false when absent).
func (o *object) boolean(key string) (bool, error) {
	v, ok := o.get(key)
	if !ok {
		return false, nil
	}
	var b bool
	if err := json.Unmarshal(v, &b); err != nil {
		return false, &fieldError{o.name(key), "must be true or false"}
	}
	return b, nil
}

// positiveInt reads a positive integer given as a JSON number or a string
// of digits (JavaScript callers often stringify ids). ok is false when the
// field is absent and not required.
func (o *object) positiveInt(key string, required bool) (n int64, ok bool, err error) {
	v, present := o.get(key)
	if !present {
		if required {
			return 0, false, &fieldError{o.name(key), "is required"}
		}
		return 0, false, nil
	}
	text := string(bytes.TrimSpace(v))
	if text[0] == '"' {
		if err := json.Unmarshal(v, &text); err != nil {
			return 0, false, &fieldError{o.name(key), "must be a positive integer"}
		}
	}
	n, perr := strconv.ParseInt(text, 10, 64)
	if perr != nil || n <= 0 {
		return 0, false, &fieldError{o.name(key), "must be a positive integer"}
	}
	return n, true, nil
}

// ticketIDPattern bounds RC-CHAT ticket ids to a safe alphabet: they are
// keys of the store and segments of /sso/api/tickets/{ticket_id}, and go
// into WHMCS text. RC-CHAT's own ids are integers.
var ticketIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$`)

// ticketID reads an RC-CHAT ticket id given as a string or an integer.
func (o *object) ticketID(key string) (string, error) {
	v, ok := o.get(key)
	if !ok {
		return "", &fieldError{o.name(key), "is required"}
	}
	text := string(bytes.TrimSpace(v))
	if text[0] == '"' {
		if err := json.Unmarshal(v, &text); err != nil {
			return "", &fieldError{o.name(key), "must be a string or an integer"}
		}
	} else if _, err := strconv.ParseInt(text, 10, 64); err != nil {
		return "", &fieldError{o.name(key), "must be a string or an integer"}
	}
	return checkTicketID(o.name(key), text)
}

// checkTicketID validates a ticket id from a body or a path.
func checkTicketID(field, id string) (string, error) {
	id = strings.TrimSpace(id)
	if !ticketIDPattern.MatchString(id) {
		return "", &fieldError{field, "must be 1 to 64 letters, digits or . _ : - (starting with a letter or digit)"}
	}
	return id, nil
}

// array reads an optional array field as its raw elements.
func (o *object) array(key string) ([]json.RawMessage, error) {
	v, ok := o.get(key)
	if !ok {
		return nil, nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(v, &items); err != nil {
		return nil, &fieldError{o.name(key), "must be an array"}
	}
	return items, nil
}

// child reads a required nested object field.
func (o *object) child(key string, allowed ...string) (*object, error) {
	v, ok := o.get(key)
	if !ok {
		return nil, &fieldError{o.name(key), "is required"}
	}
	return asObject(o.name(key), v, allowed...)
}

// clip shortens s to at most n runes, marking the cut with an ellipsis.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// oneLine turns text into a single line: line breaks and other control
// characters become spaces and runs of blanks collapse, so text taken from
// a chat cannot break a log line or the transcript layout.
func oneLine(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool {
		return r == ' ' || r < 0x20 || r == 0x7f || r == '\u2028' || r == '\u2029' || r == utf8.RuneError
	}), " ")
}
