package whmcsauth

import (
	"bytes"
	"encoding/json"
	"errors"
	"html"
	"math"
	"sort"
	"strconv"
	"strings"
)

// The decoders below exist because WHMCS's JSON is produced by PHP arrays
// whose scalar types depend on the code path (legacy database rows give
// strings, newer code gives ints and bools) and whose empty collections come
// out as "", [], {} or a missing key. Each type accepts every form seen in the
// fact sheet so that a WHMCS upgrade that flips a type does not break logins.
// Error messages never quote the offending value: a response can carry
// plaintext service passwords.

var (
	errNotInt    = errors.New("whmcsauth: value is not an integer")
	errNotBool   = errors.New("whmcsauth: value is not a boolean")
	errNotString = errors.New("whmcsauth: value is not a scalar")
	errNotList   = errors.New("whmcsauth: value is not a list")
	errTooDeep   = errors.New("whmcsauth: list nested too deeply")
)

// FlexInt decodes an integer sent as a JSON number (1, 1.0), a numeric string
// ("1", " 1 "), or nothing at all ("", null) which decodes to 0. It is
// exported so that other packages (webhooks, whose ids arrive as numbers or
// strings) decode WHMCS ids the same way.
type FlexInt int64

// UnmarshalJSON implements json.Unmarshaler.
func (n *FlexInt) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" {
		*n = 0
		return nil
	}
	s := string(b)
	if b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return errNotInt
		}
		s = strings.TrimSpace(s)
		if s == "" {
			*n = 0
			return nil
		}
	}
	v, err := parseFlexInt(s)
	if err != nil {
		return err
	}
	*n = FlexInt(v)
	return nil
}

// parseFlexInt accepts integral decimals too, because PHP floats such as 3.0
// can appear where an id was computed.
func parseFlexInt(s string) (int64, error) {
	if v, err := strconv.ParseInt(s, 10, 64); err == nil {
		return v, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f != math.Trunc(f) ||
		f > math.MaxInt64 || f < math.MinInt64 {
		return 0, errNotInt
	}
	return int64(f), nil
}

// Int64 returns the value as int64.
func (n FlexInt) Int64() int64 { return int64(n) }

// FlexBool decodes a boolean sent as true/false, 1/0, "1"/"0",
// "true"/"false", "yes"/"no", "on"/"off", "" or null (false).
type FlexBool bool

// UnmarshalJSON implements json.Unmarshaler.
func (v *FlexBool) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		*v = false
		return nil
	}
	s := string(b)
	if b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return errNotBool
		}
	}
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "1", "yes", "on":
		*v = true
	case "false", "0", "no", "off", "", "null":
		*v = false
	default:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return errNotBool
		}
		*v = f != 0
	}
	return nil
}

// FlexString decodes a text field that WHMCS may send as a string, a number,
// a boolean, null, or an empty PHP array ([] or {}), which all mean "this
// text". The value is kept exactly as sent; callers decide about entities.
type FlexString string

// UnmarshalJSON implements json.Unmarshaler.
func (s *FlexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		*s = ""
		return nil
	}
	switch b[0] {
	case '"':
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return errNotString
		}
		*s = FlexString(v)
	case 'n':
		*s = ""
	case '[', '{':
		if !isEmptyContainer(b) {
			return errNotString
		}
		*s = ""
	default:
		// Numbers and booleans: keep the literal, which is what PHP would
		// print for them.
		if !json.Valid(b) {
			return errNotString
		}
		*s = FlexString(b)
	}
	return nil
}

// text returns the value with HTML entities decoded. WHMCS HTML-escapes
// incoming request data before storing it, so names, company names and ticket
// text come back as "Ben &amp; Jerry"; RC-CHAT must see "Ben & Jerry".
func (s FlexString) text() string { return html.UnescapeString(strings.TrimSpace(string(s))) }

// date returns the value with WHMCS's zero dates ("0000-00-00",
// "0000-00-00 00:00:00") mapped to "", so callers test one form of "no date".
func (s FlexString) date() string {
	v := strings.TrimSpace(string(s))
	if strings.HasPrefix(v, "0000-00-00") {
		return ""
	}
	return v
}

