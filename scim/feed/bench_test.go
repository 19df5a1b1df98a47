package feed

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/scimforge/scimforge/scim/sqlstore"
)

// BenchmarkWrite measures what Append costs a write: 8 goroutines commit
// transactions that insert a row (a stand-in for a resource write), with
// no event, with an event of one shared tenant (the head row serialises
// their commits on PostgreSQL), and with an event of a tenant per
// goroutine (no contention on the head row).
//
//	go test ./scim/feed -run '^$' -bench Write -benchtime 3000x
//
// With SCIMFORGE_TEST_POSTGRES_URL it runs on that server instead of the
// test one (which runs with fsync and synchronous_commit off).
func BenchmarkWrite(b *testing.B) {
	for _, engine := range engines {
		db := openStore(b, engine)
		for _, mode := range []string{"no-event", "event-1-tenant", "event-8-tenants"} {
			b.Run(engine+"/"+mode, func(b *testing.B) { benchWrite(b, db, mode) })
		}
	}
}

var benchRun atomic.Int64

func benchWrite(b *testing.B, db *sqlstore.DB, mode string) {
	const workers = 8
	ctx := context.Background()
	run := benchRun.Add(1)
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	b.ResetTimer()
	start := time.Now()
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tn := "acme"
			if mode == "event-8-tenants" {
				tn = fmt.Sprintf("t%d", w)
			}
			for {
				i := next.Add(1)
				if i > int64(b.N) {
					return
				}
				id := fmt.Sprintf("r%d-%d", run, i)
				err := db.RunInTx(ctx, func(ctx context.Context, tx bun.Tx) error {
					if err := sqlstore.Exec(ctx, tx, `INSERT INTO things (tenant_id, id) VALUES (?, ?)`, tn, id); err != nil {
						return err
					}
					if mode == "no-event" {
						return nil
					}
					return Append(ctx, tx, db.Dialect, &Event{Tenant: tn, ResourceType: "User", ID: id, Op: OpCreate, Version: 1, Changed: []string{"userName", "active"}})
				})
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "writes/s")
}
