package projection

import (
	"encoding/json"
	"fmt"
	"github.com/scimforge/scimforge/internal/fixture"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/scimforge/scimforge/scim/schema"
	"github.com/scimforge/scimforge/scim/scimerr"
)

const (
	coreUserURN = "urn:ietf:params:scim:schemas:core:2.0:User"
	entURN      = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	acmeURN     = "urn:example:params:scim:schemas:extension:acme:2.0:User"
	widgetURN   = "urn:test:params:scim:schemas:core:2.0:Widget"
	auditURN    = "urn:test:params:scim:schemas:extension:audit:2.0:Widget"
)

var (
	loadOnce sync.Once
	realSet  *schema.Set
	testSet  *schema.Set
	loadErr  error
)

func load(t testing.TB) (real, custom *schema.Set) {
	t.Helper()
	loadOnce.Do(func() {
		realSet, loadErr = schema.Load(fixture.FS, fixture.Root)
		if loadErr != nil {
			return
		}
		testSet, loadErr = schema.Load(widgetFS, "schemas")
	})
	if loadErr != nil {
		t.Fatal(loadErr)
	}
	return realSet, testSet
}

func userRT(t testing.TB) *schema.ResourceType {
	s, _ := load(t)
	return s.ResourceType("User")
}

func groupRT(t testing.TB) *schema.ResourceType {
	s, _ := load(t)
	return s.ResourceType("Group")
}

func widgetRT(t testing.TB) *schema.ResourceType {
	_, s := load(t)
	return s.ResourceType("Widget")
}

// widgetFS is a schema set with what the real schemas lack: returned
// "request" and "never" attributes and sub-attributes, and an "always"
// sub-attribute, in the core schema and in an extension.
var widgetFS = fstest.MapFS{
	"schemas/ServiceProviderConfig.json": {Data: []byte(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"]}`)},
	"schemas/Widget.json": {Data: []byte(`{
  "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
  "id": "` + widgetURN + `",
  "name": "Widget",
  "attributes": [
    {"name": "label", "type": "string", "returned": "default"},
    {"name": "secret", "type": "string", "returned": "never", "mutability": "writeOnly"},
    {"name": "token", "type": "string", "returned": "request"},
    {"name": "cfg", "type": "complex", "returned": "default", "subAttributes": [
      {"name": "key", "type": "string", "returned": "always"},
      {"name": "note", "type": "string", "returned": "default"},
      {"name": "hidden", "type": "string", "returned": "never"},
      {"name": "extra", "type": "string", "returned": "request"}
    ]},
    {"name": "parts", "type": "complex", "multiValued": true, "returned": "default", "subAttributes": [
      {"name": "pid", "type": "string", "returned": "always"},
      {"name": "size", "type": "integer", "returned": "default"},
      {"name": "code", "type": "string", "returned": "request"}
    ]}
  ]
}`)},
	"schemas/Audit.json": {Data: []byte(`{
  "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
  "id": "` + auditURN + `",
  "name": "Audit",
  "attributes": [
    {"name": "owner", "type": "string", "returned": "default"},
    {"name": "trail", "type": "string", "returned": "request"},
    {"name": "pin", "type": "string", "returned": "never"}
  ]
}`)},
	"schemas/WidgetType.json": {Data: []byte(`{
  "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
  "id": "Widget", "name": "Widget", "endpoint": "/Widgets",
  "schema": "` + widgetURN + `",
  "schemaExtensions": [{"schema": "` + auditURN + `", "required": false}]
}`)},
}

// userDoc is a User holding every kind of value the rules touch.
const userDoc = `{
  "schemas": ["` + coreUserURN + `", "` + entURN + `", "` + acmeURN + `"],
  "id": "u1",
  "externalId": "ext1",
  "userName": "bjensen",
  "name": {"givenName": "Barbara", "familyName": "Jensen", "formatted": "Ms. Barbara J Jensen"},
  "displayName": "Babs",
  "active": true,
  "password": "t1meMa$heen",
  "emails": [
    {"value": "bjensen@example.com", "type": "work", "primary": true},
    {"value": "babs@jensen.org", "type": "home"}
  ],
  "groups": [{"value": "g1", "$ref": "https://example.com/v2/Groups/g1", "display": "Admins"}],
  "meta": {"resourceType": "User", "created": "2024-01-01T00:00:00Z", "lastModified": "2024-01-02T00:00:00Z",
           "location": "https://example.com/v2/Users/u1", "version": "W/\"1\""},
  "` + entURN + `": {
    "employeeNumber": "42", "department": "R&D",
    "manager": {"value": "m1", "$ref": "https://example.com/v2/Users/m1", "displayName": "Boss"}
  },
  "` + acmeURN + `": {"badgeNumber": "B7", "fte": 0.5, "tags": ["a", "b"]}
}`

// userDefault is userDoc as returned without parameters.
const userDefault = `{
  "schemas": ["` + coreUserURN + `", "` + entURN + `", "` + acmeURN + `"],
  "id": "u1",
  "externalId": "ext1",
  "userName": "bjensen",
  "name": {"givenName": "Barbara", "familyName": "Jensen", "formatted": "Ms. Barbara J Jensen"},
  "displayName": "Babs",
  "active": true,
  "emails": [
    {"value": "bjensen@example.com", "type": "work", "primary": true},
    {"value": "babs@jensen.org", "type": "home"}
  ],
  "groups": [{"value": "g1", "$ref": "https://example.com/v2/Groups/g1", "display": "Admins"}],
  "meta": {"resourceType": "User", "created": "2024-01-01T00:00:00Z", "lastModified": "2024-01-02T00:00:00Z",
           "location": "https://example.com/v2/Users/u1", "version": "W/\"1\""},
  "` + entURN + `": {
    "employeeNumber": "42", "department": "R&D",
    "manager": {"value": "m1", "$ref": "https://example.com/v2/Users/m1", "displayName": "Boss"}
  },
  "` + acmeURN + `": {"badgeNumber": "B7", "fte": 0.5, "tags": ["a", "b"]}
}`

const groupDoc = `{
  "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
  "id": "g1",
  "displayName": "Admins",
  "members": [
    {"value": "u1", "$ref": "https://example.com/v2/Users/u1", "type": "User", "display": "Babs"},
    {"value": "u2", "type": "User"}
  ],
  "meta": {"resourceType": "Group", "version": "W/\"3\""}
}`

const widgetDoc = `{
  "schemas": ["` + widgetURN + `", "` + auditURN + `"],
  "id": "w1",
  "label": "L",
  "secret": "s",
  "token": "tok",
  "cfg": {"key": "k", "note": "n", "hidden": "h", "extra": "x"},
  "parts": [{"pid": "p1", "size": 1, "code": "c1"}, {"pid": "p2", "code": "c2"}, {"code": "c3"}],
  "` + auditURN + `": {"owner": "o", "trail": "t", "pin": "1234"}
}`

func decode(t testing.TB, s string) map[string]any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("bad test JSON: %v\n%s", err, s)
	}
	return m
}

