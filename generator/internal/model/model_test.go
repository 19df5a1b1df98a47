package model

import (
	"errors"
	"flag"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scimforge/scimforge/internal/txtarfs"
	"github.com/scimforge/scimforge/scim/schema"
)

var update = flag.Bool("update", false, "rewrite the want sections of testdata/problems/*.txt")

// TestProblems loads each fixture in testdata/problems (a schema set with
// its codegen.yaml) and checks that every problem, in the schema files and
// in the sidecar, is reported with its file, JSON Pointer, message and fix,
// in order; "clean" has none. Run with -update to rewrite the want
// sections, then review the diff.
func TestProblems(t *testing.T) {
	paths, _ := filepath.Glob("testdata/problems/*.txt")
	if len(paths) < 10 {
		t.Fatalf("found %d fixtures in testdata/problems, want at least 10", len(paths))
	}
	for _, path := range paths {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txt"), func(t *testing.T) {
			a, err := txtarfs.Read(path)
			if err != nil {
				t.Fatal(err)
			}
			m, err := Load(a.FS("want"), "schemas")
			var got []string
			var ps schema.Problems
			switch {
			case err == nil:
				if m == nil || len(m.Resources) == 0 {
					t.Fatal("no error and no model")
				}
			case errors.As(err, &ps):
				if m != nil {
					t.Error("a model despite problems")
				}
				for _, p := range ps {
					got = append(got, p.Error())
				}
			default:
				t.Fatalf("error is %T, want schema.Problems: %v", err, err)
			}
			if *update {
				a.Set("want", strings.Join(got, "\n")+"\n")
				if err := a.Write(path); err != nil {
					t.Fatal(err)
				}
				return
			}
			want := strings.TrimSpace(a.Files["want"])
			if g := strings.Join(got, "\n"); g != want {
				t.Errorf("problems:\n%s\nwant:\n%s", g, want)
			}
		})
	}
}
