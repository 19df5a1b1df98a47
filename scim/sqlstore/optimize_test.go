package sqlstore

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	history "github.com/scimforge/scimforge/migrations"
)

// TestOpenGathersStatistics: a database holding data has planner
// statistics for its tables after Open, without anyone running ANALYZE.
func TestOpenGathersStatistics(t *testing.T) {
	ctx := context.Background()
	url := "sqlite://" + filepath.Join(t.TempDir(), "s.db")
	db, err := Open(ctx, url, history.FS, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 200 {
		if _, err := db.Write.ExecContext(ctx, `INSERT INTO scim_users (tenant_id, id, version, created, last_modified, doc, user_name)
			VALUES ('default', ?, 1, '2026-01-01T00:00:00.000000000Z', '2026-01-01T00:00:00.000000000Z', '{}', ?)`,
			fmt.Sprintf("id-%03d", i), fmt.Sprintf("user%03d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = Open(ctx, url, history.FS, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.Write.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'scim_users'`).Scan(&n); err != nil {
		t.Fatalf("no statistics table after Open: %v", err)
	}
	if n == 0 {
		t.Fatal("Open left scim_users without planner statistics")
	}
}
