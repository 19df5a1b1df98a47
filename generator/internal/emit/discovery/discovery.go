// Package discovery emits generated/discovery: a copy of every schema
// document (served verbatim by the discovery endpoints) and the Go file that
// embeds them.
package discovery

import (
	"bytes"
	"go/format"
	"strings"
	"text/template"

	"github.com/scimforge/scimforge/generator/internal/emit"
	"github.com/scimforge/scimforge/generator/internal/model"
	"github.com/scimforge/scimforge/templates"
)

const dir = "generated/discovery/"

// Emit returns the embedded documents and discovery.gen.go.
func Emit(m *model.Model) ([]emit.File, error) {
	var files []emit.File
	rel := func(file string) string {
		// Keep the layout of the schema folder under generated/discovery/schemas/.
		return dir + "schemas/" + strings.TrimPrefix(file, m.Root+"/")
	}
	for _, s := range m.Set.Schemas {
		files = append(files, emit.File{Path: rel(s.File), Data: s.Raw})
	}
	for _, rt := range m.Set.ResourceTypes {
		files = append(files, emit.File{Path: rel(rt.File), Data: rt.Raw})
	}
	files = append(files, emit.File{Path: rel(m.Set.ServiceProviderFile), Data: m.Set.ServiceProviderConfig})
	t, err := template.ParseFS(templates.FS, "discovery.go.tmpl")
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, map[string]string{"Header": emit.Header}); err != nil {
		return nil, err
	}
	src, err := format.Source(buf.Bytes())
	if err != nil {
		return nil, err
	}
	return append(files, emit.File{Path: dir + "discovery.gen.go", Data: src}), nil
}
