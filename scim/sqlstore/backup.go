package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/uptrace/bun/driver/sqliteshim"

	"github.com/scimforge/scimforge/scim/sqlfilter"
)

// Backups. A SQLite store is one file, which the server holds exclusively
// while it runs, so copying the file (or its -wal) from outside gives a
// torn copy. VACUUM INTO writes a consistent snapshot as a fresh, compact
// database file through the database's own connection: reads and writes
// of the server wait while it runs (one connection), nothing else does.

// BackupInfo describes a finished backup.
type BackupInfo struct {
	Path    string        `json:"path"`
	Bytes   int64         `json:"bytes"`
	Elapsed time.Duration `json:"elapsed"`
}

// ErrBackupPostgres is Backup on PostgreSQL.
var ErrBackupPostgres = errors.New("backup copies a SQLite file; with PostgreSQL the database is the backup boundary " +
	"(every scimforge instance shares it, and the tenants, tokens and resources must be captured at one instant), " +
	"so back it up with PostgreSQL's tools: pg_dump -Fc (restore with pg_restore), or your provider's snapshots and point-in-time recovery")

// Backup writes a consistent copy of the database to dest (see
// backupInto); the server's requests wait while it runs.
func (db *DB) Backup(ctx context.Context, dest string, force bool) (BackupInfo, error) {
	if db.Dialect == sqlfilter.Postgres {
		return BackupInfo{}, ErrBackupPostgres
	}
	notInTx(ctx)
	return backupInto(ctx, db.Write.DB, db.path, dest, force)
}

// BackupFile backs up the SQLite database at path when no server runs:
// it takes the server's lock (so none starts meanwhile), opens the file
// without migrating it (a backup taken before an upgrade must hold what
// the old build wrote) and writes the copy to dest.
func BackupFile(ctx context.Context, path, dest string, force bool) (BackupInfo, error) {
	if _, err := os.Stat(path); err != nil {
		return BackupInfo{}, fmt.Errorf("no database to back up at %s: %w", path, err)
	}
	lock, err := lockFile(path + ".lock")
	if err != nil {
		return BackupInfo{}, err
	}
	defer closeLock(lock)
	sqldb, err := sql.Open(sqliteshim.ShimName, "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return BackupInfo{}, err
	}
	defer sqldb.Close()
	sqldb.SetMaxOpenConns(1)
	return backupInto(ctx, sqldb, path, dest, force)
}

// backupInto runs VACUUM INTO a temporary file next to dest, makes it
// durable, and only then gives it dest's name: a crash leaves either no
// backup or a whole one, never a partial file under the expected name.
// An existing dest is kept unless force.
func backupInto(ctx context.Context, sqldb *sql.DB, dbPath, dest string, force bool) (BackupInfo, error) {
	start := time.Now()
	abs, err := filepath.Abs(dest)
	if err != nil {
		return BackupInfo{}, err
	}
	if src, err := filepath.Abs(dbPath); err == nil {
		for _, f := range []string{src, src + "-wal", src + "-shm", src + "-journal", src + ".lock"} {
			if abs == f {
				return BackupInfo{}, fmt.Errorf("backup %s: that is the database's own file; choose another path", dest)
			}
		}
	}
	if _, err := os.Lstat(abs); err == nil && !force {
		return BackupInfo{}, fmt.Errorf("backup %s: the file exists; choose a new name or pass --force to replace it", dest)
	}
	dir := filepath.Dir(abs)
	// An empty file is a valid target for VACUUM INTO; making it here
	// gives a unique name with mode 0600 (the copy holds token hashes).
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(abs)+".tmp-*")
	if err != nil {
		return BackupInfo{}, fmt.Errorf("backup: %w", err)
	}
	tmpName := tmp.Name()
	tmp.Close()
	done := false
	defer func() {
		if !done {
			os.Remove(tmpName)
		}
	}()
	if _, err := sqldb.ExecContext(ctx, "VACUUM INTO ?", tmpName); err != nil {
		return BackupInfo{}, fmt.Errorf("backup: VACUUM INTO: %w", err)
	}
	if err := syncFile(tmpName); err != nil {
		return BackupInfo{}, fmt.Errorf("backup: %w", err)
	}
	if force {
		err = os.Rename(tmpName, abs)
	} else if err = os.Link(tmpName, abs); err == nil {
		// A link fails if dest appeared meanwhile, where a rename would
		// replace it.
		os.Remove(tmpName)
	}
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return BackupInfo{}, fmt.Errorf("backup %s: the file exists; choose a new name or pass --force to replace it", dest)
		}
		return BackupInfo{}, fmt.Errorf("backup: %w", err)
	}
	done = true
	if err := syncFile(dir); err != nil {
		return BackupInfo{}, fmt.Errorf("backup: sync %s: %w", dir, err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return BackupInfo{}, err
	}
	return BackupInfo{Path: abs, Bytes: fi.Size(), Elapsed: time.Since(start)}, nil
}

// syncFile flushes a file or a folder (its entries) to stable storage.
func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
