package valuefilter

import (
	"encoding/json"
	"errors"
	"github.com/scimforge/scimforge/internal/fixture"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/scimforge/scimforge/scim/filter"
	"github.com/scimforge/scimforge/scim/schema"
)

// thingSchema has one multi-valued complex attribute with a sub-attribute
// of every simple type, and a multi-valued string attribute.
const thingSchema = `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Schema"],
 "id":"urn:example:Thing","name":"Thing","attributes":[
 {"name":"things","type":"complex","multiValued":true,"subAttributes":[
   {"name":"value","type":"string"},
   {"name":"code","type":"string","caseExact":true},
   {"name":"ref","type":"reference","referenceTypes":["external"]},
   {"name":"primary","type":"boolean"},
   {"name":"n","type":"integer"},
   {"name":"x","type":"decimal"},
   {"name":"at","type":"dateTime"},
   {"name":"bin","type":"binary","caseExact":true}]},
 {"name":"tags","type":"string","multiValued":true},
 {"name":"label","type":"string"}]}`

func loadSet(t testing.TB, fsys fstest.MapFS) *schema.Set {
	t.Helper()
	set, err := schema.Load(fsys, "s")
	if err != nil {
		t.Fatal(err)
	}
	return set
}

func thingAttrs(t testing.TB) (things, tags, label *schema.Attribute) {
	t.Helper()
	set := loadSet(t, fstest.MapFS{
		"s/thing.json": {Data: []byte(thingSchema)},
		"s/rt.json":    {Data: []byte(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],"name":"Thing","endpoint":"/Things","schema":"urn:example:Thing"}`)},
		"s/spc.json":   {Data: []byte(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"]}`)},
	})
	s := set.Schema("urn:example:Thing")
	return s.Attr("things"), s.Attr("tags"), s.Attr("label")
}

func userAttr(t testing.TB, name string) *schema.Attribute {
	t.Helper()
	set, err := schema.Load(fixture.FS, fixture.Root)
	if err != nil {
		t.Fatal(err)
	}
	a := set.ResourceType("User").Lookup("", name, "")
	if a == nil {
		t.Fatalf("User has no %s", name)
	}
	return a
}

// decode decodes a JSON object the way the server decodes documents
// (numbers as json.Number).
func decode(t testing.TB, s string) map[string]any {
	t.Helper()
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		t.Fatalf("%s: %v", s, err)
	}
	return m
}

func mustParse(t testing.TB, s string) filter.Expr {
	t.Helper()
	e, err := filter.Parse(s)
	if err != nil {
		t.Fatalf("Parse(%q): %v", s, err)
	}
	return e
}

func TestMatchEmails(t *testing.T) {
	emails := userAttr(t, "emails")
	work := decode(t, `{"value":"Bjensen@Example.com","type":"work","primary":true}`)
	home := decode(t, `{"value":"babs@jensen.org","type":"Home"}`)
	cases := []struct {
		filter     string
		work, home bool
	}{
		{`type eq "work"`, true, false},
		{`TYPE EQ "WORK"`, true, false}, // names, operators and values ignore case
		{`Type eq "home"`, false, true}, // value stored as "Home"
		{`value eq "bjensen@example.com"`, true, false},
		{`value co "@example."`, true, false},
		{`value sw "BABS"`, false, true},
		{`value ew ".ORG"`, false, true},
		{`value gt "b"`, true, true},
		{`value gt "bb"`, true, false},
		{`value lt "bb"`, false, true},
		{`value ge "babs@jensen.org"`, true, true},
		{`value le "babs@jensen.org"`, false, true},
		{`primary eq true`, true, false},
		{`primary eq "True"`, true, false}, // Entra sends booleans as strings
		{`primary eq False`, false, false}, // home has no primary: absent is not false
		{`primary ne true`, false, true},   // ne holds for an absent value
		{`primary pr`, true, false},
		{`primary eq null`, false, true},
		{`primary ne null`, true, false},
		{`display pr`, false, false},
		{`display ne "x"`, true, true},
		{`not (type eq "work")`, false, true},
		{`type eq "work" and primary eq true`, true, false},
		{`type eq "work" or value ew "org"`, true, true},
		{`not (type eq "work" or type eq "home")`, false, false},
		{`(type eq "home") and not (value co "example")`, false, true},
	}
	for _, c := range cases {
		e := mustParse(t, c.filter)
		for _, el := range []struct {
			name string
			v    map[string]any
			want bool
		}{{"work", work, c.work}, {"home", home, c.home}} {
			got, err := Match(e, el.v, emails)
			if err != nil {
				t.Errorf("%s on %s: %v", c.filter, el.name, err)
				continue
			}
			if got != el.want {
				t.Errorf("%s on %s = %v, want %v", c.filter, el.name, got, el.want)
			}
		}
	}
}