func canon(t testing.TB, v any) string {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestApply(t *testing.T) {
	user, group, widget := userRT(t), groupRT(t), widgetRT(t)
	tests := []struct {
		name          string
		rt            *schema.ResourceType
		attrs, excl   string
		in, want      string
		defaultResult bool
	}{
		// Defaults and returned "never".
		{name: "no parameters: password never returned", rt: user, in: userDoc, want: userDefault, defaultResult: true},
		{name: "attributes=password: still never returned", rt: user, attrs: "password", in: userDoc,
			want: `{"schemas": ["` + coreUserURN + `"], "id": "u1"}`},
		{name: "excludedAttributes=password", rt: user, excl: "password", in: userDoc, want: userDefault, defaultResult: true},

		// attributes on the core schema.
		{name: "attributes=userName keeps id and schemas, drops the rest", rt: user, attrs: "userName", in: userDoc,
			want: `{"schemas": ["` + coreUserURN + `"], "id": "u1", "userName": "bjensen"}`},
		{name: "attributes=USERNAME is case-insensitive", rt: user, attrs: "USERNAME", in: userDoc,
			want: `{"schemas": ["` + coreUserURN + `"], "id": "u1", "userName": "bjensen"}`},
		{name: "attributes=id", rt: user, attrs: "id", in: userDoc,
			want: `{"schemas": ["` + coreUserURN + `"], "id": "u1"}`},
		{name: "attributes=schemas", rt: user, attrs: "schemas", in: userDoc,
			want: `{"schemas": ["` + coreUserURN + `"], "id": "u1"}`},
		{name: "attributes=Name.GivenName keeps the parent with that sub only", rt: user, attrs: "Name.GivenName", in: userDoc,
			want: `{"schemas": ["` + coreUserURN + `"], "id": "u1", "name": {"givenName": "Barbara"}}`},
		{name: "attributes=name keeps every default sub", rt: user, attrs: "name", in: userDoc,
			want: `{"schemas": ["` + coreUserURN + `"], "id": "u1",
			"name": {"givenName": "Barbara", "familyName": "Jensen", "formatted": "Ms. Barbara J Jensen"}}`},
		{name: "attributes=emails.value applies to every element", rt: user, attrs: "emails.value", in: userDoc,
			want: `{"schemas": ["` + coreUserURN + `"], "id": "u1",
			"emails": [{"value": "bjensen@example.com"}, {"value": "babs@jensen.org"}]}`},
		{name: "attributes=emails keeps whole elements", rt: user, attrs: "emails", in: userDoc,
			want: `{"schemas": ["` + coreUserURN + `"], "id": "u1", "emails": [
			{"value": "bjensen@example.com", "type": "work", "primary": true}, {"value": "babs@jensen.org", "type": "home"}]}`},
		{name: "attributes=emails.value,emails.primary", rt: user, attrs: "emails.value,emails.primary", in: userDoc,
			want: `{"schemas": ["` + coreUserURN + `"], "id": "u1",
			"emails": [{"value": "bjensen@example.com", "primary": true}, {"value": "babs@jensen.org"}]}`},
		{name: "attributes=emails.display empties every element: attribute removed", rt: user, attrs: "emails.display,userName", in: userDoc,
			want: `{"schemas": ["` + coreUserURN + `"], "id": "u1", "userName": "bjensen"}`},
		{name: "attributes=groups.$ref", rt: user, attrs: "groups.$REF", in: userDoc,
			want: `{"schemas": ["` + coreUserURN + `"], "id": "u1", "groups": [{"$ref": "https://example.com/v2/Groups/g1"}]}`},
		{name: "attributes with whitespace and empty items", rt: user, attrs: " userName ,\tname.givenName , ,", in: userDoc,
			want: `{"schemas": ["` + coreUserURN + `"], "id": "u1", "userName": "bjensen", "name": {"givenName": "Barbara"}}`},
		{name: "attributes=core URN-qualified sub-attribute", rt: user, attrs: coreUserURN + ":name.familyName", in: userDoc,
			want: `{"schemas": ["` + coreUserURN + `"], "id": "u1", "name": {"familyName": "Jensen"}}`},
		{name: "attributes=bare core URN: core attributes, no common or extension ones", rt: user, attrs: strings.ToUpper(coreUserURN), in: userDoc,
			want: `{"schemas": ["` + coreUserURN + `"], "id": "u1", "userName": "bjensen",
			"name": {"givenName": "Barbara", "familyName": "Jensen", "formatted": "Ms. Barbara J Jensen"},
			"displayName": "Babs", "active": true, "emails": [
			{"value": "bjensen@example.com", "type": "work", "primary": true}, {"value": "babs@jensen.org", "type": "home"}],
			"groups": [{"value": "g1", "$ref": "https://example.com/v2/Groups/g1", "display": "Admins"}]}`},

		// meta (common, complex).
		{name: "attributes=meta.version", rt: user, attrs: "meta.version", in: userDoc,
			want: `{"schemas": ["` + coreUserURN + `"], "id": "u1", "meta": {"version": "W/\"1\""}}`},
		{name: "attributes=core-URN-qualified meta.lastModified", rt: user, attrs: coreUserURN + ":Meta.LastModified", in: userDoc,
			want: `{"schemas": ["` + coreUserURN + `"], "id": "u1", "meta": {"lastModified": "2024-01-02T00:00:00Z"}}`},
		{name: "excludedAttributes=meta.created,meta.lastModified,externalId", rt: user, excl: "meta.created, meta.lastModified,externalId", in: userDoc,
			want: strings.NewReplacer(`"created": "2024-01-01T00:00:00Z", "lastModified": "2024-01-02T00:00:00Z",`, ``,
				`"externalId": "ext1",`, ``).Replace(userDefault)},

		// excludedAttributes on the core schema.
		{name: "excludedAttributes=emails", rt: user, excl: "emails", in: userDoc,
			want: strings.Replace(userDefault, `"emails": [
    {"value": "bjensen@example.com", "type": "work", "primary": true},
    {"value": "babs@jensen.org", "type": "home"}
  ],`, ``, 1)},
		{name: "excludedAttributes=emails.type removes it from every element", rt: user, excl: "Emails.Type", in: userDoc,
			want: strings.NewReplacer(`, "type": "work"`, ``, `, "type": "home"`, ``).Replace(userDefault)},
		{name: "excludedAttributes=id has no effect", rt: user, excl: "id", in: userDoc, want: userDefault, defaultResult: true},
		{name: "excludedAttributes=schemas has no effect", rt: user, excl: "schemas", in: userDoc, want: userDefault, defaultResult: true},
		{name: "excludedAttributes only separators is absent", rt: user, excl: " , ,", in: userDoc, want: userDefault, defaultResult: true},

		// Both parameters.
		{name: "attributes then excludedAttributes", rt: user, attrs: "userName,emails", excl: "emails.type,emails.primary", in: userDoc,
			want: `{"schemas": ["` + coreUserURN + `"], "id": "u1", "userName": "bjensen",
			"emails": [{"value": "bjensen@example.com"}, {"value": "babs@jensen.org"}]}`},
		{name: "exclusion wins over selection", rt: user, attrs: "userName,emails.value", excl: "emails", in: userDoc,
			want: `{"schemas": ["` + coreUserURN + `"], "id": "u1", "userName": "bjensen"}`},
		{name: "exclusion cannot remove id", rt: user, attrs: "id,userName", excl: "id", in: userDoc,
			want: `{"schemas": ["` + coreUserURN + `"], "id": "u1", "userName": "bjensen"}`},

		// Extensions.
		{name: "attributes=enterprise:manager.value", rt: user, attrs: entURN + ":manager.value", in: userDoc,
			want: `{"schemas": ["` + coreUserURN + `", "` + entURN + `"], "id": "u1", "` + entURN + `": {"manager": {"value": "m1"}}}`},
		{name: "attributes=enterprise:employeeNumber (URN in any case)", rt: user, attrs: strings.ToLower(entURN) + ":EMPLOYEENUMBER", in: userDoc,
			want: `{"schemas": ["` + coreUserURN + `", "` + entURN + `"], "id": "u1", "` + entURN + `": {"employeeNumber": "42"}}`},
		{name: "attributes=unqualified extension attribute", rt: user, attrs: "employeeNumber", in: userDoc,
			want: `{"schemas": ["` + coreUserURN + `", "` + entURN + `"], "id": "u1", "` + entURN + `": {"employeeNumber": "42"}}`},
		{name: "attributes=bare extension URN: the whole extension", rt: user, attrs: entURN, in: userDoc,
			want: `{"schemas": ["` + coreUserURN + `", "` + entURN + `"], "id": "u1", "` + entURN + `": {
			"employeeNumber": "42", "department": "R&D",
			"manager": {"value": "m1", "$ref": "https://example.com/v2/Users/m1", "displayName": "Boss"}}}`},
		{name: "excludedAttributes=bare extension URN", rt: user, excl: entURN, in: userDoc,
			want: strings.Replace(strings.Replace(userDefault, `"`+entURN+`": {
    "employeeNumber": "42", "department": "R&D",
    "manager": {"value": "m1", "$ref": "https://example.com/v2/Users/m1", "displayName": "Boss"}
  },`, ``, 1), `, "`+entURN+`"`, ``, 1)},
		{name: "excluding every attribute of an extension removes the object and its URN", rt: user,
			excl: entURN + ":employeeNumber," + entURN + ":department,manager", in: userDoc,
			want: strings.Replace(strings.Replace(userDefault, `"`+entURN+`": {
    "employeeNumber": "42", "department": "R&D",
    "manager": {"value": "m1", "$ref": "https://example.com/v2/Users/m1", "displayName": "Boss"}
  },`, ``, 1), `, "`+entURN+`"`, ``, 1)},
		{name: "excludedAttributes=multi-valued simple extension attribute", rt: user, excl: acmeURN + ":tags", in: userDoc,
			want: strings.Replace(userDefault, `, "tags": ["a", "b"]`, ``, 1)},
		{name: "extension key and schemas URN in another case", rt: user, attrs: "userName",
			in: `{"schemas": ["` + coreUserURN + `", "` + strings.ToUpper(entURN) + `"], "id": "u1", "userName": "b",
			"` + strings.ToUpper(entURN) + `": {"EmployeeNumber": "42"}}`,
			want: `{"schemas": ["` + coreUserURN + `"], "id": "u1", "userName": "b"}`},
		{name: "extension URN listed in schemas without an object stays", rt: user, attrs: "userName",
			in:   `{"schemas": ["` + coreUserURN + `", "` + entURN + `"], "id": "u1", "userName": "b"}`,
			want: `{"schemas": ["` + coreUserURN + `", "` + entURN + `"], "id": "u1", "userName": "b"}`},

		// Keys written in another case are matched and kept as written.
		{name: "resource keys matched case-insensitively, written back as they are", rt: user, attrs: "username,emails.value",
			in: `{"Schemas": ["` + coreUserURN + `"], "ID": "u1", "UserName": "b", "NAME": {"givenName": "x"},
			"EMAILS": [{"Value": "a@b.c", "TYPE": "work"}], "PassWord": "p"}`,
			want: `{"Schemas": ["` + coreUserURN + `"], "ID": "u1", "UserName": "b", "EMAILS": [{"Value": "a@b.c"}]}`},
		{name: "password in any case is removed by default", rt: user,
			in:            `{"schemas": ["` + coreUserURN + `"], "id": "u1", "PASSWORD": "p"}`,
			want:          `{"schemas": ["` + coreUserURN + `"], "id": "u1"}`,
			defaultResult: true},

		// Keys the schema does not define.
		{name: "unknown keys kept without attributes", rt: user, excl: "emails",
			in:   `{"schemas": ["` + coreUserURN + `"], "id": "u1", "x-extra": 1, "name": {"givenName": "g", "x-sub": 2}}`,
			want: `{"schemas": ["` + coreUserURN + `"], "id": "u1", "x-extra": 1, "name": {"givenName": "g", "x-sub": 2}}`},
		{name: "unknown keys dropped with attributes", rt: user, attrs: "name.givenName",
			in:   `{"schemas": ["` + coreUserURN + `"], "id": "u1", "x-extra": 1, "name": {"givenName": "g", "x-sub": 2}}`,
			want: `{"schemas": ["` + coreUserURN + `"], "id": "u1", "name": {"givenName": "g"}}`},
		{name: "unknown keys kept inside a wholly selected complex attribute", rt: user, attrs: "name",
			in:   `{"schemas": ["` + coreUserURN + `"], "id": "u1", "x-extra": 1, "name": {"givenName": "g", "x-sub": 2}}`,
			want: `{"schemas": ["` + coreUserURN + `"], "id": "u1", "name": {"givenName": "g", "x-sub": 2}}`},
		{name: "malformed shapes are left alone", rt: user, attrs: "name.givenName,emails.value",
			in:   `{"schemas": ["` + coreUserURN + `"], "id": "u1", "name": "not an object", "emails": ["x", null, {"value": "v", "type": "t"}]}`,
			want: `{"schemas": ["` + coreUserURN + `"], "id": "u1", "name": "not an object", "emails": ["x", null, {"value": "v"}]}`},
		{name: "values already empty are left alone", rt: user, excl: "emails.type",
			in:   `{"schemas": ["` + coreUserURN + `"], "id": "u1", "name": {}, "emails": [], "` + entURN + `": {}}`,
			want: `{"schemas": ["` + coreUserURN + `"], "id": "u1", "name": {}, "emails": [], "` + entURN + `": {}}`},

		// Group.
		{name: "group: excludedAttributes=members", rt: group, excl: "members", in: groupDoc,
			want: `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "id": "g1", "displayName": "Admins",
			"meta": {"resourceType": "Group", "version": "W/\"3\""}}`},
		{name: "group: attributes=members.value", rt: group, attrs: "Members.Value", in: groupDoc,
			want: `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "id": "g1",
			"members": [{"value": "u1"}, {"value": "u2"}]}`},
		{name: "group: attributes=displayName", rt: group, attrs: "displayName", in: groupDoc,
			want: `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "id": "g1", "displayName": "Admins"}`},

		// returned "request", "always" and "never" on attributes and sub-attributes.
		{name: "widget: defaults drop never and request, keep always subs", rt: widget, in: widgetDoc, defaultResult: true,
			want: `{"schemas": ["` + widgetURN + `", "` + auditURN + `"], "id": "w1", "label": "L",
			"cfg": {"key": "k", "note": "n"}, "parts": [{"pid": "p1", "size": 1}, {"pid": "p2"}],
			"` + auditURN + `": {"owner": "o"}}`},
		{name: "widget: request attribute returned when listed", rt: widget, attrs: "token", in: widgetDoc,
			want: `{"schemas": ["` + widgetURN + `"], "id": "w1", "token": "tok"}`},
		{name: "widget: request attribute not returned by exclusion alone", rt: widget, excl: "label", in: widgetDoc,
			want: `{"schemas": ["` + widgetURN + `", "` + auditURN + `"], "id": "w1",
			"cfg": {"key": "k", "note": "n"}, "parts": [{"pid": "p1", "size": 1}, {"pid": "p2"}],
			"` + auditURN + `": {"owner": "o"}}`},
		{name: "widget: listed then excluded request attribute", rt: widget, attrs: "token,label", excl: "TOKEN", in: widgetDoc,
			want: `{"schemas": ["` + widgetURN + `"], "id": "w1", "label": "L"}`},
		{name: "widget: complex attribute keeps default and always subs, not request or never", rt: widget, attrs: "cfg", in: widgetDoc,
			want: `{"schemas": ["` + widgetURN + `"], "id": "w1", "cfg": {"key": "k", "note": "n"}}`},
		{name: "widget: request sub returned when listed, with the always sub", rt: widget, attrs: "cfg.extra", in: widgetDoc,
			want: `{"schemas": ["` + widgetURN + `"], "id": "w1", "cfg": {"key": "k", "extra": "x"}}`},
		{name: "widget: listing a default sub keeps the always sub", rt: widget, attrs: "cfg.note", in: widgetDoc,
			want: `{"schemas": ["` + widgetURN + `"], "id": "w1", "cfg": {"key": "k", "note": "n"}}`},
		{name: "widget: never attribute and sub not returned even when listed", rt: widget, attrs: "secret,cfg.hidden", in: widgetDoc,
			want: `{"schemas": ["` + widgetURN + `"], "id": "w1", "cfg": {"key": "k"}}`},
		{name: "widget: excluding an always sub has no effect", rt: widget, excl: "cfg.key,parts.pid", in: widgetDoc, defaultResult: true,
			want: `{"schemas": ["` + widgetURN + `", "` + auditURN + `"], "id": "w1", "label": "L",
			"cfg": {"key": "k", "note": "n"}, "parts": [{"pid": "p1", "size": 1}, {"pid": "p2"}],
			"` + auditURN + `": {"owner": "o"}}`},
		{name: "widget: multi-valued request sub; element left empty is removed", rt: widget, attrs: "parts.code", excl: "", in: widgetDoc,
			want: `{"schemas": ["` + widgetURN + `"], "id": "w1",
			"parts": [{"pid": "p1", "code": "c1"}, {"pid": "p2", "code": "c2"}, {"code": "c3"}]}`},
		{name: "widget: multi-valued default sub", rt: widget, attrs: "parts.size", in: widgetDoc,
			want: `{"schemas": ["` + widgetURN + `"], "id": "w1", "parts": [{"pid": "p1", "size": 1}, {"pid": "p2"}]}`},
		{name: "widget: bare extension URN does not name its request attribute", rt: widget, attrs: auditURN, in: widgetDoc,
			want: `{"schemas": ["` + widgetURN + `", "` + auditURN + `"], "id": "w1", "` + auditURN + `": {"owner": "o"}}`},
		{name: "widget: extension request attribute listed", rt: widget, attrs: auditURN + ":trail", in: widgetDoc,
			want: `{"schemas": ["` + widgetURN + `", "` + auditURN + `"], "id": "w1", "` + auditURN + `": {"trail": "t"}}`},
		{name: "widget: extension left with only never/request attributes is removed", rt: widget, excl: "owner",
			in: widgetDoc,
			want: `{"schemas": ["` + widgetURN + `"], "id": "w1", "label": "L",
			"cfg": {"key": "k", "note": "n"}, "parts": [{"pid": "p1", "size": 1}, {"pid": "p2"}]}`},
		{name: "widget: extension holding only a never attribute is removed by default", rt: widget, defaultResult: true,
			in:   `{"schemas": ["` + widgetURN + `", "` + auditURN + `"], "id": "w1", "` + auditURN + `": {"pin": "1"}}`,
			want: `{"schemas": ["` + widgetURN + `"], "id": "w1"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := New(tc.rt, tc.attrs, tc.excl)
			if err != nil {
				t.Fatalf("New(%q, %q): %v", tc.attrs, tc.excl, err)
			}
			if got := p.Default(); got != tc.defaultResult {
				t.Errorf("Default() = %v, want %v", got, tc.defaultResult)
			}
			res := decode(t, tc.in)
			p.Apply(res)
			if got, want := canon(t, res), canon(t, decode(t, tc.want)); got != want {
				t.Errorf("Apply(attributes=%q, excludedAttributes=%q):\ngot  %s\nwant %s", tc.attrs, tc.excl, got, want)
			}
			// ApplyJSON gives the same result.
			out, err := p.ApplyJSON([]byte(tc.in))
			if err != nil {
				t.Fatalf("ApplyJSON: %v", err)
			}
			if got, want := canon(t, decode(t, string(out))), canon(t, decode(t, tc.want)); got != want {
				t.Errorf("ApplyJSON:\ngot  %s\nwant %s", got, want)
			}
		})
	}
}

func TestNewErrors(t *testing.T) {
	user, group := userRT(t), groupRT(t)
	tests := []struct {
		rt          *schema.ResourceType
		attrs, excl string
		detail      []string // substrings of the detail
	}{
		{user, "foo", "", []string{"attributes", `"foo"`, "resource type User"}},
		{user, "", "foo", []string{"excludedAttributes", `"foo"`}},
		{user, "userName, bogus ,emails", "", []string{`"bogus"`}},
		{user, "name.foo", "", []string{`"name.foo"`, `sub-attribute "foo"`}},
		{user, "userName.x", "", []string{`"userName.x"`, "not complex"}},
		{user, "name.givenName.x", "", []string{"too many"}},
		{user, "name.", "", []string{"empty"}},
		{user, ".givenName", "", []string{"empty"}},
		{user, "schemas.x", "", []string{`"schemas.x"`}},
		{user, entURN + ":foo", "", []string{`"` + entURN + `:foo"`, "schema " + entURN}},
		{user, entURN + ":manager.foo", "", []string{`sub-attribute "foo"`}},
		{user, entURN + "x", "", []string{"no schema of resource type User", entURN}},
		{user, "urn:unknown:Schema:foo", "", []string{"no schema of resource type User"}},
		{user, "", coreUserURN + ":employeeNumber", []string{"excludedAttributes", "schema " + coreUserURN}},
		{user, "urn:", "", []string{"no schema"}},
		{group, "userName", "", []string{"resource type Group"}},
		{group, entURN, "", []string{"no schema of resource type Group"}},
		{user, "userName", "password,nope", []string{"excludedAttributes", `"nope"`}},
		{user, strings.Repeat("x", 5000), "", []string{"..."}},
	}
	for _, tc := range tests {
		p, err := New(tc.rt, tc.attrs, tc.excl)
		if err == nil {
			t.Errorf("New(%s, %q, %q) = %v, want an error", tc.rt.Name, tc.attrs, tc.excl, p)
			continue
		}
		e, ok := err.(*scimerr.Error)
		if !ok {
			t.Errorf("New(%q, %q): error %T %v, want *scimerr.Error", tc.attrs, tc.excl, err, err)
			continue
		}
		if e.Status != http.StatusBadRequest || e.ScimType != scimerr.InvalidValue {
			t.Errorf("New(%q, %q): %d %s, want 400 invalidValue", tc.attrs, tc.excl, e.Status, e.ScimType)
		}
		for _, s := range tc.detail {
			if !strings.Contains(e.Detail, s) {
				t.Errorf("New(%q, %q): detail %q does not contain %q", tc.attrs, tc.excl, e.Detail, s)
			}
		}
		if len(e.Detail) > 400 {
			t.Errorf("detail is %d bytes long", len(e.Detail))
		}
	}
}

// TestValueFilters: attributes and excludedAttributes items with a value
// filter (Microsoft's collection sends attributes=emails[type eq "work"]).
func TestValueFilters(t *testing.T) {
	user := userRT(t)
	work := `{"value": "bjensen@example.com", "type": "work", "primary": true}`
	home := `{"value": "babs@jensen.org", "type": "home"}`
	only := func(extra string) string {
		return `{"schemas": ["` + coreUserURN + `"], "id": "u1"` + extra + `}`
	}
	tests := []struct {
		name, attrs, excl, want string
	}{
		{"only the work e-mail", `emails[type eq "work"]`, "", only(`, "emails": [` + work + `]`)},
		{"filter on value, any case", `EMAILS[VALUE EQ "BABS@JENSEN.ORG"]`, "", only(`, "emails": [` + home + `]`)},
		{"no value matches: attribute gone", `emails[value eq "nobody@x"]`, "", only("")},
		{"filtered sub-attribute", `emails[type eq "work"].value`, "", only(`, "emails": [{"value": "bjensen@example.com"}]`)},
		{"two filters: either", `emails[type eq "work"],emails[type eq "home"].type`, "", only(`, "emails": [` + work + `, ` + home + `]`)},
		{"comma inside the filter", `emails[value co ","],userName`, "", only(`, "userName": "bjensen"`)},
		{"an unfiltered item selects every value", `emails[type eq "work"],emails`, "", only(`, "emails": [` + work + `, ` + home + `]`)},
		// The sub-attributes shown are the union over the items naming
		// the attribute, for every value kept.
		{"an unfiltered sub-attribute selects every value", `emails[type eq "work"],emails.type`, "",
			only(`, "emails": [` + work + `, ` + home + `]`)},
		{"sub-attributes are a union", `emails[type eq "work"].value,emails[type eq "home"].type`, "",
			only(`, "emails": [{"value": "bjensen@example.com", "type": "work"}, {"value": "babs@jensen.org", "type": "home"}]`)},
		{"with other attributes", `userName,emails[primary eq "True"]`, "", only(`, "userName": "bjensen", "emails": [` + work + `]`)},
		{"not", `emails[not (type eq "work")]`, "", only(`, "emails": [` + home + `]`)},
		{"excluded: drops matching values", "userName,emails", `emails[type eq "home"]`,
			only(`, "userName": "bjensen", "emails": [` + work + `]`)},
		{"excluded sub-attribute of matching values", "emails", `emails[type eq "home"].type`,
			only(`, "emails": [` + work + `, {"value": "babs@jensen.org"}]`)},
		{"excluded: every value", "userName,emails", `emails[value pr]`, only(`, "userName": "bjensen"`)},
		{"multi-valued string: value names the element", acmeURN + `:tags[value eq "B"]`, "",
			`{"schemas": ["` + coreUserURN + `", "` + acmeURN + `"], "id": "u1", "` + acmeURN + `": {"tags": ["b"]}}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := New(user, tc.attrs, tc.excl)
			if err != nil {
				t.Fatalf("New(%q, %q): %v", tc.attrs, tc.excl, err)
			}
			if p.Default() {
				t.Error("Default() with a value filter")
			}
			res := decode(t, userDoc)
			p.Apply(res)
			if got, want := canon(t, res), canon(t, decode(t, tc.want)); got != want {
				t.Errorf("attributes=%q excludedAttributes=%q:\ngot  %s\nwant %s", tc.attrs, tc.excl, got, want)
			}
		})
	}
	// Only exclusions with a value filter still change the default.
	p, err := New(user, "", `emails[type eq "home"]`)
	if err != nil || p.Default() {
		t.Fatalf("excludedAttributes with a value filter: %v, Default %v", err, err == nil && p.Default())
	}
	res := decode(t, userDoc)
	p.Apply(res)
	if got := fmt.Sprint(res["emails"]); strings.Contains(got, "home") || !strings.Contains(got, "work") {
		t.Errorf("excludedAttributes=emails[type eq \"home\"]: emails %s", got)
	}
}

