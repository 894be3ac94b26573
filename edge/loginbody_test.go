package edge

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"errors"
	"net/http"
	"strings"
	"testing"
)

func compressed(t testing.TB, encoding string, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	var w interface {
		Write([]byte) (int, error)
		Close() error
	}
	if encoding == "gzip" {
		w = gzip.NewWriter(&b)
	} else {
		w = zlib.NewWriter(&b)
	}
	_, _ = w.Write(data)
	_ = w.Close()
	return b.Bytes()
}

// Every encoding RC-CHAT's JSON parser accepts comes out as the same plain
// UTF-8 JSON; the ones it refuses are refused here too.
func TestCanonicalLoginBody(t *testing.T) {
	const login = `{"email":"ana@example.com","password":"pw"}`
	utf16le := []byte{0xff, 0xfe}
	for _, c := range login {
		utf16le = append(utf16le, byte(c), 0)
	}
	utf16be := []byte{}
	for _, c := range login {
		utf16be = append(utf16be, 0, byte(c))
	}
	for name, c := range map[string]struct {
		encoding, contentType string
		body                  []byte
	}{
		"plain":         {"", "application/json", []byte(login)},
		"identity":      {"identity", "application/json; charset=utf-8", []byte(login)},
		"gzip":          {"gzip", "application/json", compressed(t, "gzip", []byte(login))},
		"deflate":       {"deflate", "application/json", compressed(t, "deflate", []byte(login))},
		"utf-8 BOM":     {"", "application/json", append([]byte("\xef\xbb\xbf"), login...)},
		"utf-16le BOM":  {"", "application/json; charset=utf-16le", utf16le},
		"utf-16 BOM":    {"", "application/json; charset=UTF-16", utf16le},
		"utf-16be":      {"", "application/json; charset=utf-16be", utf16be},
		"gzip of a BOM": {"gzip", "application/json", compressed(t, "gzip", append([]byte("\xef\xbb\xbf"), login...))},
	} {
		h := http.Header{"Content-Type": {c.contentType}}
		if c.encoding != "" {
			h.Set("Content-Encoding", c.encoding)
		}
		got, err := canonicalLoginBody(h, c.body)
		if err != nil || string(got) != login {
			t.Errorf("%s: %q, %v; want the plain login", name, got, err)
		}
	}
	for name, h := range map[string]http.Header{
		"br":         {"Content-Type": {"application/json"}, "Content-Encoding": {"br"}},
		"latin1":     {"Content-Type": {"application/json; charset=iso-8859-1"}},
		"two codecs": {"Content-Type": {"application/json"}, "Content-Encoding": {"gzip, gzip"}},
	} {
		if _, err := canonicalLoginBody(h, []byte(login)); !errors.Is(err, errUnsupportedBody) {
			t.Errorf("%s: %v, want errUnsupportedBody (RC-CHAT answers 415)", name, err)
		}
	}
	bomb := compressed(t, "gzip", []byte(`{"email":"`+strings.Repeat("a", 2*maxFormBytes)+`"}`))
	var tooBig *http.MaxBytesError
	if _, err := canonicalLoginBody(http.Header{"Content-Encoding": {"gzip"}}, bomb); !errors.As(err, &tooBig) {
		t.Errorf("a gzip body inflating past %d bytes: %v, want a MaxBytesError", maxFormBytes, err)
	}
}

func FuzzCanonicalLoginBody(f *testing.F) {
	f.Add("gzip", "application/json", compressed(f, "gzip", []byte(`{"email":"a@b.c","password":"p"}`)))
	f.Add("", "application/json; charset=utf-16le", []byte{0xff, 0xfe, '{', 0, '}', 0})
	f.Add("deflate", "application/json", []byte{0x78, 0x9c})
	f.Fuzz(func(t *testing.T, encoding, contentType string, body []byte) {
		h := http.Header{"Content-Type": {contentType}, "Content-Encoding": {encoding}}
		out, err := canonicalLoginBody(h, body)
		if err == nil && len(out) > maxFormBytes*2 {
			t.Fatalf("%d bytes out of a %d-byte body", len(out), len(body))
		}
	})
}
