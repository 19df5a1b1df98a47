package sqlfilter

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/scimforge/scimforge/scim/filter"
)

type golden struct {
	sql  string
	args []any
}

var goldenCases = []struct {
	filter         string
	sqlite, postgr golden
}{
	{`userName eq "bjensen"`,
		golden{`r."user_name" = ?`, []any{"bjensen"}},
		golden{`r."user_name" = ?`, []any{"bjensen"}}},
	{`externalId eq "X-1"`,
		golden{`r."external_id" = ?`, []any{"X-1"}},
		golden{`r."external_id" = ?`, []any{"X-1"}}},
	{`title ne "x"`,
		golden{`(r."title" IS NULL OR r."title" <> ?)`, []any{"x"}},
		golden{`(r."title" IS NULL OR r."title" <> ?)`, []any{"x"}}},
	{`userName co "a_b%!"`,
		golden{`r."user_name" LIKE ? ESCAPE '!'`, []any{"%a!_b!%!!%"}},
		golden{`r."user_name" LIKE ? ESCAPE '!'`, []any{"%a!_b!%!!%"}}},
	{`userName sw "J"`,
		golden{`r."user_name" LIKE ? ESCAPE '!'`, []any{"j%"}},
		golden{`r."user_name" LIKE ? ESCAPE '!'`, []any{"j%"}}},
	{`externalId co "a*b?[c]_%"`,
		golden{`r."external_id" GLOB ?`, []any{"*a[*]b[?][[]c]_%*"}},
		golden{`r."external_id" LIKE ? ESCAPE '!'`, []any{"%a*b?[c]!_!%%"}}},
	{`externalId ew "x"`,
		golden{`r."external_id" GLOB ?`, []any{"*x"}},
		golden{`r."external_id" LIKE ? ESCAPE '!'`, []any{"%x"}}},
	{`userName gt "m"`,
		golden{`r."user_name" > ?`, []any{"m"}},
		golden{`r."user_name" > ?`, []any{"m"}}},
	{`externalId le "m"`,
		golden{`r."external_id" <= ?`, []any{"m"}},
		golden{`r."external_id" <= ?`, []any{"m"}}},
	{`active eq "True"`,
		golden{`r."active" = ?`, []any{int64(1)}},
		golden{`r."active" = ?`, []any{true}}},
	{`active ne false`,
		golden{`(r."active" IS NULL OR r."active" <> ?)`, []any{int64(0)}},
		golden{`(r."active" IS NULL OR r."active" <> ?)`, []any{false}}},
	{`meta.created ge "2024-06-01T02:00:00.5+02:00"`,
		golden{`r."meta_created" >= ?`, []any{"2024-06-01T00:00:00.500000000Z"}},
		golden{`r."meta_created" >= ?`, []any{"2024-06-01T00:00:00.500000000Z"}}},
	{`meta.lastModified lt "2024-01-01T00:00:00"`,
		golden{`r."meta_last_modified" < ?`, []any{"2024-01-01T00:00:00.000000000Z"}},
		golden{`r."meta_last_modified" < ?`, []any{"2024-01-01T00:00:00.000000000Z"}}},
	{`level gt "3" and score le 1.5`,
		golden{`(r."acme_level" > ? AND r."acme_score" <= ?)`, []any{int64(3), 1.5}},
		golden{`(r."acme_level" > ? AND r."acme_score" <= ?)`, []any{int64(3), 1.5}}},
	{`title pr`,
		golden{`(r."title" IS NOT NULL AND r."title" <> '')`, nil},
		golden{`(r."title" IS NOT NULL AND r."title" <> '')`, nil}},
	{`active pr`,
		golden{`r."active" IS NOT NULL`, nil},
		golden{`r."active" IS NOT NULL`, nil}},
	{`title eq null or active eq null`,
		golden{`((r."title" IS NULL OR r."title" = '') OR r."active" IS NULL)`, nil},
		golden{`((r."title" IS NULL OR r."title" = '') OR r."active" IS NULL)`, nil}},
	{`name pr`,
		golden{`((r."name_family_name" IS NOT NULL AND r."name_family_name" <> '') OR (r."name_given_name" IS NOT NULL AND r."name_given_name" <> ''))`, nil},
		golden{`((r."name_family_name" IS NOT NULL AND r."name_family_name" <> '') OR (r."name_given_name" IS NOT NULL AND r."name_given_name" <> ''))`, nil}},
	{`emails pr`,
		golden{`EXISTS (SELECT 1 FROM "scim_user_emails" AS c1 WHERE c1."user_id" = r."id")`, nil},
		golden{`EXISTS (SELECT 1 FROM "scim_user_emails" AS c1 WHERE c1."user_id" = r."id")`, nil}},
	{`emails.value pr`,
		golden{`EXISTS (SELECT 1 FROM "scim_user_emails" AS c1 WHERE c1."user_id" = r."id" AND (c1."value" IS NOT NULL AND c1."value" <> ''))`, nil},
		golden{`EXISTS (SELECT 1 FROM "scim_user_emails" AS c1 WHERE c1."user_id" = r."id" AND (c1."value" IS NOT NULL AND c1."value" <> ''))`, nil}},
	{`emails.value eq null`,
		golden{`NOT EXISTS (SELECT 1 FROM "scim_user_emails" AS c1 WHERE c1."user_id" = r."id" AND (c1."value" IS NOT NULL AND c1."value" <> ''))`, nil},
		golden{`NOT EXISTS (SELECT 1 FROM "scim_user_emails" AS c1 WHERE c1."user_id" = r."id" AND (c1."value" IS NOT NULL AND c1."value" <> ''))`, nil}},
	{`emails co "@x"`,
		golden{`EXISTS (SELECT 1 FROM "scim_user_emails" AS c1 WHERE c1."user_id" = r."id" AND c1."value" LIKE ? ESCAPE '!')`, []any{"%@x%"}},
		golden{`EXISTS (SELECT 1 FROM "scim_user_emails" AS c1 WHERE c1."user_id" = r."id" AND c1."value" LIKE ? ESCAPE '!')`, []any{"%@x%"}}},
	{`emails[type eq "work" and value co "@x"]`,
		golden{`EXISTS (SELECT 1 FROM "scim_user_emails" AS c1 WHERE c1."user_id" = r."id" AND (c1."type" = ? AND c1."value" LIKE ? ESCAPE '!'))`, []any{"work", "%@x%"}},
		golden{`EXISTS (SELECT 1 FROM "scim_user_emails" AS c1 WHERE c1."user_id" = r."id" AND (c1."type" = ? AND c1."value" LIKE ? ESCAPE '!'))`, []any{"work", "%@x%"}}},
	{`emails[type eq "work"].value eq "a@b" and emails.primary eq true`,
		golden{`(EXISTS (SELECT 1 FROM "scim_user_emails" AS c1 WHERE c1."user_id" = r."id" AND (c1."type" = ? AND c1."value" = ?)) AND EXISTS (SELECT 1 FROM "scim_user_emails" AS c2 WHERE c2."user_id" = r."id" AND c2."primary" = ?))`, []any{"work", "a@b", int64(1)}},
		golden{`(EXISTS (SELECT 1 FROM "scim_user_emails" AS c1 WHERE c1."user_id" = r."id" AND (c1."type" = ? AND c1."value" = ?)) AND EXISTS (SELECT 1 FROM "scim_user_emails" AS c2 WHERE c2."user_id" = r."id" AND c2."primary" = ?))`, []any{"work", "a@b", true}}},
	{`emails[not (type eq "work")]`,
		golden{`EXISTS (SELECT 1 FROM "scim_user_emails" AS c1 WHERE c1."user_id" = r."id" AND NOT COALESCE((c1."type" = ?), FALSE))`, []any{"work"}},
		golden{`EXISTS (SELECT 1 FROM "scim_user_emails" AS c1 WHERE c1."user_id" = r."id" AND NOT COALESCE((c1."type" = ?), FALSE))`, []any{"work"}}},
	{`emails.type ne "work"`,
		golden{`(EXISTS (SELECT 1 FROM "scim_user_emails" AS c1 WHERE c1."user_id" = r."id" AND (c1."type" IS NULL OR c1."type" <> ?)) OR NOT EXISTS (SELECT 1 FROM "scim_user_emails" AS c2 WHERE c2."user_id" = r."id"))`, []any{"work"}},
		golden{`(EXISTS (SELECT 1 FROM "scim_user_emails" AS c1 WHERE c1."user_id" = r."id" AND (c1."type" IS NULL OR c1."type" <> ?)) OR NOT EXISTS (SELECT 1 FROM "scim_user_emails" AS c2 WHERE c2."user_id" = r."id"))`, []any{"work"}}},
	{`not (title eq "x")`,
		golden{`NOT COALESCE((r."title" = ?), FALSE)`, []any{"x"}},
		golden{`NOT COALESCE((r."title" = ?), FALSE)`, []any{"x"}}},
	{`groups.value eq "g1"`,
		golden{`EXISTS (SELECT 1 FROM "scim_group_members" AS c1 WHERE c1."member_id" = r."id" AND c1."group_id" = ?)`, []any{"g1"}},
		golden{`EXISTS (SELECT 1 FROM "scim_group_members" AS c1 WHERE c1."member_id" = r."id" AND c1."group_id" = ?)`, []any{"g1"}}},
	// A caseExact=false column holding text as written (not Folded): both
	// dialects fold the column with lower(), and the value is bound folded.
	{`groups[type eq "User" and type sw "U"]`,
		golden{`EXISTS (SELECT 1 FROM "scim_group_members" AS c1 WHERE c1."member_id" = r."id" AND (lower(c1."member_type") = ? AND lower(c1."member_type") LIKE ? ESCAPE '!'))`, []any{"user", "u%"}},
		golden{`EXISTS (SELECT 1 FROM "scim_group_members" AS c1 WHERE c1."member_id" = r."id" AND (lower(c1."member_type") = ? AND lower(c1."member_type") LIKE ? ESCAPE '!'))`, []any{"user", "u%"}}},
	{entURN + `:employeeNumber eq "701984" or employeeNumber sw "70"`,
		golden{`(r."ent_employee_number" = ? OR r."ent_employee_number" LIKE ? ESCAPE '!')`, []any{"701984", "70%"}},
		golden{`(r."ent_employee_number" = ? OR r."ent_employee_number" LIKE ? ESCAPE '!')`, []any{"701984", "70%"}}},
	{entURN + `:manager[value eq "u2"]`,
		golden{`r."ent_manager_value" = ?`, []any{"u2"}},
		golden{`r."ent_manager_value" = ?`, []any{"u2"}}},
	{`tags[value eq "x"]`,
		golden{`EXISTS (SELECT 1 FROM "scim_user_tags" AS c1 WHERE c1."user_id" = r."id" AND c1."value" = ?)`, []any{"x"}},
		golden{`EXISTS (SELECT 1 FROM "scim_user_tags" AS c1 WHERE c1."user_id" = r."id" AND c1."value" = ?)`, []any{"x"}}},
	{`userName eq "a" or userName eq "b" or userName eq "c" and (title pr or not (active eq true))`,
		golden{`(r."user_name" = ? OR r."user_name" = ? OR (r."user_name" = ? AND ((r."title" IS NOT NULL AND r."title" <> '') OR NOT COALESCE((r."active" = ?), FALSE))))`, []any{"a", "b", "c", int64(1)}},
		golden{`(r."user_name" = ? OR r."user_name" = ? OR (r."user_name" = ? AND ((r."title" IS NOT NULL AND r."title" <> '') OR NOT COALESCE((r."active" = ?), FALSE))))`, []any{"a", "b", "c", true}}},
}

