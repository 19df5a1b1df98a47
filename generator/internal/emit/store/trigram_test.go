package store

import (
	"github.com/scimforge/scimforge/internal/fixture"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/scimforge/scimforge/generator/internal/model"
	"github.com/scimforge/scimforge/scim/sqlfilter"
)

// TestTrigramRule: with the fixture schemas (internal/fixture), the folded columns that have
// an index of their own get a trigram index, and nothing else does
// (externalId and the Acme badge number are caseExact; password is a
// secret, as is the Asset's secretCode; its serial is caseExact; the
// membership table holds ids).
func TestTrigramRule(t *testing.T) {
	m, err := model.Load(fixture.FS, fixture.Root)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, tb := range buildPlan(m).Tables {
		for _, tg := range tb.Trigrams {
			if tg.Name != trigramName(tb.Name, tg.Column) {
				t.Errorf("%s: trigram index %s on %s", tb.Name, tg.Name, tg.Column)
			}
			got[tb.Name] = append(got[tb.Name], tg.Column)
		}
	}
	want := map[string][]string{
		"scim_users":       {"user_name", "display_name"},
		"scim_user_emails": {"value"},
		"scim_groups":      {"display_name"},
		"scim_assets":      {"tag"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("trigram indexes %v, want %v", got, want)
	}
}

// TestTrigramMigrations: adding a trigram index to an existing table is
// one createTrigramIndex change, rendered as an FTS5 table with its
// triggers and a rebuild (SQLite) or a GIN index after CREATE EXTENSION
// pg_trgm (PostgreSQL); removing it drops what was created; the history
// applies and replays without a further change.
func TestTrigramMigrations(t *testing.T) {
	withTrgm := basePlan()
	withTrgm.Tables[0].Trigrams = []trigram{{Name: "scim_things_name_trgm", Column: "name"}}

	changes, err := diff(basePlan(), withTrgm)
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 1 || changes[0].Op != "createTrigramIndex" || *changes[0].Trigram != withTrgm.Tables[0].Trigrams[0] {
		t.Fatalf("changes = %+v", changes)
	}
	sqliteWants := []string{
		`CREATE VIRTUAL TABLE "scim_things_name_trgm" USING fts5("name", content='scim_things', content_rowid='rowid', tokenize='trigram case_sensitive 1', detail='none');`,
		`CREATE TRIGGER "scim_things_name_trgm_ai" AFTER INSERT ON "scim_things" BEGIN`,
		`CREATE TRIGGER "scim_things_name_trgm_ad" AFTER DELETE ON "scim_things" BEGIN`,
		`CREATE TRIGGER "scim_things_name_trgm_au" AFTER UPDATE OF "name" ON "scim_things" WHEN old."name" IS NOT new."name" BEGIN`,
		`VALUES ('delete', old.rowid, old."name");`,
		`INSERT INTO "scim_things_name_trgm"(rowid, "name") VALUES (new.rowid, new."name");`,
		`INSERT INTO "scim_things_name_trgm"("scim_things_name_trgm") VALUES ('rebuild');`,
	}
	if got := sql("sqlite", changes); !sqlfilter.SQLiteTrigrams && strings.Contains(got, "fts5") {
		t.Errorf("SQLite trigram tables are off, yet the migration creates one:\n%s", got)
	}
	if got := strings.Join(createTrigram("sqlite", "scim_things", withTrgm.Tables[0].Trigrams[0]), "\n"); sqlfilter.SQLiteTrigrams != (got != "") {
		t.Errorf("sqlfilter.SQLiteTrigrams=%v, SQLite rendering %q", sqlfilter.SQLiteTrigrams, got)
	}
	wantsBy := map[string][]string{
		"postgres": {
			`CREATE INDEX "scim_things_name_trgm" ON "scim_things" USING gin ("name" gin_trgm_ops);`,
		},
	}
	if sqlfilter.SQLiteTrigrams {
		wantsBy["sqlite"] = sqliteWants
	}
	for dialect, wants := range wantsBy {
		got := sql(dialect, changes)
		for _, want := range wants {
			if !strings.Contains(got, want) {
				t.Errorf("%s migration lacks %s\n%s", dialect, want, got)
			}
		}
	}

	drops, err := diff(withTrgm, basePlan())
	if err != nil {
		t.Fatal(err)
	}
	if len(drops) != 1 || drops[0].Op != "dropTrigramIndex" {
		t.Fatalf("drops = %+v", drops)
	}
	if got := sql("sqlite", drops); sqlfilter.SQLiteTrigrams && (strings.Count(got, "DROP TRIGGER IF EXISTS") != 3 || !strings.Contains(got, `DROP TABLE IF EXISTS "scim_things_name_trgm";`)) || !sqlfilter.SQLiteTrigrams && got != "" {
		t.Errorf("sqlite drop:\n%s", got)
	}
	if got := sql("postgres", drops); got != `DROP INDEX IF EXISTS "scim_things_name_trgm";` {
		t.Errorf("postgres drop: %s", got)
	}

	// Replayed from history files: the migration that adds the index, then
	// nothing more to write.
	p := basePlan()
	if err := apply(p, changes); err != nil {
		t.Fatal(err)
	}
	if again, err := diff(p, withTrgm); err != nil || len(again) != 0 {
		t.Errorf("after apply: %v %v", again, err)
	}
	if err := apply(p, changes); err == nil || !strings.Contains(err.Error(), "created twice") {
		t.Errorf("created twice: %v", err)
	}
	if err := apply(p, drops); err != nil || len(p.Tables[0].Trigrams) != 0 {
		t.Errorf("drop: %v %v", err, p.Tables[0].Trigrams)
	}
}

// TestTrigramExtensionOnce: a PostgreSQL migration that creates trigram
// indexes (here with a new table) starts with CREATE EXTENSION pg_trgm,
// once; SQLite's has no such statement.
func TestTrigramExtensionOnce(t *testing.T) {
	m, err := model.Load(fixture.FS, fixture.Root)
	if err != nil {
		t.Fatal(err)
	}
	files, err := migrations(m, fstest.MapFS{}, time.Date(2026, 12, 2, 19, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		n := strings.Count(string(f.Data), pgTrgmExtension)
		switch {
		case strings.Contains(f.Path, "/postgres/"):
			if n != 1 || !strings.Contains(string(f.Data), "gin_trgm_ops") {
				t.Errorf("%s: CREATE EXTENSION %d times", f.Path, n)
			}
			if strings.Index(string(f.Data), pgTrgmExtension) > strings.Index(string(f.Data), "gin_trgm_ops") {
				t.Errorf("%s: the extension comes after its first use", f.Path)
			}
		case strings.Contains(f.Path, "/sqlite/"):
			if n != 0 || strings.Contains(string(f.Data), "fts5(") != sqlfilter.SQLiteTrigrams {
				t.Errorf("%s: %d CREATE EXTENSION, fts5 %v", f.Path, n, strings.Contains(string(f.Data), "fts5("))
			}
		}
	}
}
