package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/dialect/sqlitedialect"

	"github.com/scimforge/scimforge/scim/sqlfilter"
)

// OpenDB opens the store over a database handle the application already
// has (embedding, see app/server.Embed), applying migrations as Open does.
// The handle stays the application's: Close does not close it.
//
// SQLite handles (modernc.org/sqlite, driver name "sqlite") must enable
// foreign keys and a busy timeout on every connection, e.g.
// "file:app.db?_pragma=foreign_keys(1)&_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_txlock=immediate";
// OpenDB checks the first two. The application shares the file with the
// store, so there is no exclusive lock and no row cache (the application
// may write through its own handle), and SCIM writes still go through one
// group-commit queue. PostgreSQL handles (pgx's stdlib driver) need
// nothing special; several processes may share the database as with Open.
func OpenDB(ctx context.Context, sqldb *sql.DB, dialect sqlfilter.Dialect, migrations fs.FS, opt Options) (*DB, error) {
	if sqldb == nil {
		return nil, errors.New("sqlstore: OpenDB needs a database handle")
	}
	switch dialect {
	case sqlfilter.Postgres:
		db := &DB{Write: bun.NewDB(sqldb, pgdialect.New()), Read: sqldb, Dialect: sqlfilter.Postgres, borrowed: true}
		if err := db.migratePostgres(ctx, migrations, opt); err != nil {
			return nil, err
		}
		return db, nil
	case sqlfilter.SQLite:
		if err := checkSQLiteHandle(ctx, sqldb); err != nil {
			return nil, err
		}
		db := &DB{Write: bun.NewDB(sqldb, sqlitedialect.New()), Read: sqldb, Dialect: sqlfilter.SQLite, borrowed: true}
		db.commits = newCommitter(db)
		if err := db.preTenancy(ctx); err != nil {
			db.Close()
			return nil, err
		}
		if err := db.migrate(ctx, migrations, opt.Extra); err != nil {
			err = explainMigration(ctx, sqldb, db.Dialect, migrations, err)
			db.Close()
			return nil, err
		}
		if err := db.verify(ctx, migrations); err != nil {
			db.Close()
			return nil, err
		}
		return db, nil
	}
	return nil, fmt.Errorf("sqlstore: unknown dialect %v", dialect)
}

// checkSQLiteHandle refuses a handle whose connections would break the
// store: without foreign keys, deleting a resource would leave member rows
// behind; without a busy timeout, the application's own writes would make
// SCIM writes fail at once with "database is locked".
func checkSQLiteHandle(ctx context.Context, sqldb *sql.DB) error {
	var fk, timeout int
	if err := sqldb.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk); err != nil {
		return fmt.Errorf("sqlstore: the SQLite handle does not answer: %w", err)
	}
	if err := sqldb.QueryRowContext(ctx, "PRAGMA busy_timeout").Scan(&timeout); err != nil {
		return err
	}
	if fk != 1 {
		return errors.New("sqlstore: the SQLite handle has foreign keys off; open it with _pragma=foreign_keys(1) in the DSN (every connection needs it)")
	}
	if timeout <= 0 {
		return errors.New("sqlstore: the SQLite handle has no busy timeout; open it with _pragma=busy_timeout(10000) in the DSN")
	}
	return nil
}
