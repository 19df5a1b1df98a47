package conformance

import (
	"slices"
	"strings"
	"testing"

	"github.com/scimforge/scimforge/scim/schema"
)

// copyBody is a deep copy of a request body.
func copyBody(v any) any {
	switch v := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, x := range v {
			m[k] = copyBody(x)
		}
		return m
	case []any:
		l := make([]any, len(v))
		for i, x := range v {
			l[i] = copyBody(x)
		}
		return l
	}
	return v
}

// uniqueness: a second resource with the value of a unique attribute (in
// any case unless caseExact) is a 409 uniqueness, by POST, PUT and PATCH.
func (r *runner) uniqueness(t *testing.T) {
	ty := r.self()
	n := 0
	for _, f := range ty.fields {
		if f.a.Uniqueness == schema.UniqueNone || !writable(f.a) {
			continue
		}
		if f.a.Type == schema.Complex || f.a.MultiValued {
			t.Logf("%s: uniqueness %q on a complex or multi-valued attribute is not checked", f.path(), f.a.Uniqueness)
			continue
		}
		n++
		t.Run(f.path(), func(t *testing.T) {
			x := ty.body(r.next(), nil)
			r.create(t, x)
			v, _ := lookup(x, f)
			clash := func(v any) map[string]any {
				b := ty.body(r.next(), nil)
				set(b, f, v)
				return b
			}
			r.c.do(t, "POST", r.endpoint(), clash(v)).wantError(t, 409, "uniqueness")
			if s, ok := v.(string); ok && f.a.Type == schema.String && !f.a.CaseExact && swapCase(s) != s {
				r.c.do(t, "POST", r.endpoint(), clash(swapCase(s))).wantError(t, 409, "uniqueness")
			}
			y := ty.body(r.next(), nil)
			id, _ := r.create(t, y)
			if f.a.Mutability != schema.Immutable {
				r.c.do(t, "PATCH", r.endpoint()+"/"+id, patchBody(op{Op: "replace", Path: f.path(), Value: v})).wantError(t, 409, "uniqueness")
				y2 := copyBody(y).(map[string]any)
				set(y2, f, v)
				r.c.do(t, "PUT", r.endpoint()+"/"+id, y2).wantError(t, 409, "uniqueness")
			}
			// The refused writes changed nothing.
			got, _ := r.current(t, id, f)
			if yv, _ := lookup(y, f); !hidden(f.a) && !equal(f.a, yv, got) {
				t.Errorf("after the refused writes %s is %s, want %s", f.path(), show(got), show(yv))
			}
		})
	}
	if n == 0 {
		t.Logf("%s has no writable attribute with uniqueness server or global: nothing to check", r.rt.Name)
	}
}

// required: a resource without a required attribute (or sub-attribute of a
// value sent, or a required extension) is a 400 invalidValue, by POST and
// PUT.
func (r *runner) required(t *testing.T) {
	ty := r.self()
	n := 0
	refuse := func(t *testing.T, b map[string]any) {
		t.Helper()
		r.c.do(t, "POST", r.endpoint(), b).wantError(t, 400, "invalidValue")
		id, _ := r.create(t, ty.body(r.next(), nil))
		r.c.do(t, "PUT", r.endpoint()+"/"+id, b).wantError(t, 400, "invalidValue")
	}
	for _, f := range ty.fields {
		if !writable(f.a) {
			continue
		}
		if f.a.Required {
			n++
			t.Run(f.path(), func(t *testing.T) {
				b := ty.body(r.next(), nil)
				unset(b, f)
				refuse(t, b)
			})
		}
		if f.a.Type != schema.Complex {
			continue
		}
		for _, s := range f.a.SubAttributes {
			if !s.Required || !writable(s) {
				continue
			}
			n++
			t.Run(f.path()+"."+s.Name, func(t *testing.T) {
				b := ty.body(r.next(), nil)
				v, _ := lookup(b, f)
				for _, el := range elements(v) {
					delete(el.(map[string]any), s.Name)
				}
				refuse(t, b)
			})
		}
	}
	for i, ext := range r.rt.Extensions {
		if !r.rt.SchemaExtensions[i].Required {
			continue
		}
		n++
		t.Run(ext.ID, func(t *testing.T) {
			b := ty.body(r.next(), nil)
			delete(b, ext.ID)
			b["schemas"] = slices.DeleteFunc(b["schemas"].([]any), func(v any) bool { return v == ext.ID })
			refuse(t, b)
		})
	}
	if n == 0 {
		t.Logf("%s has no required writable attribute or extension: nothing to check", r.rt.Name)
	}
}

