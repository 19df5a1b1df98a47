package projection

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/scimforge/scimforge/scim/filter"
	"github.com/scimforge/scimforge/scim/schema"
	"github.com/scimforge/scimforge/scim/scimerr"
	"github.com/scimforge/scimforge/scim/valuefilter"
)

// Parameter names, as they appear in error details.
const (
	paramAttributes         = "attributes"
	paramExcludedAttributes = "excludedAttributes"
)

// maxPathInDetail bounds how much of a client-supplied path an error detail
// repeats.
const maxPathInDetail = 100

// Projection is the parsed form of the attributes and excludedAttributes
// parameters for one resource type: a keep/drop decision for every attribute
// and sub-attribute. It is immutable and safe for concurrent use.
type Projection struct {
	ix     *index
	def    bool
	hasInc bool // attributes was given (and not only empty items)
	attrs  []decision
	exts   []extDecision
}

// decision is what happens to one top-level attribute.
type decision struct {
	keep bool
	// filter is set when the value must be walked: some sub-attribute is
	// dropped, or keys the schema does not define are.
	filter      bool
	keepUnknown bool   // keep sub-attribute keys the schema does not define
	subs        []bool // keep, per sub-attribute (parallel to attrInfo.subAttrs)
	// onlyElems keeps only the values of a multi-valued attribute that
	// match one of these filters (attributes=emails[type eq "work"]).
	onlyElems []*valuefilter.Filter
	// dropElems removes what matching values hold: the value itself
	// (sub -1) or one sub-attribute (excludedAttributes=emails[...]).
	dropElems []elemDrop
}

// elemDrop is one excludedAttributes item with a value filter.
type elemDrop struct {
	f   *valuefilter.Filter
	sub int // index into attrInfo.subAttrs, or -1 for the whole value
}

// extDecision is what happens to one extension object.
type extDecision struct {
	keepUnknown bool // keep keys the extension schema does not define
	drop        bool // every attribute and unknown key is dropped
}

// New parses the attributes and excludedAttributes query parameter values
// (comma-separated attribute paths; either or both may be "") for resources
// of type rt. Both may be given: attributes selects, then excludedAttributes
// removes from the selection. An unknown or malformed path is a
// *scimerr.Error with status 400 and scimType invalidValue whose detail names
// the parameter and the path. See the package documentation for the rules.
func New(rt *schema.ResourceType, attributes, excludedAttributes string) (*Projection, error) {
	ix := indexFor(rt)
	if isBlank(attributes) && isBlank(excludedAttributes) {
		return ix.def, nil
	}
	b := newBuilder(ix)
	if err := b.parse(paramAttributes, attributes, true); err != nil {
		return nil, err
	}
	if err := b.parse(paramExcludedAttributes, excludedAttributes, false); err != nil {
		return nil, err
	}
	p := b.build()
	if !p.hasInc && p.equal(ix.def) {
		// Only exclusions without effect (id, password, schemas...).
		return ix.def, nil
	}
	return p, nil
}

// isBlank reports whether a parameter value holds no item at all.
func isBlank(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ' ', '\t', '\n', '\r', ',':
		default:
			return false
		}
	}
	return true
}

// Default reports whether the projection is the one used when neither
// parameter is given (or neither has any effect). Apply with it is a no-op for
// resources that hold no returned "never" or "request" attributes, so callers
// that never put those in a representation can skip the JSON round trip.
func (p *Projection) Default() bool { return p.def }

