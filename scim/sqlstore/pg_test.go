package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"github.com/scimforge/scimforge/internal/pgtest"
)

// TestMain stops the PostgreSQL server that tests start through
// pgtest.Shared (only if one of them ran).
func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func TestPGConfigTLS(t *testing.T) {
	t.Setenv("PGSSLMODE", "")
	os.Unsetenv("PGSSLMODE") // t.Setenv restores it afterwards
	for _, c := range []struct {
		url  string
		mode string // "" = refused
	}{
		{"postgres://u:hunter2@127.0.0.1:5432/db", "disable"},
		{"postgres://u:hunter2@localhost/db", "disable"},
		{"postgres://u:hunter2@[::1]:5432/db", "disable"},
		{"postgres://u@/db?host=/var/run/postgresql", "disable"},
		{"postgres://u:hunter2@db.example.com/db", "verify-full"},
		{"postgres://u:hunter2@127.0.0.1,db.example.com/db", "verify-full"},
		{"postgres://u:hunter2@db.example.com/db?sslmode=disable", "disable"},
		{"postgresql://u:hunter2@db.example.com/db?sslmode=verify-full", "verify-full"},
		{"postgres://u:hunter2@db.example.com/db?sslmode=verify-ca", "verify-ca"},
		{"postgres://u:hunter2@db.example.com/db?sslmode=require", ""},
		{"postgres://u:hunter2@127.0.0.1/db?sslmode=prefer", ""},
		{"postgres://u:hunter2@db.example.com/db?sslmode=allow", ""},
		{"postgres://u:hunter2@db.example.com/db?ssl=true", ""},
		{"postgres://u:hunter2@db.example.com/db?sslmode=bogus", ""},
		{"postgres://u:hunter2@127.0.0.1/db?sslmode=", ""},
		{"postgres://u:hunter2@db.example.com/db?connect_timeout=5&sslmode=verify-full&sslnegotiation=direct", "verify-full"},
		{"mysql://u:hunter2@db.example.com/db", ""},
	} {
		cfg, err := pgConfig(c.url)
		if c.mode == "" {
			if err == nil {
				t.Errorf("%s: accepted", c.url)
			} else if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("%s: error leaks the password: %v", c.url, err)
			} else if strings.Contains(c.url, "sslmode=require") && !strings.Contains(err.Error(), "verify-full") {
				t.Errorf("%s: error does not point to verify-full: %v", c.url, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.url, err)
			continue
		}
		if cfg.DefaultQueryExecMode != pgx.QueryExecModeExec {
			t.Errorf("%s: query exec mode %v", c.url, cfg.DefaultQueryExecMode)
		}
		tc := cfg.TLSConfig
		switch c.mode {
		case "disable":
			if tc != nil || len(cfg.Fallbacks) > 0 && cfg.Fallbacks[0].TLSConfig != nil {
				t.Errorf("%s: TLS configured; want none", c.url)
			}
		case "verify-full":
			if tc == nil || tc.InsecureSkipVerify || tc.ServerName == "" {
				t.Errorf("%s: TLS %+v; want verified with a server name", c.url, tc)
			}
		case "verify-ca":
			if tc == nil || tc.VerifyPeerCertificate == nil {
				t.Errorf("%s: TLS %+v; want chain verification", c.url, tc)
			}
		}
		for _, fb := range cfg.Fallbacks {
			if (fb.TLSConfig == nil) != (tc == nil) {
				t.Errorf("%s: fallback %s changes TLS", c.url, fb.Host)
			}
		}
	}

	t.Setenv("PGSSLMODE", "require")
	if _, err := pgConfig("postgres://u@db.example.com/db"); err == nil {
		t.Error("PGSSLMODE=require accepted")
	}
	t.Setenv("PGSSLMODE", "verify-full")
	if cfg, err := pgConfig("postgres://u@127.0.0.1/db"); err != nil || cfg.TLSConfig == nil {
		t.Errorf("PGSSLMODE=verify-full on loopback: %v, TLS %v; want verify-full kept", err, cfg != nil && cfg.TLSConfig != nil)
	}
}

