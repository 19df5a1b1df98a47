// Package valuefilter evaluates a parsed SCIM value filter (the part
// between the brackets of `emails[type eq "work"]`) against one value of a
// multi-valued attribute held in memory, with the semantics the SQL filter
// compiler (scim/sqlfilter) gives the same filter over stored rows:
//
//   - Attribute names are sub-attributes of the attribute the filter is
//     applied to, resolved case-insensitively (RFC 7643 §2.1); the keys of
//     the value are matched case-insensitively too. A name the schema does
//     not define, a URN-qualified or dotted name, or a nested value filter
//     is an error.
//   - Strings and references compare case-insensitively unless the
//     sub-attribute is caseExact (RFC 7643 §2.2); the folding is
//     strings.ToLower, the one sqlfilter.Fold applies to search columns, so
//     an in-memory match and a SQL match agree beyond ASCII.
//   - Booleans compare with eq/ne only; "True"/"False" strings (any case)
//     count as booleans on both sides, as Entra ID sends them (quirk Q2).
//   - dateTime values compare as instants (any offset, normalised to UTC; no
//     zone means UTC); integers and decimals compare as numbers.
//   - "pr", "eq null" and "ne null" are presence tests: null, "", [] and {}
//     are absent. "ne" holds when the value is absent or differs. Any other
//     comparison with an absent value, or with a value of another JSON type
//     than the schema says, is false.
//   - "not (f)" is the complement of f for a value.
//
// Errors (*Error) depend only on the filter and the schema, never on the
// value: a filter that is wrong for one value is wrong for all, so callers
// can report it as 400 invalidFilter before looking at any data, with
// [Compile].
package valuefilter

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/scimforge/scimforge/scim/filter"
	"github.com/scimforge/scimforge/scim/schema"
)

// Error is a filter that cannot apply to the attribute: an unknown
// sub-attribute, an operator the sub-attribute's type does not support or a
// value of the wrong type. Callers map it to 400 invalidFilter.
type Error struct {
	Attr string // the attribute as the client wrote it, if known
	Msg  string
}

func (e *Error) Error() string { return e.Msg }

func errorf(attr, format string, args ...any) *Error {
	return &Error{Attr: attr, Msg: fmt.Sprintf(format, args...)}
}

// Match reports whether elem, one value of the multi-valued (or complex)
// attribute attr, satisfies expr. For a multi-valued attribute without
// sub-attributes (a list of strings), pass the value as {"value": v}: the
// filter names it "value" (RFC 7644 §3.4.2.2).
func Match(expr filter.Expr, elem map[string]any, attr *schema.Attribute) (bool, error) {
	f, err := Compile(expr, attr)
	if err != nil {
		return false, err
	}
	return f.Match(elem), nil
}

// Filter is a value filter checked against its attribute's schema, ready to
// be matched against any number of values. It is immutable and safe for
// concurrent use.
type Filter struct {
	root node
}

// Compile checks expr against attr once, so that matching many values
// (a page of resources, every value of a PATCH target) does not repeat the
// lookups. It returns the error Match would return for any value.
func Compile(expr filter.Expr, attr *schema.Attribute) (*Filter, error) {
	if attr == nil {
		return nil, fmt.Errorf("valuefilter: nil attribute")
	}
	if len(attr.SubAttributes) == 0 && !attr.MultiValued {
		return nil, errorf(attr.Name, "%q is not a complex or multi-valued attribute, so it cannot have a value filter [...]", attr.Name)
	}
	n, err := compile(expr, attr)
	if err != nil {
		return nil, err
	}
	return &Filter{root: n}, nil
}

// Match reports whether elem satisfies the filter. A nil Filter matches
// nothing.
func (f *Filter) Match(elem map[string]any) bool {
	if f == nil {
		return false
	}
	return f.root.match(elem)
}

// node is a compiled filter expression.
type node interface {
	match(elem map[string]any) bool
}

type andNode struct{ l, r node }
type orNode struct{ l, r node }
type notNode struct{ x node }

