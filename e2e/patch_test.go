package e2e

// PATCH (RFC 7644 §3.5.2) as Entra ID and Okta send it, replayed over HTTP
// against the real server: every PATCH sequence of
// shared/reference/clients.md (AZ-U5…U12, AZ-G4…G6, AZ-P1…P4, OK-U6…U8,
// OK-G4, OK-G5), the RFC error cases, atomicity, no-op PATCHes, ETags and
// preconditions.

import (
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
)

const patchURN = "urn:ietf:params:scim:api:messages:2.0:PatchOp"

// patchBody is a PatchOp message with the given operations.
func patchBody(ops ...obj) obj {
	list := make(arr, len(ops))
	for i, o := range ops {
		list[i] = o
	}
	return obj{"schemas": arr{patchURN}, "Operations": list}
}

// patch sends a PATCH and requires 204 (the default) or 200.
func (s *server) patch(t *testing.T, target string, ops ...obj) *response {
	t.Helper()
	return s.do(t, http.MethodPatch, target, patchBody(ops...)).want(t, http.StatusNoContent, http.StatusOK)
}

func (s *server) get(t *testing.T, target string) map[string]any {
	t.Helper()
	return s.do(t, http.MethodGet, target, nil).want(t, http.StatusOK).JSON
}

func op(kind, path string, value any) obj {
	o := obj{"op": kind}
	if path != "" {
		o["path"] = path
	}
	if value != nil {
		o["value"] = value
	}
	return o
}