func TestGolden(t *testing.T) {
	m := newUserMapping()
	for _, c := range goldenCases {
		e, err := filter.Parse(c.filter)
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			d    Dialect
			want golden
		}{{SQLite, c.sqlite}, {Postgres, c.postgr}} {
			sql, args, err := m.Compile(e, tc.d)
			if err != nil {
				t.Errorf("%v %s: %v", tc.d, c.filter, err)
				continue
			}
			if sql != tc.want.sql {
				t.Errorf("%v %s:\n got  %s\n want %s", tc.d, c.filter, sql, tc.want.sql)
			}
			if !reflect.DeepEqual(args, tc.want.args) {
				t.Errorf("%v %s: args %#v, want %#v", tc.d, c.filter, args, tc.want.args)
			}
			if n := placeholders(sql); n != len(args) {
				t.Errorf("%v %s: %d placeholders, %d args", tc.d, c.filter, n, len(args))
			}
		}
	}
}

// placeholders counts the "?" bind markers outside string literals (both
// dialects: the store numbers them for PostgreSQL when it runs the query).
func placeholders(sql string) int {
	n, inStr := 0, false
	for i := 0; i < len(sql); i++ {
		switch c := sql[i]; {
		case c == '\'':
			inStr = !inStr
		case !inStr && c == '?':
			n++
		}
	}
	return n
}

