package store

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/scimforge/scimforge/generator/internal/model"
)

func basePlan() *plan {
	return &plan{Tables: []*table{{
		Name: "scim_things", PrimaryKey: key("id"),
		Columns: []column{{TenantColumn, kText, true}, {"id", kText, true}, {"name", kFolded, false}},
		Indexes: []index{{Name: "scim_things_name_idx", Columns: key("name")}},
	}}}
}

func sql(dialect string, changes []change) string {
	var out []string
	for _, c := range changes {
		out = append(out, render(dialect, c)...)
	}
	return strings.Join(out, "\n")
}

func TestDiffAdditions(t *testing.T) {
	next := basePlan()
	next.Tables[0].Columns = append(next.Tables[0].Columns, column{Name: "size", Kind: kInteger})
	next.Tables[0].Indexes[0].Unique = true
	next.Tables = append(next.Tables, &table{Name: "scim_thing_tags", PrimaryKey: key("thing_id", "ord"),
		References: &ref{Columns: key("thing_id"), Table: "scim_things", Key: key("id")},
		Columns:    []column{{TenantColumn, kText, true}, {"thing_id", kText, true}, {"ord", kInteger, true}, {"value", kText, false}}})
	changes, err := diff(basePlan(), next)
	if err != nil {
		t.Fatal(err)
	}
	for dialect, wants := range map[string][]string{
		"sqlite": {
			`ALTER TABLE "scim_things" ADD COLUMN "size" INTEGER;`,
			`DROP INDEX IF EXISTS "scim_things_name_idx";`,
			`CREATE UNIQUE INDEX "scim_things_name_idx" ON "scim_things" ("tenant_id", "name");`,
			`CREATE TABLE "scim_thing_tags" (`,
			`PRIMARY KEY ("tenant_id", "thing_id", "ord")`,
			`FOREIGN KEY ("tenant_id", "thing_id") REFERENCES "scim_things" ("tenant_id", "id") ON DELETE CASCADE`,
		},
		"postgres": {
			`ALTER TABLE "scim_things" ADD COLUMN "size" BIGINT;`,
			`"value" TEXT COLLATE "C"`,
			`"ord" BIGINT NOT NULL`,
		},
	} {
		got := sql(dialect, changes)
		for _, want := range wants {
			if !strings.Contains(got, want) {
				t.Errorf("%s migration lacks %s\n%s", dialect, want, got)
			}
		}
	}
	if len(changes) != 4 {
		t.Errorf("changes = %v", changes)
	}
	if changes, err := diff(basePlan(), basePlan()); err != nil || len(changes) != 0 {
		t.Errorf("no change gave %v, %v", changes, err)
	}
}

func TestDiffRefusesLossyChanges(t *testing.T) {
	removed := basePlan()
	removed.Tables[0].Columns = removed.Tables[0].Columns[:2]
	retyped := basePlan()
	retyped.Tables[0].Columns[2].Kind = kInteger
	notNull := basePlan()
	notNull.Tables[0].Columns = append(notNull.Tables[0].Columns, column{"x", kText, true})
	rekeyed := basePlan()
	rekeyed.Tables[0].PrimaryKey = []string{"id"}
	dropped := &plan{}
	for name, next := range map[string]*plan{"removed column": removed, "retyped column": retyped,
		"new NOT NULL column": notNull, "new primary key": rekeyed, "dropped table": dropped} {
		if _, err := diff(basePlan(), next); err == nil || !strings.Contains(err.Error(), "does not write automatically") {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

// TestEveryKeyLeadsWithTheTenant checks the plan of a model: every primary
// key, unique index, index and foreign key starts with tenant_id (what a
// deployment distributed by tenant needs).
func TestEveryKeyLeadsWithTheTenant(t *testing.T) {
	m := loadDevice(t)
	for _, tb := range buildPlan(m).Tables {
		if tb.PrimaryKey[0] != TenantColumn {
			t.Errorf("%s: primary key %v", tb.Name, tb.PrimaryKey)
		}
		for _, ix := range tb.Indexes {
			if ix.Columns[0] != TenantColumn {
				t.Errorf("%s: index %s on %v", tb.Name, ix.Name, ix.Columns)
			}
		}
		if r := tb.References; r != nil && (r.Columns[0] != TenantColumn || r.Key[0] != TenantColumn) {
			t.Errorf("%s: foreign key %+v", tb.Name, r)
		}
	}
}

// loadDevice loads the generator's golden "device" schema set.
func loadDevice(t *testing.T) *model.Model {
	t.Helper()
	m, err := model.Load(os.DirFS("../../../testdata/device"), "schemas")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

type fileLike struct {
	path string
	data []byte
}

func historyFile(name string, changes ...change) fileLike {
	b, _ := json.Marshal(history{Changes: changes})
	return fileLike{MigrationsDir + "history/" + name + ".json", b}
}

// TestBranchesMerge: two branches each add an attribute from the same
// history; after the merge the history holds both migrations, the plan is
// their union, and make generate has nothing more to write.
func TestBranchesMerge(t *testing.T) {
	base := basePlan()
	init := historyFile("20260101000000_init", change{Op: "createTable", Table: "scim_things", Def: base.Tables[0]})
	a := historyFile("20260102000000_schema", change{Op: "addColumn", Table: "scim_things", Column: &column{Name: "a", Kind: kText}})
	b := historyFile("20260102000001_schema", change{Op: "addColumn", Table: "scim_things", Column: &column{Name: "b", Kind: kText}})
	got := &plan{}
	for _, f := range []fileLike{init, a, b} {
		var h history
		json.Unmarshal(f.data, &h)
		if err := apply(got, h.Changes); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(got.Tables[0].Columns); n != 5 {
		t.Fatalf("merged plan has %d columns", n)
	}
	// The same column added on both branches is reported, naming the fix.
	dup := historyFile("20260102000002_schema", change{Op: "addColumn", Table: "scim_things", Column: &column{Name: "a", Kind: kText}})
	var h history
	json.Unmarshal(dup.data, &h)
	if err := apply(got, h.Changes); err == nil || !strings.Contains(err.Error(), "added twice") {
		t.Errorf("duplicate column: %v", err)
	}
}

// TestMigrationsAppend: a model change adds one migration (history, SQLite
// and PostgreSQL files) named after now, later than the last one, and an
// unchanged model adds nothing.
func TestMigrationsAppend(t *testing.T) {
	m := loadDevice(t)
	now := time.Date(2026, 12, 2, 19, 0, 0, 0, time.UTC)
	first, err := migrations(m, nil, now)
	if err != nil {
		t.Fatal(err)
	}
	prev := fstest.MapFS{}
	for _, f := range first {
		prev[f.Path] = &fstest.MapFile{Data: f.Data}
	}
	for _, p := range []string{"history/20261202190000_init.json", "sqlite/20261202190000_init.tx.up.sql", "postgres/20261202190000_init.tx.up.sql"} {
		if _, ok := prev[MigrationsDir+p]; !ok {
			t.Errorf("no %s in %v", p, first)
		}
	}
	again, err := migrations(m, prev, now.Add(time.Hour))
	if err != nil || len(again) != 0 {
		t.Errorf("unchanged model wrote %d files (err %v)", len(again), err)
	}
	// An earlier clock still names the next migration after the last.
	if got := nextName(now.Add(-time.Hour), "20261202190000_init"); got != "20261202190001" {
		t.Errorf("nextName = %s", got)
	}
}
