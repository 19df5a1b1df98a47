package patch

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"github.com/scimforge/scimforge/scim/filter"
	"github.com/scimforge/scimforge/scim/schema"
	"github.com/scimforge/scimforge/scim/scimerr"
	"github.com/scimforge/scimforge/scim/valuefilter"
)

// Doc is a resource document as stored: canonical attribute names as keys,
// extension attributes under their schema URN.
type Doc = map[string]any

// Options tell Apply about the resource type's storage.
type Options struct {
	// External names the multi-valued attribute stored apart from the
	// document ("members" of a group): operations on it are returned as
	// MemberOps instead of editing the document.
	External string
}

// Result is what a request did.
type Result struct {
	// Doc is the new document (the one passed in, modified).
	Doc Doc
	// Members are the operations on the External attribute, in order.
	Members []MemberOp
	// Secret is set when an operation wrote a returned:"never" attribute
	// (password): the document does not show it, yet the write is a change.
	Secret bool
	// Paths are the attributes the operations named, for logs and hooks.
	Paths []string
}

// MemberValue is one value of the External attribute as a client sent it.
type MemberValue struct {
	Value, Type, Display string
	// Bare is set when the client sent a bare string instead of an object
	// (Microsoft's reference collection does: "value": "string id 1").
	Bare bool
}

// MemberOp is an operation on the External attribute.
type MemberOp struct {
	Kind   Kind
	Values []MemberValue // add, replace, and remove with a value list
	Filter filter.Expr   // remove members[filter]
	All    bool          // remove every value
}

// Apply applies the request's operations in order to doc. Any failing
// operation fails the whole request; the caller discards doc then, so a
// request is atomic.
func Apply(rt *schema.ResourceType, doc Doc, req *Request, opts Options) (*Result, error) {
	if doc == nil {
		doc = Doc{}
	}
	a := &applier{rt: rt, doc: doc, opts: opts, res: &Result{Doc: doc}}
	for i, op := range req.Operations {
		if err := a.apply(op); err != nil {
			e := scimerr.As(err)
			if e == nil {
				return nil, err
			}
			c := *e
			c.Detail = "Operations[" + itoa(i) + "] (" + op.Kind.String() + describePath(op.Path) + "): " + e.Detail
			return nil, &c
		}
	}
	tidy(a.doc)
	for k, v := range a.doc {
		if m, ok := v.(map[string]any); ok && strings.HasPrefix(strings.ToLower(k), "urn:") {
			tidy(m)
			if len(m) == 0 {
				delete(a.doc, k)
			}
		}
	}
	return a.res, nil
}

func describePath(p string) string {
	if p == "" {
		return ", no path"
	}
	return " " + p
}

func itoa(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}

type applier struct {
	rt   *schema.ResourceType
	doc  Doc
	opts Options
	res  *Result
}

// target is a resolved path.
type target struct {
	attr   *schema.Attribute // the top-level attribute
	sub    *schema.Attribute // a sub-attribute of attr, or nil
	filter filter.Expr       // a value filter on attr, or nil
	ext    *schema.Schema    // set instead of attr when the path is a whole extension
	// lenient is set for keys of a path-less value object: readOnly
	// attributes there are ignored instead of rejected (Okta sends "id").
	lenient bool
}

func (t target) name() string {
	if t.ext != nil {
		return t.ext.ID
	}
	s := t.attr.FullPath()
	if t.filter != nil {
		s += "[" + t.filter.String() + "]"
	}
	if t.sub != nil {
		s += "." + t.sub.Name
	}
	return s
}

func (a *applier) apply(op Operation) error {
	if op.Path == "" {
		// RFC 7644 §3.5.2.1/3: the target is the resource itself and each
		// key of the value object is an attribute. Entra (with
		// aadOptscim062020) sends dotted keys ("name.givenName") and
		// URN-qualified keys, which are resolved as paths (never stored as
		// literal attribute names); Okta sends {"active": false} and a group
		// rename carrying "id".
		obj := op.Value.(map[string]any)
		keys := sortedKeys(obj)
		for _, k := range keys {
			if strings.EqualFold(k, "schemas") {
				continue
			}
			t, err := a.resolve(k)
			if err != nil {
				return err
			}
			t.lenient = true
			if err := a.applyTarget(op.Kind, t, obj[k], true); err != nil {
				return err
			}
		}
		return nil
	}
	t, err := a.resolve(op.Path)
	if err != nil {
		return err
	}
	return a.applyTarget(op.Kind, t, op.Value, op.HasValue)
}

