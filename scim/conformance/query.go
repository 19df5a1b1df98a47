package conformance

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scimforge/scimforge/scim/schema"
)

// trio is three resources filters and sorts are checked on: a and b with
// every writable attribute (a's variant numbered lower than b's), m with
// the required ones only.
type trio struct {
	a, b, m          string
	aBody, bBody, mb map[string]any
}

// trio creates the three resources once per run.
func (r *runner) trio(t *testing.T) *trio {
	t.Helper()
	if r.three != nil {
		return r.three
	}
	ty := r.self()
	tr := &trio{aBody: ty.body(r.next(), nil), bBody: ty.body(r.next(), nil), mb: ty.minimal(r.next())}
	tr.a, _ = r.create(t, tr.aBody)
	tr.b, _ = r.create(t, tr.bBody)
	tr.m, _ = r.create(t, tr.mb)
	r.three = tr
	return tr
}

// queryable is a simple attribute that filters and sortBy may name, with
// its path.
type queryable struct {
	f    field
	a    *schema.Attribute // f.a, or one of its sub-attributes
	path string
}

// queryables lists the attributes to filter and sort on: every simple
// attribute and sub-attribute a client writes and reads back. Attributes
// never returned are not filterable (a filter would reveal them one guess
// at a time), and readOnly ones are derived by the server.
func (r *runner) queryables(t *testing.T) []queryable {
	var qs []queryable
	for _, f := range r.fields {
		if !writable(f.a) || hidden(f.a) {
			if writable(f.a) {
				t.Logf("%s: not filterable (returned %q, mutability %q)", f.path(), f.a.Returned, f.a.Mutability)
			}
			continue
		}
		if f.a.Type != schema.Complex {
			qs = append(qs, queryable{f: f, a: f.a, path: f.path()})
			continue
		}
		for _, s := range f.a.SubAttributes {
			if writable(s) && !hidden(s) {
				qs = append(qs, queryable{f: f, a: s, path: f.path() + "." + s.Name})
			}
		}
	}
	return qs
}

// valueIn is q's value in a body sent (of a multi-valued attribute, the
// first value's), and whether it has one.
func (q queryable) valueIn(body map[string]any) (any, bool) {
	v, ok := lookup(body, q.f)
	if !ok {
		return nil, false
	}
	v = elements(v)[0]
	if q.a != q.f.a {
		m, _ := v.(map[string]any)
		v, ok = m[q.a.Name]
	}
	return v, ok && v != nil
}

// filterAll: on every filterable attribute, eq finds the resource with the
// value and not the other, pr finds one with a value and not one without,
// co and sw match part of a string, gt and lt order dateTimes and numbers,
// and a string in other case matches unless the attribute is caseExact.
func (r *runner) filterAll(t *testing.T) {
	tr := r.trio(t)
	scope := fmt.Sprintf(`id eq "%s" or id eq "%s" or id eq "%s"`, tr.a, tr.b, tr.m)
	find := func(t *testing.T, filter string) []string {
		t.Helper()
		return ids(r.list(t, "filter", "("+filter+") and ("+scope+")"))
	}
	for _, q := range r.queryables(t) {
		t.Run(q.path, func(t *testing.T) {
			va, okA := q.valueIn(tr.aBody)
			vb, okB := q.valueIn(tr.bBody)
			_, okM := q.valueIn(tr.mb)
			if !okA || !okB {
				t.Fatalf("no sample value of %s in the resources created (a %v, b %v)", q.path, okA, okB)
			}
			differ := !equal(q.a, va, vb)
			has := func(filter string, in, out []string) {
				t.Helper()
				got := find(t, filter)
				for _, id := range in {
					if !slices.Contains(got, id) {
						t.Errorf("filter %s: %v lacks %s", filter, got, r.name(id))
					}
				}
				for _, id := range out {
					if slices.Contains(got, id) {
						t.Errorf("filter %s: %v has %s", filter, got, r.name(id))
					}
				}
			}
			var notB []string
			if differ {
				notB = []string{tr.b}
			}
			has(q.path+" eq "+literal(va), []string{tr.a}, notB)
			if q.f.a.MultiValued && q.a != q.f.a {
				has(fmt.Sprintf("%s[%s eq %s]", q.f.path(), q.a.Name, literal(va)), []string{tr.a}, notB)
			}
			if okM {
				has(q.path+" pr", []string{tr.a, tr.b, tr.m}, nil)
			} else {
				has(q.path+" pr", []string{tr.a, tr.b}, []string{tr.m})
			}
			switch q.a.Type {
			case schema.String, schema.Reference:
				sa, sb := va.(string), vb.(string)
				fold := func(s string) string {
					if q.a.CaseExact {
						return s
					}
					return strings.ToLower(s)
				}
				if len(sa) >= 3 {
					part := sa[1 : len(sa)-1]
					var out []string
					if !strings.Contains(fold(sb), fold(part)) {
						out = []string{tr.b}
					}
					has(q.path+" co "+literal(part), []string{tr.a}, out)
					prefix := sa[:len(sa)-1]
					out = nil
					if !strings.HasPrefix(fold(sb), fold(prefix)) {
						out = []string{tr.b}
					}
					has(q.path+" sw "+literal(prefix), []string{tr.a}, out)
				}
				if other := swapCase(sa); other != sa && q.a.Type == schema.String {
					if q.a.CaseExact {
						has(q.path+" eq "+literal(other), nil, []string{tr.a})
					} else {
						has(q.path+" eq "+literal(other), []string{tr.a}, nil)
					}
				}
			case schema.DateTime, schema.Integer, schema.Decimal:
				if !less(q.a, va, vb) {
					t.Fatalf("samples of %s do not grow: %s, then %s", q.path, show(va), show(vb))
				}
				has(q.path+" gt "+literal(va), []string{tr.b}, []string{tr.a})
				has(q.path+" ge "+literal(va), []string{tr.a, tr.b}, nil)
				has(q.path+" lt "+literal(vb), []string{tr.a}, []string{tr.b})
				has(q.path+" le "+literal(vb), []string{tr.a, tr.b}, nil)
			}
		})
	}
}