// Wants reports whether the top-level attribute name of the schema urn will
// appear in the output at all, so that callers can skip loading expensive
// attributes (Group "members" under excludedAttributes=members). urn "" means
// an unqualified name, resolved like [schema.ResourceType.Lookup] does
// (common, core, then extensions); name "" with a schema URN asks whether any
// attribute of that schema will appear (for an extension: whether its object
// can). Names are case-insensitive. For a name the schema does not define,
// Wants reports whether keys the schema does not define survive.
func (p *Projection) Wants(urn, name string) bool {
	ix := p.ix
	if urn == "" {
		if strings.EqualFold(name, "schemas") {
			return true
		}
		if i, ok := ix.byAttr[ix.rt.Lookup("", name, "")]; ok {
			return p.attrs[i].keep
		}
		return !p.hasInc
	}
	if ix.rt.Core != nil && strings.EqualFold(urn, ix.rt.Core.ID) {
		if name == "" {
			for i := range ix.attrs {
				if ix.attrs[i].attr.Schema == ix.rt.Core && p.attrs[i].keep {
					return true
				}
			}
			return false
		}
		a := ix.rt.Core.Attr(name)
		if a == nil {
			a = schema.Common(name)
		}
		if i, ok := ix.byAttr[a]; ok {
			return p.attrs[i].keep
		}
		return !p.hasInc
	}
	i, ok := ix.keys.get(urn)
	if !ok || i > keyExt {
		return !p.hasInc // an unknown top-level key
	}
	e := extOf(i)
	if name == "" {
		ext := &ix.exts[e]
		for i := ext.first; i < ext.end; i++ {
			if p.attrs[i].keep {
				return true
			}
		}
		return false
	}
	if i, ok := ix.exts[e].names.get(name); ok {
		return p.attrs[i].keep
	}
	return p.exts[e].keepUnknown
}

// Apply projects a decoded resource (as produced by encoding/json, with or
// without UseNumber) in place. Keys are matched case-insensitively and the
// ones kept are left exactly as they were written.
func (p *Projection) Apply(res map[string]any) {
	if res == nil {
		return
	}
	ix := p.ix
	var buf [4]int
	dropped := buf[:0] // extensions whose objects were removed
	for k, v := range res {
		i, ok := ix.keys.get(k)
		switch {
		case !ok:
			if p.hasInc {
				delete(res, k) // a key the schemas do not define
			}
		case i >= 0:
			switch nv, act := p.attrs[i].apply(&ix.attrs[i], v); act {
			case actDrop:
				delete(res, k)
			case actReplace:
				res[k] = nv
			}
		case i == keySchemas:
		default:
			if e := extOf(i); p.applyExt(e, v) {
				delete(res, k)
				dropped = append(dropped, e)
			}
		}
	}
	if len(dropped) > 0 {
		p.removeSchemaURNs(res, dropped)
	}
}

// ApplyJSON decodes one resource (a JSON object), applies the projection and
// encodes it again. Numbers keep their exact text; keys come out sorted, and
// '<', '>' and '&' are not escaped. A body that is not a single JSON object
// is an error (a plain one: the body is the server's own output).
func (p *Projection) ApplyJSON(body []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var res map[string]any
	if err := dec.Decode(&res); err != nil {
		return nil, fmt.Errorf("projection: decoding resource: %w", err)
	}
	if res == nil {
		return nil, errors.New("projection: resource is null, not a JSON object")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("projection: data after the resource object")
	}
	p.Apply(res)
	var out bytes.Buffer
	out.Grow(len(body))
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(res); err != nil {
		return nil, fmt.Errorf("projection: encoding resource: %w", err)
	}
	return bytes.TrimSuffix(out.Bytes(), []byte{'\n'}), nil
}

type action uint8

const (
	actKeep action = iota
	actReplace
	actDrop
)

// apply projects the value of one attribute.
func (d *decision) apply(info *attrInfo, v any) (any, action) {
	if !d.keep {
		return nil, actDrop
	}
	if !d.filter {
		return nil, actKeep
	}
	switch x := v.(type) {
	case map[string]any:
		if d.filterObj(info, x) && len(x) == 0 {
			return nil, actDrop
		}
	case []any:
		out := x[:0]
		for _, el := range x {
			m, ok := el.(map[string]any)
			if d.onlyElems != nil || d.dropElems != nil {
				if !d.elemKept(info, el, m, ok) {
					continue
				}
			}
			if ok && d.filterObj(info, m) && len(m) == 0 {
				continue
			}
			out = append(out, el)
		}
		if len(out) == len(x) {
			return nil, actKeep
		}
		clear(x[len(out):])
		if len(out) == 0 {
			return nil, actDrop
		}
		return out, actReplace
	}
	return nil, actKeep
}