func (n andNode) match(e map[string]any) bool { return n.l.match(e) && n.r.match(e) }
func (n orNode) match(e map[string]any) bool  { return n.l.match(e) || n.r.match(e) }
func (n notNode) match(e map[string]any) bool { return !n.x.match(e) }

func compile(expr filter.Expr, attr *schema.Attribute) (node, error) {
	switch e := expr.(type) {
	case *filter.Logical:
		l, err := compile(e.Left, attr)
		if err != nil {
			return nil, err
		}
		r, err := compile(e.Right, attr)
		if err != nil {
			return nil, err
		}
		switch e.Op {
		case filter.And:
			return andNode{l, r}, nil
		case filter.Or:
			return orNode{l, r}, nil
		}
		return nil, fmt.Errorf("valuefilter: unknown logical operator %v", e.Op)
	case *filter.Not:
		x, err := compile(e.X, attr)
		if err != nil {
			return nil, err
		}
		return notNode{x}, nil
	case *filter.Compare:
		return compileCompare(e, attr)
	case *filter.ValuePath:
		return nil, errorf(e.Attr.String(), "value filters cannot be nested: %s inside %s[...]", e.Attr, attr.Name)
	case nil:
		return nil, fmt.Errorf("valuefilter: nil expression")
	}
	return nil, fmt.Errorf("valuefilter: unsupported expression %T", expr)
}

// sub resolves a name inside attr[...]. A multi-valued attribute without
// sub-attributes has the one implicit sub-attribute "value": the element.
func sub(attr *schema.Attribute, name string) *schema.Attribute {
	if len(attr.SubAttributes) == 0 {
		if strings.EqualFold(name, "value") {
			return &schema.Attribute{Name: "value", Type: attr.Type, CaseExact: attr.CaseExact}
		}
		return nil
	}
	return attr.Sub(name)
}

func firstSub(attr *schema.Attribute) string {
	if attr.Sub("value") != nil || len(attr.SubAttributes) == 0 {
		return "value"
	}
	return attr.SubAttributes[0].Name
}

func compileCompare(cmp *filter.Compare, attr *schema.Attribute) (node, error) {
	name := cmp.Attr.String()
	if cmp.Attr.URN != "" || cmp.Attr.Sub != "" {
		return nil, errorf(name, "inside %s[...] name sub-attributes of %s directly (e.g. %q), not %q", attr.Name, attr.Name, firstSub(attr), name)
	}
	s := sub(attr, cmp.Attr.Name)
	if s == nil {
		return nil, errorf(name, "unknown attribute %q: %s has no sub-attribute %q", attr.Name+"."+cmp.Attr.Name, attr.Name, cmp.Attr.Name)
	}
	if s.Type == schema.Complex {
		return nil, errorf(name, "%s.%s is complex; a value filter compares simple sub-attributes", attr.Name, s.Name)
	}
	key := s.Name
	switch {
	case cmp.Op == filter.Pr:
		return presence{key: key, want: true}, nil
	case cmp.Value.Kind == filter.Null:
		switch cmp.Op {
		case filter.Eq:
			return presence{key: key, want: false}, nil
		case filter.Ne:
			return presence{key: key, want: true}, nil
		}
		return nil, errorf(name, "operator %s cannot compare %q with null; use eq null, ne null or pr", cmp.Op, name)
	}
	c, err := convert(s, name, cmp.Op, cmp.Value)
	if err != nil {
		return nil, err
	}
	c.key = key
	return c, nil
}

// values calls f with every value elem holds under key (compared
// case-insensitively), the elements of an array one by one, until f
// returns true; it reports whether f did. The exact key is tried first so
// that the usual, canonically spelled document costs one map lookup.
func values(elem map[string]any, key string, f func(any) bool) bool {
	one := func(v any) bool {
		if a, ok := v.([]any); ok {
			for _, x := range a {
				if f(x) {
					return true
				}
			}
			return false
		}
		return f(v)
	}
	if v, ok := elem[key]; ok && one(v) {
		return true
	}
	for k, v := range elem {
		if k != key && strings.EqualFold(k, key) && one(v) {
			return true
		}
	}
	return false
}