// resolve turns a path into a target.
func (a *applier) resolve(path string) (target, error) {
	if ext := a.rt.Extension(path); ext != nil {
		return target{ext: ext}, nil
	}
	if strings.EqualFold(path, a.rt.Core.ID) {
		return target{}, scimerr.BadRequest(scimerr.InvalidPath, "%q names the core schema; name an attribute", path)
	}
	p, err := filter.ParsePath(path)
	if err != nil {
		if strings.Contains(path, "[") {
			return target{}, scimerr.BadRequest(scimerr.InvalidFilter, "path %q: %v", path, err)
		}
		return target{}, scimerr.BadRequest(scimerr.InvalidPath, "path %q: %v", path, err)
	}
	top := a.rt.Lookup(p.Attr.URN, p.Attr.Name, "")
	if top == nil {
		if p.Attr.URN != "" && a.rt.SchemaByURN(p.Attr.URN) == nil {
			return target{}, scimerr.BadRequest(scimerr.InvalidPath, "path %q: %q is not a schema of %s", path, p.Attr.URN, a.rt.Name)
		}
		return target{}, scimerr.BadRequest(scimerr.InvalidPath, "path %q: %s has no attribute %q", path, a.rt.Name, p.Attr.Name)
	}
	t := target{attr: top, filter: p.ValueFilter}
	sub := p.Attr.Sub
	if p.Sub != "" {
		sub = p.Sub
	}
	if sub != "" {
		if top.Type != schema.Complex {
			return target{}, scimerr.BadRequest(scimerr.InvalidPath, "path %q: %s is not complex and has no sub-attributes", path, top.Name)
		}
		if t.sub = top.Sub(sub); t.sub == nil {
			return target{}, scimerr.BadRequest(scimerr.InvalidPath, "path %q: %s has no sub-attribute %q", path, top.Name, sub)
		}
	}
	if t.filter != nil {
		if top.Type != schema.Complex {
			return target{}, scimerr.BadRequest(scimerr.InvalidPath, "path %q: a value filter needs a complex attribute; %s is %s", path, top.Name, top.Type)
		}
		if err := checkFilter(t.filter, top); err != nil {
			return target{}, scimerr.BadRequest(scimerr.InvalidFilter, "path %q: %v", path, err)
		}
	}
	return t, nil
}

// applyTarget applies one operation to one target.
func (a *applier) applyTarget(kind Kind, t target, value any, hasValue bool) error {
	if t.ext != nil {
		return a.applyExtension(kind, t, value)
	}
	a.res.Paths = append(a.res.Paths, t.name())
	leaf := t.attr
	if t.sub != nil {
		leaf = t.sub
	}
	if leaf.Mutability == schema.ReadOnly || (t.sub == nil && t.attr.Mutability == schema.ReadOnly) {
		if t.lenient {
			return nil // ignored, as readOnly input is on create and replace
		}
		return scimerr.BadRequest(scimerr.Mutability, "%s is readOnly (RFC 7643 §2.2)", t.name())
	}
	if leaf.Returned == schema.ReturnedNever && kind != Remove && !empty(value) {
		// A secret (password) is not in the document, so writing one is a
		// change the document cannot show. Removing one changes nothing:
		// the stored hash is kept (a client cannot unset a password).
		a.res.Secret = true
	}
	if a.opts.External != "" && t.attr.Schema == a.rt.Core && strings.EqualFold(t.attr.Name, a.opts.External) {
		return a.member(kind, t, value, hasValue)
	}
	c := a.container(t.attr, kind != Remove)
	if c == nil {
		if kind == Remove {
			return nil // nothing there to remove
		}
	}
	switch {
	case t.filter != nil:
		return a.filtered(kind, t, c, value, hasValue)
	case t.sub != nil:
		return a.subAttr(kind, t, c, value)
	case t.attr.MultiValued:
		return a.multi(kind, t, c, value, hasValue)
	default:
		return a.single(kind, t, c, value)
	}
}

