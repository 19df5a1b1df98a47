package filter

import (
	"strings"
	"unicode/utf8"
)

// Expr is a parsed filter expression: *Logical, *Not, *Compare or
// *ValuePath. The set is closed; String renders canonical filter text that
// Parse turns back into an equal tree.
type Expr interface {
	String() string
	isExpr()
}

// LogicalOp is "and" or "or".
type LogicalOp int

// Logical operators.
const (
	And LogicalOp = iota + 1
	Or
)

func (op LogicalOp) String() string {
	switch op {
	case And:
		return "and"
	case Or:
		return "or"
	}
	return "LogicalOp(?)"
}

// CompareOp is an RFC 7644 Table 3 attribute operator.
type CompareOp int

// Attribute operators. Pr takes no value.
const (
	Eq CompareOp = iota + 1
	Ne
	Co
	Sw
	Ew
	Gt
	Ge
	Lt
	Le
	Pr
)

var compareOpNames = [...]string{Eq: "eq", Ne: "ne", Co: "co", Sw: "sw", Ew: "ew", Gt: "gt", Ge: "ge", Lt: "lt", Le: "le", Pr: "pr"}

func (op CompareOp) String() string {
	if op >= Eq && op <= Pr {
		return compareOpNames[op]
	}
	return "CompareOp(?)"
}

// lookupCompareOp maps an operator word (any case) to its CompareOp.
func lookupCompareOp(w string) (CompareOp, bool) {
	if len(w) != 2 {
		return 0, false
	}
	for op := Eq; op <= Pr; op++ {
		if strings.EqualFold(w, compareOpNames[op]) {
			return op, true
		}
	}
	return 0, false
}

// ValueKind is the JSON type of a comparison value.
type ValueKind int

// Value kinds. NoValue is the zero Value, used by "pr".
const (
	NoValue ValueKind = iota
	String
	Number
	True
	False
	Null
)

// Value is a comparison value (compValue). For String, Str holds the decoded
// string; for Number, Num holds the JSON number text exactly as written.
type Value struct {
	Kind ValueKind
	Str  string
	Num  string
}

// String renders the value as a JSON literal ("" for NoValue).
func (v Value) String() string {
	switch v.Kind {
	case String:
		return quote(v.Str)
	case Number:
		return v.Num
	case True:
		return "true"
	case False:
		return "false"
	case Null:
		return "null"
	}
	return ""
}

// AttrPath is an attribute reference: [URN ":"] Name ["." Sub].
// URN and Sub may be empty. Names keep the case in which they were written.
type AttrPath struct {
	URN, Name, Sub string
}

// String renders the path in standard attribute notation.
func (a AttrPath) String() string {
	n := len(a.Name)
	if a.URN != "" {
		n += len(a.URN) + 1
	}
	if a.Sub != "" {
		n += len(a.Sub) + 1
	}
	var b strings.Builder
	b.Grow(n)
	if a.URN != "" {
		b.WriteString(a.URN)
		b.WriteByte(':')
	}
	b.WriteString(a.Name)
	if a.Sub != "" {
		b.WriteByte('.')
		b.WriteString(a.Sub)
	}
	return b.String()
}

// Logical is "Left and Right" or "Left or Right".
type Logical struct {
	Op          LogicalOp
	Left, Right Expr
}

// Not is "not (X)".
type Not struct {
	X Expr
}

// Compare is an attribute expression: "Attr Op Value", or "Attr pr" (then
// Value is the zero Value).
type Compare struct {
	Attr  AttrPath
	Op    CompareOp
	Value Value
}

// ValuePath is "Attr[Filter]": it matches when one value of the
// multi-valued attribute Attr satisfies Filter, whose attribute paths name
// sub-attributes of Attr.
type ValuePath struct {
	Attr   AttrPath
	Filter Expr
}

// Path is a PATCH path or attribute reference: Attr, optionally followed by
// a value filter and a sub-attribute ("emails[type eq \"work\"].value").
// Sub is only set together with ValueFilter; a plain "name.familyName"
// keeps its sub-attribute in Attr.Sub.
type Path struct {
	Attr        AttrPath
	ValueFilter Expr   // nil if none
	Sub         string // sub-attribute after "]."; "" if none
}

func (*Logical) isExpr()   {}
func (*Not) isExpr()       {}
func (*Compare) isExpr()   {}
func (*ValuePath) isExpr() {}

func (e *Logical) String() string   { return render(e) }
func (e *Not) String() string       { return render(e) }
func (e *Compare) String() string   { return render(e) }
func (e *ValuePath) String() string { return render(e) }

// String renders the path in canonical form.
func (p Path) String() string {
	var b strings.Builder
	b.WriteString(p.Attr.String())
	if p.ValueFilter != nil {
		b.WriteByte('[')
		write(&b, p.ValueFilter)
		b.WriteByte(']')
	}
	if p.Sub != "" {
		b.WriteByte('.')
		b.WriteString(p.Sub)
	}
	return b.String()
}

func render(e Expr) string {
	var b strings.Builder
	write(&b, e)
	return b.String()
}

// prec is the binding strength of a node: or < and < everything else.
func prec(e Expr) int {
	if l, ok := e.(*Logical); ok {
		if l.Op == Or {
			return 1
		}
		return 2
	}
	return 3
}

// write renders e with the minimum parentheses that make Parse rebuild the
// same tree: a lower-precedence child is parenthesized, and so is a right
// child of the same precedence (the operators are left-associative).
func write(b *strings.Builder, e Expr) {
	switch e := e.(type) {
	case *Logical:
		p := prec(e)
		writeChild(b, e.Left, prec(e.Left) < p)
		b.WriteByte(' ')
		b.WriteString(e.Op.String())
		b.WriteByte(' ')
		writeChild(b, e.Right, prec(e.Right) <= p)
	case *Not:
		b.WriteString("not (")
		write(b, e.X)
		b.WriteByte(')')
	case *Compare:
		b.WriteString(e.Attr.String())
		b.WriteByte(' ')
		b.WriteString(e.Op.String())
		if e.Op != Pr {
			b.WriteByte(' ')
			b.WriteString(e.Value.String())
		}
	case *ValuePath:
		b.WriteString(e.Attr.String())
		b.WriteByte('[')
		write(b, e.Filter)
		b.WriteByte(']')
	case nil:
		b.WriteString("<nil>")
	}
}

func writeChild(b *strings.Builder, e Expr, paren bool) {
	if paren {
		b.WriteByte('(')
	}
	write(b, e)
	if paren {
		b.WriteByte(')')
	}
}

// quote renders s as a JSON string. Unlike encoding/json it leaves <, > and
// & alone, so filters stay readable in logs and error messages.
func quote(s string) string {
	const hex = "0123456789abcdef"
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				b.WriteString(`\ufffd`)
			} else {
				b.WriteString(s[i : i+size])
			}
			i += size
			continue
		}
		switch c {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			if c < 0x20 || c == 0x7f {
				b.WriteString(`\u00`)
				b.WriteByte(hex[c>>4])
				b.WriteByte(hex[c&0xf])
			} else {
				b.WriteByte(c)
			}
		}
		i++
	}
	b.WriteByte('"')
	return b.String()
}
