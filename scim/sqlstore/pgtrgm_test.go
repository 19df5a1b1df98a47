package sqlstore

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/scimforge/scimforge/internal/pgtest"
	history "github.com/scimforge/scimforge/migrations"
)

// TestPGTrgmPrivilege: a migration role that may create tables but not
// extensions stops at the trigram migration with a message that tells the
// operator what to run; once a superuser has created pg_trgm, the same
// role migrates (the failed migration was not recorded, so it is retried).
func TestPGTrgmPrivilege(t *testing.T) {
	u := pgtest.Shared(t).NewDatabase(t)
	ctx := context.Background()
	admin, err := pgOpen(ctx, u, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	role := fmt.Sprintf("scim_trgm_%d", time.Now().UnixNano())
	for _, q := range []string{
		"CREATE ROLE " + role + " LOGIN",
		// Tables in public, but no CREATE on the database, which a
		// trusted extension such as pg_trgm needs.
		"GRANT CREATE ON SCHEMA public TO " + role,
	} {
		if _, err := admin.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	// Roles belong to the whole server: drop this one's objects in the
	// test database, then the role (before pgtest drops the database).
	t.Cleanup(func() {
		for _, c := range []struct{ url, q string }{{u, "DROP OWNED BY " + role}, {pgtest.Shared(t).AdminURL(), "DROP ROLE " + role}} {
			db, err := pgOpen(context.Background(), c.url, 2)
			if err != nil {
				t.Error(err)
				return
			}
			if _, err := db.Exec(c.q); err != nil {
				t.Error(err)
			}
			db.Close()
		}
	})
	ru, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	ru.User = url.User(role)

	_, err = Open(ctx, ru.String(), history.FS, Options{})
	if err == nil || !strings.Contains(err.Error(), "CREATE EXTENSION pg_trgm") || !strings.Contains(err.Error(), "permission denied") {
		t.Fatalf("Open as a role that cannot create pg_trgm: %v", err)
	}
	t.Log(err)

	if _, err := admin.ExecContext(ctx, "CREATE EXTENSION pg_trgm"); err != nil {
		t.Fatal(err)
	}
	db, err := Open(ctx, ru.String(), history.FS, Options{})
	if err != nil {
		t.Fatalf("Open after CREATE EXTENSION: %v", err)
	}
	var n int
	if err := db.Write.QueryRowContext(ctx, "SELECT count(*) FROM pg_indexes WHERE indexname LIKE '%\\_trgm'").Scan(&n); err != nil || n != 4 {
		t.Errorf("trigram indexes: %d, %v", n, err)
	}
	db.Close()
}
