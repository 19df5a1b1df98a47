package patch

import (
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/scimforge/scimforge/scim/schema"
	"github.com/scimforge/scimforge/scim/scimerr"
)

// The fixture schemas in testdata are RFC 7643's User, Group and
// Enterprise User: the package is tested against the RFC, not against the
// application's own schemas/.
func loadTypes(t testing.TB) (user, group *schema.ResourceType) {
	t.Helper()
	set, err := schema.Load(os.DirFS("testdata"), "schemas")
	if err != nil {
		t.Fatal(err)
	}
	return set.ResourceType("User"), set.ResourceType("Group")
}

func jsonDoc(t testing.TB, s string) map[string]any {
	t.Helper()
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		t.Fatalf("bad test JSON %s: %v", s, err)
	}
	return m
}

func mustParse(t testing.TB, ops string) *Request {
	t.Helper()
	r, err := Parse([]byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":` + ops + `}`))
	if err != nil {
		t.Fatalf("Parse(%s): %v", ops, err)
	}
	return r
}

const ent = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

func TestApplyUser(t *testing.T) {
	user, _ := loadTypes(t)
	base := `{"userName":"bjensen","name":{"givenName":"Barbara","familyName":"Jensen"},"active":true,
		"emails":[{"value":"b@work.example","type":"work","primary":true},{"value":"b@home.example","type":"home"}]}`
	for _, c := range []struct {
		name, doc, ops, want string
	}{
		{"replace simple", base, `[{"op":"replace","path":"userName","value":"babs"}]`,
			`{"userName":"babs","name":{"givenName":"Barbara","familyName":"Jensen"},"active":true,"emails":[{"value":"b@work.example","type":"work","primary":true},{"value":"b@home.example","type":"home"}]}`},
		{"string boolean, capitalised op", `{"userName":"u","active":true}`, `[{"op":"Replace","path":"active","value":"False"}]`,
			`{"userName":"u","active":false}`},
		{"sub-attribute", `{"userName":"u"}`, `[{"op":"add","path":"name.givenName","value":"G"}]`,
			`{"userName":"u","name":{"givenName":"G"}}`},
		{"complex replace merges", `{"userName":"u","name":{"givenName":"G","familyName":"F"}}`, `[{"op":"replace","path":"name","value":{"givenName":"H"}}]`,
			`{"userName":"u","name":{"givenName":"H","familyName":"F"}}`},
		{"remove last sub-attribute drops the complex", `{"userName":"u","name":{"givenName":"G"}}`, `[{"op":"remove","path":"name.givenName"}]`,
			`{"userName":"u"}`},
		{"value path sub", base, `[{"op":"replace","path":"emails[type eq \"home\"].value","value":"new@home"}]`,
			`{"userName":"bjensen","name":{"givenName":"Barbara","familyName":"Jensen"},"active":true,"emails":[{"value":"b@work.example","type":"work","primary":true},{"value":"new@home","type":"home"}]}`},
		{"value path creates the entry (Entra)", `{"userName":"u"}`, `[{"op":"replace","path":"emails[type eq \"work\"].value","value":"w@x"}]`,
			`{"userName":"u","emails":[{"type":"work","value":"w@x"}]}`},
		{"value path and-terms seed the entry", `{"userName":"u"}`, `[{"op":"add","path":"addresses[type eq \"work\" and country eq \"NL\"].locality","value":"Delft"}]`,
			`{"userName":"u","addresses":[{"type":"work","country":"NL","locality":"Delft"}]}`},
		{"add appends, duplicate stored once", `{"userName":"u","emails":[{"value":"a@x","type":"work"}]}`, `[{"op":"add","path":"emails","value":[{"value":"A@x","type":"Work"},{"value":"b@x","type":"home"}]}]`,
			`{"userName":"u","emails":[{"value":"A@x","type":"Work"},{"value":"b@x","type":"home"}]}`},
		{"new primary clears the old", base, `[{"op":"add","path":"emails","value":{"value":"o@x","type":"other","primary":true}}]`,
			`{"userName":"bjensen","name":{"givenName":"Barbara","familyName":"Jensen"},"active":true,"emails":[{"value":"b@work.example","type":"work","primary":false},{"value":"b@home.example","type":"home"},{"value":"o@x","type":"other","primary":true}]}`},
		{"remove by filter", base, `[{"op":"remove","path":"emails[type eq \"work\"]"}]`,
			`{"userName":"bjensen","name":{"givenName":"Barbara","familyName":"Jensen"},"active":true,"emails":[{"value":"b@home.example","type":"home"}]}`},
		{"remove by filter matching nothing", base, `[{"op":"remove","path":"emails[type eq \"other\"]"}]`,
			`{"userName":"bjensen","name":{"givenName":"Barbara","familyName":"Jensen"},"active":true,"emails":[{"value":"b@work.example","type":"work","primary":true},{"value":"b@home.example","type":"home"}]}`},
		{"remove with a value list removes those only", base, `[{"op":"remove","path":"emails","value":[{"value":"B@HOME.example","type":"home"}]}]`,
			`{"userName":"bjensen","name":{"givenName":"Barbara","familyName":"Jensen"},"active":true,"emails":[{"value":"b@work.example","type":"work","primary":true}]}`},
		{"remove all values", base, `[{"op":"remove","path":"emails"}]`,
			`{"userName":"bjensen","name":{"givenName":"Barbara","familyName":"Jensen"},"active":true}`},
		{"replace list", base, `[{"op":"replace","path":"emails","value":[{"value":"z@x","type":"work"}]}]`,
			`{"userName":"bjensen","name":{"givenName":"Barbara","familyName":"Jensen"},"active":true,"emails":[{"value":"z@x","type":"work"}]}`},
		{"path-less dotted and URN keys", `{"userName":"u"}`, `[{"op":"replace","value":{"name.familyName":"F","` + ent + `:employeeNumber":"7","displayName":"D"}}]`,
			`{"userName":"u","name":{"familyName":"F"},"displayName":"D","` + ent + `":{"employeeNumber":"7"}}`},
		{"path-less readOnly keys ignored (Okta id)", `{"userName":"u"}`, `[{"op":"replace","value":{"id":"x","meta":{"version":"1"},"schemas":["x"],"active":false}}]`,
			`{"userName":"u","active":false}`},
		{"manager as a bare string", `{"userName":"u"}`, `[{"op":"add","path":"` + ent + `:manager","value":"m1"}]`,
			`{"userName":"u","` + ent + `":{"manager":{"value":"m1"}}}`},
		{"manager as a one-element array", `{"userName":"u"}`, `[{"op":"add","path":"manager","value":[{"$ref":"https://x/Users/m1","value":"m1"}]}]`,
			`{"userName":"u","` + ent + `":{"manager":{"$ref":"https://x/Users/m1","value":"m1"}}}`},
		{"manager removed by value filter", `{"userName":"u","` + ent + `":{"manager":{"value":"m1"},"department":"D"}}`, `[{"op":"remove","path":"manager[value eq \"m1\"]"}]`,
			`{"userName":"u","` + ent + `":{"department":"D"}}`},
		{"manager cleared by an empty value", `{"userName":"u","` + ent + `":{"manager":{"value":"m1","$ref":"https://x/Users/m1"}}}`, `[{"op":"replace","path":"` + ent + `:manager","value":{"value":""}}]`,
			`{"userName":"u"}`},
		{"empty string clears", `{"userName":"u","title":"T"}`, `[{"op":"replace","path":"title","value":""}]`, `{"userName":"u"}`},
		{"null clears", `{"userName":"u","title":"T"}`, `[{"op":"replace","path":"title","value":null}]`, `{"userName":"u"}`},
		{"whole extension", `{"userName":"u"}`, `[{"op":"add","path":"` + ent + `","value":{"department":"R&D","manager":"m"}}]`,
			`{"userName":"u","` + ent + `":{"department":"R&D","manager":{"value":"m"}}}`},
		{"remove whole extension", `{"userName":"u","` + ent + `":{"department":"R&D"}}`, `[{"op":"remove","path":"` + ent + `"}]`, `{"userName":"u"}`},
		{"case-insensitive names", `{"userName":"u"}`, `[{"op":"add","path":"NAME.GivenName","value":"g"},{"op":"add","path":"Emails","value":[{"Value":"v@x","TYPE":"work","Primary":"True"}]}]`,
			`{"userName":"u","name":{"givenName":"g"},"emails":[{"value":"v@x","type":"work","primary":true}]}`},
		{"roles value as JSON text", `{"userName":"u"}`, `[{"op":"Add","path":"roles","value":[{"value":"{\"id\":\"1\"}"}]}]`,
			`{"userName":"u","roles":[{"value":"{\"id\":\"1\"}"}]}`},
		{"operations apply in order", `{"userName":"u"}`, `[{"op":"add","path":"title","value":"a"},{"op":"remove","path":"title"},{"op":"add","path":"nickName","value":"n"}]`,
			`{"userName":"u","nickName":"n"}`},
		{"unknown sub-attributes in values are dropped", `{"userName":"u"}`, `[{"op":"add","path":"emails","value":[{"value":"v@x","colour":"red"}]}]`,
			`{"userName":"u","emails":[{"value":"v@x"}]}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			doc := jsonDoc(t, c.doc)
			res, err := Apply(user, doc, mustParse(t, c.ops), Options{})
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

func TestApplyErrors(t *testing.T) {
	user, _ := loadTypes(t)
	doc := `{"userName":"u","emails":[{"value":"a@x","type":"work"}]}`
	for _, c := range []struct {
		name, ops, scimType string
	}{
		{"unknown attribute", `[{"op":"add","path":"colour","value":"red"}]`, "invalidPath"},
		{"unknown sub-attribute", `[{"op":"add","path":"name.colour","value":"red"}]`, "invalidPath"},
		{"sub-attribute of a simple attribute", `[{"op":"add","path":"userName.x","value":"red"}]`, "invalidPath"},
		{"unknown schema URN", `[{"op":"add","path":"urn:x:y:2.0:User:a","value":"red"}]`, "invalidPath"},
		{"path-less unknown key", `[{"op":"add","value":{"colour":"red"}}]`, "invalidPath"},
		{"filter on a simple attribute", `[{"op":"remove","path":"userName[value eq \"x\"]"}]`, "invalidPath"},
		{"filter naming an unknown sub-attribute", `[{"op":"remove","path":"emails[colour eq \"x\"]"}]`, "invalidFilter"},
		{"malformed filter", `[{"op":"remove","path":"emails[type eq \"x\""}]`, "invalidFilter"},
		{"readOnly", `[{"op":"replace","path":"id","value":"x"}]`, "mutability"},
		{"readOnly groups", `[{"op":"add","path":"groups","value":[{"value":"g"}]}]`, "mutability"},
		{"readOnly meta sub", `[{"op":"replace","path":"meta.lastModified","value":"x"}]`, "mutability"},
		{"filter without match, no sub-attribute", `[{"op":"replace","path":"emails[type eq \"home\"]","value":{"value":"h@x"}}]`, "noTarget"},
		{"or-filter cannot seed a value", `[{"op":"replace","path":"emails[type eq \"home\" or type eq \"other\"].value","value":"h@x"}]`, "noTarget"},
		{"boolean as garbage", `[{"op":"replace","path":"active","value":"maybe"}]`, "invalidValue"},
		{"string as number", `[{"op":"replace","path":"userName","value":5}]`, "invalidValue"},
		{"object for a string", `[{"op":"replace","path":"title","value":{"a":1}}]`, "invalidValue"},
		{"string for a complex", `[{"op":"replace","path":"name","value":"x"}]`, "invalidValue"},
		{"two primaries", `[{"op":"add","path":"emails","value":[{"value":"p@x","primary":true},{"value":"q@x","primary":true}]}]`, "invalidValue"},
		{"extension value not an object", `[{"op":"add","path":"` + ent + `","value":"x"}]`, "invalidValue"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Apply(user, jsonDoc(t, doc), mustParse(t, c.ops), Options{})
			e := scimerr.As(err)
			if e == nil || e.Status != 400 || string(e.ScimType) != c.scimType {
				t.Errorf("got %v, want 400 %s", err, c.scimType)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	for _, c := range []struct {
		body, scimType string
	}{
		{`[]`, "invalidSyntax"},
		{`{`, "invalidSyntax"},
		{`{"schemas":["urn:x"],"Operations":[{"op":"add","path":"a","value":1}]}`, "invalidSyntax"},
		{`{"Operations":[]}`, "invalidSyntax"},
		{`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"]}`, "invalidSyntax"},
		{`{"Operations":[{"op":"copy","path":"a"}]}`, "invalidSyntax"},
		{`{"Operations":[{"path":"a","value":1}]}`, "invalidSyntax"},
		{`{"Operations":[{"op":"remove"}]}`, "noTarget"},
		{`{"Operations":[{"op":"add","path":"a"}]}`, "invalidSyntax"},
		{`{"Operations":[{"op":"add","value":"not an object"}]}`, "invalidValue"},
		{`{"Operations":[{"op":"add","path":5,"value":1}]}`, "invalidPath"},
		{`{"Operations":["add"]}`, "invalidSyntax"},
	} {
		_, err := Parse([]byte(c.body))
		if e := scimerr.As(err); e == nil || string(e.ScimType) != c.scimType {
			t.Errorf("Parse(%s) = %v, want %s", c.body, err, c.scimType)
		}
	}
	// Tolerated: key case, op case, extra keys, no schemas, Operations first.
	r, err := Parse([]byte(`{"id":"g1","operations":[{"OP":"Add","Path":"members","Value":[{"value":"u"}],"name":"addMember"}]}`))
	if err != nil || len(r.Operations) != 1 || r.Operations[0].Kind != Add || r.Operations[0].Path != "members" {
		t.Errorf("lenient parse: %+v %v", r, err)
	}
}

func TestApplyMembers(t *testing.T) {
	_, group := loadTypes(t)
	opts := Options{External: "members"}
	req := mustParse(t, `[
		{"op":"Add","path":"members","value":[{"$ref":null,"value":"u1"},{"value":"u2","display":"Two","type":"User"}]},
		{"op":"add","path":"members","value":"string id 1"},
		{"op":"Remove","path":"members","value":[{"value":"u1"}]},
		{"op":"remove","path":"members[value eq \"u2\"]"},
		{"op":"replace","path":"members","value":[{"value":"u3","displayName":"Three"}]},
		{"op":"remove","path":"members"},
		{"op":"replace","value":{"id":"g","displayName":"New","members":[{"value":"u4"}]}}]`)
	res, err := Apply(group, jsonDoc(t, `{"displayName":"Old"}`), req, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(res.Doc, map[string]any{"displayName": "New"}) {
		t.Errorf("doc %v: members must never enter the document", res.Doc)
	}
	want := []MemberOp{
		{Kind: Add, Values: []MemberValue{{Value: "u1"}, {Value: "u2", Type: "User", Display: "Two"}}},
		{Kind: Add, Values: []MemberValue{{Value: "string id 1", Bare: true}}},
		{Kind: Remove, Values: []MemberValue{{Value: "u1"}}},
		{Kind: Remove, Filter: res.Members[3].Filter},
		{Kind: Replace, Values: []MemberValue{{Value: "u3", Display: "Three"}}},
		{Kind: Remove, All: true},
		{Kind: Replace, Values: []MemberValue{{Value: "u4"}}},
	}
	if !reflect.DeepEqual(res.Members, want) {
		t.Errorf("member ops\n got %+v\nwant %+v", res.Members, want)
	}
	if res.Members[3].Filter == nil || res.Members[3].Filter.String() != `value eq "u2"` {
		t.Errorf("filter %v", res.Members[3].Filter)
	}
	for _, bad := range []string{
		`[{"op":"replace","path":"members[value eq \"u\"].value","value":"v"}]`,
		`[{"op":"add","path":"members[value eq \"u\"]","value":{"value":"v"}}]`,
	} {
		if _, err := Apply(group, jsonDoc(t, `{}`), mustParse(t, bad), opts); scimerr.As(err) == nil || scimerr.As(err).ScimType != scimerr.Mutability {
			t.Errorf("%s: %v, want mutability", bad, err)
		}
	}
	if _, err := Apply(group, jsonDoc(t, `{}`), mustParse(t, `[{"op":"add","path":"members","value":[{"display":"x"}]}]`), opts); scimerr.As(err) == nil {
		t.Error("a member without a value was accepted")
	}
}

// FuzzApply: any request on any document either applies or fails with a
// SCIM error; it never panics, and a result always encodes as JSON.
func FuzzApply(f *testing.F) {
	user, group := loadTypes(f)
	f.Add(`{"userName":"u","emails":[{"value":"a","type":"work"}]}`, `{"Operations":[{"op":"replace","path":"emails[type eq \"work\"].value","value":"b"}]}`, false)
	f.Add(`{"userName":"u"}`, `{"Operations":[{"op":"add","value":{"name.givenName":"g","`+ent+`:manager":"m"}}]}`, false)
	f.Add(`{"displayName":"g"}`, `{"Operations":[{"op":"remove","path":"members[value eq \"x\"]"},{"op":"add","path":"members","value":[{"value":"y"}]}]}`, true)
	f.Add(`{"userName":"u","`+ent+`":{"manager":{"value":"m"}}}`, `{"Operations":[{"op":"remove","path":"manager[value eq \"m\"]"}]}`, false)
	f.Add(`{"userName":"u","addresses":[{"type":"work"}]}`, `{"Operations":[{"op":"add","path":"addresses[not (type eq \"home\")].locality","value":"x"},{"op":"remove","path":"addresses[type pr].type"}]}`, false)
	f.Fuzz(func(t *testing.T, doc, body string, isGroup bool) {
		d := json.NewDecoder(strings.NewReader(doc))
		d.UseNumber()
		var m map[string]any
		if d.Decode(&m) != nil {
			return
		}
		req, err := Parse([]byte(body))
		if err != nil {
			if scimerr.As(err) == nil {
				t.Fatalf("Parse error is not a SCIM error: %v", err)
			}
			return
		}
		rt, opts := user, Options{}
		if isGroup {
			rt, opts = group, Options{External: "members"}
		}
		res, err := Apply(rt, m, req, opts)
		if err != nil {
			if scimerr.As(err) == nil {
				t.Fatalf("Apply error is not a SCIM error: %v", err)
			}
			return
		}
		out, err := json.Marshal(res.Doc)
		if err != nil {
			t.Fatalf("result does not encode: %v", err)
		}
		if bytes.Contains(out, []byte(`"name.`)) {
			t.Fatalf("a dotted key was stored literally: %s", out)
		}
	})
}