// anyValue is a value for any attribute, readOnly sub-attributes included:
// what a client might send for an attribute it may not write.
func (ty *resourceType) anyValue(a *schema.Attribute, k int) any {
	one := func() any {
		if a.Type != schema.Complex {
			v, _ := Vary(a, ty.samples[Key(ty.rt, a)], k)
			return v
		}
		m := map[string]any{}
		for _, s := range a.SubAttributes {
			m[s.Name], _ = Vary(s, ty.samples[Key(ty.rt, s)], k)
		}
		return m
	}
	if a.MultiValued {
		return []any{one()}
	}
	return one()
}

// mutability: readOnly input is ignored (attributes and sub-attributes,
// id and meta included), an immutable attribute cannot change once set,
// and a writeOnly attribute is never returned.
func (r *runner) mutability(t *testing.T) {
	ty := r.self()
	t.Run("readOnly ignored", func(t *testing.T) {
		k := r.next()
		b := ty.body(k, nil)
		b["id"] = "client-chosen-id"
		b["meta"] = map[string]any{"resourceType": "Nonsense", "created": "2001-01-01T00:00:00Z", "version": `W/"999"`}
		var sent []field
		for _, f := range ty.fields {
			switch {
			case !writable(f.a):
				set(b, f, ty.anyValue(f.a, k))
				sent = append(sent, f)
			case f.a.Type == schema.Complex:
				v, _ := lookup(b, f)
				for _, el := range elements(v) {
					m := el.(map[string]any)
					for _, s := range f.a.SubAttributes {
						if !writable(s) {
							m[s.Name], _ = Vary(s, ty.samples[Key(ty.rt, s)], k)
						}
					}
				}
			}
		}
		check := func(doc map[string]any, what string) {
			t.Helper()
			if doc["id"] == "client-chosen-id" {
				t.Errorf("%s: the server took the client's id", what)
			}
			if meta, _ := doc["meta"].(map[string]any); meta["resourceType"] != r.rt.Name || meta["created"] == "2001-01-01T00:00:00Z" {
				t.Errorf("%s: the server took the client's meta: %s", what, show(meta))
			}
			for _, f := range sent {
				if g, has := lookup(doc, f); has {
					if w, _ := lookup(b, f); same(f.a, w, g) == nil {
						t.Errorf("%s: readOnly %s took the value sent: %s", what, f.path(), show(g))
					}
				}
			}
			for _, f := range ty.fields {
				if !writable(f.a) || f.a.Type != schema.Complex {
					continue
				}
				g, _ := lookup(doc, f)
				w, _ := lookup(b, f)
				for i, el := range elements(g) {
					gm, _ := el.(map[string]any)
					wm, _ := elements(w)[min(i, len(elements(w))-1)].(map[string]any)
					for _, s := range f.a.SubAttributes {
						if gv, has := member(gm, s.Name); has && !writable(s) && equal(s, wm[s.Name], gv) {
							t.Errorf("%s: readOnly %s.%s took the value sent: %s", what, f.path(), s.Name, show(gv))
						}
					}
				}
			}
		}
		id, doc := r.create(t, b)
		check(doc, "POST response")
		check(r.get(t, id), "GET after POST")
		check(r.c.do(t, "PUT", r.endpoint()+"/"+id, b).want(t, 200).doc, "PUT response")
		check(r.get(t, id), "GET after PUT")
		if len(sent) == 0 {
			t.Logf("%s has no readOnly attribute besides id and meta", r.rt.Name)
		}
	})
	n := 0
	for _, f := range ty.fields {
		if f.a.Mutability != schema.Immutable {
			continue
		}
		n++
		t.Run("immutable "+f.path(), func(t *testing.T) {
			b := ty.body(r.next(), nil)
			id, _ := r.create(t, b)
			v, _ := lookup(b, f)
			other := ty.body(r.next(), nil)
			r.c.do(t, "PUT", r.endpoint()+"/"+id, other).wantError(t, 400, "mutability")
			r.patchFails(t, id, "mutability", op{Op: "replace", Path: f.path(), Value: ty.value(f.a, r.next())})
			r.expect(t, id, f, v, "refused changes")
			set(other, f, v)
			r.c.do(t, "PUT", r.endpoint()+"/"+id, other).want(t, 200)
			if !f.required {
				// Never set, it may be set once.
				m := ty.minimal(r.next())
				id, _ := r.create(t, m)
				v := ty.value(f.a, r.next())
				r.patch(t, id, op{Op: "add", Path: f.path(), Value: v})
				r.expect(t, id, f, v, "setting immutable "+f.path()+" the first time")
				r.patchFails(t, id, "mutability", op{Op: "replace", Path: f.path(), Value: ty.value(f.a, r.next())})
			}
		})
	}
	for _, f := range ty.fields {
		if f.a.Mutability != schema.WriteOnly {
			continue
		}
		n++
		t.Run("writeOnly "+f.path(), func(t *testing.T) {
			r.neverReturned(t, ty, f)
		})
	}
	if n == 0 {
		t.Logf("%s has no immutable or writeOnly attribute", r.rt.Name)
	}
}