// applyExtension handles a path (or path-less key) naming a whole extension:
// its value is an object of that extension's attributes.
func (a *applier) applyExtension(kind Kind, t target, value any) error {
	if kind == Remove {
		delete(a.doc, t.ext.ID)
		a.res.Paths = append(a.res.Paths, t.ext.ID)
		return nil
	}
	obj, ok := value.(map[string]any)
	if !ok {
		if value == nil {
			if kind == Replace {
				delete(a.doc, t.ext.ID)
			}
			return nil
		}
		return scimerr.BadRequest(scimerr.InvalidValue, "%s: the value must be an object of the extension's attributes", t.ext.ID)
	}
	for _, k := range sortedKeys(obj) {
		attr := t.ext.Attr(k)
		if attr == nil {
			return scimerr.BadRequest(scimerr.InvalidPath, "%s has no attribute %q", t.ext.ID, k)
		}
		if err := a.applyTarget(kind, target{attr: attr, lenient: true}, obj[k], true); err != nil {
			return err
		}
	}
	return nil
}

// container is the object holding attr: the document for core and common
// attributes, the extension's object for extension attributes.
func (a *applier) container(attr *schema.Attribute, create bool) map[string]any {
	if attr.Schema == nil || attr.Schema == a.rt.Core {
		return a.doc
	}
	m, _ := a.doc[attr.Schema.ID].(map[string]any)
	if m == nil {
		for k, v := range a.doc { // a client-cased key from an old document
			if strings.EqualFold(k, attr.Schema.ID) {
				m, _ = v.(map[string]any)
			}
		}
	}
	if m == nil && create {
		m = map[string]any{}
		a.doc[attr.Schema.ID] = m
	}
	return m
}

// empty reports whether a PATCH value means "no value": null or "" (the
// Entra validator clears attributes with both).
func empty(v any) bool {
	if v == nil {
		return true
	}
	if s, ok := v.(string); ok && s == "" {
		return true
	}
	if l, ok := v.([]any); ok && len(l) == 0 {
		return true
	}
	return false
}

// single handles a singular attribute with no sub-attribute or filter.
func (a *applier) single(kind Kind, t target, c map[string]any, value any) error {
	name := t.attr.Name
	if kind == Remove || empty(value) {
		delete(c, name)
		return nil
	}
	v, err := canonValue(t.attr, value)
	if err != nil {
		return err
	}
	if t.attr.Type == schema.Complex {
		// RFC 7644 §3.5.2.1/3: sub-attributes in the value are set, the
		// others are left alone; a sub-attribute given as "" or null is
		// cleared (Entra removes the manager with {"value": ""}).
		cur, _ := c[name].(map[string]any)
		if cur == nil || newReferent(t.attr, cur, v.(map[string]any)[valueName(t.attr)]) {
			// A value naming another resource: the stored $ref and
			// display described the previous one.
			cur = map[string]any{}
		}
		if raw, ok := value.(map[string]any); ok {
			for k, x := range raw {
				if s := t.attr.Sub(k); s != nil && empty(x) {
					if strings.EqualFold(s.Name, "value") {
						// A reference without its id is no reference:
						// {"value": ""} removes the manager entirely.
						delete(c, name)
						return nil
					}
					delete(cur, s.Name)
				}
			}
		}
		for k, x := range v.(map[string]any) {
			if !empty(x) {
				cur[k] = x
			}
		}
		if len(cur) == 0 {
			delete(c, name)
		} else {
			c[name] = cur
		}
		return nil
	}
	c[name] = v
	return nil
}

