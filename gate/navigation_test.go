package gate

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

const browserAccept = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"

func TestIsNavigation(t *testing.T) {
	tests := []struct {
		name    string
		method  string
		path    string
		accepts []string
		want    bool
	}{
		{"browser page load", http.MethodGet, "/tickets", []string{browserAccept}, true},
		{"HEAD", http.MethodHead, "/", []string{"text/html"}, true},
		{"root", http.MethodGet, "/", []string{"text/html"}, true},
		{"case and spaces", http.MethodGet, "/x", []string{"application/json ,  TEXT/HTML ; charset=utf-8"}, true},
		{"second Accept line", http.MethodGet, "/x", []string{"application/json", "text/html"}, true},
		{"explicit weight", http.MethodGet, "/x", []string{"text/html;q=0.5"}, true},
		{"weight after other params", http.MethodGet, "/x", []string{"text/html;level=1;q=1.0"}, true},
		{"looks like /backend but is not", http.MethodGet, "/backendx", []string{"text/html"}, true},
		{"/socket.iox", http.MethodGet, "/socket.iox/", []string{"text/html"}, true},

		{"POST", http.MethodPost, "/tickets", []string{browserAccept}, false},
		{"PUT", http.MethodPut, "/tickets", []string{browserAccept}, false},
		{"OPTIONS", http.MethodOptions, "/", []string{browserAccept}, false},
		{"no Accept", http.MethodGet, "/tickets", nil, false},
		{"axios", http.MethodGet, "/tickets", []string{"application/json, text/plain, */*"}, false},
		{"wildcard only", http.MethodGet, "/tickets", []string{"*/*"}, false},
		{"text/* is not enough", http.MethodGet, "/tickets", []string{"text/*"}, false},
		{"refused html", http.MethodGet, "/tickets", []string{"text/html;q=0, */*"}, false},
		{"refused html 0.000", http.MethodGet, "/tickets", []string{"text/html;q=0.000"}, false},
		{"malformed weight", http.MethodGet, "/tickets", []string{"text/html;q=2"}, false},
		{"malformed weight text", http.MethodGet, "/tickets", []string{"text/html;q=high"}, false},
		{"text/htmlx", http.MethodGet, "/tickets", []string{"text/htmlx"}, false},
		{"backend", http.MethodGet, "/backend/tickets", []string{browserAccept}, false},
		{"backend exactly", http.MethodGet, "/backend", []string{browserAccept}, false},
		{"backend slash", http.MethodGet, "/backend/", []string{browserAccept}, false},
		{"BACKEND", http.MethodGet, "/BACKEND/tickets", []string{browserAccept}, false},
		{"socket.io", http.MethodGet, "/socket.io/", []string{browserAccept}, false},
		{"socket.io exactly", http.MethodGet, "/socket.io", []string{browserAccept}, false},
		{"socket.io polling", http.MethodGet, "/socket.io/?EIO=4&transport=polling", []string{browserAccept}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, "/", nil)
			for _, a := range tt.accepts {
				r.Header.Add("Accept", a)
			}
			if got := IsNavigation(r, tt.path); got != tt.want {
				t.Errorf("IsNavigation(%s %s, Accept %q) = %v, want %v", tt.method, tt.path, tt.accepts, got, tt.want)
			}
		})
	}
}

func TestWantsEnglish(t *testing.T) {
	tests := []struct {
		header string
		want   bool
	}{
		{"en", true},
		{"EN", true},
		{"en-US", true},
		{"en-GB,en;q=0.9", true},
		{"en-US,en;q=0.9,pt-BR;q=0.8,pt;q=0.7", true},
		{"pt-BR;q=0.5, en;q=0.9", true},
		{"pt;q=0.3,en-us;q=0.31", true},
		{"de-DE,de;q=0.9,en;q=0.8", true}, // English beats unlisted Portuguese
		{"fr, en;q=0.1", true},
		{"en, pt", true}, // equal weights: the first listed wins
		{"en;q=0.8, pt;q=0.8", true},
		{"en;q=0.5, *;q=0.1", true},
		{" en ; q=1 ", true},
		{"en;q=1.000", true},
		{"en;q=1.0,pt;q=1.01", true}, // the malformed entry is ignored
		{"x-klingon;q=1, en;q=0.5", true},

		{"", false},
		{"pt-BR", false},
		{"pt-BR,pt;q=0.9,en-US;q=0.8,en;q=0.7", false},
		{"pt, en", false},
		{"pt;q=0.8, en;q=0.8", false},
		{"es", false},
		{"de-DE,de;q=0.9", false},
		{"*", false},
		{"*;q=0.5", false},
		{"en;q=0", false},
		{"en;q=0.000", false},
		{"en;q=0, *", false},
		{"*, en;q=0", false},
		{"en;q=2", false},
		{"en;q=1.5", false},
		{"en;q=-1", false},
		{"en;q=0.5555", false},
		{"en;q=", false},
		{"en;q", false},
		{"en;level=1", false},
		{"en;q=0.5;x=1", false},
		{"en-*", false},
		{"e*", false},
		{"en_US", false},
		{"123", false},
		{"toolongsubtag", false},
		{"en--US", false},
		{"en-", false},
		{",,,;", false},
		{"english", false},
		{"pt-BR;q=0.9, en-US;q=0.8, *;q=1", false}, // * names neither
		{"de, *;q=0.5, en;q=0.4", false},           // Portuguese falls back to * at 0.5
	}
	for _, tt := range tests {
		if got := WantsEnglish(tt.header); got != tt.want {
			t.Errorf("WantsEnglish(%q) = %v, want %v", tt.header, got, tt.want)
		}
	}
}

func BenchmarkIsNavigation(b *testing.B) {
	r := httptest.NewRequest(http.MethodGet, "/tickets", nil)
	r.Header.Set("Accept", browserAccept)
	b.ReportAllocs()
	for b.Loop() {
		IsNavigation(r, "/tickets")
	}
}

func BenchmarkWantsEnglish(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		WantsEnglish("pt-BR,pt;q=0.9,en-US;q=0.8,en;q=0.7")
	}
}
