// Package generator turns the schema documents in schemas/ into generated/
// and openapi.yaml. Generate renders every file in memory first and writes
// only when all emitters succeeded; then it deletes generated files that
// this run did not produce (a removed extension leaves no orphans), and
// writes nothing whose content is unchanged, so a second run is a no-op.
package generator

import (
	"bytes"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/scimforge/scimforge/generator/internal/emit"
	"github.com/scimforge/scimforge/generator/internal/emit/api"
	"github.com/scimforge/scimforge/generator/internal/emit/conformance"
	"github.com/scimforge/scimforge/generator/internal/emit/discovery"
	"github.com/scimforge/scimforge/generator/internal/emit/gotypes"
	"github.com/scimforge/scimforge/generator/internal/emit/reference"
	"github.com/scimforge/scimforge/generator/internal/emit/store"
	"github.com/scimforge/scimforge/generator/internal/model"
	"github.com/scimforge/scimforge/generator/internal/openapi"
)

// Options say where to read and write, relative to Root.
type Options struct {
	Root    string // repository root
	Schemas string // schema folder, relative to Root ("schemas")
	// Now names a new migration (migrations/); zero means the current time.
	// Tests fix it so their output is reproducible.
	Now time.Time
	// FreshHistory renders the migrations as if Root/migrations were empty:
	// one init migration for the whole schema. For a new app's history
	// (scimforge-gen drop-example) and for test fixtures.
	FreshHistory bool
	// Package is the import path that stands for the repository's
	// generated/ folder in the generated Go code (emit.GeneratedPkg when
	// empty). Test fixtures generated into another folder set their own.
	Package string
}

// Check validates the schema folder and its sidecar (codegen.yaml) without
// rendering anything. It returns how many resource types and schemas there
// are, or schema.Problems listing every problem found.
func Check(opt Options) (resourceTypes, schemas int, err error) {
	m, err := model.Load(os.DirFS(opt.Root), opt.Schemas)
	if err != nil {
		return 0, 0, err
	}
	return len(m.Resources), len(m.Set.Schemas), nil
}

