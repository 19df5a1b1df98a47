package schema

import (
	"errors"
	"github.com/scimforge/scimforge/internal/fixture"
	"strings"
	"testing"
	"testing/fstest"
)

const spc = `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"]}`

func schemaDoc(attrs string) string {
	return `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Schema"],"id":"urn:example:Thing","name":"Thing","attributes":[` + attrs + `]}`
}

const rtDoc = `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],"name":"Thing","endpoint":"/Things","schema":"urn:example:Thing"}`

func load(t *testing.T, files map[string]string) error {
	t.Helper()
	fsys := fstest.MapFS{}
	for name, body := range files {
		fsys["s/"+name] = &fstest.MapFile{Data: []byte(body)}
	}
	_, err := Load(fsys, "s")
	return err
}

// TestProblemsNameFileAndPath checks that every kind of mistake a user can
// make in a schema file is reported with the file and the JSON path.
func TestProblemsNameFileAndPath(t *testing.T) {
	cases := []struct {
		name  string
		attrs string
		rt    string
		want  string
	}{
		{"unknown type", `{"name":"a","type":"strnig"}`, rtDoc, `s/thing.json: $.attributes[0].type: "strnig" is not a valid type`},
		{"wrong case value", `{"name":"a","mutability":"readonly"}`, rtDoc, `did you mean "readOnly"?`},
		{"bad returned", `{"name":"a","returned":"sometimes"}`, rtDoc, `$.attributes[0].returned: "sometimes" is not a valid returned`},
		{"bad uniqueness", `{"name":"a","uniqueness":"yes"}`, rtDoc, `$.attributes[0].uniqueness`},
		{"duplicate names", `{"name":"userName"},{"name":"USERNAME"}`, rtDoc, `$.attributes[1].name: duplicate attribute name "USERNAME"`},
		{"duplicate sub names", `{"name":"c","type":"complex","subAttributes":[{"name":"v"},{"name":"V"}]}`, rtDoc, `$.attributes[0].subAttributes[1].name: duplicate`},
		{"subAttributes on simple", `{"name":"a","type":"string","subAttributes":[{"name":"b"}]}`, rtDoc, `$.attributes[0].subAttributes: subAttributes are only allowed on attributes of type "complex"`},
		{"complex without subs", `{"name":"a","type":"complex"}`, rtDoc, `complex attribute "a" has no subAttributes`},
		{"nested complex", `{"name":"a","type":"complex","subAttributes":[{"name":"b","type":"complex","subAttributes":[{"name":"c"}]}]}`, rtDoc, `a sub-attribute cannot have sub-attributes`},
		{"typo characteristic", `{"name":"a","multivalued":true}`, rtDoc, `$.attributes[0].multivalued: unknown attribute characteristic "multivalued"`},
		{"bad name", `{"name":"9lives"}`, rtDoc, `"9lives" is not a valid attribute name`},
		{"wrong JSON type", `{"name":"a","required":"yes"}`, rtDoc, `$.attributes[0].required: must be true or false`},
		{"reference without types", `{"name":"a","type":"reference"}`, rtDoc, `needs referenceTypes`},
		{"missing schema", `{"name":"a"}`, strings.Replace(rtDoc, `"schema":"urn:example:Thing"`, `"schema":"urn:example:Nope"`, 1), `s/rt.json: $.schema: schema "urn:example:Nope" is not defined by any file`},
		{"missing extension", `{"name":"a"}`, strings.Replace(rtDoc, `}`, `,"schemaExtensions":[{"schema":"urn:example:Ext"}]}`, 1), `s/rt.json: $.schemaExtensions[0].schema: schema "urn:example:Ext" is not defined`},
		{"common attribute in core", `{"name":"id"}`, rtDoc, `"id" is a common attribute`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := load(t, map[string]string{"thing.json": schemaDoc(c.attrs), "rt.json": c.rt, "spc.json": spc})
			if err == nil {
				t.Fatalf("loaded without error; want %q", c.want)
			}
			var ps Problems
			if !errors.As(err, &ps) {
				t.Fatalf("error is %T, want Problems", err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error:\n%v\nwant it to contain:\n%s", err, c.want)
			}
		})
	}
}

func TestInvalidJSONHasLine(t *testing.T) {
	err := load(t, map[string]string{"thing.json": "{\n  \"schemas\": [\n  oops\n}", "spc.json": spc})
	if err == nil || !strings.Contains(err.Error(), "s/thing.json: invalid JSON: line 3") {
		t.Fatalf("got %v", err)
	}
}

func TestDefaultsAndLookup(t *testing.T) {
	set, err := Load(fixture.FS, fixture.Root)
	if err != nil {
		t.Fatal(err)
	}
	rt := set.ResourceType("user")
	if rt == nil || rt.Core.ID != "urn:ietf:params:scim:schemas:core:2.0:User" || len(rt.Extensions) != 2 {
		t.Fatalf("User resource type not resolved: %+v", rt)
	}
	for _, c := range []struct{ urn, name, sub, want string }{
		{"", "USERNAME", "", "userName"},
		{"", "name", "FamilyName", "familyName"},
		{"", "id", "", "id"},
		{"", "meta", "lastModified", "lastModified"},
		{"", "employeeNumber", "", "employeeNumber"},
		{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:user", "Manager", "value", "value"},
	} {
		a := rt.Lookup(c.urn, c.name, c.sub)
		if a == nil || a.Name != c.want {
			t.Errorf("Lookup(%q,%q,%q) = %v, want %s", c.urn, c.name, c.sub, a, c.want)
		}
	}
	if rt.Lookup("", "nosuch", "") != nil {
		t.Error("unknown attribute resolved")
	}
	pw := rt.Lookup("", "password", "")
	if pw.Returned != ReturnedNever || pw.Mutability != WriteOnly {
		t.Errorf("password characteristics: %+v", pw)
	}
	if got := rt.Lookup("", "emails", "value").FullPath(); got != "urn:ietf:params:scim:schemas:core:2.0:User:emails.value" {
		t.Errorf("FullPath = %q", got)
	}
}
