package feed

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/uptrace/bun"

	"github.com/scimforge/scimforge/internal/pgtest"
	"github.com/scimforge/scimforge/scim/sqlfilter"
	"github.com/scimforge/scimforge/scim/sqlstore"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// fixture is a store with one table, things, that the tests write next to
// the events, as the engine writes resources.
var fixture = fstest.MapFS{
	"sqlite/0001_init.tx.up.sql":   {Data: []byte(`CREATE TABLE things (tenant_id TEXT NOT NULL, id TEXT NOT NULL, PRIMARY KEY (tenant_id, id));`)},
	"postgres/0001_init.tx.up.sql": {Data: []byte(`CREATE TABLE things (tenant_id TEXT NOT NULL, id TEXT NOT NULL, PRIMARY KEY (tenant_id, id));`)},
	"history/0001_init.json":       {Data: []byte(`{"changes":[{"op":"createTable","table":"things","def":{"columns":[{"name":"tenant_id"},{"name":"id"}]}}]}`)},
}

var engines = []string{"sqlite", "postgres"}

// openStore opens a fresh store of engine with the feed's tables.
func openStore(t testing.TB, engine string) *sqlstore.DB {
	t.Helper()
	return openURL(t, newURL(t, engine))
}

func newURL(t testing.TB, engine string) string {
	t.Helper()
	if engine == "postgres" {
		return pgtest.Shared(t).NewDatabase(t)
	}
	return "sqlite://" + filepath.Join(t.TempDir(), "feed.db")
}

func openURL(t testing.TB, url string) *sqlstore.DB {
	t.Helper()
	db, err := sqlstore.Open(context.Background(), url, fixture, sqlstore.Options{NoCache: true, Extra: []sqlstore.MigrationSet{MigrationSet()}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func forEngines(t *testing.T, f func(t *testing.T, engine string)) {
	for _, e := range engines {
		t.Run(e, func(t *testing.T) { f(t, e) })
	}
}

var errFail = errors.New("deliberate failure")

// write commits a thing and its events, as an engine write does; fail
// rolls the transaction back after Append.
func write(ctx context.Context, db *sqlstore.DB, tenant, id string, fail bool, n int) ([]*Event, error) {
	var evs []*Event
	err := db.RunInTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		evs = evs[:0]
		if err := sqlstore.Exec(ctx, tx, `INSERT INTO things (tenant_id, id) VALUES (?, ?)`, tenant, id); err != nil {
			return err
		}
		for i := range n {
			evs = append(evs, &Event{Tenant: tenant, ResourceType: "User", ID: id, Op: OpCreate, Version: int64(i + 1),
				Changed: []string{"userName", "name.givenName"}})
		}
		if err := Append(ctx, tx, db.Dialect, evs...); err != nil {
			return err
		}
		if fail {
			return errFail
		}
		return nil
	})
	if err == nil {
		Notify()
	}
	return evs, err
}

// readAll reads every event of tenant.
func readAll(t testing.TB, db *sqlstore.DB, tenant string) []Event {
	t.Helper()
	var all []Event
	var after int64
	for {
		evs, err := Read(context.Background(), db.Write, tenant, after, 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) == 0 {
			return all
		}
		all = append(all, evs...)
		after = evs[len(evs)-1].Seq
	}
}

// checkGapless fails unless evs are seqs from..from+len-1.
func checkGapless(t testing.TB, evs []Event, from int64) {
	t.Helper()
	for i, ev := range evs {
		if ev.Seq != from+int64(i) {
			t.Fatalf("event %d has seq %d, want %d (gap or disorder)", i, ev.Seq, from+int64(i))
		}
	}
}

// TestAppendConcurrent: 8 goroutines append for two tenants, some
// transactions roll back after Append, and a reader follows each tenant
// with seq > cursor meanwhile: the sequences are gapless, hold exactly the
// committed writes, and the reader never sees a later seq before an
// earlier one (which a sequence allocated out of commit order would show).
func TestAppendConcurrent(t *testing.T) {
	forEngines(t, func(t *testing.T, engine string) {
		db := openStore(t, engine)
		ctx := context.Background()
		const workers, per = 8, 40
		tenants := []string{"acme", "globex"}
		var mu sync.Mutex
		committed := map[string]map[string]int{} // tenant -> id -> events
		for _, tn := range tenants {
			committed[tn] = map[string]int{}
		}
		stop := make(chan struct{})
		var readers sync.WaitGroup
		readErr := make(chan error, len(tenants))
		for _, tn := range tenants {
			readers.Add(1)
			go func() {
				defer readers.Done()
				var after int64
				for {
					select {
					case <-stop:
						return
					default:
					}
					evs, err := Read(ctx, db.Write, tn, after, 50)
					if err != nil {
						readErr <- err
						return
					}
					for i, ev := range evs {
						if ev.Seq != after+int64(i)+1 {
							readErr <- fmt.Errorf("%s: reader after %d got seq %d at position %d: an event became visible before an earlier one", tn, after, ev.Seq, i)
							return
						}
					}
					if len(evs) > 0 {
						after = evs[len(evs)-1].Seq
					}
				}
			}()
		}
		var wg sync.WaitGroup
		errs := make(chan error, workers)
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range per {
					tn := tenants[(w+i)%2]
					id := fmt.Sprintf("w%d-%d", w, i)
					fail := i%7 == 3
					n := 1 + i%3 // some writes append several events
					_, err := write(ctx, db, tn, id, fail, n)
					switch {
					case fail && !errors.Is(err, errFail):
						errs <- fmt.Errorf("%s: want the deliberate failure, got %v", id, err)
						return
					case !fail && err != nil:
						errs <- fmt.Errorf("%s: %w", id, err)
						return
					case !fail:
						mu.Lock()
						committed[tn][id] = n
						mu.Unlock()
					}
				}
			}()
		}
		wg.Wait()
		close(stop)
		readers.Wait()
		close(errs)
		close(readErr)
		for err := range errs {
			t.Fatal(err)
		}
		for err := range readErr {
			t.Fatal(err)
		}
		for _, tn := range tenants {
			evs := readAll(t, db, tn)
			checkGapless(t, evs, 1)
			got := map[string]int{}
			for _, ev := range evs {
				got[ev.ID]++
				if ev.Tenant != tn || ev.ResourceType != "User" || ev.Op != OpCreate || !slices.Equal(ev.Changed, []string{"userName", "name.givenName"}) || ev.Time.IsZero() {
					t.Fatalf("%s: stored event %+v", tn, ev)
				}
			}
			want := committed[tn]
			if len(got) != len(want) {
				t.Fatalf("%s: events for %d resources, want %d committed", tn, len(got), len(want))
			}
			for id, n := range want {
				if got[id] != n {
					t.Errorf("%s/%s: %d events, want %d", tn, id, got[id], n)
				}
			}
			if head, err := Head(ctx, db.Write, tn); err != nil || head != int64(len(evs)) {
				t.Errorf("%s: head %d (%v), want %d", tn, head, err, len(evs))
			}
		}
	})
}

