// Package reference emits docs/reference.md, the attribute reference for
// partners: every resource type, schema, attribute and sub-attribute with
// its characteristics, and the filter, sortBy and PATCH paths each accepts.
//
// The paths come from what the server itself uses: the filterable paths
// are model.Filterables (the list the store's filter mapping is generated
// from), and the PATCH paths follow scim/patch's rules (readOnly attributes
// refuse every operation, group members are added and removed whole, value
// filters need a complex attribute); reference_test.go applies every
// listed PATCH path with scim/patch and compiles every listed filter path.
package reference

import (
	"bytes"
	"fmt"
	"strings"
	"text/template"

	"github.com/scimforge/scimforge/generator/internal/emit"
	"github.com/scimforge/scimforge/generator/internal/model"
	"github.com/scimforge/scimforge/scim/schema"
	"github.com/scimforge/scimforge/templates"
)

// Path is where the reference is written.
const Path = "docs/reference.md"

// DefaultTitle is the title when the sidecar's openapi section has none.
const DefaultTitle = "SCIM attribute reference"

// Doc is what the template renders.
type Doc struct {
	Header string
	Title  string
	Types  []*Type
}

// Type is one resource type.
type Type struct {
	Name, Endpoint, Description, Anchor string
	Sections                            []*Section
}

// Section is the common attributes, the core schema or one extension.
type Section struct {
	Title       string // "Core schema", "Extension"
	URN         string // "" for the common attributes
	Required    bool   // a required extension
	Description string
	Rows        []*Row
}

// Row is one attribute or sub-attribute.
type Row struct {
	Path        string // "emails.value", as written inside its schema
	Sub         bool
	Attr        *schema.Attribute
	Canonical   string
	Description string
	// Filters are the paths filters accept for it ("emails.value",
	// `emails[type eq "work"]`); Sort says sortBy accepts the first.
	Filters []string
	Sort    bool
	// Patch are its PATCH paths; PatchNote says why there are none, or
	// what is special about them.
	Patch     []PatchPath
	PatchNote string
}

// PatchPath is one path a PATCH operation may name, with the operations
// that apply to it.
type PatchPath struct {
	Path string
	Ops  []string
}

// Build collects the reference of every resource type of m.
func Build(m *model.Model) *Doc {
	d := &Doc{Header: emit.Header, Title: DefaultTitle}
	if m.OpenAPI != nil && strings.TrimSpace(m.OpenAPI.Title) != "" {
		d.Title = strings.TrimSpace(m.OpenAPI.Title) + ": attribute reference"
	}
	for _, r := range m.Resources {
		d.Types = append(d.Types, build(m, r))
	}
	return d
}

func build(m *model.Model, r *model.Resource) *Type {
	rt := r.Type
	t := &Type{Name: rt.Name, Endpoint: rt.Endpoint, Description: clean(rt.Description), Anchor: anchor(rt.Name)}
	filters := map[string]model.Filterable{}
	for _, f := range m.Filterables(r) {
		filters[strings.ToLower(f.Path)] = f
	}
	b := &builder{r: r, filters: filters}

	common := &Section{Title: "Common attributes", Description: "Every resource has them (RFC 7643 §3.1); they belong to no schema."}
	for _, a := range schema.CommonAttributes() {
		common.Rows = append(common.Rows, b.rows("", a)...)
	}
	if f, ok := filters["schemas"]; ok {
		common.Rows = append(common.Rows, &Row{
			Path: "schemas", Attr: f.Attr, Description: "The URNs of the schemas whose attributes the resource carries (RFC 7643 §3).",
			Filters: []string{f.Path}, Sort: true, PatchNote: "set by the service provider from the extensions the resource carries",
		})
	}
	t.Sections = append(t.Sections, common)
	core := &Section{Title: "Core schema", URN: rt.Core.ID, Description: clean(rt.Core.Description)}
	for _, a := range rt.Core.Attributes {
		core.Rows = append(core.Rows, b.rows("", a)...)
	}
	t.Sections = append(t.Sections, core)
	for i, ext := range rt.Extensions {
		s := &Section{Title: "Extension", URN: ext.ID, Required: rt.SchemaExtensions[i].Required, Description: clean(ext.Description)}
		for _, a := range ext.Attributes {
			s.Rows = append(s.Rows, b.rows(ext.ID+":", a)...)
		}
		t.Sections = append(t.Sections, s)
	}
	return t
}

