// Package whmcsauth talks to WHMCS (hosting billing) on behalf of the RC-CHAT
// sidecar: an External API client that reproduces the real shapes, error
// strings and quirks documented in the project's WHMCS fact sheet, and (in
// other files of this package) the login and provisioning logic built on it.
//
// The client never retries: WHMCS bans the calling IP after three failed
// authentications, and a write that timed out may already have happened, so
// only the caller knows whether another attempt is safe. Errors are *Error
// values classified by Kind (auth, business, transport).
package whmcsauth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

const (
	// DefaultTimeout bounds one API call when Config.Timeout is zero; WHMCS
	// runs on shared PHP hosting and can be slow, but a login must not hang.
	DefaultTimeout = 15 * time.Second
	// maxResponseBytes caps what we read from WHMCS, so a misbehaving server
	// or a proxy error page cannot exhaust memory. The largest legitimate
	// answers (a 100-row page of services) are far below it.
	maxResponseBytes = 4 << 20
	// maxMessageRunes keeps WHMCS messages log-sized.
	maxMessageRunes = 300
)

// Config describes how to reach one WHMCS installation.
type Config struct {
	// URL is the full address of includes/api.php.
	URL string
	// Identifier is the API credential identifier.
	Identifier string
	// Secret is the API credential secret.
	Secret Secret
	// AccessKey is the optional $api_access_key that bypasses WHMCS's IP
	// allow-list; empty means "do not send".
	AccessKey Secret
	// HTTPClient is used for the requests; nil means a private client. The
	// client is copied and redirects are always refused (see NewClient).
	HTTPClient *http.Client
	// Timeout bounds each call (DefaultTimeout when zero). The caller's
	// context can shorten it further.
	Timeout time.Duration
	// Observer, when set, hears of every API request once it is over: the
	// action, its outcome (OutcomeOK, or the failed call's Kind as a string:
	// "auth", "business", "transport") and how long it took. It runs on the
	// caller's goroutine, so it must be quick; metrics hang off it without
	// this package depending on a metrics library.
	Observer func(action, outcome string, took time.Duration)
}

// OutcomeOK is the Observer outcome of a successful call.
const OutcomeOK = "ok"

// Client calls the WHMCS External API. It is safe for concurrent use.
type Client struct {
	endpoint   string
	identifier string
	// keys is a closure because fmt (and dumpers such as spew) print
	// unexported fields by reflection, bypassing Secret's Formatter, and
	// even follow nested pointers for verbs like %s; a func value is only
	// ever printed as an address.
	keys       func() apiKeys
	httpClient *http.Client
	timeout    time.Duration
	observe    func(action, outcome string, took time.Duration)
	// unconfigured is set when no credentials were given: calls fail
	// without a request (see NewClient).
	unconfigured bool
}

// Configured reports whether the client has API credentials; without them
// every call fails with a KindAuth error and WHMCS is never contacted.
func (c *Client) Configured() bool { return !c.unconfigured }

// apiKeys holds the credentials that go into every request body.
type apiKeys struct {
	secret    Secret
	accessKey Secret
}

// keyring hides k inside a closure (see Client.keys).
func keyring(k apiKeys) func() apiKeys { return func() apiKeys { return k } }