func TestPatchEntraUser(t *testing.T) {
	s := newServer(t)
	s.needs(t, "User", "active", "addresses", "emails", "name.givenName", "name.familyName", "name.formatted", "nickName", "phoneNumbers", "roles", "title")
	// Entra's enterprise attributes take part where the app has them; the
	// manager's steps skip without it, saying so.
	ent := s.has(t, "User", enterpriseURN+":employeeNumber")
	u := s.create(t, "/Users", obj{
		"schemas":  arr{userURN},
		"userName": "Test_User_1@contoso.com", "externalId": "tu1", "active": true,
		"name":   obj{"givenName": "Test", "familyName": "User", "formatted": "Test User"},
		"emails": arr{obj{"primary": true, "type": "work", "value": "tu1@contoso.com"}},
	})
	id := str(u, "id")
	p := "/Users/" + id

	// AZ-U5: value-path replace plus a sub-attribute replace; 204 by default.
	r := s.patch(t, p, op("Replace", `emails[type eq "work"].value`, "updatedEmail@contoso.com"), op("Replace", "name.familyName", "updatedFamilyName"))
	if r.Status != http.StatusNoContent || len(r.Body) != 0 {
		t.Errorf("%s: status %d body %q, want 204 with no body", r.desc, r.Status, r.Body)
	}
	if r.Header.Get("ETag") != `W/"2"` {
		t.Errorf("%s: ETag %q, want W/\"2\"", r.desc, r.Header.Get("ETag"))
	}
	got := s.get(t, p)
	if str(got, "emails", 0, "value") != "updatedEmail@contoso.com" || str(got, "name", "familyName") != "updatedFamilyName" || str(got, "name", "givenName") != "Test" {
		t.Errorf("after AZ-U5: %v", got)
	}
	if len(got["emails"].([]any)) != 1 || at(got, "emails", 0, "primary") != true {
		t.Errorf("after AZ-U5 emails %v, want the one primary work email, changed", got["emails"])
	}

	// AZ-U6: rename; the id stays, the filter finds the new name.
	s.patch(t, p, op("Replace", "userName", "Renamed@contoso.com"))
	if l := s.find(t, "/Users", `userName eq "renamed@CONTOSO.com"`); len(l.ids()) != 1 || l.ids()[0] != id {
		t.Errorf("after AZ-U6 the filter finds %v, want [%s]", l.ids(), id)
	}

	// AZ-U7 / AZ-P1: deactivation with a string boolean, then the flag form.
	s.patch(t, p, op("Replace", "active", "False"))
	if at(s.get(t, p), "active") != false {
		t.Error(`Replace active "False" left the user active`)
	}
	if n := s.count(t, "/Users", `active eq false and id eq "`+id+`"`); n != 1 {
		t.Errorf("the deactivated user is not found by filter (%d)", n)
	}
	s.patch(t, p, op("replace", "active", true))
	if at(s.get(t, p), "active") != true {
		t.Error("replace active true did not reactivate")
	}

	// AZ-P2: add of a single-valued string.
	s.patch(t, p, op("Add", "nickName", "Babs"))
	// AZ-P3 (aadOptscim062020): a value path plus one path-less op with
	// dotted and URN-qualified keys, never stored as literal names.
	pathless := obj{"displayName": "Flag User", "name.givenName": "Flag", "name.familyName": "Form", "externalId": "tu1-new"}
	if ent {
		pathless[enterpriseURN+":employeeNumber"] = "E-77"
	}
	s.patch(t, p, op("replace", `emails[type eq "work"].value`, "flag@contoso.com"), op("replace", "", pathless))
	got = s.get(t, p)
	checks := []struct {
		got  string
		want string
	}{
		{str(got, "nickName"), "Babs"},
		{str(got, "emails", 0, "value"), "flag@contoso.com"},
		{str(got, "displayName"), "Flag User"},
		{str(got, "name", "givenName"), "Flag"},
		{str(got, "name", "familyName"), "Form"},
		{str(got, "externalId"), "tu1-new"},
	}
	if ent {
		checks = append(checks, struct {
			got  string
			want string
		}{str(got, enterpriseURN, "employeeNumber"), "E-77"})
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("after AZ-P3 got %q, want %q (%v)", c.got, c.want, got)
		}
	}
	if has(got, "name.givenName") || has(got, enterpriseURN+":employeeNumber") {
		t.Errorf("a path-less key was stored literally: %v", keys(got))
	}
	if ent && !slices.Contains(strs(got["schemas"]), enterpriseURN) {
		t.Errorf("schemas %v lacks the enterprise extension now present", got["schemas"])
	}

	// Q5: a value-path replace creates the entry when none matches.
	s.patch(t, p, op("Replace", `phoneNumbers[type eq "mobile"].value`, "+1 555 0100"), op("Add", `addresses[type eq "work"].streetAddress`, "1 Main St"))
	got = s.get(t, p)
	if str(got, "phoneNumbers", 0, "value") != "+1 555 0100" || str(got, "phoneNumbers", 0, "type") != "mobile" || str(got, "addresses", 0, "streetAddress") != "1 Main St" || str(got, "addresses", 0, "type") != "work" {
		t.Errorf("value paths did not create the entries: %v %v", got["phoneNumbers"], got["addresses"])
	}
	// Case-insensitive attribute names in paths (Q18).
	s.patch(t, p, op("replace", `emails[Type eq "WORK"].Value`, "case@contoso.com"), op("replace", "Name.FamilyName", "Upper"))
	got = s.get(t, p)
	if str(got, "emails", 0, "value") != "case@contoso.com" || str(got, "name", "familyName") != "Upper" {
		t.Errorf("case-insensitive paths: %v %v", got["emails"], got["name"])
	}

	// AZ-U10: the manager in the three shapes, AZ-U11: removed two ways.
	t.Run("AZ-U10 AZ-U11 manager", func(t *testing.T) {
		s.needs(t, "User", enterpriseURN+":manager.value", enterpriseURN+":manager.$ref")
		entraManager(t, s, p)
	})

	// AZ-U12: roles whose value is a JSON-encoded string; then the
	// assertive form replacing them all.
	s.patch(t, p, op("Add", "roles", arr{obj{"value": `{"id":"r1","value":"25","displayName":"Role1234"}`}}))
	if v := str(s.get(t, p), "roles", 0, "value"); v != `{"id":"r1","value":"25","displayName":"Role1234"}` {
		t.Errorf("role value %q, want the JSON string verbatim", v)
	}
	s.patch(t, p, op("replace", "roles", arr{obj{"primary": "True", "type": "WindowsAzureActiveDirectoryRole", "display": "Admin", "value": "Admin"}, obj{"value": "Reader"}}))
	got = s.get(t, p)
	if rs, _ := got["roles"].([]any); len(rs) != 2 || at(got, "roles", 0, "primary") != true {
		t.Errorf("roles after replace: %v", got["roles"])
	}

	// The validator's null update test: "" then null clear attributes.
	s.patch(t, p, op("Replace", "nickName", ""), op("Replace", "title", "CTO"))
	s.patch(t, p, obj{"op": "Replace", "path": "title", "value": nil}, op("replace", "", obj{"displayName": nil}))
	got = s.get(t, p)
	if has(got, "nickName") || has(got, "title") || has(got, "displayName") {
		t.Errorf("\"\" and null did not clear: %v", got)
	}
	noNulls(t, "GET after null update", got)
}

