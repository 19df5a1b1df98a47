package generator

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// scaffold copies the fixture schema set (which has the Acme example) into
// a temporary repository with a migration history of two migrations.
func scaffold(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	src := filepath.Join(fixtureDir, "schemas")
	err := filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		r, _ := filepath.Rel(src, p)
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		dst := filepath.Join(root, "schemas", r)
		os.MkdirAll(filepath.Dir(dst), 0o755)
		return os.WriteFile(dst, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"history", "sqlite", "postgres"} {
		os.MkdirAll(filepath.Join(root, "migrations", d), 0o755)
	}
	files, err := Render(Options{Root: root, Schemas: "schemas", Now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.HasPrefix(f.Path, "migrations/") {
			os.WriteFile(filepath.Join(root, f.Path), f.Data, 0o644)
		}
	}
	os.WriteFile(filepath.Join(root, "migrations/migrations.go"), []byte("package migrations\n"), 0o644)
	readme, err := os.ReadFile("../schemas/README.md")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(root, "schemas/README.md"), readme, 0o644)
	os.WriteFile(filepath.Join(root, "migrations/history/20260101000000_schema.json"), []byte(`{"changes":[]}`), 0o644)
	return root
}

func history(t *testing.T, root string) []string {
	t.Helper()
	var names []string
	for _, d := range []string{"history", "sqlite", "postgres"} {
		es, _ := os.ReadDir(filepath.Join(root, "migrations", d))
		for _, e := range es {
			names = append(names, d+"/"+e.Name())
		}
	}
	return names
}

