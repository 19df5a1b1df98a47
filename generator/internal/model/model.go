// Package model is the generator's one in-memory model: the loaded schema
// set plus the sidecar annotations, resolved into Go type names and a storage
// plan (tables, columns, child tables, indexes). Every emitter reads this
// model and nothing else, so they cannot disagree about a name.
package model

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/scimforge/scimforge/generator/internal/naming"
	"github.com/scimforge/scimforge/scim/schema"
)

// Sidecar is schemas/codegen.yaml: generator-only annotations that must not
// live in the RFC 7643 JSON (which /Schemas serves verbatim).
type Sidecar struct {
	ResourceTypes map[string]struct {
		GoName  string   `yaml:"goName"`
		Table   string   `yaml:"table"`
		Indexes []string `yaml:"indexes"`
	} `yaml:"resourceTypes"`
	Membership *struct {
		Group string `yaml:"group"`
		Table string `yaml:"table"`
	} `yaml:"membership"`
	Schemas map[string]struct {
		GoName       string `yaml:"goName"`
		ColumnPrefix string `yaml:"columnPrefix"`
	} `yaml:"schemas"`
	// OpenAPI describes the API in openapi.yaml (see openapi.go).
	OpenAPI *OpenAPI `yaml:"openapi"`
}

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

// Load reads schemas/ (the JSON documents and codegen.yaml) and builds the model.
func Load(fsys fs.FS, root string) (*Model, error) {
	set, err := schema.Load(fsys, root)
	if err != nil {
		return nil, err
	}
	var side Sidecar
	sidecarFile := root + "/codegen.yaml"
	if raw, err := fs.ReadFile(fsys, sidecarFile); err == nil {
		dec := yaml.NewDecoder(strings.NewReader(string(raw)))
		dec.KnownFields(true)
		// A sidecar with nothing but comments is an empty one (io.EOF).
		if err := dec.Decode(&side); err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: %w", sidecarFile, err)
		}
	}
	m, err := build(set, &side, sidecarFile)
	if m != nil {
		m.Root = root
	}
	return m, err
}

func build(set *schema.Set, side *Sidecar, sidecarFile string) (*Model, error) {
	m := &Model{Set: set, OpenAPI: side.OpenAPI}
	var problems []string
	fail := func(format string, args ...any) {
		problems = append(problems, sidecarFile+": "+fmt.Sprintf(format, args...))
	}
	side.OpenAPI.check(fail)
	for name := range side.ResourceTypes {
		if set.ResourceType(name) == nil {
			fail("resourceTypes.%s: no resource type named %q", name, name)
		}
	}
	for urn := range side.Schemas {
		if set.Schema(urn) == nil {
			fail("schemas.%s: no schema with that id", urn)
		}
	}
	partNames := map[string]string{}
	for _, rt := range set.ResourceTypes {
		cfg := side.ResourceTypes[rt.Name]
		r := &Resource{Type: rt, GoName: cfg.GoName, Table: cfg.Table}
		if r.GoName == "" {
			r.GoName = naming.Go(rt.Name)
		}
		if r.Table == "" {
			r.Table = "scim_" + naming.Snake(strings.TrimPrefix(rt.Endpoint, "/"))
		}
		r.Parts = append(r.Parts, &Part{Schema: rt.Core, GoName: r.GoName})
		for i, ext := range rt.Extensions {
			sc := side.Schemas[ext.ID]
			p := &Part{Schema: ext, GoName: sc.GoName, Extension: true, Required: rt.SchemaExtensions[i].Required, ColumnPrefix: sc.ColumnPrefix}
			if p.GoName == "" {
				p.GoName = naming.Go(ext.Name)
			}
			if p.ColumnPrefix == "" {
				p.ColumnPrefix = naming.Snake(ext.Name) + "_"
			}
			r.Parts = append(r.Parts, p)
		}
		for _, p := range r.Parts {
			if prev, ok := partNames[p.GoName]; ok && prev != p.Schema.ID {
				fail("Go name %q is used by both %s and %s; set schemas.<urn>.goName", p.GoName, prev, p.Schema.ID)
			}
			partNames[p.GoName] = p.Schema.ID
		}
		m.Resources = append(m.Resources, r)
	}
	if ms := side.Membership; ms != nil {
		var group *Resource
		for _, r := range m.Resources {
			if strings.EqualFold(r.Type.Name, ms.Group) {
				group = r
			}
		}
		switch {
		case group == nil:
			fail("membership.group: no resource type named %q", ms.Group)
		case group.Type.Core.Attr("members") == nil:
			fail("membership.group: resource type %q has no \"members\" attribute", ms.Group)
		default:
			table := ms.Table
			if table == "" {
				table = group.Table + "_members"
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
	for _, r := range m.Resources {
		plan(r)
		idx := side.ResourceTypes[r.Type.Name].Indexes
		for _, path := range idx {
			if !r.markIndex(path) {
				fail("resourceTypes.%s.indexes: %q is not a stored simple attribute of %s", r.Type.Name, path, r.Type.Name)
			}
		}
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return nil, fmt.Errorf("%s", strings.Join(problems, "\n"))
	}
	return m, nil
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