// TestRollbackLeavesNoGap: a transaction that appended and rolled back
// takes no seq; the next commit gets the number it would have had.
func TestRollbackLeavesNoGap(t *testing.T) {
	forEngines(t, func(t *testing.T, engine string) {
		db := openStore(t, engine)
		ctx := context.Background()
		if _, err := write(ctx, db, "acme", "a", true, 2); !errors.Is(err, errFail) {
			t.Fatal(err)
		}
		if evs := readAll(t, db, "acme"); len(evs) != 0 {
			t.Fatalf("rolled back events stored: %+v", evs)
		}
		evs, err := write(ctx, db, "acme", "b", false, 2)
		if err != nil {
			t.Fatal(err)
		}
		if evs[0].Seq != 1 || evs[1].Seq != 2 {
			t.Fatalf("seqs after a rollback: %d, %d; want 1, 2", evs[0].Seq, evs[1].Seq)
		}
		// A failure of the write itself (duplicate key) after another
		// tenant's append in the same transaction rolls both back.
		err = db.RunInTx(ctx, func(ctx context.Context, tx bun.Tx) error {
			if err := Append(ctx, tx, db.Dialect, &Event{Tenant: "globex", ResourceType: "Group", ID: "g", Op: OpDelete, Version: 3}); err != nil {
				return err
			}
			return sqlstore.Exec(ctx, tx, `INSERT INTO things (tenant_id, id) VALUES (?, ?)`, "acme", "b")
		})
		if err == nil {
			t.Fatal("duplicate insert committed")
		}
		if h, _ := Head(ctx, db.Write, "globex"); h != 0 {
			t.Fatalf("globex head %d after rollback, want 0", h)
		}
		stored := readAll(t, db, "acme")
		checkGapless(t, stored, 1)
		if len(stored) != 2 || stored[1].Version != 2 || stored[0].ID != "b" {
			t.Fatalf("stored %+v", stored)
		}
	})
}

