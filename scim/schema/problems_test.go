package schema

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/scimforge/scimforge/internal/txtarfs"
)

var update = flag.Bool("update", false, "rewrite the want sections of testdata/problems/*.txt")

// TestProblems loads each fixture schema set in testdata/problems (one per
// kind of mistake, and one with many at once) and checks that every problem
// is reported, with its file, JSON Pointer, message and fix, in order.
// Run with -update to rewrite the want sections, then review the diff.
func TestProblems(t *testing.T) {
	paths, _ := filepath.Glob("testdata/problems/*.txt")
	if len(paths) < 20 {
		t.Fatalf("found %d fixtures in testdata/problems, want at least 20", len(paths))
	}
	for _, path := range paths {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txt"), func(t *testing.T) {
			a, err := txtarfs.Read(path)
			if err != nil {
				t.Fatal(err)
			}
			fsys := a.FS("want")
			set, ps, err := Check(fsys, "schemas")
			if err != nil {
				t.Fatal(err)
			}
			if set == nil {
				t.Fatal("Check returned no set")
			}
			var got []string
			for _, p := range ps {
				got = append(got, p.Error())
				checkPointer(t, fsys, p)
			}
			if *update {
				a.Set("want", strings.Join(got, "\n")+"\n")
				if err := a.Write(path); err != nil {
					t.Fatal(err)
				}
				return
			}
			want := strings.Split(strings.TrimSpace(a.Files["want"]), "\n")
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			// Load reports the same problems, as an error callers can
			// take apart.
			_, err = Load(fsys, "schemas")
			var lps Problems
			if !errors.As(err, &lps) || lps.Error() != ps.Error() {
				t.Errorf("Load: %v; want the problems of Check", err)
			}
		})
	}
}

// checkPointer fails unless p names a file of fsys (or the schema folder)
// and, for a JSON file, its pointer's parent exists in the document (the
// pointer itself may name a member that is missing and has to be added).
func checkPointer(t *testing.T, fsys fstest.MapFS, p *Problem) {
	t.Helper()
	if p.Msg == "" {
		t.Errorf("%v: empty message", p)
	}
	if p.File == "schemas" {
		return
	}
	f, ok := fsys[p.File]
	if !ok {
		t.Errorf("%v: no file %q", p, p.File)
		return
	}
	if p.Pointer == "" {
		return
	}
	if !strings.HasPrefix(p.Pointer, "/") {
		t.Errorf("%v: pointer does not start with /", p)
		return
	}
	dec := json.NewDecoder(bytes.NewReader(f.Data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Errorf("%v: pointer into a file that is not JSON", p)
		return
	}
	tokens := strings.Split(p.Pointer[1:], "/")
	for _, tok := range tokens[:len(tokens)-1] {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch x := v.(type) {
		case map[string]any:
			v, ok = x[tok]
		case []any:
			i, err := strconv.Atoi(tok)
			ok = err == nil && i >= 0 && i < len(x)
			if ok {
				v = x[i]
			}
		default:
			ok = false
		}
		if !ok {
			t.Errorf("%v: pointer does not resolve in %s", p, p.File)
			return
		}
	}
}

func TestPointerOrder(t *testing.T) {
	ps := Problems{
		{File: "b.json", Pointer: "/attributes/0", Msg: "x"},
		{File: "a.json", Pointer: "/attributes/10/name", Msg: "x"},
		{File: "a.json", Pointer: "/attributes/2/name", Msg: "y"},
		{File: "a.json", Pointer: "/attributes/2/name", Msg: "x"},
		{File: "a.json", Pointer: "/attributes/2", Msg: "z"},
		{File: "a.json", Pointer: "", Msg: "z"},
		{File: "a.json", Pointer: "/attributes/2/name", Msg: "x"},
	}
	var got []string
	for _, p := range ps.Sorted() {
		got = append(got, p.File+"#"+p.Pointer+" "+p.Msg)
	}
	want := []string{
		"a.json# z",
		"a.json#/attributes/2 z",
		"a.json#/attributes/2/name x",
		"a.json#/attributes/2/name y",
		"a.json#/attributes/10/name x",
		"b.json#/attributes/0 x",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("sorted:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if got := Pointer("schemas", "urn:a/b~c", 3); got != "/schemas/urn:a~1b~0c/3" {
		t.Errorf("Pointer = %q", got)
	}
}