// TestMatchTypes covers every simple type of a sub-attribute.
func TestMatchTypes(t *testing.T) {
	things, _, _ := thingAttrs(t)
	el := decode(t, `{"Value":"Ülrich","code":"AbC","ref":"https://X.example/a","Primary":"True",
		"n":3,"x":4.5,"at":"2015-10-10T14:38:21.8617979-07:00","bin":"QUJD"}`)
	cases := []struct {
		filter string
		want   bool
	}{
		{`value eq "ülrich"`, true}, // folded beyond ASCII
		{`value eq "ÜLRICH"`, true},
		{`code eq "abc"`, false}, // caseExact
		{`code eq "AbC"`, true},
		{`code co "bC"`, true},
		{`code sw "ab"`, false},
		{`ref eq "https://x.example/A"`, true}, // reference, caseExact false
		{`primary eq true`, true},              // "True" in the document
		{`primary ne false`, true},
		{`n eq 3`, true},
		{`n eq 3.0`, true},
		{`n eq "3"`, true}, // a quoted number for a number attribute
		{`n gt 2`, true},
		{`n ge 3`, true},
		{`n lt 3`, false},
		{`n le 3e0`, true},
		{`x eq 4.5`, true},
		{`x gt 4.49`, true},
		{`x lt 4.5`, false},
		{`x ge 45e-1`, true},
		{`at eq "2015-10-10T21:38:21.8617979Z"`, true}, // same instant in UTC
		{`at gt "2015-10-10T14:38:21.8617978-07:00"`, true},
		{`at gt "2015-10-10T14:38:21.8617979-07:00"`, false},
		{`at ge "2015-10-10T14:38:21.8617979-07:00"`, true},
		{`at lt "2015-10-10T22:00:00+00:00"`, true},
		{`at lt "2015-10-10T21:00:00"`, false},             // no zone: UTC
		{`at gt 2015-10-10T14:38:21.8617979-06:00`, true},  // unquoted, as Microsoft sends it; 20:38Z
		{`at gt 2015-10-10T14:38:21.8617979-08:00`, false}, // 22:38Z
		{`bin eq "QUJD"`, true},
		{`bin eq "qujd"`, false}, // binary compares exactly
		{`bin ne "qujd"`, true},
	}
	for _, c := range cases {
		e, err := filter.Parse(c.filter)
		if err != nil {
			t.Errorf("Parse(%q): %v", c.filter, err)
			continue
		}
		got, err := Match(e, el, things)
		if err != nil {
			t.Errorf("%s: %v", c.filter, err)
			continue
		}
		if got != c.want {
			t.Errorf("%s = %v, want %v", c.filter, got, c.want)
		}
	}
}

// TestWrongTypedValues: a document value of another type than the schema
// says satisfies no comparison and is "not equal" to everything.
func TestWrongTypedValues(t *testing.T) {
	things, _, _ := thingAttrs(t)
	el := decode(t, `{"value":5,"primary":"yes","n":"three","x":true,"at":"yesterday","code":["a","B"]}`)
	for _, c := range []struct {
		filter string
		want   bool
	}{
		{`value eq "5"`, false},
		{`value ne "5"`, true},
		{`value pr`, true},
		{`primary eq true`, false},
		{`primary eq false`, false},
		{`n eq 3`, false},
		{`n ne 3`, true},
		{`x gt 0`, false},
		{`at lt "2999-01-01T00:00:00Z"`, false},
		{`at ne "2999-01-01T00:00:00Z"`, true},
		// An array under a simple sub-attribute: any of its values.
		{`code eq "B"`, true},
		{`code eq "b"`, false},
		{`code ne "a"`, true},
	} {
		got, err := Match(mustParse(t, c.filter), el, things)
		if err != nil || got != c.want {
			t.Errorf("%s = %v, %v; want %v", c.filter, got, err, c.want)
		}
	}
}

func TestAbsentValues(t *testing.T) {
	emails := userAttr(t, "emails")
	for _, raw := range []string{`{}`, `{"value":null}`, `{"value":""}`, `{"value":[]}`, `{"value":{}}`} {
		el := decode(t, raw)
		for _, c := range []struct {
			filter string
			want   bool
		}{
			{`value pr`, false},
			{`value eq null`, true},
			{`value ne null`, false},
			{`value eq ""`, false},
			{`value ne "x"`, true},
			{`value co ""`, false},
			{`not (value pr)`, true},
		} {
			got, err := Match(mustParse(t, c.filter), el, emails)
			if err != nil || got != c.want {
				t.Errorf("%s on %s = %v, %v; want %v", c.filter, raw, got, err, c.want)
			}
		}
	}
}