// neverReturned: f, sent on create and replace, is in no response: POST,
// GET, GET and list asking for it, PUT, PATCH.
func (r *runner) neverReturned(t *testing.T, ty *resourceType, f field) {
	t.Helper()
	b := ty.body(r.next(), nil)
	id, doc := r.create(t, b)
	docs := map[string]map[string]any{"POST response": doc, "GET": r.get(t, id), "GET asking for it": r.get(t, id, "attributes", f.path())}
	for i, d := range r.list(t, "filter", `id eq "`+id+`"`, "attributes", f.path()+",id") {
		docs["list asking for it"+strings.Repeat("'", i)] = d
	}
	docs["PUT response"] = r.c.do(t, "PUT", r.endpoint()+"/"+id, b).want(t, 200).doc
	pr := r.c.do(t, "PATCH", r.endpoint()+"/"+id+"?attributes="+f.path(), patchBody(op{Op: "replace", Path: f.path(), Value: ty.value(f.a, r.next())})).want(t, 200, 204)
	if pr.status == 200 {
		docs["PATCH response"] = pr.doc
	}
	for what, d := range docs {
		if v, has := lookup(d, f); has {
			t.Errorf("%s has %s (returned %q, mutability %q): %s", what, f.path(), f.a.Returned, f.a.Mutability, show(v))
		}
	}
}

// returned: never, request, default and always, each as RFC 7643 §2.2
// says, by GET and list with and without attributes/excludedAttributes.
func (r *runner) returned(t *testing.T) {
	ty := r.self()
	b := ty.body(r.next(), nil)
	var id string
	for _, f := range ty.fields {
		if !writable(f.a) && f.a.Returned != schema.ReturnedAlways {
			continue
		}
		// other is a different attribute to ask for.
		other := "id"
		for _, o := range ty.fields {
			if o.a != f.a && o.a.Returned == schema.ReturnedDefault && writable(o.a) {
				other = o.path()
				break
			}
		}
		switch {
		case hidden(f.a):
			t.Run("never "+f.path(), func(t *testing.T) { r.neverReturned(t, ty, f) })
		case f.a.Returned == schema.ReturnedRequest:
			t.Run("request "+f.path(), func(t *testing.T) {
				if id == "" {
					id, _ = r.create(t, b)
				}
				want, _ := lookup(b, f)
				absent := func(d map[string]any, what string) {
					if v, has := lookup(d, f); has {
						t.Errorf("%s, not asking for %s: has it: %s", what, f.path(), show(v))
					}
				}
				present := func(d map[string]any, what string) {
					if v, has := lookup(d, f); !has {
						t.Errorf("%s, asking for %s: lacks it", what, f.path())
					} else if err := same(f.a, want, v); err != nil {
						t.Errorf("%s, asking for %s: %v", what, f.path(), err)
					}
				}
				absent(r.get(t, id), "GET")
				absent(r.get(t, id, "attributes", other), "GET ?attributes="+other)
				present(r.get(t, id, "attributes", f.path()), "GET ?attributes="+f.path())
				filter := `id eq "` + id + `"`
				for _, d := range r.list(t, "filter", filter) {
					absent(d, "list")
				}
				l := r.list(t, "filter", filter, "attributes", f.path())
				if len(l) != 1 {
					t.Fatalf("list: %d resources, want 1", len(l))
				}
				present(l[0], "list ?attributes="+f.path())
			})
		case f.a.Returned == schema.ReturnedAlways:
			t.Run("always "+f.path(), func(t *testing.T) {
				if id == "" {
					id, _ = r.create(t, b)
				}
				for _, q := range [][]string{{"excludedAttributes", f.path()}, {"attributes", other}} {
					if _, has := lookup(r.get(t, id, q...), f); !has {
						if _, sent := lookup(b, f); sent {
							t.Errorf("GET ?%s=%s: lacks %s, returned always", q[0], q[1], f.path())
						}
					}
				}
			})
		default:
			t.Run("default "+f.path(), func(t *testing.T) {
				if id == "" {
					id, _ = r.create(t, b)
				}
				if _, has := lookup(r.get(t, id), f); !has {
					t.Fatalf("GET: lacks %s", f.path())
				}
				if v, has := lookup(r.get(t, id, "excludedAttributes", f.path()), f); has {
					t.Errorf("GET ?excludedAttributes=%s: still has it: %s", f.path(), show(v))
				}
				if other != "id" {
					if v, has := lookup(r.get(t, id, "attributes", other), f); has {
						t.Errorf("GET ?attributes=%s: has %s too: %s", other, f.path(), show(v))
					}
				}
			})
		}
	}
	// id is returned always.
	t.Run("always id", func(t *testing.T) {
		if id == "" {
			id, _ = r.create(t, b)
		}
		if got := r.get(t, id, "excludedAttributes", "id"); got["id"] != id {
			t.Errorf("GET ?excludedAttributes=id: id %v, want %s", got["id"], id)
		}
	})
}