// present reports whether v counts as a value: null, "", [] and {} do not
// (RFC 7643 §2.5 treats them as unassigned).
func present(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case string:
		return x != ""
	case []any:
		return len(x) > 0
	case map[string]any:
		return len(x) > 0
	}
	return true
}

// presence is "pr" / "ne null" (want true) or "eq null" (want false).
type presence struct {
	key  string
	want bool
}

func (p presence) match(e map[string]any) bool {
	return values(e, p.key, present) == p.want
}

type kind int

const (
	kString kind = iota + 1
	kBinary
	kBoolean
	kInteger
	kDecimal
	kDateTime
)

// comparison is "key op operand" with the operand converted to the
// sub-attribute's type.
type comparison struct {
	key  string
	op   filter.CompareOp
	kind kind
	fold bool // compare strings.ToLower of both sides

	str string
	b   bool
	i   int64
	f   float64
	t   time.Time
}

func (c comparison) match(e map[string]any) bool {
	if c.op == filter.Ne {
		// Absent, or some value that differs (sqlfilter: "col IS NULL OR
		// col <> v" on one row).
		some := false
		differs := values(e, c.key, func(v any) bool {
			if !present(v) {
				return false
			}
			some = true
			return c.cmp(v, filter.Eq) != 1
		})
		return differs || !some
	}
	return values(e, c.key, func(v any) bool { return c.cmp(v, c.op) == 1 })
}

// cmp evaluates "v op operand": 1 true, 0 false, -1 v is absent or not of
// the sub-attribute's type (so no comparison holds).
func (c comparison) cmp(v any, op filter.CompareOp) int {
	if !present(v) {
		return -1
	}
	var order int // v compared with the operand, for eq and the orderings
	switch c.kind {
	case kString, kBinary:
		s, ok := v.(string)
		if !ok {
			return -1
		}
		if c.fold {
			s = strings.ToLower(s)
		}
		switch op {
		case filter.Co:
			return b2i(strings.Contains(s, c.str))
		case filter.Sw:
			return b2i(strings.HasPrefix(s, c.str))
		case filter.Ew:
			return b2i(strings.HasSuffix(s, c.str))
		}
		order = strings.Compare(s, c.str)
	case kBoolean:
		b, ok := toBool(v)
		if !ok {
			return -1
		}
		return b2i(b == c.b) // eq is the only operator left (ne is !eq)
	case kInteger:
		n, ok := toInt(v)
		if !ok {
			return -1
		}
		order = cmpOrdered(n, c.i)
	case kDecimal:
		x, ok := toFloat(v)
		if !ok {
			return -1
		}
		order = cmpOrdered(x, c.f)
	case kDateTime:
		s, ok := v.(string)
		if !ok {
			return -1
		}
		t, ok := filter.ParseDateTime(s)
		if !ok {
			return -1
		}
		order = t.Compare(c.t)
	default:
		return -1
	}
	switch op {
	case filter.Eq:
		return b2i(order == 0)
	case filter.Gt:
		return b2i(order > 0)
	case filter.Ge:
		return b2i(order >= 0)
	case filter.Lt:
		return b2i(order < 0)
	case filter.Le:
		return b2i(order <= 0)
	}
	return 0
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func cmpOrdered[T int64 | float64](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func toBool(v any) (bool, bool) {
	switch x := v.(type) {
	case bool:
		return x, true
	case string:
		switch {
		case strings.EqualFold(x, "true"):
			return true, true
		case strings.EqualFold(x, "false"):
			return false, true
		}
	}
	return false, false
}

// numberText returns the JSON text of a number held by a decoded document
// (json.Number with UseNumber, float64 without, or a Go integer).
func numberText(v any) (string, bool) {
	switch x := v.(type) {
	case json.Number:
		return string(x), true
	case float64:
		if math.IsInf(x, 0) || math.IsNaN(x) {
			return "", false
		}
		return strconv.FormatFloat(x, 'g', -1, 64), true
	case float32:
		return numberText(float64(x))
	case int:
		return strconv.FormatInt(int64(x), 10), true
	case int64:
		return strconv.FormatInt(x, 10), true
	case int32:
		return strconv.FormatInt(int64(x), 10), true
	}
	return "", false
}

func toInt(v any) (int64, bool) {
	s, ok := numberText(v)
	if !ok {
		return 0, false
	}
	return parseInt(s)
}

func toFloat(v any) (float64, bool) {
	s, ok := numberText(v)
	if !ok {
		return 0, false
	}
	return parseFloat(s)
}

// parseInt accepts an integer, or a number with an integral value in the
// 64-bit range ("3.0", "1e3"), as sqlfilter does.
func parseInt(s string) (int64, bool) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, true
	}
	x, err := strconv.ParseFloat(s, 64)
	if err != nil || x != math.Trunc(x) || x < -(1<<63) || x >= 1<<63 {
		return 0, false
	}
	return int64(x), true
}

