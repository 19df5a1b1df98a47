package sqlstore

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

func TestParseURL(t *testing.T) {
	for raw, want := range map[string]string{
		"sqlite://scimforge.db":            "scimforge.db",
		"sqlite://data/scim.db":            "data/scim.db",
		"sqlite:///var/lib/scimforge/x.db": "/var/lib/scimforge/x.db",
	} {
		loc, err := ParseURL(raw)
		if err != nil || loc.Path != want {
			t.Errorf("ParseURL(%q) = %+v, %v; want path %q", raw, loc, err, want)
		}
	}
	if loc, err := ParseURL("postgres://u:hunter2@db.example:5432/scim"); err != nil || loc.Driver != "postgres" || strings.Contains(loc.Path, "hunter2") {
		t.Errorf("postgres URL: %+v, %v", loc, err)
	}
	for _, raw := range []string{"", "sqlite://", "mysql://x", "sqlite://x.db?mode=ro", "mysql://u:hunter2@h/db", "postgres://u:hunter2@h:bad/db"} {
		_, err := ParseURL(raw)
		if err == nil {
			t.Errorf("ParseURL(%q) accepted", raw)
		} else if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("error leaks the password: %v", err)
		}
	}
}

func TestTimeFormatSortsAsText(t *testing.T) {
	a := FormatTime(time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC))
	b := FormatTime(time.Date(2024, 1, 2, 3, 4, 5, 100, time.UTC))
	if !(a < b) || len(a) != len(b) {
		t.Errorf("%s and %s do not sort as text", a, b)
	}
	if got, ok := CanonicalTime("2024-01-02T05:04:05+02:00"); !ok || got != "2024-01-02T03:04:05.000000000Z" {
		t.Errorf("CanonicalTime = %q, %v", got, ok)
	}
	if _, ok := CanonicalTime("2024-01-02"); ok {
		t.Error("date-only accepted as dateTime")
	}
}

func TestOpenRefusesADatabaseFromAnotherBuild(t *testing.T) {
	v1 := fstest.MapFS{
		"sqlite/0001_init.tx.up.sql": {Data: []byte(`CREATE TABLE "things" ("id" TEXT PRIMARY KEY);`)},
		"history/0001_init.json":     {Data: []byte(`{"changes":[{"op":"createTable","table":"things","def":{"columns":[{"name":"id"}]}}]}`)},
	}
	// The same migration name with other content: what a rewritten 0001 looks like.
	v2 := fstest.MapFS{
		"sqlite/0001_init.tx.up.sql": {Data: []byte(`CREATE TABLE "things" ("id" TEXT PRIMARY KEY, "size" INTEGER);`)},
		"history/0001_init.json":     {Data: []byte(`{"changes":[{"op":"createTable","table":"things","def":{"columns":[{"name":"id"},{"name":"size"}]}}]}`)},
	}
	url := "sqlite://" + filepath.Join(t.TempDir(), "x.db")
	db, err := Open(context.Background(), url, v1, Options{})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err = Open(context.Background(), url, v2, Options{})
	if err == nil || !strings.Contains(err.Error(), "missing column things.size") {
		t.Fatalf("got %v", err)
	}
	db, err = Open(context.Background(), url, v1, Options{})
	if err != nil {
		t.Fatalf("the matching build no longer opens: %v", err)
	}
	db.Close()
}