// elemKept applies the value filters to one value of a multi-valued
// attribute (m is the value when it is an object, ok reports whether it
// is): it reports whether the value stays, after removing from it the
// sub-attributes excluded for matching values. Every filter sees the value
// as stored, before any sub-attribute is removed, so a filter may test a
// sub-attribute the response leaves out (emails[type eq "work"].value).
func (d *decision) elemKept(info *attrInfo, el any, m map[string]any, ok bool) bool {
	if !ok {
		if len(info.subAttrs) > 0 {
			return true // not the shape the schema describes: left as is
		}
		m = map[string]any{"value": el} // a simple value is named "value"
	}
	if d.onlyElems != nil {
		match := false
		for _, f := range d.onlyElems {
			if f.Match(m) {
				match = true
				break
			}
		}
		if !match {
			return false
		}
	}
	var subs []int
	for _, x := range d.dropElems {
		if !x.f.Match(m) {
			continue
		}
		if x.sub < 0 {
			return false
		}
		subs = append(subs, x.sub)
	}
	if ok {
		for _, j := range subs {
			for k := range m {
				if i, found := info.subs.get(k); found && i == j {
					delete(m, k)
				}
			}
		}
		if len(subs) > 0 && len(m) == 0 {
			return false
		}
	}
	return true
}

// filterObj removes the sub-attributes d drops from one complex value and
// reports whether it removed any.
func (d *decision) filterObj(info *attrInfo, m map[string]any) bool {
	removed := false
	for k := range m {
		keep := d.keepUnknown
		if j, ok := info.subs.get(k); ok {
			keep = d.subs[j]
		}
		if !keep {
			delete(m, k)
			removed = true
		}
	}
	return removed
}

// applyExt projects one extension object and reports whether to remove it.
func (p *Projection) applyExt(e int, v any) bool {
	d := p.exts[e]
	if d.drop {
		return true
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return false
	}
	ext := &p.ix.exts[e]
	removed := false
	for k, v := range obj {
		i, ok := ext.names.get(k)
		if !ok {
			if !d.keepUnknown {
				delete(obj, k)
				removed = true
			}
			continue
		}
		switch nv, act := p.attrs[i].apply(&p.ix.attrs[i], v); act {
		case actDrop:
			delete(obj, k)
			removed = true
		case actReplace:
			obj[k] = nv
		}
	}
	return removed && len(obj) == 0
}

// removeSchemaURNs removes the URNs of the dropped extensions from the
// resource's "schemas" array.
func (p *Projection) removeSchemaURNs(res map[string]any, dropped []int) {
	key := "schemas"
	v, ok := res[key]
	if !ok {
		for k, kv := range res {
			if strings.EqualFold(k, "schemas") {
				key, v, ok = k, kv, true
				break
			}
		}
		if !ok {
			return
		}
	}
	isDropped := func(urn string) bool {
		for _, e := range dropped {
			if strings.EqualFold(urn, p.ix.exts[e].schema.ID) {
				return true
			}
		}
		return false
	}
	switch list := v.(type) {
	case []any:
		out := make([]any, 0, len(list))
		for _, u := range list {
			if s, ok := u.(string); ok && isDropped(s) {
				continue
			}
			out = append(out, u)
		}
		if len(out) != len(list) {
			res[key] = out
		}
	case []string:
		out := make([]string, 0, len(list))
		for _, s := range list {
			if !isDropped(s) {
				out = append(out, s)
			}
		}
		if len(out) != len(list) {
			res[key] = out
		}
	}
}

// equal reports whether p and q make the same decisions.
func (p *Projection) equal(q *Projection) bool {
	if p.hasInc != q.hasInc {
		return false
	}
	for i := range p.attrs {
		a, b := &p.attrs[i], &q.attrs[i]
		if a.keep != b.keep || a.filter != b.filter || a.keepUnknown != b.keepUnknown ||
			a.onlyElems != nil || b.onlyElems != nil || a.dropElems != nil || b.dropElems != nil {
			return false
		}
		if a.filter {
			for j := range a.subs {
				if a.subs[j] != b.subs[j] {
					return false
				}
			}
		}
	}
	for i := range p.exts {
		if p.exts[i] != q.exts[i] {
			return false
		}
	}
	return true
}

// builder collects the parsed parameters before the decisions are made.
type builder struct {
	ix     *index
	hasInc bool
	sels   []selection
	incSub []bool // per sub-attribute, indexed by attrInfo.subOff+j
	excSub []bool
	extInc []bool // bare extension URN in attributes
	extExc []bool // bare extension URN in excludedAttributes
}

