package generator

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/scimforge/scimforge/generator/internal/emit/store"
	"github.com/scimforge/scimforge/scim/schema"
)

// ExampleURN is the shipped example extension (schemas/custom/AcmeUser.json),
// the worked example that DropExample removes.
const ExampleURN = "urn:example:params:scim:schemas:extension:acme:2.0:User"

// DropOptions steer DropExample.
type DropOptions struct {
	Root    string // repository root
	Schemas string // schema folder, relative to Root ("schemas")
	// DatabaseURL is where the app's database would be
	// (SCIMFORGE_DATABASE_URL; "" is the default sqlite://scimforge.db).
	DatabaseURL string
	// Force resets the migration history even when a database may exist.
	Force bool
	Log   io.Writer
}

// DropExample makes the scaffold an app of its own: it removes the example
// extension (its schema document, its entry in every resource type's
// schemaExtensions and its codegen.yaml entry) and, because the migration
// history then describes columns the schema no longer has (which the
// generator refuses to drop from a database), starts the history afresh:
// the caller regenerates, and make generate writes one init migration for
// the schema as it now is.
//
// Resetting the history is only safe before any database was migrated with
// it: a database made from the old history would have its tables created
// again by the new init migration and fail to start. So DropExample
// refuses, changing nothing, when the database named by DatabaseURL exists
// (a SQLite file) or cannot be checked (PostgreSQL), unless Force.
//
// It reports whether it changed anything; with no example left it does
// nothing (and keeps the history).
func DropExample(opt DropOptions) (bool, error) {
	logf := func(format string, args ...any) {
		if opt.Log != nil {
			fmt.Fprintf(opt.Log, format+"\n", args...)
		}
	}
	dir := filepath.Join(opt.Root, opt.Schemas)
	set, err := schema.Load(os.DirFS(opt.Root), opt.Schemas)
	if err != nil {
		return false, err
	}
	ex := set.Schema(ExampleURN)
	var users []string
	for _, rt := range set.ResourceTypes {
		if rt.Extension(ExampleURN) != nil {
			users = append(users, rt.File)
		}
	}
	sidecar := filepath.Join(dir, "codegen.yaml")
	side, err := os.ReadFile(sidecar)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return false, err
	}
	newSide, sideChanged, err := dropSidecarSchema(side, ExampleURN)
	if err != nil {
		return false, fmt.Errorf("%s: %w", sidecar, err)
	}
	if ex == nil && len(users) == 0 && !sideChanged {
		logf("no example extension (%s) in %s: nothing to drop", ExampleURN, opt.Schemas)
		return false, nil
	}
	if err := checkNoDatabase(opt); err != nil {
		return false, err
	}
	// Every edit is computed before anything is written.
	type write struct {
		path string
		data []byte
	}
	var writes []write
	for _, f := range users {
		path := filepath.Join(opt.Root, filepath.FromSlash(f))
		raw, err := os.ReadFile(path)
		if err != nil {
			return false, err
		}
		out, err := dropExtension(raw, ExampleURN)
		if err != nil {
			return false, fmt.Errorf("%s: %w", f, err)
		}
		writes = append(writes, write{path, out})
	}
	if sideChanged {
		writes = append(writes, write{sidecar, newSide})
	}
	for _, w := range writes {
		if err := os.WriteFile(w.path, w.data, 0o644); err != nil {
			return true, err
		}
		logf("edited %s", rel(opt.Root, w.path))
	}
	if ex != nil {
		path := filepath.Join(opt.Root, filepath.FromSlash(ex.File))
		if err := os.Remove(path); err != nil {
			return true, err
		}
		logf("removed %s", rel(opt.Root, path))
		// The schema folder's README lists the documents in a table;
		// its row for the example goes with it.
		readme := filepath.Join(dir, "README.md")
		name := "`" + strings.TrimPrefix(ex.File, opt.Schemas+"/") + "`"
		if raw, err := os.ReadFile(readme); err == nil {
			lines := strings.SplitAfter(string(raw), "\n")
			kept := slices.DeleteFunc(slices.Clone(lines), func(l string) bool { return strings.HasPrefix(l, "| "+name) })
			if len(kept) != len(lines) {
				if err := os.WriteFile(readme, []byte(strings.Join(kept, "")), 0o644); err != nil {
					return true, err
				}
				logf("edited %s", rel(opt.Root, readme))
			}
		}
	}
	n, err := ResetHistory(opt.Root)
	if err != nil {
		return true, err
	}
	logf("removed the migration history (%d files); make generate writes a new init migration", n)
	return true, nil
}

func rel(root, path string) string {
	if r, err := filepath.Rel(root, path); err == nil {
		return filepath.ToSlash(r)
	}
	return path
}

// checkNoDatabase refuses (unless opt.Force) when a database made from the
// current history may exist.
func checkNoDatabase(opt DropOptions) error {
	if opt.Force {
		return nil
	}
	url := opt.DatabaseURL
	if url == "" {
		url = "sqlite://scimforge.db"
	}
	// The server's URL forms (sqlstore.ParseURL); the generator does not
	// link the database drivers to read them.
	path, isSQLite := strings.CutPrefix(url, "sqlite://")
	if !isSQLite {
		return errors.New("SCIMFORGE_DATABASE_URL names a database this command cannot check (PostgreSQL): " +
			"if it was ever migrated with the current history, resetting the history would break it. " +
			"Drop that database (or unset SCIMFORGE_DATABASE_URL) and run again with -force")
	}
	if !filepath.IsAbs(path) {
		path = filepath.Join(opt.Root, path)
	}
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("%s exists: it was migrated with the current migration history, which this command would reset "+
			"(the new init migration would then fail on it). If its data is disposable, delete it "+
			"(and its -wal, -shm and .lock files) and run again; to reset anyway, run with -force (make drop-example FORCE=1) "+
			"(then delete it before the server starts). To keep it, keep the example extension "+
			"(a removed attribute cannot be migrated away)", rel(opt.Root, path))
	}
	return nil
}

