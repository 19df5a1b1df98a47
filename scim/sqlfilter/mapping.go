package sqlfilter

import (
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/scimforge/scimforge/scim/filter"
)

// Alias is the alias under which the compiled SQL refers to the main table.
const Alias = "r"

// SQLiteTimeLayout is the layout of dateTime columns in SQLite: UTC, fixed
// width, so that text order is time order.
const SQLiteTimeLayout = "2006-01-02T15:04:05.000000000Z"

// Dialect selects the SQL flavour.
type Dialect int

// Supported dialects.
const (
	SQLite Dialect = iota
	Postgres
)

func (d Dialect) String() string {
	switch d {
	case SQLite:
		return "SQLite"
	case Postgres:
		return "Postgres"
	}
	return fmt.Sprintf("Dialect(%d)", int(d))
}

// Engine is the dialect's name in migration folders: "sqlite", "postgres".
func (d Dialect) Engine() string {
	if d == Postgres {
		return "postgres"
	}
	return "sqlite"
}

// Mapping describes how one resource type is stored. Build it once (it is
// typically generated) and share it: it is safe for concurrent use, and
// must not be modified after its first use, because Compile caches an index
// of the attributes built on first use (or by Validate).
type Mapping struct {
	Table    string // main table, e.g. "scim_users"
	IDColumn string // column of Table holding the SCIM id, e.g. "id"
	// TenantColumn, when set, names the column leading every table's keys
	// ("tenant_id"): child rows are correlated on it as well as on the
	// parent id, so their (tenant, parent) keys serve the lookups. The
	// caller restricts the main table to one tenant itself.
	TenantColumn string
	// Schemas lists the core schema URN first, then the extension URNs.
	// Unqualified attribute names resolve against them in this order.
	Schemas    []string
	Attributes []Attribute

	idx atomic.Pointer[indexResult]
}

// Attribute maps one filterable attribute (a simple attribute or a
// sub-attribute of a complex one) to its column.
type Attribute struct {
	// Path is the canonical path: "userName", "name.familyName",
	// "emails.value", "meta.lastModified"; extension attributes are fully
	// qualified, e.g. "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value".
	Path string
	// Type is the RFC 7643 type: string, boolean, decimal, integer,
	// dateTime, reference or binary.
	Type      string
	CaseExact bool
	// Folded says the column holds Fold(value): the store folds the
	// caseExact=false text it writes (DESIGN.md, "Storage"), and Compile
	// then folds only the filter value, so indexes stay usable and case is
	// ignored beyond ASCII. A caseExact=false string column without it
	// holds text as written (the membership table's member type, "User"):
	// Compile folds the column in SQL too, with lower(), which folds A-Z
	// only in SQLite and on PostgreSQL's COLLATE "C" columns. It has no
	// effect on caseExact or non-string columns.
	Folded bool
	// Column is the column in the main table, or in Child.Table.
	Column string
	// Child is nil for a column of the main table.
	Child *Child
	// Trigram, when set, names the trigram (substring) index over Column,
	// which serves co and ew. On PostgreSQL it is a pg_trgm GIN index,
	// which serves the LIKE that Compile writes anyway; on SQLite it is an
	// FTS5 table with the trigram tokenizer (case_sensitive 1) whose one
	// column is named Column and whose rowids are those of the column's
	// table, and Compile selects the matching rowids from it. Set it only
	// on a column compared as stored (Folded, or CaseExact).
	Trigram string
}

// Child locates the rows of a multi-valued attribute: the rows of Table
// whose ParentColumn equals the resource's id.
type Child struct {
	Table, ParentColumn string
	// OrderColumn optionally names a column holding each value's position
	// in the list; OrderBy uses it to find the "first" value of a
	// multi-valued attribute that has no primary value.
	OrderColumn string
}

// SQLiteTrigrams says whether SQLite stores get FTS5 trigram tables for the
// storage plan's trigram indexes (generator migrations, sqlstore's schema
// check, Attribute.Trigram in the generated mappings). Off: kept by
// triggers they made creates fall from ~1600/s to 150/s by 200k users
// (make bench-1m), so SQLite answers co/ew with a LIKE scan until they
// are maintained off the write path. PostgreSQL's pg_trgm indexes stay.
const SQLiteTrigrams = false

// Error is an error in the client's filter or sortBy: unknown attribute,
// operator not applicable to the attribute's type, or a value of the wrong
// type. Callers map it to HTTP 400 with scimType invalidFilter.
type Error struct {
	Attr string // the attribute as the client wrote it, if known
	Msg  string
	// Unknown is set when Attr is not an attribute of the resource type
	// (or names an unknown schema URN). A search across resource types
	// (POST /.search) skips a type whose mapping does not know the
	// attribute, instead of failing.
	Unknown bool
}

func (e *Error) Error() string { return e.Msg }

