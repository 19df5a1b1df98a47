package e2e

// Operating the data: scimforge reindex and scimforge backup, run as an
// operator runs them (the real binary) next to a running server.

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
	"github.com/uptrace/bun/driver/sqliteshim"
)

// cli runs the scimforge binary with args over the database at dbURL and
// returns its output and exit status.
func cli(t *testing.T, dbURL string, args ...string) (stdout, stderr string, status int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binPath, args...)
	cmd.Env = append(os.Environ(), "SCIMFORGE_DATABASE_URL="+dbURL, "SCIMFORGE_TENANCY=")
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		status = ee.ExitCode()
	default:
		t.Fatalf("scimforge %v: %v", args, err)
	}
	return out.String(), errOut.String(), status
}

// logged waits for the server's log (flushed every 100 ms) to show text.
func (s *server) logged(text string) bool {
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if strings.Contains(s.logs.String(), text) {
			return true
		}
	}
	return false
}

// sqlOf opens the database behind dbURL for statements the API cannot make.
func sqlOf(t *testing.T, dbURL string) *sql.DB {
	t.Helper()
	driver, dsn := "pgx", dbURL
	if p, ok := strings.CutPrefix(dbURL, "sqlite://"); ok {
		driver, dsn = sqliteshim.ShimName, "file:"+p
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestReindexCommand: search columns broken behind the server's back are
// stale until scimforge reindex, which a SQLite server runs itself
// (through its admin socket: the file is held) and which opens PostgreSQL
// directly; the resources keep their versions, and --check changes nothing.
func TestReindexCommand(t *testing.T) {
	dbURL := newDatabase(t)
	s := startServer(t, dbURL)
	var ids []string
	for i := range 20 {
		u := s.create(t, "/Users", newUser(fmt.Sprintf("reindex%02d@example.com", i)))
		ids = append(ids, str(u, "id"))
	}
	etag := s.do(t, http.MethodGet, "/Users/"+ids[3], nil).want(t, http.StatusOK).Header.Get("ETag")

	// The broken rows: user 3 has no userName column, user 4 no email rows.
	breakRows := fmt.Sprintf(`UPDATE scim_users SET user_name = NULL WHERE id = '%s'`, ids[3])
	dropEmails := fmt.Sprintf(`DELETE FROM scim_user_emails WHERE user_id = '%s'`, ids[4])
	if engine == "sqlite" {
		s.stop(t) // the server holds the file
	}
	db := sqlOf(t, dbURL)
	for _, q := range []string{breakRows, dropEmails} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	if engine == "sqlite" {
		s = startServer(t, dbURL)
	}
	lookups := map[string]string{
		`userName eq "reindex03@example.com"`:     ids[3],
		`emails.value eq "reindex04@example.com"`: ids[4],
	}
	for f := range lookups {
		if n := s.count(t, "/Users", f); n != 0 {
			t.Fatalf("%s finds %d before the reindex", f, n)
		}
	}

	out, errOut, status := cli(t, dbURL, "reindex", "--check")
	if status != 0 || !strings.Contains(out, "User: 20 resources, 2 would change, 0 documents re-encoded") ||
		!strings.Contains(out, "scim_user_emails +1 -0") || !strings.Contains(errOut, "nothing is written") {
		t.Fatalf("reindex --check: status %d\n%s%s", status, out, errOut)
	}
	for f := range lookups {
		if n := s.count(t, "/Users", f); n != 0 {
			t.Fatalf("--check wrote: %s finds %d", f, n)
		}
	}
	out, errOut, status = cli(t, dbURL, "reindex")
	if status != 0 || !strings.Contains(out, "User: 20 resources, 2 changed") || !strings.Contains(out, "Group: 0 resources") {
		t.Fatalf("reindex: status %d\n%s%s", status, out, errOut)
	}
	t.Logf("scimforge reindex:\n%s", out)
	if engine == "sqlite" && !s.logged("op=data.reindex") {
		t.Error("the reindex did not go through the server's admin socket")
	}
	for f, id := range lookups {
		if l := s.find(t, "/Users", f); len(l.ids()) != 1 || l.ids()[0] != id {
			t.Errorf("after reindex %s finds %v, want [%s]", f, l.ids(), id)
		}
	}
	if got := s.do(t, http.MethodGet, "/Users/"+ids[3], nil).want(t, http.StatusOK).Header.Get("ETag"); got != etag {
		t.Errorf("the reindex moved the version: %s, was %s", got, etag)
	}
	if out, _, status := cli(t, dbURL, "reindex", "extra"); status != 2 || out != "" {
		t.Errorf("reindex with an argument: status %d", status)
	}
}

// TestBackupWhileServing: scimforge backup asks the running server for a
// copy while clients keep writing; the copy opens in a second server with
// every user created before it. An existing file is kept unless --force;
// with the server stopped the command copies the file itself. PostgreSQL
// is refused, pointing to pg_dump.
func TestBackupWhileServing(t *testing.T) {
	dir := t.TempDir()
	dest := filepath.Join(dir, "backup.db")
	if engine == "postgres" {
		_, errOut, status := cli(t, newDatabase(t), "backup", dest)
		if status != 1 || !strings.Contains(errOut, "pg_dump") || !strings.Contains(errOut, "backup boundary") {
			t.Errorf("backup of PostgreSQL: status %d: %s", status, errOut)
		}
		return
	}
	s := newServer(t)
	for i := range 50 {
		s.create(t, "/Users", newUser(fmt.Sprintf("before%02d@example.com", i)))
	}
	// Clients keep writing while the backup runs.
	var stop atomic.Bool
	var wg sync.WaitGroup
	var during atomic.Int64
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stop.Load(); i++ {
				r := s.send(http.MethodPost, "/Users", newUser(fmt.Sprintf("during%d-%d@example.com", w, i)))
				if r.err != nil || r.status != http.StatusCreated {
					t.Errorf("create during the backup: %v %v", r, r.err)
					return
				}
				during.Add(1)
			}
		}()
	}
	time.Sleep(50 * time.Millisecond)
	out, errOut, status := cli(t, s.dbPath, "backup", dest)
	stop.Store(true)
	wg.Wait()
	if status != 0 || !strings.Contains(out, "backed up") {
		t.Fatalf("backup: status %d\n%s%s", status, out, errOut)
	}
	t.Logf("%s(%d users created while it ran)", out, during.Load())
	if !s.logged("op=data.backup") {
		t.Error("the backup did not go through the server's admin socket")
	}
	if _, errOut, status := cli(t, s.dbPath, "backup", dest); status != 1 || !strings.Contains(errOut, "--force") {
		t.Errorf("backup over an existing file: status %d: %s", status, errOut)
	}

	copy := startServer(t, "sqlite://"+dest)
	if n := copy.count(t, "/Users", `userName sw "before"`); n != 50 {
		t.Errorf("the backup holds %d of the 50 users created before it", n)
	}
	if l := copy.find(t, "/Users", `emails.value eq "before07@example.com"`); len(l.ids()) != 1 {
		t.Errorf("the backup's search index: %v", l.ids())
	}
	copy.stop(t)

	// Offline: no socket answers, the command copies the file itself.
	s.stop(t)
	out, errOut, status = cli(t, s.dbPath, "backup", "--force", dest)
	if status != 0 || !strings.Contains(out, "backed up") {
		t.Fatalf("offline backup: status %d\n%s%s", status, out, errOut)
	}
	copy = startServer(t, "sqlite://"+dest)
	total := copy.count(t, "/Users", "")
	if want := 50 + during.Load(); total != want {
		t.Errorf("offline backup holds %d users, want %d", total, want)
	}
}