func TestValueFilterErrors(t *testing.T) {
	user := userRT(t)
	for _, tc := range []struct {
		attrs, excl string
		scimType    scimerr.Type
		detail      string
	}{
		{`emails[type eq "work"`, "", scimerr.InvalidFilter, "to close"},
		{`emails[nope eq "x"]`, "", scimerr.InvalidFilter, `no sub-attribute "nope"`},
		{`emails[primary gt true]`, "", scimerr.InvalidFilter, "not supported for boolean"},
		{"", `emails[type eq 1 or]`, scimerr.InvalidFilter, "excludedAttributes"},
		{`userName[value eq "x"]`, "", scimerr.InvalidValue, "not multi-valued"},
		{`name[givenName eq "x"]`, "", scimerr.InvalidValue, "not multi-valued"},
		{`emails.value[value eq "x"]`, "", scimerr.InvalidValue, "not to the sub-attribute"},
		{`emails[type eq "work"].nope`, "", scimerr.InvalidValue, `no sub-attribute "nope"`},
		{`nope[type eq "work"]`, "", scimerr.InvalidValue, `"nope"`},
		{`emails]`, "", scimerr.InvalidFilter, "attributes"},
		{entURN + `[value eq "x"]`, "", scimerr.InvalidValue, ""},
	} {
		_, err := New(user, tc.attrs, tc.excl)
		e := scimerr.As(err)
		if e == nil || e.Status != http.StatusBadRequest || e.ScimType != tc.scimType || !strings.Contains(e.Detail, tc.detail) {
			t.Errorf("New(%q, %q): %v, want 400 %s mentioning %q", tc.attrs, tc.excl, err, tc.scimType, tc.detail)
		}
	}
}