func errorf(attr string, format string, args ...any) *Error {
	return &Error{Attr: attr, Msg: fmt.Sprintf(format, args...)}
}

// From returns the FROM item for the main table with the alias that
// Compile and OrderBy use: "scim_users" AS r.
func (m *Mapping) From() string {
	return quoteTable(m.Table) + " AS " + Alias
}

// Validate checks the mapping for consistency and builds its lookup index.
// Compile calls it implicitly; call it at start-up (or in a test) to catch
// mapping bugs early.
func (m *Mapping) Validate() error {
	_, err := m.index()
	return err
}

// Lookup resolves an attribute reference case-insensitively (unqualified
// names: core schema first, then extensions in order) to the mapped simple
// attribute or sub-attribute. A complex attribute without a sub-attribute
// is an error, except that a multi-valued simple attribute resolves to
// itself.
func (m *Mapping) Lookup(a filter.AttrPath) (*Attribute, error) {
	ix, err := m.index()
	if err != nil {
		return nil, err
	}
	e, err := ix.resolve(a)
	if err != nil {
		return nil, err
	}
	if e.leaf == nil {
		return nil, complexError(a, e.group)
	}
	return e.leaf.attr, nil
}

type attrType int

const (
	tString attrType = iota + 1
	tBoolean
	tDecimal
	tInteger
	tDateTime
	tReference
	tBinary
)

var typeNames = map[string]attrType{
	"string": tString, "boolean": tBoolean, "decimal": tDecimal, "integer": tInteger,
	"datetime": tDateTime, "reference": tReference, "binary": tBinary,
}

func (t attrType) String() string {
	switch t {
	case tString:
		return "string"
	case tBoolean:
		return "boolean"
	case tDecimal:
		return "decimal"
	case tInteger:
		return "integer"
	case tDateTime:
		return "dateTime"
	case tReference:
		return "reference"
	case tBinary:
		return "binary"
	}
	return "?"
}

// textual reports types stored as TEXT whose empty string means "absent"
// for pr.
func (t attrType) textual() bool { return t == tString || t == tReference || t == tBinary }

// field is a mapped simple attribute or sub-attribute.
type field struct {
	attr *Attribute
	typ  attrType
	sub  string // sub-attribute name as declared ("" for a top-level simple attribute)
	grp  *group // the complex attribute f belongs to, nil for a top-level simple attribute
}

// group is a complex attribute (or, synthesized, a multi-valued simple
// attribute seen as the complex attribute {value}).
type group struct {
	path    string
	child   *Child // nil: singular complex, flattened into the main table
	subs    map[string]*field
	order   []*field
	value   *field // "value" sub-attribute, if any
	primary *field // boolean "primary" sub-attribute in the same table, if any
}

// entry is what a lower-cased attribute path resolves to.
type entry struct {
	leaf  *field
	group *group
}

type index struct {
	m       *Mapping
	byKey   map[string]*entry // "username", "name.familyname", "urn:...:user:employeenumber"
	schemas map[string]string // lower-case URN -> canonical URN
}

type indexResult struct {
	ix  *index
	err error
}

func (m *Mapping) index() (*index, error) {
	if r := m.idx.Load(); r != nil {
		return r.ix, r.err
	}
	ix, err := buildIndex(m)
	r := &indexResult{ix: ix, err: err}
	if !m.idx.CompareAndSwap(nil, r) {
		r = m.idx.Load()
	}
	return r.ix, r.err
}

