package conformance

import (
	"slices"
	"strings"
	"testing"

	"github.com/scimforge/scimforge/scim/schema"
)

// memberType picks the resource type of the members the run creates: one
// the members attribute references (members.type's canonical values,
// members.$ref's referenceTypes), another type before the group type
// itself.
func (r *runner) memberType(t *testing.T) *resourceType {
	members := r.rt.Core.Attr("members")
	var names []string
	if s := members.Sub("type"); s != nil {
		names = append(names, s.CanonicalValues...)
	}
	if s := members.Sub("$ref"); s != nil {
		names = append(names, s.ReferenceTypes...)
	}
	var pick *schema.ResourceType
	for _, n := range names {
		if rt := r.suite.Set.ResourceType(n); rt != nil && (pick == nil || pick == r.rt) {
			pick = rt
		}
	}
	if pick == nil {
		t.Logf("members of %s name no resource type (members.type canonicalValues, members.$ref referenceTypes): using %s itself", r.rt.Name, r.rt.Name)
		pick = r.rt
	}
	if pick == r.rt {
		return r.self()
	}
	ty := &resourceType{rt: pick, samples: r.suite.Samples[pick.Name], fields: fields(pick, false)}
	if err := r.checkSamples(pick, ty.samples); err != nil {
		t.Fatal(err)
	}
	return ty
}

// members: a created member is added (on create and by PATCH), found by a
// members.value filter, shown in the member's own "groups", added twice
// but stored once, removed by a value filter path, by PUT and by its own
// deletion; an id that names nothing is refused.
func (r *runner) members(t *testing.T) {
	mt := r.memberType(t)
	memberEndpoint := "/" + strings.TrimPrefix(mt.rt.Endpoint, "/")
	mid := r.c.do(t, "POST", memberEndpoint, mt.body(r.next(), nil)).want(t, 201).doc["id"].(string)
	ty := r.self()
	g := ty.body(r.next(), nil)
	withMember := copyBody(g).(map[string]any)
	withMember["members"] = []any{map[string]any{"value": mid}}
	gid, doc := r.create(t, withMember)
	hasMember := func(doc map[string]any, what string, want bool) {
		t.Helper()
		var found map[string]any
		n := 0
		ms, _ := member(doc, "members")
		for _, m := range elements(ms) {
			if m, ok := m.(map[string]any); ok && m["value"] == mid {
				found = m
				n++
			}
		}
		switch {
		case want && n != 1:
			t.Errorf("%s: member %s appears %d times, want once: %s", what, mid, n, show(ms))
		case !want && n > 0:
			t.Errorf("%s: member %s is still there: %s", what, mid, show(ms))
		case want:
			if typ, has := found["type"]; has && !strings.EqualFold(typ.(string), mt.rt.Name) {
				t.Errorf("%s: member type %v, want %s", what, typ, mt.rt.Name)
			}
		}
	}
	hasMember(doc, "POST response", true)
	hasMember(r.get(t, gid), "GET", true)
	if got := ids(r.list(t, "filter", `members.value eq "`+mid+`"`)); !slices.Contains(got, gid) {
		t.Errorf("filter members.value eq the member: %v lacks %s", got, gid)
	}
	if groups := mt.rt.Core.Attr("groups"); groups != nil && groups.Mutability == schema.ReadOnly {
		md := r.c.do(t, "GET", memberEndpoint+"/"+mid, nil).want(t, 200).doc
		gs, _ := member(md, "groups")
		if !slices.ContainsFunc(elements(gs), func(v any) bool { m, _ := v.(map[string]any); return m["value"] == gid }) {
			t.Errorf("the member's groups %s lacks %s", show(gs), gid)
		}
	}
	r.patch(t, gid, op{Op: "remove", Path: `members[value eq "` + mid + `"]`})
	hasMember(r.get(t, gid), "GET after PATCH remove members[value eq id]", false)
	add := op{Op: "add", Path: "members", Value: []any{map[string]any{"value": mid}}}
	r.patch(t, gid, add)
	r.patch(t, gid, add)
	hasMember(r.get(t, gid), "GET after PATCH add members (twice)", true)
	r.c.do(t, "PUT", r.endpoint()+"/"+gid, g).want(t, 200)
	hasMember(r.get(t, gid), "GET after PUT without members", false)
	r.patch(t, gid, add)
	r.c.do(t, "PATCH", r.endpoint()+"/"+gid, patchBody(op{Op: "add", Path: "members", Value: []any{map[string]any{"value": "no-such-member"}}})).wantError(t, 400, "invalidValue")
	hasMember(r.get(t, gid), "GET after a refused PATCH", true)
	r.c.do(t, "DELETE", memberEndpoint+"/"+mid, nil).want(t, 204)
	hasMember(r.get(t, gid), "GET after the member's deletion", false)
}