func TestCompileNil(t *testing.T) {
	m := newUserMapping()
	sql, args, err := m.Compile(nil, Postgres)
	if sql != "TRUE" || args != nil || err != nil {
		t.Fatalf("%q %v %v", sql, args, err)
	}
	if _, _, err := m.Compile(nil, Dialect(7)); err == nil {
		t.Fatal("unknown dialect accepted")
	}
	if m.From() != `"scim_users" AS r` {
		t.Fatal(m.From())
	}
}

// TestPlaceholderOrder checks, on a long or-chain, that each dialect
// writes one "?" per argument and binds the arguments in the order of their
// placeholders, with no numbered ($n) placeholder of its own: numbering is
// the store's job, and a $n here would be renumbered wrongly by it.
func TestPlaceholderOrder(t *testing.T) {
	m := newUserMapping()
	var parts []string
	for i := range 12 {
		parts = append(parts, fmt.Sprintf(`userName eq "x%d"`, i))
	}
	e, err := filter.Parse(strings.Join(parts, " or "))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []Dialect{SQLite, Postgres} {
		sql, args, err := m.Compile(e, d)
		if err != nil {
			t.Fatal(err)
		}
		if n := placeholders(sql); n != 12 || len(args) != 12 || strings.Contains(sql, "$") {
			t.Fatalf("%v: %d placeholders, %d args: %s", d, n, len(args), sql)
		}
		for i, a := range args {
			if want := fmt.Sprintf("x%d", i); a != want {
				t.Errorf("%v: arg %d = %v, want %s", d, i, a, want)
			}
		}
	}
}

