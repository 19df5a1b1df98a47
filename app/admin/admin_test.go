package admin_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scimforge/scimforge/app/admin"
	"github.com/scimforge/scimforge/app/config"
	"github.com/scimforge/scimforge/app/server"
	"github.com/scimforge/scimforge/generated/discovery"
	"github.com/scimforge/scimforge/scim/conformance"
	"github.com/scimforge/scimforge/scim/credential"
	"github.com/scimforge/scimforge/scim/sqlstore"
	"github.com/scimforge/scimforge/scim/web"
)

// running is a server on a temporary SQLite file: its handler and its
// admin socket, as server.New sets them up.
type running struct {
	url   string
	h     http.Handler
	sock  *admin.Listener
	db    *sqlstore.DB
	creds *credential.Store
}

func start(t *testing.T, tenancy web.Tenancy) *running {
	t.Helper()
	return startWith(t, &config.Config{Tenancy: tenancy})
}

// startWith is start with the server's configuration.
func startWith(t *testing.T, cfg *config.Config) *running {
	t.Helper()
	path := filepath.Join(t.TempDir(), "s.db")
	url := "sqlite://" + path
	db, creds, err := server.Open(context.Background(), url, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	log := slog.New(slog.DiscardHandler)
	h, err := server.Handler(cfg, db, creds, log)
	if err != nil {
		t.Fatal(err)
	}
	// The test creates users with a userName alone; an app whose schema
	// requires more gets sample values for it.
	set, err := discovery.Load()
	if err != nil {
		t.Fatal(err)
	}
	h = conformance.FillRequiredHandler(set, config.BasePath, conformance.ShippedRequired, h)
	data, err := server.NewData(db, log)
	if err != nil {
		t.Fatal(err)
	}
	sock, err := admin.Listen(admin.SocketPath(path), admin.Backend{Creds: creds, Data: data}, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sock.Close() })
	return &running{url: url, h: h, sock: sock, db: db, creds: creds}
}

// cli runs one command; opening the database is a test failure when
// direct is false (the command must go through the server's socket).
func cli(t *testing.T, url string, tenancy web.Tenancy, direct bool, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	c := &admin.CLI{
		DatabaseURL: url,
		Tenancy:     tenancy,
		Open: func(ctx context.Context, url string) (admin.Backend, func() error, error) {
			if !direct {
				t.Errorf("%v: opened the database while a server holds it", args)
				return admin.Backend{}, nil, errors.New("locked")
			}
			db, creds, err := server.Open(ctx, url, sqlstore.Options{NoCache: true})
			if err != nil {
				return admin.Backend{}, nil, err
			}
			data, err := server.NewData(db, slog.New(slog.DiscardHandler))
			if err != nil {
				db.Close()
				return admin.Backend{}, nil, err
			}
			return admin.Backend{Creds: creds, Data: data}, db.Close, nil
		},
		Stdout: &out,
		Stderr: &errOut,
	}
	err = c.Run(context.Background(), args)
	return out.String(), errOut.String(), err
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

func get(h http.Handler, token, path string) int {
	r := httptest.NewRequest("GET", path, nil)
	r.Header.Set("Authorization", "Bearer "+token)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec.Code
}

// TestTokenCreateThroughSocket: while the server holds the SQLite file,
// token create reaches it through the admin socket, prints the token alone
// on its last line, and the token works at once; list never shows it;
// revoke stops it at once.
func TestTokenCreateThroughSocket(t *testing.T) {
	srv := start(t, web.TenancyNone)
	// The server really holds the file: a second open fails.
	if _, _, err := server.Open(context.Background(), srv.url, sqlstore.Options{}); err == nil {
		t.Fatal("a second process could open the database")
	}
	if fi, err := os.Stat(admin.SocketPath(strings.TrimPrefix(srv.url, "sqlite://"))); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket: %v %v", fi, err)
	}
	out, errOut, err := cli(t, srv.url, web.TenancyNone, false, "token", "create", "--label", "okta")
	if err != nil {
		t.Fatal(err)
	}
	token := lastLine(out)
	if !strings.HasPrefix(token, "sfg_default_") || strings.Contains(token, " ") || out != token+"\n" {
		t.Fatalf("stdout %q", out)
	}
	if strings.Contains(errOut, token) || !strings.Contains(errOut, "never again") {
		t.Fatalf("stderr %q", errOut)
	}
	if code := get(srv.h, token, "/scim/v2/Users"); code != 200 {
		t.Fatalf("new token: %d", code)
	}
	list, _, err := cli(t, srv.url, web.TenancyNone, false, "token", "list")
	if err != nil || strings.Contains(list, token) || strings.Contains(list, token[12:20]) || !strings.Contains(list, "okta") {
		t.Fatalf("token list %q %v", list, err)
	}
	id := strings.Fields(strings.Split(list, "\n")[1])[0]
	if _, _, err := cli(t, srv.url, web.TenancyNone, false, "token", "revoke", id); err != nil {
		t.Fatal(err)
	}
	if code := get(srv.h, token, "/scim/v2/Users"); code != 401 {
		t.Fatalf("revoked token: %d", code)
	}
	if _, _, err := cli(t, srv.url, web.TenancyNone, false, "token", "revoke", "nope"); err == nil || !strings.Contains(err.Error(), "no such token") {
		t.Fatalf("revoke unknown: %v", err)
	}
}