// subAttr handles "attr.sub" without a filter.
func (a *applier) subAttr(kind Kind, t target, c map[string]any, value any) error {
	name := t.attr.Name
	var v any
	if kind != Remove && !empty(value) {
		var err error
		if v, err = canonScalar(t.sub, value); err != nil {
			return err
		}
	}
	if !t.attr.MultiValued {
		cur, _ := c[name].(map[string]any)
		if v == nil {
			if cur != nil {
				delete(cur, t.sub.Name)
			}
			return nil
		}
		if cur == nil || (isValue(t.attr, t.sub) && newReferent(t.attr, cur, v)) {
			// manager.value set to another id: the stored $ref and
			// display described the previous manager.
			cur = map[string]any{}
			c[name] = cur
		}
		cur[t.sub.Name] = v
		return nil
	}
	// "emails.value" with no filter: every value of the attribute.
	list := asList(c[name])
	if len(list) == 0 {
		if v != nil {
			c[name] = []any{map[string]any{t.sub.Name: v}}
		}
		return nil
	}
	for _, e := range list {
		if m, ok := e.(map[string]any); ok {
			setOrDelete(m, t.sub.Name, v)
		}
	}
	if v == nil && isValue(t.attr, t.sub) {
		delete(c, name) // every value lost its "value" (see dropValueless)
		return nil
	}
	if v != nil && isPrimary(t.sub) && v == true && len(list) > 1 {
		return scimerr.BadRequest(scimerr.InvalidValue, "%s: only one value may be primary", t.attr.Name)
	}
	return nil
}

func setOrDelete(m map[string]any, k string, v any) {
	if v == nil {
		delete(m, k)
	} else {
		m[k] = v
	}
}

// multi handles a multi-valued attribute with no filter or sub-attribute.
func (a *applier) multi(kind Kind, t target, c map[string]any, value any, hasValue bool) error {
	name := t.attr.Name
	switch kind {
	case Remove:
		if !hasValue || empty(value) {
			delete(c, name)
			return nil
		}
		// Tolerance: remove with a value list removes those values, never
		// all of them (Entra removes group members this way; RFC 7644
		// would drop every value).
		vals, err := canonList(t.attr, value)
		if err != nil {
			return err
		}
		var keep []any
		for _, e := range asList(c[name]) {
			drop := false
			for _, v := range vals {
				drop = drop || removes(t.attr, e, v)
			}
			if !drop {
				keep = append(keep, e)
			}
		}
		c[name] = keep
		return nil
	case Replace:
		if empty(value) {
			delete(c, name)
			return nil
		}
		vals, err := canonList(t.attr, value)
		if err != nil {
			return err
		}
		c[name] = vals
		return nil
	default: // Add
		if empty(value) {
			return nil
		}
		vals, err := canonList(t.attr, value)
		if err != nil {
			return err
		}
		c[name] = mergeValues(t.attr, asList(c[name]), vals)
		return nil
	}
}

// mergeValues appends vals to list: a value equal to a stored one (same
// type and value, RFC 7643 §2.4) updates it instead of being stored twice,
// and a new primary value makes the others non-primary (RFC 7644 §3.5.2).
func mergeValues(attr *schema.Attribute, list, vals []any) []any {
	for _, v := range vals {
		if m, ok := v.(map[string]any); ok && m["primary"] == true {
			for _, e := range list {
				if em, ok := e.(map[string]any); ok && em["primary"] == true {
					em["primary"] = false
				}
			}
		}
		list = addValue(attr, list, v)
	}
	return list
}

// addValue appends v to list, or updates the value of list that is the
// same value (sameValue) with v's sub-attributes.
func addValue(attr *schema.Attribute, list []any, v any) []any {
	for i, e := range list {
		if sameValue(attr, e, v) {
			if em, ok := e.(map[string]any); ok {
				for k, x := range v.(map[string]any) {
					em[k] = x
				}
			} else {
				list[i] = v
			}
			return list
		}
	}
	return append(list, v)
}

