package reference

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/scimforge/scimforge/generator/internal/model"
	"github.com/scimforge/scimforge/scim/filter"
	"github.com/scimforge/scimforge/scim/patch"
	"github.com/scimforge/scimforge/scim/schema"
	"github.com/scimforge/scimforge/scim/scimerr"
	"github.com/scimforge/scimforge/scim/sqlfilter"
)

// fixture is the openapi package's small schema set (a User with a required
// extension, and a Team with members) with Team as the group of a
// membership table, as schemas/codegen.yaml makes Group.
func fixture(t *testing.T) *model.Model {
	t.Helper()
	src, err := fs.Sub(os.DirFS("../../openapi/testdata"), "small")
	if err != nil {
		t.Fatal(err)
	}
	fsys := fstest.MapFS{"s/codegen.yaml": {Data: []byte("membership: {group: Team, table: scim_team_members}\n")}}
	if err := fs.WalkDir(src, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(src, p)
		fsys["s/"+p] = &fstest.MapFile{Data: data}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	m, err := model.Load(fsys, "s")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// mapping is the filter mapping of r as generated/store builds it from the
// same list (the column details do not matter to resolving paths).
func mapping(m *model.Model, r *model.Resource) *sqlfilter.Mapping {
	mp := &sqlfilter.Mapping{Table: r.Table, IDColumn: "id", TenantColumn: "tenant_id", Schemas: []string{r.CoreURN()}}
	for _, p := range r.Parts[1:] {
		mp.Schemas = append(mp.Schemas, p.Schema.ID)
	}
	for _, f := range m.Filterables(r) {
		a := sqlfilter.Attribute{Path: f.Path, Type: string(f.Attr.Type), CaseExact: f.Attr.CaseExact, Column: f.Column}
		switch {
		case f.Child != nil:
			a.Child = &sqlfilter.Child{Table: f.Child.Table, ParentColumn: f.Child.ParentColumn}
		case f.Membership != "":
			a.Child = &sqlfilter.Child{Table: m.Membership.Table, ParentColumn: f.Membership}
		}
		mp.Attributes = append(mp.Attributes, a)
	}
	return mp
}

// TestFilterPaths compiles every filter path the reference lists, sorts by
// every path it marks sortable, and checks that a simple attribute it
// lists no filter path for is refused by the filter compiler.
func TestFilterPaths(t *testing.T) {
	m := fixture(t)
	doc := Build(m)
	var checked int
	for i, typ := range doc.Types {
		mp := mapping(m, m.Resources[i])
		for _, s := range typ.Sections {
			for _, row := range s.Rows {
				for _, f := range row.Filters {
					expr := f
					if !strings.Contains(f, "[") {
						expr = f + " pr"
					}
					e, err := filter.Parse(expr)
					if err == nil {
						_, _, err = mp.Compile(e, sqlfilter.SQLite)
					}
					if err != nil {
						t.Errorf("%s %s: filter %q: %v", typ.Name, row.Path, expr, err)
					}
					checked++
				}
				qualified := row.Path
				if s.URN != "" && s.Title == "Extension" {
					qualified = s.URN + ":" + row.Path
				}
				if _, err := mp.SortKey(qualified, sqlfilter.SQLite); (err == nil) != row.Sort && row.Attr.Type != schema.Complex {
					t.Errorf("%s %s: sortBy error %v, reference says sortable %v", typ.Name, qualified, err, row.Sort)
				}
				if len(row.Filters) == 0 && row.Attr.Type != schema.Complex {
					e, err := filter.Parse(qualified + " pr")
					if err != nil {
						t.Fatal(err)
					}
					if _, _, err := mp.Compile(e, sqlfilter.SQLite); err == nil {
						t.Errorf("%s %s: the reference lists no filter path, yet %q compiles", typ.Name, row.Path, qualified+" pr")
					}
				}
			}
		}
	}
	if checked < 20 {
		t.Fatalf("only %d filter paths checked", checked)
	}
}

// TestPatchPaths applies every PATCH path and operation the reference lists
// with scim/patch, the server's PATCH, to a resource that has a value of
// every attribute: none may be refused as an unknown path, a bad filter or
// a readOnly target. A row the reference says refuses every operation
// must be refused with mutability.
func TestPatchPaths(t *testing.T) {
	m := fixture(t)
	doc := Build(m)
	var applied int
	for i, typ := range doc.Types {
		r := m.Resources[i]
		opts := patch.Options{}
		if r.Members != nil {
			opts.External = r.Members.Name
		}
		for _, s := range typ.Sections {
			for _, row := range s.Rows {
				for _, p := range row.Patch {
					for _, op := range p.Ops {
						path := strings.ReplaceAll(p.Path, "…", "2819c223-7f76-453a-919d-413861904646")
						err := apply(t, r, opts, op, path, valueFor(row, p.Path, op))
						if e := scimerr.As(err); err != nil && (e == nil || e.ScimType != scimerr.NoTarget) {
							t.Errorf("%s: %s %q: %v", typ.Name, op, path, err)
						}
						applied++
					}
				}
				if len(row.Patch) == 0 && strings.HasPrefix(row.PatchNote, "readOnly") || strings.HasPrefix(row.PatchNote, "members are added") {
					path := row.Path
					if s.Title == "Extension" {
						path = s.URN + ":" + path
					}
					err := apply(t, r, opts, "replace", path, "x")
					if e := scimerr.As(err); e == nil || e.ScimType != scimerr.Mutability {
						t.Errorf("%s: replace %q: %v, want a mutability error (%s)", typ.Name, path, err, row.PatchNote)
					}
				}
			}
		}
	}
	if applied < 50 {
		t.Fatalf("only %d operations applied", applied)
	}
}

func apply(t *testing.T, r *model.Resource, opts patch.Options, op, path string, value any) error {
	t.Helper()
	o := map[string]any{"op": op, "path": path}
	if op != "remove" {
		o["value"] = value
	}
	body, err := json.Marshal(map[string]any{"schemas": []string{schema.PatchOpURN}, "Operations": []any{o}})
	if err != nil {
		t.Fatal(err)
	}
	req, err := patch.Parse(body)
	if err != nil {
		return err
	}
	_, err = patch.Apply(r.Type, fullDoc(r.Type), req, opts)
	return err
}

// fullDoc is a stored document with a value of every writable attribute,
// so that filtered paths find their targets.
func fullDoc(rt *schema.ResourceType) patch.Doc {
	d := patch.Doc{}
	fill := func(into map[string]any, attrs []*schema.Attribute) {
		for _, a := range attrs {
			if a.Mutability == schema.ReadOnly {
				continue
			}
			into[a.Name] = attrValue(a, true)
		}
	}
	fill(d, rt.Core.Attributes)
	for _, ext := range rt.Extensions {
		e := map[string]any{}
		fill(e, ext.Attributes)
		d[ext.ID] = e
	}
	return d
}

// attrValue is a value of a; whole says whether to wrap a multi-valued
// attribute's value in a list.
func attrValue(a *schema.Attribute, whole bool) any {
	var v any
	if a.Type == schema.Complex {
		obj := map[string]any{}
		for _, s := range a.SubAttributes {
			if s.Mutability != schema.ReadOnly {
				obj[s.Name] = scalar(s)
			}
		}
		v = obj
	} else {
		v = scalar(a)
	}
	if a.MultiValued && whole {
		return []any{v}
	}
	return v
}

func scalar(a *schema.Attribute) any {
	if len(a.CanonicalValues) > 0 {
		return a.CanonicalValues[0]
	}
	switch a.Type {
	case schema.Boolean:
		return true
	case schema.Integer:
		return 1
	case schema.Decimal:
		return 1.5
	case schema.DateTime:
		return "2024-05-01T09:00:00Z"
	case schema.Binary:
		return "eA=="
	case schema.Reference:
		return "https://example.com/x"
	}
	return "x"
}

// valueFor is the value of an operation on path, as the row's attribute
// takes it there: a single value of a multi-valued attribute when a value
// filter selects values, the members as a list of ids.
func valueFor(row *Row, path, op string) any {
	if op == "remove" {
		return nil
	}
	if row.PatchNote != "" && strings.Contains(row.PatchNote, `{"value": id}`) {
		return []any{map[string]any{"value": "2819c223-7f76-453a-919d-413861904646"}}
	}
	filtered := strings.HasSuffix(path, "]")
	return attrValue(row.Attr, !filtered)
}

func TestEmitIsMarkdownWithTheHeader(t *testing.T) {
	files, err := Emit(fixture(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 1 || files[0].Path != Path {
		t.Fatalf("files %v", files)
	}
	md := string(files[0].Data)
	for _, want := range []string{
		"<!-- Code generated by scimforge. DO NOT EDIT.",
		"## User", "## Team", "### Extension `urn:example:params:scim:schemas:extension:badge:2.0:User` (required)",
		fmt.Sprintf("| `%s` |", "urn:example:params:scim:schemas:extension:badge:2.0:User:number"[len("urn:example:params:scim:schemas:extension:badge:2.0:User:"):]),
		"`members[value eq \"…\"]` (remove)",
		"`urn:example:params:scim:schemas:extension:badge:2.0:User:number` (add, replace, remove)",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("reference.md lacks %q", want)
		}
	}
}