func TestOrderByGolden(t *testing.T) {
	m := newUserMapping()
	cases := []struct {
		path           string
		desc           bool
		sqlite, postgr string
	}{
		{"userName", false, `r."user_name" ASC NULLS LAST`, `r."user_name" ASC NULLS LAST`},
		{"USERNAME", true, `r."user_name" DESC NULLS FIRST`, `r."user_name" DESC NULLS FIRST`},
		{"externalId", false, `r."external_id" ASC NULLS LAST`, `r."external_id" ASC NULLS LAST`},
		{"meta.created", true, `r."meta_created" DESC NULLS FIRST`, `r."meta_created" DESC NULLS FIRST`},
		{entURN + ":employeeNumber", false, `r."ent_employee_number" ASC NULLS LAST`, `r."ent_employee_number" ASC NULLS LAST`},
		{"emails",
			false,
			`(SELECT s."value" FROM "scim_user_emails" AS s WHERE s."user_id" = r."id" AND s."value" IS NOT NULL ORDER BY s."primary" DESC NULLS LAST, s."value" COLLATE NOCASE LIMIT 1) COLLATE NOCASE ASC NULLS LAST`,
			`(SELECT s."value" FROM "scim_user_emails" AS s WHERE s."user_id" = r."id" AND s."value" IS NOT NULL ORDER BY s."primary" DESC NULLS LAST, s."value" LIMIT 1) ASC NULLS LAST`},
		{"groups.value", true,
			`(SELECT s."group_id" FROM "scim_group_members" AS s WHERE s."member_id" = r."id" AND s."group_id" IS NOT NULL ORDER BY s."group_id" LIMIT 1) DESC NULLS FIRST`,
			`(SELECT s."group_id" FROM "scim_group_members" AS s WHERE s."member_id" = r."id" AND s."group_id" IS NOT NULL ORDER BY s."group_id" LIMIT 1) DESC NULLS FIRST`},
		// Not Folded: text as written, folded in SQL (SQLite by its
		// collation, PostgreSQL by lower()).
		{"groups.type", false,
			`(SELECT s."member_type" FROM "scim_group_members" AS s WHERE s."member_id" = r."id" AND s."member_type" IS NOT NULL ORDER BY s."member_type" COLLATE NOCASE LIMIT 1) COLLATE NOCASE ASC NULLS LAST`,
			`(SELECT lower(s."member_type") FROM "scim_group_members" AS s WHERE s."member_id" = r."id" AND s."member_type" IS NOT NULL ORDER BY lower(s."member_type") LIMIT 1) ASC NULLS LAST`},
	}
	for _, c := range cases {
		for _, tc := range []struct {
			d    Dialect
			want string
		}{{SQLite, c.sqlite}, {Postgres, c.postgr}} {
			got, err := m.OrderBy(c.path, c.desc, tc.d)
			if err != nil {
				t.Errorf("%v %s: %v", tc.d, c.path, err)
				continue
			}
			if got != tc.want {
				t.Errorf("%v %s:\n got  %s\n want %s", tc.d, c.path, got, tc.want)
			}
		}
	}
	tags, err := m.OrderBy("tags", false, Postgres)
	if want := `(SELECT s."value" FROM "scim_user_tags" AS s WHERE s."user_id" = r."id" AND s."value" IS NOT NULL ORDER BY s."ord", s."value" LIMIT 1) ASC NULLS LAST`; err != nil || tags != want {
		t.Errorf("tags: %v\n got  %s\n want %s", err, tags, want)
	}
	for _, bad := range []string{"name", "foo", `emails[type eq "work"].value`, "", "a b", entURN} {
		if _, err := m.OrderBy(bad, false, SQLite); err == nil {
			t.Errorf("OrderBy(%q) accepted", bad)
		} else if _, ok := err.(*Error); !ok {
			t.Errorf("OrderBy(%q): %T", bad, err)
		}
	}
}

