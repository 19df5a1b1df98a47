package conformance

import (
	"fmt"
	"strings"
	"testing"

	"github.com/scimforge/scimforge/scim/schema"
)

const patchOpURN = "urn:ietf:params:scim:api:messages:2.0:PatchOp"

// op is one PATCH operation.
type op struct {
	Op    string `json:"op"`
	Path  string `json:"path,omitempty"`
	Value any    `json:"value,omitempty"`
}

func patchBody(ops ...op) map[string]any {
	return map[string]any{"schemas": []any{patchOpURN}, "Operations": ops}
}

// patch sends operations and wants them applied (204, or 200 with the
// resource, which is then checked for attributes never returned).
func (r *runner) patch(t *testing.T, id string, ops ...op) {
	t.Helper()
	resp := r.c.do(t, "PATCH", r.endpoint()+"/"+id, patchBody(ops...), "Prefer", "return=representation").want(t, 200, 204)
	if resp.status == 200 {
		r.checkHidden(t, resp.doc, fmt.Sprintf("PATCH %s response", ops[0].Path))
	}
}

// patchFails sends operations and wants a 400 with scimType ("" any).
func (r *runner) patchFails(t *testing.T, id, scimType string, ops ...op) {
	t.Helper()
	r.c.do(t, "PATCH", r.endpoint()+"/"+id, patchBody(ops...)).wantError(t, 400, scimType)
}

// checkHidden fails when a response has an attribute never returned.
func (r *runner) checkHidden(t *testing.T, doc map[string]any, what string) {
	t.Helper()
	for _, f := range r.fields {
		if v, has := lookup(doc, f); has && hidden(f.a) {
			t.Errorf("%s: has %s (returned %q, mutability %q): %s", what, f.path(), f.a.Returned, f.a.Mutability, show(v))
		}
	}
}

// current reads f of a resource (asking for it when it is returned on
// request only).
func (r *runner) current(t *testing.T, id string, f field) (any, bool) {
	t.Helper()
	var doc map[string]any
	if f.a.Returned == schema.ReturnedRequest {
		doc = r.get(t, id, "attributes", f.path())
	} else {
		doc = r.get(t, id)
	}
	r.checkHidden(t, doc, "GET")
	return lookup(doc, f)
}

// expect checks f's stored value after a PATCH (nil: absent). For
// attributes never returned, only that they are not.
func (r *runner) expect(t *testing.T, id string, f field, want any, after string) {
	t.Helper()
	got, has := r.current(t, id, f)
	switch {
	case hidden(f.a):
	case want == nil && has:
		t.Errorf("after %s: %s is still %s, want it removed", after, f.path(), show(got))
	case want != nil && !has:
		t.Errorf("after %s: %s is absent, want %s", after, f.path(), show(want))
	case want != nil:
		if err := same(f.a, want, got); err != nil {
			t.Errorf("after %s: %v", after, err)
		}
	}
}

// patchAll: for every writable attribute, PATCH add, replace and remove by
// path (sub-attributes, values selected by a value filter, extension
// attributes by URN path).
func (r *runner) patchAll(t *testing.T) {
	ty := r.self()
	for _, f := range ty.fields {
		if !writable(f.a) {
			continue
		}
		t.Run(f.path(), func(t *testing.T) {
			k := r.next()
			id, _ := r.create(t, ty.body(k, nil))
			switch {
			case f.a.Mutability == schema.Immutable:
				r.patchImmutable(t, ty, id, f, ty.value(f.a, k))
			case f.a.MultiValued && f.a.Type == schema.Complex:
				r.patchMultiComplex(t, ty, id, f, k)
			case f.a.MultiValued:
				r.patchMultiSimple(t, ty, id, f, k)
			case f.a.Type == schema.Complex:
				r.patchComplex(t, ty, id, f, k)
			default:
				r.patchSimple(t, ty, id, f)
			}
		})
	}
}

// removeAll removes the attribute, or, when it is required, checks that
// the server refuses to.
func (r *runner) removeAll(t *testing.T, id string, f field) {
	t.Helper()
	if f.required {
		r.patchFails(t, id, "", op{Op: "remove", Path: f.path()})
		return
	}
	r.patch(t, id, op{Op: "remove", Path: f.path()})
	r.expect(t, id, f, nil, "remove "+f.path())
}

func (r *runner) patchSimple(t *testing.T, ty *resourceType, id string, f field) {
	v := ty.value(f.a, r.next())
	r.patch(t, id, op{Op: "replace", Path: f.path(), Value: v})
	r.expect(t, id, f, v, "replace "+f.path())
	r.removeAll(t, id, f)
	v = ty.value(f.a, r.next())
	r.patch(t, id, op{Op: "add", Path: f.path(), Value: v})
	r.expect(t, id, f, v, "add "+f.path())
}

