package gate

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
)

func TestCleanPath(t *testing.T) {
	tests := []struct {
		raw        string
		clean      string
		suspicious bool
	}{
		{"", "/", false},
		{"/", "/", false},
		{"/static/a.js", "/static/a.js", false},
		{"/static/", "/static/", false},
		{"/static", "/static", false},
		{"//static/x", "/static/x", false},
		{"///", "/", false},
		{"/static//a.js", "/static/a.js", false},
		{"/static/./a.js", "/static/a.js", false},
		{"/static/../backend/x", "/backend/x", false},
		{"/static/%2e%2e/backend", "/backend", false},
		{"/static/%2E%2E/backend/", "/backend/", false},
		{"/static%2f..%2fbackend", "/backend", false},
		{"/static%2F%2E%2E%2Fbackend", "/backend", false},
		{"/../../etc/passwd", "/etc/passwd", false},
		{"/favicon.ico/..", "/", false},
		{"/favicon.ico/.", "/favicon.ico", false},
		{"/manifest.json/", "/manifest.json/", false},
		{"/manifest.json.", "/manifest.json.", false},
		{"/a/b/../", "/a/", false},
		{"/a/b/..//", "/a/", false},
		{"/static/my%20file.js", "/static/my file.js", false},
		{"/static/%C3%A1.png", "/static/á.png", false},
		{"/x%3Fy", "/x?y", false},
		{"/x%23y", "/x#y", false},
		{"/a%25b", "/a%b", false},
		{"/a%2541", "/a%41", false},

		{`/static\..\backend`, `/static\..\backend`, true},
		{"/static/%5c..", `/static/\..`, true},
		{"/static/%5C..%5Cbackend", `/static/\..\backend`, true},
		{"/static/%00", "/static/\x00", true},
		{"/static/a\x00.js", "/static/a\x00.js", true},
		{"/static/%0a", "/static/\n", true},
		{"/static/%0D%0A", "/static/\r\n", true},
		{"/static/%09", "/static/\t", true},
		{"/static/%7f", "/static/\x7f", true},
		{"/static/\t", "/static/\t", true},
		{"/static/%", "/static/%", true},
		{"/static/%2", "/static/%2", true},
		{"/static/%zz", "/static/%zz", true},
		{"/static/%g0/x", "/static/%g0/x", true},
		{"/static/%252e%252e/backend", "/static/%2e%2e/backend", true},
		{"/static%252f..%252fbackend", "/static%2f..%2fbackend", true},
		{"/static/%255c", "/static/%5c", true},
		{"/static/%2500", "/static/%00", true},
		{"static/x", "/static/x", true},
		{"*", "/*", true},
	}
	for _, tt := range tests {
		clean, suspicious := CleanPath(tt.raw)
		if clean != tt.clean || suspicious != tt.suspicious {
			t.Errorf("CleanPath(%q) = %q, %v; want %q, %v", tt.raw, clean, suspicious, tt.clean, tt.suspicious)
		}
	}
}

// specPublic is SPEC section 9's example list.
var specPublic = []string{"/manifest.json", "/favicon.ico", "/static/*", "/backend/public/*", "/backend/plans/listpublic"}

