package edge

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
)

// maxCapturedBytes bounds how much of an RC-CHAT login answer is held back
// to be read; a larger answer is streamed through unread.
const maxCapturedBytes = 1 << 20

// capture holds back a response so the edge can read it and add a cookie
// before it reaches the client.
type capture struct {
	w       http.ResponseWriter
	header  http.Header
	status  int
	body    bytes.Buffer
	streamd bool
}

func newCapture(w http.ResponseWriter) *capture {
	return &capture{w: w, header: http.Header{}, status: http.StatusOK}
}

func (c *capture) Header() http.Header { return c.header }

func (c *capture) WriteHeader(status int) {
	if !c.streamd {
		c.status = status
	}
}

func (c *capture) Write(p []byte) (int, error) {
	if c.streamd {
		return c.w.Write(p)
	}
	if c.body.Len()+len(p) > maxCapturedBytes {
		if err := c.startStreaming(); err != nil {
			return 0, err
		}
		return c.w.Write(p)
	}
	return c.body.Write(p)
}

func (c *capture) startStreaming() error {
	c.copyHeader()
	c.w.WriteHeader(c.status)
	c.streamd = true
	_, err := c.w.Write(c.body.Bytes())
	c.body.Reset()
	return err
}

func (c *capture) copyHeader() {
	dst := c.w.Header()
	for k, v := range c.header {
		dst[k] = append(dst[k], v...)
	}
}

// flush sends what was held back.
func (c *capture) flush() error {
	if c.streamd {
		return nil
	}
	c.copyHeader()
	c.w.Header().Del("Content-Length")
	c.w.Header().Set("Content-Length", strconv.Itoa(c.body.Len()))
	c.w.WriteHeader(c.status)
	_, err := c.w.Write(c.body.Bytes())
	return err
}

// loginAnswer reads RC-CHAT's `{token, user}` login answer.
func (c *capture) loginAnswer() (rcchatLogin, bool) {
	var a rcchatLogin
	if c.streamd || c.status < 200 || c.status > 299 {
		return a, false
	}
	if err := json.Unmarshal(c.body.Bytes(), &a); err != nil {
		return a, false
	}
	return a, true
}

// rcchatLogin is the part of RC-CHAT's login answer the edge uses.
type rcchatLogin struct {
	User struct {
		ID        flexInt `json:"id"`
		Name      string  `json:"name"`
		Email     string  `json:"email"`
		Profile   string  `json:"profile"`
		CompanyID flexInt `json:"companyId"`
		Super     bool    `json:"super"`
		Company   struct {
			Name string `json:"name"`
		} `json:"company"`
	} `json:"user"`
}

func (a rcchatLogin) companyName() string {
	if a.User.Company.Name != "" {
		return a.User.Company.Name
	}
	return "RC-CHAT company " + strconv.FormatInt(int64(a.User.CompanyID), 10)
}

// flexInt accepts RC-CHAT ids written as numbers or strings.
type flexInt int64

func (f *flexInt) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if s == "" || s == "null" {
		*f = 0
		return nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return err
	}
	*f = flexInt(n)
	return nil
}

// Int64 is the id as a number.
func (f flexInt) Int64() int64 { return int64(f) }
