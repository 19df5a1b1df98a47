package sqlfilter

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/scimforge/scimforge/scim/filter"
)

// Compile translates e into a boolean SQL expression over the main table
// (alias r, see From) and returns it with its bound arguments. A nil e
// compiles to TRUE. Errors caused by the filter are *Error.
//
// Placeholders are "?" in both dialects, bound in order of appearance; the
// store numbers them ($1, $2, ...) for PostgreSQL when it runs the query
// with its other arguments.
func (m *Mapping) Compile(e filter.Expr, d Dialect) (where string, args []any, err error) {
	ix, err := m.index()
	if err != nil {
		return "", nil, err
	}
	if d != SQLite && d != Postgres {
		return "", nil, fmt.Errorf("sqlfilter: unsupported dialect %v", d)
	}
	if e == nil {
		return "TRUE", nil, nil
	}
	c := &compiler{ix: ix, d: d}
	c.sb.Grow(128)
	if err := c.expr(e, nil); err != nil {
		return "", nil, err
	}
	return c.sb.String(), c.args, nil
}

type compiler struct {
	ix      *index
	d       Dialect
	sb      strings.Builder
	args    []any
	aliases int
}

// scope is the value path being compiled: names inside the brackets are
// sub-attributes of g, and conditions apply to the row under alias.
type scope struct {
	g     *group
	attr  filter.AttrPath
	alias string
}

func (c *compiler) w(s string) { c.sb.WriteString(s) }

// arg binds v and writes its placeholder.
func (c *compiler) arg(v any) {
	c.args = append(c.args, v)
	c.w("?")
}

func (c *compiler) newAlias() string {
	c.aliases++
	return "c" + strconv.Itoa(c.aliases)
}

func (c *compiler) col(alias string, f *field) string {
	return alias + "." + quoteIdent(f.attr.Column)
}

func (c *compiler) idCol() string { return Alias + "." + quoteIdent(c.ix.m.IDColumn) }

// openExists writes "EXISTS (SELECT 1 FROM child AS cN WHERE cN.parent =
// r.id" and returns cN; the caller writes " AND ...)" or ")".
func (c *compiler) openExists(ch *Child) string {
	a := c.newAlias()
	c.w("EXISTS (SELECT 1 FROM ")
	c.w(quoteTable(ch.Table))
	c.w(" AS ")
	c.w(a)
	c.w(" WHERE ")
	if t := c.ix.m.TenantColumn; t != "" {
		// The child's keys lead with the tenant: without this term its
		// indexes could not be used.
		c.w(a + "." + quoteIdent(t) + " = " + Alias + "." + quoteIdent(t) + " AND ")
	}
	c.w(a)
	c.w(".")
	c.w(quoteIdent(ch.ParentColumn))
	c.w(" = ")
	c.w(c.idCol())
	return a
}

func (c *compiler) expr(e filter.Expr, sc *scope) error {
	switch e := e.(type) {
	case *filter.Logical:
		op := " AND "
		if e.Op == filter.Or {
			op = " OR "
		} else if e.Op != filter.And {
			return fmt.Errorf("sqlfilter: unknown logical operator %v", e.Op)
		}
		// Flatten left-deep chains of the same operator so long filters
		// don't produce deeply nested SQL text.
		var terms []filter.Expr
		for l := e; ; {
			terms = append(terms, l.Right)
			next, ok := l.Left.(*filter.Logical)
			if !ok || next.Op != e.Op {
				terms = append(terms, l.Left)
				break
			}
			l = next
		}
		c.w("(")
		for i := len(terms) - 1; i >= 0; i-- {
			if err := c.expr(terms[i], sc); err != nil {
				return err
			}
			if i > 0 {
				c.w(op)
			}
		}
		c.w(")")
		return nil
	case *filter.Not:
		c.w("NOT COALESCE((")
		if err := c.expr(e.X, sc); err != nil {
			return err
		}
		c.w("), FALSE)")
		return nil
	case *filter.Compare:
		return c.compare(e, sc)
	case *filter.ValuePath:
		return c.valuePath(e, sc)
	case nil:
		return fmt.Errorf("sqlfilter: nil expression")
	}
	return fmt.Errorf("sqlfilter: unsupported expression %T", e)
}

