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
