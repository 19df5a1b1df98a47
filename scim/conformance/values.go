package conformance

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/scimforge/scimforge/scim/schema"
)

// resourceType is a resource type with its samples: the one under test,
// or a type its members reference.
type resourceType struct {
	rt      *schema.ResourceType
	samples Samples
	fields  []field
}

func (r *runner) self() *resourceType {
	return &resourceType{rt: r.rt, samples: r.samples, fields: r.fields}
}

// value is attribute a's k-th value as a client sends it: for a complex
// attribute an object of its writable sub-attributes, for a multi-valued
// one a list of one such value (its "primary", if any, true).
func (ty *resourceType) value(a *schema.Attribute, k int) any {
	if a.MultiValued {
		return []any{ty.element(a, k, true)}
	}
	return ty.element(a, k, true)
}

// element is one value of a (of a multi-valued attribute, one element),
// with primary as the value of a "primary" boolean sub-attribute.
func (ty *resourceType) element(a *schema.Attribute, k int, primary bool) any {
	if a.Type != schema.Complex {
		v, _ := Vary(a, ty.samples[Key(ty.rt, a)], k)
		return v
	}
	m := map[string]any{}
	for _, s := range a.SubAttributes {
		if !writable(s) {
			continue
		}
		if isPrimary(s) {
			m[s.Name] = primary
			continue
		}
		m[s.Name], _ = Vary(s, ty.samples[Key(ty.rt, s)], k)
	}
	return m
}

func isPrimary(a *schema.Attribute) bool {
	return a.Type == schema.Boolean && strings.EqualFold(a.Name, "primary") && a.Parent != nil && a.Parent.MultiValued
}

// body is a resource with variant k of every writable attribute that keep
// accepts (nil: all), in every extension.
func (ty *resourceType) body(k int, keep func(field) bool) map[string]any {
	d := map[string]any{"schemas": []any{ty.rt.Core.ID}}
	for _, f := range ty.fields {
		if writable(f.a) && (keep == nil || keep(f)) {
			set(d, f, ty.value(f.a, k))
		}
	}
	return d
}

// minimal is a resource with only what it must have: the required
// attributes (of required complex ones, the required sub-attributes).
func (ty *resourceType) minimal(k int) map[string]any {
	d := map[string]any{"schemas": []any{ty.rt.Core.ID}}
	for i, ext := range ty.rt.Extensions {
		if ty.rt.SchemaExtensions[i].Required {
			d["schemas"] = append(d["schemas"].([]any), ext.ID)
			d[ext.ID] = map[string]any{}
		}
	}
	for _, f := range ty.fields {
		if !f.required || !writable(f.a) {
			continue
		}
		v := ty.value(f.a, k)
		if f.a.Type == schema.Complex {
			for _, el := range elements(v) {
				m := el.(map[string]any)
				for _, s := range f.a.SubAttributes {
					if !s.Required {
						delete(m, s.Name)
					}
				}
			}
		}
		set(d, f, v)
	}
	return d
}

// elements is a value as a list: itself, or its elements.
func elements(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	return []any{v}
}

// set puts v at f in a resource body, adding the extension's URN to
// schemas.
func set(d map[string]any, f field, v any) {
	if f.urn == "" {
		d[f.a.Name] = v
		return
	}
	ext, ok := d[f.urn].(map[string]any)
	if !ok {
		ext = map[string]any{}
		d[f.urn] = ext
		d["schemas"] = append(d["schemas"].([]any), f.urn)
	}
	ext[f.a.Name] = v
}

// unset removes f from a body (an emptied extension stays, as {}).
func unset(d map[string]any, f field) {
	if f.urn == "" {
		delete(d, f.a.Name)
	} else if ext, ok := d[f.urn].(map[string]any); ok {
		delete(ext, f.a.Name)
	}
}

// member is m's member named name, compared without case (RFC 7643 §2.1).
func member(m map[string]any, name string) (any, bool) {
	if v, ok := m[name]; ok {
		return v, true
	}
	for k, v := range m {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return nil, false
}

// lookup is f's value in a resource (false when absent or null).
func lookup(d map[string]any, f field) (any, bool) {
	if f.urn != "" {
		ext, ok := member(d, f.urn)
		if !ok {
			return nil, false
		}
		if d, ok = ext.(map[string]any); !ok {
			return nil, false
		}
	}
	v, ok := member(d, f.a.Name)
	return v, ok && v != nil
}

// same reports whether got is the value want that was sent for a, and if
// not, why. Sub-attributes the server owns (readOnly) or never returns are
// not compared; multi-valued values compare in any order.
func same(a *schema.Attribute, want, got any) error {
	if a.MultiValued {
		ws, gs := elements(want), elements(got)
		if _, ok := got.([]any); !ok || len(ws) != len(gs) {
			return fmt.Errorf("%s: got %s, want %s", a.Name, show(got), show(want))
		}
		used := make([]bool, len(gs))
	next:
		for _, w := range ws {
			for i, g := range gs {
				if !used[i] && sameOne(a, w, g) == nil {
					used[i] = true
					continue next
				}
			}
			return fmt.Errorf("%s: got %s, want %s (no value matches %s)", a.Name, show(got), show(want), show(w))
		}
		return nil
	}
	return sameOne(a, want, got)
}

func sameOne(a *schema.Attribute, want, got any) error {
	if a.Type == schema.Complex {
		wm, _ := want.(map[string]any)
		gm, ok := got.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: got %s, want an object %s", a.Name, show(got), show(want))
		}
		for _, s := range a.SubAttributes {
			w, sent := wm[s.Name]
			if !sent || !writable(s) || hidden(s) || s.Returned == schema.ReturnedRequest {
				continue
			}
			g, _ := member(gm, s.Name)
			if err := sameOne(s, w, g); err != nil {
				return fmt.Errorf("%s.%w", a.Name, err)
			}
		}
		return nil
	}
	if !equal(a, want, got) {
		return fmt.Errorf("%s: got %s, want %s", a.Name, show(got), show(want))
	}
	return nil
}

// equal compares two simple values of a's type: dateTimes as instants,
// numbers as numbers, the rest exactly (a server keeps what was sent).
func equal(a *schema.Attribute, want, got any) bool {
	switch a.Type {
	case schema.Integer, schema.Decimal:
		w, g := number(want), number(got)
		return w == g
	case schema.DateTime:
		ws, _ := want.(string)
		gs, _ := got.(string)
		w, err1 := time.Parse(time.RFC3339Nano, ws)
		g, err2 := time.Parse(time.RFC3339Nano, gs)
		return err1 == nil && err2 == nil && w.Equal(g)
	case schema.Boolean:
		return want == got
	}
	ws, ok1 := want.(string)
	gs, ok2 := got.(string)
	return ok1 && ok2 && ws == gs
}

// show is v as JSON, for messages.
func show(v any) string {
	if v == nil {
		return "nothing"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// literal is a simple value as it is written in a filter.
func literal(v any) string {
	switch v.(type) {
	case json.Number, bool:
		return fmt.Sprint(v)
	}
	b, _ := json.Marshal(v)
	return string(b)
}
