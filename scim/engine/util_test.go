package engine

import (
	"encoding/json"
	"testing"
)

func TestAppendJSONStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "plain", `quo"te`, `back\slash`, "tab\tnl\ncr\r", "\x00\x1f\x7f", "é ü 日本", "bad\xffutf8", "<&>", "\u2028"} {
		got := appendJSONString(nil, s)
		var back string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Errorf("%q: %s is not a JSON string: %v", s, got, err)
			continue
		}
		want := s
		if s == "bad\xffutf8" {
			want = "bad\ufffdutf8"
		}
		if back != want {
			t.Errorf("%q round-tripped to %q", s, back)
		}
	}
}

func TestComposeIsValidJSON(t *testing.T) {
	m := MetaValues{ResourceType: "User", Created: "c", LastModified: "l", Location: "http://x/Users/1", Version: `W/"1"`}
	for _, c := range []struct{ doc, derived string }{
		{`{"schemas":["u"],"userName":"a"}`, `"groups":[{"value":"g"}]`},
		{`{}`, ``},
		{` { "userName" : "b" } `, ``},
	} {
		out := compose(nil, "1", []byte(c.doc), []byte(c.derived), m)
		var v map[string]any
		if err := json.Unmarshal(out, &v); err != nil {
			t.Fatalf("compose(%s, %s) = %s: %v", c.doc, c.derived, out, err)
		}
		if v["id"] != "1" || v["meta"].(map[string]any)["version"] != `W/"1"` {
			t.Errorf("compose lost id or meta: %s", out)
		}
	}
}
