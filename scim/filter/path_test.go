package filter

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParsePath(t *testing.T) {
	tests := []struct {
		in    string
		want  Path
		canon string
	}{
		{`userName`, Path{Attr: ap("userName")}, ""},
		{`name.familyName`, Path{Attr: ap("name.familyName")}, ""},
		{`name.FamilyName`, Path{Attr: ap("name.FamilyName")}, ""},
		{`members`, Path{Attr: ap("members")}, ""},
		{`members.$ref`, Path{Attr: ap("members.$ref")}, ""},
		{ent + `:employeeNumber`, Path{Attr: ap(ent + ":employeeNumber")}, ""},
		{ent + `:manager.value`, Path{Attr: ap(ent + ":manager.value")}, ""},
		{ent, Path{Attr: AttrPath{URN: "urn:ietf:params:scim:schemas:extension:enterprise:2.0", Name: "User"}}, ""},
		{`members[value eq "2819c223-7f76-453a-919d-413861904646"]`,
			Path{Attr: ap("members"), ValueFilter: cmp("value", Eq, str("2819c223-7f76-453a-919d-413861904646"))}, ""},
		{`emails[type eq "work"].value`, Path{Attr: ap("emails"), ValueFilter: cmp("type", Eq, str("work")), Sub: "value"}, ""},
		{`emails[type eq "other"].Value`, Path{Attr: ap("emails"), ValueFilter: cmp("type", Eq, str("other")), Sub: "Value"}, ""},
		{`addresses[type eq "work"].streetAddress`, Path{Attr: ap("addresses"), ValueFilter: cmp("type", Eq, str("work")), Sub: "streetAddress"}, ""},
		{`roles[primary eq "True"].value`, Path{Attr: ap("roles"), ValueFilter: cmp("primary", Eq, str("True")), Sub: "value"}, ""},
		{`emails[type eq "work" and not (primary eq true)].display`,
			Path{Attr: ap("emails"), ValueFilter: and(cmp("type", Eq, str("work")), not(cmp("primary", Eq, vTrue))), Sub: "display"}, ""},
		{ent + `:manager[value eq "x"]`, Path{Attr: ap(ent + ":manager"), ValueFilter: cmp("value", Eq, str("x"))}, ""},
		{`  userName  `, Path{Attr: ap("userName")}, "userName"},
		{`members[value eq abc]`, Path{Attr: ap("members"), ValueFilter: cmp("value", Eq, str("abc"))}, `members[value eq "abc"]`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParsePath(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %#v\nwant %#v", got, tt.want)
			}
			canon := tt.canon
			if canon == "" {
				canon = tt.in
			}
			if got.String() != canon {
				t.Errorf("String() = %q, want %q", got.String(), canon)
			}
			back, err := ParsePath(got.String())
			if err != nil || !reflect.DeepEqual(back, got) {
				t.Errorf("round trip: %v %#v", err, back)
			}
		})
	}
}

func TestParsePathErrors(t *testing.T) {
	tests := []struct {
		in  string
		pos int
		msg string
	}{
		{``, 0, "empty path"},
		{`  `, 2, "empty path"},
		{`userName eq "x"`, 9, "unexpected 'eq' at position 9, expected '[' or the end of the path"},
		{`emails [type eq "x"]`, 6, "unexpected space at position 6 before '['"},
		{`emails[type eq "x"`, 18, "expected ']' to close the '[' at position 6"},
		{`emails[type eq "x"].value.x`, 25, "expected '.' and a sub-attribute, or the end of the path"},
		{`emails[type eq "x"].`, 20, "expected a sub-attribute name"},
		{`emails[type eq "x"]x`, 19, "expected '.' and a sub-attribute"},
		{`emails[type[value eq "x"]]`, 11, "value filters cannot be nested"},
		{`name.givenName[value eq "x"].x`, 28, "already names a sub-attribute"},
		{`name.givenName.x`, 14, "at most one sub-attribute"},
		{`emails[]`, 7, "expected an attribute expression"},
		{`(userName)`, 0, "expected an attribute name"},
		{`1x`, 0, "invalid attribute name"},
		{`a b`, 2, "expected '[' or the end of the path"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			p, err := ParsePath(tt.in)
			if err == nil {
				t.Fatalf("ParsePath(%q) = %s, want error", tt.in, p)
			}
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("%T", err)
			}
			if pe.Pos != tt.pos || !strings.Contains(pe.Msg, tt.msg) {
				t.Errorf("got pos %d %q, want pos %d containing %q", pe.Pos, pe.Msg, tt.pos, tt.msg)
			}
			if strings.Contains(pe.Msg, "of the filter") || strings.Contains(pe.Msg, "end of filter") {
				t.Errorf("path error talks about a filter: %q", pe.Msg)
			}
		})
	}
}