// entraManager replays Entra's manager PATCHes on the user at p: the
// manager in the three shapes Entra sends (AZ-U10), removed two ways
// (AZ-U11).
func entraManager(t *testing.T, s *server, p string) {
	mgr := s.create(t, "/Users", newUser("manager@contoso.com"))
	mid := str(mgr, "id")
	s.patch(t, p, op("add", enterpriseURN+":manager", mid)) // shape B: bare string
	if str(s.get(t, p), enterpriseURN, "manager", "value") != mid {
		t.Error("manager as a bare id string was not stored as {value}")
	}
	s.patch(t, p, op("remove", `manager[value eq "`+mid+`"]`, nil))
	if has(s.get(t, p)[enterpriseURN], "manager") {
		t.Error(`remove manager[value eq "id"] left the manager`)
	}
	s.patch(t, p, op("Add", "manager", arr{obj{"$ref": s.base + "/Users/" + mid, "value": mid}})) // shape A
	if str(s.get(t, p), enterpriseURN, "manager", "value") != mid {
		t.Error("manager as [{$ref, value}] was not stored")
	}
	s.patch(t, p, op("Replace", enterpriseURN+":manager", obj{"value": ""})) // the validator's "replace with empty"
	if has(s.get(t, p)[enterpriseURN], "manager") {
		t.Error("replace manager with an empty value left it")
	}
	if n := s.count(t, "/Users", `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "`+mid+`"`); n != 0 {
		t.Errorf("the removed manager is still found by filter (%d)", n)
	}
}

func TestPatchOktaUser(t *testing.T) {
	s := newServer(t)
	s.needs(t, "User", "active", "emails", "password")
	u := s.create(t, "/Users", newUser("okta.user@okta.local"))
	p := "/Users/" + str(u, "id")
	// OK-U6 / OK-U7: path-less replace with an object, real booleans.
	s.patch(t, p, op("replace", "", obj{"active": false}))
	if at(s.get(t, p), "active") != false {
		t.Error("OK-U6 did not deactivate")
	}
	s.patch(t, p, op("replace", "", obj{"active": true}))
	if at(s.get(t, p), "active") != true {
		t.Error("OK-U7 did not reactivate")
	}
	// OK-U8: password sync; the password is never returned and the
	// version moves although the document is unchanged.
	before := str(s.get(t, p), "meta", "version")
	r := s.do(t, http.MethodPatch, p+"?attributes=userName,password", patchBody(op("replace", "", obj{"password": "N3w-secret!"}))).want(t, http.StatusOK)
	noPassword(t, r)
	if str(r.JSON, "meta", "version") == before {
		t.Error("a password change kept the version")
	}
	// Profile update over PATCH (OIN templates).
	s.patch(t, p, op("replace", "", obj{"name": obj{"givenName": "Changed"}, "emails": arr{obj{"value": "new@okta.local", "type": "work", "primary": true}}}))
	got := s.get(t, p)
	if str(got, "name", "givenName") != "Changed" || str(got, "name", "familyName") != "Family okta.user" {
		t.Errorf("path-less complex replace must merge sub-attributes: %v", got["name"])
	}
	if es := got["emails"].([]any); len(es) != 1 || str(got, "emails", 0, "value") != "new@okta.local" {
		t.Errorf("path-less multi-valued replace: %v", got["emails"])
	}
}

