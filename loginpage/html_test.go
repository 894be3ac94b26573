package loginpage

import (
	"encoding/xml"
	"io"
	"strings"
	"testing"
)

// element is one parsed tag with its attributes and the text directly and
// indirectly inside it.
type element struct {
	name  string
	attrs map[string]string
	text  string
}

// document is a page parsed tolerantly enough for HTML5 (void elements,
// boolean attributes, entities), which lets the tests reason about the
// structure a browser sees instead of grepping the markup.
type document struct {
	elements []*element
}

func parseHTML(t *testing.T, body string) document {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(body))
	d.Strict = false
	d.AutoClose = xml.HTMLAutoClose
	d.Entity = xml.HTMLEntity
	var doc document
	var open []*element
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("page does not parse: %v\n%s", err, body)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			e := &element{name: strings.ToLower(tok.Name.Local), attrs: map[string]string{}}
			for _, a := range tok.Attr {
				name := a.Name.Local
				if a.Name.Space != "" {
					name = a.Name.Space + ":" + name
				}
				e.attrs[strings.ToLower(name)] = a.Value
			}
			doc.elements = append(doc.elements, e)
			open = append(open, e)
		case xml.EndElement:
			if len(open) > 0 {
				open = open[:len(open)-1]
			}
		case xml.CharData:
			for _, e := range open {
				e.text += string(tok)
			}
		}
	}
	return doc
}

func (d document) all(name string) []*element {
	var out []*element
	for _, e := range d.elements {
		if e.name == name {
			out = append(out, e)
		}
	}
	return out
}

func (d document) one(t *testing.T, name string, match func(*element) bool) *element {
	t.Helper()
	var found []*element
	for _, e := range d.all(name) {
		if match == nil || match(e) {
			found = append(found, e)
		}
	}
	if len(found) != 1 {
		t.Fatalf("want exactly one matching <%s>, found %d", name, len(found))
	}
	return found[0]
}

func byAttr(key, value string) func(*element) bool {
	return func(e *element) bool { return e.attrs[key] == value }
}

func hasAttr(e *element, key string) bool {
	_, ok := e.attrs[key]
	return ok
}

func wantAttrs(t *testing.T, e *element, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if got, ok := e.attrs[k]; !ok || got != v {
			t.Errorf("<%s id=%q> %s = %q, want %q", e.name, e.attrs["id"], k, got, v)
		}
	}
}
