package edge

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"

	"golang.org/x/text/encoding/unicode"
)

// errUnsupportedBody is a login body in an encoding or charset RC-CHAT's
// JSON parser refuses too (415 there as here).
var errUnsupportedBody = errors.New("unsupported content encoding or charset")

// canonicalLoginBody decodes an intercepted login body the way RC-CHAT's
// parser (Express body-parser json) does, so that the edge judges the very
// credentials RC-CHAT will: gzip and deflate are inflated (at most
// maxFormBytes), a UTF-16 charset is decoded, a byte-order mark dropped.
// What it returns is plain UTF-8 JSON text, which is also what RC-CHAT is
// then sent, so no encoding trick can show the edge one login and RC-CHAT
// another.
func canonicalLoginBody(h http.Header, body []byte) ([]byte, error) {
	var err error
	switch ce := strings.ToLower(strings.TrimSpace(h.Get("Content-Encoding"))); ce {
	case "", "identity":
	case "gzip", "x-gzip":
		body, err = inflate(func(r io.Reader) (io.Reader, error) { return gzip.NewReader(r) }, body)
	case "deflate":
		body, err = inflate(func(r io.Reader) (io.Reader, error) { return zlib.NewReader(r) }, body)
	default:
		return nil, errUnsupportedBody
	}
	if err != nil {
		return nil, err
	}
	_, params, _ := mime.ParseMediaType(h.Get("Content-Type"))
	switch cs := strings.ToLower(params["charset"]); cs {
	case "", "utf-8", "utf8":
	case "utf-16", "utf-16le", "utf-16be":
		endian := unicode.LittleEndian
		if cs == "utf-16be" {
			endian = unicode.BigEndian
		}
		if body, err = unicode.UTF16(endian, unicode.UseBOM).NewDecoder().Bytes(body); err != nil {
			return nil, err
		}
	default:
		return nil, errUnsupportedBody
	}
	return bytes.TrimPrefix(body, []byte("\xef\xbb\xbf")), nil
}

// inflate decompresses body, refusing more than maxFormBytes of output.
func inflate(open func(io.Reader) (io.Reader, error), body []byte) ([]byte, error) {
	zr, err := open(bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	out, err := io.ReadAll(io.LimitReader(zr, maxFormBytes+1))
	if err != nil {
		return nil, err
	}
	if len(out) > maxFormBytes {
		return nil, &http.MaxBytesError{Limit: maxFormBytes}
	}
	return out, nil
}