func buildIndex(m *Mapping) (*index, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("sqlfilter: invalid mapping for table %q: %s", m.Table, fmt.Sprintf(format, args...))
	}
	if m.Table == "" || m.IDColumn == "" {
		return nil, bad("Table and IDColumn are required")
	}
	if len(m.Schemas) == 0 {
		return nil, bad("Schemas must list at least the core schema URN")
	}
	ix := &index{m: m, byKey: map[string]*entry{}, schemas: map[string]string{}}
	schemaIdx := map[string]int{}
	for i, s := range m.Schemas {
		ls := strings.ToLower(s)
		if _, dup := schemaIdx[ls]; dup || s == "" {
			return nil, bad("schema URN %q is empty or listed twice", s)
		}
		schemaIdx[ls] = i
		ix.schemas[ls] = s
	}

	// Qualified keys per schema, in declaration order, for the unqualified
	// aliases below.
	type qkey struct {
		key, rest string
		schema    int
	}
	var qkeys []qkey
	get := func(key, rest string, schema int) *entry {
		e := ix.byKey[key]
		if e == nil {
			e = &entry{}
			ix.byKey[key] = e
			qkeys = append(qkeys, qkey{key, rest, schema})
		}
		return e
	}

	for i := range m.Attributes {
		a := &m.Attributes[i]
		p, err := filter.ParsePath(a.Path)
		if err != nil || p.ValueFilter != nil {
			return nil, bad("attribute path %q is not an attribute path", a.Path)
		}
		typ, ok := typeNames[strings.ToLower(a.Type)]
		if !ok {
			return nil, bad("attribute %q has unsupported type %q", a.Path, a.Type)
		}
		if a.Column == "" {
			return nil, bad("attribute %q has no column", a.Path)
		}
		if a.Child != nil && (a.Child.Table == "" || a.Child.ParentColumn == "") {
			return nil, bad("attribute %q has an incomplete Child", a.Path)
		}
		schema := 0
		if p.Attr.URN != "" {
			s, ok := schemaIdx[strings.ToLower(p.Attr.URN)]
			if !ok {
				return nil, bad("attribute %q names schema %q, which is not in Schemas", a.Path, p.Attr.URN)
			}
			schema = s
		}
		prefix := strings.ToLower(m.Schemas[schema]) + ":"
		name := strings.ToLower(p.Attr.Name)
		f := &field{attr: a, typ: typ, sub: p.Attr.Sub}
		if p.Attr.Sub == "" {
			e := get(prefix+name, name, schema)
			if e.leaf != nil || e.group != nil {
				return nil, bad("attribute %q is mapped twice or also has sub-attributes", a.Path)
			}
			e.leaf = f
			if a.Child != nil {
				e.group = &group{path: a.Path, child: a.Child, subs: map[string]*field{"value": f}, order: []*field{f}, value: f}
			}
			continue
		}
		pe := get(prefix+name, name, schema)
		if pe.leaf != nil {
			return nil, bad("attribute %q is mapped both as a simple attribute and with sub-attribute %q", a.Path[:len(a.Path)-len(p.Attr.Sub)-1], p.Attr.Sub)
		}
		g := pe.group
		if g == nil {
			g = &group{path: a.Path[:len(a.Path)-len(p.Attr.Sub)-1], child: a.Child, subs: map[string]*field{}}
			pe.group = g
		}
		if !sameChild(g.child, a.Child) {
			return nil, bad("sub-attributes of %q are mapped to different tables", g.path)
		}
		sub := strings.ToLower(p.Attr.Sub)
		if g.subs[sub] != nil {
			return nil, bad("attribute %q is mapped twice", a.Path)
		}
		g.subs[sub] = f
		g.order = append(g.order, f)
		f.grp = g
		switch {
		case sub == "value":
			g.value = f
		case sub == "primary" && typ == tBoolean:
			g.primary = f
		}
		e := get(prefix+name+"."+sub, name+"."+sub, schema)
		e.leaf = f
	}

	// Unqualified aliases: the core schema wins, then extensions in order.
	for s := range m.Schemas {
		for _, q := range qkeys {
			if q.schema != s {
				continue
			}
			if _, taken := ix.byKey[q.rest]; !taken {
				ix.byKey[q.rest] = ix.byKey[q.key]
			}
		}
	}
	return ix, nil
}

func sameChild(a, b *Child) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

// resolve finds what an attribute reference names.
func (ix *index) resolve(a filter.AttrPath) (*entry, error) {
	rest := a.Name
	if a.Sub != "" {
		rest += "." + a.Sub
	}
	var key string
	if a.URN != "" {
		canon, ok := ix.schemas[strings.ToLower(a.URN)]
		if !ok {
			if whole, isSchema := ix.schemas[strings.ToLower(a.URN+":"+a.Name)]; isSchema {
				return nil, errorf(a.String(), "%q is a schema URN, not an attribute; name one of its attributes, e.g. %s:attributeName", a.String(), whole)
			}
			return nil, unknown(errorf(a.String(), "unknown schema URN %q in attribute %q; this resource type supports %s", a.URN, a.String(), strings.Join(ix.m.Schemas, ", ")))
		}
		key = strings.ToLower(canon + ":" + rest)
	} else {
		key = strings.ToLower(rest)
	}
	if e := ix.byKey[key]; e != nil {
		return e, nil
	}
	if a.Sub != "" {
		if p := ix.byKey[key[:len(key)-len(a.Sub)-1]]; p != nil && p.group != nil {
			return nil, unknown(errorf(a.String(), "unknown attribute %q: %s has no sub-attribute %q", a.String(), p.group.path, a.Sub))
		}
	}
	return nil, unknown(errorf(a.String(), "unknown attribute %q", a.String()))
}

func unknown(e *Error) *Error {
	e.Unknown = true
	return e
}

func complexError(a filter.AttrPath, g *group) *Error {
	names := make([]string, len(g.order))
	for i, f := range g.order {
		names[i] = g.path + "." + f.sub
	}
	return errorf(a.String(), "%q is a complex attribute; name one of its sub-attributes (%s)", a.String(), strings.Join(names, ", "))
}

func quoteIdent(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// quoteTable quotes a possibly schema-qualified table name.
func quoteTable(s string) string {
	parts := strings.Split(s, ".")
	for i, p := range parts {
		parts[i] = quoteIdent(p)
	}
	return strings.Join(parts, ".")
}