func TestLookup(t *testing.T) {
	m := newUserMapping()
	for in, want := range map[string]string{
		"userName":                  "userName",
		"USERNAME":                  "userName",
		"name.FamilyName":           "name.familyName",
		"emails.VALUE":              "emails.value",
		"employeeNumber":            entURN + ":employeeNumber",
		acmeURN + ":employeeNumber": acmeURN + ":employeeNumber",
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:user:MANAGER.value": entURN + ":manager.value",
		coreURN + ":userName": "userName",
		"tags":                acmeURN + ":tags",
	} {
		p, err := filter.ParsePath(in)
		if err != nil {
			t.Fatal(err)
		}
		a, err := m.Lookup(p.Attr)
		if err != nil {
			t.Errorf("Lookup(%s): %v", in, err)
			continue
		}
		if a.Path != want {
			t.Errorf("Lookup(%s) = %s, want %s", in, a.Path, want)
		}
	}
	for _, in := range []string{"name", "emails", "nope", "urn:x:y:z"} {
		p, _ := filter.ParsePath(in)
		if _, err := m.Lookup(p.Attr); err == nil {
			t.Errorf("Lookup(%s) succeeded", in)
		}
	}
}

func TestValidate(t *testing.T) {
	if err := newUserMapping().Validate(); err != nil {
		t.Fatal(err)
	}
	mk := func(edit func(m *Mapping)) error {
		m := newUserMapping()
		edit(m)
		return m.Validate()
	}
	bad := map[string]func(m *Mapping){
		"no table":       func(m *Mapping) { m.Table = "" },
		"no schemas":     func(m *Mapping) { m.Schemas = nil },
		"dup schema":     func(m *Mapping) { m.Schemas = append(m.Schemas, strings.ToUpper(coreURN)) },
		"bad type":       func(m *Mapping) { m.Attributes[0].Type = "complex" },
		"no column":      func(m *Mapping) { m.Attributes[0].Column = "" },
		"bad path":       func(m *Mapping) { m.Attributes[0].Path = "a b" },
		"unknown schema": func(m *Mapping) { m.Attributes[0].Path = "urn:x:y:id" },
		"dup attribute": func(m *Mapping) {
			m.Attributes = append(m.Attributes, Attribute{Path: "USERNAME", Type: "string", Column: "x"})
		},
		"leaf and parent": func(m *Mapping) {
			m.Attributes = append(m.Attributes, Attribute{Path: "userName.x", Type: "string", Column: "x"})
		},
		"parent and leaf": func(m *Mapping) {
			m.Attributes = append(m.Attributes, Attribute{Path: "name", Type: "string", Column: "x"})
		},
		"mixed tables": func(m *Mapping) {
			m.Attributes = append(m.Attributes, Attribute{Path: "emails.display", Type: "string", Column: "x"})
		},
		"incomplete child": func(m *Mapping) { m.Attributes[0].Child = &Child{Table: "t"} },
		"valuePath":        func(m *Mapping) { m.Attributes[0].Path = `emails[type eq "x"].value` },
	}
	for name, edit := range bad {
		err := mk(edit)
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if _, ok := err.(*Error); ok {
			t.Errorf("%s: mapping errors must not be *Error (that means client error)", name)
		}
		// Compile reports the same error.
		m := newUserMapping()
		edit(m)
		e, _ := filter.Parse(`userName pr`)
		if _, _, err := m.Compile(e, SQLite); err == nil {
			t.Errorf("%s: Compile accepted a broken mapping", name)
		}
	}
}
