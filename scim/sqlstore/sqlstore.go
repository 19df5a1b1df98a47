// Package sqlstore opens the database named by SCIMFORGE_DATABASE_URL, applies
// the generated migrations, and holds the small SQL conventions the rest of
// the server shares (timestamp encoding, prepared statements for hot reads,
// recognising unique-constraint violations).
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/sqlitedialect"
	"github.com/uptrace/bun/driver/sqliteshim"
	"github.com/uptrace/bun/migrate"
	"modernc.org/sqlite"

	"github.com/scimforge/scimforge/scim/sqlfilter"
)

// DB is an open store. Writes go through Write (bun), reads through Read
// with prepared statements, because reads are the hot path (GET by id,
// filters). When this process holds the database's lock, both are one
// SQLite connection in exclusive locking mode; see Open.
type DB struct {
	Write   *bun.DB
	Read    *sql.DB
	Dialect sqlfilter.Dialect

	// Cache is the row cache; nil unless this process holds the database's
	// exclusive lock.
	Cache *Cache

	single bool // Read and Write share one connection

	stmts  sync.Map // query text -> *sql.Stmt on Read
	nstmts atomic.Int64
	lock   io.Closer

	commits *committer // group commit of RunInTx
	wstmts  writeStmts // prepared writes (write.go)

	unique []UniqueIndex // the unique indexes of the migration history
	path   string        // the SQLite file

	stopOptimizer func() // ends the periodic PRAGMA optimize (optimize.go)
	borrowed      bool   // the handle is the application's (OpenDB): Close leaves it open

	timing atomic.Pointer[Timing] // SetTiming (timing.go)
}

// Location describes where a database URL points, for logs.
type Location struct {
	Driver string
	Path   string
}

// ParseURL parses SCIMFORGE_DATABASE_URL: "sqlite://PATH" where PATH is
// relative ("sqlite://scimforge.db") or absolute ("sqlite:///var/lib/x.db").
func ParseURL(raw string) (Location, error) {
	switch {
	case strings.HasPrefix(raw, "sqlite://"):
		p := strings.TrimPrefix(raw, "sqlite://")
		if i := strings.IndexByte(p, '?'); i >= 0 {
			return Location{}, fmt.Errorf("database URL %q: options after '?' are not supported for SQLite", raw)
		}
		if p == "" {
			return Location{}, fmt.Errorf("database URL %q has no file path; use sqlite://scimforge.db or sqlite:///abs/path.db", raw)
		}
		if u, err := url.PathUnescape(p); err == nil {
			p = u
		}
		return Location{Driver: "sqlite", Path: p}, nil
	case strings.HasPrefix(raw, "postgres://"), strings.HasPrefix(raw, "postgresql://"):
		u, err := url.Parse(raw)
		if err != nil {
			return Location{}, fmt.Errorf("database URL %q is not a valid URL (postgres://USER:PASSWORD@HOST:PORT/DB)", Redact(raw))
		}
		return Location{Driver: "postgres", Path: u.Host + u.Path}, nil
	}
	return Location{}, fmt.Errorf("database URL %q: want sqlite://PATH or postgres://USER@HOST/DB", Redact(raw))
}

var userinfo = regexp.MustCompile(`://([^:/@]*):[^@]*@`)