func TestAppendValidates(t *testing.T) {
	db := openStore(t, "sqlite")
	ctx := context.Background()
	for _, ev := range []*Event{
		{ResourceType: "User", ID: "x", Op: OpCreate},
		{Tenant: "a", ID: "x", Op: OpCreate},
		{Tenant: "a", ResourceType: "User", ID: "x", Op: "upsert"},
		nil,
	} {
		err := db.RunInTx(ctx, func(ctx context.Context, tx bun.Tx) error { return Append(ctx, tx, db.Dialect, ev) })
		if err == nil {
			t.Errorf("%+v accepted", ev)
		}
	}
	err := db.RunInTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		return Append(ctx, tx, sqlfilter.Dialect(9), &Event{Tenant: "a", ResourceType: "User", ID: "x", Op: OpCreate})
	})
	if err == nil {
		t.Error("unknown dialect accepted")
	}
	// Many events in one call: more than one INSERT's worth.
	var evs []*Event
	for i := range 40 {
		evs = append(evs, &Event{Tenant: "a", ResourceType: "Group", ID: fmt.Sprint(i), Op: OpPatch, Version: 2,
			MembersAdded: []string{"u1", "u2"}, MembersRemoved: []string{"u3"}})
	}
	if err := db.RunInTx(ctx, func(ctx context.Context, tx bun.Tx) error { return Append(ctx, tx, db.Dialect, evs...) }); err != nil {
		t.Fatal(err)
	}
	got := readAll(t, db, "a")
	checkGapless(t, got, 1)
	if len(got) != 40 || got[39].ID != "39" || !slices.Equal(got[5].MembersAdded, []string{"u1", "u2"}) || !slices.Equal(got[5].MembersRemoved, []string{"u3"}) || got[5].Changed != nil {
		t.Fatalf("read back %d events: %+v", len(got), got[5])
	}
}

func TestCursor(t *testing.T) {
	forEngines(t, func(t *testing.T, engine string) {
		db := openStore(t, engine)
		f := New(db.Write, db.Dialect)
		ctx := context.Background()
		if c, err := f.Cursor(ctx, "app", "acme"); err != nil || c != 0 {
			t.Fatalf("new cursor %d, %v", c, err)
		}
		must(t, f.Commit(ctx, "app", "acme", 5))
		must(t, f.Commit(ctx, "app", "acme", 3)) // late: ignored
		must(t, f.Commit(ctx, "other", "acme", 1))
		must(t, f.Commit(ctx, "app", "globex", 9))
		for _, c := range []struct {
			name, tenant string
			want         int64
		}{{"app", "acme", 5}, {"other", "acme", 1}, {"app", "globex", 9}, {"app", "initech", 0}} {
			if got, err := f.Cursor(ctx, c.name, c.tenant); err != nil || got != c.want {
				t.Errorf("cursor %s/%s = %d, %v; want %d", c.name, c.tenant, got, err, c.want)
			}
		}
		must(t, f.DeleteCursor(ctx, "app", "acme"))
		if c, _ := f.Cursor(ctx, "app", "acme"); c != 0 {
			t.Errorf("deleted cursor at %d", c)
		}
		if f.Commit(ctx, "", "acme", 1) == nil || f.Commit(ctx, "app", "acme", -1) == nil {
			t.Error("bad cursor commit accepted")
		}
		// Commit in the consumer's own transaction rolls back with it.
		err := db.RunInTx(ctx, func(ctx context.Context, tx bun.Tx) error {
			if err := Commit(ctx, tx, "app", "globex", 20); err != nil {
				return err
			}
			return errFail
		})
		if !errors.Is(err, errFail) {
			t.Fatal(err)
		}
		if c, _ := f.Cursor(ctx, "app", "globex"); c != 9 {
			t.Errorf("cursor moved by a rolled back transaction: %d", c)
		}
	})
}

