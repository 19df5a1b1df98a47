// Package model is the generator's one in-memory model: the loaded schema
// set plus the sidecar annotations, resolved into Go type names and a storage
// plan (tables, columns, child tables, indexes). Every emitter reads this
// model and nothing else, so they cannot disagree about a name.
package model

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/scimforge/scimforge/generator/internal/naming"
	"github.com/scimforge/scimforge/scim/schema"
)

// Model is everything the emitters need.
type Model struct {
	Root       string // the schema folder the documents were read from
	Set        *schema.Set
	Resources  []*Resource
	Membership *Membership // nil when no resource type stores members
	// OpenAPI is the sidecar's openapi section, checked; nil when absent.
	OpenAPI *OpenAPI
}

// Resource is one resource type with its Go names and storage plan.
type Resource struct {
	Type   *schema.ResourceType
	GoName string // "User"
	Table  string // "scim_users"
	Parts  []*Part
	// Columns are the main-table columns that hold attribute values, after
	// the fixed ones (id, version, created, last_modified, doc).
	Columns  []*Column
	Children []*Child
	// Members is set on the group resource type: its "members" attribute is
	// stored in the membership table, not in the document.
	Members *schema.Attribute
	// Groups is set on member resource types that have a readOnly "groups"
	// attribute, derived from the membership table.
	Groups *schema.Attribute
}

// Part is the core schema or one extension of a resource type.
type Part struct {
	Schema       *schema.Schema
	GoName       string // "User" for the core part, "EnterpriseUser" for an extension
	Extension    bool
	Required     bool
	ColumnPrefix string
}

// Column is one SQL column that holds a simple attribute value.
type Column struct {
	Name string
	// Attr is the simple attribute stored here (for child tables of
	// multi-valued simple attributes, the multi-valued attribute itself).
	Attr *schema.Attribute
	// FilterPath is the canonical attribute path that filters use:
	// "userName", "name.givenName", "emails.value",
	// "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber".
	FilterPath string
	Unique     bool
	Index      bool
	// Secret columns hold a one-way hash (writeOnly + returned never, e.g. password).
	Secret bool
}

// Child is a child table holding one multi-valued attribute, one row per value.
type Child struct {
	Table        string
	Attr         *schema.Attribute
	Part         *Part
	ParentColumn string // "user_id"
	RowGoName    string // "UserEmailRow"
	Columns      []*Column
	Index        []string // columns to index besides the parent column
}

// Membership is the join table behind Group.members and the members' "groups".
type Membership struct {
	Table string
	Group *Resource
}

// Load reads schemas/ (the JSON documents and codegen.yaml) and builds the
// model. Every problem in either is reported at once, sorted, as
// schema.Problems; other errors are for files that cannot be read.
func Load(fsys fs.FS, root string) (*Model, error) {
	set, problems, err := schema.Check(fsys, root)
	if err != nil {
		return nil, err
	}
	sidecarFile := path.Join(root, "codegen.yaml")
	side := &Sidecar{}
	raw, err := fs.ReadFile(fsys, sidecarFile)
	switch {
	case err == nil:
		var ps schema.Problems
		side, ps = parseSidecar(sidecarFile, raw)
		problems = append(problems, ps...)
	case !errors.Is(err, fs.ErrNotExist):
		return nil, err
	}
	// With problems in the schema files the set is partial (documents or
	// attributes in error may be missing), but the sidecar is still checked
	// against what there is, so that one run reports everything.
	m, ps := build(set, side, sidecarFile, root, len(problems) == 0)
	// A place the loader already reported on (an attribute named "id") is
	// not reported again for what follows from it (its column clashing
	// with the id column).
	reported := map[[2]string]bool{}
	for _, p := range problems {
		reported[[2]string{p.File, p.Pointer}] = true
	}
	for _, p := range ps {
		if !reported[[2]string{p.File, p.Pointer}] {
			problems = append(problems, p)
		}
	}
	if len(problems) > 0 {
		return nil, problems.Sorted()
	}
	m.Root = root
	return m, nil
}

// Go names are exported identifiers; table names and column prefixes are
// written into SQL unquoted in places, so they stay plain.
var (
	goIdent  = regexp.MustCompile(`^[A-Z][A-Za-z0-9]*$`)
	sqlIdent = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)
)

