package sqlstore

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/scimforge/scimforge/internal/pgtest"
)

// thingsV1 is a history with a table whose code column is not unique;
// thingsV2 adds a migration that makes it unique per tenant, as the
// generator writes it when an existing attribute gets uniqueness "server".
var (
	thingsTable = `CREATE TABLE "things" ("tenant_id" TEXT NOT NULL, "id" TEXT NOT NULL, "code" TEXT, PRIMARY KEY ("tenant_id", "id"));`
	thingsV1    = fstest.MapFS{
		"sqlite/0001_init.tx.up.sql":   {Data: []byte(thingsTable)},
		"postgres/0001_init.tx.up.sql": {Data: []byte(thingsTable)},
		"history/0001_init.json": {Data: []byte(`{"changes":[{"op":"createTable","table":"things","def":{
			"columns":[{"name":"tenant_id"},{"name":"id"},{"name":"code"}],
			"indexes":[{"name":"things_code_idx","columns":["tenant_id","code"]}]}}]}`)},
	}
	uniqueCode = `DROP INDEX IF EXISTS "things_code_idx";` + "\n--bun:split\n" + `CREATE UNIQUE INDEX "things_code_key" ON "things" ("tenant_id", "code");`
	thingsV2   = fstest.MapFS{
		"sqlite/0001_init.tx.up.sql":     thingsV1["sqlite/0001_init.tx.up.sql"],
		"postgres/0001_init.tx.up.sql":   thingsV1["postgres/0001_init.tx.up.sql"],
		"history/0001_init.json":         thingsV1["history/0001_init.json"],
		"sqlite/0002_unique.tx.up.sql":   {Data: []byte(uniqueCode)},
		"postgres/0002_unique.tx.up.sql": {Data: []byte(uniqueCode)},
		"history/0002_unique.json": {Data: []byte(`{"changes":[
			{"op":"dropIndex","table":"things","index":{"name":"things_code_idx"}},
			{"op":"createIndex","table":"things","index":{"name":"things_code_key","columns":["tenant_id","code"],"unique":true}}]}`)},
	}
)

// TestMigrationListsDuplicates: a migration that makes a column holding
// duplicates unique stops the start with the values, tenants and ids, and
// changes nothing (the older build still opens the database; the index is
// not there).
func TestMigrationListsDuplicates(t *testing.T) {
	for _, eng := range []string{"sqlite", "postgres"} {
		t.Run(eng, func(t *testing.T) {
			ctx := context.Background()
			url := "sqlite://" + filepath.Join(t.TempDir(), "d.db")
			if eng == "postgres" {
				url = pgtest.Shared(t).NewDatabase(t)
			}
			db, err := Open(ctx, url, thingsV1, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.Write.ExecContext(ctx, `INSERT INTO things VALUES
				('default', 'b', 'X'), ('default', 'a', 'X'), ('default', 'c', 'Y'), ('acme', 'd', 'X'),
				('default', 'e', NULL), ('default', 'f', NULL), ('acme', 'g', 'Z'), ('acme', 'h', 'Z'), ('acme', 'i', 'Z')`); err != nil {
				t.Fatal(err)
			}
			if len(db.UniqueIndexes()) != 0 {
				t.Errorf("v1 has no unique index: %+v", db.UniqueIndexes())
			}
			db.Close()

			_, err = Open(ctx, url, thingsV2, Options{})
			var de *DuplicatesError
			if !errors.As(err, &de) {
				t.Fatalf("open v2: %v, want a DuplicatesError", err)
			}
			if _, ok := UniqueViolation(err); !ok {
				t.Errorf("the cause is lost: %v", err)
			}
			want := []Duplicate{
				{Index: "things_code_key", Table: "things", Columns: []string{"code"}, Tenant: "acme", Values: []string{"Z"}, Count: 3, IDs: []string{"g", "h", "i"}},
				{Index: "things_code_key", Table: "things", Columns: []string{"code"}, Tenant: "default", Values: []string{"X"}, Count: 2, IDs: []string{"a", "b"}},
			}
			if !reflect.DeepEqual(de.Duplicates, want) {
				t.Errorf("duplicates %+v\nwant %+v", de.Duplicates, want)
			}
			msg := err.Error()
			for _, w := range []string{`things.code = "X" in tenant "default": 2 rows, ids a, b`, `"Z" in tenant "acme": 3 rows`, "Nothing was changed"} {
				if !strings.Contains(msg, w) {
					t.Errorf("message lacks %q:\n%s", w, msg)
				}
			}
			t.Logf("%s: %s", eng, msg)

			db, err = Open(ctx, url, thingsV1, Options{})
			if err != nil {
				t.Fatalf("v1 no longer opens: %v", err)
			}
			defer db.Close()
			// The plain index is back (the migration rolled back as a
			// whole), the unique one is not there: a third X goes in.
			if _, err := db.Write.ExecContext(ctx, `INSERT INTO things VALUES ('default', 'j', 'X')`); err != nil {
				t.Errorf("the unique index was left behind: %v", err)
			}
		})
	}
}
