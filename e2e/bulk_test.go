package e2e

import (
	"net/http"
	"slices"
	"strings"
	"testing"
)

const (
	bulkRequestURN  = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
	bulkResponseURN = "urn:ietf:params:scim:api:messages:2.0:BulkResponse"
	patchOpURN      = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
)

func bulkBody(failOnErrors int, ops ...obj) obj {
	b := obj{"schemas": arr{bulkRequestURN}, "Operations": ops}
	if failOnErrors > 0 {
		b["failOnErrors"] = failOnErrors
	}
	return b
}

// bulkOps checks a 200 BulkResponse and returns its operations.
func bulkOps(t *testing.T, r *response) []map[string]any {
	t.Helper()
	r.want(t, http.StatusOK)
	if !slices.Equal(strs(r.JSON["schemas"]), []string{bulkResponseURN}) {
		t.Errorf("%s: schemas %v, want [%s]", r.desc, r.JSON["schemas"], bulkResponseURN)
	}
	raw, _ := r.JSON["Operations"].([]any)
	var ops []map[string]any
	for _, o := range raw {
		m, _ := o.(map[string]any)
		ops = append(ops, m)
		st, ok := m["status"].(string)
		if !ok {
			t.Errorf("%s: status %#v is not a string", r.desc, m["status"])
			continue
		}
		if st[0] != '2' {
			// A failure carries the SCIM Error body of its status.
			e, _ := m["response"].(map[string]any)
			if !slices.Contains(strs(e["schemas"]), errorURN) || e["status"] != st || str(e, "detail") == "" {
				t.Errorf("%s: failed operation without a SCIM error body: %v", r.desc, m)
			}
		}
	}
	return ops
}

func opStatuses(ops []map[string]any) []string {
	var s []string
	for _, o := range ops {
		s = append(s, strings.Join(strings.Fields(str(o, "method")+" "+str(o, "bulkId")+" "+str(o, "status")), " "))
	}
	return s
}

func idOf(t *testing.T, location string) string {
	t.Helper()
	i := strings.LastIndexByte(location, '/')
	if i < 0 || location[i+1:] == "" {
		t.Fatalf("location %q has no id", location)
	}
	return location[i+1:]
}

