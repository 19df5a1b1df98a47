package pgtest

import (
	"context"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { os.Exit(Main(m)) }

// TestStart starts its own server (not the shared one), so that it can
// check what Stop leaves behind.
func TestStart(t *testing.T) {
	if os.Getenv(EnvMode) == "skip" {
		t.Skip(EnvMode + "=skip")
	}
	t0 := time.Now()
	s, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("Start took %v (port %d, PostgreSQL %s)", time.Since(t0), s.Port(), s.Version())
	if s.major() < 10 {
		t.Errorf("Version() = %q: major %d", s.Version(), s.major())
	}
	defer s.Stop()

	ctx := context.Background()
	for _, name := range []string{"alpha", "beta"} {
		u, err := s.CreateDatabase(name)
		if err != nil {
			t.Fatal(err)
		}
		if want := "/" + name + "?sslmode=disable"; !strings.HasSuffix(u, want) || u != s.URL(name) {
			t.Errorf("CreateDatabase(%q) = %q, URL = %q", name, u, s.URL(name))
		}
		conn, err := pgx.Connect(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		var version, db string
		if err := conn.QueryRow(ctx, "SELECT version(), current_database()").Scan(&version, &db); err != nil {
			t.Fatal(err)
		}
		conn.Close(ctx)
		if !strings.HasPrefix(version, "PostgreSQL ") || db != name {
			t.Errorf("version() = %q, current_database() = %q", version, db)
		}
		t.Log(version)
	}
	if _, err := s.CreateDatabase("alpha"); err == nil {
		t.Error("CreateDatabase of an existing name succeeded")
	}
	if _, err := s.CreateDatabase(`x"; DROP DATABASE alpha; --`); err == nil {
		t.Error("CreateDatabase accepted a name that is not an identifier")
	}

	if s.proc == nil {
		return // external server: nothing of ours to stop
	}
	pid, dir := s.proc.Pid, s.dir
	t1 := time.Now()
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	t.Logf("Stop took %v", time.Since(t1))
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("postgres (pid %d) still exists after Stop: %v", pid, err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("%s still exists after Stop: %v", dir, err)
	}
	if _, err := pgx.Connect(ctx, s.URL("alpha")); err == nil {
		t.Error("connected after Stop")
	}
	if err := s.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
}

func TestSharedNewDatabase(t *testing.T) {
	s := Shared(t)
	if Shared(t) != s {
		t.Fatal("Shared returned a second server")
	}
	ctx := context.Background()
	t0 := time.Now()
	u1, u2 := s.NewDatabase(t), s.NewDatabase(t)
	t.Logf("two NewDatabase: %v", time.Since(t0))
	if u1 == u2 {
		t.Fatalf("NewDatabase twice gave %q", u1)
	}
	for _, u := range []string{u1, u2} {
		conn, err := pgx.Connect(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		var n int
		err = conn.QueryRow(ctx, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").Scan(&n)
		conn.Close(ctx)
		if err != nil || n != 0 {
			t.Errorf("%s: %d tables, %v; want a fresh empty database", u, n, err)
		}
	}
}

func TestBinDir(t *testing.T) {
	t.Setenv("PATH", t.TempDir()) // no pg_config: only the folder scan counts
	root := t.TempDir()
	if _, err := binDir(root); !errors.Is(err, ErrNotInstalled) {
		t.Fatalf("empty tree: %v; want ErrNotInstalled", err)
	}
	install := func(version string, names ...string) {
		d := filepath.Join(root, version, "bin")
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, n := range names {
			if err := os.WriteFile(filepath.Join(d, n), []byte("#!/bin/sh\n"), 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	install("9.6", "initdb", "postgres")
	install("15", "initdb", "postgres")
	install("16", "psql", "pg_dump") // client only: no server here
	got, err := binDir(root)
	if want := filepath.Join(root, "15", "bin"); err != nil || got != want {
		t.Errorf("binDir = %q, %v; want %q (highest with a server)", got, err, want)
	}
}

// TestExternal points SCIMFORGE_TEST_POSTGRES_URL at a running server:
// Start must use it, start nothing, and drop only its own databases on Stop.
func TestExternal(t *testing.T) {
	own := Shared(t)
	t.Setenv(EnvURL, own.AdminURL())
	s, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	if s.proc != nil || s.Port() != own.Port() {
		t.Fatalf("Start with %s started a server (port %d)", EnvURL, s.Port())
	}
	keep := own.NewDatabase(t)
	u, err := s.CreateDatabase("external_one")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	conn, err = pgx.Connect(ctx, own.AdminURL())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var gone, kept bool
	if err := conn.QueryRow(ctx, `SELECT NOT EXISTS (SELECT FROM pg_database WHERE datname = 'external_one'),
		EXISTS (SELECT FROM pg_database WHERE datname = $1)`, dbNameOf(t, keep)).Scan(&gone, &kept); err != nil {
		t.Fatal(err)
	}
	if !gone || !kept {
		t.Errorf("after Stop of the external Server: its database dropped %v, another kept %v", gone, kept)
	}
}

func TestSkipMode(t *testing.T) {
	reached := false
	t.Run("skip", func(t *testing.T) {
		t.Setenv(EnvMode, "skip")
		Shared(t)
		reached = true
	})
	if reached {
		t.Errorf("Shared with %s=skip did not skip", EnvMode)
	}
}

func dbNameOf(t *testing.T, raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimPrefix(u.Path, "/")
}
