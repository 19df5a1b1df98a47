package sqlstore

// PostgreSQL building blocks: opening a pool through pgx with a TLS policy,
// migrating under an advisory lock, classifying server errors, and
// rebinding "?" placeholders to "$n".

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/migrate"
)

// DefaultPGConns is the pool size when pgOpen is given 0. Every instance
// opens up to this many connections: keep instances × this under the
// server's max_connections (default 100).
const DefaultPGConns = 20

// pgOpen opens a connection pool to the PostgreSQL server named by rawURL
// (postgres://user:pass@host:port/db?sslmode=...) and checks that it answers.
//
// TLS: sslmode disable, verify-ca and verify-full are accepted; prefer, allow
// and require are refused because they encrypt without checking whom they
// talk to (prefer and allow even fall back to plain text), which a
// man in the middle defeats. Without an sslmode (in the URL or PGSSLMODE),
// a loopback host or unix socket gets disable, anything else verify-full.
func pgOpen(ctx context.Context, rawURL string, maxConns int) (*sql.DB, error) {
	cfg, err := pgConfig(rawURL)
	if err != nil {
		return nil, err
	}
	if maxConns <= 0 {
		maxConns = DefaultPGConns
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(maxConns)
	db.SetMaxIdleConns(maxConns)
	db.SetConnMaxIdleTime(5 * time.Minute)
	// Recycle connections so that a failover, a DNS change or a server's
	// per-session memory growth does not stick to a connection forever.
	db.SetConnMaxLifetime(30 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to %s: %w", Redact(rawURL), err)
	}
	return db, nil
}

// pgConfig parses rawURL and applies the TLS policy and the query mode.
func pgConfig(rawURL string) (*pgx.ConnConfig, error) {
	if !strings.HasPrefix(rawURL, "postgres://") && !strings.HasPrefix(rawURL, "postgresql://") {
		return nil, fmt.Errorf("database URL %q: want postgres://", Redact(rawURL))
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("database URL %q: %v", Redact(rawURL), redactErr(err, rawURL))
	}
	q := u.Query()
	mode, given := q.Get("sslmode"), q.Has("sslmode")
	if !given && strings.EqualFold(q.Get("ssl"), "true") {
		mode, given = "require", true // libpq's alias
	}
	if given && mode == "" {
		return nil, fmt.Errorf("database URL %q: empty sslmode; use verify-full, verify-ca or disable", Redact(rawURL))
	}
	if !given {
		mode = os.Getenv("PGSSLMODE") // what pgx would use next
	}
	if mode == "" {
		// Decide from where the URL points. The first parse only tells us
		// the hosts; it builds TLS settings but opens nothing.
		probe, err := pgx.ParseConfig(rawURL)
		if err != nil {
			return nil, fmt.Errorf("database URL %q: %v", Redact(rawURL), redactErr(err, rawURL))
		}
		mode = "verify-full"
		if allLoopback(probe) {
			mode = "disable"
		}
		sep := "?"
		if strings.Contains(rawURL, "?") {
			sep = "&"
		}
		rawURL += sep + "sslmode=" + mode
	}
	switch mode {
	case "disable", "verify-ca", "verify-full":
	case "prefer", "allow", "require":
		return nil, fmt.Errorf("database URL %q: sslmode=%s encrypts without verifying the server's certificate; "+
			"use sslmode=verify-full (with sslrootcert=PATH to the server's CA, or sslrootcert=system), "+
			"or sslmode=disable for a loopback or private connection", Redact(rawURL), mode)
	default:
		return nil, fmt.Errorf("database URL %q: unknown sslmode %q; use verify-full, verify-ca or disable", Redact(rawURL), mode)
	}
	cfg, err := pgx.ParseConfig(rawURL)
	if err != nil {
		return nil, fmt.Errorf("database URL %q: %v", Redact(rawURL), redactErr(err, rawURL))
	}
	// The mode's name was checked; check what pgx built from it too, since
	// other parameters (sslnegotiation, sslrootcert) change it.
	if err := tlsVerified(&cfg.Config); err != nil {
		return nil, fmt.Errorf("database URL %q: %v", Redact(rawURL), err)
	}
	// bun sends finished SQL text with the arguments inlined, so the
	// default statement cache would prepare every distinct text (one extra
	// round trip each, a cache that never hits, and "cached plan must not
	// change result type" after another instance's migration). Exec mode
	// uses the unnamed statement: no server-side cache.
	cfg.DefaultQueryExecMode = pgx.QueryExecModeExec
	return cfg, nil
}

// tlsVerified refuses a configuration that would use TLS without checking
// the certificate, or fall back to plain text after trying TLS.
func tlsVerified(c *pgconn.Config) error {
	var plain, secure bool
	all := append([]*pgconn.FallbackConfig{{Host: c.Host, Port: c.Port, TLSConfig: c.TLSConfig}}, c.Fallbacks...)
	for _, fb := range all {
		tc := fb.TLSConfig
		switch {
		case tc == nil:
			plain = true
		case tc.InsecureSkipVerify && tc.VerifyPeerCertificate == nil:
			return errors.New("TLS without certificate verification; use sslmode=verify-full")
		default:
			secure = true
		}
	}
	if plain && secure {
		return errors.New("falls back to plain text after TLS; use sslmode=verify-full")
	}
	return nil
}

// allLoopback reports whether every host the config may connect to is this
// machine: a unix socket, localhost, or a loopback address.
func allLoopback(c *pgx.ConnConfig) bool {
	hosts := []string{c.Host}
	for _, fb := range c.Fallbacks {
		hosts = append(hosts, fb.Host)
	}
	for _, h := range hosts {
		if strings.HasPrefix(h, "/") || strings.EqualFold(h, "localhost") {
			continue
		}
		if ip := net.ParseIP(h); ip != nil && ip.IsLoopback() {
			continue
		}
		return false
	}
	return true
}

// redactErr removes the URL's password from an error's text (parse errors
// may quote the URL).
func redactErr(err error, rawURL string) string {
	msg := err.Error()
	if u, perr := url.Parse(rawURL); perr == nil && u.User != nil {
		if pw, ok := u.User.Password(); ok && pw != "" {
			msg = strings.ReplaceAll(msg, pw, "xxxxx")
			if esc := url.PathEscape(pw); esc != pw {
				msg = strings.ReplaceAll(msg, esc, "xxxxx")
			}
		}
	}
	return msg
}

// MigrationSet is one folder of bun SQL migrations (already the dialect's
// folder) and the table that records which of them ran.
type MigrationSet struct {
	Table string
	FS    fs.FS
}

// migrationLockKey is the pg_advisory_lock key that serialises migrations
// of one database across instances ("scimforg" in ASCII). Advisory locks
// are per database, so other databases on the server are unaffected.
const migrationLockKey int64 = 0x7363696d666f7267

// migrateLocked applies sets in order while holding a PostgreSQL advisory
// lock, so that instances starting together migrate one after another.
// bun's own Migrator.Lock is no lock: it inserts a row and fails at once if
// the row is there (and a crashed process leaves the row behind), while
// Init's CREATE TABLE IF NOT EXISTS races between instances. A session
// advisory lock waits instead, and the server drops it when the session
// dies.
//
// The lock is held on a dedicated connection while the migrations run on
// others from db's pool, which therefore needs at least two connections.
// Run this over a direct connection, not through PgBouncer in transaction
// mode (session locks do not survive it).
func migrateLocked(ctx context.Context, db *bun.DB, sets []MigrationSet) (err error) {
	if db.Stats().MaxOpenConnections == 1 {
		return errors.New("migrations: the pool needs at least 2 connections (one holds the lock)")
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, fmt.Sprintf("SELECT pg_advisory_lock(%d)", migrationLockKey)); err != nil {
		return fmt.Errorf("migrations: wait for the migration lock: %w", err)
	}
	defer func() {
		// Unlock even when ctx is done; if that fails the session would
		// keep the lock, so the connection is thrown away instead of
		// going back to the pool (closing the session releases the lock).
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if _, uerr := conn.ExecContext(uctx, fmt.Sprintf("SELECT pg_advisory_unlock(%d)", migrationLockKey)); uerr != nil {
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
			err = errors.Join(err, fmt.Errorf("migrations: release the migration lock: %w", uerr))
		}
	}()
	for _, set := range sets {
		ms := migrate.NewMigrations()
		if err := ms.Discover(set.FS); err != nil {
			return fmt.Errorf("migrations %s: %w", set.Table, err)
		}
		m := migrate.NewMigrator(db, ms,
			migrate.WithTableName(set.Table),
			migrate.WithLocksTableName(set.Table+"_locks"),
			// Record a migration after it ran, not before (bun's default),
			// so that a failed one is retried at the next start.
			migrate.WithMarkAppliedOnSuccess(true))
		if err := m.Init(ctx); err != nil {
			return fmt.Errorf("migrations %s: %w", set.Table, err)
		}
		if _, err := m.Migrate(ctx); err != nil {
			return fmt.Errorf("migrations %s: %w", set.Table, trgmHint(err))
		}
	}
	return nil
}

// trgmHint explains a migration that failed because it could not create
// the pg_trgm extension (the trigram indexes that serve co filters need
// it). pg_trgm is a trusted extension: a role with CREATE on the database
// may create it, but a migration role without that privilege, or a server
// without the contrib package, cannot.
func trgmHint(err error) error {
	pe, ok := pgError(err)
	if !ok {
		return err
	}
	text := pe.Message + " " + pe.Detail
	if !strings.Contains(text, "pg_trgm") && !strings.Contains(text, "gin_trgm_ops") {
		return err
	}
	return fmt.Errorf("%w\n"+
		"scimforge's trigram indexes (they serve co filters) need the pg_trgm extension, which this database role could not create. "+
		"Run once on this database, as a superuser or the database owner: CREATE EXTENSION pg_trgm; "+
		"(it ships with PostgreSQL's contrib package, e.g. postgresql-contrib), then start scimforge again", err)
}

// pgError returns err's PostgreSQL error, if it carries one.
func pgError(err error) (*pgconn.PgError, bool) {
	var pe *pgconn.PgError
	return pe, errors.As(err, &pe)
}

// pgUniqueViolation reports whether err is a unique-constraint violation
// (SQLSTATE 23505) and names the constraint (index) it hit.
func pgUniqueViolation(err error) (constraint string, ok bool) {
	if pe, is := pgError(err); is && pe.Code == "23505" {
		return pe.ConstraintName, true
	}
	return "", false
}

// pgForeignKeyViolation reports whether err is a foreign-key violation
// (SQLSTATE 23503).
func pgForeignKeyViolation(err error) bool {
	pe, is := pgError(err)
	return is && pe.Code == "23503"
}

// pgRetryable reports whether err is a transaction conflict that the server
// resolved by aborting this transaction (serialization_failure 40001,
// deadlock_detected 40P01): running the whole transaction again may succeed.
func pgRetryable(err error) bool {
	pe, is := pgError(err)
	return is && (pe.Code == "40001" || pe.Code == "40P01")
}