// TestConsume: a consumer resumes from its durable cursor after it stops,
// and an in-process Notify wakes it at once (the poll interval is long).
func TestConsume(t *testing.T) {
	forEngines(t, func(t *testing.T, engine string) {
		db := openStore(t, engine)
		f := New(db.Write, db.Dialect)
		f.PollInterval = time.Hour
		ctx := context.Background()
		for i := range 3 {
			if _, err := write(ctx, db, "acme", fmt.Sprint("a", i), false, 1); err != nil {
				t.Fatal(err)
			}
		}
		got := make(chan Event, 100)
		run := func(stopAfter int64) error {
			cctx, cancel := context.WithCancel(ctx)
			defer cancel()
			return f.Consume(cctx, "app", "acme", 2, func(_ context.Context, evs []Event) error {
				for _, ev := range evs {
					got <- ev
				}
				if evs[len(evs)-1].Seq >= stopAfter {
					return errFail // stop; the cursor stays before this batch
				}
				return nil
			})
		}
		// The first run fails on the batch that reaches seq 3: the cursor
		// stays after the previous batch (seq 2).
		if err := run(3); !errors.Is(err, errFail) {
			t.Fatal(err)
		}
		if c, _ := f.Cursor(ctx, "app", "acme"); c != 2 {
			t.Fatalf("cursor %d after a failed batch, want 2", c)
		}
		// The second run gets seq 3 again, then waits; a write and a
		// Notify wake it well before the hour-long poll.
		done := make(chan error, 1)
		go func() { done <- run(4) }()
		time.Sleep(50 * time.Millisecond)
		start := time.Now()
		if _, err := write(ctx, db, "acme", "late", false, 1); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-done:
			if !errors.Is(err, errFail) {
				t.Fatal(err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("Notify did not wake the consumer")
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("woke after %s", d)
		}
		close(got)
		var seqs []int64
		for ev := range got {
			seqs = append(seqs, ev.Seq)
		}
		if !slices.Equal(seqs, []int64{1, 2, 3, 3, 4}) {
			t.Fatalf("consumed %v, want [1 2 3 3 4] (3 again after the failed batch)", seqs)
		}
	})
}

// TestWaitPolls: without Notify (another process wrote), Wait finds
// events within its poll interval, and returns ctx's error when it ends.
func TestWaitPolls(t *testing.T) {
	db := openStore(t, "sqlite")
	f := New(db.Write, db.Dialect)
	f.PollInterval = 20 * time.Millisecond
	ctx := context.Background()
	wctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if _, err := f.Wait(wctx, "acme", 0, 10); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait on an empty feed: %v", err)
	}
	go func() {
		time.Sleep(50 * time.Millisecond)
		_ = db.RunInTx(ctx, func(ctx context.Context, tx bun.Tx) error {
			return Append(ctx, tx, db.Dialect, &Event{Tenant: "acme", ResourceType: "User", ID: "x", Op: OpCreate, Version: 1})
		}) // no Notify
	}()
	wctx, cancel = context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	evs, err := f.Wait(wctx, "acme", 0, 10)
	if err != nil || len(evs) != 1 || evs[0].Seq != 1 {
		t.Fatalf("Wait = %+v, %v", evs, err)
	}
}