func TestPatchMultiValued(t *testing.T) {
	s := newServer(t)
	s.needs(t, "User", "emails", "phoneNumbers", "title")
	u := s.create(t, "/Users", newUser("mv@example.com"))
	p := "/Users/" + str(u, "id")
	// add appends; an exact duplicate (type, value) is stored once; a new
	// primary value takes primary from the old one.
	s.patch(t, p, op("add", "emails", arr{obj{"value": "home@example.com", "type": "home"}, obj{"value": "MV@example.com", "type": "work"}}))
	got := s.get(t, p)
	if es := got["emails"].([]any); len(es) != 2 {
		t.Fatalf("emails %v, want 2 (the duplicate work email stored once)", got["emails"])
	}
	s.patch(t, p, op("add", "emails", obj{"value": "other@example.com", "type": "other", "primary": true}))
	got = s.get(t, p)
	primaries := 0
	for _, e := range got["emails"].([]any) {
		if e.(map[string]any)["primary"] == true {
			primaries++
			if e.(map[string]any)["value"] != "other@example.com" {
				t.Errorf("primary is %v, want the new value", e)
			}
		}
	}
	if primaries != 1 {
		t.Errorf("%d primary emails, want 1: %v", primaries, got["emails"])
	}
	// A primary set by a value filter also clears the others.
	s.patch(t, p, op("replace", `emails[type eq "home"].primary`, true))
	got = s.get(t, p)
	for _, e := range got["emails"].([]any) {
		m := e.(map[string]any)
		if (m["primary"] == true) != (m["type"] == "home") {
			t.Errorf("after setting home primary: %v", got["emails"])
		}
	}
	// Two primaries in one value is an error.
	s.do(t, http.MethodPatch, p, patchBody(op("replace", "emails", arr{obj{"value": "a@x.com", "primary": true}, obj{"value": "b@x.com", "primary": true}}))).
		wantError(t, http.StatusBadRequest, "invalidValue")
	// remove with a filter removes the matching values only.
	s.patch(t, p, op("remove", `emails[type eq "other" or value eq "home@example.com"]`, nil))
	got = s.get(t, p)
	if es := got["emails"].([]any); len(es) != 1 || str(got, "emails", 0, "type") != "work" {
		t.Errorf("after a filtered remove: %v", got["emails"])
	}
	// remove a sub-attribute of the matching values.
	s.patch(t, p, op("remove", `emails[type eq "work"].primary`, nil))
	if has(s.get(t, p)["emails"].([]any)[0], "primary") {
		t.Error("remove emails[...].primary left it")
	}
	// replace with a value filter and an object replaces the matches.
	s.patch(t, p, op("replace", `emails[type eq "work"]`, obj{"value": "swap@example.com", "type": "work"}))
	if v := str(s.get(t, p), "emails", 0, "value"); v != "swap@example.com" {
		t.Errorf("filtered replace with an object: %q", v)
	}
	// remove of the whole attribute; removing what is absent succeeds.
	s.patch(t, p, op("remove", "emails", nil))
	s.patch(t, p, op("remove", "emails", nil))
	s.patch(t, p, op("remove", `phoneNumbers[type eq "fax"]`, nil))
	if has(s.get(t, p), "emails") {
		t.Error("remove emails left emails")
	}
	// The search index follows every write: child rows of a changed
	// attribute are rewritten, those of unchanged ones kept.
	id := str(u, "id")
	s.patch(t, p, op("add", "emails", obj{"value": "indexed@example.com", "type": "home"}), op("add", "phoneNumbers", obj{"value": "+1 555 0199", "type": "work"}))
	s.patch(t, p, op("replace", "title", "Indexer"))
	for f, want := range map[string]int64{
		`emails.value eq "indexed@example.com"`: 1, `phoneNumbers.value eq "+1 555 0199"`: 1, `title eq "indexer"`: 1,
		`emails[type eq "home" and value eq "INDEXED@example.com"]`: 1,
	} {
		if n := s.count(t, "/Users", f+` and id eq "`+id+`"`); n != want {
			t.Errorf("filter %s finds %d, want %d", f, n, want)
		}
	}
	s.patch(t, p, op("replace", `emails[value eq "indexed@example.com"].value`, "moved@example.com"))
	if n := s.count(t, "/Users", `emails.value eq "indexed@example.com"`); n != 0 {
		t.Errorf("the old email is still indexed (%d)", n)
	}
	if n := s.count(t, "/Users", `emails.value eq "moved@example.com" and phoneNumbers.value eq "+1 555 0199"`); n != 1 {
		t.Errorf("after changing one child table, the others' rows are gone (%d)", n)
	}
	s.patch(t, p, op("remove", "phoneNumbers", nil))
	if n := s.count(t, "/Users", `phoneNumbers pr and id eq "`+id+`"`); n != 0 {
		t.Errorf("removed phone numbers are still indexed (%d)", n)
	}
	t.Run("an extension's multi-valued attribute", func(t *testing.T) {
		s.needs(t, "User", acmeURN+":tags")
		s.patch(t, p, op("add", acmeURN+":tags", arr{"blue"}))
		if n := s.count(t, "/Users", acmeURN+`:tags eq "blue"`); n != 1 {
			t.Errorf("an extension's multi-valued attribute added by PATCH is not indexed (%d)", n)
		}
		s.patch(t, p, op("remove", acmeURN, nil))
		if n := s.count(t, "/Users", acmeURN+`:tags eq "blue"`); n != 0 {
			t.Errorf("a removed extension's values are still indexed (%d)", n)
		}
	})
	t.Run("an extension emptied and added whole", func(t *testing.T) {
		s.needs(t, "User", enterpriseURN+":department", enterpriseURN+":costCenter")
		// A removed extension attribute leaves no empty extension behind.
		s.patch(t, p, op("add", enterpriseURN+":department", "R&D"))
		s.patch(t, p, op("remove", enterpriseURN+":department", nil))
		got := s.get(t, p)
		if has(got, enterpriseURN) || slices.Contains(strs(got["schemas"]), enterpriseURN) {
			t.Errorf("an emptied extension is still there: %v", got)
		}
		// The whole extension by its URN.
		s.patch(t, p, op("add", enterpriseURN, obj{"department": "Ops", "costCenter": "42"}))
		got = s.get(t, p)
		if str(got, enterpriseURN, "department") != "Ops" || str(got, enterpriseURN, "costCenter") != "42" {
			t.Errorf("add of the extension object: %v", got[enterpriseURN])
		}
	})
}