// selection is what the parameters say about one top-level attribute.
type selection struct {
	explicit  bool // named in attributes
	viaSchema bool // its schema URN is named in attributes
	anySub    bool // one of its sub-attributes is named in attributes
	excluded  bool // named (or its schema URN) in excludedAttributes
	// unfiltered: named in attributes without a value filter (itself, a
	// sub-attribute or its schema), so every value is selected.
	unfiltered bool
	filters    []*valuefilter.Filter // value filters of the attributes items naming it
	drops      []elemDrop            // excludedAttributes items with a value filter
}

func newBuilder(ix *index) *builder {
	return &builder{
		ix:     ix,
		sels:   make([]selection, len(ix.attrs)),
		incSub: make([]bool, ix.nsubs),
		excSub: make([]bool, ix.nsubs),
		extInc: make([]bool, len(ix.exts)),
		extExc: make([]bool, len(ix.exts)),
	}
}

// parse reads one parameter value into the builder.
func (b *builder) parse(param, value string, include bool) error {
	for _, item := range splitItems(value) {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		t, err := b.ix.resolve(param, item)
		if err != nil {
			return err
		}
		if include {
			b.hasInc = true
		}
		if t.vf != nil {
			b.parseFiltered(t, include)
			continue
		}
		if include && t.kind != targetSchemas {
			for i := range b.sels {
				if t.kind == targetSchema && b.ix.attrs[i].attr.Schema == t.schema ||
					t.kind != targetSchema && i == t.attr {
					b.sels[i].unfiltered = true
				}
			}
		}
		switch t.kind {
		case targetAttr:
			if include {
				b.sels[t.attr].explicit = true
			} else {
				b.sels[t.attr].excluded = true
			}
		case targetSub:
			k := b.ix.attrs[t.attr].subOff + t.sub
			if include {
				b.sels[t.attr].anySub = true
				b.incSub[k] = true
			} else {
				b.excSub[k] = true
			}
		case targetSchema:
			for i := range b.ix.attrs {
				if b.ix.attrs[i].attr.Schema != t.schema {
					continue
				}
				if include {
					b.sels[i].viaSchema = true
				} else {
					b.sels[i].excluded = true
				}
			}
			if t.ext >= 0 {
				if include {
					b.extInc[t.ext] = true
				} else {
					b.extExc[t.ext] = true
				}
			}
		case targetSchemas:
			// "schemas" is always returned; naming it changes nothing.
		}
	}
	return nil
}

// parseFiltered records an item with a value filter. In attributes it
// selects the attribute (or its sub-attribute) like the same item without
// the filter does, and keeps only the matching values unless another item
// selects every value. In excludedAttributes it removes the matching
// values (or the sub-attribute from them) instead of the whole attribute.
func (b *builder) parseFiltered(t target, include bool) {
	s := &b.sels[t.attr]
	if !include {
		sub := -1
		if t.kind == targetSub {
			sub = t.sub
		}
		s.drops = append(s.drops, elemDrop{f: t.vf, sub: sub})
		return
	}
	s.filters = append(s.filters, t.vf)
	if t.kind == targetSub {
		s.anySub = true
		b.incSub[b.ix.attrs[t.attr].subOff+t.sub] = true
	} else {
		s.explicit = true
	}
}

// splitItems splits a parameter value at the commas that separate items,
// not at those inside a value filter's brackets or quoted strings
// (emails[value eq "a,b"]).
func splitItems(v string) []string {
	var items []string
	depth, inStr, start := 0, false, 0
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case inStr:
			if c == '\\' {
				i++
			} else if c == '"' {
				inStr = false
			}
		case c == '"' && depth > 0:
			inStr = true
		case c == '[':
			depth++
		case c == ']' && depth > 0:
			depth--
		case c == ',' && depth == 0:
			items = append(items, v[start:i])
			start = i + 1
		}
	}
	return append(items, v[start:])
}