func TestPublicPathsMatch(t *testing.T) {
	p, err := NewPublicPaths(specPublic)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path string
		want bool
	}{
		{"/manifest.json", true},
		{"/favicon.ico", true},
		{"/static/a.js", true},
		{"/static/js/main.abc123.js", true},
		{"/static/", true},
		{"/backend/public/media/1.jpg", true},
		{"/backend/plans/listpublic", true},
		{"//static/x", true},
		{"/static//x", true},
		{"/static/./x", true},
		{"/x/../static/a.js", true},
		{"/static/my%20file.js", true},
		{"/static/a.js.", true},
		{"/favicon.ico/x/..", true},

		{"/", false},
		{"/static", false},
		{"/staticfoo", false},
		{"/static.js", false},
		{"/STATIC/x", false},
		{"/Static/x", false},
		{"/MANIFEST.JSON", false},
		{"/static/../backend/x", false},
		{"/static/%2e%2e/backend", false},
		{"/static/%2E%2E/backend/auth/impersonate/1", false},
		{"/static%2f..%2fbackend", false},
		{`/static\..\backend`, false},
		{`/static/..\backend`, false},
		{"/static/%5c..", false},
		{"/static/%5C..%5Cbackend", false},
		{"/static/%00", false},
		{"/static/x%00.js", false},
		{"/static/%0a", false},
		{"/static/%zz", false},
		{"/static/%252e%252e/backend", false},
		{"/manifest.json/", false},
		{"/manifest.json?x", false},
		{"/manifest.json%3Fx", false},
		{"/manifest.json#x", false},
		{"/manifest.json.", false},
		{"/manifest.json..", false},
		{"/manifest.json%20", false},
		{"/manifest.json;x", false},
		{"/favicon.ico/..", false},
		{"/favicon.ico/", false},
		{"/favicon.ico/.", true}, // cleans to /favicon.ico itself
		{"/backend/plans/listpublic/", false},
		{"/backend/plans/listpublic/../../companies", false},
		{"/backend/plans", false},
		{"/backend/public", false},
		{"/backend/public/../auth/impersonate/1", false},
		{"/backend/public/%2e%2e/auth/impersonate/1", false},
		{"/backend/publicx/a", false},
		{"manifest.json", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := p.Match(tt.path); got != tt.want {
			t.Errorf("Match(%q) = %v, want %v", tt.path, got, tt.want)
		}
	}
}

// TestPublicPathsMatchRequestTargets feeds Match what a handler gets from
// r.URL.EscapedPath() for raw request targets, so the query and the way Go
// keeps escapes are exercised as in production.
func TestPublicPathsMatchRequestTargets(t *testing.T) {
	p, err := NewPublicPaths(specPublic)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		target string
		want   bool
	}{
		{"/manifest.json?x", true},
		{"/manifest.json?x=/../backend", true},
		{"/static/a.js?v=1", true},
		{"/static/%2e%2e/backend?x", false},
		{"/static%2f..%2fbackend", false},
		{"/static/%5c..", false},
		{"/static/%00", false},
		{"/static/..%2f..%2fbackend/auth", false},
		{"/backend/auth?x=/static/a.js", false},
		{"/static/%41.js", true},
	}
	for _, tt := range tests {
		u, err := url.ParseRequestURI(tt.target)
		if err != nil {
			t.Fatalf("%q: %v", tt.target, err)
		}
		if got := p.Match(u.EscapedPath()); got != tt.want {
			t.Errorf("Match(EscapedPath(%q) = %q) = %v, want %v", tt.target, u.EscapedPath(), got, tt.want)
		}
	}
}

func TestPublicPathsPatterns(t *testing.T) {
	tests := []struct {
		patterns []string
		match    []string
		noMatch  []string
	}{
		{[]string{"/"}, []string{"/", "//"}, []string{"/a"}},
		{[]string{"/*"}, []string{"/", "/a", "/a/b"}, []string{"/a/%00"}},
		{[]string{"/static//x/*"}, []string{"/static/x/a"}, []string{"/static//y"}},
		{[]string{"/a/../b"}, []string{"/b"}, []string{"/a/../c"}},
		{[]string{"/docs/"}, []string{"/docs/"}, []string{"/docs", "/docs/x"}},
		{[]string{"/my%20file"}, []string{"/my%20file", "/my file"}, []string{"/my%2520file"}},
		{[]string{"/x/./*"}, []string{"/x/y"}, []string{"/x"}},
		{nil, nil, []string{"/", "/static/a.js"}},
	}
	for _, tt := range tests {
		p, err := NewPublicPaths(tt.patterns)
		if err != nil {
			t.Fatalf("%q: %v", tt.patterns, err)
		}
		for _, m := range tt.match {
			if !p.Match(m) {
				t.Errorf("%q should match %q", tt.patterns, m)
			}
		}
		for _, m := range tt.noMatch {
			if p.Match(m) {
				t.Errorf("%q should not match %q", tt.patterns, m)
			}
		}
	}
	var zero PublicPaths
	if zero.Match("/") || zero.Match("/static/a.js") {
		t.Error("the zero PublicPaths matched")
	}
}