func parseFloat(s string) (float64, bool) {
	x, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(x, 0) || math.IsNaN(x) {
		return 0, false
	}
	return x, true
}

// convert type-checks "name op value" for the sub-attribute s and converts
// the value; the rules are sqlfilter's, so a filter is valid in a query
// exactly when it is valid here.
func convert(s *schema.Attribute, name string, op filter.CompareOp, v filter.Value) (comparison, error) {
	c := comparison{op: op}
	typ := s.Type
	switch op {
	case filter.Co, filter.Sw, filter.Ew:
		if typ != schema.String && typ != schema.Reference {
			return c, errorf(name, "operator %s is not supported for %s attribute %q; it applies to string and reference attributes", op, typ, name)
		}
	case filter.Gt, filter.Ge, filter.Lt, filter.Le:
		if typ == schema.Boolean || typ == schema.Binary {
			return c, errorf(name, "operator %s is not supported for %s attribute %q (RFC 7644 §3.4.2.2)", op, typ, name)
		}
	case filter.Eq, filter.Ne:
	default:
		return c, errorf(name, "unsupported operator %v", op)
	}
	wrong := func(want string) (comparison, error) {
		return c, errorf(name, "%q is a %s attribute; %s is not %s", name, typ, v.String(), want)
	}
	switch typ {
	case schema.String, schema.Reference, schema.Binary:
		switch v.Kind {
		case filter.String:
			c.str = v.Str
		case filter.Number:
			c.str = v.Num
		default:
			return wrong("a string")
		}
		c.kind = kString
		if typ == schema.Binary {
			c.kind = kBinary
		}
		if typ != schema.Binary && !s.CaseExact {
			c.fold = true
			c.str = strings.ToLower(c.str)
		}
		return c, nil
	case schema.Boolean:
		c.kind = kBoolean
		switch {
		case v.Kind == filter.True:
			c.b = true
		case v.Kind == filter.False:
		case v.Kind == filter.String && strings.EqualFold(v.Str, "true"):
			c.b = true
		case v.Kind == filter.String && strings.EqualFold(v.Str, "false"):
		default:
			return wrong("true or false")
		}
		return c, nil
	case schema.Integer, schema.Decimal:
		text, ok := v.NumberText()
		if !ok {
			return wrong("a number")
		}
		if typ == schema.Integer {
			n, ok := parseInt(text)
			if !ok {
				return wrong("an integer in the 64-bit range")
			}
			c.kind, c.i = kInteger, n
			return c, nil
		}
		x, ok := parseFloat(text)
		if !ok {
			return wrong("a finite decimal number")
		}
		c.kind, c.f = kDecimal, x
		return c, nil
	case schema.DateTime:
		if v.Kind != filter.String {
			return wrong("a date-time string such as \"2024-05-13T04:42:34Z\"")
		}
		t, ok := filter.ParseDateTime(v.Str)
		if !ok {
			return wrong("a valid xsd:dateTime such as \"2024-05-13T04:42:34Z\"")
		}
		c.kind, c.t = kDateTime, t
		return c, nil
	}
	return c, errorf(name, "%q has type %s, which a filter cannot compare", name, typ)
}
