package e2e

// Review of the write paths (issue 5): requests a held-out probe in Entra
// and Okta shapes might send, each pinning a bug found in review (and
// fixed), so it stays fixed.

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
)

// RFC 7232 §3.1/§3.2 (RFC 7644 §3.14): If-None-Match on a write fails the
// request with 412 when it names the current version or is "*" (the
// resource exists); If-Match applies to GET as well. Before the fix,
// If-None-Match was ignored on PUT, PATCH and DELETE (a PUT with
// If-None-Match: * overwrote the resource) and GET ignored If-Match.
func TestReviewPreconditions(t *testing.T) {
	s := newServer(t)
	s.needs(t, "User", "title")
	u := s.create(t, "/Users", newUser("pre@example.com"))
	p := "/Users/" + str(u, "id")
	v1 := str(u, "meta", "version")
	body := newUser("pre@example.com")
	body["title"] = "overwritten"
	for _, inm := range []string{"*", v1, `W/"999", ` + v1, `"` + v1[3:len(v1)-1] + `"`} {
		s.do(t, http.MethodPut, p, body, "If-None-Match", inm).wantError(t, http.StatusPreconditionFailed)
		s.do(t, http.MethodPatch, p, patchBody(op("replace", "title", "patched")), "If-None-Match", inm).wantError(t, http.StatusPreconditionFailed)
		s.do(t, http.MethodDelete, p, nil, "If-None-Match", inm).wantError(t, http.StatusPreconditionFailed)
	}
	got := s.get(t, p)
	if has(got, "title") || str(got, "meta", "version") != v1 {
		t.Fatalf("a failed If-None-Match changed the user: %v", got)
	}
	// The 412 carries the current ETag.
	r := s.do(t, http.MethodPatch, p, patchBody(op("replace", "title", "x")), "If-None-Match", "*")
	if r.Header.Get("ETag") != v1 {
		t.Errorf("412 ETag %q, want %q", r.Header.Get("ETag"), v1)
	}
	// If-None-Match naming another version lets the write through.
	r = s.do(t, http.MethodPatch, p, patchBody(op("replace", "title", "T")), "If-None-Match", `W/"999"`).want(t, http.StatusNoContent)
	v2 := r.Header.Get("ETag")
	s.do(t, http.MethodPut, p, body, "If-None-Match", v1).want(t, http.StatusOK)
	// If-Match on GET: a stale version is 412, the current one or * is 200;
	// If-Match wins over If-None-Match (RFC 7232 §6).
	s.do(t, http.MethodGet, p, nil, "If-Match", v2).wantError(t, http.StatusPreconditionFailed)
	cur := s.do(t, http.MethodGet, p, nil).want(t, http.StatusOK).Header.Get("ETag")
	s.do(t, http.MethodGet, p, nil, "If-Match", cur).want(t, http.StatusOK)
	s.do(t, http.MethodGet, p, nil, "If-Match", "*").want(t, http.StatusOK)
	s.do(t, http.MethodGet, p, nil, "If-Match", v1, "If-None-Match", cur).wantError(t, http.StatusPreconditionFailed)
	s.do(t, http.MethodGet, p, nil, "If-None-Match", cur).want(t, http.StatusNotModified)
	// DELETE with a non-matching If-None-Match deletes; a missing resource
	// is 404 whatever the preconditions.
	s.do(t, http.MethodDelete, p, nil, "If-None-Match", v1).want(t, http.StatusNoContent)
	s.do(t, http.MethodDelete, p, nil, "If-None-Match", "*").wantError(t, http.StatusNotFound)
	s.do(t, http.MethodPatch, p, patchBody(op("replace", "title", "x")), "If-None-Match", "*").wantError(t, http.StatusNotFound)
}