func (c *compiler) valuePath(vp *filter.ValuePath, outer *scope) error {
	if outer != nil {
		return errorf(vp.Attr.String(), "value filters cannot be nested: %s inside %s[...]", vp.Attr, outer.attr)
	}
	e, err := c.ix.resolve(vp.Attr)
	if err != nil {
		return err
	}
	if e.group == nil {
		return errorf(vp.Attr.String(), "%q is not a complex or multi-valued attribute, so it cannot have a value filter [...]", vp.Attr.String())
	}
	g := e.group
	if g.child == nil {
		// Singular complex attribute: its sub-attributes are main-table
		// columns, so the filter applies to the resource row itself.
		return c.expr(vp.Filter, &scope{g: g, attr: vp.Attr, alias: Alias})
	}
	a := c.openExists(g.child)
	c.w(" AND ")
	if err := c.expr(vp.Filter, &scope{g: g, attr: vp.Attr, alias: a}); err != nil {
		return err
	}
	c.w(")")
	return nil
}

func (c *compiler) compare(cmp *filter.Compare, sc *scope) error {
	var f *field
	name := cmp.Attr.String()
	if sc != nil {
		if cmp.Attr.URN != "" || cmp.Attr.Sub != "" {
			return errorf(name, "inside %s[...] name sub-attributes of %s directly (e.g. %q), not %q", sc.attr, sc.g.path, firstSub(sc.g), name)
		}
		f = sc.g.subs[strings.ToLower(cmp.Attr.Name)]
		if f == nil {
			return unknown(errorf(name, "unknown attribute %q: %s has no sub-attribute %q", sc.attr.String()+"."+cmp.Attr.Name, sc.g.path, cmp.Attr.Name))
		}
	} else {
		e, err := c.ix.resolve(cmp.Attr)
		if err != nil {
			return err
		}
		f = e.leaf
		if f == nil {
			g := e.group
			if cmp.Op == filter.Pr {
				c.groupPresent(g)
				return nil
			}
			if g.value == nil {
				return complexError(cmp.Attr, g)
			}
			// RFC 7644 §3.4.2.2: "emails co x" compares emails.value; Azure AD
			// writes "manager eq x" for the singular manager.value too.
			f = g.value
		}
	}

	rowAlias := Alias
	if sc != nil {
		rowAlias = sc.alias
	}
	inChild := f.attr.Child != nil && sc == nil

	// pr, eq null and ne null are presence tests.
	present, negate := false, false
	switch {
	case cmp.Op == filter.Pr:
		present = true
	case cmp.Value.Kind == filter.Null:
		switch cmp.Op {
		case filter.Eq:
			present, negate = true, true
		case filter.Ne:
			present = true
		default:
			return errorf(name, "operator %s cannot compare %q with null; use eq null, ne null or pr", cmp.Op, name)
		}
	}
	if present {
		if inChild {
			if negate {
				c.w("NOT ")
			}
			a := c.openExists(f.attr.Child)
			c.w(" AND ")
			c.present(c.col(a, f), f)
			c.w(")")
		} else if negate {
			c.absent(c.col(rowAlias, f), f)
		} else {
			c.present(c.col(rowAlias, f), f)
		}
		return nil
	}

	v, err := c.convert(f, name, cmp.Op, cmp.Value)
	if err != nil {
		return err
	}
	if !inChild {
		if tg, ok := c.trigram(f, cmp.Op, v); ok {
			c.trigramMatch(rowAlias, f, tg)
			return nil
		}
		c.cond(c.col(rowAlias, f), f, cmp.Op, v)
		return nil
	}
	if cmp.Op == filter.Ne {
		// Any value not equal, or no value at all.
		c.w("(")
		a := c.openExists(f.attr.Child)
		c.w(" AND ")
		c.cond(c.col(a, f), f, cmp.Op, v)
		c.w(") OR NOT ")
		c.openExists(f.attr.Child)
		c.w("))")
		return nil
	}
	if tg, ok := c.trigram(f, cmp.Op, v); ok {
		// Served by the trigram index: the resources that own a matching
		// child row, found from the index's rows, not one EXISTS probe per
		// resource of the tenant.
		a := c.newAlias()
		t := c.ix.m.TenantColumn
		if t != "" {
			c.w("(" + Alias + "." + quoteIdent(t) + ", " + c.idCol() + ") IN (SELECT " + a + "." + quoteIdent(t) + ", ")
		} else {
			c.w(c.idCol() + " IN (SELECT ")
		}
		c.w(a + "." + quoteIdent(f.attr.Child.ParentColumn) + " FROM " + quoteTable(f.attr.Child.Table) + " AS " + a + " WHERE ")
		c.trigramMatch(a, f, tg)
		c.w(")")
		return nil
	}
	a := c.openExists(f.attr.Child)
	c.w(" AND ")
	c.cond(c.col(a, f), f, cmp.Op, v)
	c.w(")")
	return nil
}

