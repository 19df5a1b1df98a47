package conformance

import (
	"slices"
	"strings"
	"testing"

	"github.com/scimforge/scimforge/scim/schema"
)

// create POSTs a body (201) and returns the new resource.
func (r *runner) create(t *testing.T, b map[string]any) (string, map[string]any) {
	t.Helper()
	doc := r.c.do(t, "POST", r.endpoint(), b).want(t, 201).doc
	id, _ := doc["id"].(string)
	if id == "" {
		t.Fatalf("POST %s: the response has no id: %s", r.endpoint(), show(doc))
	}
	return id, doc
}

// checkResource checks a returned resource against the body that made it:
// every attribute sent and returned by default is there with the value
// sent (those in asked too, for returned "request" ones), none that is
// never returned is there, and nothing returned on request only unless
// asked.
func (r *runner) checkResource(t *testing.T, ty *resourceType, sent, got map[string]any, what string, asked ...string) {
	t.Helper()
	if id, _ := got["id"].(string); id == "" {
		t.Errorf("%s: no id: %s", what, show(got))
	}
	if s, _ := got["schemas"].([]any); !slices.ContainsFunc(s, func(v any) bool { u, _ := v.(string); return strings.EqualFold(u, ty.rt.Core.ID) }) {
		t.Errorf("%s: schemas %s lacks %s", what, show(got["schemas"]), ty.rt.Core.ID)
	}
	for _, f := range ty.fields {
		g, present := lookup(got, f)
		w, sent := lookup(sent, f)
		switch {
		case hidden(f.a):
			if present {
				t.Errorf("%s: %s is returned %q, mutability %q, yet the response has it: %s", what, f.path(), f.a.Returned, f.a.Mutability, show(g))
			}
		case f.a.Returned == schema.ReturnedRequest && !slices.ContainsFunc(asked, func(p string) bool { return strings.EqualFold(p, f.path()) }):
			if present {
				t.Errorf("%s: %s is returned on request only, yet the response has it unasked: %s", what, f.path(), show(g))
			}
		case sent && writable(f.a):
			if !present {
				t.Errorf("%s: %s was sent (%s) but is not in the response", what, f.path(), show(w))
			} else if err := same(f.a, w, g); err != nil {
				t.Errorf("%s: %s: %v", what, f.path(), err)
			}
		}
		if present && f.a.Type == schema.Complex {
			// Sub-attributes never returned, in any value.
			for _, el := range elements(g) {
				m, _ := el.(map[string]any)
				for _, s := range f.a.SubAttributes {
					if _, has := member(m, s.Name); has && hidden(s) {
						t.Errorf("%s: %s.%s is never returned, yet the response has it", what, f.path(), s.Name)
					}
				}
			}
		}
	}
}

// createAndRead: POST with a value for every writable attribute, then GET
// and a filter on id return the same resource, with meta and ETag.
func (r *runner) createAndRead(t *testing.T) {
	ty := r.self()
	b := ty.body(r.next(), nil)
	resp := r.c.do(t, "POST", r.endpoint(), b).want(t, 201)
	id, _ := resp.doc["id"].(string)
	r.checkResource(t, ty, b, resp.doc, "POST response")
	meta, _ := resp.doc["meta"].(map[string]any)
	if rtName, _ := meta["resourceType"].(string); rtName != r.rt.Name {
		t.Errorf("POST response: meta.resourceType %q, want %q", rtName, r.rt.Name)
	}
	loc, _ := meta["location"].(string)
	if !strings.HasSuffix(loc, r.endpoint()+"/"+id) {
		t.Errorf("POST response: meta.location %q does not end with %s/%s", loc, r.endpoint(), id)
	}
	if h := resp.header.Get("Location"); h != loc {
		t.Errorf("POST response: Location header %q, want meta.location %q", h, loc)
	}
	if v, _ := meta["version"].(string); v == "" || resp.header.Get("ETag") != v {
		t.Errorf("POST response: ETag %q, meta.version %q: want both, equal", resp.header.Get("ETag"), v)
	}
	for _, m := range []string{"created", "lastModified"} {
		if s, _ := meta[m].(string); s == "" {
			t.Errorf("POST response: no meta.%s", m)
		}
	}
	got := r.get(t, id)
	r.checkResource(t, ty, b, got, "GET")
	found := r.list(t, "filter", `id eq "`+id+`"`)
	if len(found) != 1 {
		t.Fatalf("filter id eq: %d resources, want 1", len(found))
	}
	r.checkResource(t, ty, b, found[0], "list")
}

// replace: PUT with new values for every writable attribute (immutable
// ones unchanged) answers and stores the new resource.
func (r *runner) replace(t *testing.T) {
	ty := r.self()
	b := ty.body(r.next(), nil)
	id, _ := r.create(t, b)
	b2 := ty.body(r.next(), nil)
	for _, f := range ty.fields {
		if f.a.Mutability == schema.Immutable {
			if v, ok := lookup(b, f); ok {
				set(b2, f, v)
			}
		}
	}
	resp := r.c.do(t, "PUT", r.endpoint()+"/"+id, b2).want(t, 200)
	r.checkResource(t, ty, b2, resp.doc, "PUT response")
	r.checkResource(t, ty, b2, r.get(t, id), "GET after PUT")
	// A PUT leaves out what it does not send (RFC 7644 §3.5.1).
	m := ty.minimal(r.next())
	for _, f := range ty.fields {
		if f.a.Mutability == schema.Immutable {
			if v, ok := lookup(b, f); ok {
				set(m, f, v)
			}
		}
	}
	r.c.do(t, "PUT", r.endpoint()+"/"+id, m).want(t, 200)
	got := r.get(t, id)
	r.checkResource(t, ty, m, got, "GET after PUT of the required attributes only")
	for _, f := range ty.fields {
		if _, sent := lookup(m, f); !sent && writable(f.a) && !hidden(f.a) {
			if v, has := lookup(got, f); has {
				t.Errorf("GET after PUT without %s: still %s", f.path(), show(v))
			}
		}
	}
}

// delete: DELETE answers 204, then the resource is gone (404).
func (r *runner) delete(t *testing.T) {
	id, _ := r.create(t, r.self().minimal(r.next()))
	r.c.do(t, "DELETE", r.endpoint()+"/"+id, nil).want(t, 204)
	r.c.do(t, "GET", r.endpoint()+"/"+id, nil).wantError(t, 404, "")
	r.c.do(t, "DELETE", r.endpoint()+"/"+id, nil).wantError(t, 404, "")
	if got := r.list(t, "filter", `id eq "`+id+`"`); len(got) != 0 {
		t.Errorf("filter id eq a deleted resource: %s", show(got))
	}
}