// Redact hides a password in a database URL, for logs and messages.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return userinfo.ReplaceAllString(raw, "://$1:xxxxx@")
	}
	if u.User == nil {
		return raw
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

// Options tune Open.
type Options struct {
	// ReadConns is the size of the SQLite read pool. Measured on 2 cores, one
	// or two connections beat larger pools: the pure-Go driver's connections
	// contend with each other.
	ReadConns int
	// CacheBytes bounds the row cache (0: off). The zero Options value, as
	// tests use it, gets DefaultCacheBytes; callers that read configuration
	// pass the configured value, with 0 meaning off.
	CacheBytes int64
	// NoCache turns the row cache off regardless of CacheBytes.
	NoCache bool
	// Extra are further migration histories applied with the schema's
	// (e.g. the credential tables), each recorded in its own table; their
	// FS holds one folder per dialect like the schema's.
	Extra []MigrationSet
	// PGConns is the size of a PostgreSQL pool (0: DefaultPGConns).
	PGConns int
	// Shared lets other processes (the application, sqlite3) read and
	// write the SQLite file while this one has it open: normal WAL locking
	// instead of exclusive mode, and no row cache, since another process
	// may change any row. A second scimforge server is still refused (the
	// PATH.lock file). Costs throughput: see README "Configuration".
	Shared bool
}

// DefaultCacheBytes is the row cache size when Options leave it at 0.
const DefaultCacheBytes = 16 << 20

// Open opens (creating if needed) the database and applies every migration
// in migrations (a tree with one folder per dialect, e.g. "sqlite/").
func Open(ctx context.Context, rawURL string, migrations fs.FS, opt Options) (*DB, error) {
	loc, err := ParseURL(rawURL)
	if err != nil {
		return nil, err
	}
	if loc.Driver == "postgres" {
		return openPostgres(ctx, rawURL, migrations, opt)
	}
	if dir := filepath.Dir(loc.Path); dir != "." {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("create database folder: %w", err)
		}
	}
	lock, err := lockFile(loc.Path + ".lock")
	if err != nil {
		return nil, err
	}
	pragmas := "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(1)" +
		// Read pages through a mapping, not a pread call each. The mapped
		// pages are file pages: they count in the process's resident size
		// (up to 256 MiB) but the kernel reclaims them under pressure. A
		// smaller mapping costs throughput: at 60k users, 32 MiB gave 828
		// creates/s and 11.1k GETs/s against 1182 and 14.4k with 256 MiB,
		// and 64 MiB plus a 16 MiB page cache 855 and 14.1k.
		"&_pragma=mmap_size(268435456)"
	exclusive := lock != nil && !opt.Shared
	if exclusive {
		// This process is the database's only user (the lock says so), so
		// SQLite may skip its shared-memory locks: with EXCLUSIVE locking set
		// before WAL is first used there is no -shm file and no fcntl per
		// transaction. Measured with make bench: filter requests +20%,
		// creates +50%. It needs a single connection, shared by reads and
		// writes; SQLite serialises writers anyway.
		pragmas = "_pragma=locking_mode(EXCLUSIVE)&" + pragmas
	}
	dsn := "file:" + loc.Path + "?" + pragmas
	wsql, err := sql.Open(sqliteshim.ShimName, dsn+"&_txlock=immediate")
	if err != nil {
		closeLock(lock)
		return nil, err
	}
	wsql.SetMaxOpenConns(1)
	wsql.SetMaxIdleConns(1)
	wsql.SetConnMaxLifetime(0)
	if err := wsql.PingContext(ctx); err != nil {
		wsql.Close()
		closeLock(lock)
		return nil, fmt.Errorf("open %s: %w", loc.Path, err)
	}
	db := &DB{Write: bun.NewDB(wsql, sqlitedialect.New()), Dialect: sqlfilter.SQLite, lock: lock, path: loc.Path}
	db.commits = newCommitter(db)
	if err := db.preTenancy(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if err := db.migrate(ctx, migrations, opt.Extra); err != nil {
		err = explainMigration(ctx, db.Write.DB, db.Dialect, migrations, err)
		db.Close()
		return nil, err
	}
	if err := db.verify(ctx, migrations); err != nil {
		db.Close()
		return nil, err
	}
	db.startOptimizer(ctx)
	if exclusive {
		db.Read = wsql
		db.single = true
		switch {
		case opt.NoCache:
		case opt.CacheBytes > 0:
			db.Cache = NewCache(opt.CacheBytes)
		default:
			db.Cache = NewCache(DefaultCacheBytes)
		}
		return db, nil
	}
	// Shared, or without the lock (platforms without flock), other
	// processes may use the file: shared locking, a separate read pool, and
	// no row cache.
	rsql, err := sql.Open(sqliteshim.ShimName, dsn+"&_pragma=query_only(1)")
	if err != nil {
		db.Close()
		return nil, err
	}
	n := opt.ReadConns
	if n <= 0 {
		n = 2
	}
	rsql.SetMaxOpenConns(n)
	rsql.SetMaxIdleConns(n)
	rsql.SetConnMaxLifetime(0)
	db.Read = rsql
	return db, nil
}

func closeLock(l io.Closer) {
	if l != nil {
		l.Close()
	}
}

// sets are the migration histories to apply: the schema's, then extra.
func sets(dialect string, migrations fs.FS, extra []MigrationSet) ([]MigrationSet, error) {
	all := append([]MigrationSet{{Table: "scimforge_migrations", FS: migrations}}, extra...)
	out := make([]MigrationSet, len(all))
	for i, set := range all {
		sub, err := fs.Sub(set.FS, dialect)
		if err != nil {
			return nil, err
		}
		out[i] = MigrationSet{Table: set.Table, FS: sub}
	}
	return out, nil
}

// migrate applies SQLite migrations. One process holds the file (see
// lockFile), so no lock is needed beyond it.
func (db *DB) migrate(ctx context.Context, migrations fs.FS, extra []MigrationSet) error {
	all, err := sets("sqlite", migrations, extra)
	if err != nil {
		return err
	}
	for _, set := range all {
		ms := migrate.NewMigrations()
		if err := ms.Discover(set.FS); err != nil {
			return fmt.Errorf("migrations %s: %w", set.Table, err)
		}
		m := migrate.NewMigrator(db.Write, ms,
			migrate.WithTableName(set.Table),
			migrate.WithLocksTableName(set.Table+"_locks"),
			migrate.WithMarkAppliedOnSuccess(true))
		if err := m.Init(ctx); err != nil {
			return fmt.Errorf("migrations: %w", err)
		}
		if _, err := m.Migrate(ctx); err != nil {
			return fmt.Errorf("migrations: %w", err)
		}
	}
	return nil
}

// Close closes both pools.
func (db *DB) Close() error {
	var errs []error
	if db.commits != nil {
		db.commits.close()
	}
	if db.stopOptimizer != nil {
		db.stopOptimizer()
	}
	if db.borrowed {
		db.closeWriteStmts()
		db.stmts.Range(func(k, v any) bool {
			v.(*sql.Stmt).Close()
			return true
		})
		return nil
	}
	if db.Dialect == sqlfilter.Postgres {
		return db.Write.Close() // Read is the same pool
	}
	db.closeWriteStmts()
	if db.Read != nil && !db.single {
		errs = append(errs, db.Read.Close())
	}
	if db.Write != nil {
		errs = append(errs, db.Write.Close())
	}
	if db.lock != nil {
		errs = append(errs, db.lock.Close())
	}
	return errors.Join(errs...)
}

// maxStmts bounds the prepared-statement cache: filters of many different
// shapes (each shape is one query text; values are bound) must not grow it
// without limit.
const maxStmts = 512

// stmt returns a prepared statement on the read pool, prepared once per
// query text, or nil when the cache is full.
func (db *DB) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if s, ok := db.stmts.Load(query); ok {
		return s.(*sql.Stmt), nil
	}
	if db.nstmts.Load() >= maxStmts {
		return nil, nil
	}
	s, err := db.Read.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if prev, loaded := db.stmts.LoadOrStore(query, s); loaded {
		s.Close()
		return prev.(*sql.Stmt), nil
	}
	db.nstmts.Add(1)
	return s, nil
}