func TestWants(t *testing.T) {
	user, group, widget := userRT(t), groupRT(t), widgetRT(t)
	type ask struct {
		urn, name string
		want      bool
	}
	tests := []struct {
		rt          *schema.ResourceType
		attrs, excl string
		asks        []ask
	}{
		{group, "", "members", []ask{{"", "members", false}, {"", "MEMBERS", false}, {"", "displayName", true}, {"", "id", true}, {"", "meta", true}}},
		{group, "", "", []ask{{"", "members", true}, {"urn:ietf:params:scim:schemas:core:2.0:Group", "members", true}}},
		{group, "displayName", "", []ask{{"", "members", false}, {"", "displayName", true}, {"", "schemas", true}}},
		{group, "members.value", "", []ask{{"", "members", true}}},
		{group, "", "members.display", []ask{{"", "members", true}}},
		{user, "", "", []ask{
			{"", "password", false}, {"", "userName", true}, {entURN, "", true}, {entURN, "manager", true},
			{"", "employeeNumber", true}, {"", "x-unknown", true}, {"urn:unknown", "", true}, {coreUserURN, "meta", true},
		}},
		{user, "userName", "", []ask{
			{"", "id", true}, {"", "schemas", true}, {"", "userName", true}, {"", "emails", false}, {"", "meta", false},
			{entURN, "", false}, {entURN, "employeeNumber", false}, {"", "x-unknown", false}, {coreUserURN, "", true},
			{coreUserURN, "emails", false}, {coreUserURN, "id", true}, {"urn:unknown", "", false},
		}},
		{user, entURN + ":manager.value", "", []ask{
			{strings.ToUpper(entURN), "", true}, {entURN, "Manager", true}, {entURN, "employeeNumber", false},
			{"", "manager", true}, {entURN, "x-unknown", false}, {acmeURN, "", false},
		}},
		{user, entURN, "", []ask{{entURN, "", true}, {entURN, "x-unknown", true}, {coreUserURN, "", false}}},
		{user, "", entURN, []ask{{entURN, "", false}, {entURN, "department", false}, {entURN, "x-unknown", false}, {acmeURN, "", true}}},
		{widget, "", "", []ask{{"", "token", false}, {"", "secret", false}, {"", "cfg", true}, {auditURN, "trail", false}, {auditURN, "", true}}},
		{widget, "token", "", []ask{{"", "token", true}, {"", "label", false}, {auditURN, "", false}}},
		{widget, "", "owner", []ask{{auditURN, "", false}, {auditURN, "owner", false}}},
		{widget, auditURN + ":trail", "", []ask{{auditURN, "", true}, {auditURN, "trail", true}, {auditURN, "owner", false}}},
	}
	for _, tc := range tests {
		p, err := New(tc.rt, tc.attrs, tc.excl)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range tc.asks {
			if got := p.Wants(a.urn, a.name); got != a.want {
				t.Errorf("%s attributes=%q excludedAttributes=%q: Wants(%q, %q) = %v, want %v",
					tc.rt.Name, tc.attrs, tc.excl, a.urn, a.name, got, a.want)
			}
		}
	}
}

