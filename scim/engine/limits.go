package engine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/scimforge/scimforge/scim/filter"
	"github.com/scimforge/scimforge/scim/patch"
	"github.com/scimforge/scimforge/scim/schema"
	"github.com/scimforge/scimforge/scim/scimerr"
)

// Default limits (docs/limits.md). Each is well above what Entra ID and
// Okta send: a string attribute of theirs is at most a few hundred
// characters (a certificate in x509Certificates a few thousand), a user has
// a handful of emails, and group membership is not a multi-valued value of
// the stored document (members are rows, added in PATCH batches) so
// MaxValues does not bound a group's size.
const (
	DefaultMaxValueLength = 16384
	DefaultMaxValues      = 1000
)

// Limits bound what a request may store or ask for. The zero value of a
// field is its default.
type Limits struct {
	// MaxValueLength is the most characters (Unicode code points) one
	// string value of a stored resource may have.
	MaxValueLength int
	// MaxValues is the most values one multi-valued attribute of a stored
	// resource may have.
	MaxValues int
	// MaxFilterLength (bytes) and MaxFilterDepth (nesting) bound filters;
	// zero: filter.MaxLength, filter.MaxDepth.
	MaxFilterLength, MaxFilterDepth int
	// MaxResults is the most resources one page holds: a larger count is
	// lowered to it with index paging (RFC 7644 §3.4.2.4) and refused with
	// cursor paging (RFC 9865 §2.3). Zero: MaxResults.
	MaxResults int
	// StrictAttributes refuses POST and PUT bodies with attributes the
	// resource type's schemas do not define (off: they are ignored, as
	// Entra ID and Okta send attributes an app may not have).
	StrictAttributes bool
}

// WithDefaults returns l with every zero field set to its default.
func (l Limits) WithDefaults() Limits {
	if l.MaxValueLength <= 0 {
		l.MaxValueLength = DefaultMaxValueLength
	}
	if l.MaxValues <= 0 {
		l.MaxValues = DefaultMaxValues
	}
	if l.MaxFilterLength <= 0 {
		l.MaxFilterLength = filter.MaxLength
	}
	if l.MaxFilterDepth <= 0 {
		l.MaxFilterDepth = filter.MaxDepth
	}
	if l.MaxResults <= 0 {
		l.MaxResults = MaxResults
	}
	return l
}

func (l Limits) filter() filter.Limits {
	return filter.Limits{Length: l.MaxFilterLength, Depth: l.MaxFilterDepth}
}

// checkDoc enforces MaxValueLength and MaxValues on an encoded document
// (what Encode produced: valid JSON). A scan over the bytes, no decoding:
// a string's raw length bounds its length in characters from above, so
// only a raw string longer than the limit, or an array with more elements,
// sends the document to the slow path that names the attribute. old is
// the stored document a PUT or PATCH replaces (nil for a create): a value
// over the limit that was already stored is not refused again, so that a
// resource stored before a limit was lowered can still be changed.
func (l Limits) checkDoc(doc, old []byte) error {
	if !l.suspect(doc) {
		return nil
	}
	path, msg := l.violation(doc)
	if path == "" {
		return nil
	}
	if old != nil && l.suspect(old) {
		if p, _ := l.violation(old); p == path {
			return nil
		}
	}
	return scimerr.BadRequest(scimerr.InvalidValue, "%s: %s", path, msg)
}

// suspect reports whether doc may break a limit.
func (l Limits) suspect(doc []byte) bool {
	// counts[i] counts the elements of the i-th open array (-1: an object).
	var counts [32]int
	stack := counts[:0]
	for i := 0; i < len(doc); i++ {
		switch c := doc[i]; c {
		case '"':
			start := i
			for i++; i < len(doc) && doc[i] != '"'; i++ {
				if doc[i] == '\\' {
					i++
				}
			}
			if i-start-1 > l.MaxValueLength {
				return true
			}
		case '[':
			stack = append(stack, 0)
			// An array with a first element counts it here; ',' the rest.
			j := i + 1
			for j < len(doc) && (doc[j] == ' ' || doc[j] == '\n' || doc[j] == '\t' || doc[j] == '\r') {
				j++
			}
			if j < len(doc) && doc[j] != ']' {
				stack[len(stack)-1] = 1
			}
		case '{':
			stack = append(stack, -1)
		case ']', '}':
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		case ',':
			if n := len(stack); n > 0 && stack[n-1] >= 0 {
				stack[n-1]++
				if stack[n-1] > l.MaxValues {
					return true
				}
			}
		}
	}
	return false
}

