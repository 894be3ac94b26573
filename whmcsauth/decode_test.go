package whmcsauth

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestFlexInt(t *testing.T) {
	for in, want := range map[string]int64{
		`12`: 12, `"12"`: 12, `" 12 "`: 12, `""`: 0, `null`: 0, `12.0`: 12, `"7.0"`: 7, `-3`: -3, `0`: 0,
		`9007199254740993`: 9007199254740993,
	} {
		var n FlexInt
		if err := json.Unmarshal([]byte(in), &n); err != nil || n.Int64() != want {
			t.Errorf("%s: got %d, %v", in, n, err)
		}
	}
	for _, in := range []string{`"abc"`, `true`, `{}`, `[]`, `1.5`, `"1e400"`, `"NaN"`} {
		var n FlexInt
		if err := json.Unmarshal([]byte(in), &n); err == nil {
			t.Errorf("%s: want error, got %d", in, n)
		}
	}
}

func TestFlexBool(t *testing.T) {
	for in, want := range map[string]bool{
		`true`: true, `false`: false, `1`: true, `0`: false, `"1"`: true, `"0"`: false, `"true"`: true,
		`"false"`: false, `""`: false, `null`: false, `"on"`: true, `"No"`: false, `2`: true,
	} {
		var b FlexBool
		if err := json.Unmarshal([]byte(in), &b); err != nil || bool(b) != want {
			t.Errorf("%s: got %v, %v", in, b, err)
		}
	}
	var b FlexBool
	if err := json.Unmarshal([]byte(`"maybe"`), &b); err == nil {
		t.Error("want error")
	}
}

func TestFlexString(t *testing.T) {
	for in, want := range map[string]string{
		`"a&amp;b"`: "a&amp;b", `12`: "12", `1.50`: "1.50", `true`: "true", `null`: "", `[]`: "", `{}`: "", `[ ]`: "",
	} {
		var s FlexString
		if err := json.Unmarshal([]byte(in), &s); err != nil || string(s) != want {
			t.Errorf("%s: got %q, %v", in, s, err)
		}
	}
	for _, in := range []string{`[1]`, `{"a":1}`} {
		var s FlexString
		if err := json.Unmarshal([]byte(in), &s); err == nil {
			t.Errorf("%s: want error", in)
		}
	}
	if got := FlexString(" Ben &amp; Jerry&#039;s &quot;x&quot; &lt;y&gt; ").text(); got != `Ben & Jerry's "x" <y>` {
		t.Errorf("text %q", got)
	}
	if FlexString("0000-00-00 00:00:00").date() != "" || FlexString("2024-01-02").date() != "2024-01-02" {
		t.Error("date")
	}
}

type item struct {
	ID FlexInt `json:"id"`
}

func TestDecodeList(t *testing.T) {
	for in, want := range map[string][]int64{
		``:                               nil,
		`null`:                           nil,
		`""`:                             nil,
		`"  "`:                           nil,
		`[]`:                             nil,
		`{}`:                             nil,
		`[[]]`:                           nil,
		`{"x":[]}`:                       nil,
		`{"x":""}`:                       nil,
		`{"x":null}`:                     nil,
		`{"x":[{"id":1},{"id":"2"}]}`:    {1, 2},
		`{"x":{"id":3}}`:                 {3},
		`[{"id":1},[],null,"",{"id":2}]`: {1, 2},
		`{"id":4}`:                       {4},
		`{"10":{"id":2},"2":{"id":1}}`:   {1, 2},
		`{"x":{"0":{"id":5}}}`:           {5},
	} {
		got, err := DecodeList[item]([]byte(in), "x")
		var ids []int64
		for _, it := range got {
			ids = append(ids, int64(it.ID))
		}
		if err != nil || !reflect.DeepEqual(ids, want) {
			t.Errorf("%s: got %v, %v", in, ids, err)
		}
	}
	for _, in := range []string{`7`, `true`, `"text"`, `[1,2]`, `{"x":5}`, `[{"id":"bad"}]`, `{"x":{"x":{"x":{"x":{"x":{"x":[{"id":1}]}}}}}}`} {
		if _, err := DecodeList[item]([]byte(in), "x"); err == nil {
			t.Errorf("%s: want error", in)
		}
	}
}