// trigram returns the GLOB pattern with which f's trigram index serves
// op (co or ew) with value v on SQLite, or false when it cannot: no index,
// another operator or dialect (PostgreSQL's pg_trgm serves the LIKE that
// cond writes as is), or a value without a run of three characters
// between GLOB's special characters. A trigram index finds candidates
// from the value's three-character substrings; a shorter value has none,
// and FTS5 would then read every row of the index, slower than the LIKE
// scan of the table that such values keep.
func (c *compiler) trigram(f *field, op filter.CompareOp, v operand) (string, bool) {
	if c.d != SQLite || f.attr.Trigram == "" || (op != filter.Co && op != filter.Ew) {
		return "", false
	}
	if f.typ != tString && f.typ != tReference {
		return "", false
	}
	if !f.attr.CaseExact && !f.attr.Folded {
		return "", false // the index holds the column's text, not its fold
	}
	s := v.pattern
	if !f.attr.CaseExact {
		s = Fold(s)
	}
	long := false
	for _, run := range strings.FieldsFunc(s, func(r rune) bool { return r == '*' || r == '?' || r == '[' }) {
		if utf8.RuneCountInString(run) >= 3 {
			long = true
			break
		}
	}
	if !long {
		return "", false
	}
	p := "*" + globEscaper.Replace(s)
	if op == filter.Co {
		p += "*"
	}
	return p, true
}

// trigramMatch writes "alias.rowid IN (SELECT rowid FROM fts WHERE
// fts.col GLOB ?)": GLOB, because FTS5 serves LIKE only without an
// ESCAPE clause, and the index compares bytes (case_sensitive 1) as GLOB
// does; the column holds folded text, so this is the case-insensitive
// match. FTS5 rechecks each candidate against the pattern.
func (c *compiler) trigramMatch(alias string, f *field, pattern string) {
	fts := quoteIdent(f.attr.Trigram)
	c.w(alias + ".rowid IN (SELECT rowid FROM " + fts + " WHERE " + fts + "." + quoteIdent(f.attr.Column) + " GLOB ")
	c.arg(pattern)
	c.w(")")
}

func firstSub(g *group) string {
	if g.value != nil {
		return "value"
	}
	if len(g.order) > 0 {
		return g.order[0].sub
	}
	return "value"
}

// present writes a presence test for one column.
func (c *compiler) present(col string, f *field) {
	if f.typ.textual() {
		c.w("(" + col + " IS NOT NULL AND " + col + " <> '')")
		return
	}
	c.w(col + " IS NOT NULL")
}

// absent writes the complement of present.
func (c *compiler) absent(col string, f *field) {
	if f.typ.textual() {
		c.w("(" + col + " IS NULL OR " + col + " = '')")
		return
	}
	c.w(col + " IS NULL")
}

// groupPresent writes "pr" for a complex attribute without sub-attribute.
func (c *compiler) groupPresent(g *group) {
	if g.child != nil {
		c.openExists(g.child)
		c.w(")")
		return
	}
	c.w("(")
	for i, f := range g.order {
		if i > 0 {
			c.w(" OR ")
		}
		c.present(c.col(Alias, f), f)
	}
	c.w(")")
}

// operand is a converted comparison value.
type operand struct {
	v       any    // bound argument for eq/ne/gt/ge/lt/le
	pattern string // co/sw/ew: the raw string to search for
}

var sqlOps = map[filter.CompareOp]string{
	filter.Eq: " = ", filter.Ne: " <> ", filter.Gt: " > ", filter.Ge: " >= ", filter.Lt: " < ", filter.Le: " <= ",
}

// cond writes the row-level condition "col op value" for a converted value.
func (c *compiler) cond(col string, f *field, op filter.CompareOp, v operand) {
	fold := f.typ == tString || f.typ == tReference
	fold = fold && !f.attr.CaseExact
	lhs := col
	if fold {
		// Folded columns hold Fold(value), so the value is folded too; this
		// is what makes non-ASCII letters compare without case (SQLite's
		// NOCASE and LIKE fold only A-Z). A column holding text as written
		// is folded in SQL as well.
		v.pattern = Fold(v.pattern)
		if s, ok := v.v.(string); ok {
			v.v = Fold(s)
		}
		if !f.attr.Folded {
			lhs = "lower(" + col + ")"
		}
	}
	switch op {
	case filter.Co, filter.Sw, filter.Ew:
		c.substring(lhs, fold, op, v.pattern)
		return
	}
	rhs := func() { c.arg(v.v) }
	if op == filter.Ne {
		c.w("(" + col + " IS NULL OR " + lhs + " <> ")
		rhs()
		c.w(")")
		return
	}
	c.w(lhs)
	c.w(sqlOps[op])
	rhs()
}

