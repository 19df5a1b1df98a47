package store

import (
	"fmt"
	"strings"

	"github.com/scimforge/scimforge/generator/internal/emit"
	"github.com/scimforge/scimforge/generator/internal/model"
	"github.com/scimforge/scimforge/scim/schema"
)

// sqliteType is the declared type of a column holding attribute a.
// Strings of caseExact=false attributes get COLLATE NOCASE, so equality,
// ordering and unique indexes on them ignore case (RFC 7643 §2.2).
func sqliteType(a *schema.Attribute) string {
	switch a.Type {
	case schema.Boolean:
		return "BOOLEAN"
	case schema.Integer:
		return "INTEGER"
	case schema.Decimal:
		return "REAL"
	case schema.DateTime:
		return "TEXT" // UTC, fixed width: see sqlstore.TimeFormat
	case schema.String, schema.Reference:
		if !a.CaseExact {
			return "TEXT COLLATE NOCASE"
		}
	}
	return "TEXT"
}

// sqliteDDL is the initial migration: every table and index of the model.
func sqliteDDL(m *model.Model) string {
	var b strings.Builder
	fmt.Fprintf(&b, "-- %s\n-- Tables for the resource types in schemas/ (SQLite).\n", emit.Header)
	stmt := func(format string, args ...any) {
		b.WriteString("--bun:split\n")
		fmt.Fprintf(&b, format, args...)
		b.WriteString("\n")
	}
	for _, r := range m.Resources {
		var cols []string
		cols = append(cols,
			`"id" TEXT NOT NULL PRIMARY KEY`,
			`"version" INTEGER NOT NULL`,
			`"created" TEXT NOT NULL`,
			`"last_modified" TEXT NOT NULL`,
			`"doc" TEXT NOT NULL`)
		for _, c := range r.Columns {
			t := sqliteType(c.Attr)
			if c.Secret {
				t = "TEXT"
			}
			cols = append(cols, fmt.Sprintf(`"%s" %s`, c.Name, t))
		}
		stmt("CREATE TABLE %q (\n  %s\n);", r.Table, strings.Join(cols, ",\n  "))
		stmt(`CREATE INDEX "%s_created_idx" ON %q ("created", "id");`, r.Table, r.Table)
		for _, c := range r.Columns {
			switch {
			case c.Unique:
				stmt(`CREATE UNIQUE INDEX "%s_%s_key" ON %q (%q);`, r.Table, c.Name, r.Table, c.Name)
			case c.Index:
				stmt(`CREATE INDEX "%s_%s_idx" ON %q (%q);`, r.Table, c.Name, r.Table, c.Name)
			}
		}
		for _, ch := range r.Children {
			cols := []string{
				fmt.Sprintf(`"%s" TEXT NOT NULL REFERENCES %q ("id") ON DELETE CASCADE`, ch.ParentColumn, r.Table),
				`"ord" INTEGER NOT NULL`,
			}
			for _, c := range ch.Columns {
				cols = append(cols, fmt.Sprintf(`"%s" %s`, c.Name, sqliteType(c.Attr)))
			}
			cols = append(cols, fmt.Sprintf(`PRIMARY KEY (%q, "ord")`, ch.ParentColumn))
			stmt("CREATE TABLE %q (\n  %s\n);", ch.Table, strings.Join(cols, ",\n  "))
			for _, ix := range ch.Index {
				stmt(`CREATE INDEX "%s_%s_idx" ON %q (%q);`, ch.Table, ix, ch.Table, ix)
			}
		}
	}
	if ms := m.Membership; ms != nil {
		stmt("CREATE TABLE %q (\n  %s\n);", ms.Table, strings.Join([]string{
			fmt.Sprintf(`"group_id" TEXT NOT NULL REFERENCES %q ("id") ON DELETE CASCADE`, ms.Group.Table),
			`"member_id" TEXT NOT NULL`,
			`"member_type" TEXT NOT NULL`,
			`PRIMARY KEY ("group_id", "member_id")`,
		}, ",\n  "))
		stmt(`CREATE INDEX "%s_member_idx" ON %q ("member_id");`, ms.Table, ms.Table)
	}
	return b.String()
}