// name says which of the trio an id is, for messages.
func (r *runner) name(id string) string {
	if tr := r.three; tr != nil {
		switch id {
		case tr.a:
			return "resource a " + id
		case tr.b:
			return "resource b " + id
		case tr.m:
			return "resource m (required attributes only) " + id
		}
	}
	return id
}

// less orders two simple values of a's type the way sortBy does.
func less(a *schema.Attribute, x, y any) bool {
	switch a.Type {
	case schema.Integer, schema.Decimal:
		return number(x) < number(y)
	case schema.DateTime:
		xs, _ := x.(string)
		ys, _ := y.(string)
		tx, err1 := time.Parse(time.RFC3339Nano, xs)
		ty, err2 := time.Parse(time.RFC3339Nano, ys)
		return err1 == nil && err2 == nil && tx.Before(ty)
	case schema.Boolean:
		return x == false && y == true
	}
	xs, _ := x.(string)
	ys, _ := y.(string)
	if !a.CaseExact {
		xs, ys = strings.ToLower(xs), strings.ToLower(ys)
	}
	return xs < ys
}

// sortAll: sortBy every sortable attribute orders the two resources that
// have different values, ascending and descending.
func (r *runner) sortAll(t *testing.T) {
	tr := r.trio(t)
	scope := fmt.Sprintf(`id eq "%s" or id eq "%s"`, tr.a, tr.b)
	for _, q := range r.queryables(t) {
		if q.a.Type == schema.Binary || isPrimary(q.a) {
			// A binary value has no order; every first value of a
			// multi-valued attribute is primary, so there is none to see.
			t.Logf("%s: not sorted on (%s)", q.path, map[bool]string{true: "binary", false: "primary of every value"}[q.a.Type == schema.Binary])
			continue
		}
		t.Run(q.path, func(t *testing.T) {
			va, _ := q.valueIn(tr.aBody)
			vb, _ := q.valueIn(tr.bBody)
			var asc []string
			switch {
			case less(q.a, va, vb):
				asc = []string{tr.a, tr.b}
			case less(q.a, vb, va):
				asc = []string{tr.b, tr.a}
			default:
				t.Skipf("the two resources have the same %s (%s): no order to check", q.path, show(va))
			}
			desc := []string{asc[1], asc[0]}
			for _, c := range []struct {
				order string
				want  []string
			}{{"ascending", asc}, {"descending", desc}} {
				got := ids(r.list(t, "filter", scope, "sortBy", q.path, "sortOrder", c.order))
				if !slices.Equal(got, c.want) {
					t.Errorf("sortBy=%s&sortOrder=%s (%s, %s): %v, want %v", q.path, c.order, show(va), show(vb), got, c.want)
				}
			}
		})
	}
}