// substring writes co/sw/ew. Case-insensitive: col and pattern are both
// folded, so LIKE compares them (exactly in PostgreSQL; SQLite's LIKE also
// ignores ASCII case, which changes nothing on folded text). Case-exact:
// GLOB (SQLite, whose LIKE ignores case) or LIKE (PostgreSQL). Wildcards in
// the value are escaped.
func (c *compiler) substring(col string, fold bool, op filter.CompareOp, s string) {
	if c.d == SQLite && !fold {
		p := globEscaper.Replace(s)
		switch op {
		case filter.Co:
			p = "*" + p + "*"
		case filter.Sw:
			p += "*"
		case filter.Ew:
			p = "*" + p
		}
		c.w(col + " GLOB ")
		c.arg(p)
		return
	}
	p := likeEscaper.Replace(s)
	switch op {
	case filter.Co:
		p = "%" + p + "%"
	case filter.Sw:
		p += "%"
	case filter.Ew:
		p = "%" + p
	}
	c.w(col + " LIKE ")
	c.arg(p)
	c.w(" ESCAPE '!'")
}

var (
	likeEscaper = strings.NewReplacer("!", "!!", "%", "!%", "_", "!_")
	globEscaper = strings.NewReplacer("*", "[*]", "?", "[?]", "[", "[[]")
)

// convert type-checks a comparison and converts its value to the column
// encoding of the dialect.
func (c *compiler) convert(f *field, name string, op filter.CompareOp, v filter.Value) (operand, error) {
	typ := f.typ
	switch op {
	case filter.Co, filter.Sw, filter.Ew:
		if typ != tString && typ != tReference {
			return operand{}, errorf(name, "operator %s is not supported for %s attribute %q; it applies to string and reference attributes", op, typ, name)
		}
	case filter.Gt, filter.Ge, filter.Lt, filter.Le:
		if typ == tBoolean || typ == tBinary {
			return operand{}, errorf(name, "operator %s is not supported for %s attribute %q (RFC 7644 §3.4.2.2)", op, typ, name)
		}
	case filter.Eq, filter.Ne:
	default:
		return operand{}, errorf(name, "unsupported operator %v", op)
	}
	wrong := func(want string) (operand, error) {
		return operand{}, errorf(name, "%q is a %s attribute; %s is not %s", name, typ, v.String(), want)
	}
	switch typ {
	case tString, tReference, tBinary:
		var s string
		switch v.Kind {
		case filter.String:
			s = v.Str
		case filter.Number:
			s = v.Num
		default:
			return wrong("a string")
		}
		if strings.IndexByte(s, 0) >= 0 {
			return operand{}, errorf(name, "string values must not contain NUL characters")
		}
		return operand{v: s, pattern: s}, nil
	case tBoolean:
		var b bool
		switch {
		case v.Kind == filter.True:
			b = true
		case v.Kind == filter.False:
		case v.Kind == filter.String && strings.EqualFold(v.Str, "true"):
			b = true
		case v.Kind == filter.String && strings.EqualFold(v.Str, "false"):
		default:
			return wrong("true or false")
		}
		if c.d == SQLite {
			if b {
				return operand{v: int64(1)}, nil
			}
			return operand{v: int64(0)}, nil
		}
		return operand{v: b}, nil
	case tInteger, tDecimal:
		text, ok := v.NumberText()
		if !ok {
			return wrong("a number")
		}
		if typ == tInteger {
			if n, err := strconv.ParseInt(text, 10, 64); err == nil {
				return operand{v: n}, nil
			}
			x, err := strconv.ParseFloat(text, 64)
			if err != nil || x != math.Trunc(x) || x < -(1<<63) || x >= 1<<63 {
				return wrong("an integer in the 64-bit range")
			}
			return operand{v: int64(x)}, nil
		}
		x, err := strconv.ParseFloat(text, 64)
		if err != nil || math.IsInf(x, 0) || math.IsNaN(x) {
			return wrong("a finite decimal number")
		}
		return operand{v: x}, nil
	case tDateTime:
		if v.Kind != filter.String {
			return wrong("a date-time string such as \"2024-05-13T04:42:34Z\"")
		}
		t, ok := filter.ParseDateTime(v.Str)
		if !ok {
			return wrong("a valid xsd:dateTime such as \"2024-05-13T04:42:34Z\"")
		}
		// Both dialects store UTC text in one fixed-width layout.
		return operand{v: t.Format(SQLiteTimeLayout)}, nil
	}
	return operand{}, fmt.Errorf("sqlfilter: unhandled type %v", typ)
}

// Fold is the case folding of caseExact=false values in search columns:
// the store writes Fold(value) into the column (the resource document keeps
// the value as sent) and Compile folds filter values the same way.
func Fold(s string) string { return strings.ToLower(s) }