func TestPatchErrors(t *testing.T) {
	s := newServer(t)
	s.needs(t, "User", "active", "groups", "title")
	u := s.create(t, "/Users", newUser("err@example.com"))
	p := "/Users/" + str(u, "id")
	before := s.get(t, p)
	for _, c := range []struct {
		name     string
		body     any
		scimType string
	}{
		{"remove without path", patchBody(op("remove", "", nil)), "noTarget"},
		{"replace filter without match", patchBody(op("replace", `emails[type eq "home"]`, obj{"value": "x@y.z"})), "noTarget"},
		{"unknown attribute", patchBody(op("replace", "favouriteColour", "blue")), "invalidPath"},
		{"unknown sub-attribute", patchBody(op("replace", "name.nope", "x")), "invalidPath"},
		{"unknown schema", patchBody(op("replace", "urn:example:nope:2.0:User:x", "x")), "invalidPath"},
		{"malformed path", patchBody(op("replace", "name..givenName", "x")), "invalidPath"},
		{"bad filter", patchBody(op("replace", `emails[type eq]`, "x")), "invalidFilter"},
		{"filter on unknown sub-attribute", patchBody(op("remove", `emails[colour eq "red"]`, nil)), "invalidFilter"},
		{"readOnly id", patchBody(op("replace", "id", "other")), "mutability"},
		{"readOnly meta", patchBody(op("replace", "meta.created", "2020-01-01T00:00:00Z")), "mutability"},
		{"readOnly groups", patchBody(op("add", "groups", arr{obj{"value": "g"}})), "mutability"},
		{"wrong type", patchBody(op("replace", "active", "maybe")), "invalidValue"},
		{"wrong type in object", patchBody(op("replace", "name", "just a string")), "invalidValue"},
		{"required removed", patchBody(op("remove", "userName", nil)), "invalidValue"},
		{"unknown op", patchBody(op("merge", "title", "x")), "invalidSyntax"},
		{"no operations", obj{"schemas": arr{patchURN}, "Operations": arr{}}, "invalidSyntax"},
		{"not a PatchOp", obj{"schemas": arr{userURN}, "Operations": arr{op("add", "title", "x")}}, "invalidSyntax"},
		{"operations not a list", obj{"schemas": arr{patchURN}, "Operations": "add"}, "invalidSyntax"},
		{"malformed JSON", `{"schemas":["` + patchURN + `"],"Operations":[`, "invalidSyntax"},
		{"path-less non-object", patchBody(op("replace", "", "x")), "invalidValue"},
		{"add without value", patchBody(obj{"op": "add", "path": "title"}), "invalidSyntax"},
		// Atomic: the first operation is fine, the second fails, nothing changes.
		{"atomic", patchBody(op("replace", "title", "Changed"), op("replace", "nope", "x")), "invalidPath"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s.do(t, http.MethodPatch, p, c.body).wantError(t, http.StatusBadRequest, c.scimType)
		})
	}
	after := s.get(t, p)
	if str(after, "meta", "version") != str(before, "meta", "version") || has(after, "title") {
		t.Errorf("failed PATCHes changed the user: before %v after %v", before, after)
	}
	s.do(t, http.MethodPatch, "/Users/no-such-id", patchBody(op("replace", "title", "x"))).wantError(t, http.StatusNotFound)
	// Okta's path-less group rename carries a matching id: accepted.
	g := s.create(t, "/Groups", obj{"schemas": arr{groupURN}, "displayName": "G"})
	s.do(t, http.MethodPatch, "/Groups/"+str(g, "id"), patchBody(op("replace", "members[value eq \"x\"].value", "y"))).wantError(t, http.StatusBadRequest, "mutability")
}