type builder struct {
	r       *model.Resource
	filters map[string]model.Filterable
}

// rows are the row of top-level attribute a and those of its
// sub-attributes; prefix is the schema URN and a colon for extension
// attributes.
func (b *builder) rows(prefix string, a *schema.Attribute) []*Row {
	row := b.row(prefix, a, nil)
	out := []*Row{row}
	for _, s := range a.SubAttributes {
		out = append(out, b.row(prefix, a, s))
	}
	return out
}

func (b *builder) row(prefix string, top, sub *schema.Attribute) *Row {
	a, path := top, top.Name
	if sub != nil {
		a, path = sub, top.Name+"."+sub.Name
	}
	row := &Row{Path: path, Sub: sub != nil, Attr: a, Description: clean(a.Description)}
	if len(a.CanonicalValues) > 0 {
		row.Canonical = strings.Join(a.CanonicalValues, ", ")
	}
	// Filters and sortBy: the stored paths, and a complex attribute by
	// its value sub-attribute (RFC 7644 §3.4.2.2: "emails co x").
	if f, ok := b.filters[strings.ToLower(prefix+path)]; ok {
		row.Filters = append(row.Filters, f.Path)
		row.Sort = true
	}
	if sub == nil && a.Type == schema.Complex {
		if f, ok := b.filters[strings.ToLower(prefix+a.Name+".value")]; ok {
			row.Filters = append(row.Filters, strings.TrimSuffix(f.Path, ".value"))
			row.Sort = true
		}
		if a.MultiValued {
			if vf := b.valueFilter(prefix, a); vf != "" {
				row.Filters = append(row.Filters, prefix+a.Name+"["+vf+"]")
			}
		}
	}
	b.patch(row, prefix, top, sub)
	return row
}

// valueFilter is an example filter over the filterable sub-attributes of a
// multi-valued complex attribute, for attr[filter]: on its type when that
// has canonical values, else on its first filterable sub-attribute.
func (b *builder) valueFilter(prefix string, a *schema.Attribute) string {
	var first *schema.Attribute
	for _, s := range a.SubAttributes {
		if _, ok := b.filters[strings.ToLower(prefix+a.Name+"."+s.Name)]; !ok {
			continue
		}
		if first == nil {
			first = s
		}
		if strings.EqualFold(s.Name, "type") && len(s.CanonicalValues) > 0 && s.Type == schema.String {
			return fmt.Sprintf("%s eq %q", s.Name, s.CanonicalValues[0])
		}
	}
	if first == nil {
		return ""
	}
	return first.Name + " pr"
}

// patchFilter is the value filter the PATCH paths of a multi-valued complex
// attribute show: PATCH filters run in memory (scim/valuefilter) over any
// sub-attribute.
func patchFilter(a *schema.Attribute) string {
	for _, s := range a.SubAttributes {
		if strings.EqualFold(s.Name, "type") && len(s.CanonicalValues) > 0 && s.Type == schema.String {
			return fmt.Sprintf("%s eq %q", s.Name, s.CanonicalValues[0])
		}
	}
	for _, s := range a.SubAttributes {
		if strings.EqualFold(s.Name, "value") {
			return `value eq "…"`
		}
	}
	return a.SubAttributes[0].Name + " pr"
}

var (
	addReplaceRemove = []string{"add", "replace", "remove"}
	onlyRemove       = []string{"remove"}
)

