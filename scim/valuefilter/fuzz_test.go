package valuefilter

import (
	"database/sql"
	"encoding/json"
	"errors"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/scimforge/scimforge/scim/filter"
	"github.com/scimforge/scimforge/scim/schema"
	"github.com/scimforge/scimforge/scim/sqlfilter"

	_ "modernc.org/sqlite"
)

// The SQL filter compiler is the oracle: the same value filter over the
// same values stored the way the generated store stores them (one child
// row per value; caseExact=false text folded; booleans 0/1; dateTimes in
// the fixed-width UTC layout; "" as NULL) must select exactly the values
// Match accepts, and be rejected exactly when Compile rejects it.

// oracleElems are the values of "things", one resource each.
var oracleElems = []string{
	`{"value":"Work@Example.com","code":"AbC","ref":"https://x.example/A","primary":true,"n":3,"x":4.5,"at":"2024-01-01T00:00:00Z","bin":"QUJD"}`,
	`{"value":"home@example.org","code":"abc","primary":false,"n":-1,"x":0,"at":"2015-10-10T14:38:21.8617979-07:00"}`,
	`{"value":"Ülrich@ß.de","code":"ÜL","n":0,"x":-2.25,"bin":"qujd"}`,
	`{}`,
	`{"value":"a%b_c!d","code":"a*b?c[d]","primary":true,"at":"2023-12-31T23:59:59.999Z"}`,
	`{"value":"100","code":"100","n":100,"x":100,"at":"9999-12-31T23:59:59Z","ref":"urn:x"}`,
	`{"value":"x","n":9007199254740993,"x":1e300,"at":"0001-01-01T00:00:00Z"}`,
	`{"Value":"CaseKey@Example.com","PRIMARY":true,"Code":"K"}`,
	`{"value":"\u212a","code":"k","primary":false,"n":-9223372036854775808}`,
	`{"value":"","code":"","primary":false,"ref":""}`,
	`{"value":"work","code":"work","ref":"work","x":-0.0001,"at":"2015-10-10T21:38:21.8617979Z"}`,
	`{"value":"Q","code":"q","n":9223372036854775807,"x":2.5e-300}`,
}

// thingsMapping maps "things" the way the generator maps a multi-valued
// complex attribute: one child table, one column per sub-attribute.
func thingsMapping() *sqlfilter.Mapping {
	ch := &sqlfilter.Child{Table: "thing_vals", ParentColumn: "thing_id", OrderColumn: "ord"}
	return &sqlfilter.Mapping{
		Table: "things", IDColumn: "id", Schemas: []string{"urn:example:Thing"},
		Attributes: []sqlfilter.Attribute{
			{Path: "id", Type: "string", CaseExact: true, Column: "id"},
			{Path: "things.value", Type: "string", Folded: true, Column: "value", Child: ch},
			{Path: "things.code", Type: "string", CaseExact: true, Column: "code", Child: ch},
			{Path: "things.ref", Type: "reference", Folded: true, Column: "ref", Child: ch},
			{Path: "things.primary", Type: "boolean", Column: "primary", Child: ch},
			{Path: "things.n", Type: "integer", Column: "n", Child: ch},
			{Path: "things.x", Type: "decimal", Column: "x", Child: ch},
			{Path: "things.at", Type: "dateTime", Column: "at", Child: ch},
			{Path: "things.bin", Type: "binary", CaseExact: true, Column: "bin", Child: ch},
		},
	}
}

type oracle struct {
	db     *sql.DB
	m      *sqlfilter.Mapping
	things *schema.Attribute
	elems  []map[string]any
}