func (r *runner) patchImmutable(t *testing.T, ty *resourceType, id string, f field, v any) {
	r.patch(t, id, op{Op: "replace", Path: f.path(), Value: v}) // the same value: no change
	r.expect(t, id, f, v, "replace "+f.path()+" with its own value")
	other := ty.value(f.a, r.next())
	r.patchFails(t, id, "mutability", op{Op: "replace", Path: f.path(), Value: other})
	r.expect(t, id, f, v, "a refused replace of immutable "+f.path())
}

func (r *runner) patchComplex(t *testing.T, ty *resourceType, id string, f field, k int) {
	want := ty.value(f.a, r.next()).(map[string]any)
	r.patch(t, id, op{Op: "replace", Path: f.path(), Value: want})
	r.expect(t, id, f, want, "replace "+f.path())
	for _, s := range f.a.SubAttributes {
		if !writable(s) {
			continue
		}
		p := f.path() + "." + s.Name
		v, _ := Vary(s, ty.samples[Key(ty.rt, s)], r.next())
		r.patch(t, id, op{Op: "replace", Path: p, Value: v})
		if strings.EqualFold(s.Name, "value") && !equal(s, want[s.Name], v) {
			// A new "value" names another referent (a manager): the
			// $ref and display the server kept described the old one,
			// so it drops them.
			want = map[string]any{}
		}
		want[s.Name] = v
		r.expect(t, id, f, want, "replace "+p)
		if s.Required || hidden(s) {
			continue
		}
		r.patch(t, id, op{Op: "remove", Path: p})
		delete(want, s.Name)
		if got, has := r.current(t, id, f); has {
			if sv, still := member(got.(map[string]any), s.Name); still {
				t.Errorf("after remove %s: still %s", p, show(sv))
			}
		}
		r.patch(t, id, op{Op: "add", Path: p, Value: v})
		want[s.Name] = v
		r.expect(t, id, f, want, "add "+p)
	}
	r.removeAll(t, id, f)
}

func (r *runner) patchMultiSimple(t *testing.T, ty *resourceType, id string, f field, k int) {
	v1 := elements(ty.value(f.a, k))[0]
	v2 := ty.element(f.a, r.next(), false)
	r.patch(t, id, op{Op: "add", Path: f.path(), Value: []any{v2}})
	r.expect(t, id, f, []any{v1, v2}, "add "+f.path())
	// RFC 7644 defines value filters on complex attributes only, so one
	// value of a multi-valued simple attribute goes by replacing the list.
	r.patch(t, id, op{Op: "replace", Path: f.path(), Value: []any{v1}})
	r.expect(t, id, f, []any{v1}, "replace "+f.path()+" with one value of two")
	v3 := ty.value(f.a, r.next())
	r.patch(t, id, op{Op: "replace", Path: f.path(), Value: v3})
	r.expect(t, id, f, v3, "replace "+f.path())
	r.removeAll(t, id, f)
}

// selector picks the sub-attribute of a multi-valued complex attribute
// that value filters select values by ("value" when it can), and another
// one to change in the selected value.
func selector(a *schema.Attribute) (key, other *schema.Attribute) {
	usable := func(s *schema.Attribute) bool {
		return writable(s) && !hidden(s) && s.Type != schema.Complex && !isPrimary(s) && s.Returned != schema.ReturnedRequest
	}
	for _, s := range a.SubAttributes {
		if usable(s) && s.Type != schema.Boolean && len(s.CanonicalValues) == 0 && (key == nil || s.Name == "value") {
			key = s
		}
	}
	for _, s := range a.SubAttributes {
		if usable(s) && s != key && (other == nil || (len(other.CanonicalValues) > 0 && len(s.CanonicalValues) == 0)) {
			other = s
		}
	}
	return key, other
}

func (r *runner) patchMultiComplex(t *testing.T, ty *resourceType, id string, f field, k int) {
	e1 := ty.element(f.a, k, true).(map[string]any)
	e2 := ty.element(f.a, r.next(), false).(map[string]any)
	r.patch(t, id, op{Op: "add", Path: f.path(), Value: []any{e2}})
	r.expect(t, id, f, []any{e1, e2}, "add "+f.path())
	key, other := selector(f.a)
	if key == nil {
		t.Logf("%s has no writable, non-boolean sub-attribute without canonical values to select values by: value filter paths not checked", f.path())
	} else {
		sel := fmt.Sprintf("%s[%s eq %s]", f.path(), key.Name, literal(e2[key.Name]))
		if other == nil {
			t.Logf("%s has no second writable sub-attribute: %s.<sub> not checked", f.path(), sel)
		} else {
			v, _ := Vary(other, ty.samples[Key(ty.rt, other)], r.next())
			p := sel + "." + other.Name
			r.patch(t, id, op{Op: "replace", Path: p, Value: v})
			e2[other.Name] = v
			r.expect(t, id, f, []any{e1, e2}, "replace "+p)
		}
		r.patch(t, id, op{Op: "remove", Path: sel})
		r.expect(t, id, f, []any{e1}, "remove "+sel)
	}
	v := ty.value(f.a, r.next())
	r.patch(t, id, op{Op: "replace", Path: f.path(), Value: v})
	r.expect(t, id, f, v, "replace "+f.path())
	r.removeAll(t, id, f)
}