// NewClient validates cfg and returns a client. The URL must be an absolute
// http or https URL. Identifier and Secret go together. Without both, the
// client is unconfigured: every call fails with a KindAuth error without
// reaching WHMCS, because a request with a missing credential would count as
// a failed login there and, three times over, get our IP banned.
func NewClient(cfg Config) (*Client, error) {
	u, err := url.Parse(strings.TrimSpace(cfg.URL))
	if err != nil {
		return nil, errors.New("whmcsauth: invalid API URL")
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("whmcsauth: API URL must be an absolute http or https URL (…/includes/api.php)")
	}
	if u.User != nil {
		return nil, errors.New("whmcsauth: API URL must not embed credentials; use the identifier and secret")
	}
	hasID, hasSecret := strings.TrimSpace(cfg.Identifier) != "", !cfg.Secret.IsZero()
	if hasID != hasSecret {
		return nil, errors.New("whmcsauth: API identifier and secret go together: set both or neither")
	}
	if cfg.Timeout < 0 {
		return nil, errors.New("whmcsauth: timeout must not be negative")
	}
	timeout := cfg.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	hc := &http.Client{}
	if cfg.HTTPClient != nil {
		copied := *cfg.HTTPClient
		hc = &copied
	}
	// A 307/308 redirect would make net/http re-send the body, API secret
	// included, to wherever the Location points; a 301/302 would turn the
	// POST into an empty GET. Either way the answer is not WHMCS's, so the
	// redirect is reported instead of followed.
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	u.Fragment = ""
	return &Client{
		endpoint:     u.String(),
		identifier:   strings.TrimSpace(cfg.Identifier),
		keys:         keyring(apiKeys{secret: cfg.Secret, accessKey: cfg.AccessKey}),
		httpClient:   hc,
		timeout:      timeout,
		observe:      cfg.Observer,
		unconfigured: !hasID,
	}, nil
}

// String identifies the client in logs without any credential.
func (c *Client) String() string { return "whmcsauth.Client(" + c.endpoint + ")" }

// envelope is the part of every WHMCS answer that says how the call went.
type envelope struct {
	Result  FlexString      `json:"result"`
	Message json.RawMessage `json:"message"`
}

// call performs one API action: exactly one HTTP request. decode, when not
// nil, reads the body of a successful answer; a body it cannot read is a
// transport error (see malformed). The Observer hears of the call once,
// with the outcome the caller gets.
func (c *Client) call(ctx context.Context, action string, params url.Values, decode func(body []byte) error) error {
	if c.unconfigured {
		// Not a WHMCS call, so the Observer does not hear of it.
		return &Error{Action: action, Kind: KindAuth, NotSent: true,
			Message: "no API credentials configured (api_identifier and api_secret)"}
	}
	start := time.Now()
	body, err := c.exchange(ctx, action, params)
	if err == nil && decode != nil {
		if derr := decode(body); derr != nil {
			err = c.malformed(action, derr)
		}
	}
	if c.observe != nil {
		c.observe(action, outcome(err), time.Since(start))
	}
	return err
}

// outcome names how a call went for the Observer.
func outcome(err error) string {
	if err == nil {
		return OutcomeOK
	}
	if e, ok := asError(err); ok {
		return e.Kind.String()
	}
	return KindTransport.String()
}

// exchange sends one API request and returns the raw body of a successful
// answer.
func (c *Client) exchange(ctx context.Context, action string, params url.Values) ([]byte, error) {
	form := url.Values{}
	for k, v := range params {
		form[k] = v
	}
	form.Set("action", action)
	form.Set("identifier", c.identifier)
	keys := c.keys()
	form.Set("secret", keys.secret.Reveal())
	if !keys.accessKey.IsZero() {
		form.Set("accesskey", keys.accessKey.Reveal())
	}
	// Without responsetype=json WHMCS answers XML or NVP (fact sheet §1).
	form.Set("responsetype", "json")

	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, c.transportErr(action, 0, "cannot build request", nil)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "caddy-whmcs-auth")

	resp, err := c.httpClient.Do(req)
	if err != nil {
		return nil, c.transportErr(action, 0, describeTransport(err), err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		return nil, c.transportErr(action, resp.StatusCode, "reading the answer: "+describeTransport(err), err)
	}
	if len(body) > maxResponseBytes {
		return nil, c.transportErr(action, resp.StatusCode, "answer larger than 4 MiB", nil)
	}
	return c.classify(action, resp, body)
}