func build(set *schema.Set, side *Sidecar, sidecarFile, root string, setOK bool) (*Model, schema.Problems) {
	m := &Model{Set: set, OpenAPI: side.OpenAPI}
	var problems schema.Problems
	fail := func(file, ptr, fix, format string, args ...any) {
		problems = append(problems, &schema.Problem{File: file, Pointer: ptr, Msg: fmt.Sprintf(format, args...), Fix: fix})
	}
	side.fold(set, func(ptr, fix, format string, args ...any) { fail(sidecarFile, ptr, fix, format, args...) })
	if len(set.ResourceTypes) == 0 && setOK {
		fail(root, "", "add a ResourceType document, e.g. resourcetypes/User.json (see schemas/README.md)",
			"no ResourceType documents: there is nothing to generate")
	}
	partNames := map[string]string{}
	for _, rt := range set.ResourceTypes {
		if rt.Core == nil {
			continue // its schema is missing: reported by the loader
		}
		cfg := side.ResourceTypes[rt.Name]
		r := &Resource{Type: rt, GoName: cfg.GoName, Table: cfg.Table}
		if r.GoName == "" {
			r.GoName = naming.Go(rt.Name)
		} else if !goIdent.MatchString(r.GoName) {
			fail(sidecarFile, schema.Pointer("resourceTypes", rt.Name, "goName"), "use an upper-case letter, then letters and digits", "Go name %q is not an exported Go identifier", r.GoName)
		}
		if r.Table == "" {
			r.Table = "scim_" + naming.Snake(strings.TrimPrefix(rt.Endpoint, "/"))
		} else if !sqlIdent.MatchString(r.Table) {
			fail(sidecarFile, schema.Pointer("resourceTypes", rt.Name, "table"), "use lower-case letters, digits and '_'", "table name %q is not a plain SQL name", r.Table)
		}
		r.Parts = append(r.Parts, &Part{Schema: rt.Core, GoName: r.GoName})
		for i, ext := range rt.Extensions {
			sc := side.Schemas[ext.ID]
			p := &Part{Schema: ext, GoName: sc.GoName, Extension: true, Required: rt.SchemaExtensions[i].Required, ColumnPrefix: sc.ColumnPrefix}
			switch {
			case p.GoName == "":
				p.GoName = naming.Go(ext.Name)
				if !goIdent.MatchString(p.GoName) {
					fail(ext.File, "/name", fmt.Sprintf("set goName for %s under schemas: in %s, or name the schema with letters and digits", ext.ID, sidecarFile),
						"schema name %q gives no usable Go name (%q)", ext.Name, p.GoName)
				}
			case !goIdent.MatchString(p.GoName):
				fail(sidecarFile, schema.Pointer("schemas", ext.ID, "goName"), "use an upper-case letter, then letters and digits", "Go name %q is not an exported Go identifier", p.GoName)
			}
			switch {
			case p.ColumnPrefix == "":
				p.ColumnPrefix = naming.Snake(ext.Name) + "_"
			case !sqlIdent.MatchString(p.ColumnPrefix):
				fail(sidecarFile, schema.Pointer("schemas", ext.ID, "columnPrefix"), "use lower-case letters, digits and '_', e.g. \"acme_\"", "column prefix %q is not a plain SQL name", p.ColumnPrefix)
			}
			r.Parts = append(r.Parts, p)
		}
		for _, p := range r.Parts {
			if prev, ok := partNames[p.GoName]; ok && prev != p.Schema.ID {
				fail(sidecarFile, schema.Pointer("schemas", p.Schema.ID), "set goName for one of them under schemas: in codegen.yaml",
					"Go name %q is used by both %s and %s", p.GoName, prev, p.Schema.ID)
			}
			partNames[p.GoName] = p.Schema.ID
		}
		m.Resources = append(m.Resources, r)
	}
	if ms := side.Membership; ms != nil && ms.Group != "" {
		var group *Resource
		for _, r := range m.Resources {
			if r.Type.Name == ms.Group {
				group = r
			}
		}
		ptr := schema.Pointer("membership", "group")
		switch {
		case group == nil && set.ResourceType(ms.Group) != nil:
			// The resource type exists (with a schema in error, or spelled
			// in another case, which fold reports).
		case group == nil:
			fail(sidecarFile, ptr, "name the resource type whose members attribute lists its members ("+rtNames(set)+")",
				"no resource type named %q", ms.Group)
		case group.Type.Core.Attr("members") == nil:
			fail(sidecarFile, ptr, "add a multi-valued complex \"members\" attribute (value, $ref, type, display) to its schema, or remove membership",
				"resource type %q has no \"members\" attribute", ms.Group)
		default:
			table := ms.Table
			if table == "" {
				table = group.Table + "_members"
			} else if !sqlIdent.MatchString(table) {
				fail(sidecarFile, schema.Pointer("membership", "table"), "use lower-case letters, digits and '_'", "table name %q is not a plain SQL name", table)
			}
			m.Membership = &Membership{Table: table, Group: group}
			group.Members = group.Type.Core.Attr("members")
			for _, r := range m.Resources {
				if g := r.Type.Core.Attr("groups"); g != nil && g.Mutability == schema.ReadOnly && g.MultiValued {
					r.Groups = g
				}
			}
		}
	}
	names := sqlNames{fail: fail}
	for _, r := range m.Resources {
		plan(r)
		names.resource(r, sidecarFile)
		seen := map[string]int{}
		for i, path := range side.ResourceTypes[r.Type.Name].Indexes {
			if path == "" {
				continue // not a name: reported by the parser
			}
			ptr := schema.Pointer("resourceTypes", r.Type.Name, "indexes", i)
			if j, dup := seen[strings.ToLower(path)]; dup {
				fail(sidecarFile, ptr, "remove it", "%q is listed twice (also at index %d)", path, j)
				continue
			}
			seen[strings.ToLower(path)] = i
			r.checkIndex(path, sidecarFile, ptr, fail)
		}
	}
	if m.Membership != nil {
		names.table(m.Membership.Table, "the membership table", sidecarFile, schema.Pointer("membership", "table"), "set membership.table in codegen.yaml")
	}
	return m, problems
}

