package schema

import (
	"testing"

	"github.com/scimforge/scimforge/internal/fixture"
)

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