// TestMultiValuedSimple: a list of strings is filtered on "value".
func TestMultiValuedSimple(t *testing.T) {
	_, tags, label := thingAttrs(t)
	got, err := Match(mustParse(t, `value eq "VIP"`), map[string]any{"value": "vip"}, tags)
	if err != nil || !got {
		t.Errorf("tags[value eq \"VIP\"] on vip = %v, %v; want true", got, err)
	}
	if _, err := Match(mustParse(t, `type eq "x"`), map[string]any{"value": "vip"}, tags); err == nil {
		t.Error("tags[type eq ...]: want an error, tags has only value")
	}
	if _, err := Match(mustParse(t, `value eq "x"`), map[string]any{"value": "x"}, label); err == nil {
		t.Error("label[...]: want an error, label is singular and simple")
	}
}

func TestErrors(t *testing.T) {
	things, _, _ := thingAttrs(t)
	cases := []struct{ filter, want string }{
		{`nope eq "x"`, `things has no sub-attribute "nope"`},
		{`things.value eq "x"`, `name sub-attributes of things directly`},
		{`urn:example:Thing:value eq "x"`, `name sub-attributes`},
		{`value eq "x" and nope pr`, `"nope"`}, // found even when the left side decides
		{`value eq "x" or nope pr`, `"nope"`},
		{`primary gt true`, `operator gt is not supported for boolean`},
		{`primary co "t"`, `applies to string and reference`},
		{`primary eq "yes"`, `is not true or false`},
		{`primary eq 1`, `is not true or false`},
		{`value eq true`, `is not a string`},
		{`value gt null`, `cannot compare`},
		{`n eq "x"`, `is not a number`},
		{`n eq 1.5`, `integer in the 64-bit range`},
		{`n eq 1e19`, `integer in the 64-bit range`},
		{`x eq 1e999`, `finite decimal`},
		{`n co "1"`, `applies to string and reference`},
		{`at eq 2015`, `date-time string`},
		{`at eq "2015-13-01T00:00:00Z"`, `valid xsd:dateTime`},
		{`at co "2015"`, `applies to string and reference`},
		{`bin gt "A"`, `not supported for binary`},
		{`bin sw "A"`, `applies to string and reference`},
	}
	for _, c := range cases {
		e := mustParse(t, c.filter)
		_, err := Match(e, map[string]any{}, things)
		var fe *Error
		if !errors.As(err, &fe) {
			t.Errorf("%s: error %v (%T), want *Error", c.filter, err, err)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %q, want it to mention %q", c.filter, err, c.want)
		}
	}
	// Nested value paths cannot come out of the parser, but an AST can hold them.
	nested := &filter.ValuePath{Attr: filter.AttrPath{Name: "x"}, Filter: mustParse(t, `value pr`)}
	if _, err := Match(nested, nil, things); err == nil {
		t.Error("nested value path: want an error")
	}
	if _, err := Match(nil, nil, things); err == nil {
		t.Error("nil expression: want an error")
	}
	if _, err := Match(mustParse(t, `value pr`), nil, nil); err == nil {
		t.Error("nil attribute: want an error")
	}
}

func TestNilElement(t *testing.T) {
	emails := userAttr(t, "emails")
	for f, want := range map[string]bool{`value pr`: false, `value ne "x"`: true, `value eq null`: true} {
		if got, err := Match(mustParse(t, f), nil, emails); err != nil || got != want {
			t.Errorf("%s on nil = %v, %v; want %v", f, got, err, want)
		}
	}
}

// TestCompileOnce: a compiled filter gives Match's answers.
func TestCompileOnce(t *testing.T) {
	emails := userAttr(t, "emails")
	f, err := Compile(mustParse(t, `type eq "work"`), emails)
	if err != nil {
		t.Fatal(err)
	}
	if !f.Match(map[string]any{"type": "Work"}) || f.Match(map[string]any{"type": "home"}) {
		t.Error("compiled type eq \"work\" matches wrongly")
	}
	var none *Filter
	if none.Match(map[string]any{"type": "work"}) {
		t.Error("a nil *Filter matched")
	}
}

func TestParseDateTime(t *testing.T) {
	for in, want := range map[string]string{
		"2015-10-10T14:38:21.8617979-07:00": "2015-10-10T21:38:21.8617979Z",
		"2015-10-10t14:38:21z":              "2015-10-10T14:38:21Z",
		"2015-10-10T14:38:21":               "2015-10-10T14:38:21Z",
		" 2015-10-10T14:38:21+01:30 ":       "2015-10-10T13:08:21Z",
	} {
		got, ok := filter.ParseDateTime(in)
		if !ok || got.Format("2006-01-02T15:04:05.999999999Z07:00") != want {
			t.Errorf("filter.ParseDateTime(%q) = %v, %v; want %s", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "2015-10-10", "9999-12-31T23:59:59-01:00", "yesterday", "2015-10-10T25:00:00Z"} {
		if _, ok := filter.ParseDateTime(in); ok {
			t.Errorf("filter.ParseDateTime(%q) accepted", in)
		}
	}
}