// Render builds every generated file in memory. Problems in the schema
// folder come back as schema.Problems, all of them, before anything is
// rendered.
func Render(opt Options) ([]emit.File, error) {
	m, err := model.Load(os.DirFS(opt.Root), opt.Schemas)
	if err != nil {
		return nil, err
	}
	var files []emit.File
	for _, e := range []func(*model.Model) ([]emit.File, error){
		gotypes.Emit,
		func(m *model.Model) ([]emit.File, error) {
			now := opt.Now
			if now.IsZero() {
				now = time.Now()
			}
			var prev fs.FS
			if !opt.FreshHistory {
				prev = os.DirFS(opt.Root)
			}
			return store.Emit(m, prev, now)
		},
		discovery.Emit,
		api.Emit,
		conformance.Emit,
		openAPI,
		reference.Emit,
	} {
		out, err := e(m)
		if err != nil {
			return nil, err
		}
		files = append(files, out...)
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	if opt.Package != "" && opt.Package != emit.GeneratedPkg {
		relocate(files, opt.Package)
	}
	return files, nil
}

// DefaultAPIVersion is info.version when the sidecar's openapi section sets none.
const DefaultAPIVersion = "1.0.0"

// relocate points the generated Go code's imports of generated/ packages
// at pkg instead. Import paths are quoted strings, so the replacement
// cannot touch anything else.
func relocate(files []emit.File, pkg string) {
	from := []byte(`"` + emit.GeneratedPkg + "/")
	to := []byte(`"` + pkg + "/")
	for i, f := range files {
		if strings.HasSuffix(f.Path, ".go") {
			files[i].Data = bytes.ReplaceAll(f.Data, from, to)
		}
	}
}

func openAPI(m *model.Model) ([]emit.File, error) {
	opt, err := openAPIOptions(m)
	if err != nil {
		return nil, err
	}
	published, codegen, err := openapi.Build(m.Set, opt)
	if err != nil {
		return nil, fmt.Errorf("openapi: %w", err)
	}
	pub, err := openapi.Marshal(published)
	if err != nil {
		return nil, fmt.Errorf("openapi.yaml: %w", err)
	}
	cg, err := openapi.Marshal(codegen)
	if err != nil {
		return nil, fmt.Errorf("openapi codegen view: %w", err)
	}
	return []emit.File{{Path: "openapi.yaml", Data: pub}, {Path: "generated/api/openapi.codegen.yaml", Data: cg}}, nil
}

// openAPIOptions turns the sidecar's openapi section (checked by the
// model) into the builder's options; what it leaves out gets the
// builder's defaults (docs/openapi.md).
func openAPIOptions(m *model.Model) (openapi.Options, error) {
	opt := openapi.Options{
		Version: DefaultAPIVersion, GoTypesImport: emit.ResourcePkg,
		MetaGoType: emit.ScimtypePkg + ".Meta", SearchRequestGoType: emit.EnginePkg + ".SearchRequest", GoNames: goNames(m),
	}
	o := m.OpenAPI
	if o == nil {
		return opt, nil
	}
	opt.Title = strings.TrimSpace(o.Title)
	if v := strings.TrimSpace(o.Version); v != "" {
		opt.Version = v
	}
	opt.Description = strings.TrimSpace(o.Description)
	opt.TermsOfService = o.TermsOfService
	if c := o.Contact; c != nil {
		opt.Contact = &openapi3.Contact{Name: c.Name, Email: c.Email, URL: c.URL}
	}
	if l := o.License; l != nil {
		opt.License = &openapi3.License{Name: l.Name, URL: l.URL}
		if l.Identifier != "" {
			// OpenAPI 3.0 has no license identifier: point at its text.
			opt.License.URL = model.SPDXURL(l.Identifier)
		}
	}
	for _, s := range o.Servers {
		srv := &openapi3.Server{URL: s.URL, Description: s.Description}
		for name, v := range s.Variables {
			if srv.Variables == nil {
				srv.Variables = map[string]*openapi3.ServerVariable{}
			}
			srv.Variables[name] = &openapi3.ServerVariable{Default: v.Default, Enum: v.Enum, Description: v.Description}
		}
		opt.Servers = append(opt.Servers, srv)
	}
	for _, name := range slices.Sorted(maps.Keys(o.SecuritySchemes)) {
		// Checked when the sidecar was read.
		s, err := model.SecurityScheme(o.SecuritySchemes[name])
		if err != nil {
			return opt, fmt.Errorf("%s/codegen.yaml: openapi.securitySchemes.%s: %w", m.Root, name, err)
		}
		if opt.SecuritySchemes == nil {
			opt.SecuritySchemes = openapi3.SecuritySchemes{}
		}
		opt.SecuritySchemes[name] = &openapi3.SecuritySchemeRef{Value: s}
	}
	return opt, nil
}

// goNames passes the sidecar's Go names on to the OpenAPI builder, so its
// x-go-type references name the types the Go emitter writes.
func goNames(m *model.Model) map[string]string {
	names := map[string]string{}
	for _, r := range m.Resources {
		names[r.Type.Name] = r.GoName
		for _, p := range r.Parts[1:] {
			names[p.Schema.ID] = p.GoName
		}
	}
	return names
}

// Write writes files under root, removes generated files under
// root/generated that are not in files, and returns the paths it changed.
// Files that are not generated (no header) are never touched.
func Write(root string, files []emit.File, keep func(path string) bool) ([]string, error) {
	want := map[string]bool{}
	var changed []string
	for _, f := range files {
		want[f.Path] = true
		p := filepath.Join(root, f.Path)
		if old, err := os.ReadFile(p); err == nil && bytes.Equal(old, f.Data) {
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return changed, err
		}
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			return changed, err
		}
		changed = append(changed, f.Path)
	}
	genDir := filepath.Join(root, "generated")
	err := filepath.WalkDir(genDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if want[rel] || (keep != nil && keep(rel)) {
			return nil
		}
		if isGenerated(p) {
			changed = append(changed, rel+" (deleted)")
			return os.Remove(p)
		}
		return nil
	})
	if os.IsNotExist(err) {
		err = nil
	}
	return changed, err
}

// isGenerated reports whether a file carries the scimforge header.
func isGenerated(path string) bool {
	b, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	first, _, _ := bytes.Cut(b, []byte("\n"))
	// JSON cannot carry the header; every JSON file under generated/ is ours.
	return strings.Contains(string(first), emit.Header) || strings.HasSuffix(path, ".json")
}