// Wants agrees with Apply: an attribute is wanted exactly when it survives.
func TestWantsMatchesApply(t *testing.T) {
	user := userRT(t)
	params := [][2]string{
		{"", ""}, {"userName", ""}, {"", "emails"}, {"emails.value", ""}, {entURN, ""}, {"", entURN},
		{entURN + ":manager.value", ""}, {"meta.version,password", "meta"}, {"USERNAME,Name.GivenName", "name"},
	}
	for _, pr := range params {
		p, err := New(user, pr[0], pr[1])
		if err != nil {
			t.Fatal(err)
		}
		res := decode(t, userDoc)
		p.Apply(res)
		for _, a := range append(append([]*schema.Attribute{}, schema.CommonAttributes()...), user.Core.Attributes...) {
			_, got := res[a.Name]
			// Only attributes userDoc holds can be checked against Apply.
			if _, held := decode(t, userDoc)[a.Name]; held && p.Wants("", a.Name) != got {
				t.Errorf("%v: Wants(%q) = %v but Apply kept it: %v", pr, a.Name, p.Wants("", a.Name), got)
			}
		}
		for _, urn := range []string{entURN, acmeURN} {
			_, got := res[urn]
			if p.Wants(urn, "") != got {
				t.Errorf("%v: Wants(%q, \"\") = %v but Apply kept it: %v", pr, urn, p.Wants(urn, ""), got)
			}
		}
	}
}