// classify turns an HTTP answer into the body of a success or an *Error.
// WHMCS puts its verdict in the JSON envelope whatever the HTTP status, so the
// envelope is read first and the status only fills the gaps.
func (c *Client) classify(action string, resp *http.Response, body []byte) ([]byte, error) {
	status := resp.StatusCode
	var env envelope
	trimmed := bytes.TrimSpace(body)
	parsed := len(trimmed) > 0 && trimmed[0] == '{' && json.Unmarshal(trimmed, &env) == nil
	result := strings.ToLower(strings.TrimSpace(string(env.Result)))
	msg := ""
	if parsed {
		var m FlexString
		if json.Unmarshal(env.Message, &m) == nil {
			msg = c.sanitize(string(m))
		}
	}
	switch {
	case parsed && result == "success" && status >= 200 && status < 300:
		return trimmed, nil
	case status == http.StatusUnauthorized || status == http.StatusForbidden || (parsed && isAuthMessage(msg)):
		if msg == "" {
			msg = fmt.Sprintf("HTTP %d without a WHMCS message", status)
		}
		return nil, &Error{Action: action, Kind: KindAuth, Message: msg, HTTPStatus: status}
	case status >= 300 && status < 400:
		return nil, c.transportErr(action, status, fmt.Sprintf("HTTP %d redirect (is the API URL the final …/includes/api.php address?)", status), nil)
	case !parsed:
		return nil, c.transportErr(action, status, fmt.Sprintf("HTTP %d without a WHMCS JSON answer", status), nil)
	case status >= 500:
		if msg == "" {
			msg = "no message"
		}
		return nil, c.transportErr(action, status, fmt.Sprintf("HTTP %d: %s", status, msg), nil)
	case result == "error":
		if msg == "" {
			msg = "WHMCS answered result=error without a message"
		}
		return nil, &Error{Action: action, Kind: KindBusiness, Message: msg, HTTPStatus: status}
	default:
		return nil, c.transportErr(action, status, fmt.Sprintf("HTTP %d with an unexpected result field", status), nil)
	}
}

// transportErr builds a KindTransport error.
func (c *Client) transportErr(action string, status int, msg string, cause error) *Error {
	return &Error{Action: action, Kind: KindTransport, Message: c.sanitize(msg), HTTPStatus: status, Err: cause}
}

// malformed reports a success envelope whose content we could not decode.
// Treated as transport: a half-written or proxy-mangled answer is the usual
// cause, and a later attempt may read a clean one.
func (c *Client) malformed(action string, err error) *Error {
	return c.transportErr(action, http.StatusOK, "malformed answer: "+describeDecode(err), nil)
}

// sanitize prepares text for an Error: no credential, no control characters,
// bounded length. WHMCS messages never should contain our secret, but a
// proxy or a buggy module echoing the request must not leak it either.
func (c *Client) sanitize(msg string) string {
	keys := c.keys()
	for _, s := range []Secret{keys.secret, keys.accessKey} {
		if v := s.Reveal(); len(v) >= 4 {
			msg = strings.ReplaceAll(msg, v, redacted)
		}
	}
	msg = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return ' '
		}
		return r
	}, strings.TrimSpace(msg))
	if utf8.RuneCountInString(msg) > maxMessageRunes {
		msg = string([]rune(msg)[:maxMessageRunes]) + "…"
	}
	return msg
}

// describeTransport words a net/http failure without the request URL (which
// url.Error would repeat) so that logs stay short.
func describeTransport(err error) string {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "timed out"
	case errors.Is(err, context.Canceled):
		return "request canceled"
	}
	var ue *url.Error
	if errors.As(err, &ue) && ue.Err != nil {
		return ue.Err.Error()
	}
	return err.Error()
}

// describeDecode words a decoding failure without quoting response content,
// which may include plaintext service passwords.
func describeDecode(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("invalid JSON at offset %d", syn.Offset)
	case errors.As(err, &typ):
		return fmt.Sprintf("unexpected %s for field %q", typ.Value, typ.Field)
	default:
		return err.Error()
	}
}

// defaultPageSize is what we ask for when the caller does not say: large
// enough that a typical client fits in one page, small enough for one answer.
const defaultPageSize = 100

// pageSize applies defaultPageSize to a non-positive limit.
func pageSize(limit int) int {
	if limit <= 0 {
		return defaultPageSize
	}
	return limit
}

// setIf adds a parameter only when it has a value, so that WHMCS's own
// defaults apply to the rest.
func setIf(p url.Values, key, value string) {
	if value != "" {
		p.Set(key, value)
	}
}
