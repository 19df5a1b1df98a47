package patch

import (
	"encoding/json"
	"reflect"
	"testing"
)

// Cases found in review (issue 5): values left describing nothing after a
// PATCH.
func TestApplyReview(t *testing.T) {
	user, _ := loadTypes(t)
	phones := `{"userName":"u","phoneNumbers":[{"value":"1","type":"work"},{"value":"2","type":"mobile"}]}`
	for _, c := range []struct {
		name, doc, ops, want string
	}{
		// A phone number whose "value" was removed is no phone number:
		// {"type":"mobile"} must not stay behind (Entra clears a mapped
		// attribute with remove or with an empty value).
		{"remove value of a filtered entry drops it", phones, `[{"op":"remove","path":"phoneNumbers[type eq \"mobile\"].value"}]`,
			`{"userName":"u","phoneNumbers":[{"value":"1","type":"work"}]}`},
		{"replace value with empty drops the entry", phones, `[{"op":"Replace","path":"phoneNumbers[type eq \"mobile\"].value","value":""}]`,
			`{"userName":"u","phoneNumbers":[{"value":"1","type":"work"}]}`},
		{"add value null drops the entry", phones, `[{"op":"add","path":"phoneNumbers[type eq \"work\"].value","value":null}]`,
			`{"userName":"u","phoneNumbers":[{"value":"2","type":"mobile"}]}`},
		{"removing the last value removes the attribute", `{"userName":"u","emails":[{"value":"a@x","type":"work","primary":true}]}`,
			`[{"op":"remove","path":"emails[type eq \"work\"].value"}]`, `{"userName":"u"}`},
		{"emails.value removed from every entry", `{"userName":"u","emails":[{"value":"a@x","type":"work"},{"value":"b@x","type":"home"}]}`,
			`[{"op":"remove","path":"emails.value"}]`, `{"userName":"u"}`},
		{"other sub-attributes of a filtered entry stay removable", `{"userName":"u","addresses":[{"type":"work","streetAddress":"s","locality":"l"}]}`,
			`[{"op":"remove","path":"addresses[type eq \"work\"].streetAddress"}]`, `{"userName":"u","addresses":[{"type":"work","locality":"l"}]}`},
		{"display removal keeps the entry", phones, `[{"op":"remove","path":"phoneNumbers[type eq \"work\"].display"}]`, phones},
		// Remove with a value list: a listed value without "type" names
		// the stored value with that "value", whatever its type.
		{"remove by value list without type", `{"userName":"u","emails":[{"value":"a@x","type":"work","primary":true},{"value":"b@x","type":"home"}]}`,
			`[{"op":"remove","path":"emails","value":[{"value":"A@x"}]}]`, `{"userName":"u","emails":[{"value":"b@x","type":"home"}]}`},
		{"remove by value list with another type keeps it", `{"userName":"u","emails":[{"value":"a@x","type":"work"}]}`,
			`[{"op":"remove","path":"emails","value":[{"value":"a@x","type":"home"}]}]`, `{"userName":"u","emails":[{"value":"a@x","type":"work"}]}`},
		// A manager set to another id keeps neither the old $ref nor the
		// old displayName: they described the previous manager.
		{"new manager drops the old $ref", `{"userName":"u","` + ent + `":{"manager":{"value":"m1","$ref":"https://x/Users/m1","displayName":"Boss"}}}`,
			`[{"op":"replace","path":"` + ent + `:manager","value":{"value":"m2"}}]`,
			`{"userName":"u","` + ent + `":{"manager":{"value":"m2"}}}`},
		{"new manager as a bare string", `{"userName":"u","` + ent + `":{"manager":{"value":"m1","$ref":"https://x/Users/m1"}}}`,
			`[{"op":"Replace","path":"` + ent + `:manager","value":"m2"}]`,
			`{"userName":"u","` + ent + `":{"manager":{"value":"m2"}}}`},
		{"new manager by manager.value", `{"userName":"u","` + ent + `":{"manager":{"value":"m1","$ref":"https://x/Users/m1"}}}`,
			`[{"op":"replace","path":"` + ent + `:manager.value","value":"m2"}]`,
			`{"userName":"u","` + ent + `":{"manager":{"value":"m2"}}}`},
		{"same manager keeps its $ref", `{"userName":"u","` + ent + `":{"manager":{"value":"m1","$ref":"https://x/Users/m1"}}}`,
			`[{"op":"add","path":"` + ent + `:manager","value":"m1"}]`,
			`{"userName":"u","` + ent + `":{"manager":{"value":"m1","$ref":"https://x/Users/m1"}}}`},
		{"new manager with its $ref", `{"userName":"u","` + ent + `":{"manager":{"value":"m1","$ref":"https://x/Users/m1"}}}`,
			`[{"op":"add","path":"manager","value":[{"$ref":"https://x/Users/m2","value":"m2"}]}]`,
			`{"userName":"u","` + ent + `":{"manager":{"value":"m2","$ref":"https://x/Users/m2"}}}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			res, err := Apply(user, jsonDoc(t, c.doc), mustParse(t, c.ops), Options{})
			if err != nil {
				t.Fatalf("Apply: %v", err)
			}
			if want := jsonDoc(t, c.want); !reflect.DeepEqual(res.Doc, want) {
				got, _ := json.Marshal(res.Doc)
				t.Errorf("got  %s\nwant %s", got, c.want)
			}
		})
	}
}