type inTxKey struct{}

// notInTx guards against reading through the pool inside a write
// transaction: with one shared connection that read would wait forever for
// the connection the transaction holds. Use the transaction instead.
func notInTx(ctx context.Context) {
	if ctx.Value(inTxKey{}) != nil {
		panic("sqlstore: read through DB.Query inside RunInTx; use the transaction (it would deadlock on the single connection)")
	}
}

// Query runs a read query with "?" placeholders. On SQLite it is prepared
// once per query text (reads are the hot path: a prepared point read costs
// about 30% less with the SQLite driver); on PostgreSQL the placeholders are
// numbered and the text sent with its values (see pgOpen for why not prepared).
func (db *DB) Query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	notInTx(ctx)
	if done := db.timed("read"); done != nil {
		defer done()
	}
	if db.Dialect == sqlfilter.Postgres {
		return db.Read.QueryContext(ctx, rebindPostgres(query), args...)
	}
	s, err := db.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return db.Read.QueryContext(ctx, query, args...)
	}
	return s.QueryContext(ctx, args...)
}

// QueryRow is Query for one row.
func (db *DB) QueryRow(ctx context.Context, query string, args ...any) *sql.Row {
	notInTx(ctx)
	if done := db.timed("read"); done != nil {
		defer done()
	}
	if db.Dialect == sqlfilter.Postgres {
		return db.Read.QueryRowContext(ctx, rebindPostgres(query), args...)
	}
	s, err := db.stmt(ctx, query)
	if err != nil || s == nil {
		return db.Read.QueryRowContext(ctx, query, args...)
	}
	return s.QueryRowContext(ctx, args...)
}