// TestPrune: old events go, except those a cursor has not passed, which go
// once older than MaxAge; heads stay, so seqs go on.
func TestPrune(t *testing.T) {
	forEngines(t, func(t *testing.T, engine string) {
		db := openStore(t, engine)
		f := New(db.Write, db.Dialect)
		ctx := context.Background()
		now := time.Date(2026, 12, 10, 12, 0, 0, 0, time.UTC)
		f.now = func() time.Time { return now }
		day := 24 * time.Hour
		// acme and globex: events 1..10 at now-10d … now-1d.
		for _, tn := range []string{"acme", "globex"} {
			for i := range 10 {
				must(t, db.RunInTx(ctx, func(ctx context.Context, tx bun.Tx) error {
					return Append(ctx, tx, db.Dialect, &Event{Tenant: tn, ResourceType: "User", ID: fmt.Sprint(i), Op: OpPatch, Version: 2,
						Time: now.Add(-time.Duration(10-i) * day)})
				}))
			}
		}
		// globex's webhook has delivered up to seq 2 (events of 10d and 9d ago).
		must(t, f.Commit(ctx, "webhook", "globex", 2))
		// Keep 7 days: acme loses 1..3 (10, 9, 8 days old); globex only
		// 1..2, its cursor holds 3.
		n, err := f.Prune(ctx, now.Add(-7*day))
		if err != nil || n != 5 {
			t.Fatalf("Prune = %d, %v; want 5", n, err)
		}
		if evs := readAll(t, db, "acme"); len(evs) != 7 || evs[0].Seq != 4 {
			t.Fatalf("acme kept %d from seq %d", len(evs), evs[0].Seq)
		}
		if evs := readAll(t, db, "globex"); len(evs) != 8 || evs[0].Seq != 3 {
			t.Fatalf("globex kept %d from seq %d", len(evs), evs[0].Seq)
		}
		// With MaxAge 8.5 days, globex's held event of 8 days ago stays;
		// with 7.5 days it goes too (but not the 7-day-old one: it is not
		// older than the retention).
		f.MaxAge = 8*day + 12*time.Hour
		if n, _ := f.Prune(ctx, now.Add(-7*day)); n != 0 {
			t.Fatalf("pruned %d held events younger than MaxAge", n)
		}
		f.MaxAge = 7*day + 12*time.Hour
		if n, _ := f.Prune(ctx, now.Add(-6*day-12*time.Hour)); n != 2 {
			t.Fatalf("pruned %d, want 2: acme's 7-day-old event and globex's held 8-day-old one", n)
		}
		if evs := readAll(t, db, "globex"); evs[0].Seq != 4 {
			t.Fatalf("globex starts at %d", evs[0].Seq)
		}
		// Everything pruned: the next event still gets the next seq.
		f.MaxAge = 0
		must(t, f.DeleteCursor(ctx, "webhook", "globex"))
		if _, err := f.Prune(ctx, now); err != nil {
			t.Fatal(err)
		}
		if evs := readAll(t, db, "acme"); len(evs) != 0 {
			t.Fatalf("%d events left", len(evs))
		}
		evs, err := write(ctx, db, "acme", "new", false, 1)
		if err != nil || evs[0].Seq != 11 {
			t.Fatalf("seq after pruning everything: %d, %v", evs[0].Seq, err)
		}
		// A reader behind the pruned range sees the jump.
		got, _ := f.Read(ctx, "acme", 3, 10)
		if len(got) != 1 || got[0].Seq != 11 {
			t.Fatalf("read after 3: %+v", got)
		}
	})
}

// TestPruneBatches: more events than one DELETE removes.
func TestPruneBatches(t *testing.T) {
	db := openStore(t, "sqlite")
	f := New(db.Write, db.Dialect)
	ctx := context.Background()
	old := time.Now().Add(-30 * 24 * time.Hour)
	var evs []*Event
	for i := range 2*pruneBatch + 10 {
		evs = append(evs, &Event{Tenant: "acme", ResourceType: "User", ID: fmt.Sprint(i), Op: OpDelete, Version: 1, Time: old})
	}
	must(t, db.RunInTx(ctx, func(ctx context.Context, tx bun.Tx) error { return Append(ctx, tx, db.Dialect, evs...) }))
	n, err := f.Prune(ctx, time.Now().Add(-time.Hour))
	if err != nil || n != int64(len(evs)) {
		t.Fatalf("Prune = %d, %v; want %d", n, err, len(evs))
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestPurgeTenant(t *testing.T) {
	forEngines(t, func(t *testing.T, engine string) {
		db := openStore(t, engine)
		f := New(db.Write, db.Dialect)
		ctx := context.Background()
		for _, tn := range []string{"acme", "globex"} {
			if _, err := write(ctx, db, tn, "x", false, 3); err != nil {
				t.Fatal(err)
			}
			must(t, f.Commit(ctx, "app", tn, 2))
		}
		must(t, db.RunInTx(ctx, func(ctx context.Context, tx bun.Tx) error { return PurgeTenant(ctx, tx, "acme") }))
		if evs := readAll(t, db, "acme"); len(evs) != 0 {
			t.Fatalf("acme kept %d events", len(evs))
		}
		if c, _ := f.Cursor(ctx, "app", "acme"); c != 0 {
			t.Fatalf("acme cursor %d", c)
		}
		if evs := readAll(t, db, "globex"); len(evs) != 3 {
			t.Fatalf("globex has %d events", len(evs))
		}
		if c, _ := f.Cursor(ctx, "app", "globex"); c != 2 {
			t.Fatalf("globex cursor %d", c)
		}
		evs, err := write(ctx, db, "acme", "y", false, 1)
		if err != nil || evs[0].Seq != 4 {
			t.Fatalf("acme again starts at %d (%v), want 4", evs[0].Seq, err)
		}
	})
}
