package whmcsauth

import (
	"fmt"
	"log/slog"
)

// redacted is what every printing path shows instead of a Secret's value.
const redacted = "[redacted]"

// Secret holds a value that must never reach a log line, an error string or
// an API answer: the API secret and access key, and the plaintext service
// passwords that GetClientsProducts returns. It is a string type so that
// literals and explicit conversions stay convenient, while every formatting
// and marshalling path that Go libraries use prints "[redacted]". Reading the
// value takes a deliberate Reveal call, which is easy to grep for in review.
type Secret string

// Reveal returns the underlying value. Call it only where the value is
// actually needed (building a request body, comparing a password).
func (s Secret) Reveal() string { return string(s) }

// IsZero reports whether the secret is empty, without revealing it.
func (s Secret) IsZero() bool { return s == "" }

// String redacts, so %s, %v and fmt.Sprint never show the value.
func (s Secret) String() string { return redacted }

// GoString redacts, so %#v never shows the value.
func (s Secret) GoString() string { return redacted }

// Format redacts for every verb, including %q, %x and %d, which would
// otherwise bypass String on a string-kinded type.
func (s Secret) Format(f fmt.State, verb rune) { _, _ = f.Write([]byte(redacted)) }

// MarshalJSON redacts, so a Secret inside a struct dumped as JSON (debug
// endpoints, zap's reflection encoder) stays hidden.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// MarshalText redacts for encoders that prefer encoding.TextMarshaler
// (XML, YAML, map keys).
func (s Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// LogValue redacts for log/slog, which consults LogValuer before Stringer.
func (s Secret) LogValue() slog.Value { return slog.StringValue(redacted) }