// TimeFormat is how timestamps are stored in SQLite: UTC, fixed width, so
// that text order is time order and filters can compare them as text.
const TimeFormat = "2006-01-02T15:04:05.000000000Z"

// FormatTime renders t in the storage format.
func FormatTime(t time.Time) string { return t.UTC().Format(TimeFormat) }

// ParseTime reads a stored timestamp.
func ParseTime(s string) (time.Time, error) { return time.Parse(TimeFormat, s) }

// CanonicalTime converts an xsd:dateTime value (RFC 3339, as SCIM sends it)
// to the storage format; ok is false when s is not a valid dateTime.
func CanonicalTime(s string) (string, bool) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return "", false
	}
	return FormatTime(t), true
}

var sqliteUnique = regexp.MustCompile(`UNIQUE constraint failed: ([A-Za-z0-9_.]+)`)

// UniqueViolation reports whether err is a unique-constraint violation and
// which "table.column" it hit.
func UniqueViolation(err error) (column string, ok bool) {
	if c, ok := pgUniqueViolation(err); ok {
		return c, true // the constraint's name: "table_column_key"
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		if se.Code() == 2067 || se.Code() == 1555 { // SQLITE_CONSTRAINT_UNIQUE, _PRIMARYKEY
			if m := sqliteUnique.FindStringSubmatch(se.Error()); m != nil {
				return m[1], true
			}
			return "", true
		}
	}
	return "", false
}

// IsBusy reports whether err is SQLite telling us the database is locked
// for longer than busy_timeout.
func IsBusy(err error) bool {
	if pgRetryable(err) {
		return true // still conflicting after the retries
	}
	var se *sqlite.Error
	return errors.As(err, &se) && (se.Code()&0xff == 5 || se.Code()&0xff == 6)
}

// RunInTx runs fn in a write transaction and returns once that transaction
// has committed; when fn returns an error (or panics) everything fn wrote is
// rolled back, so nothing is half-written. Concurrent calls are committed
// together (group commit, see groupcommit.go), each isolated by a
// savepoint: fn may run on another goroutine, with ctx's values but not its
// cancellation, and must not call RunInTx itself.
func (db *DB) RunInTx(ctx context.Context, fn func(ctx context.Context, tx bun.Tx) error) error {
	if ctx.Value(inTxKey{}) != nil {
		panic("sqlstore: RunInTx inside RunInTx; use the transaction you have")
	}
	if done := db.timed("transaction"); done != nil {
		defer done()
	}
	if db.Dialect == sqlfilter.Postgres {
		return db.runPostgres(context.WithValue(ctx, inTxKey{}, db), fn)
	}
	return db.commits.run(context.WithValue(ctx, inTxKey{}, db), fn)
}

// Ping checks that the database answers (readiness probes).
func (db *DB) Ping(ctx context.Context) error {
	if db.single {
		// One connection shared with the writer: a trivial read through the
		// read path waits its turn like any request would.
		var one int
		return db.Read.QueryRowContext(ctx, "SELECT 1").Scan(&one)
	}
	return db.Read.PingContext(ctx)
}
