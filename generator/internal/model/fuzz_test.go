package model

import (
	"errors"
	"strings"
	"testing"

	"github.com/scimforge/scimforge/internal/txtarfs"
	"github.com/scimforge/scimforge/scim/schema"
)

// FuzzSidecar feeds arbitrary bytes as codegen.yaml next to a valid schema
// set (testdata/problems/clean.txt). Load must not panic, must report
// problems only as schema.Problems with a file and a JSON Pointer, and must
// be deterministic.
func FuzzSidecar(f *testing.F) {
	a, err := txtarfs.Read("testdata/problems/clean.txt")
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range []string{"clean", "many", "sidecar-shape", "sidecar-indexes", "sidecar-names", "sidecar-identifiers", "sql-names"} {
		b, err := txtarfs.Read("testdata/problems/" + p + ".txt")
		if err != nil {
			f.Fatal(err)
		}
		f.Add([]byte(b.Files["schemas/codegen.yaml"]))
	}
	f.Add([]byte("resourceTypes: &a\n  Person: *a\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fsys := a.FS("want")
		fsys["schemas/codegen.yaml"].Data = data
		m, err := Load(fsys, "schemas")
		var ps schema.Problems
		switch {
		case err == nil:
			if m == nil || len(m.Resources) != 2 {
				t.Fatal("no error and no complete model")
			}
			return
		case !errors.As(err, &ps):
			t.Fatalf("error is %T, want schema.Problems: %v", err, err)
		}
		for _, p := range ps {
			if p.File == "" || p.Msg == "" || (p.Pointer != "" && !strings.HasPrefix(p.Pointer, "/")) {
				t.Fatalf("malformed problem %#v", p)
			}
		}
		_, again := Load(fsys, "schemas")
		if again.Error() != err.Error() {
			t.Fatalf("two loads disagree:\n%v\n---\n%v", err, again)
		}
	})
}
