package sqlstore

import (
	"context"
	"errors"
	"github.com/scimforge/scimforge/scim/tenant"
	"path/filepath"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/uptrace/bun"
)

func openThings(t *testing.T) *DB {
	t.Helper()
	m := fstest.MapFS{
		"sqlite/0001_init.tx.up.sql": {Data: []byte(`CREATE TABLE "things" ("tenant_id" TEXT, "id" TEXT PRIMARY KEY, "name" TEXT UNIQUE);`)},
		"history/0001_init.json":     {Data: []byte(`{"changes":[{"op":"createTable","table":"things","def":{"columns":[{"name":"tenant_id"},{"name":"id"},{"name":"name"}]}}]}`)},
	}
	db, err := Open(context.Background(), "sqlite://"+filepath.Join(t.TempDir(), "x.db"), m, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func insertThing(id, name string) func(ctx context.Context, tx bun.Tx) error {
	return func(ctx context.Context, tx bun.Tx) error {
		return Exec(ctx, tx, `INSERT INTO "things" ("id", "name") VALUES (?, ?)`, id, name)
	}
}

func thingsIn(t *testing.T, db *DB) map[string]string { return things(t, db) }

func things(t *testing.T, db *DB) map[string]string {
	t.Helper()
	rows, err := db.Query(context.Background(), `SELECT "id", "name" FROM "things"`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var id, name string
		if err := rows.Scan(&id, &name); err != nil {
			t.Fatal(err)
		}
		out[id] = name
	}
	return out
}

// batch runs fns as concurrent RunInTx calls that the committer takes as
// one batch: a first transaction holds the committer until all of them are
// queued. It returns each call's error, or the value it panicked with.
func batch(t *testing.T, db *DB, fns ...func(ctx context.Context, tx bun.Tx) error) []any {
	t.Helper()
	release := make(chan struct{})
	blocked := make(chan struct{})
	go func() {
		_ = db.RunInTx(context.Background(), func(ctx context.Context, tx bun.Tx) error {
			close(blocked)
			<-release
			return nil
		})
	}()
	<-blocked
	out := make([]any, len(fns))
	var wg sync.WaitGroup
	deadline := time.Now().Add(10 * time.Second)
	for i, fn := range fns {
		wg.Go(func() {
			defer func() {
				if v := recover(); v != nil {
					out[i] = v
				}
			}()
			if err := db.RunInTx(context.Background(), fn); err != nil {
				out[i] = err
			}
		})
		// One at a time, so that the batch runs them in this order.
		for len(db.commits.jobs) < i+1 {
			if time.Now().After(deadline) {
				t.Fatal("the jobs were not queued")
			}
			time.Sleep(100 * time.Microsecond)
		}
	}
	close(release)
	wg.Wait()
	return out
}

func TestGroupCommitIsolatesAFailingJob(t *testing.T) {
	db := openThings(t)
	if err := db.RunInTx(context.Background(), insertThing("0", "taken")); err != nil {
		t.Fatal(err)
	}
	hookErr := errors.New("hook says no")
	res := batch(t, db,
		insertThing("1", "one"),
		insertThing("2", "taken"), // unique violation
		func(ctx context.Context, tx bun.Tx) error { // writes, then fails
			if err := insertThing("3", "three")(ctx, tx); err != nil {
				return err
			}
			return hookErr
		},
		func(ctx context.Context, tx bun.Tx) error { // writes, then panics
			if err := insertThing("4", "four")(ctx, tx); err != nil {
				return err
			}
			panic("boom")
		},
		insertThing("5", "five"),
		insertThing("6", "one"), // conflicts with job 1 of the same batch
	)
	if res[0] != nil || res[4] != nil {
		t.Errorf("the good jobs failed: %v, %v", res[0], res[4])
	}
	if err, _ := res[1].(error); err == nil {
		t.Errorf("duplicate name: got %v", res[1])
	} else if col, ok := UniqueViolation(err); !ok || col != "things.name" {
		t.Errorf("duplicate name: %v is not a unique violation on things.name", err)
	}
	if res[2] != hookErr {
		t.Errorf("failing job: got %v, want its own error", res[2])
	}
	if res[3] != "boom" {
		t.Errorf("panicking job: got %v, want the panic on the caller's goroutine", res[3])
	}
	if err, _ := res[5].(error); err == nil {
		t.Errorf("a conflict with an earlier job of the batch was not reported: %v", res[5])
	}
	want := map[string]string{"0": "taken", "1": "one", "5": "five"}
	got := things(t, db)
	if len(got) != len(want) {
		t.Fatalf("stored %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("stored %v, want %v", got, want)
		}
	}
}

func TestGroupCommitSeesEarlierJobsAndSurvivesRestarts(t *testing.T) {
	db := openThings(t)
	// A later job of the batch reads what an earlier one wrote.
	var seen int
	res := batch(t, db,
		insertThing("a", "A"),
		func(ctx context.Context, tx bun.Tx) error {
			return tx.QueryRowContext(ctx, `SELECT count(*) FROM "things" WHERE "id" = 'a'`).Scan(&seen)
		})
	if res[0] != nil || res[1] != nil || seen != 1 {
		t.Fatalf("results %v, seen %d", res, seen)
	}
	// Many concurrent writers: every one is committed exactly once.
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Go(func() {
			id := string(rune('A'+i%26)) + string(rune('a'+i/26))
			if err := db.RunInTx(context.Background(), insertThing("m"+id, "n"+id)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := len(things(t, db)); n != 201 {
		t.Fatalf("%d rows, want 201", n)
	}
}

func TestRunInTxRefusesNestingAndClosedDB(t *testing.T) {
	db := openThings(t)
	err := db.RunInTx(context.Background(), func(ctx context.Context, tx bun.Tx) error {
		defer func() {
			if recover() == nil {
				t.Error("a nested RunInTx did not panic")
			}
		}()
		return db.RunInTx(ctx, insertThing("x", "y"))
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := db.RunInTx(ctx, insertThing("c", "c")); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: got %v", err)
	}
	db.Close()
	if err := db.RunInTx(context.Background(), insertThing("z", "z")); !errors.Is(err, ErrClosed) {
		t.Errorf("after Close: got %v", err)
	}
}

func TestInsertRowsSplitsLongInserts(t *testing.T) {
	db := openThings(t)
	var args []any
	for i := range 2*maxRowsPerInsert + 3 {
		args = append(args, string(rune('a'+i)), string(rune('A'+i)))
	}
	things := &Table{Name: "things", Columns: []string{"id", "name"}}
	err := db.RunInTx(tenant.With(context.Background(), "t1"), func(ctx context.Context, tx bun.Tx) error {
		return InsertRows(ctx, tx, things, args)
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(thingsIn(t, db)); n != 2*maxRowsPerInsert+3 {
		t.Fatalf("%d rows", n)
	}
	if got := rowsSQL("INSERT INTO t (a, b) VALUES ", 2, 3); got != "INSERT INTO t (a, b) VALUES (?, ?), (?, ?), (?, ?)" {
		t.Errorf("rowsSQL = %q", got)
	}
}