// build turns the selections into decisions.
func (b *builder) build() *Projection {
	ix := b.ix
	p := &Projection{
		ix:     ix,
		hasInc: b.hasInc,
		attrs:  make([]decision, len(ix.attrs)),
		exts:   make([]extDecision, len(ix.exts)),
	}
	keep := make([]bool, ix.nsubs)
	for i := range ix.attrs {
		info := &ix.attrs[i]
		s := b.sels[i]
		a := info.attr
		d := &p.attrs[i]
		switch a.Returned {
		case schema.ReturnedNever:
			d.keep = false
		case schema.ReturnedAlways:
			d.keep = true
		case schema.ReturnedRequest:
			d.keep = b.hasInc && (s.explicit || s.anySub) && !s.excluded
		default:
			d.keep = (!b.hasInc || s.explicit || s.viaSchema || s.anySub) && !s.excluded
		}
		if d.keep && a.Returned != schema.ReturnedAlways {
			if len(s.filters) > 0 && !s.unfiltered {
				d.onlyElems = s.filters
			}
			d.dropElems = s.drops
			if d.onlyElems != nil || d.dropElems != nil {
				d.filter = true
			}
		}
		if !d.keep || len(info.subAttrs) == 0 {
			continue
		}
		whole := !b.hasInc || a.Returned == schema.ReturnedAlways || s.explicit || s.viaSchema
		d.keepUnknown = whole
		d.filter = d.filter || !whole
		d.subs = keep[info.subOff : info.subOff+len(info.subAttrs)]
		for j, sub := range info.subAttrs {
			k := info.subOff + j
			switch sub.Returned {
			case schema.ReturnedNever:
				d.subs[j] = false
			case schema.ReturnedAlways:
				d.subs[j] = true
			case schema.ReturnedRequest:
				d.subs[j] = b.incSub[k] && !b.excSub[k]
			default:
				d.subs[j] = (whole || b.incSub[k]) && !b.excSub[k]
			}
			if !d.subs[j] {
				d.filter = true
			}
		}
	}
	for e := range ix.exts {
		ext := &ix.exts[e]
		d := &p.exts[e]
		d.keepUnknown = (!b.hasInc || b.extInc[e]) && !b.extExc[e]
		d.drop = !d.keepUnknown
		for i := ext.first; i < ext.end && d.drop; i++ {
			if p.attrs[i].keep {
				d.drop = false
			}
		}
	}
	return p
}

// targetKind is what a path names.
type targetKind uint8

const (
	targetAttr    targetKind = iota // a whole top-level attribute
	targetSub                       // one sub-attribute
	targetSchema                    // every attribute of a schema (bare URN)
	targetSchemas                   // the "schemas" attribute
)

type target struct {
	kind   targetKind
	attr   int // index into index.attrs
	sub    int // index into attrInfo.subAttrs
	schema *schema.Schema
	ext    int // extension index for targetSchema; -1 for the core schema
	// vf is the value filter of "emails[type eq \"work\"]" (targetAttr)
	// or "emails[type eq \"work\"].value" (targetSub), nil without one.
	vf *valuefilter.Filter
}

// resolve resolves one attribute path of the named parameter.
func (ix *index) resolve(param, path string) (target, error) {
	if strings.ContainsAny(path, "[]") {
		return ix.resolveFiltered(param, path)
	}
	if len(path) < 4 || !strings.EqualFold(path[:4], "urn:") {
		return ix.resolveIn(param, path, path, nil)
	}
	// The longest schema URN that prefixes the path and leaves a resolvable
	// remainder wins, so that one URN may extend another.
	var (
		best    target
		bestLen = -1
		bestErr error
	)
	for e := -1; e < len(ix.exts); e++ {
		sc := ix.rt.Core
		if e >= 0 {
			sc = ix.exts[e].schema
		}
		if sc == nil {
			continue
		}
		id := sc.ID
		if len(path) < len(id) || !strings.EqualFold(path[:len(id)], id) || len(id) <= bestLen {
			continue
		}
		if len(path) == len(id) {
			best, bestLen, bestErr = target{kind: targetSchema, schema: sc, ext: e}, len(id), nil
			continue
		}
		if path[len(id)] != ':' {
			continue
		}
		t, err := ix.resolveIn(param, path, path[len(id)+1:], sc)
		if err != nil {
			if bestLen < 0 && bestErr == nil {
				bestErr = err
			}
			continue
		}
		best, bestLen, bestErr = t, len(id), nil
	}
	if bestLen >= 0 {
		return best, nil
	}
	if bestErr != nil {
		return target{}, bestErr
	}
	return target{}, badPath(param, path, fmt.Sprintf("no schema of resource type %s has that URN (its schemas: %s)", ix.rt.Name, ix.schemaList()))
}

