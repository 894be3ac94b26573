package integration

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// spoofed are identity headers in every disguise a client could try.
var spoofed = []string{
	"X-RCChat-User-Id", "x-rcchat-user-email", "X-RCCHAT-COMPANY-ID", "X-Rcchat-Plan", "X-RCChat-Anything",
	"X-Auth-Request-User", "x-auth-request-email", "X-Auth-Request-Groups",
	"Remote-User", "Remote-Email", "Remote-Name", "Remote-Groups",
	"X-Forwarded-User", "X-Forwarded-Email", "X-Forwarded-Groups", "X-Forwarded-Preferred-Username",
	"X_RCChat_User_Id", "x_auth_request_email", "Remote_User", "X_Forwarded_Email",
}

func spoofHeaders() []string {
	var h []string
	for _, name := range spoofed {
		h = append(h, name, "evil")
	}
	return h
}

// assertNoSpoof fails when any header value the client sent reached the upstream.
func assertNoSpoof(t *testing.T, r *http.Request) {
	t.Helper()
	if r == nil {
		t.Fatal("the upstream saw no request")
	}
	for name, values := range r.Header {
		for _, v := range values {
			if v == "evil" {
				t.Errorf("spoofed header %s reached the upstream", name)
			}
		}
	}
}

func TestSignedInRequestCarriesIdentityAndNoSpoof(t *testing.T) {
	e := getEnv(t)
	e.load(t, mainState(e), "")
	clientID, serviceID := e.seedClient("headers@it.test", "headers-pw", "Active", 2)
	_, body, cookie := e.loginJSON(t, "headers@it.test", "headers-pw")
	company := body["company"].(map[string]any)

	resp := e.do(t, "GET", "/backend/tickets?x=1", cookie, nil, spoofHeaders()...)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	r := e.up.last("/tickets")
	assertNoSpoof(t, r)
	want := map[string]string{
		"X-Auth-Request-Email":      "headers@it.test",
		"X-Rcchat-User-Email":       "headers@it.test",
		"X-Rcchat-User-Role":        "admin",
		"X-Rcchat-Company-Status":   "active",
		"X-Rcchat-Plan":             "Premium",
		"X-Rcchat-Company-Name":     "Empresa%20headers%40it.test",
		"X-Rcchat-Whmcs-Client-Id":  itoa(clientID),
		"X-Rcchat-Whmcs-Service-Id": itoa(serviceID),
		"X-Rcchat-Due-Date":         "2026-12-31",
		"X-Rcchat-Company-Id":       strconv.FormatFloat(company["id"].(float64), 'f', 0, 64),
	}
	for k, v := range want {
		if got := r.Header.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if r.Header.Get("X-Auth-Request-User") == "" || r.Header.Get("X-Rcchat-User-Id") != r.Header.Get("X-Auth-Request-User") {
		t.Errorf("user id headers: %q / %q", r.Header.Get("X-Auth-Request-User"), r.Header.Get("X-Rcchat-User-Id"))
	}
	if strings.Count(r.Header.Get("X-Rcchat-Identity"), ".") != 2 {
		t.Errorf("X-RCChat-Identity is not a JWT: %q", r.Header.Get("X-Rcchat-Identity"))
	}

	// /sso/session describes the same session.
	sresp := e.do(t, "GET", "/sso/session", cookie, nil)
	var s map[string]any
	_ = json.NewDecoder(sresp.Body).Decode(&s)
	if sresp.StatusCode != 200 || s["user"] == nil || s["company"] == nil || s["expires_at"] == nil {
		t.Fatalf("/sso/session: %d %v", sresp.StatusCode, s)
	}

	// Logout revokes it at once.
	lresp := e.do(t, "POST", "/sso/logout", cookie, nil)
	if lresp.StatusCode != 303 || lresp.Header.Get("Location") != "/sso/login" {
		t.Fatalf("logout: %d %s", lresp.StatusCode, lresp.Header.Get("Location"))
	}
	if resp := e.do(t, "GET", "/backend/tickets", cookie, nil); resp.StatusCode != 401 {
		t.Fatalf("after logout: %d", resp.StatusCode)
	}
}

func TestSpoofedHeadersStrippedOnPublicPathsAndWebSockets(t *testing.T) {
	e := getEnv(t)
	e.load(t, mainState(e), "")

	resp := e.do(t, "GET", "/static/app.js", "", nil, spoofHeaders()...)
	if resp.StatusCode != 200 {
		t.Fatalf("public path: %d", resp.StatusCode)
	}
	assertNoSpoof(t, e.up.last("/static/app.js"))

	// A name listed in Connection is stripped too.
	resp = e.do(t, "GET", "/static/conn.js", "", nil, "Connection", "X-RCChat-Plan", "X-RCChat-Plan", "evil")
	if resp.StatusCode != 200 {
		t.Fatalf("public path with Connection: %d", resp.StatusCode)
	}
	assertNoSpoof(t, e.up.last("/static/conn.js"))

	e.seedClient("ws@it.test", "ws-pw", "Active", 1)
	_, _, cookie := e.loginJSON(t, "ws@it.test", "ws-pw")
	var b strings.Builder
	b.WriteString("GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: localhost:9080\r\n")
	b.WriteString("Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n")
	b.WriteString("Cookie: __Host-rcchat_sso=" + cookie + "\r\n")
	for _, name := range spoofed {
		b.WriteString(name + ": evil\r\n")
	}
	b.WriteString("\r\n")
	status, _ := rawRequest(t, b.String())
	if !strings.HasPrefix(status, "101") {
		t.Fatalf("websocket upgrade: %s", status)
	}
	r := e.up.last("/socket.io/")
	assertNoSpoof(t, r)
	if r.Header.Get("X-Rcchat-User-Email") != "ws@it.test" {
		t.Errorf("websocket request lacks the identity: %v", r.Header)
	}

	// Trailer values arrive after the body, long after the headers were
	// stripped; none may reach the upstream, signed in or not.
	for _, c := range []struct{ path, seen, cookie string }{
		{"/static/trailer.js", "/static/trailer.js", ""},
		{"/backend/trailer", "/trailer", cookie},
	} {
		raw := "POST " + c.path + " HTTP/1.1\r\nHost: localhost:9080\r\nTransfer-Encoding: chunked\r\n" +
			"Trailer: X-Checksum, X-RCChat-Plan\r\n"
		if c.cookie != "" {
			raw += "Cookie: __Host-rcchat_sso=" + c.cookie + "\r\n"
		}
		raw += "\r\n1\r\na\r\n0\r\nX-Checksum: kept\r\nX-RCChat-Plan: evil\r\nX-RCChat-User-Id: evil\r\nRemote-User: evil\r\nX_Auth_Request_Email: evil\r\n\r\n"
		if status, _ := rawRequest(t, raw); !strings.HasPrefix(status, "200") {
			t.Fatalf("POST %s with trailers: %s", c.path, status)
		}
		r := e.up.last(c.seen)
		if r == nil || r.Trailer.Get("X-Checksum") != "kept" {
			t.Fatalf("POST %s: the upstream did not get the harmless trailer (%v), so this test proves nothing", c.path, r)
		}
		for name, values := range r.Trailer {
			for _, v := range values {
				if v == "evil" {
					t.Errorf("POST %s: spoofed trailer %s reached the upstream", c.path, name)
				}
			}
		}
	}

	// Without a session the upgrade is refused, not proxied.
	before := e.up.count("/socket.io/")
	status, _ = rawRequest(t, strings.Replace(b.String(), "Cookie: __Host-rcchat_sso="+cookie+"\r\n", "", 1))
	if !strings.HasPrefix(status, "401") || e.up.count("/socket.io/") != before {
		t.Fatalf("unauthenticated websocket: %s", status)
	}
}

func TestUnauthenticatedRequests(t *testing.T) {
	e := getEnv(t)
	e.load(t, mainState(e), "")
	html := []string{"Accept", "text/html,application/xhtml+xml"}

	resp := e.do(t, "GET", "/tickets?id=3", "", nil, html...)
	if resp.StatusCode != 302 || resp.Header.Get("Location") != "/sso/login?rd="+url.QueryEscape("/tickets?id=3") {
		t.Fatalf("navigation: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	for _, p := range []string{"/backend/tickets", "/socket.io/?EIO=4"} {
		resp = e.do(t, "GET", p, "", nil, html...)
		if resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") != "Bearer" ||
			strings.TrimSpace(readAll(t, resp)) != `{"error":"unauthenticated"}` {
			t.Fatalf("%s: %d", p, resp.StatusCode)
		}
	}
	// RC-CHAT's own JWT does not authenticate at the sidecar.
	resp = e.do(t, "GET", "/backend/tickets", "", nil, "Authorization", "Bearer rcchat.own.jwt")
	if resp.StatusCode != 401 {
		t.Fatalf("RC-CHAT JWT alone: %d", resp.StatusCode)
	}
	// Garbage and unknown cookies are unauthenticated, never a pass-through.
	for _, c := range []string{"x", strings.Repeat("A", 43), "../../etc/passwd"} {
		if resp := e.do(t, "GET", "/backend/tickets", c, nil); resp.StatusCode != 401 {
			t.Fatalf("cookie %q: %d", c, resp.StatusCode)
		}
	}
	// Path tricks never reach a public prefix.
	for _, p := range []string{"/static/../backend/x", "/static/%2e%2e/backend/x", "/static%2f..%2fbackend", "/STATIC/x", "/static/%5c..", "/static/%00"} {
		status, _ := rawRequest(t, "GET "+p+" HTTP/1.1\r\nHost: localhost:9080\r\nConnection: close\r\n\r\n")
		if strings.HasPrefix(status, "200") {
			t.Errorf("%s was served without a session: %s", p, status)
		}
	}
}

func TestLoginFormRedirectsOnlyToSameSite(t *testing.T) {
	e := getEnv(t)
	e.load(t, mainState(e), "")
	e.seedClient("form@it.test", "form-pw", "Active", 1)
	cases := map[string]string{
		"/tickets?x=1":        "/tickets?x=1",
		"//evil.com":          "/",
		"/\\evil.com":         "/",
		"https://evil.com":    "/",
		"/%2f%2fevil.com":     "/",
		"/%09/evil.com":       "/",
		"javascript:alert(1)": "/",
		"/%5cevil.com":        "/",
	}
	tokenRE := regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)
	for rd, want := range cases {
		t.Run(rd, func(t *testing.T) {
			page := e.do(t, "GET", "/sso/login?rd="+url.QueryEscape(rd), "", nil)
			m := tokenRE.FindStringSubmatch(readAll(t, page))
			var csrf string
			for _, c := range page.Cookies() {
				if c.Name == "__Host-rcchat_csrf" {
					csrf = c.Value
				}
			}
			if m == nil || csrf == "" {
				t.Fatalf("login page has no CSRF token/cookie")
			}
			form := url.Values{"email": {"form@it.test"}, "password": {"form-pw"}, "rd": {rd}, "csrf_token": {m[1]}}
			resp := e.do(t, "POST", "/sso/login", "", strings.NewReader(form.Encode()),
				"Content-Type", "application/x-www-form-urlencoded", "Cookie", "__Host-rcchat_csrf="+csrf)
			if resp.StatusCode != 303 || resp.Header.Get("Location") != want {
				t.Fatalf("rd %q: %d Location %q, want %q", rd, resp.StatusCode, resp.Header.Get("Location"), want)
			}
		})
	}
	t.Run("missing CSRF token", func(t *testing.T) {
		form := url.Values{"email": {"form@it.test"}, "password": {"form-pw"}}
		resp := e.do(t, "POST", "/sso/login", "", strings.NewReader(form.Encode()), "Content-Type", "application/x-www-form-urlencoded")
		if resp.StatusCode != 403 || sessionCookie(resp) != "" {
			t.Fatalf("no CSRF: %d", resp.StatusCode)
		}
	})
}

func TestSuspensionBlocksTheNextRequest(t *testing.T) {
	e := getEnv(t)
	e.load(t, mainState(e), "")
	_, serviceID := e.seedClient("willsuspend@it.test", "ws-pw", "Active", 1)
	_, _, cookie := e.loginJSON(t, "willsuspend@it.test", "ws-pw")
	if resp := e.do(t, "GET", "/backend/x", cookie, nil); resp.StatusCode != 200 {
		t.Fatalf("before suspension: %d", resp.StatusCode)
	}
	if err := e.sim.ModuleSuspend(serviceID); err != nil {
		t.Fatal(err)
	}
	// The next login learns it from WHMCS and records it.
	if resp, body, _ := e.loginJSON(t, "willsuspend@it.test", "ws-pw"); resp.StatusCode != 402 {
		t.Fatalf("login of a suspended service: %d %v", resp.StatusCode, body)
	}
	resp := e.do(t, "GET", "/backend/x", cookie, nil)
	if resp.StatusCode != 402 || strings.TrimSpace(readAll(t, resp)) != `{"error":"ERR_SUBSCRIPTION_EXPIRED","reason":"company_suspended"}` {
		t.Fatalf("XHR of a suspended company: %d", resp.StatusCode)
	}
	resp = e.do(t, "GET", "/", cookie, nil, "Accept", "text/html")
	if resp.StatusCode != 402 || !strings.Contains(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("navigation of a suspended company: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	// The module's own session endpoint refuses the session the same way.
	if resp := e.do(t, "GET", "/sso/session", cookie, nil); resp.StatusCode != 402 {
		t.Fatalf("/sso/session of a suspended company: %d %s", resp.StatusCode, readAll(t, resp))
	}
	// Unsuspended in WHMCS: a fresh login reactivates, and the old session works again.
	if err := e.sim.ModuleUnsuspend(serviceID); err != nil {
		t.Fatal(err)
	}
	if resp, _, _ := e.loginJSON(t, "willsuspend@it.test", "ws-pw"); resp.StatusCode != 200 {
		t.Fatalf("login after unsuspend: %d", resp.StatusCode)
	}
	if resp := e.do(t, "GET", "/backend/x", cookie, nil); resp.StatusCode != 200 {
		t.Fatalf("old session after reactivation: %d", resp.StatusCode)
	}
	if resp := e.do(t, "GET", "/sso/session", cookie, nil); resp.StatusCode != 200 {
		t.Fatalf("/sso/session after reactivation: %d", resp.StatusCode)
	}
}

func TestSPALoginInterception(t *testing.T) {
	e := getEnv(t)
	e.load(t, mainState(e), "")
	e.seedClient("spa@it.test", "spa-pw", "Active", 1)
	post := func(email, pw string) *http.Response {
		b, _ := json.Marshal(map[string]string{"email": email, "password": pw})
		return e.do(t, "POST", "/backend/auth/login", "", bytes.NewReader(b), "Content-Type", "application/json")
	}

	// WHMCS credentials: forwarded to RC-CHAT's SSO endpoint with the identity.
	resp := post("spa@it.test", "spa-pw")
	body := readAll(t, resp)
	if resp.StatusCode != 200 || !strings.Contains(body, "rcchat-jwt-sso") || sessionCookie(resp) == "" {
		t.Fatalf("WHMCS login via the SPA: %d %s", resp.StatusCode, body)
	}
	if r := e.up.last("/auth/sso"); r == nil || r.Header.Get("X-Rcchat-User-Email") != "spa@it.test" {
		t.Fatalf("RC-CHAT's SSO endpoint did not get the identity")
	}

	// RC-CHAT's own agent: passed through, then vouched.
	before := e.up.count("/auth/login")
	resp = post("agent@rcchat.test", "agent-pw")
	body = readAll(t, resp)
	agent := sessionCookie(resp)
	if resp.StatusCode != 200 || !strings.Contains(body, "rcchat-jwt-agent") || agent == "" || e.up.count("/auth/login") != before+1 {
		t.Fatalf("agent login: %d %s", resp.StatusCode, body)
	}
	r := e.do(t, "GET", "/backend/tickets", agent, nil)
	if r.StatusCode != 200 {
		t.Fatalf("agent request: %d", r.StatusCode)
	}
	if got := e.up.last("/tickets").Header.Get("X-Rcchat-User-Role"); got != "user" {
		t.Errorf("agent role header = %q", got)
	}
	// A company admin may not impersonate; RC-CHAT's super admin may.
	if r := e.do(t, "GET", "/backend/auth/impersonate/3", agent, nil); r.StatusCode != 403 {
		t.Fatalf("agent impersonation: %d", r.StatusCode)
	}
	resp = post("root@rcchat.test", "root-pw")
	root := sessionCookie(resp)
	if r := e.do(t, "GET", "/backend/auth/impersonate/3", root, nil); r.StatusCode != 200 {
		t.Fatalf("super impersonation: %d", r.StatusCode)
	}

	// Express routes ".../login/" to the same handler: intercepted too.
	b, _ := json.Marshal(map[string]string{"email": "agent@rcchat.test", "password": "agent-pw"})
	resp = e.do(t, "POST", "/backend/auth/login/", "", bytes.NewReader(b), "Content-Type", "application/json")
	if body := readAll(t, resp); resp.StatusCode != 200 || sessionCookie(resp) == "" {
		t.Fatalf("agent login with a trailing slash: %d %s, session cookie %q", resp.StatusCode, body, sessionCookie(resp))
	}
	// The login path never needs a session, whatever the method (a CORS
	// preflight, a GET): RC-CHAT answers, not the sidecar's 401.
	for _, method := range []string{"OPTIONS", "GET"} {
		before := e.up.count("/auth/login")
		resp = e.do(t, method, "/backend/auth/login", "", nil)
		if body := readAll(t, resp); strings.Contains(body, "unauthenticated") || e.up.count("/auth/login") != before+1 {
			t.Fatalf("%s /backend/auth/login without a session: %d %s, want it passed to RC-CHAT", method, resp.StatusCode, body)
		}
	}

	// Refused by both: RC-CHAT's 401 passes back unchanged.
	resp = post("agent@rcchat.test", "wrong")
	if resp.StatusCode != 401 || sessionCookie(resp) != "" || !strings.Contains(readAll(t, resp), "ERR_INVALID_CREDENTIALS") {
		t.Fatalf("refused login: %d", resp.StatusCode)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// Logging out ends the tokens the JSON login handed out, not only the cookie.
func TestLogoutEndsTheLoginTokens(t *testing.T) {
	e := getEnv(t)
	e.load(t, mainState(e), "")
	e.seedClient("logouttokens@it.test", "lt-pw", "Active", 1)
	_, body, cookie := e.loginJSON(t, "logouttokens@it.test", "lt-pw")
	access, _ := body["access_token"].(string)
	refresh, _ := body["refresh_token"].(string)
	if resp := e.do(t, "GET", "/backend/x", "", nil, "Authorization", "Bearer "+access); resp.StatusCode != 200 {
		t.Fatalf("bearer before logout: %d", resp.StatusCode)
	}
	e.do(t, "POST", "/sso/logout", cookie, nil)
	if resp := e.do(t, "GET", "/backend/x", "", nil, "Authorization", "Bearer "+access); resp.StatusCode != 401 {
		t.Fatalf("access token after logout: %d", resp.StatusCode)
	}
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}, "client_id": {"rcchat-sso"}}
	resp := e.do(t, "POST", "/sso/token", "", strings.NewReader(form.Encode()), "Content-Type", "application/x-www-form-urlencoded")
	if resp.StatusCode != 400 || !strings.Contains(readAll(t, resp), "invalid_grant") {
		t.Fatalf("refresh after logout: %d", resp.StatusCode)
	}
}

// Agents who signed in before their company's owner are bound to the owner's
// company once the owner signs in, so its suspension blocks them too.
func TestAgentsBeforeOwnerAreBlockedBySuspension(t *testing.T) {
	e := getEnv(t)
	e.load(t, filepath.Join(e.stateDir, "agents-first.db"), "")
	clientID, serviceID := e.seedClient("owner42@it.test", "owner-pw", "Active", 1)
	post := func(email, pw, contentType string) *http.Response {
		b, _ := json.Marshal(map[string]string{"email": email, "password": pw})
		return e.do(t, "POST", "/backend/auth/login", "", bytes.NewReader(b), "Content-Type", contentType)
	}
	agent := sessionCookie(post("agent@rcchat.test", "agent-pw", "application/json"))
	if agent == "" {
		t.Fatal("agent login opened no session")
	}
	if resp := post("owner42@it.test", "owner-pw", "application/json"); resp.StatusCode != 200 {
		t.Fatalf("owner login: %d", resp.StatusCode)
	}
	_ = e.sim.ModuleSuspend(serviceID)
	e.sendEvent(t, "AfterModuleSuspend", map[string]any{"serviceid": serviceID, "userid": clientID, "pid": 1})
	if resp := e.do(t, "GET", "/backend/tickets", agent, nil); resp.StatusCode != 402 {
		t.Fatalf("agent of a suspended company: %d", resp.StatusCode)
	}

	// A cross-site form (text/plain) is never taken for a login.
	resp := post("owner42@it.test", "owner-pw", "text/plain")
	if sessionCookie(resp) != "" {
		t.Fatal("a text/plain body opened a session (login CSRF)")
	}
	e.load(t, mainState(e), "")
}

// A signed-in user's request to a public path still carries the identity.
func TestPublicPathCarriesIdentityWhenSignedIn(t *testing.T) {
	e := getEnv(t)
	e.load(t, mainState(e), "")
	e.seedClient("publicid@it.test", "pub-pw", "Active", 1)
	_, _, cookie := e.loginJSON(t, "publicid@it.test", "pub-pw")
	e.do(t, "GET", "/static/signed.js", cookie, nil, spoofHeaders()...)
	r := e.up.last("/static/signed.js")
	assertNoSpoof(t, r)
	if r.Header.Get("X-Rcchat-User-Email") != "publicid@it.test" {
		t.Fatalf("public path of a signed-in user lacks the identity: %v", r.Header)
	}
}

// RC-CHAT's own login is held to the lockout whatever shape its body takes:
// keys in another case or twice, a Content-Type Go's parser refuses but
// Express takes, a body the sidecar cannot read. None of them reaches
// RC-CHAT while the e-mail or the IP is locked out.
func TestSPALoginLockoutHasNoBypass(t *testing.T) {
	e := getEnv(t)
	e.load(t, filepath.Join(e.stateDir, "spa-lockout.db"), "lockout 3 10m 10m")
	defer e.load(t, mainState(e), "")
	post := func(body, contentType string, headers ...string) (*http.Response, string) {
		resp := e.do(t, "POST", "/backend/auth/login", "", strings.NewReader(body), append(headers, "Content-Type", contentType)...)
		return resp, readAll(t, resp)
	}
	const agent = `{"email":"agent@rcchat.test","password":"agent-pw"}`
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write([]byte(agent))
	_ = zw.Close()
	var utf16 strings.Builder
	for _, c := range "\ufeff" + agent {
		utf16.WriteString(string([]byte{byte(c), byte(c >> 8)}))
	}
	// RC-CHAT's parser inflates a gzip body: the edge does too, and sends
	// RC-CHAT the JSON it judged.
	if resp, body := post(gz.String(), "application/json", "Content-Encoding", "gzip"); resp.StatusCode != 200 || !strings.Contains(body, "rcchat-jwt-agent") {
		t.Fatalf("gzip-encoded agent login: %d %s", resp.StatusCode, body)
	}
	for i := 0; i < 3; i++ {
		if resp, body := post(`{"email":"agent@rcchat.test","password":"wrong"}`, "application/json"); resp.StatusCode != 401 {
			t.Fatalf("RC-CHAT refusal %d: %d %s", i, resp.StatusCode, body)
		}
	}
	before := e.up.count("/auth/login")
	for _, c := range []struct {
		body, contentType string
		headers           []string
	}{
		{agent, "application/json", nil},
		{`{"email":"agent@rcchat.test","password":"agent-pw","Email":""}`, "application/json", nil},
		{agent, "application/json; a=b; A=c", nil},
		{agent, "Application/JSON", nil},
		{gz.String(), "application/json", []string{"Content-Encoding", "gzip"}},
		{"\xef\xbb\xbf" + agent, "application/json", nil},
		{utf16.String(), "application/json; charset=utf-16le", nil},
	} {
		if resp, body := post(c.body, c.contentType, c.headers...); resp.StatusCode != 429 || strings.Contains(body, "rcchat-jwt") {
			t.Errorf("locked e-mail, body %s, Content-Type %q: %d %s, want 429", c.body, c.contentType, resp.StatusCode, body)
		}
	}
	if n := e.up.count("/auth/login") - before; n != 0 {
		t.Fatalf("RC-CHAT saw %d logins of a locked-out e-mail", n)
	}

	// Logins the sidecar cannot read count against the IP, whose limit is
	// 4 × 3 = 12 failures, 3 of them the refusals above; then they stop
	// reaching RC-CHAT too.
	for i := 0; i < 9; i++ {
		if resp, body := post(`{"EMAIL":"guess@rcchat.test","password":"guess"}`, "application/json"); resp.StatusCode != 401 {
			t.Fatalf("unreadable login %d: %d %s, want RC-CHAT's 401", i, resp.StatusCode, body)
		}
	}
	before = e.up.count("/auth/login")
	if resp, body := post(`{"EMAIL":"guess@rcchat.test","password":"guess"}`, "application/json"); resp.StatusCode != 429 {
		t.Fatalf("unreadable login from a locked-out IP: %d %s, want 429", resp.StatusCode, body)
	}
	if n := e.up.count("/auth/login") - before; n != 0 {
		t.Fatalf("RC-CHAT saw %d logins from a locked-out IP", n)
	}
}