func TestPatchNoOpAndETags(t *testing.T) {
	s := newServer(t)
	s.needs(t, "User", "active", "emails", "title")
	u := s.create(t, "/Users", newUser("etag@example.com"))
	p := "/Users/" + str(u, "id")
	v1 := str(u, "meta", "version")
	last := str(u, "meta", "lastModified")
	// A PATCH that changes nothing keeps version and lastModified.
	s.patch(t, p, op("replace", "userName", "etag@example.com"), op("add", "emails", obj{"value": "etag@example.com", "type": "work", "primary": true}),
		op("remove", "title", nil), op("replace", "active", "True"))
	got := s.get(t, p)
	if str(got, "meta", "version") != v1 || str(got, "meta", "lastModified") != last {
		t.Errorf("a no-op PATCH moved meta: %v -> %v", u["meta"], got["meta"])
	}
	// GET sends the ETag; If-None-Match with it is 304 with no body.
	r := s.do(t, http.MethodGet, p, nil).want(t, http.StatusOK)
	if r.Header.Get("ETag") != v1 {
		t.Errorf("ETag %q, want meta.version %q", r.Header.Get("ETag"), v1)
	}
	r = s.do(t, http.MethodGet, p, nil, "If-None-Match", v1).want(t, http.StatusNotModified)
	if len(r.Body) != 0 {
		t.Errorf("304 with a body: %q", r.Body)
	}
	s.do(t, http.MethodGet, p, nil, "If-None-Match", `W/"999"`).want(t, http.StatusOK)
	// If-Match: a stale version is 412 for PATCH, PUT and DELETE.
	r = s.do(t, http.MethodPatch, p, patchBody(op("replace", "title", "A")), "If-Match", v1).want(t, http.StatusNoContent)
	v2 := r.Header.Get("ETag")
	if v2 == v1 || v2 == "" {
		t.Fatalf("PATCH ETag %q after %q", v2, v1)
	}
	s.do(t, http.MethodPatch, p, patchBody(op("replace", "title", "B")), "If-Match", v1).wantError(t, http.StatusPreconditionFailed)
	body := newUser("etag@example.com")
	s.do(t, http.MethodPut, p, body, "If-Match", v1).wantError(t, http.StatusPreconditionFailed)
	s.do(t, http.MethodDelete, p, nil, "If-Match", v1).wantError(t, http.StatusPreconditionFailed)
	if str(s.get(t, p), "title") != "A" {
		t.Error("a rejected precondition changed the user")
	}
	// The current version (weak or strong form, or *) is accepted.
	r = s.do(t, http.MethodPut, p, body, "If-Match", v2).want(t, http.StatusOK)
	v3 := r.Header.Get("ETag")
	if v3 != str(r.JSON, "meta", "version") {
		t.Errorf("PUT ETag %q, meta.version %q", v3, str(r.JSON, "meta", "version"))
	}
	s.do(t, http.MethodPatch, p, patchBody(op("replace", "title", "C")), "If-Match", `"`+v3[3:len(v3)-1]+`"`).want(t, http.StatusNoContent)
	s.do(t, http.MethodDelete, p, nil, "If-Match", "*").want(t, http.StatusNoContent)
	// 200 with the resource when asked: attributes, or Prefer.
	u2 := s.create(t, "/Users", newUser("repr@example.com"))
	p2 := "/Users/" + str(u2, "id")
	r = s.do(t, http.MethodPatch, p2+"?attributes=title", patchBody(op("replace", "title", "T"))).want(t, http.StatusOK)
	if str(r.JSON, "title") != "T" || has(r.JSON, "userName") || str(r.JSON, "id") == "" {
		t.Errorf("PATCH ?attributes=title: %s", r.Body)
	}
	r = s.do(t, http.MethodPatch, p2, patchBody(op("replace", "title", "U")), "Prefer", "return=representation").want(t, http.StatusOK)
	if str(r.JSON, "title") != "U" || str(r.JSON, "userName") != "repr@example.com" || r.Header.Get("ETag") != str(r.JSON, "meta", "version") {
		t.Errorf("PATCH with Prefer: %s", r.Body)
	}
}