// TestDropExample: the example's document, resource type entry and sidecar
// entry go, the rest of each file stays byte for byte, the history is
// emptied and regenerating writes one init migration; a second run does
// nothing.
func TestDropExample(t *testing.T) {
	root := scaffold(t)
	userBefore, _ := os.ReadFile(filepath.Join(root, "schemas/resourcetypes/User.json"))
	sideBefore, _ := os.ReadFile(filepath.Join(root, "schemas/codegen.yaml"))
	var log bytes.Buffer
	changed, err := DropExample(DropOptions{Root: root, Schemas: "schemas", Log: &log})
	if err != nil || !changed {
		t.Fatalf("DropExample: changed %v, %v", changed, err)
	}
	t.Logf("%s", log.String())
	if _, err := os.Stat(filepath.Join(root, "schemas/custom/AcmeUser.json")); !os.IsNotExist(err) {
		t.Errorf("AcmeUser.json is still there (%v)", err)
	}
	if readme, _ := os.ReadFile(filepath.Join(root, "schemas/README.md")); bytes.Contains(readme, []byte("| `custom/AcmeUser.json`")) || !bytes.Contains(readme, []byte("| `extensions/EnterpriseUser.json`")) {
		t.Errorf("schemas/README.md still lists the example, or lost the rest:\n%s", readme)
	}
	// The resource type lost exactly the Acme entry.
	userAfter, _ := os.ReadFile(filepath.Join(root, "schemas/resourcetypes/User.json"))
	var before, after map[string]any
	json.Unmarshal(userBefore, &before)
	if err := json.Unmarshal(userAfter, &after); err != nil {
		t.Fatalf("User.json: %v\n%s", err, userAfter)
	}
	exts := before["schemaExtensions"].([]any)
	before["schemaExtensions"] = exts[:1]
	if b, a := mustJSON(before), mustJSON(after); b != a {
		t.Errorf("User.json: got %s, want %s", a, b)
	}
	if bytes.Contains(userAfter, []byte("acme")) {
		t.Errorf("User.json still names the example:\n%s", userAfter)
	}
	// The sidecar lost the Acme lines only: comments and the others stay.
	sideAfter, _ := os.ReadFile(filepath.Join(root, "schemas/codegen.yaml"))
	removed := strings.Join([]string{
		"  urn:example:params:scim:schemas:extension:acme:2.0:User:",
		"    goName: AcmeUser",
		"    columnPrefix: acme_",
	}, "\n") + "\n"
	if want := strings.Replace(string(sideBefore), removed, "", 1); string(sideAfter) != want || want == string(sideBefore) {
		t.Errorf("codegen.yaml:\n%s\nwant:\n%s", sideAfter, want)
	}
	if got := history(t, root); len(got) != 0 {
		t.Errorf("history left: %v", got)
	}
	if _, err := os.Stat(filepath.Join(root, "migrations/migrations.go")); err != nil {
		t.Errorf("migrations.go was removed: %v", err)
	}
	// Regenerating writes one init migration for what is left.
	files, err := Render(Options{Root: root, Schemas: "schemas", Now: time.Date(2026, 2, 3, 4, 5, 6, 0, time.UTC)})
	if err != nil {
		t.Fatalf("generate after dropping: %v", err)
	}
	var migs []string
	for _, f := range files {
		if strings.HasPrefix(f.Path, "migrations/") {
			migs = append(migs, f.Path)
			if bytes.Contains(f.Data, []byte("acme")) {
				t.Errorf("%s still has the example's columns", f.Path)
			}
		}
	}
	if len(migs) != 3 || !strings.HasSuffix(migs[0], "20260203040506_init.json") {
		t.Errorf("migrations after dropping: %v, want one init migration", migs)
	}
	// Nothing left to drop: nothing changes.
	changed, err = DropExample(DropOptions{Root: root, Schemas: "schemas"})
	if err != nil || changed {
		t.Errorf("second DropExample: changed %v, %v", changed, err)
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestDropExampleRefusesWithADatabase: with the database file (or a
// PostgreSQL URL, which it cannot check) it changes nothing and says why;
// -force resets anyway.
func TestDropExampleRefusesWithADatabase(t *testing.T) {
	root := scaffold(t)
	os.WriteFile(filepath.Join(root, "scimforge.db"), []byte("x"), 0o600)
	hist := history(t, root)
	_, err := DropExample(DropOptions{Root: root, Schemas: "schemas"})
	if err == nil || !strings.Contains(err.Error(), "scimforge.db exists") || !strings.Contains(err.Error(), "-force") {
		t.Fatalf("with scimforge.db: %v, want a refusal naming the file and -force", err)
	}
	if _, err := os.Stat(filepath.Join(root, "schemas/custom/AcmeUser.json")); err != nil || len(history(t, root)) != len(hist) {
		t.Fatalf("a refused DropExample changed something (%v, history %v)", err, history(t, root))
	}
	_, err = DropExample(DropOptions{Root: root, Schemas: "schemas", DatabaseURL: "postgres://app@db.example.com/scim"})
	if err == nil || !strings.Contains(err.Error(), "PostgreSQL") {
		t.Fatalf("with a PostgreSQL URL: %v, want a refusal", err)
	}
	// A database elsewhere does not stop it.
	changed, err := DropExample(DropOptions{Root: root, Schemas: "schemas", DatabaseURL: "sqlite://data/other.db"})
	if err != nil || !changed || len(history(t, root)) != 0 {
		t.Fatalf("with no database at the URL: changed %v, %v, history %v", changed, err, history(t, root))
	}
	root = scaffold(t)
	os.WriteFile(filepath.Join(root, "scimforge.db"), []byte("x"), 0o600)
	if changed, err := DropExample(DropOptions{Root: root, Schemas: "schemas", Force: true}); err != nil || !changed {
		t.Fatalf("-force: changed %v, %v", changed, err)
	}
}

// TestDropExtensionKeepsLayout: rewriting a resource type document keeps
// every other byte (member order, indentation, escapes).
func TestDropExtensionKeepsLayout(t *testing.T) {
	for _, f := range []string{"resourcetypes/Group.json", "resourcetypes/Asset.json"} {
		raw, err := os.ReadFile(filepath.Join(fixtureDir, "schemas", f))
		if err != nil {
			t.Fatal(err)
		}
		out, err := dropExtension(raw, ExampleURN)
		if err != nil || !bytes.Equal(out, raw) {
			t.Errorf("%s: not kept as it was (%v):\n%s", f, err, out)
		}
	}
}

// TestDropSidecarSchemaLastEntry: the only entry under schemas leaves an
// empty map, not a null.
func TestDropSidecarSchemaLastEntry(t *testing.T) {
	in := "# comment\nresourceTypes:\n  User:\n    table: scim_users\n\nschemas:\n  # the example\n  " + ExampleURN + ":\n    goName: AcmeUser\n"
	out, changed, err := dropSidecarSchema([]byte(in), ExampleURN)
	if err != nil || !changed {
		t.Fatalf("changed %v, %v", changed, err)
	}
	var doc struct {
		ResourceTypes map[string]any `yaml:"resourceTypes"`
		Schemas       map[string]any `yaml:"schemas"`
	}
	if err := yaml.Unmarshal(out, &doc); err != nil || doc.Schemas == nil || len(doc.Schemas) != 0 || doc.ResourceTypes["User"] == nil {
		t.Errorf("%v: %+v\n%s", err, doc, out)
	}
	if want := "# comment\nresourceTypes:\n  User:\n    table: scim_users\n\nschemas: {}\n"; string(out) != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
}
