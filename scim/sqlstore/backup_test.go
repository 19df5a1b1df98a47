package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/driver/sqliteshim"
)

// count reads the rows of things in the SQLite file at path, opened on its own.
func count(t *testing.T, path string) int {
	t.Helper()
	db, err := sql.Open(sqliteshim.ShimName, "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM things`).Scan(&n); err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return n
}

// TestBackup: a backup taken while writes are committing is a consistent
// database holding every write committed before it; an existing file is
// kept unless forced; the database's own files are refused; with the
// server stopped, BackupFile takes the lock and backs up the file as it is.
func TestBackup(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "live.db")
	db, err := Open(ctx, "sqlite://"+path, thingsV1, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { db.Close() }()
	insert := func(id string) error {
		return db.RunInTx(ctx, func(ctx context.Context, tx bun.Tx) error {
			return Exec(ctx, tx, `INSERT INTO things VALUES ('default', ?, NULL)`, id)
		})
	}
	for i := range 100 {
		if err := insert(strings.Repeat("a", i+1)); err != nil {
			t.Fatal(err)
		}
	}
	// Writers keep committing during the backup.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if err := insert(strings.Repeat("b", i+1)); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	dest := filepath.Join(dir, "out", "b.db")
	if _, err := db.Backup(ctx, dest, false); err == nil {
		t.Error("backup into a missing folder succeeded")
	}
	if err := os.Mkdir(filepath.Dir(dest), 0o700); err != nil {
		t.Fatal(err)
	}
	info, err := db.Backup(ctx, dest, false)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if info.Path != dest || info.Bytes == 0 {
		t.Errorf("info %+v", info)
	}
	if n := count(t, dest); n < 100 {
		t.Errorf("backup holds %d rows, want at least the 100 committed before it", n)
	}
	if fi, err := os.Stat(dest); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("backup mode: %v %v", fi, err)
	}
	if _, err := db.Backup(ctx, dest, false); err == nil || !strings.Contains(err.Error(), "--force") {
		t.Errorf("overwrite without force: %v", err)
	}
	if _, err := db.Backup(ctx, dest, true); err != nil {
		t.Errorf("overwrite with force: %v", err)
	}
	for _, own := range []string{path, path + "-wal"} {
		if _, err := db.Backup(ctx, own, true); err == nil || !strings.Contains(err.Error(), "database's own file") {
			t.Errorf("backup onto %s: %v", own, err)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "out", ".b.db.tmp-*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
	// While the database is held, another process cannot back up the file.
	if _, err := BackupFile(ctx, path, filepath.Join(dir, "x.db"), false); err == nil {
		t.Error("BackupFile while a server holds the database succeeded")
	}
	total := count(t, dest) // the forced backup came after the writers stopped
	db.Close()
	offline := filepath.Join(dir, "offline.db")
	if _, err := BackupFile(ctx, path, offline, false); err != nil {
		t.Fatal(err)
	}
	if n := count(t, offline); n != total {
		t.Errorf("offline backup holds %d rows, want %d", n, total)
	}
	if _, err := BackupFile(ctx, filepath.Join(dir, "none.db"), filepath.Join(dir, "y.db"), false); err == nil {
		t.Error("backup of a missing database succeeded")
	}
	if _, err := os.Stat(filepath.Join(dir, "none.db")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("BackupFile created the missing database: %v", err)
	}
}