// sameValue reports whether two values of a multi-valued attribute are the
// same value: equal "value" and "type" sub-attributes for complex ones
// (compared as the schema says), equal values otherwise.
func sameValue(attr *schema.Attribute, x, y any) bool {
	if attr.Type != schema.Complex {
		return equalScalar(attr, x, y)
	}
	mx, ok1 := x.(map[string]any)
	my, ok2 := y.(map[string]any)
	if !ok1 || !ok2 {
		return false
	}
	vs := attr.Sub("value")
	if vs == nil {
		return reflect.DeepEqual(mx, my)
	}
	if !equalScalar(vs, mx["value"], my["value"]) {
		return false
	}
	if ts := attr.Sub("type"); ts != nil {
		tx, _ := mx["type"].(string)
		ty, _ := my["type"].(string)
		if ty != "" && tx != "" && !strings.EqualFold(tx, ty) {
			return false
		}
		if (tx == "") != (ty == "") {
			return false
		}
	}
	return true
}

// removes reports whether v, a value listed in a remove operation, names
// the stored value e: the same value (sameValue), or, when v gives no
// "type", a value equal in "value" whatever its type. A client removing
// {"value": "a@x"} means the stored {"value": "a@x", "type": "work"}; it
// does not know (or care) how the value was typed.
func removes(attr *schema.Attribute, e, v any) bool {
	if sameValue(attr, e, v) {
		return true
	}
	vs, ts := attr.Sub("value"), attr.Sub("type")
	me, ok1 := e.(map[string]any)
	mv, ok2 := v.(map[string]any)
	if attr.Type != schema.Complex || vs == nil || ts == nil || !ok1 || !ok2 {
		return false
	}
	if t, _ := mv[ts.Name].(string); t != "" {
		return false
	}
	return mv[vs.Name] != nil && equalScalar(vs, me[vs.Name], mv[vs.Name])
}

func equalScalar(attr *schema.Attribute, x, y any) bool {
	sx, ok1 := x.(string)
	sy, ok2 := y.(string)
	if ok1 && ok2 && !attr.CaseExact {
		return strings.EqualFold(sx, sy)
	}
	return reflect.DeepEqual(x, y)
}

// filtered handles "attr[filter]" and "attr[filter].sub".
func (a *applier) filtered(kind Kind, t target, c map[string]any, value any, hasValue bool) error {
	name := t.attr.Name
	if !t.attr.MultiValued {
		// Entra removes the manager with manager[value eq "id"]: a value
		// filter on a singular complex attribute selects it when it matches.
		cur, _ := c[name].(map[string]any)
		ok := false
		if cur != nil {
			var err error
			if ok, err = valuefilter.Match(t.filter, cur, t.attr); err != nil {
				return scimerr.BadRequest(scimerr.InvalidFilter, "%s: %v", t.name(), err)
			}
		}
		if !ok {
			if kind == Remove {
				return nil
			}
			return scimerr.BadRequest(scimerr.NoTarget, "%s: the filter matches no value", t.name())
		}
		t2 := t
		t2.filter = nil
		if t.sub != nil {
			return a.subAttr(kind, t2, c, value)
		}
		return a.single(kind, t2, c, value)
	}
	var list []any
	if c != nil {
		list = asList(c[name])
	}
	var matched []int
	for i, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			continue
		}
		hit, err := valuefilter.Match(t.filter, m, t.attr)
		if err != nil {
			return scimerr.BadRequest(scimerr.InvalidFilter, "%s: %v", t.name(), err)
		}
		if hit {
			matched = append(matched, i)
		}
	}
	if kind == Remove {
		if t.sub != nil {
			for _, i := range matched {
				delete(list[i].(map[string]any), t.sub.Name)
			}
			if isValue(t.attr, t.sub) && len(matched) > 0 {
				c[name] = dropValueless(list, matched)
			}
			return nil
		}
		if c != nil {
			c[name] = without(list, matched)
		}
		return nil
	}
	if len(matched) == 0 {
		if t.sub == nil {
			return scimerr.BadRequest(scimerr.NoTarget, "%s: the filter matches no value (RFC 7644 §3.5.2.3)", t.name())
		}
		// Tolerance: Entra maps mail to emails[type eq "work"].value and
		// sends add or replace whether or not a work email exists; a missing
		// one is created from the filter's eq terms (RFC 7644 would answer
		// noTarget, which breaks Entra's sync).
		seed, ok := seedFromFilter(t.filter, t.attr)
		if !ok {
			return scimerr.BadRequest(scimerr.NoTarget, "%s: the filter matches no value, and it is not a conjunction of eq terms to create one from", t.name())
		}
		if empty(value) {
			return nil
		}
		v, err := canonScalar(t.sub, value)
		if err != nil {
			return err
		}
		seed[t.sub.Name] = v
		c[name] = mergeValues(t.attr, list, []any{seed})
		return nil
	}
	if t.sub != nil {
		var v any
		if !empty(value) {
			var err error
			if v, err = canonScalar(t.sub, value); err != nil {
				return err
			}
		}
		if isPrimary(t.sub) && v == true {
			for _, e := range list {
				if m, ok := e.(map[string]any); ok && m["primary"] == true {
					m["primary"] = false
				}
			}
		}
		for _, i := range matched {
			setOrDelete(list[i].(map[string]any), t.sub.Name, v)
		}
		if v == nil && isValue(t.attr, t.sub) {
			c[name] = dropValueless(list, matched)
		}
		return nil
	}
	// attr[filter] with an object value: add sets the given sub-attributes
	// of every matching value; replace replaces the matching values.
	if empty(value) {
		if kind == Replace {
			return a.filtered(Remove, t, c, nil, false)
		}
		return nil
	}
	v, err := canonElem(t.attr, value)
	if err != nil {
		return err
	}
	vm := v.(map[string]any)
	if vm["primary"] == true {
		for _, e := range list {
			if m, ok := e.(map[string]any); ok {
				m["primary"] = false
			}
		}
	}
	for _, i := range matched {
		if kind == Replace {
			list[i] = cloneMap(vm)
			continue
		}
		m := list[i].(map[string]any)
		for k, x := range vm {
			m[k] = x
		}
	}
	return nil
}

