package gate

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestSafeRedirectAccepts(t *testing.T) {
	ok := []string{
		"/",
		"/tickets",
		"/tickets/12",
		"/tickets/12?tab=messages",
		"/tickets?status=open&q=hello+world",
		"/search?q=a+b",
		"/contacts?page=2#top",
		"/a//b",
		"/.well-known/x",
		"/x.y/z..",
		"/%C3%A1rea",
		"/área",
		"/a%2Fb",
		"/a%25",
		"/a%2525",
		"/files/50%25off",
		"/x?next=/y",
		"/x?next=//evil.com",
		"/x?url=https://evil.com",
		"/x?e=%5C",
		"/x?q=%25zz",
		"/x:y",
		"/javascript:alert(1)",
	}
	for _, rd := range ok {
		if got := SafeRedirect(rd); got != rd {
			t.Errorf("SafeRedirect(%q) = %q, want it kept", rd, got)
		}
	}
}

func TestSafeRedirectRejects(t *testing.T) {
	bad := []string{
		"",
		".",
		"..",
		"evil.com",
		"x/y",
		"?x=1",
		"#x",
		" /x",
		"\t/x",
		"//evil.com",
		"///evil.com",
		"//evil.com/x",
		`/\evil.com`,
		`/\/evil.com`,
		`\\evil.com`,
		`\/evil.com`,
		"/\\t/evil",
		"/\t/evil",
		"/%09/evil.com",
		"/%09/%09/evil.com",
		"/\n/evil.com",
		"/%0a/evil.com",
		"/%0d%0a/evil.com",
		"/x\r\nSet-Cookie: a=b",
		"/x%0d%0aSet-Cookie:%20a=b",
		"/x?y\r\nSet-Cookie: a=b",
		"/x?y=%0d%0aSet-Cookie",
		"/x?y=%00",
		"/tickets?q=hello%20world",
		"/x?q=%E2%80%A8",
		"/x#a%20b",
		"/x#%0a",
		"/x?y=a b",
		"/x?y=\\",
		"/x?y=%zz",
		"/%2f%2fevil.com",
		"/%2F%2Fevil.com",
		"/%2fevil.com",
		"%2F%2Fevil.com",
		"%2fevil.com",
		"/%5cevil.com",
		"/%5Cevil.com",
		"/x%5cy",
		`/x\y`,
		"/%252f%252fevil.com",
		"/%25252f%25252fevil.com",
		"/%2525252f%2525252fevil.com",
		"/%25252525252fevil.com",
		"/%255cevil.com",
		"/%2509/evil.com",
		"/%20/evil.com",
		"/ /evil.com",
		"/x%20y",
		"/x y",
		"/x%00",
		"/x\x00",
		"/x\x7f",
		"/x%7f",
		"/%C2%A0evil",
		"/\u00a0evil",
		"/%E2%80%A8evil",
		"/\u2028evil",
		"/\u3000evil",
		"/%C2%85",
		"/\u0085",
		"/x/../evil",
		"/x/..//evil.com",
		"/./x",
		"/x/.",
		"/x/%2e%2e/%2fevil.com",
		"/%2e%2e/evil",
		"/x/%252e%252e",
		"https://evil.com",
		"http://evil.com/",
		"HTTPS://evil.com",
		"//evil.com@good.com",
		"javascript:alert(1)",
		"JaVaScRiPt:alert(1)",
		"data:text/html,<script>alert(1)</script>",
		"vbscript:msgbox(1)",
		"/x%",
		"/x%2",
		"/x%zz",
		"\xff",
		"/x\xff",
		"/" + strings.Repeat("a", maxRedirectLen),
	}
	for _, rd := range bad {
		if got := SafeRedirect(rd); got != "/" {
			t.Errorf("SafeRedirect(%q) = %q, want /", rd, got)
		}
	}
}

func BenchmarkSafeRedirect(b *testing.B) {
	for _, rd := range []string{"/tickets/12?tab=messages", "/%252f%252fevil.com"} {
		b.Run(rd, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				SafeRedirect(rd)
			}
		})
	}
}

func FuzzSafeRedirect(f *testing.F) {
	for _, s := range []string{
		"/", "/tickets?x=1", `/\evil.com`, "/%09/evil.com", "//evil.com", "/%2f%2fevil.com",
		"https://evil.com", "javascript:alert(1)", "/x\r\nSet-Cookie:", "/%252f%252fevil.com",
		"/%5cevil.com", "/a%2525", "/x/..//evil.com",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, rd string) {
		got := SafeRedirect(rd)
		if got == "/" {
			return
		}
		if got != rd {
			t.Fatalf("SafeRedirect(%q) = %q: accepted targets must be returned unchanged", rd, got)
		}
		p, _, _ := strings.Cut(got, "?")
		p, _, _ = strings.Cut(p, "#")
		// Decode as often as any consumer might and check each form.
		for range maxRedirectDecodes + 2 {
			if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.Contains(p, `\`) {
				t.Fatalf("accepted %q whose path decodes to %q", rd, p)
			}
			if strings.ContainsFunc(p, func(r rune) bool {
				return r != utf8.RuneError && (unicode.IsSpace(r) || unicode.IsControl(r))
			}) {
				t.Fatalf("accepted %q whose path decodes to %q, with whitespace or a control character", rd, p)
			}
			p, _ = decodePercent(p)
		}
		if strings.ContainsFunc(got, func(r rune) bool { return r < 0x20 || r == 0x7f || r == ' ' }) {
			t.Fatalf("accepted %q with a raw control character or space", rd)
		}
	})
}
