package sqlstore

import (
	"context"
	"fmt"
	"io/fs"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"github.com/scimforge/scimforge/scim/sqlfilter"
)

// openPostgres opens a PostgreSQL database shared by any number of
// stateless servers: migrations run under an advisory lock (several
// servers starting at once apply each once), and there is no row cache
// (another instance may change any row; see Options.CacheBytes).
func openPostgres(ctx context.Context, rawURL string, migrations fs.FS, opt Options) (*DB, error) {
	n := opt.PGConns
	if n <= 0 {
		n = DefaultPGConns
	}
	sqldb, err := pgOpen(ctx, rawURL, max(n, 2))
	if err != nil {
		return nil, err
	}
	db := &DB{Write: bun.NewDB(sqldb, pgdialect.New()), Read: sqldb, Dialect: sqlfilter.Postgres}
	if err := db.migratePostgres(ctx, migrations, opt); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// migratePostgres applies the migrations under the advisory lock and
// checks the result.
func (db *DB) migratePostgres(ctx context.Context, migrations fs.FS, opt Options) error {
	all, err := sets("postgres", migrations, opt.Extra)
	if err != nil {
		return err
	}
	// Another instance may be migrating: wait for it, but not forever.
	mctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	if err := migrateLocked(mctx, db.Write, all); err != nil {
		return explainMigration(ctx, db.Write.DB, db.Dialect, migrations, err)
	}
	return db.verify(ctx, migrations)
}

// maxTxAttempts bounds how often a PostgreSQL transaction that lost a
// serialization conflict or a deadlock is run again.
const maxTxAttempts = 5

// runPostgres runs fn in its own transaction (READ COMMITTED; versioned
// updates and constraints keep concurrent writers of other instances
// correct), again when PostgreSQL chose it as a deadlock or serialization
// victim: the engine's functions may run more than once.
func (db *DB) runPostgres(ctx context.Context, fn func(ctx context.Context, tx bun.Tx) error) error {
	var err error
	for attempt := range maxTxAttempts {
		err = db.Write.RunInTx(ctx, nil, fn)
		if !pgRetryable(err) {
			return err
		}
		// A short, growing pause lets the winner finish.
		time.Sleep(time.Duration(attempt+1) * 5 * time.Millisecond)
	}
	return fmt.Errorf("gave up after %d attempts: %w", maxTxAttempts, err)
}

// IsRetryable reports a transaction PostgreSQL aborted to resolve a
// conflict with another (it may succeed when run again).
func IsRetryable(err error) bool { return pgRetryable(err) }
