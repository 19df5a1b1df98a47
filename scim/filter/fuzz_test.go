package filter

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// seedCorpus is shared by the fuzzers: every table input plus a few hand
// picked edge cases. Crashers found by `go test -fuzz` are kept under
// testdata/fuzz/<FuzzName>/ and replayed by plain `go test`.
func seedCorpus() []string {
	var seeds []string
	for _, tt := range parseTests {
		seeds = append(seeds, tt.in)
	}
	for _, tt := range errorTests {
		seeds = append(seeds, tt.in)
	}
	seeds = append(seeds,
		`emails[type eq "work"].value`,
		`members[value eq "x"]`,
		ent+`:manager`,
		`not (not (not (a pr)))`,
		`a eq "\ud83d\ude00" or b eq -1.5e-3`,
		`((a pr) and ((b pr) or c pr))`,
		`x[y[z pr]]`,
		`a eq "\\\"\/"`,
	)
	return seeds
}

// limitError reports whether err is a length or depth limit error; the
// canonical rendering of an input at the limit may legitimately exceed it.
func limitError(err error) bool {
	var pe *Error
	return errors.As(err, &pe) && (strings.Contains(pe.Msg, "the limit is") || strings.Contains(pe.Msg, "nested deeper"))
}

func checkError(t *testing.T, in string, err error) {
	t.Helper()
	var pe *Error
	if !errors.As(err, &pe) {
		t.Fatalf("error for %q is %T, not *Error: %v", in, err, err)
	}
	if pe.Pos < 0 || (pe.Pos > len(in) && !(len(in) > MaxLength && pe.Pos == MaxLength)) {
		t.Fatalf("error position %d out of range for %q (len %d): %s", pe.Pos, in, len(in), pe.Msg)
	}
	if pe.Msg == "" {
		t.Fatalf("empty message for %q", in)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range seedCorpus() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		e, err := Parse(in)
		if err != nil {
			checkError(t, in, err)
			return
		}
		s := e.String()
		back, err := Parse(s)
		if err != nil {
			if limitError(err) {
				return
			}
			t.Fatalf("Parse(%q) ok, but its rendering %q fails: %v", in, s, err)
		}
		if !reflect.DeepEqual(back, e) {
			t.Fatalf("round trip changed the tree: %q -> %q", in, s)
		}
		if s2 := back.String(); s2 != s {
			t.Fatalf("rendering not stable: %q -> %q -> %q", in, s, s2)
		}
	})
}

func FuzzParsePath(f *testing.F) {
	for _, s := range seedCorpus() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		p, err := ParsePath(in)
		if err != nil {
			checkError(t, in, err)
			return
		}
		s := p.String()
		back, err := ParsePath(s)
		if err != nil {
			if limitError(err) {
				return
			}
			t.Fatalf("ParsePath(%q) ok, but its rendering %q fails: %v", in, s, err)
		}
		if !reflect.DeepEqual(back, p) {
			t.Fatalf("round trip changed the path: %q -> %q", in, s)
		}
		if s2 := back.String(); s2 != s {
			t.Fatalf("rendering not stable: %q -> %q -> %q", in, s, s2)
		}
	})
}