// violation decodes doc and returns the path of the first value (in key
// order) over a limit and what is wrong with it, or "" when none is.
func (l Limits) violation(doc []byte) (path, msg string) {
	var v any
	d := json.NewDecoder(bytes.NewReader(doc))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		return "", ""
	}
	return l.walk("", "", v)
}

// walk checks v, found at path; sep joins path and the keys of v when v
// is an object ("." for sub-attributes, ":" under an extension URN).
func (l Limits) walk(path, sep string, v any) (string, string) {
	switch v := v.(type) {
	case string:
		if len(v) > l.MaxValueLength {
			if n := utf8.RuneCountInString(v); n > l.MaxValueLength {
				return orValue(path), fmt.Sprintf("the value is %d characters long; the limit is %d (SCIMFORGE_MAX_VALUE_LENGTH)", n, l.MaxValueLength)
			}
		}
	case []any:
		if len(v) > l.MaxValues {
			return orValue(path), fmt.Sprintf("%d values; the limit is %d values of one attribute (SCIMFORGE_MAX_VALUES)", len(v), l.MaxValues)
		}
		for _, e := range v {
			if p, m := l.walk(path, sep, e); p != "" {
				return p, m
			}
		}
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if path == "" && k == "schemas" {
				continue // set by Encode from the resource type, not the client's
			}
			p, childSep := path+sep+k, "."
			if path == "" && strings.HasPrefix(k, "urn:") {
				// An extension's attributes: urn:…:User:department.
				childSep = ":"
			}
			if p, m := l.walk(p, childSep, v[k]); p != "" {
				return p, m
			}
		}
	}
	return "", ""
}

func orValue(path string) string {
	if path == "" {
		return "the resource"
	}
	return "attribute " + path
}

// checkAttributes refuses, under StrictAttributes, a resource body with a
// member the resource type's schemas do not define, naming it (400
// invalidSyntax). Schema URNs in "schemas" are not checked: clients send
// ones an app does not have (Microsoft's ADSCIM group URN), and the
// attributes under an unknown extension URN are what matter.
func checkAttributes(rt *schema.ResourceType, body []byte) error {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		return nil // not an object: decoding reports it
	}
	for _, k := range sortedKeys(top) {
		if strings.EqualFold(k, "schemas") {
			continue
		}
		if ext := rt.SchemaByURN(k); ext != nil && ext != rt.Core {
			if err := checkObject(k+":", ext.Attr, top[k]); err != nil {
				return err
			}
			continue
		}
		// Extension attributes belong under their URN, not at the top.
		a := schema.Common(k)
		if a == nil {
			a = rt.Core.Attr(k)
		}
		if a == nil {
			return unknownAttribute(k, rt)
		}
		if err := checkSubs("", a, top[k]); err != nil {
			return err
		}
	}
	return nil
}

// checkObject checks an extension's object: each key an attribute of it.
func checkObject(prefix string, attr func(string) *schema.Attribute, raw json.RawMessage) error {
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) != nil {
		return nil
	}
	for _, k := range sortedKeys(obj) {
		a := attr(k)
		if a == nil {
			return scimerr.BadRequest(scimerr.InvalidSyntax, "unknown attribute %q: the schema defines no such attribute (unknown attributes are refused: SCIMFORGE_STRICT_ATTRIBUTES)", prefix+k)
		}
		if err := checkSubs(prefix, a, obj[k]); err != nil {
			return err
		}
	}
	return nil
}

// checkSubs checks the keys of a complex attribute's value (or each value
// of a multi-valued one) against its sub-attributes.
func checkSubs(prefix string, a *schema.Attribute, raw json.RawMessage) error {
	return checkElems(prefix, a, raw, a.MultiValued)
}

// checkElems is checkSubs with the shape given: raw is an array of
// values when multi is set, else one value.
func checkElems(prefix string, a *schema.Attribute, raw json.RawMessage, multi bool) error {
	if a.Type != schema.Complex {
		return nil
	}
	var elems []json.RawMessage
	if multi {
		if json.Unmarshal(raw, &elems) != nil {
			return nil
		}
	} else {
		elems = []json.RawMessage{raw}
	}
	for _, e := range elems {
		var obj map[string]json.RawMessage
		if json.Unmarshal(e, &obj) != nil {
			continue
		}
		for _, k := range sortedKeys(obj) {
			if a.Sub(k) == nil {
				return scimerr.BadRequest(scimerr.InvalidSyntax, "unknown attribute %q: %s has no sub-attribute %q (unknown attributes are refused: SCIMFORGE_STRICT_ATTRIBUTES)", prefix+a.Name+"."+k, a.Name, k)
			}
		}
	}
	return nil
}