// pgDB opens a fresh database of the shared test server through pgOpen.
func pgDB(t *testing.T, maxConns int) (*sql.DB, string) {
	t.Helper()
	u := pgtest.Shared(t).NewDatabase(t)
	db, err := pgOpen(context.Background(), u, maxConns)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, u
}

func TestPGOpen(t *testing.T) {
	db, u := pgDB(t, 0)
	if got := db.Stats().MaxOpenConnections; got != DefaultPGConns {
		t.Errorf("MaxOpenConnections = %d; want %d", got, DefaultPGConns)
	}
	// bun sends every statement with its values inlined: with pgx's
	// default mode each distinct text would stay prepared on the server.
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for i := range 50 {
		var n int
		if err := conn.QueryRowContext(ctx, fmt.Sprintf("SELECT %d + $1::int", i), 1).Scan(&n); err != nil || n != i+1 {
			t.Fatalf("SELECT: %d, %v", n, err)
		}
	}
	var prepared int
	if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM pg_prepared_statements").Scan(&prepared); err != nil {
		t.Fatal(err)
	}
	if prepared != 0 {
		t.Errorf("%d statements left prepared on the connection; want 0", prepared)
	}

	// Errors name the server but never a password.
	bad := strings.Replace(u, "postgres@", "postgres:hunter2@", 1)
	bad = strings.Replace(bad, fmt.Sprintf(":%d/", pgtest.Shared(t).Port()), ":1/", 1) // nothing listens on port 1
	if _, err := pgOpen(ctx, bad, 2); err == nil {
		t.Error("pgOpen to a closed port succeeded")
	} else if strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error leaks the password: %v", err)
	}
}

// testMigrations is a small bun migration folder: a table, an index, a row.
var testMigrations = fstest.MapFS{
	"20260101000001_widgets.tx.up.sql": {Data: []byte(
		"CREATE TABLE widgets (tenant_id bigint NOT NULL, id bigint NOT NULL, name text NOT NULL, PRIMARY KEY (tenant_id, id));\n" +
			"--bun:split\n" +
			"CREATE INDEX widgets_name ON widgets (tenant_id, name);\n")},
	"20260101000002_seed.tx.up.sql": {Data: []byte("INSERT INTO widgets VALUES (1, 1, 'one');\n")},
}

var testMigrations2 = fstest.MapFS{
	// Runs after the first set: it needs widgets.
	"20260101000001_gadgets.tx.up.sql": {Data: []byte(
		"CREATE TABLE gadgets AS SELECT tenant_id, id, name || '!' AS name FROM widgets;\n")},
}

