package sqlfilter

import (
	"errors"
	"testing"

	"github.com/scimforge/scimforge/scim/filter"
)

// FuzzCompile feeds arbitrary filter text through filter.Parse and Compile
// and runs the SQL on a seeded SQLite database. A Compile error is fine as
// long as it is an *Error (a client error) and both dialects agree; the SQL
// must always execute, bind exactly its placeholders, and "not (f)" must
// select exactly the resources f does not.
func FuzzCompile(f *testing.F) {
	for _, c := range execCases {
		f.Add(c.filter)
	}
	for _, c := range errorCases {
		f.Add(c.filter)
	}
	for _, c := range goldenCases {
		f.Add(c.filter)
	}
	m := newUserMapping()
	db := openSQLite(f)
	all, err := queryIDs(db, m, "TRUE", nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, in string) {
		e, err := filter.Parse(in)
		if err != nil {
			return
		}
		var errs [2]error
		for i, d := range []Dialect{SQLite, Postgres} {
			where, args, err := m.Compile(e, d)
			errs[i] = err
			if err != nil {
				var fe *Error
				if !errors.As(err, &fe) {
					t.Fatalf("%v: Compile(%q) returned %T, not *Error: %v", d, in, err, err)
				}
				continue
			}
			if n := placeholders(where); n != len(args) {
				t.Fatalf("%v: %q: %d placeholders, %d args\n%s", d, in, n, len(args), where)
			}
		}
		if (errs[0] == nil) != (errs[1] == nil) {
			t.Fatalf("dialects disagree on %q: %v / %v", in, errs[0], errs[1])
		}
		if errs[0] != nil {
			return
		}
		where, args, _ := m.Compile(e, SQLite)
		got, err := queryIDs(db, m, where, args)
		if err != nil {
			t.Fatalf("SQL error for %q: %v\nSQL: %s\nargs: %#v", in, err, where, args)
		}
		nwhere, nargs, err := m.Compile(&filter.Not{X: e}, SQLite)
		if err != nil {
			t.Fatalf("not (%q) failed to compile: %v", in, err)
		}
		neg, err := queryIDs(db, m, nwhere, nargs)
		if err != nil {
			t.Fatalf("SQL error for not (%q): %v\nSQL: %s", in, err, nwhere)
		}
		seen := map[string]bool{}
		for _, id := range append(got, neg...) {
			if seen[id] {
				t.Fatalf("%q: %s matches both f and not (f)", in, id)
			}
			seen[id] = true
		}
		if len(seen) != len(all) {
			t.Fatalf("%q: f and not (f) together match %d of %d resources", in, len(seen), len(all))
		}
	})
}
