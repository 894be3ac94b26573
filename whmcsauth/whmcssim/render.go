package whmcssim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// kv is one member of an ordered JSON object.
type kv struct {
	k string
	v any
}

// obj is a JSON object that keeps insertion order, so answers read like
// PHP's json_encode output ("result" first) in logs and failing tests.
type obj []kv

// MarshalJSON writes the members in order without Go's HTML escaping of
// <, > and &, which PHP's json_encode does not do either.
func (o obj) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, m := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := marshal(m.k)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		v, err := marshal(m.v)
		if err != nil {
			return nil, err
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// get returns the value of key k.
func (o obj) get(k string) (any, bool) {
	for _, m := range o {
		if m.k == k {
			return m.v, true
		}
	}
	return nil, false
}

// marshal encodes v without HTML escaping.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// phpEscaper mirrors PHP's htmlspecialchars(ENT_QUOTES), which WHMCS applies
// to all incoming request data before storing it. Go's html.EscapeString
// differs (&#39; and &#34;), and the difference is visible to a client.
var phpEscaper = strings.NewReplacer(
	"&", "&amp;",
	`"`, "&quot;",
	"'", "&#039;",
	"<", "&lt;",
	">", "&gt;",
)

// esc returns s as WHMCS would have stored it.
func esc(s string) string { return phpEscaper.Replace(s) }

// str formats an id the way legacy WHMCS code paths do: as a string.
func str(n int64) string { return strconv.FormatInt(n, 10) }

// errorBody is WHMCS's error envelope.
func errorBody(msg string) obj {
	return obj{{"result", "error"}, {"message", msg}}
}

// fail is a business error: HTTP 200 with result=error.
func fail(msg string) (int, obj) { return http.StatusOK, errorBody(msg) }

// deny is an authentication or authorization error: HTTP 403.
func deny(msg string) (int, obj) { return http.StatusForbidden, errorBody(msg) }

// ok starts a success answer with the given members.
func ok(members ...kv) (int, obj) {
	return http.StatusOK, append(obj{{"result", "success"}}, members...)
}

// response formats of WHMCS's responsetype parameter.
const (
	formatJSON = "json"
	formatXML  = "xml"
	formatNVP  = "nvp"
)

// listActions default to XML and refuse NVP (fact sheet §1).
var listActions = map[string]bool{
	"getclients": true, "getclientsproducts": true, "getinvoice": true, "getinvoices": true,
	"getticket": true, "gettickets": true, "getorders": true,
}

// responseFormat resolves responsetype for an action, or returns the error
// WHMCS gives for an unusable value.
func responseFormat(requested, action string) (string, string) {
	switch f := strings.ToLower(strings.TrimSpace(requested)); f {
	case formatJSON, formatXML:
		return f, ""
	case "":
		if listActions[action] {
			return formatXML, ""
		}
		return formatNVP, ""
	case formatNVP:
		if listActions[action] {
			return formatNVP, "This API action only supports the XML or JSON response type formats"
		}
		return formatNVP, ""
	default:
		return formatNVP, "Unsupported API response type format"
	}
}

// write sends body in the chosen format.
func write(w http.ResponseWriter, format, action string, status int, body obj) {
	var out []byte
	switch format {
	case formatJSON:
		b, err := marshal(body)
		if err != nil {
			b = []byte(`{"result":"error","message":"internal encoding error"}`)
		}
		out = b
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
	case formatXML:
		out = renderXML(action, body)
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	default:
		out = renderNVP(body)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(out)))
	w.WriteHeader(status)
	_, _ = w.Write(out)
}

// renderXML approximates WHMCS's XML answer closely enough that a client
// which forgot responsetype=json fails to decode it as JSON.
func renderXML(action string, body obj) []byte {
	var b bytes.Buffer
	b.WriteString("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<whmcsapi version=\"8.7.2\">\n")
	fmt.Fprintf(&b, "<action>%s</action>\n", xmlText(action))
	for _, m := range body {
		writeXMLValue(&b, m.k, m.v)
	}
	b.WriteString("</whmcsapi>\n")
	return b.Bytes()
}

// writeXMLValue writes one element; a list repeats the element per item, as
// WHMCS does for <client> inside <clients>.
func writeXMLValue(b *bytes.Buffer, name string, v any) {
	switch t := v.(type) {
	case obj:
		fmt.Fprintf(b, "<%s>\n", name)
		for _, m := range t {
			writeXMLValue(b, m.k, m.v)
		}
		fmt.Fprintf(b, "</%s>\n", name)
	case []obj:
		for _, item := range t {
			writeXMLValue(b, name, item)
		}
	case []any:
		for _, item := range t {
			writeXMLValue(b, name, item)
		}
	case nil:
		fmt.Fprintf(b, "<%s></%s>\n", name, name)
	default:
		fmt.Fprintf(b, "<%s><![CDATA[%v]]></%s>\n", name, t, name)
	}
}

// xmlText escapes the few characters that matter in element text.
func xmlText(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// renderNVP writes the legacy name=value; format; nested values are omitted,
// which is why WHMCS refuses NVP for list actions.
func renderNVP(body obj) []byte {
	var b bytes.Buffer
	for _, m := range body {
		switch m.v.(type) {
		case obj, []obj, []any:
			continue
		case nil:
			fmt.Fprintf(&b, "%s=;", m.k)
		default:
			fmt.Fprintf(&b, "%s=%v;", m.k, m.v)
		}
	}
	return b.Bytes()
}