// TestTenantsThroughSocket: path tenancy; tenants and their tokens are
// managed while the server runs, and --tenant is required.
func TestTenantsThroughSocket(t *testing.T) {
	srv := start(t, web.TenancyPath)
	run := func(args ...string) string {
		t.Helper()
		out, _, err := cli(t, srv.url, web.TenancyPath, false, args...)
		if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		return out
	}
	run("tenant", "add", "acme")
	if _, _, err := cli(t, srv.url, web.TenancyPath, false, "tenant", "add", "acme"); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("duplicate tenant: %v", err)
	}
	if _, _, err := cli(t, srv.url, web.TenancyPath, false, "token", "create"); err == nil || !strings.Contains(err.Error(), "--tenant") {
		t.Fatalf("create without --tenant: %v", err)
	}
	tok := lastLine(run("token", "create", "--tenant", "acme"))
	if code := get(srv.h, tok, "/t/acme/scim/v2/Users"); code != 200 {
		t.Fatalf("acme token: %d", code)
	}
	if list := run("tenant", "list"); !strings.Contains(list, "acme") || !strings.Contains(list, "default") {
		t.Fatalf("tenant list %q", list)
	}
	run("tenant", "remove", "acme")
	if code := get(srv.h, tok, "/t/acme/scim/v2/Users"); code != 401 {
		t.Fatalf("token of a removed tenant: %d", code)
	}
	if _, _, err := cli(t, srv.url, web.TenancyPath, false, "token", "list", "--tenant", "acme"); err == nil {
		t.Fatal("tokens of a removed tenant listed")
	}
}