func rtNames(set *schema.Set) string {
	var names []string
	for _, rt := range set.ResourceTypes {
		names = append(names, rt.Name)
	}
	return strings.Join(names, ", ")
}

// fold checks that every sidecar entry names something in the set, spelled
// as the set spells it (the entries are looked up exactly, so "user:" would
// otherwise be silently ignored for "User").
func (side *Sidecar) fold(set *schema.Set, fail func(ptr, fix, format string, args ...any)) {
	for _, name := range slices.Sorted(maps.Keys(side.ResourceTypes)) {
		ptr := schema.Pointer("resourceTypes", name)
		switch rt := set.ResourceType(name); {
		case rt == nil:
			fail(ptr, "use one of "+rtNames(set), "no resource type named %q", name)
		case rt.Name != name:
			fail(ptr, fmt.Sprintf("write it as %q", rt.Name), "the resource type is spelled %q", rt.Name)
		}
	}
	cores := map[*schema.Schema]*schema.ResourceType{}
	for _, rt := range set.ResourceTypes {
		if rt.Core != nil {
			cores[rt.Core] = rt
		}
	}
	for _, urn := range slices.Sorted(maps.Keys(side.Schemas)) {
		ptr := schema.Pointer("schemas", urn)
		s := set.Schema(urn)
		switch {
		case s == nil:
			var ids []string
			for _, s := range set.Schemas {
				ids = append(ids, s.ID)
			}
			fail(ptr, "use the id of a schema file: "+strings.Join(ids, ", "), "no schema has the id %q", urn)
		case s.ID != urn:
			fail(ptr, fmt.Sprintf("write it as %q", s.ID), "the schema id is spelled %q", s.ID)
		case cores[s] != nil:
			fail(ptr, fmt.Sprintf("set resourceTypes.%s.goName instead, and remove this entry", cores[s].Name),
				"%q is the base schema of resource type %q: its Go name comes from the resource type and its columns have no prefix", urn, cores[s].Name)
		}
	}
	if ms := side.Membership; ms != nil && ms.Group != "" {
		if rt := set.ResourceType(ms.Group); rt != nil && rt.Name != ms.Group {
			fail(schema.Pointer("membership", "group"), fmt.Sprintf("write it as %q", rt.Name), "the resource type is spelled %q", rt.Name)
		}
	}
}