func TestPatchGroups(t *testing.T) {
	s := newServer(t)
	s.needs(t, "User", "groups")
	var ids []string
	for i := range 4 {
		ids = append(ids, str(s.create(t, "/Users", newUser(fmt.Sprintf("m%d@example.com", i))), "id"))
	}
	g := s.create(t, "/Groups", obj{"schemas": arr{groupURN, "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"}, "displayName": "Team", "externalId": "ext"})
	gp := "/Groups/" + str(g, "id")
	members := func() []string {
		var out []string
		for _, m := range s.get(t, gp)["members"].([]any) {
			out = append(out, m.(map[string]any)["value"].(string))
		}
		slices.Sort(out)
		return out
	}
	want := func(what string, ids ...string) {
		t.Helper()
		ids = slices.Clone(ids)
		slices.Sort(ids)
		if got := members(); !slices.Equal(got, ids) {
			t.Errorf("%s: members %v, want %v", what, got, ids)
		}
	}
	version := func() string { return str(s.get(t, gp), "meta", "version") }

	// AZ-G5: several members, $ref null; adding an existing one again is a no-op.
	v := version()
	s.patch(t, gp, op("Add", "members", arr{obj{"$ref": nil, "value": ids[0]}, obj{"$ref": nil, "value": ids[1]}}))
	want("AZ-G5", ids[0], ids[1])
	v2 := version()
	if v2 == v {
		t.Error("adding members kept the group's version")
	}
	s.patch(t, gp, op("add", "members", arr{obj{"value": ids[0]}}))
	if version() != v2 {
		t.Error("re-adding an existing member moved the version")
	}
	// Derived groups of the members.
	if gs := s.get(t, "/Users/"+ids[0])["groups"]; str(gs, 0, "value") != str(g, "id") || str(gs, 0, "display") != "Team" {
		t.Errorf("user groups %v", gs)
	}
	// AZ-G6 default: Remove + path members + value list removes only those.
	s.patch(t, gp, op("Remove", "members", arr{obj{"$ref": nil, "value": ids[0]}}))
	want("AZ-G6 default", ids[1])
	if has(s.get(t, "/Users/"+ids[0]), "groups") {
		t.Error("the removed member still lists the group")
	}
	// OK-G5: remove by filter and add in one request; AZ-G6 flag form.
	s.patch(t, gp, op("remove", `members[value eq "`+ids[1]+`"]`, nil), op("add", "members", arr{obj{"value": ids[2], "display": "m2@example.com"}, obj{"value": ids[3]}}))
	want("OK-G5", ids[2], ids[3])
	// OK-G4: the rename with the id in the value, sent with every push.
	// (Read a member first, so a cached copy would show the old name.)
	if str(s.get(t, "/Users/"+ids[2]), "groups", 0, "display") != "Team" {
		t.Error("member's derived groups before the rename")
	}
	s.patch(t, gp, op("replace", "", obj{"id": str(g, "id"), "displayName": "Team Renamed"}))
	got := s.get(t, gp)
	if str(got, "displayName") != "Team Renamed" || str(got, "id") != str(g, "id") {
		t.Errorf("OK-G4: %v", got)
	}
	if str(s.get(t, "/Users/"+ids[2]), "groups", 0, "display") != "Team Renamed" {
		t.Error("the member's derived groups keep the old display name")
	}
	// Okta full push: replace members.
	s.patch(t, gp, op("replace", "members", arr{obj{"value": ids[0]}, obj{"value": ids[3]}}))
	want("replace members", ids[0], ids[3])
	// An unknown id is 400 invalidValue and nothing of the request is stored.
	v = version()
	s.do(t, http.MethodPatch, gp, patchBody(op("add", "members", arr{obj{"value": ids[1]}}), op("add", "members", arr{obj{"value": "no-such-id"}}))).
		wantError(t, http.StatusBadRequest, "invalidValue")
	want("after a rejected add", ids[0], ids[3])
	if version() != v {
		t.Error("a rejected PATCH moved the version")
	}
	// A contradicting type label is corrected; a group member is typed Group.
	sub := s.create(t, "/Groups", obj{"schemas": arr{groupURN}, "displayName": "Sub"})
	s.patch(t, gp, op("add", "members", arr{obj{"value": ids[1], "type": "Group"}, obj{"value": str(sub, "id")}}))
	types := map[string]string{}
	for _, m := range s.get(t, gp)["members"].([]any) {
		types[m.(map[string]any)["value"].(string)] = m.(map[string]any)["type"].(string)
	}
	if types[ids[1]] != "User" || types[str(sub, "id")] != "Group" {
		t.Errorf("member types %v", types)
	}
	if n := s.count(t, "/Groups", `members.type eq "Group"`); n != 1 {
		t.Errorf("members.type eq \"Group\" finds %d groups, want 1", n)
	}
	// Removing by type.
	s.patch(t, gp, op("remove", `members[type eq "Group"]`, nil))
	want("after removing group members", ids[0], ids[1], ids[3])
	// Deleting a member moves the group's version and removes it.
	v = version()
	s.do(t, http.MethodDelete, "/Users/"+ids[3], nil).want(t, http.StatusNoContent)
	want("after deleting a member", ids[0], ids[1])
	if version() == v {
		t.Error("deleting a member kept the group's version")
	}
	// Remove all.
	s.patch(t, gp, op("remove", "members", nil))
	want("after remove members")
	// Group PATCH responses never carry the member list unless asked.
	r := s.do(t, http.MethodPatch, gp, patchBody(op("add", "members", arr{obj{"value": ids[0]}}))).want(t, http.StatusNoContent)
	if len(r.Body) != 0 {
		t.Errorf("group PATCH body %s", r.Body)
	}
	r = s.do(t, http.MethodPatch, gp+"?excludedAttributes=members", patchBody(op("replace", "displayName", "X"))).want(t, http.StatusOK)
	if has(r.JSON, "members") || str(r.JSON, "displayName") != "X" {
		t.Errorf("PATCH ?excludedAttributes=members: %s", r.Body)
	}
}