func unknownAttribute(k string, rt *schema.ResourceType) error {
	return scimerr.BadRequest(scimerr.InvalidSyntax, "unknown attribute %q: the %s schemas define no such attribute (unknown attributes are refused: SCIMFORGE_STRICT_ATTRIBUTES)", k, rt.Name)
}

func sortedKeys(m map[string]json.RawMessage) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func (s *Service[T]) limits() Limits { return s.lim }

// CheckAttributes refuses a POST or PUT body with an attribute the
// resource type does not define when Limits.StrictAttributes is set (400
// invalidSyntax naming it); without it, and for a body that is not a JSON
// object, it returns nil. The HTTP layer calls it before the body is
// decoded into the typed value (which drops unknown members);
// CreateJSON and ReplaceJSON call it themselves.
func (s *Service[T]) CheckAttributes(body []byte) error {
	if !s.lim.StrictAttributes {
		return nil
	}
	return checkAttributes(s.d.Type, body)
}

// checkPatchValues is CheckAttributes for a PatchOp (see checkPatch).
func (s *Service[T]) checkPatchValues(req *patch.Request) error {
	if !s.lim.StrictAttributes || req == nil {
		return nil
	}
	return checkPatch(s.d.Type, req)
}

// checkPatch is checkAttributes for the values of a PatchOp's operations:
// patch.Apply writes only what the schema defines, so an unknown
// sub-attribute in a value would otherwise vanish without a word. Unknown
// attributes named by a path, or by a key of a path-less value, are
// refused by Apply whatever the setting (invalidPath); paths Apply
// resolves in other ways (dotted or URN-qualified keys) are left to it.
func checkPatch(rt *schema.ResourceType, req *patch.Request) error {
	for _, op := range req.Operations {
		if !op.HasValue || op.Value == nil {
			continue
		}
		raw, err := json.Marshal(op.Value)
		if err != nil {
			continue
		}
		if strings.TrimSpace(op.Path) == "" {
			obj, ok := op.Value.(map[string]any)
			if !ok {
				continue
			}
			for _, k := range sortedAny(obj) {
				b, _ := json.Marshal(obj[k])
				if ext := rt.SchemaByURN(k); ext != nil && ext != rt.Core {
					if err := checkObject(k+":", ext.Attr, b); err != nil {
						return err
					}
				} else if a := topAttr(rt, k); a != nil {
					if err := checkValue("", a, b); err != nil {
						return err
					}
				}
			}
			continue
		}
		p, err := filter.ParsePath(op.Path)
		if err != nil {
			continue // Apply reports it
		}
		if p.Attr.Name != "" && p.Attr.Sub == "" && p.Sub == "" {
			if ext := rt.SchemaByURN(p.Attr.URN + ":" + p.Attr.Name); p.Attr.URN != "" && ext != nil && ext != rt.Core {
				if err := checkObject(ext.ID+":", ext.Attr, raw); err != nil {
					return err
				}
				continue
			}
		}
		sub := p.Attr.Sub
		if p.Sub != "" {
			sub = p.Sub
		}
		a := rt.Lookup(p.Attr.URN, p.Attr.Name, sub)
		if a == nil {
			continue // Apply reports it
		}
		prefix := ""
		if a.Schema != nil && a.Schema != rt.Core {
			prefix = a.Schema.ID + ":"
		}
		if a.Parent != nil {
			prefix += a.Parent.Name + "."
		}
		if err := checkValue(prefix, a, raw); err != nil {
			return err
		}
	}
	return nil
}

// checkValue checks a value for complex attribute a, one object or an
// array of them (a PATCH value for a multi-valued attribute may be either).
func checkValue(prefix string, a *schema.Attribute, raw json.RawMessage) error {
	b := bytes.TrimSpace(raw)
	return checkElems(prefix, a, raw, len(b) > 0 && b[0] == '[')
}

func topAttr(rt *schema.ResourceType, k string) *schema.Attribute {
	if a := schema.Common(k); a != nil {
		return a
	}
	return rt.Core.Attr(k)
}

func sortedAny(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