// TestDirectWithoutServer: with no server running the commands open the
// database themselves (a stale socket left by a killed server is ignored),
// and a later server accepts the token.
func TestDirectWithoutServer(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d.db")
	url := "sqlite://" + path
	// A stale socket file nobody listens on, as a killed server leaves it.
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: admin.SocketPath(path), Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	ln.SetUnlinkOnClose(false)
	ln.Close()
	if _, err := os.Stat(admin.SocketPath(path)); err != nil {
		t.Fatal("no stale socket:", err)
	}
	out, _, err := cli(t, url, web.TenancyNone, true, "token", "create")
	if err != nil {
		t.Fatal(err)
	}
	token := lastLine(out)
	if _, _, err := cli(t, url, web.TenancyNone, true, "token", "create", "--tenant", "default"); err == nil || !strings.Contains(err.Error(), "--tenant") {
		t.Fatalf("--tenant in none mode: %v", err)
	}
	// A server started now (without SCIMFORGE_TOKEN: the stored token
	// suffices) replaces the stale socket and accepts the token.
	srv, err := server.New(context.Background(), &config.Config{DatabaseURL: url, Tenancy: web.TenancyNone}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if srv.Admin == nil {
		t.Fatal("no admin socket")
	}
	if code := get(srv.HTTP.Handler, token, "/scim/v2/Users"); code != 200 {
		t.Fatalf("token created offline: %d", code)
	}
	if out, _, err := cli(t, url, web.TenancyNone, false, "token", "list"); err != nil || strings.Count(out, "\n") != 2 {
		t.Fatalf("token list through the new server: %q %v", out, err)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(admin.SocketPath(path)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("socket left after Close: %v", err)
	}
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{{"token"}, {"token", "nope"}, {"tenant", "add"}, {"token", "revoke"}, {"tenant", "list", "x"}} {
		_, _, err := cli(t, "sqlite://"+filepath.Join(t.TempDir(), "u.db"), web.TenancyNone, true, args...)
		var ue *admin.UsageError
		if !errors.As(err, &ue) {
			t.Errorf("%v: %v, want a usage error", args, err)
		}
	}
	out, _, err := cli(t, "sqlite://unused", web.TenancyNone, false, "token", "generate")
	if err != nil || len(strings.TrimSpace(out)) != 64 {
		t.Fatalf("token generate: %q %v", out, err)
	}
}

// TestReindexThroughSocket: scimforge reindex runs in the server that
// holds the file; documents that would give two users one userName are
// listed (value, tenant, ids) with ErrDuplicates, for --check too, and
// nothing changes until the data is fixed.
func TestReindexThroughSocket(t *testing.T) {
	srv := start(t, web.TenancyNone)
	ctx := context.Background()
	token, _, err := srv.creds.CreateToken(ctx, "default", "test")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, name := range []string{"alice", "bob"} {
		r := httptest.NewRequest("POST", "/scim/v2/Users", strings.NewReader(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"`+name+`"}`))
		r.Header.Set("Authorization", "Bearer "+token)
		r.Header.Set("Content-Type", "application/scim+json")
		rec := httptest.NewRecorder()
		srv.h.ServeHTTP(rec, r)
		var u struct{ ID string }
		if err := json.Unmarshal(rec.Body.Bytes(), &u); rec.Code != 201 || err != nil {
			t.Fatalf("create %s: %d %s", name, rec.Code, rec.Body)
		}
		ids = append(ids, u.ID)
	}
	// bob's document says "Alice"; his column, which the index checks, still says bob.
	if _, err := srv.db.Write.ExecContext(ctx, `UPDATE scim_users SET doc = replace(doc, '"bob"', '"Alice"') WHERE id = ?`, ids[1]); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"reindex", "--check"}, {"reindex"}} {
		out, _, err := cli(t, srv.url, web.TenancyNone, false, args...)
		if !errors.Is(err, admin.ErrDuplicates) {
			t.Fatalf("%v: %v, want ErrDuplicates\n%s", args, err, out)
		}
		want := `scim_users.user_name = "alice" in tenant "default": 2 rows, ids ` + ids[0] + ", " + ids[1]
		if !strings.Contains(out, want) || !strings.Contains(out, "Group: 0 resources") {
			t.Errorf("%v: output lacks %q:\n%s", args, want, out)
		}
	}
	if code := get(srv.h, token, "/scim/v2/Users?filter=userName%20eq%20%22bob%22"); code != 200 {
		t.Fatalf("filter: %d", code)
	}
	var n int
	if err := srv.db.Write.QueryRowContext(ctx, `SELECT count(*) FROM scim_users WHERE user_name = 'bob'`).Scan(&n); err != nil || n != 1 {
		t.Errorf("bob's column changed: %d %v", n, err)
	}
	// Fixed through the data: the reindex goes through.
	if _, err := srv.db.Write.ExecContext(ctx, `UPDATE scim_users SET doc = replace(doc, '"Alice"', '"Bobby"') WHERE id = ?`, ids[1]); err != nil {
		t.Fatal(err)
	}
	out, _, err := cli(t, srv.url, web.TenancyNone, false, "reindex")
	if err != nil || !strings.Contains(out, "User: 2 resources, 1 changed") {
		t.Fatalf("reindex after the fix: %v\n%s", err, out)
	}
	if _, _, err := cli(t, srv.url, web.TenancyNone, false, "reindex", "now"); err == nil {
		t.Error("reindex with an argument ran")
	}
}