// checkIndex flags the column behind an index entry for a plain index, or
// reports why the entry names nothing that can be indexed.
func (r *Resource) checkIndex(path, file, ptr string, fail func(file, ptr, fix, format string, args ...any)) {
	if r.markIndex(path) {
		return
	}
	urn, attr, sub := splitPath(r.Type, path)
	a := r.Type.Lookup(urn, attr, sub)
	member := func(a *schema.Attribute) bool { return a != nil && (a == r.Members || a == r.Groups) }
	switch {
	case a != nil && (member(a) || member(a.Parent)):
		fail(file, ptr, "remove it", "%q is stored in the membership table, which is indexed already", path)
	case a == nil:
		fail(file, ptr, "name an attribute of "+r.Type.Name+", e.g. \"displayName\", \"emails.value\" or \"<extension URN>:employeeNumber\"",
			"%s has no attribute %q", r.Type.Name, path)
	case strings.EqualFold(path, "id"):
		fail(file, ptr, "remove it", "id is the primary key, which is always indexed")
	case a.Type == schema.Complex:
		var subs []string
		for _, s := range a.SubAttributes {
			subs = append(subs, a.Name+"."+s.Name)
		}
		fail(file, ptr, "index one of its sub-attributes: "+strings.Join(subs, ", "), "%q is complex; only simple values can be indexed", path)
	default:
		fail(file, ptr, "remove it", "%q is not stored in a column of its own (members, groups and meta are kept elsewhere)", path)
	}
}

// splitPath splits an index entry into an optional schema URN, an
// attribute and an optional sub-attribute: "emails.value",
// "urn:…:enterprise:2.0:User:manager.value".
func splitPath(rt *schema.ResourceType, path string) (urn, attr, sub string) {
	for _, s := range append([]*schema.Schema{rt.Core}, rt.Extensions...) {
		if len(path) > len(s.ID) && strings.EqualFold(path[:len(s.ID)], s.ID) && path[len(s.ID)] == ':' {
			urn, path = s.ID, path[len(s.ID)+1:]
			break
		}
	}
	attr, sub, _ = strings.Cut(path, ".")
	return urn, attr, sub
}

// sqlNames finds two things given one SQL name: two tables, or two columns
// of one table (attribute names that differ only in case or in '-' and
// '_', a prefix that makes an extension's column a core one's, an attribute
// named like a fixed column such as "version").
type sqlNames struct {
	fail   func(file, ptr, fix, format string, args ...any)
	tables map[string]string
}

func (n *sqlNames) table(name, what, file, ptr, fix string) {
	if n.tables == nil {
		n.tables = map[string]string{}
	}
	if prev, ok := n.tables[name]; ok {
		n.fail(file, ptr, fix, "SQL table %q would hold both %s and %s", name, prev, what)
		return
	}
	n.tables[name] = what
}

func (n *sqlNames) resource(r *Resource, sidecarFile string) {
	n.table(r.Table, "resource type "+r.Type.Name, sidecarFile, schema.Pointer("resourceTypes", r.Type.Name, "table"),
		fmt.Sprintf("set resourceTypes.%s.table in codegen.yaml", r.Type.Name))
	fixed := func(names ...string) map[string]string {
		m := map[string]string{}
		for _, c := range names {
			m[c] = "the server's own column " + c
		}
		return m
	}
	n.columns(r, r.Table, fixed("tenant_id", "id", "version", "created", "last_modified", "doc"), r.Columns)
	for _, ch := range r.Children {
		file, ptr := ch.Attr.Location()
		if file == "" {
			file = r.Type.File // "schemas", which no attribute can clash with
		}
		n.table(ch.Table, "the values of "+ch.Attr.FullPath(), file, ptr, "rename the attribute")
		n.columns(r, ch.Table, fixed("tenant_id", ch.ParentColumn, "ord"), ch.Columns)
	}
}

func (n *sqlNames) columns(r *Resource, table string, taken map[string]string, cols []*Column) {
	for _, c := range cols {
		what := "attribute " + c.FilterPath
		if prev, ok := taken[c.Name]; ok {
			file, ptr := c.Attr.Location()
			if file == "" {
				continue // externalId and schemas: fixed, cannot clash among themselves
			}
			fix := "rename the attribute"
			if p := r.Part(c.Attr); p != nil && p.Extension {
				fix += fmt.Sprintf(", or set a columnPrefix for %s under schemas: in codegen.yaml", p.Schema.ID)
			}
			n.fail(file, ptr+"/name", fix, "column %q of table %s would hold both %s and %s", c.Name, table, prev, what)
			continue
		}
		taken[c.Name] = what
	}
}

// schemasAttr describes the "schemas" attribute every resource has (RFC 7643 §3).
var schemasAttr = &schema.Attribute{Name: "schemas", Type: schema.Reference, MultiValued: true,
	Mutability: schema.ReadWrite, Returned: schema.ReturnedAlways, Uniqueness: schema.UniqueNone, ReferenceTypes: []string{"uri"}}

