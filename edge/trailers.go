package edge

import (
	"io"
	"net/http"

	"github.com/rcchat/caddy-whmcs-auth/gate"
)

// stripTrailersAtEOF keeps client-sent identity headers out of a request's
// trailers. net/http fills r.Trailer with the values that follow a chunked
// body only when Read reaches its end, long after ServeHTTP stripped the
// headers, and a proxy copies the trailers right after that Read returns;
// so they are stripped there, before EOF is returned.
type stripTrailersAtEOF struct {
	io.ReadCloser
	trailer http.Header
}

func (b *stripTrailersAtEOF) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF {
		gate.StripIdentityHeaders(b.trailer)
	}
	return n, err
}

// guardTrailers strips the identity headers a request declared as
// trailers and wraps its body so that their values, which arrive with the
// end of the body, are stripped too. A request that declared no trailer
// keeps its body as it is: net/http then files any trailer it meets in a
// map of its own that no handler after this one sees.
func guardTrailers(r *http.Request) {
	if r.Trailer == nil {
		return
	}
	gate.StripIdentityHeaders(r.Trailer)
	if r.Body != nil && r.Body != http.NoBody {
		r.Body = &stripTrailersAtEOF{ReadCloser: r.Body, trailer: r.Trailer}
	}
}
