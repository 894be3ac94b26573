package webhooks

import (
	"errors"
	"strings"
	"testing"
)

func TestDecodeEvent(t *testing.T) {
	in, err := DecodeEvent([]byte(`{"id":"e1","event":"AfterModuleSuspend","occurred_at":"2026-03-01T10:00:00Z",
		"params":{"serviceid":"12","userid":3,"pid":1.0,"invoiceid":null,"password":"x","clientsdetails":{"a":1}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if in.ID != "e1" || in.Type != EventModuleSuspend || in.ServiceID != 12 || in.ClientID != 3 || in.ProductID != 1 ||
		in.InvoiceID != 0 || in.OccurredAt.IsZero() || in.Legacy || in.Ignored {
		t.Errorf("%+v", in)
	}
	in, err = DecodeEvent([]byte(`{"clientid":"5","serviceid":9,"status":"fraud","domain":"x.example"}`))
	if err != nil || !in.Legacy || in.Type != EventModuleTerminate || in.LegacyStatus != "Fraud" || in.ClientID != 5 ||
		!strings.HasPrefix(in.ID, legacyIDPrefix) {
		t.Errorf("legacy: %+v %v", in, err)
	}
	other, _ := DecodeEvent([]byte(`{"clientid":5,"serviceid":"9","status":"Fraud"}`))
	if other.ID != in.ID {
		t.Errorf("legacy content key depends on number form or domain: %q vs %q", other.ID, in.ID)
	}
	_, err = DecodeEvent([]byte(`{"id":"a","event":"AfterModuleSuspend","params":{"serviceid":1},"bogus":1}`))
	var de *DecodeError
	if !errors.As(err, &de) || de.Field != "bogus" {
		t.Errorf("unknown field: %v", err)
	}
}

// FuzzDecodeEvent: the decoder never panics, and whatever it accepts is
// something ingestion can store: a known type with a usable id.
func FuzzDecodeEvent(f *testing.F) {
	for _, s := range []string{
		`{"id":"e1","event":"AfterModuleSuspend","occurred_at":"2026-03-01T10:00:00Z","params":{"serviceid":12,"userid":3,"pid":1,"invoiceid":null}}`,
		`{"id":"e2","event":"InvoicePaid","params":{"invoiceid":"7"}}`,
		`{"id":7,"event":"AfterModuleCreate","params":{"serviceid":"1","userid":"2","pid":"3"}}`,
		`{"id":"e3","event":"ClientAdd","params":{"userid":1}}`,
		`{"clientid":1,"serviceid":2,"status":"Active","domain":"a.example"}`,
		`{"clientid":"1","status":"Suspended"}`,
		`{"id":"legacy/x","event":"AfterModuleSuspend","params":{"serviceid":1}}`,
		`{"id":"a","event":"AfterModuleSuspend","params":{"serviceid":1e30}}`,
		`{"id":"a","event":"AfterModuleSuspend","params":{"serviceid":-1}}`,
		`[]`, `null`, `{}`, `"x"`, `{"event":null}`, "{\"id\":\"\xff\",\"event\":\"InvoicePaid\"}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		in, err := DecodeEvent(body)
		if err != nil {
			var de *DecodeError
			if !errors.As(err, &de) || err.Error() == "" {
				t.Fatalf("error %v is not a DecodeError", err)
			}
			return
		}
		if in.Ignored {
			if knownEvent(in.Type) || in.Type == "" {
				t.Fatalf("ignored a known or empty event %q", in.Type)
			}
			return
		}
		if in.ID == "" || !knownEvent(in.Type) {
			t.Fatalf("accepted %+v", in)
		}
		if in.Legacy != strings.HasPrefix(in.ID, legacyIDPrefix) || len(in.ID) > maxIDLen {
			t.Fatalf("id %q for legacy=%t", in.ID, in.Legacy)
		}
		if in.ServiceID < 0 || in.ClientID < 0 || in.ProductID < 0 || in.InvoiceID < 0 {
			t.Fatalf("negative id in %+v", in)
		}
		if in.Type == EventInvoicePaid && in.InvoiceID == 0 && in.ClientID == 0 || in.Type != EventInvoicePaid && !in.Legacy && in.ServiceID == 0 {
			t.Fatalf("missing required id in %+v", in)
		}
	})
}