func cloneMap(m map[string]any) map[string]any {
	c := make(map[string]any, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// seedFromFilter builds the value that a filter of eq terms joined by
// "and" describes: type eq "work" -> {"type": "work"}.
func seedFromFilter(e filter.Expr, attr *schema.Attribute) (map[string]any, bool) {
	seed := map[string]any{}
	var walk func(e filter.Expr) bool
	walk = func(e filter.Expr) bool {
		switch e := e.(type) {
		case *filter.Logical:
			return e.Op == filter.And && walk(e.Left) && walk(e.Right)
		case *filter.Compare:
			if e.Op != filter.Eq || e.Attr.URN != "" {
				return false
			}
			name := e.Attr.Name
			if e.Attr.Sub != "" {
				return false
			}
			s := attr.Sub(name)
			if s == nil {
				return false
			}
			switch e.Value.Kind {
			case filter.String:
				v, err := canonScalar(s, e.Value.Str)
				if err != nil {
					return false
				}
				seed[s.Name] = v
			case filter.True:
				seed[s.Name] = true
			case filter.False:
				seed[s.Name] = false
			case filter.Number:
				seed[s.Name] = json.Number(e.Value.Num)
			default:
				return false
			}
			return true
		}
		return false
	}
	return seed, walk(e)
}

// member turns an operation on the External attribute into a MemberOp.
func (a *applier) member(kind Kind, t target, value any, hasValue bool) error {
	if t.sub != nil || (t.filter != nil && kind != Remove) {
		return scimerr.BadRequest(scimerr.Mutability, "%s: members are added and removed whole; their sub-attributes are immutable", t.name())
	}
	op := MemberOp{Kind: kind}
	switch {
	case kind == Remove && t.filter != nil:
		op.Filter = t.filter
	case kind == Remove && (!hasValue || empty(value)):
		op.All = true
	default:
		var list []any
		switch v := value.(type) {
		case nil:
		case []any:
			list = v
		default:
			list = []any{v}
		}
		for _, e := range list {
			mv, err := memberValue(t.attr, e)
			if err != nil {
				return err
			}
			op.Values = append(op.Values, mv)
		}
		if kind == Add && len(op.Values) == 0 {
			return nil
		}
	}
	a.res.Members = append(a.res.Members, op)
	return nil
}

func memberValue(attr *schema.Attribute, e any) (MemberValue, error) {
	switch v := e.(type) {
	case string:
		return MemberValue{Value: v, Bare: true}, nil
	case map[string]any:
		var mv MemberValue
		for k, x := range v {
			s, _ := x.(string)
			switch strings.ToLower(k) {
			case "value":
				if _, ok := x.(string); !ok && x != nil {
					return mv, scimerr.BadRequest(scimerr.InvalidValue, "%s: \"value\" must be a string id", attr.Name)
				}
				mv.Value = s
			case "type":
				mv.Type = s
			case "display", "displayname":
				// Microsoft's collection labels members with "displayName".
				if mv.Display == "" || strings.EqualFold(k, "display") {
					mv.Display = s
				}
			}
		}
		if mv.Value == "" {
			return mv, scimerr.BadRequest(scimerr.InvalidValue, "%s: every value needs a \"value\" (the member's id)", attr.Name)
		}
		return mv, nil
	}
	return MemberValue{}, scimerr.BadRequest(scimerr.InvalidValue, "%s: a value must be an object like {\"value\": \"<id>\"}", attr.Name)
}

// canonValue canonicalises a value for attr (a whole attribute).
func canonValue(attr *schema.Attribute, v any) (any, error) {
	if attr.MultiValued {
		l, err := canonList(attr, v)
		return l, err
	}
	return canonElem(attr, v)
}

func canonList(attr *schema.Attribute, v any) ([]any, error) {
	var in []any
	switch x := v.(type) {
	case nil:
		return nil, nil
	case []any:
		in = x
	default:
		in = []any{x}
	}
	out := make([]any, 0, len(in))
	for _, e := range in {
		if e == nil {
			continue
		}
		c, err := canonElem(attr, e)
		if err != nil {
			return nil, err
		}
		if m, ok := c.(map[string]any); ok && len(m) == 0 {
			continue
		}
		out = append(out, c)
	}
	// Two equal values in one request are stored once. (Two primary
	// values stay two: validation rejects them, RFC 7643 §2.4.)
	var list []any
	for _, v := range out {
		list = addValue(attr, list, v)
	}
	primaries := 0
	for _, v := range list {
		if m, ok := v.(map[string]any); ok && m["primary"] == true {
			primaries++
		}
	}
	if primaries > 1 {
		return nil, scimerr.BadRequest(scimerr.InvalidValue, "%s: only one value may have \"primary\": true (RFC 7643 §2.4)", attr.FullPath())
	}
	return list, nil
}

// canonElem canonicalises one value of attr: sub-attribute names as the
// schema spells them, unknown sub-attributes dropped (as on create), and
// the lenient forms real clients send.
func canonElem(attr *schema.Attribute, v any) (any, error) {
	if attr.Type != schema.Complex {
		return canonScalar(attr, v)
	}
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, sv := range x {
			s := attr.Sub(k)
			if s == nil || sv == nil {
				continue
			}
			c, err := canonScalar(s, sv)
			if err != nil {
				return nil, err
			}
			out[s.Name] = c
		}
		return out, nil
	case []any:
		// Entra's older manager form: [{"$ref": …, "value": id}].
		if !attr.MultiValued && len(x) == 1 {
			return canonElem(attr, x[0])
		}
	case string, json.Number, bool:
		// Entra sends the manager as a bare id string.
		if s := attr.Sub("value"); s != nil {
			c, err := canonScalar(s, x)
			if err != nil {
				return nil, err
			}
			return map[string]any{s.Name: c}, nil
		}
	}
	return nil, scimerr.BadRequest(scimerr.InvalidValue, "%s: expected an object of its sub-attributes", attr.FullPath())
}

// canonScalar checks the JSON type of a simple value; booleans also come
// as "True"/"False" strings (Entra).
func canonScalar(attr *schema.Attribute, v any) (any, error) {
	switch attr.Type {
	case schema.Boolean:
		switch x := v.(type) {
		case bool:
			return x, nil
		case string:
			switch strings.ToLower(strings.TrimSpace(x)) {
			case "true":
				return true, nil
			case "false":
				return false, nil
			}
		}
		return nil, scimerr.BadRequest(scimerr.InvalidValue, "%s must be a boolean", attr.FullPath())
	case schema.Integer, schema.Decimal:
		switch x := v.(type) {
		case json.Number:
			return x, nil
		}
		return nil, scimerr.BadRequest(scimerr.InvalidValue, "%s must be a number", attr.FullPath())
	case schema.Complex:
		return nil, scimerr.BadRequest(scimerr.InvalidValue, "%s is complex; set its sub-attributes", attr.FullPath())
	default:
		if s, ok := v.(string); ok {
			return s, nil
		}
		return nil, scimerr.BadRequest(scimerr.InvalidValue, "%s must be a string", attr.FullPath())
	}
}

// isValue reports whether sub is the "value" sub-attribute of attr.
func isValue(attr, sub *schema.Attribute) bool {
	return sub != nil && attr.Sub("value") == sub
}

// valueName is the schema's spelling of attr's "value" sub-attribute, or
// "" when it has none.
func valueName(attr *schema.Attribute) string {
	if s := attr.Sub("value"); s != nil {
		return s.Name
	}
	return ""
}

// newReferent reports whether setting attr's "value" to v replaces a
// stored value cur that names something else (a manager with another id).
func newReferent(attr *schema.Attribute, cur map[string]any, v any) bool {
	vs := attr.Sub("value")
	if vs == nil || empty(v) {
		return false
	}
	old, ok := cur[vs.Name]
	return ok && !equalScalar(vs, old, v)
}

// dropValueless removes the values at the indexes matched (ascending) from
// list: their "value" sub-attribute was just removed. A multi-valued
// attribute's value without its significant "value" (RFC 7643 §2.4), e.g.
// {"type": "mobile"} after phoneNumbers[type eq "mobile"].value was removed
// or set to "" (Entra clears a phone number that way), describes nothing;
// keeping it would return an empty entry to every later read.
func dropValueless(list []any, matched []int) []any {
	return without(list, matched)
}

// without returns list less the values at the (ascending) indexes given.
func without(list []any, matched []int) []any {
	keep := make([]any, 0, len(list))
	j := 0
	for i, e := range list {
		if j < len(matched) && matched[j] == i {
			j++
			continue
		}
		keep = append(keep, e)
	}
	return keep
}

func isPrimary(a *schema.Attribute) bool {
	return a.Type == schema.Boolean && strings.EqualFold(a.Name, "primary")
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

// tidy drops attributes left without a value: empty lists, empty complex
// values, and complex values whose sub-attributes were all removed.
func tidy(m map[string]any) {
	for k, v := range m {
		switch x := v.(type) {
		case nil:
			delete(m, k)
		case []any:
			out := x[:0]
			for _, e := range x {
				if em, ok := e.(map[string]any); ok && len(em) == 0 {
					continue
				}
				out = append(out, e)
			}
			if len(out) == 0 {
				delete(m, k)
			} else {
				m[k] = out
			}
		case map[string]any:
			if strings.HasPrefix(strings.ToLower(k), "urn:") {
				continue
			}
			if len(x) == 0 {
				delete(m, k)
			}
		}
	}
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	// Deterministic order; a path-less object's keys are independent.
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && keys[j] < keys[j-1]; j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	return keys
}

// checkFilter verifies that every attribute a value filter names is a
// sub-attribute of attr, so a bad filter is an error even when the
// attribute has no values to test it on.
func checkFilter(e filter.Expr, attr *schema.Attribute) error {
	switch e := e.(type) {
	case *filter.Logical:
		if err := checkFilter(e.Left, attr); err != nil {
			return err
		}
		return checkFilter(e.Right, attr)
	case *filter.Not:
		return checkFilter(e.X, attr)
	case *filter.Compare:
		if attr.Sub(e.Attr.Name) == nil || e.Attr.Sub != "" {
			return fmt.Errorf("%s has no sub-attribute %q", attr.Name, e.Attr.String())
		}
		return nil
	case *filter.ValuePath:
		return fmt.Errorf("a value filter cannot nest another (%s)", e.String())
	}
	return fmt.Errorf("unsupported filter")
}
