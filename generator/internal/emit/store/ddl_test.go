package store

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/scimforge/scimforge/generator/internal/model"
)

func basePlan() *plan {
	return &plan{Tables: []*table{{
		Name: "scim_things", PrimaryKey: []string{"id"},
		Columns: []column{{"id", "TEXT NOT NULL"}, {"name", "TEXT COLLATE NOCASE"}},
		Indexes: []index{{Name: "scim_things_name_idx", Columns: []string{"name"}}},
	}}}
}

func TestDiffAdditions(t *testing.T) {
	next := basePlan()
	next.Tables[0].Columns = append(next.Tables[0].Columns, column{"size", "INTEGER"})
	next.Tables[0].Indexes[0].Unique = true
	next.Tables = append(next.Tables, &table{Name: "scim_thing_tags", PrimaryKey: []string{"thing_id", "ord"},
		References: &ref{Column: "thing_id", Table: "scim_things"},
		Columns:    []column{{"thing_id", "TEXT NOT NULL"}, {"ord", "INTEGER NOT NULL"}, {"value", "TEXT"}}})
	stmts, notes, err := diff(basePlan(), next)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(stmts, "\n")
	for _, want := range []string{
		`ALTER TABLE "scim_things" ADD COLUMN "size" INTEGER;`,
		`DROP INDEX "scim_things_name_idx";`,
		`CREATE UNIQUE INDEX "scim_things_name_idx" ON "scim_things" ("name");`,
		`CREATE TABLE "scim_thing_tags" (`,
		`"thing_id" TEXT NOT NULL REFERENCES "scim_things" ("id") ON DELETE CASCADE`,
		`PRIMARY KEY ("thing_id", "ord")`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("migration lacks %s\n%s", want, got)
		}
	}
	if len(notes) != 3 {
		t.Errorf("notes = %v", notes)
	}
	if stmts, _, err := diff(basePlan(), basePlan()); err != nil || len(stmts) != 0 {
		t.Errorf("no change gave %v, %v", stmts, err)
	}
}

func TestDiffRefusesLossyChanges(t *testing.T) {
	removed := basePlan()
	removed.Tables[0].Columns = removed.Tables[0].Columns[:1]
	retyped := basePlan()
	retyped.Tables[0].Columns[1].Type = "INTEGER"
	dropped := &plan{}
	for name, next := range map[string]*plan{"removed column": removed, "retyped column": retyped, "dropped table": dropped} {
		if _, _, err := diff(basePlan(), next); err == nil || !strings.Contains(err.Error(), "does not write automatically") {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

// TestMigrationsAppend checks that existing migrations are kept verbatim and
// a change becomes the next numbered file.
func TestMigrationsAppend(t *testing.T) {
	m := &model.Model{}
	first, err := migrations(m, nil, "sqlite", basePlan())
	if err != nil {
		t.Fatal(err)
	}
	prev := fstest.MapFS{}
	for _, f := range first {
		prev[f.Path] = &fstest.MapFile{Data: f.Data}
	}
	if _, ok := prev["generated/store/migrations/sqlite/0001_init.tx.up.sql"]; !ok {
		t.Fatalf("no 0001: %v", first)
	}
	next := basePlan()
	next.Tables[0].Columns = append(next.Tables[0].Columns, column{"size", "INTEGER"})
	second, err := migrations(m, prev, "sqlite", next)
	if err != nil {
		t.Fatal(err)
	}
	paths := map[string]string{}
	for _, f := range second {
		paths[f.Path] = string(f.Data)
	}
	if paths["generated/store/migrations/sqlite/0001_init.tx.up.sql"] != string(prev["generated/store/migrations/sqlite/0001_init.tx.up.sql"].Data) {
		t.Error("0001 was rewritten")
	}
	if !strings.Contains(paths["generated/store/migrations/sqlite/0002_schema.tx.up.sql"], `ADD COLUMN "size"`) {
		t.Errorf("0002 missing or wrong: %v", paths)
	}
	same, err := migrations(m, prev, "sqlite", basePlan())
	if err != nil || len(same) != 2 {
		t.Errorf("unchanged plan produced %d files (err %v), want 0001 and plan.json", len(same), err)
	}
}