func TestNewPublicPathsRejects(t *testing.T) {
	bad := []string{
		"",
		"static/*",
		"*",
		"/static*",
		"/static/**",
		"/*/x",
		"/st*tic/",
		`/static\x`,
		"/static/%5c",
		"/static/%00",
		"/static/%zz",
		"/static/%252e",
		"/x\ny",
		"/manifest.json?v=1",
		"/a#b",
	}
	for _, pat := range bad {
		_, err := NewPublicPaths([]string{"/ok", pat})
		if err == nil {
			t.Errorf("NewPublicPaths accepted %q", pat)
			continue
		}
		if !strings.Contains(err.Error(), fmt.Sprintf("public path %q", pat)) {
			t.Errorf("error for %q does not name it: %v", pat, err)
		}
	}
}

func TestPublicPathsMatchDoesNotAllocate(t *testing.T) {
	p, err := NewPublicPaths(specPublic)
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/static/js/main.abc123.js", "/backend/tickets/12", "/manifest.json", "/static/", "/"} {
		allocs := testing.AllocsPerRun(100, func() { p.Match(path) })
		if allocs != 0 && !raceEnabled {
			t.Errorf("Match(%q) allocated %v times", path, allocs)
		}
	}
}

func BenchmarkPublicPathsMatch(b *testing.B) {
	p, err := NewPublicPaths(specPublic)
	if err != nil {
		b.Fatal(err)
	}
	for _, path := range []string{"/backend/tickets/12", "/static/js/main.abc123.js", "/static/%2e%2e/backend/x"} {
		b.Run(path, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				p.Match(path)
			}
		})
	}
}

func FuzzPublicPathMatch(f *testing.F) {
	for _, s := range []string{
		"/static/a.js", "//static/x", "/static/../backend/x", "/static/%2e%2e/backend",
		"/static%2f..%2fbackend", "/STATIC/x", `/static\..\backend`, "/static/%5c..",
		"/static/%00", "/manifest.json/", "/favicon.ico/..", "/static/%252e%252e/x", "%", "",
	} {
		f.Add(s)
	}
	p, err := NewPublicPaths(specPublic)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		clean, suspicious := CleanPath(raw)
		if !strings.HasPrefix(clean, "/") {
			t.Fatalf("CleanPath(%q) = %q lacks the leading /", raw, clean)
		}
		matched := p.Match(raw)
		if !matched {
			return
		}
		if suspicious {
			t.Fatalf("suspicious %q matched", raw)
		}
		if strings.Contains(clean, "//") || strings.Contains(clean+"/", "/./") || strings.Contains(clean+"/", "/../") {
			t.Fatalf("matched %q whose clean form %q is not clean", raw, clean)
		}
		if strings.ContainsAny(clean, "\\\x00") {
			t.Fatalf("matched %q whose clean form %q holds \\ or NUL", raw, clean)
		}
		if !publicByHand(clean) {
			t.Fatalf("matched %q (clean %q) that the allow-list does not name", raw, clean)
		}
	})
}

// publicByHand restates specPublic independently of PublicPaths.
func publicByHand(clean string) bool {
	switch clean {
	case "/manifest.json", "/favicon.ico", "/backend/plans/listpublic":
		return true
	}
	return strings.HasPrefix(clean, "/static/") || strings.HasPrefix(clean, "/backend/public/")
}
