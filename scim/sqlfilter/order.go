package sqlfilter

import (
	"strings"

	"github.com/scimforge/scimforge/scim/filter"
)

// OrderBy returns the ORDER BY term for sortBy=path (RFC 7644 §3.4.2.3),
// e.g. `r."userName" ASC NULLS LAST`. Resources without a value sort last
// when ascending and first when descending, in both dialects.
// caseExact=false strings sort case-insensitively.
//
// A multi-valued attribute sorts, through a correlated subquery, by its
// primary value (if it has a boolean "primary" sub-attribute and one value
// is primary), else by its first value when Child.OrderColumn is set, else
// by its smallest value. A multi-valued complex attribute named without a
// sub-attribute ("emails") sorts by its "value" sub-attribute.
//
// The term alone is not a total order: append a unique tie-breaker such as
// r."id" for stable paging. Errors caused by path are *Error.
func (m *Mapping) OrderBy(path string, descending bool, d Dialect) (string, error) {
	key, err := m.SortKey(path, d)
	if err != nil {
		return "", err
	}
	if descending {
		return key + " DESC NULLS FIRST", nil
	}
	return key + " ASC NULLS LAST", nil
}

// SortKey returns the value expression OrderBy sorts by, without a
// direction: a column, lower(column) or a correlated subquery. Keyset
// (cursor) paging compares it with the key of the last row of a page; it
// may be NULL (no value), which OrderBy places after every value when
// ascending and before them when descending, i.e. as the largest value.
func (m *Mapping) SortKey(path string, d Dialect) (string, error) {
	ix, err := m.index()
	if err != nil {
		return "", err
	}
	if d != SQLite && d != Postgres {
		return "", errorf("", "unsupported dialect %v", d)
	}
	p, err := filter.ParsePath(path)
	if err != nil {
		return "", errorf(path, "invalid sortBy %q: %v", path, err)
	}
	if p.ValueFilter != nil {
		return "", errorf(path, "invalid sortBy %q: a value filter [...] is not allowed in sortBy", path)
	}
	e, err := ix.resolve(p.Attr)
	if err != nil {
		return "", err
	}
	f := e.leaf
	if f == nil {
		if e.group.child == nil || e.group.value == nil {
			return "", complexError(p.Attr, e.group)
		}
		f = e.group.value
	}
	fold := (f.typ == tString || f.typ == tReference) && !f.attr.CaseExact

	var b strings.Builder
	if f.attr.Child == nil {
		col := Alias + "." + quoteIdent(f.attr.Column)
		if fold && d == Postgres && !f.attr.Folded {
			// Folded columns sort as stored; text as written is folded here.
			col = "lower(" + col + ")"
		}
		b.WriteString(col)
		if fold && d == SQLite && !f.attr.Folded {
			// A folded column sorts by its stored text (its collation);
			// one holding text as written needs NOCASE said here.
			b.WriteString(" COLLATE NOCASE")
		}
	} else {
		// Correlated subquery picking the primary (or smallest) value.
		ch := f.attr.Child
		col := "s." + quoteIdent(f.attr.Column)
		if fold && d == Postgres && !f.attr.Folded {
			col = "lower(" + col + ")"
		}
		b.WriteString("(SELECT ")
		b.WriteString(col)
		b.WriteString(" FROM ")
		b.WriteString(quoteTable(ch.Table))
		b.WriteString(" AS s WHERE s.")
		if t := m.TenantColumn; t != "" {
			b.WriteString(quoteIdent(t) + " = " + Alias + "." + quoteIdent(t) + " AND s.")
		}
		b.WriteString(quoteIdent(ch.ParentColumn))
		b.WriteString(" = ")
		b.WriteString(Alias + "." + quoteIdent(m.IDColumn))
		b.WriteString(" AND s.")
		b.WriteString(quoteIdent(f.attr.Column))
		b.WriteString(" IS NOT NULL ORDER BY ")
		if g := f.grp; g != nil && g.primary != nil && f != g.primary {
			b.WriteString("s." + quoteIdent(g.primary.attr.Column) + " DESC NULLS LAST, ")
		}
		if ch.OrderColumn != "" {
			b.WriteString("s." + quoteIdent(ch.OrderColumn) + ", ")
		}
		b.WriteString(col)
		if fold && d == SQLite {
			b.WriteString(" COLLATE NOCASE")
		}
		b.WriteString(" LIMIT 1)")
		if fold && d == SQLite {
			// A subquery carries no column collation; say it explicitly.
			b.WriteString(" COLLATE NOCASE")
		}
	}
	return b.String(), nil
}
