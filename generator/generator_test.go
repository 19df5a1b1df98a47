package generator

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/scimforge/scimforge/generator/internal/emit"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/*/want")

// TestCommittedOutputIsFresh fails when generated/ or openapi.yaml no longer
// match schemas/ (someone edited a schema or the generator without running
// make generate). server.gen.go is oapi-codegen's and checked by make check.
func TestCommittedOutputIsFresh(t *testing.T) {
	files, err := Render(Options{Root: "..", Schemas: "schemas"})
	if err != nil {
		t.Fatal(err)
	}
	var stale []string
	for _, f := range files {
		old, err := os.ReadFile(filepath.Join("..", f.Path))
		if err != nil || !bytes.Equal(old, f.Data) {
			stale = append(stale, f.Path)
		}
	}
	if len(stale) > 0 {
		t.Fatalf("stale generated files, run make generate: %s", strings.Join(stale, ", "))
	}
}

func TestDeterministic(t *testing.T) {
	a, err := Render(Options{Root: "..", Schemas: "schemas"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Render(Options{Root: "..", Schemas: "schemas"})
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != len(b) {
		t.Fatalf("%d files, then %d", len(a), len(b))
	}
	for i := range a {
		if a[i].Path != b[i].Path || !bytes.Equal(a[i].Data, b[i].Data) {
			t.Errorf("%s differs between two runs", a[i].Path)
		}
	}
}

func TestEveryFileHasTheHeader(t *testing.T) {
	files, err := Render(Options{Root: "..", Schemas: "schemas"})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.HasSuffix(f.Path, ".json") {
			continue // JSON has no comments; .gitattributes marks them generated
		}
		first, _, _ := strings.Cut(string(f.Data), "\n")
		if !strings.Contains(first, emit.Header) {
			t.Errorf("%s starts with %q, want the scimforge header", f.Path, first)
		}
	}
}

// TestGolden renders the schema sets under testdata/<case>/schemas and
// compares with testdata/<case>/want (go test ./generator -update rewrites).
func TestGolden(t *testing.T) {
	cases, _ := filepath.Glob("testdata/*/schemas")
	if len(cases) == 0 {
		t.Fatal("no golden cases")
	}
	for _, c := range cases {
		dir := filepath.Dir(c)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			files, err := Render(Options{Root: ".", Schemas: filepath.ToSlash(c), Now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)})
			if err != nil {
				t.Fatal(err)
			}
			want := filepath.Join(dir, "want")
			if *update {
				os.RemoveAll(want)
			}
			seen := map[string]bool{}
			for _, f := range files {
				p := filepath.Join(want, f.Path)
				seen[p] = true
				if *update {
					if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(p, f.Data, 0o644); err != nil {
						t.Fatal(err)
					}
					continue
				}
				old, err := os.ReadFile(p)
				if err != nil {
					t.Errorf("%s: missing golden file (run go test ./generator -update)", p)
					continue
				}
				if !bytes.Equal(old, f.Data) {
					t.Errorf("%s differs from the golden file (review, then go test ./generator -update)", p)
				}
			}
			filepath.Walk(want, func(p string, info os.FileInfo, err error) error {
				if err == nil && !info.IsDir() && !seen[p] {
					t.Errorf("%s: golden file no longer generated", p)
				}
				return nil
			})
		})
	}
}

// TestWriteRemovesOrphans checks render-then-write: unchanged files are not
// rewritten, generated files no longer produced are deleted, and files
// without the header are never touched.
func TestWriteRemovesOrphans(t *testing.T) {
	root := t.TempDir()
	orphan := filepath.Join(root, "generated/resource/old_extension.gen.go")
	mine := filepath.Join(root, "generated/resource/notes.go")
	os.MkdirAll(filepath.Dir(orphan), 0o755)
	os.WriteFile(orphan, []byte("// "+emit.Header+"\npackage resource\n"), 0o644)
	os.WriteFile(mine, []byte("package resource\n"), 0o644)
	files := []emit.File{{Path: "generated/resource/user.gen.go", Data: []byte("// " + emit.Header + "\npackage resource\n")}}
	changed, err := Write(root, files, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(changed) != 2 {
		t.Errorf("changed = %v, want the new file and the deleted orphan", changed)
	}
	if _, err := os.Stat(orphan); !os.IsNotExist(err) {
		t.Error("orphaned generated file was not deleted")
	}
	if _, err := os.Stat(mine); err != nil {
		t.Error("hand-written file was deleted")
	}
	changed, err = Write(root, files, nil)
	if err != nil || len(changed) != 0 {
		t.Errorf("second write changed %v (err %v), want nothing", changed, err)
	}
}

// fixtureDir is the test fixture's folder (see internal/fixture).
const fixtureDir = "../internal/fixture"

// fixtureKeeps reports whether a rendered file belongs in the fixture: its
// Go types, store and embedded documents, and its migrations. The HTTP
// layer needs oapi-codegen and the conformance tests need app/, so tests
// that want HTTP wire the fixture's services themselves.
func fixtureKeeps(path string) bool {
	for _, p := range []string{"generated/resource/", "generated/store/", "generated/discovery/", "migrations/"} {
		if strings.HasPrefix(path, p) {
			return true
		}
	}
	return false
}

// TestFixture keeps internal/fixture/generated and its migrations what the
// generator makes of internal/fixture/schemas (-update rewrites them). The
// history is rendered fresh, so a changed fixture schema gives one new init
// migration rather than a growing history.
func TestFixture(t *testing.T) {
	files, err := Render(Options{Root: fixtureDir, Schemas: "schemas", FreshHistory: true,
		Now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Package: emit.Module + "/internal/fixture/generated"})
	if err != nil {
		t.Fatal(err)
	}
	var keep []emit.File
	for _, f := range files {
		if fixtureKeeps(f.Path) {
			keep = append(keep, f)
		}
	}
	if *update {
		for _, d := range []string{"generated", "migrations/history", "migrations/sqlite", "migrations/postgres"} {
			os.RemoveAll(filepath.Join(fixtureDir, d))
		}
		if _, err := Write(fixtureDir, keep, nil); err != nil {
			t.Fatal(err)
		}
		return
	}
	seen := map[string]bool{}
	for _, f := range keep {
		seen[filepath.ToSlash(filepath.Join(fixtureDir, f.Path))] = true
		old, err := os.ReadFile(filepath.Join(fixtureDir, f.Path))
		if err != nil || !bytes.Equal(old, f.Data) {
			t.Errorf("internal/fixture/%s is stale (go test ./generator -run TestFixture -update)", f.Path)
		}
	}
	for _, d := range []string{"generated", "migrations"} {
		filepath.Walk(filepath.Join(fixtureDir, d), func(p string, info os.FileInfo, err error) error {
			p = filepath.ToSlash(p)
			if err == nil && !info.IsDir() && !seen[p] && !strings.HasSuffix(p, "/migrations/migrations.go") {
				t.Errorf("%s is no longer generated (go test ./generator -run TestFixture -update)", p)
			}
			return nil
		})
	}
}