// TestBulk runs RFC 7644 §3.7 bulk requests against the real server: a
// group listed before the users it references by bulkId, PATCH and DELETE
// by bulkId path, a stale version failing only its operation, failOnErrors,
// and the limits /ServiceProviderConfig advertises.
func TestBulk(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	s.needs(t, "User", "active", "groups", "title")

	spc := s.do(t, http.MethodGet, "/ServiceProviderConfig", nil).want(t, http.StatusOK)
	if at(spc.JSON, "bulk", "supported") != true {
		t.Fatalf("bulk.supported is not true: %s", spc.Body)
	}
	maxOps, _ := intOf(at(spc.JSON, "bulk", "maxOperations"))
	maxPayload, _ := intOf(at(spc.JSON, "bulk", "maxPayloadSize"))
	if maxOps < 1 || maxPayload < 1<<20 {
		t.Fatalf("bulk limits maxOperations %d, maxPayloadSize %d", maxOps, maxPayload)
	}

	r := s.do(t, http.MethodPost, "/Bulk", bulkBody(0,
		obj{"method": "POST", "path": "/Groups", "bulkId": "team", "data": obj{
			"schemas": arr{groupURN}, "displayName": "Bulk Team",
			"members": arr{obj{"value": "bulkId:alice", "type": "User"}, obj{"value": "bulkId:bob"}},
		}},
		obj{"method": "post", "path": "/Users", "bulkId": "alice", "data": newUser("bulk.alice@example.com")},
		obj{"method": "POST", "path": "/users", "bulkId": "bob", "data": newUser("bulk.bob@example.com")},
		obj{"method": "POST", "path": "/Users", "bulkId": "carol", "data": newUser("bulk.carol@example.com")},
		obj{"method": "PATCH", "path": "/Users/bulkId:alice", "data": obj{
			"schemas":    arr{patchOpURN},
			"Operations": arr{obj{"op": "replace", "path": "displayName", "value": "Alice (bulk)"}},
		}},
		obj{"method": "DELETE", "path": "/Users/bulkId:carol"},
	))
	ops := bulkOps(t, r)
	want := []string{"POST team 201", "POST alice 201", "POST bob 201", "POST carol 201", "PATCH 204", "DELETE 204"}
	if got := opStatuses(ops); !slices.Equal(got, want) {
		t.Fatalf("results %q, want %q; body %s", got, want, r.Body)
	}
	groupID := idOf(t, str(ops[0], "location"))
	alice, bob, carol := idOf(t, str(ops[1], "location")), idOf(t, str(ops[2], "location")), idOf(t, str(ops[3], "location"))
	if str(ops[1], "location") != s.base+"/Users/"+alice || str(ops[1], "version") == "" {
		t.Errorf("POST result %v: want location under %s/Users and a version", ops[1], s.base)
	}
	if str(ops[4], "location") != s.base+"/Users/"+alice || str(ops[5], "location") != s.base+"/Users/"+carol {
		t.Errorf("PATCH/DELETE by bulkId path went to %v, %v", ops[4]["location"], ops[5]["location"])
	}

	g := s.do(t, http.MethodGet, "/Groups/"+groupID, nil).want(t, http.StatusOK)
	var members []string
	for _, m := range at(g.JSON, "members").([]any) {
		members = append(members, str(m, "value"))
	}
	slices.Sort(members)
	wantMembers := []string{alice, bob}
	slices.Sort(wantMembers)
	if !slices.Equal(members, wantMembers) {
		t.Errorf("group members %v, want the created users %v", members, wantMembers)
	}
	a := s.do(t, http.MethodGet, "/Users/"+alice, nil).want(t, http.StatusOK)
	if str(a.JSON, "displayName") != "Alice (bulk)" {
		t.Errorf("PATCH by bulkId path did not apply: %s", a.Body)
	}
	if gs := at(a.JSON, "groups"); gs == nil || str(gs.([]any)[0], "value") != groupID {
		t.Errorf("alice's groups %v, want the bulk group", gs)
	}
	if v := str(a.JSON, "meta", "version"); v != str(ops[4], "version") {
		t.Errorf("PATCH result version %v, resource at %s", ops[4]["version"], v)
	}
	s.do(t, http.MethodGet, "/Users/"+carol, nil).wantError(t, http.StatusNotFound)

	t.Run("version mismatch fails only its operation", func(t *testing.T) {
		bobVersion := str(ops[2], "version")
		r := s.do(t, http.MethodPost, "/Bulk", bulkBody(0,
			obj{"method": "PUT", "path": "/Users/" + alice, "version": `W/"1"`, "data": newUser("bulk.alice@example.com")},
			obj{"method": "PATCH", "path": "/Users/" + bob, "version": bobVersion, "data": obj{
				"schemas": arr{patchOpURN}, "Operations": arr{obj{"op": "replace", "path": "title", "value": "Builder"}},
			}},
		))
		ops := bulkOps(t, r)
		if got := opStatuses(ops); !slices.Equal(got, []string{"PUT 412", "PATCH 204"}) {
			t.Fatalf("results %q; body %s", got, r.Body)
		}
		if a := s.do(t, http.MethodGet, "/Users/"+alice, nil); str(a.JSON, "displayName") != "Alice (bulk)" {
			t.Errorf("the stale PUT changed the user: %s", a.Body)
		}
		if b := s.do(t, http.MethodGet, "/Users/"+bob, nil); str(b.JSON, "title") != "Builder" {
			t.Errorf("the PATCH with a current version did not apply: %s", b.Body)
		}
	})

	t.Run("engine errors per operation", func(t *testing.T) {
		r := s.do(t, http.MethodPost, "/Bulk", bulkBody(0,
			obj{"method": "POST", "path": "/Users", "bulkId": "dup", "data": newUser("BULK.ALICE@example.com")},
			obj{"method": "POST", "path": "/Groups", "bulkId": "g2", "data": obj{"schemas": arr{groupURN}, "displayName": "G2", "members": arr{obj{"value": "bulkId:dup"}}}},
			obj{"method": "POST", "path": "/Users", "bulkId": "bad", "data": obj{"schemas": arr{userURN}, "userName": "bulk.bad@example.com", "active": "maybe"}},
			obj{"method": "GET", "path": "/Users"},
			obj{"method": "DELETE", "path": "/Widgets/1"},
			obj{"method": "POST", "path": "/Groups", "bulkId": "c1", "data": obj{"schemas": arr{groupURN}, "displayName": "C1", "members": arr{obj{"value": "bulkId:c2"}}}},
			obj{"method": "POST", "path": "/Groups", "bulkId": "c2", "data": obj{"schemas": arr{groupURN}, "displayName": "C2", "members": arr{obj{"value": "bulkId:c1"}}}},
		))
		ops := bulkOps(t, r)
		want := []string{"POST dup 409", "POST g2 409", "POST bad 400", "GET 400", "DELETE 400", "POST c1 409", "POST c2 409"}
		if got := opStatuses(ops); !slices.Equal(got, want) {
			t.Fatalf("results %q, want %q; body %s", got, want, r.Body)
		}
		for i, typ := range map[int]string{0: "uniqueness", 2: "invalidValue", 3: "invalidSyntax", 4: "invalidPath"} {
			if got := str(ops[i], "response", "scimType"); got != typ {
				t.Errorf("op %d scimType %q, want %q", i, got, typ)
			}
		}
		if n := s.count(t, "/Groups", `displayName eq "C1" or displayName eq "C2" or displayName eq "G2"`); n != 0 {
			t.Errorf("%d groups created by failed operations", n)
		}
	})

	t.Run("failOnErrors stops early", func(t *testing.T) {
		r := s.do(t, http.MethodPost, "/Bulk", bulkBody(1,
			obj{"method": "POST", "path": "/Users", "bulkId": "again", "data": newUser("bulk.bob@example.com")},
			obj{"method": "POST", "path": "/Users", "bulkId": "never", "data": newUser("bulk.never@example.com")},
		))
		ops := bulkOps(t, r)
		if got := opStatuses(ops); !slices.Equal(got, []string{"POST again 409"}) {
			t.Fatalf("results %q; body %s", got, r.Body)
		}
		if n := s.count(t, "/Users", `userName eq "bulk.never@example.com"`); n != 0 {
			t.Errorf("the operation after failOnErrors was reached ran")
		}
	})

	t.Run("413 too many operations", func(t *testing.T) {
		ops := []obj{{"method": "POST", "path": "/Users", "bulkId": "first", "data": newUser("bulk.first@example.com")}}
		for len(ops) <= int(maxOps) {
			ops = append(ops, obj{"method": "DELETE", "path": "/Users/none"})
		}
		r := s.do(t, http.MethodPost, "/Bulk", bulkBody(0, ops...))
		r.wantError(t, http.StatusRequestEntityTooLarge)
		if has(r.JSON, "scimType") {
			t.Errorf("413 with scimType %v; RFC 7644 §3.7.4 gives none", r.JSON["scimType"])
		}
		if n := s.count(t, "/Users", `userName eq "bulk.first@example.com"`); n != 0 {
			t.Errorf("an operation of a rejected request ran")
		}
	})

	t.Run("413 payload over maxPayloadSize", func(t *testing.T) {
		pad := strings.Repeat(" ", int(maxPayload))
		r := s.do(t, http.MethodPost, "/Bulk", `{"schemas":["`+bulkRequestURN+`"],"Operations":[]`+pad+`}`)
		r.wantError(t, http.StatusRequestEntityTooLarge)
		// Above the 1 MiB of single requests but within maxPayloadSize: read.
		r = s.do(t, http.MethodPost, "/Bulk", `{"schemas":["`+bulkRequestURN+`"],"Operations":[{"method":"DELETE","path":"/Users/none"}]`+strings.Repeat(" ", 1<<20)+`}`)
		if got := opStatuses(bulkOps(t, r)); !slices.Equal(got, []string{"DELETE 404"}) {
			t.Errorf("results %q", got)
		}
	})

	t.Run("request errors", func(t *testing.T) {
		s.do(t, http.MethodPost, "/Bulk", `{"schemas":`).wantError(t, http.StatusBadRequest, "invalidSyntax")
		s.do(t, http.MethodPost, "/Bulk", obj{"Operations": arr{}}).wantError(t, http.StatusBadRequest, "invalidSyntax")
		s.do(t, http.MethodPost, "/Bulk", bulkBody(0,
			obj{"method": "POST", "path": "/Users", "bulkId": "x", "data": obj{}},
			obj{"method": "POST", "path": "/Groups", "bulkId": "x", "data": obj{}},
		)).wantError(t, http.StatusBadRequest, "invalidValue")
		s.do(t, http.MethodGet, "/Bulk", nil).wantError(t, http.StatusMethodNotAllowed)
		r := s.do(t, http.MethodPost, "/bulk/", bulkBody(0, obj{"method": "DELETE", "path": "/Users/none"}))
		if got := opStatuses(bulkOps(t, r)); !slices.Equal(got, []string{"DELETE 404"}) {
			t.Errorf("/bulk/: results %q", got)
		}
	})
}