// resolveFiltered resolves a path with a value filter,
// attr[filter] or attr[filter].sub, where attr is a multi-valued
// attribute. RFC 7644 §3.10 attribute notation has no filters; Microsoft's
// SCIM collection sends them in attributes and expects only the matching
// values back (README, client quirks). Filter errors are 400
// invalidFilter.
func (ix *index) resolveFiltered(param, path string) (target, error) {
	p, err := filter.ParsePath(path)
	if err != nil {
		return target{}, badFilter(param, path, err.Error())
	}
	if p.ValueFilter == nil {
		return target{}, badPath(param, path, "unexpected '[' or ']'")
	}
	if p.Attr.Sub != "" {
		return target{}, badPath(param, path, fmt.Sprintf("a value filter applies to a multi-valued attribute, not to the sub-attribute %s", clip(p.Attr.String())))
	}
	t, err := ix.resolve(param, p.Attr.String())
	if err != nil {
		return target{}, err
	}
	if t.kind != targetAttr {
		return target{}, badPath(param, path, "a value filter applies to a multi-valued attribute, not to a schema")
	}
	info := &ix.attrs[t.attr]
	if !info.attr.MultiValued {
		return target{}, badPath(param, path, fmt.Sprintf("attribute %q is not multi-valued, so it cannot have a value filter", info.attr.Name))
	}
	if p.Sub != "" {
		j, ok := info.subIdx[info.attr.Sub(p.Sub)]
		if !ok {
			return target{}, badPath(param, path, fmt.Sprintf("attribute %q has no sub-attribute %q", info.attr.Name, clip(p.Sub)))
		}
		t.kind, t.sub = targetSub, j
	}
	if t.vf, err = valuefilter.Compile(p.ValueFilter, info.attr); err != nil {
		return target{}, badFilter(param, path, err.Error())
	}
	return t, nil
}

func badFilter(param, path, why string) *scimerr.Error {
	return scimerr.BadRequest(scimerr.InvalidFilter, "%s: invalid value filter in %q: %s", param, clip(path), clip(why))
}

// resolveIn resolves "name" or "name.sub" in schema sc, or unqualified when
// sc is nil. path is the whole item, for error details.
func (ix *index) resolveIn(param, path, rest string, sc *schema.Schema) (target, error) {
	name, sub, hasSub := strings.Cut(rest, ".")
	if strings.Contains(sub, ".") {
		return target{}, badPath(param, path, "a path is an attribute or attribute.subAttribute; it has too many '.'")
	}
	if name == "" || (hasSub && sub == "") {
		return target{}, badPath(param, path, "an attribute name is empty")
	}
	var a *schema.Attribute
	switch {
	case sc == nil:
		if !hasSub && strings.EqualFold(name, "schemas") {
			return target{kind: targetSchemas}, nil
		}
		a = ix.rt.Lookup("", name, "")
	case sc == ix.rt.Core:
		if a = sc.Attr(name); a == nil {
			a = schema.Common(name)
		}
	default:
		a = sc.Attr(name)
	}
	i, ok := ix.byAttr[a]
	if !ok {
		where := "resource type " + ix.rt.Name
		if sc != nil {
			where = "schema " + sc.ID
		}
		return target{}, badPath(param, path, fmt.Sprintf("%s has no attribute %q", where, clip(name)))
	}
	if !hasSub {
		return target{kind: targetAttr, attr: i}, nil
	}
	if len(ix.attrs[i].subAttrs) == 0 {
		return target{}, badPath(param, path, fmt.Sprintf("attribute %q is not complex and has no sub-attributes", a.Name))
	}
	j, ok := ix.attrs[i].subIdx[a.Sub(sub)]
	if !ok {
		return target{}, badPath(param, path, fmt.Sprintf("attribute %q has no sub-attribute %q", a.Name, clip(sub)))
	}
	return target{kind: targetSub, attr: i, sub: j}, nil
}