// ResetHistory deletes the migration history (migrations/history, sqlite
// and postgres), so that the next generation writes one init migration for
// the whole schema. It keeps the folders and migrations/migrations.go, and
// returns how many files it removed.
func ResetHistory(root string) (int, error) {
	n := 0
	for _, d := range append([]string{"history"}, store.Dialects...) {
		dir := filepath.Join(root, store.MigrationsDir, d)
		entries, err := os.ReadDir(dir)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return n, err
		}
		for _, e := range entries {
			if e.IsDir() || (!strings.HasSuffix(e.Name(), ".json") && !strings.HasSuffix(e.Name(), ".sql")) {
				continue
			}
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
				return n, err
			}
			n++
		}
	}
	return n, nil
}

// dropExtension removes urn from a ResourceType document's
// schemaExtensions, keeping its members' order and the files' layout
// (two-space indentation).
func dropExtension(raw []byte, urn string) ([]byte, error) {
	doc, err := decodeOrdered(raw)
	if err != nil {
		return nil, err
	}
	obj, ok := doc.(ordered)
	if !ok {
		return nil, errors.New("not a JSON object")
	}
	for i, m := range obj {
		if m.key != "schemaExtensions" {
			continue
		}
		list, _ := m.value.([]any)
		keep := []any{}
		for _, e := range list {
			if eo, ok := e.(ordered); ok && strings.EqualFold(eo.str("schema"), urn) {
				continue
			}
			keep = append(keep, e)
		}
		obj[i].value = keep
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(obj); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// ordered is a JSON object that keeps its members' order.
type ordered []member

type member struct {
	key   string
	value any
}

func (o ordered) str(key string) string {
	for _, m := range o {
		if m.key == key {
			s, _ := m.value.(string)
			return s
		}
	}
	return ""
}

func (o ordered) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, m := range o {
		if i > 0 {
			buf.WriteByte(',')
		}
		k, _ := json.Marshal(m.key)
		buf.Write(k)
		buf.WriteByte(':')
		var v bytes.Buffer
		enc := json.NewEncoder(&v)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(m.value); err != nil {
			return nil, err
		}
		buf.Write(bytes.TrimRight(v.Bytes(), "\n"))
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// decodeOrdered decodes JSON with objects as ordered and numbers as
// json.Number (so they are written back as they were).
func decodeOrdered(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var value func() (any, error)
	value = func() (any, error) {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		switch tok {
		case json.Delim('{'):
			o := ordered{}
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return nil, err
				}
				v, err := value()
				if err != nil {
					return nil, err
				}
				o = append(o, member{k.(string), v})
			}
			_, err := dec.Token()
			return o, err
		case json.Delim('['):
			l := []any{}
			for dec.More() {
				v, err := value()
				if err != nil {
					return nil, err
				}
				l = append(l, v)
			}
			_, err := dec.Token()
			return l, err
		}
		return tok, nil
	}
	return value()
}

// dropSidecarSchema removes urn's entry under "schemas:" from codegen.yaml,
// line by line so that comments and blank lines stay as they are. It
// reports whether there was one.
func dropSidecarSchema(side []byte, urn string) ([]byte, bool, error) {
	if len(side) == 0 {
		return side, false, nil
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(side, &doc); err != nil {
		return nil, false, err
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return side, false, nil
	}
	top := doc.Content[0]
	var schemasKey, schemas *yaml.Node
	for i := 0; i+1 < len(top.Content); i += 2 {
		if top.Content[i].Value == "schemas" && top.Content[i+1].Kind == yaml.MappingNode {
			schemasKey, schemas = top.Content[i], top.Content[i+1]
		}
	}
	if schemas == nil {
		return side, false, nil
	}
	lines := strings.SplitAfter(string(side), "\n")
	for i := 0; i+1 < len(schemas.Content); i += 2 {
		k := schemas.Content[i]
		if !strings.EqualFold(k.Value, urn) {
			continue
		}
		first := k.Line - 1 - strings.Count(k.HeadComment, "\n") - boolInt(k.HeadComment != "")
		last := lastLine(schemas.Content[i+1]) // 1-based, inclusive
		if i+2 < len(schemas.Content) {
			next := schemas.Content[i+2]
			last = next.Line - 1 - strings.Count(next.HeadComment, "\n") - boolInt(next.HeadComment != "")
		}
		out := append(append([]string{}, lines[:first]...), lines[last:]...)
		if len(schemas.Content) == 2 {
			// The only entry: the key alone would be null, not a map.
			l := schemasKey.Line - 1
			out[l] = strings.TrimRight(out[l], "\n") + " {}\n"
		}
		return []byte(strings.Join(out, "")), true, nil
	}
	return side, false, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// lastLine is the last line a node's subtree spans.
func lastLine(n *yaml.Node) int {
	last := n.Line
	for _, c := range n.Content {
		last = max(last, lastLine(c))
	}
	return last
}