// plan lays out the tables of one resource type.
func plan(r *Resource) {
	single := "scim_" + naming.Snake(r.Type.Name)
	parentCol := naming.Snake(r.Type.Name) + "_id"
	r.Columns = append(r.Columns, &Column{Name: "external_id", Attr: schema.Common("externalId"), FilterPath: "externalId"})
	// "schemas" is stored like any multi-valued attribute so that filters
	// such as schemas eq "urn:…:enterprise:2.0:User" run in SQL.
	r.Children = append(r.Children, &Child{
		Table: single + "_schemas", Attr: schemasAttr, Part: r.Parts[0], ParentColumn: parentCol,
		RowGoName: r.GoName + "SchemaRow",
		Columns:   []*Column{{Name: "value", Attr: schemasAttr, FilterPath: "schemas"}},
	})
	for _, p := range r.Parts {
		prefix := p.ColumnPrefix
		pathPrefix := ""
		if p.Extension {
			pathPrefix = p.Schema.ID + ":"
		}
		for _, a := range p.Schema.Attributes {
			if a == r.Members || a == r.Groups {
				continue
			}
			switch {
			case a.MultiValued:
				c := &Child{
					Table:        single + "_" + naming.Snake(strings.TrimSuffix(prefix, "_")+"_"+a.Name),
					Attr:         a,
					Part:         p,
					ParentColumn: parentCol,
					RowGoName:    r.GoName + naming.Go(strings.TrimSuffix(prefix, "_")) + naming.Singular(a.Name) + "Row",
				}
				if !p.Extension {
					c.Table = single + "_" + naming.Snake(a.Name)
					c.RowGoName = r.GoName + naming.Singular(a.Name) + "Row"
				}
				if a.Type == schema.Complex {
					for _, s := range a.SubAttributes {
						c.Columns = append(c.Columns, &Column{Name: naming.Snake(s.Name), Attr: s, FilterPath: pathPrefix + a.Name + "." + s.Name})
					}
				} else {
					c.Columns = append(c.Columns, &Column{Name: "value", Attr: a, FilterPath: pathPrefix + a.Name})
				}
				r.Children = append(r.Children, c)
			case a.Type == schema.Complex:
				for _, s := range a.SubAttributes {
					r.Columns = append(r.Columns, &Column{
						Name: prefix + naming.Snake(a.Name) + "_" + naming.Snake(s.Name), Attr: s,
						FilterPath: pathPrefix + a.Name + "." + s.Name,
					})
				}
			default:
				c := &Column{
					Name: prefix + naming.Snake(a.Name), Attr: a, FilterPath: pathPrefix + a.Name,
					Unique: a.Uniqueness != schema.UniqueNone,
					Secret: a.Mutability == schema.WriteOnly && a.Returned == schema.ReturnedNever,
				}
				if c.Secret {
					c.Name += "_hash"
				}
				r.Columns = append(r.Columns, c)
			}
		}
	}
}

// markIndex flags the column behind an attribute path for a plain index.
func (r *Resource) markIndex(path string) bool {
	for _, c := range r.Columns {
		if strings.EqualFold(c.FilterPath, path) {
			c.Index = !c.Unique
			return true
		}
	}
	for _, ch := range r.Children {
		for _, c := range ch.Columns {
			if strings.EqualFold(c.FilterPath, path) {
				ch.Index = append(ch.Index, c.Name)
				return true
			}
		}
	}
	return false
}

// CoreURN is the resource type's base schema URN.
func (r *Resource) CoreURN() string { return r.Type.Core.ID }

// Endpoint is the resource type's endpoint without the slash: "Users".
func (r *Resource) Endpoint() string { return strings.TrimPrefix(r.Type.Endpoint, "/") }

// Part returns the part that defines attribute a.
func (r *Resource) Part(a *schema.Attribute) *Part {
	for _, p := range r.Parts {
		if p.Schema == a.Schema {
			return p
		}
	}
	return nil
}

// StructName is the Go type name of a complex attribute's value type:
// "UserName" for User.name, "UserEmail" for User.emails,
// "EnterpriseUserManager" for the enterprise manager.
func StructName(p *Part, a *schema.Attribute) string {
	if a.MultiValued {
		return p.GoName + naming.Singular(a.Name)
	}
	return p.GoName + naming.Go(a.Name)
}