func badPath(param, path, why string) *scimerr.Error {
	return scimerr.BadRequest(scimerr.InvalidValue, "%s: unknown attribute path %q: %s", param, clip(path), why)
}

// clip shortens client-supplied text repeated in an error detail.
func clip(s string) string {
	if len(s) > maxPathInDetail {
		return s[:maxPathInDetail] + "..."
	}
	return s
}

// index is what New needs to know about a resource type, built once per
// resource type: every top-level attribute (common, core, then each
// extension's), with name lookups for the resource's keys.
type index struct {
	rt     *schema.ResourceType
	attrs  []attrInfo
	keys   names // a resource's top-level keys: see keySchemas, keyExt
	exts   []extInfo
	byAttr map[*schema.Attribute]int
	nsubs  int
	def    *Projection
}

type attrInfo struct {
	attr     *schema.Attribute
	subAttrs []*schema.Attribute
	subs     names // sub-attribute names → subAttrs index
	subIdx   map[*schema.Attribute]int
	subOff   int // offset of this attribute's sub-attributes in per-sub slices
}

type extInfo struct {
	schema     *schema.Schema
	first, end int   // the extension's attributes are attrs[first:end]
	names      names // attribute names → attrs index
}

// Values of index.keys below zero: "schemas", and the extension objects
// (keyExt-e for extension e). Values from zero up index index.attrs.
const (
	keySchemas = -1
	keyExt     = -2
)

func extOf(key int) int { return keyExt - key }

// names maps a key, compared case-insensitively, to an index. It holds each
// name as written in the schema and in lower case, so that the usual,
// canonically spelled key costs one map lookup and no allocation.
type names map[string]int

func (n names) add(name string, i int) {
	n[name] = i
	n[strings.ToLower(name)] = i
}

func (n names) get(k string) (int, bool) {
	if i, ok := n[k]; ok {
		return i, true
	}
	i, ok := n[strings.ToLower(k)]
	return i, ok
}

var indexes sync.Map // *schema.ResourceType → *index

// indexFor returns the cached index of rt, building it on first use. Resource
// types are loaded once at start and never change afterwards.
func indexFor(rt *schema.ResourceType) *index {
	if v, ok := indexes.Load(rt); ok {
		return v.(*index)
	}
	v, _ := indexes.LoadOrStore(rt, buildIndex(rt))
	return v.(*index)
}

func buildIndex(rt *schema.ResourceType) *index {
	ix := &index{
		rt:     rt,
		keys:   names{"schemas": keySchemas},
		byAttr: map[*schema.Attribute]int{},
	}
	add := func(a *schema.Attribute, n names) {
		i := len(ix.attrs)
		info := attrInfo{attr: a, subOff: ix.nsubs}
		if len(a.SubAttributes) > 0 {
			info.subAttrs = a.SubAttributes
			info.subs = names{}
			info.subIdx = make(map[*schema.Attribute]int, len(a.SubAttributes))
			for j, s := range a.SubAttributes {
				info.subs.add(s.Name, j)
				info.subIdx[s] = j
			}
			ix.nsubs += len(a.SubAttributes)
		}
		ix.attrs = append(ix.attrs, info)
		ix.byAttr[a] = i
		n.add(a.Name, i)
	}
	for _, a := range schema.CommonAttributes() {
		add(a, ix.keys)
	}
	if rt.Core != nil {
		for _, a := range rt.Core.Attributes {
			add(a, ix.keys)
		}
	}
	for e, sc := range rt.Extensions {
		ext := extInfo{schema: sc, first: len(ix.attrs), names: names{}}
		for _, a := range sc.Attributes {
			add(a, ext.names)
		}
		ext.end = len(ix.attrs)
		ix.exts = append(ix.exts, ext)
		ix.keys.add(sc.ID, keyExt-e)
	}
	ix.def = newBuilder(ix).build()
	ix.def.def = true
	return ix
}

func (ix *index) schemaList() string {
	ids := []string{}
	if ix.rt.Core != nil {
		ids = append(ids, ix.rt.Core.ID)
	}
	for _, e := range ix.exts {
		ids = append(ids, e.schema.ID)
	}
	return strings.Join(ids, ", ")
}