func newOracle(tb testing.TB) *oracle {
	tb.Helper()
	things, _, _ := thingAttrs(tb)
	db, err := sql.Open("sqlite", filepath.Join(tb.TempDir(), "oracle.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(`CREATE TABLE things (id TEXT PRIMARY KEY);
CREATE TABLE thing_vals (thing_id TEXT NOT NULL, ord INTEGER NOT NULL, value TEXT, code TEXT, ref TEXT,
 "primary" INTEGER, n INTEGER, x REAL, at TEXT, bin TEXT)`); err != nil {
		tb.Fatal(err)
	}
	o := &oracle{db: db, m: thingsMapping(), things: things}
	for i, raw := range oracleElems {
		el := decode(tb, raw)
		o.elems = append(o.elems, el)
		id := strconv.Itoa(i)
		// get finds a sub-attribute's value whatever the key's case, as
		// the store's decoder does.
		get := func(name string) any {
			for k, v := range el {
				if strings.EqualFold(k, name) {
					return v
				}
			}
			return nil
		}
		text := func(name string, fold bool) any {
			s, _ := get(name).(string)
			if s == "" {
				return nil
			}
			if fold {
				return sqlfilter.Fold(s)
			}
			return s
		}
		var primary, n, x, at any
		if b, ok := get("primary").(bool); ok {
			primary = map[bool]int64{false: 0, true: 1}[b]
		}
		if v, ok := toInt(get("n")); ok {
			n = v
		}
		if v, ok := toFloat(get("x")); ok {
			x = v
		}
		if s, ok := get("at").(string); ok {
			t, ok := filter.ParseDateTime(s)
			if !ok {
				tb.Fatalf("oracle element %d: bad at %q", i, s)
			}
			at = t.Format(sqlfilter.SQLiteTimeLayout)
		}
		if _, err := db.Exec(`INSERT INTO things VALUES (?)`, id); err != nil {
			tb.Fatal(err)
		}
		if _, err := db.Exec(`INSERT INTO thing_vals VALUES (?,0,?,?,?,?,?,?,?,?)`, id,
			text("value", true), text("code", false), text("ref", true), primary, n, x, at, text("bin", false)); err != nil {
			tb.Fatal(err)
		}
	}
	return o
}

// hasNUL reports whether a string value of e holds a NUL character, which
// sqlfilter refuses (SQL text cannot hold one) and Match need not.
func hasNUL(e filter.Expr) bool {
	switch e := e.(type) {
	case *filter.Logical:
		return hasNUL(e.Left) || hasNUL(e.Right)
	case *filter.Not:
		return hasNUL(e.X)
	case *filter.ValuePath:
		return hasNUL(e.Filter)
	case *filter.Compare:
		return strings.IndexByte(e.Value.Str, 0) >= 0
	}
	return false
}

// check compares Match with the SQL compiler for the value filter text f.
func (o *oracle) check(t *testing.T, f string) {
	t.Helper()
	e, err := filter.Parse(f)
	if err != nil {
		return
	}
	vp := &filter.ValuePath{Attr: filter.AttrPath{Name: "things"}, Filter: e}
	where, args, sqlErr := o.m.Compile(vp, sqlfilter.SQLite)
	comp, err := Compile(e, o.things)
	if err != nil {
		var fe *Error
		if !errors.As(err, &fe) {
			t.Fatalf("%q: error %T is not *Error: %v", f, err, err)
		}
		if sqlErr == nil {
			t.Fatalf("%q: Match rejects it (%v) but the SQL compiler accepts it", f, err)
		}
		return
	}
	if sqlErr != nil {
		if hasNUL(e) {
			return
		}
		t.Fatalf("%q: the SQL compiler rejects it (%v) but Match accepts it", f, sqlErr)
	}
	rows, err := o.db.Query(`SELECT r.id FROM `+o.m.From()+` WHERE `+where, args...)
	if err != nil {
		t.Fatalf("%q: %v\n%s", f, err, where)
	}
	var sqlIDs []int
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		n, _ := strconv.Atoi(id)
		sqlIDs = append(sqlIDs, n)
	}
	rows.Close()
	slices.Sort(sqlIDs)
	var memIDs []int
	for i, el := range o.elems {
		if comp.Match(el) {
			memIDs = append(memIDs, i)
		}
	}
	if !slices.Equal(sqlIDs, memIDs) {
		t.Fatalf("things[%s]: SQL selects %v, Match accepts %v\n%s %v", f, sqlIDs, memIDs, where, args)
	}
}

// oracleFilters are value filters over "things" covering every type and
// operator; the differential test runs each, and they seed FuzzMatch.
var oracleFilters = []string{
	`value eq "work@example.com"`, `value eq "WORK@EXAMPLE.COM"`, `value co "EXAMPLE"`, `value sw "w"`, `value ew ".ORG"`,
	`value gt "k"`, `value ge "home@example.org"`, `value lt "b"`, `value le "100"`, `value co "%"`, `value co "_"`,
	`value co "!"`, `value eq "ülrich@ß.de"`, `value eq "k"`, `value sw "\u212a"`, `value co ""`, `value eq ""`,
	`value pr`, `value eq null`, `value ne null`, `value ne "x"`, `value ne "X"`, `value eq 100`, `value gt 1e2`,
	`code eq "abc"`, `code eq "AbC"`, `code co "b?c"`, `code co "*"`, `code sw "a*"`, `code ew "[d]"`, `code gt "Z"`,
	`code lt "a"`, `code eq "k"`, `code ne "k"`, `code pr`,
	`ref eq "HTTPS://X.EXAMPLE/a"`, `ref sw "urn:"`, `ref pr`, `ref eq null`,
	`primary eq true`, `primary eq false`, `primary eq "True"`, `primary eq "FALSE"`, `primary ne true`, `primary ne false`,
	`primary pr`, `primary eq null`,
	`n eq 3`, `n eq 3.0`, `n eq "3"`, `n gt 0`, `n ge 0`, `n lt 0`, `n le -1`, `n ne 3`, `n gt 9007199254740992`,
	`n eq 9007199254740993`, `n ge 9223372036854775807`, `n le -9223372036854775808`, `n eq 1e3`, `n pr`, `n eq null`,
	`x eq 4.5`, `x gt 0`, `x lt 0`, `x ge 100`, `x le -2.25`, `x eq 0`, `x ne 0`, `x gt 1e299`, `x lt 1e-299`, `x eq "4.5"`,
	`at gt "2015-10-10T14:38:21.8617979-07:00"`, `at eq "2015-10-10T21:38:21.8617979Z"`, `at ge "2015-10-10T21:38:21.8617979Z"`,
	`at lt "2024-01-01"`, `at lt "2024-01-01T00:00:00"`, `at le "2024-01-01T00:00:00.000000001Z"`, `at ne "2024-01-01T00:00:00Z"`,
	`at gt "9999-12-31T23:59:58Z"`, `at lt "0001-01-02T00:00:00+00:00"`, `at pr`, `at eq null`,
	`bin eq "QUJD"`, `bin eq "qujd"`, `bin ne "QUJD"`, `bin pr`,
	`not (value pr)`, `not (primary eq true)`, `not (n gt 0) and x pr`, `value pr and not (code pr)`,
	`primary eq true or n lt 0`, `(value co "example" or code eq "K") and not (primary eq false)`,
	`not (not (at pr))`, `not (x gt 0 or x lt 0)`, `value eq "x" and n eq 9007199254740993`,
	// Errors: both must refuse them.
	`nope eq "x"`, `things.value eq "x"`, `primary gt true`, `primary co "t"`, `n eq 1.5`, `x eq 1e999`, `at eq 5`,
	`at eq "2015-13-01T00:00:00Z"`, `bin gt "A"`, `value gt null`, `value eq true`, `emails[value pr]`,
}

func TestAgreesWithSQL(t *testing.T) {
	o := newOracle(t)
	for _, f := range oracleFilters {
		o.check(t, f)
	}
}

// FuzzMatch checks, for arbitrary filter text and an arbitrary JSON value:
// Match never panics; its errors are *Error and do not depend on the value
// (the same for {}); "not (f)" is the complement of f; the canonical text
// of the filter matches the same; and the SQL compiler agrees with Match on
// the oracle's stored values.
func FuzzMatch(f *testing.F) {
	for _, flt := range oracleFilters {
		f.Add(flt, oracleElems[0])
	}
	for i, el := range oracleElems {
		f.Add(oracleFilters[i%len(oracleFilters)], el)
	}
	f.Add(`value eq "x"`, `{"value":["x","y"],"VALUE":"z"}`)
	f.Add(`primary ne true`, `{"primary":null}`)
	o := newOracle(f)
	f.Fuzz(func(t *testing.T, flt, elemJSON string) {
		e, err := filter.Parse(flt)
		if err != nil {
			return
		}
		var el map[string]any
		if d := jsonDecoder(elemJSON); d.Decode(&el) != nil {
			el = nil
		}
		got, err := Match(e, el, o.things)
		_, errEmpty := Match(e, map[string]any{}, o.things)
		if (err == nil) != (errEmpty == nil) {
			t.Fatalf("%q: error %v on %s but %v on {}", flt, err, elemJSON, errEmpty)
		}
		if err != nil {
			var fe *Error
			if !errors.As(err, &fe) {
				t.Fatalf("%q: error %T is not *Error: %v", flt, err, err)
			}
			return
		}
		neg, err := Match(&filter.Not{X: e}, el, o.things)
		if err != nil || neg == got {
			t.Fatalf("%q on %s: Match %v, not(...) %v, %v", flt, elemJSON, got, neg, err)
		}
		e2, err := filter.Parse(e.String())
		if err != nil {
			t.Fatalf("canonical %q of %q does not parse: %v", e.String(), flt, err)
		}
		if again, err := Match(e2, el, o.things); err != nil || again != got {
			t.Fatalf("%q and its canonical form %q differ on %s: %v, %v (%v)", flt, e.String(), elemJSON, got, again, err)
		}
		o.check(t, flt)
	})
}

// jsonDecoder decodes numbers as json.Number, as the server does.
func jsonDecoder(s string) *json.Decoder {
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	return d
}