// isEmptyContainer reports whether b is [] or {} (with any inner whitespace).
func isEmptyContainer(b []byte) bool {
	if len(b) < 2 {
		return false
	}
	open, closing := b[0], b[len(b)-1]
	if (open != '[' || closing != ']') && (open != '{' || closing != '}') {
		return false
	}
	return len(bytes.TrimSpace(b[1:len(b)-1])) == 0
}

// maxListDepth bounds wrapper unwrapping so that hostile input such as
// {"x":{"x":{"x":...}}} costs linear work.
const maxListDepth = 4

// DecodeList decodes a WHMCS collection into a slice of T. WHMCS writes a
// list of <plural>/<singular> as {"<singular>":[...]}, but depending on the
// action and on emptiness it may also send "", null, {}, [], a bare array, a
// single object where a list was expected, {"<singular>":{...}}, or a PHP
// array with non-sequential keys ({"0":{...},"3":{...}}). All of these decode;
// empty elements inside a list ([[]], null, "") are skipped. A missing key
// (data == nil) is an empty list.
func DecodeList[T any](data []byte, singular string) ([]T, error) {
	return decodeList[T](data, singular, 0)
}

func decodeList[T any](data []byte, singular string, depth int) ([]T, error) {
	if depth > maxListDepth {
		return nil, errTooDeep
	}
	data = bytes.TrimSpace(data)
	if isNothing(data) {
		return nil, nil
	}
	switch data[0] {
	case '[':
		var elems []json.RawMessage
		if err := json.Unmarshal(data, &elems); err != nil {
			return nil, errNotList
		}
		return decodeElems[T](elems)
	case '{':
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(data, &fields); err != nil {
			return nil, errNotList
		}
		if inner, ok := fields[singular]; ok && singular != "" {
			return decodeList[T](inner, singular, depth+1)
		}
		if elems, ok := numericKeyed(fields); ok {
			return decodeElems[T](elems)
		}
		return decodeElems[T]([]json.RawMessage{data})
	default:
		return nil, errNotList
	}
}

// isNothing reports whether a raw JSON value is one of WHMCS's spellings of
// "no items": absent, null, "", [] or {}.
func isNothing(b []byte) bool {
	if len(b) == 0 || string(b) == "null" || isEmptyContainer(b) {
		return true
	}
	if b[0] == '"' {
		var s string
		return json.Unmarshal(b, &s) == nil && strings.TrimSpace(s) == ""
	}
	return false
}

// decodeElems decodes each non-empty element as a T.
func decodeElems[T any](elems []json.RawMessage) ([]T, error) {
	out := make([]T, 0, len(elems))
	for _, raw := range elems {
		raw = bytes.TrimSpace(raw)
		if isNothing(raw) {
			continue
		}
		if raw[0] != '{' {
			return nil, errNotList
		}
		var v T
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// numericKeyed returns the values of a PHP array that json_encode wrote as an
// object because its keys are not 0..n-1, ordered by key.
func numericKeyed(fields map[string]json.RawMessage) ([]json.RawMessage, bool) {
	if len(fields) == 0 {
		return nil, false
	}
	keys := make([]int64, 0, len(fields))
	byKey := make(map[int64]json.RawMessage, len(fields))
	for k, v := range fields {
		n, err := strconv.ParseInt(k, 10, 64)
		if _, dup := byKey[n]; err != nil || dup {
			return nil, false
		}
		keys = append(keys, n)
		byKey[n] = v
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	out := make([]json.RawMessage, len(keys))
	for i, k := range keys {
		out[i] = byKey[k]
	}
	return out, true
}

// errMissingID reports a success answer without the id it must carry.
var errMissingID = errors.New("whmcsauth: answer lacks a positive id")

// clampInt converts a count to int, treating negatives (never legitimate) as 0.
func clampInt(n FlexInt) int {
	if n < 0 {
		return 0
	}
	if int64(n) > math.MaxInt32 {
		return math.MaxInt32
	}
	return int(n)
}
