package generator

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"go/format"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"text/template"

	"github.com/scimforge/scimforge/generator/internal/emit"
	"github.com/scimforge/scimforge/generator/internal/model"
	"github.com/scimforge/scimforge/generator/internal/naming"
	"github.com/scimforge/scimforge/templates"
)

// HooksDir is where the application's hooks live, one file per resource type.
const HooksDir = "app/hooks"

// hooksMarker starts the first line of a hooks file the generator
// scaffolded; it names the resource type the file is for.
const hooksMarker = "// scimforge:hooks "

// Scaffold returns the hooks files of resource types that have none yet
// (app/hooks/<type>.go from templates/hooks.go.tmpl), and warnings about
// hooks files whose resource type no longer exists. Unlike generated
// files, a scaffolded file belongs to the application: it is written once
// and never overwritten or deleted.
func Scaffold(opt Options) (files []emit.File, warnings []string, err error) {
	m, err := model.Load(os.DirFS(opt.Root), opt.Schemas)
	if err != nil {
		return nil, nil, err
	}
	tmpl, err := template.ParseFS(templates.FS, "hooks.go.tmpl")
	if err != nil {
		return nil, nil, err
	}
	dir := filepath.Join(opt.Root, HooksDir)
	have, err := hookFiles(dir)
	if err != nil {
		return nil, nil, err
	}
	types := map[string]bool{}
	for _, r := range m.Resources {
		types[r.Type.Name] = true
		if _, ok := have[r.Type.Name]; ok {
			continue
		}
		path := HooksDir + "/" + naming.Snake(r.GoName) + ".go"
		if _, err := os.Stat(filepath.Join(opt.Root, path)); err == nil {
			warnings = append(warnings, fmt.Sprintf("%s exists but has no %q line; not scaffolding the %s hooks (wire them in yourself, see docs/hooks.md)", path, hooksMarker+r.Type.Name, r.Type.Name))
			continue
		}
		var b bytes.Buffer
		err := tmpl.Execute(&b, map[string]any{
			"Name":   r.Type.Name,
			"GoName": r.GoName,
			"Module": emit.Module,
			"Group":  m.Membership != nil && m.Membership.Group == r,
		})
		if err != nil {
			return nil, nil, err
		}
		src, err := format.Source(b.Bytes())
		if err != nil {
			return nil, nil, fmt.Errorf("hooks template for %s: %w", r.Type.Name, err)
		}
		files = append(files, emit.File{Path: path, Data: src})
	}
	for name, path := range have {
		if !types[name] {
			warnings = append(warnings, fmt.Sprintf("%s holds hooks for resource type %q, which the schemas no longer define: delete the file (it will not compile)", path, name))
		}
	}
	return files, warnings, nil
}

// hookFiles maps resource type names to the hooks files that declare them
// with the marker line.
func hookFiles(dir string) (map[string]string, error) {
	out := map[string]string{}
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		f, err := os.Open(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		sc := bufio.NewScanner(f)
		if sc.Scan() {
			if name, ok := strings.CutPrefix(sc.Text(), hooksMarker); ok {
				out[strings.TrimSpace(name)] = HooksDir + "/" + e.Name()
			}
		}
		f.Close()
	}
	return out, nil
}

// WriteScaffold writes files that do not exist yet and returns their paths.
func WriteScaffold(root string, files []emit.File) ([]string, error) {
	var wrote []string
	for _, f := range files {
		p := filepath.Join(root, f.Path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return wrote, err
		}
		// O_EXCL: never overwrite a file that appeared meanwhile.
		fh, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return wrote, err
		}
		_, err = fh.Write(f.Data)
		if cerr := fh.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return wrote, err
		}
		wrote = append(wrote, f.Path)
	}
	return wrote, nil
}