// patch fills the PATCH paths of a row, by scim/patch's rules.
func (b *builder) patch(row *Row, prefix string, top, sub *schema.Attribute) {
	name := prefix + top.Name
	switch {
	case top.Mutability == schema.ReadOnly || (sub != nil && sub.Mutability == schema.ReadOnly):
		row.PatchNote = "readOnly: every operation is refused (400 mutability)"
		return
	case top == b.r.Members && sub != nil:
		row.PatchNote = "members are added and removed whole, by value"
		return
	case top == b.r.Members:
		row.Patch = []PatchPath{{name, addReplaceRemove}, {name + `[value eq "…"]`, onlyRemove}}
		row.PatchNote = `add and replace take a list of {"value": id}; remove takes one too (those members) or none (every member); the member list is never read whole`
		return
	}
	a := top
	if sub != nil {
		a = sub
	}
	switch {
	case sub == nil && top.Type == schema.Complex && top.MultiValued:
		row.Patch = []PatchPath{{name, addReplaceRemove}, {name + "[" + patchFilter(top) + "]", addReplaceRemove}}
		row.PatchNote = "add appends values, replace replaces them all; with a filter, the matching values"
	case sub == nil && top.MultiValued:
		row.Patch = []PatchPath{{name, addReplaceRemove}}
		row.PatchNote = "add appends values, replace replaces them all"
	case sub == nil:
		row.Patch = []PatchPath{{name, addReplaceRemove}}
	case top.MultiValued:
		row.Patch = []PatchPath{{name + "[" + patchFilter(top) + "]." + sub.Name, addReplaceRemove}, {name + "." + sub.Name, addReplaceRemove}}
		row.PatchNote = "without a filter: every value"
	default:
		row.Patch = []PatchPath{{name + "." + sub.Name, addReplaceRemove}}
	}
	switch {
	case a.Mutability == schema.Immutable:
		row.PatchNote = join(row.PatchNote, "immutable: may be set while empty, never changed or removed (400 mutability)")
	case a.Mutability == schema.WriteOnly || a.Returned == schema.ReturnedNever:
		row.PatchNote = join(row.PatchNote, "never returned; remove keeps the stored value")
	}
}

func join(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// Emit renders docs/reference.md from templates/reference.md.tmpl.
func Emit(m *model.Model) ([]emit.File, error) {
	t, err := template.New("reference.md.tmpl").Funcs(template.FuncMap{
		"cell":  cell,
		"code":  code,
		"yesno": yesno,
		"caseExact": func(a *schema.Attribute) string {
			if a.Type != schema.String && a.Type != schema.Reference && a.Type != schema.Binary {
				return "—"
			}
			return yesno(a.CaseExact)
		},
		"filters": func(r *Row) string {
			if len(r.Filters) == 0 {
				return "—"
			}
			var out []string
			for _, f := range r.Filters {
				out = append(out, code(f))
			}
			return strings.Join(out, "<br>")
		},
		"patches": func(r *Row) string {
			var out []string
			for _, p := range r.Patch {
				out = append(out, code(p.Path)+" ("+strings.Join(p.Ops, ", ")+")")
			}
			if r.PatchNote != "" {
				if len(out) == 0 {
					out = append(out, "—")
				}
				out = append(out, "*"+cell(r.PatchNote)+"*")
			}
			if len(out) == 0 {
				return "—"
			}
			return strings.Join(out, "<br>")
		},
	}).ParseFS(templates.FS, "reference.md.tmpl")
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, Build(m)); err != nil {
		return nil, fmt.Errorf("%s: %w", Path, err)
	}
	return []emit.File{{Path: Path, Data: buf.Bytes()}}, nil
}

// cell makes text safe inside a Markdown table cell.
func cell(s string) string {
	s = strings.ReplaceAll(clean(s), "|", `\|`)
	return s
}

// code is s as inline code, safe inside a table cell.
func code(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	if strings.Contains(s, "`") {
		return "`` " + s + " ``"
	}
	return "`" + s + "`"
}

func yesno(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func clean(s string) string { return strings.Join(strings.Fields(s), " ") }

// anchor is GitHub's heading anchor of a resource type's heading.
func anchor(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		case r == ' ':
			b.WriteRune('-')
		}
	}
	return b.String()
}