// TestPatchConcurrentMembers runs many parallel member PATCHes against one
// group: each adds its own users; nothing may be lost, and the version
// moves once per effective PATCH.
func TestPatchConcurrentMembers(t *testing.T) {
	s := newServer(t)
	const writers, perWriter = 8, 6
	users := make([]string, writers*perWriter)
	for i := range users {
		users[i] = str(s.create(t, "/Users", newUser(fmt.Sprintf("c%d@example.com", i))), "id")
	}
	g := s.create(t, "/Groups", obj{"schemas": arr{groupURN}, "displayName": "Busy"})
	gp := "/Groups/" + str(g, "id")
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWriter {
				id := users[w*perWriter+i]
				s.patch(t, gp, op("add", "members", arr{obj{"value": id}}))
				// Okta's rename that comes with every push, racing the adds.
				s.patch(t, gp, op("replace", "", obj{"id": str(g, "id"), "displayName": "Busy"}))
			}
		}()
	}
	wg.Wait()
	got := s.get(t, gp)
	if n := len(got["members"].([]any)); n != len(users) {
		t.Errorf("%d members after %d concurrent adds", n, len(users))
	}
	if v := str(got, "meta", "version"); v != fmt.Sprintf(`W/"%d"`, 1+len(users)) {
		t.Errorf("version %s, want W/\"%d\" (one per effective PATCH)", v, 1+len(users))
	}
}
