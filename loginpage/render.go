package loginpage

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

//go:embed templates
var templateFS embed.FS

var (
	style = mustReadStyle()
	// styleSource pins the one inline stylesheet by hash, so an injected
	// <style> or style attribute would not apply even if escaping failed.
	styleSource = "'sha256-" + base64.StdEncoding.EncodeToString(sha256Sum(style)) + "'"
)

func mustReadStyle() string {
	b, err := templateFS.ReadFile("templates/style.css")
	if err != nil {
		panic(err)
	}
	return string(b)
}

func sha256Sum(s string) []byte {
	sum := sha256.Sum256([]byte(s))
	return sum[:]
}

// parsePage pairs the shared layout with one page, each page in its own set
// because every page defines the same "main" block.
func parsePage(page string) *template.Template {
	return template.Must(template.New("layout.html").ParseFS(templateFS, "templates/layout.html", "templates/"+page))
}

// layout is what the shared layout template reads.
type layout struct {
	Lang  Lang
	T     *messages
	Title string
	Style template.CSS
}

func newLayout(l Lang) layout {
	l = l.normalize()
	return layout{Lang: l, T: messagesFor(l), Style: template.CSS(style)}
}

// contentSecurityPolicy allows nothing but the pinned stylesheet and form
// posts to this origin (plus the given origins), and forbids framing so the
// password form cannot be clickjacked.
func contentSecurityPolicy(formOrigins []string) string {
	var b strings.Builder
	b.WriteString("default-src 'none'; style-src ")
	b.WriteString(styleSource)
	b.WriteString("; form-action 'self'")
	for _, o := range formOrigins {
		if o, ok := cspOrigin(o); ok {
			b.WriteByte(' ')
			b.WriteString(o)
		}
	}
	b.WriteString("; frame-ancestors 'none'; base-uri 'none'")
	return b.String()
}

// cspOrigin reduces a URL to an http(s) origin usable as a CSP source, and
// refuses anything else: the value is spliced into a header, where a space
// or ';' would add sources or directives. RenderBlocked uses it too, to
// tell a usable absolute link from a misconfiguration.
func cspOrigin(raw string) (string, bool) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return "", false
	}
	if strings.ContainsAny(u.Host, " \t;,'\"") {
		return "", false
	}
	return u.Scheme + "://" + u.Host, true
}

// write renders the whole page before touching w, so a template error
// leaves the caller free to answer with something else.
func write(w http.ResponseWriter, status int, t *template.Template, data any, csp string) error {
	if status < 100 || status > 999 {
		return fmt.Errorf("loginpage: invalid HTTP status %d", status)
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		return fmt.Errorf("loginpage: rendering %s: %w", t.Name(), err)
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	// Pages may carry an e-mail address and a CSRF token; no cache may keep
	// them, and the back button must not resurrect an expired token.
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, err := w.Write(buf.Bytes())
	return err
}