// Entra clears a mapped attribute (mobile, work email) by removing the
// value path's "value" or setting it to "": the entry must go, not stay
// behind as {"type":"mobile"}. Before the fix GET returned such entries.
func TestReviewClearedValuePath(t *testing.T) {
	s := newServer(t)
	s.needs(t, "User", "emails", "phoneNumbers")
	body := newUser("clear@example.com")
	body["phoneNumbers"] = arr{obj{"type": "work", "value": "+1 555 0100"}, obj{"type": "mobile", "value": "+1 555 0101"}}
	u := s.create(t, "/Users", body)
	p := "/Users/" + str(u, "id")
	s.patch(t, p, op("Remove", `phoneNumbers[type eq "mobile"].value`, nil))
	got := s.get(t, p)
	if l, _ := at(got, "phoneNumbers").([]any); len(l) != 1 || str(got, "phoneNumbers", 0, "type") != "work" {
		t.Errorf("after removing the mobile number: phoneNumbers %v", got["phoneNumbers"])
	}
	s.patch(t, p, op("Replace", `emails[type eq "work"].value`, ""), op("Replace", `phoneNumbers[type eq "work"].value`, ""))
	got = s.get(t, p)
	if has(got, "emails") || has(got, "phoneNumbers") {
		t.Errorf("after clearing the work email and phone: %v / %v", got["emails"], got["phoneNumbers"])
	}
	if s.count(t, "/Users", `phoneNumbers.type eq "mobile"`) != 0 || s.count(t, "/Users", `emails pr`) != 0 {
		t.Error("the search index still has the cleared entries")
	}
}

// A manager changed to another id (Entra: Replace with a bare string or
// {"value": id}) must not keep the previous manager's $ref.
func TestReviewManagerChange(t *testing.T) {
	s := newServer(t)
	s.needs(t, "User", enterpriseURN+":manager")
	m1 := str(s.create(t, "/Users", newUser("m1@example.com")), "id")
	m2 := str(s.create(t, "/Users", newUser("m2@example.com")), "id")
	u := s.create(t, "/Users", newUser("report@example.com"))
	p := "/Users/" + str(u, "id")
	mgr := enterpriseURN + ":manager"
	s.patch(t, p, op("Add", "manager", arr{obj{"$ref": s.base + "/Users/" + m1, "value": m1}}))
	got := s.get(t, p)
	if str(got, enterpriseURN, "manager", "value") != m1 {
		t.Fatalf("manager after add: %v", got[enterpriseURN])
	}
	s.patch(t, p, op("Replace", mgr, m2))
	got = s.get(t, p)
	if str(got, enterpriseURN, "manager", "value") != m2 {
		t.Fatalf("manager after replace: %v", got[enterpriseURN])
	}
	if ref := str(got, enterpriseURN, "manager", "$ref"); ref != "" && ref != s.base+"/Users/"+m2 {
		t.Errorf("manager.value is %s but $ref still names %s", m2, ref)
	}
	if s.count(t, "/Users", `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "`+m2+`"`) != 1 {
		t.Error("filter on the new manager finds nothing")
	}
}

// Many clients PATCH one user at once, each changing something else: every
// PATCH must land (RFC 7644 §3.5.2 operations are relative, so none needs
// the client to retry). Before the fix, PATCHes that lost the optimistic
// race more than 8 times answered 409, which a burst of 40 reached.
func TestReviewConcurrentUserPatches(t *testing.T) {
	s := newServer(t)
	s.needs(t, "User", "emails")
	u := s.create(t, "/Users", newUser("busy@example.com"))
	p := "/Users/" + str(u, "id")
	const writers = 40
	var wg sync.WaitGroup
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.do(t, http.MethodPatch, p, patchBody(op("add", "emails", arr{obj{"type": "other", "value": fmt.Sprintf("e%d@example.com", i)}}))).
				check(t, http.StatusNoContent)
		}()
	}
	wg.Wait()
	got := s.get(t, p)
	if l, _ := got["emails"].([]any); len(l) != 1+writers {
		t.Errorf("%d emails after %d concurrent adds, want %d", len(l), writers, 1+writers)
	}
	if v := str(got, "meta", "version"); v != fmt.Sprintf(`W/"%d"`, 1+writers) {
		t.Errorf("version %s, want W/\"%d\"", v, 1+writers)
	}
}