func TestDefault(t *testing.T) {
	user, group := userRT(t), groupRT(t)
	tests := []struct {
		rt          *schema.ResourceType
		attrs, excl string
		want        bool
	}{
		{user, "", "", true},
		{user, " ", ",", true},
		{user, "", "id", true},
		{user, "", "password,schemas,ID", true},
		{user, "userName", "", false},
		{user, "schemas", "", false},
		{user, "", "emails", false},
		{user, "", "name.givenName", false},
		{group, "", "members", false},
		{group, "", "id", true},
	}
	for _, tc := range tests {
		p, err := New(tc.rt, tc.attrs, tc.excl)
		if err != nil {
			t.Fatal(err)
		}
		if p.Default() != tc.want {
			t.Errorf("New(%s, %q, %q).Default() = %v, want %v", tc.rt.Name, tc.attrs, tc.excl, p.Default(), tc.want)
		}
	}
	// The promise Default makes: a no-op without never/request attributes.
	p, _ := New(user, "", "")
	doc := decode(t, userDefault)
	before := canon(t, doc)
	p.Apply(doc)
	if after := canon(t, doc); after != before {
		t.Errorf("default Apply changed a resource without never/request attributes:\n%s\n%s", before, after)
	}
}

func TestApplyJSON(t *testing.T) {
	user := userRT(t)
	p, err := New(user, "userName,urn:example:params:scim:schemas:extension:acme:2.0:User:fte", "")
	if err != nil {
		t.Fatal(err)
	}
	in := `{"schemas":["` + coreUserURN + `","` + acmeURN + `"],"id":"a&b<c>","userName":"x","password":"p",
	"` + acmeURN + `":{"fte":0.10000000000000000000001,"badgeNumber":"b"}}`
	out, err := p.ApplyJSON([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"id":"a&b<c>","schemas":["` + coreUserURN + `","` + acmeURN + `"],"urn:example:params:scim:schemas:extension:acme:2.0:User":{"fte":0.10000000000000000000001},"userName":"x"}`
	if string(out) != want {
		t.Errorf("ApplyJSON:\ngot  %s\nwant %s", out, want)
	}
	for _, bad := range []string{``, `null`, `[]`, `"x"`, `{"id":`, `{"id":"1"} {"id":"2"}`, `{"id":"1"}}`} {
		if out, err := p.ApplyJSON([]byte(bad)); err == nil {
			t.Errorf("ApplyJSON(%q) = %s, want an error", bad, out)
		}
	}
	if out, err := p.ApplyJSON([]byte(" {\"id\":\"1\"} \n")); err != nil || string(out) != `{"id":"1"}` {
		t.Errorf("ApplyJSON with surrounding whitespace = %s, %v", out, err)
	}
}

// Apply works on maps decoded without UseNumber and with []string schemas.
func TestApplyPlainValues(t *testing.T) {
	p, err := New(userRT(t), "userName", "")
	if err != nil {
		t.Fatal(err)
	}
	var res map[string]any
	if err := json.Unmarshal([]byte(userDoc), &res); err != nil {
		t.Fatal(err)
	}
	p.Apply(res)
	if !reflect.DeepEqual(res, map[string]any{"schemas": []any{coreUserURN}, "id": "u1", "userName": "bjensen"}) {
		t.Errorf("got %v", res)
	}
	res = map[string]any{"schemas": []string{coreUserURN, entURN}, "id": "u1", entURN: map[string]any{"employeeNumber": 1.0}}
	p.Apply(res)
	if !reflect.DeepEqual(res, map[string]any{"schemas": []string{coreUserURN}, "id": "u1"}) {
		t.Errorf("got %v", res)
	}
	p.Apply(nil) // no panic
}

// Projections and the per-resource-type index are shared between goroutines.
func TestConcurrent(t *testing.T) {
	// A resource type no other test has used, so the index is built here,
	// by several goroutines at once.
	fresh, err := schema.Load(widgetFS, "schemas")
	if err != nil {
		t.Fatal(err)
	}
	rt := fresh.ResourceType("Widget")
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			p, err := New(rt, []string{"", "label", "cfg.note", auditURN}[i%4], "")
			if err != nil {
				t.Error(err)
				return
			}
			for range 100 {
				res := decode(t, widgetDoc)
				p.Apply(res)
				if _, ok := res["secret"]; ok {
					t.Error("secret returned")
				}
			}
		})
	}
	wg.Wait()
}

func FuzzNew(f *testing.F) {
	for _, s := range []string{
		"", "userName", "USERNAME", "name.givenName", "emails.value", "password", "id", "schemas", "meta.version",
		entURN, entURN + ":manager.value", entURN + ":employeeNumber", coreUserURN, coreUserURN + ":meta.created",
		" userName , ,emails ", "name.", ".", ",", "urn:", "urn:x:y", `emails[type eq "work"]`, "a.b.c", "\x00", "é",
		acmeURN + ":tags", "groups.$ref",
	} {
		f.Add(s, "")
		f.Add("", s)
	}
	f.Add("userName,emails", "emails.type")
	f.Add(`emails[type eq "work"].value,userName`, `emails[value co ","]`)
	f.Add(`emails[type eq "work" or primary eq true]`, `emails[type eq "home"].type`)
	f.Add(acmeURN+`:tags[value eq "a"]`, "")
	user := userRT(f)
	f.Fuzz(func(t *testing.T, attrs, excl string) {
		p, err := New(user, attrs, excl)
		if err != nil {
			e := scimerr.As(err)
			if e == nil || e.Status != http.StatusBadRequest || (e.ScimType != scimerr.InvalidValue && e.ScimType != scimerr.InvalidFilter) || e.Detail == "" {
				t.Fatalf("New(%q, %q): error %#v, want a 400 invalidValue or invalidFilter *scimerr.Error", attrs, excl, err)
			}
			return
		}
		blank := true
		for item := range strings.SplitSeq(attrs, ",") {
			blank = blank && strings.TrimSpace(item) == ""
		}
		if p.Default() && !blank {
			t.Fatalf("New(%q, %q).Default() with attributes given", attrs, excl)
		}
		res := decode(t, userDoc)
		p.Apply(res)
		if _, ok := res["password"]; ok {
			t.Fatalf("attributes=%q excludedAttributes=%q: password returned", attrs, excl)
		}
		if res["id"] != "u1" || res["schemas"] == nil {
			t.Fatalf("attributes=%q excludedAttributes=%q: id or schemas removed: %v", attrs, excl, res)
		}
		// Extension objects and their URNs in schemas go together.
		schemas, _ := res["schemas"].([]any)
		for _, urn := range []string{entURN, acmeURN} {
			_, obj := res[urn]
			listed := false
			for _, s := range schemas {
				listed = listed || s == urn
			}
			if obj != listed {
				t.Fatalf("attributes=%q excludedAttributes=%q: extension %s object present %v, in schemas %v", attrs, excl, urn, obj, listed)
			}
		}
		for _, k := range []string{entURN, acmeURN} {
			_ = p.Wants(k, "")
		}
		if _, err := p.ApplyJSON([]byte(userDoc)); err != nil {
			t.Fatal(err)
		}
	})
}

func BenchmarkNew(b *testing.B) {
	group := groupRT(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := New(group, "", "members"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkApply projects a page of 1000 users.
func BenchmarkApply(b *testing.B) {
	user := userRT(b)
	for _, params := range [][2]string{{"", ""}, {"userName,emails.value," + entURN + ":manager.value", ""}, {"", "groups,meta.location"}} {
		p, err := New(user, params[0], params[1])
		if err != nil {
			b.Fatal(err)
		}
		page := make([]map[string]any, 1000)
		b.Run(params[0]+"|"+params[1], func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				for i := range page {
					page[i] = decode(b, userDoc)
				}
				b.StartTimer()
				for _, r := range page {
					p.Apply(r)
				}
			}
		})
	}
}