func TestMigrateLockedConcurrent(t *testing.T) {
	u := pgtest.Shared(t).NewDatabase(t)
	ctx := context.Background()
	sets := []MigrationSet{{Table: "test_migrations", FS: testMigrations}, {Table: "test_migrations_2", FS: testMigrations2}}
	// Four instances, each with its own pool, start at once.
	const instances = 4
	dbs := make([]*bun.DB, instances)
	for i := range dbs {
		sqldb, err := pgOpen(ctx, u, 3)
		if err != nil {
			t.Fatal(err)
		}
		dbs[i] = bun.NewDB(sqldb, pgdialect.New())
		defer dbs[i].Close()
	}
	var wg sync.WaitGroup
	errs := make([]error, instances)
	start := make(chan struct{})
	for i, db := range dbs {
		wg.Go(func() {
			<-start
			errs[i] = migrateLocked(ctx, db, sets)
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("instance %d: %v", i, err)
		}
	}
	db := dbs[0]
	var widgets, gadgets, applied, applied2, advisory int
	for q, dst := range map[string]*int{
		"SELECT count(*) FROM widgets":                              &widgets,
		"SELECT count(*) FROM gadgets":                              &gadgets,
		"SELECT count(*) FROM test_migrations":                      &applied,
		"SELECT count(*) FROM test_migrations_2":                    &applied2,
		"SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'": &advisory,
	} {
		if err := db.QueryRowContext(ctx, q).Scan(dst); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if widgets != 1 || gadgets != 1 || applied != 2 || applied2 != 1 {
		t.Errorf("widgets %d, gadgets %d, migrations recorded %d and %d; want 1, 1, 2, 1", widgets, gadgets, applied, applied2)
	}
	if advisory != 0 {
		t.Errorf("%d advisory locks still held", advisory)
	}
	// Again, on a migrated database: nothing to do.
	if err := migrateLocked(ctx, db, sets); err != nil {
		t.Fatal(err)
	}
}

func TestMigrateLockedFailure(t *testing.T) {
	u := pgtest.Shared(t).NewDatabase(t)
	ctx := context.Background()
	sqldb, err := pgOpen(ctx, u, 2)
	if err != nil {
		t.Fatal(err)
	}
	db := bun.NewDB(sqldb, pgdialect.New())
	defer db.Close()
	broken := fstest.MapFS{
		"20260101000001_ok.tx.up.sql":     {Data: []byte("CREATE TABLE ok_one (id int);\n")},
		"20260101000002_broken.tx.up.sql": {Data: []byte("CREATE TABLE broken (id int);\n--bun:split\nSELECT no_such_column FROM broken;\n")},
	}
	sets := []MigrationSet{{Table: "m", FS: broken}}
	if err := migrateLocked(ctx, db, sets); err == nil || !strings.Contains(err.Error(), "no_such_column") {
		t.Fatalf("broken migration: %v", err)
	}
	var applied, advisory int
	var brokenExists bool
	if err := db.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM m), (SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'),
		to_regclass('broken') IS NOT NULL`).Scan(&applied, &advisory, &brokenExists); err != nil {
		t.Fatal(err)
	}
	if applied != 1 || brokenExists || advisory != 0 {
		t.Errorf("after a failed migration: %d recorded (want 1), its table rolled back %v, %d advisory locks held", applied, !brokenExists, advisory)
	}
	// The lock was released: another run is not blocked, and retries the
	// failed migration (it was not recorded before it ran).
	tctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	fixed := fstest.MapFS{
		"20260101000001_ok.tx.up.sql":     broken["20260101000001_ok.tx.up.sql"],
		"20260101000002_broken.tx.up.sql": {Data: []byte("CREATE TABLE broken (id int);\n")},
	}
	if err := migrateLocked(tctx, db, []MigrationSet{{Table: "m", FS: fixed}}); err != nil {
		t.Fatal(err)
	}

	// One connection cannot hold the lock and run the migrations.
	single, err := pgOpen(ctx, u, 1)
	if err != nil {
		t.Fatal(err)
	}
	sdb := bun.NewDB(single, pgdialect.New())
	defer sdb.Close()
	if err := migrateLocked(tctx, sdb, []MigrationSet{{Table: "m", FS: fixed}}); err == nil {
		t.Error("migrateLocked on a one-connection pool succeeded")
	}
}

func TestPGErrorClasses(t *testing.T) {
	db, _ := pgDB(t, 4)
	ctx := context.Background()
	for _, q := range []string{
		"CREATE TABLE parents (tenant_id bigint, id bigint, PRIMARY KEY (tenant_id, id))",
		"CREATE TABLE kids (tenant_id bigint, id bigint, parent bigint, CONSTRAINT kids_parent_fk FOREIGN KEY (tenant_id, parent) REFERENCES parents)",
		"CREATE UNIQUE INDEX parents_id_unique ON parents (tenant_id, id)",
		"CREATE TABLE counters (id int PRIMARY KEY, v int)",
		"INSERT INTO parents VALUES (1, 1)",
		"INSERT INTO counters VALUES (1, 0), (2, 0)",
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}

	_, err := db.ExecContext(ctx, "INSERT INTO parents VALUES (1, 1)")
	if c, ok := pgUniqueViolation(fmt.Errorf("wrapped: %w", err)); !ok || c != "parents_pkey" {
		t.Errorf("duplicate key: pgUniqueViolation(%v) = %q, %v; want parents_pkey", err, c, ok)
	}
	if pgForeignKeyViolation(err) || pgRetryable(err) {
		t.Errorf("duplicate key classed as foreign-key violation or retryable: %v", err)
	}

	_, err = db.ExecContext(ctx, "INSERT INTO kids VALUES (1, 1, 99)")
	if !pgForeignKeyViolation(err) {
		t.Errorf("missing parent: pgForeignKeyViolation(%v) = false", err)
	}
	if _, ok := pgUniqueViolation(err); ok {
		t.Errorf("missing parent classed as unique violation: %v", err)
	}

	for _, e := range []error{nil, errors.New("23505"), sql.ErrNoRows} {
		if _, ok := pgUniqueViolation(e); ok || pgForeignKeyViolation(e) || pgRetryable(e) {
			t.Errorf("%v classified as a PostgreSQL error", e)
		}
	}

	t.Run("deadlock", func(t *testing.T) {
		// Two transactions lock rows 1 and 2 in opposite orders.
		tx1, tx2 := begin(t, db, nil), begin(t, db, nil)
		defer tx1.Rollback()
		defer tx2.Rollback()
		for _, tx := range []*sql.Tx{tx1, tx2} {
			if _, err := tx.ExecContext(ctx, "SET LOCAL deadlock_timeout = '50ms'"); err != nil {
				t.Fatal(err)
			}
		}
		mustExec(t, tx1, "UPDATE counters SET v = v + 1 WHERE id = 1")
		mustExec(t, tx2, "UPDATE counters SET v = v + 1 WHERE id = 2")
		err1 := make(chan error, 1)
		go func() {
			_, err := tx1.ExecContext(ctx, "UPDATE counters SET v = v + 1 WHERE id = 2")
			if err != nil {
				tx1.Rollback() // frees row 1 for tx2
			}
			err1 <- err
		}()
		time.Sleep(20 * time.Millisecond) // let tx1 queue behind tx2
		_, e2 := tx2.ExecContext(ctx, "UPDATE counters SET v = v + 1 WHERE id = 1")
		if e2 != nil {
			tx2.Rollback() // frees row 2 for tx1
		}
		e1 := <-err1
		victims := 0
		for _, e := range []error{e1, e2} {
			if e == nil {
				continue
			}
			if !pgRetryable(e) {
				t.Errorf("deadlock error not retryable: %v", e)
			}
			if pe, _ := pgError(e); pe == nil || pe.Code != "40P01" {
				t.Errorf("error %v; want SQLSTATE 40P01", e)
			}
			victims++
		}
		if victims != 1 {
			t.Errorf("%d transactions failed (%v, %v); want exactly one deadlock victim", victims, e1, e2)
		}
	})

	t.Run("serialization", func(t *testing.T) {
		// Write skew: each transaction reads the total and adds a row
		// based on it; serializable isolation cannot commit both.
		ser := &sql.TxOptions{Isolation: sql.LevelSerializable}
		tx1, tx2 := begin(t, db, ser), begin(t, db, ser)
		defer tx1.Rollback()
		defer tx2.Rollback()
		var s1, s2 int
		if err := tx1.QueryRowContext(ctx, "SELECT sum(v) FROM counters").Scan(&s1); err != nil {
			t.Fatal(err)
		}
		if err := tx2.QueryRowContext(ctx, "SELECT sum(v) FROM counters").Scan(&s2); err != nil {
			t.Fatal(err)
		}
		mustExec(t, tx1, fmt.Sprintf("INSERT INTO counters VALUES (3, %d)", s1))
		_, err := tx2.ExecContext(ctx, fmt.Sprintf("INSERT INTO counters VALUES (4, %d)", s2))
		if err1 := tx1.Commit(); err1 != nil {
			t.Fatalf("first commit: %v", err1)
		}
		if err == nil {
			err = tx2.Commit()
		}
		if !pgRetryable(err) {
			t.Errorf("second serializable transaction: %v; want a retryable error", err)
		}
		if pe, _ := pgError(err); pe == nil || pe.Code != "40001" {
			t.Errorf("error %v; want SQLSTATE 40001", err)
		}
	})
}

func begin(t *testing.T, db *sql.DB, opt *sql.TxOptions) *sql.Tx {
	t.Helper()
	tx, err := db.BeginTx(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	return tx
}

func mustExec(t *testing.T, tx *sql.Tx, q string) {
	t.Helper()
	if _, err := tx.ExecContext(context.Background(), q); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}
