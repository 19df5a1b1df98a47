package server

import (
	"context"
	"database/sql"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the application's PostgreSQL driver ("pgx")

	"github.com/scimforge/scimforge/app/config"
	"github.com/scimforge/scimforge/internal/pgtest"
	"github.com/scimforge/scimforge/scim/sqlstore"
)

// TestEmbed mounts SCIM on an application's own mux, over the
// application's own handle, on both engines: SCIM serves /scim/v2/, the
// application its own routes, and both see the same data.
func TestEmbed(t *testing.T) {
	for _, eng := range []string{"sqlite", "postgres"} {
		t.Run(eng, func(t *testing.T) {
			ctx := context.Background()
			var db *sql.DB
			var err error
			if eng == "sqlite" {
				db, err = sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "app.db")+"?_pragma=foreign_keys(1)&_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_txlock=immediate")
			} else {
				db, err = sql.Open("pgx", pgtest.Shared(t).NewDatabase(t))
			}
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			// The application's own table, created before SCIM arrives.
			if _, err := db.ExecContext(ctx, `CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)`); err != nil {
				t.Fatal(err)
			}
			scim, err := Embed(ctx, Options{DB: db, Dialect: eng, Logger: slog.New(slog.DiscardHandler), Token: "embedded-token-123"})
			if err != nil {
				t.Fatal(err)
			}
			mux := http.NewServeMux()
			mux.Handle("/scim/v2/", scim)
			mux.HandleFunc("GET /hello", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("the app")) })
			srv := httptest.NewServer(mux)
			defer srv.Close()

			req := func(method, path, body string) (int, map[string]any) {
				r, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
				r.Header.Set("Authorization", "Bearer embedded-token-123")
				r.Header.Set("Content-Type", "application/scim+json")
				resp, err := http.DefaultClient.Do(r)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				var out map[string]any
				json.NewDecoder(resp.Body).Decode(&out)
				return resp.StatusCode, out
			}
			code, u := req("POST", "/scim/v2/Users", userBody("embedded@example.com"))
			if code != 201 || !strings.HasPrefix(u["meta"].(map[string]any)["location"].(string), srv.URL+"/scim/v2/Users/") {
				t.Fatalf("create: %d %v", code, u)
			}
			code, g := req("POST", "/scim/v2/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"g","members":[{"value":"`+u["id"].(string)+`"}]}`)
			if code != 201 {
				t.Fatalf("group: %d %v", code, g)
			}
			if code, _ := req("GET", "/scim/v2/Users?filter=userName%20eq%20%22embedded@example.com%22", ""); code != 200 {
				t.Fatalf("filter: %d", code)
			}
			if code, body := req("GET", "/scim/v2/Users", ""); code != 200 || body["totalResults"] != float64(1) {
				t.Fatalf("list: %d %v", code, body)
			}
			// Unauthenticated requests are refused as usual.
			r, _ := http.Get(srv.URL + "/scim/v2/Users")
			r.Body.Close()
			if r.StatusCode != 401 {
				t.Fatalf("no token: %d", r.StatusCode)
			}
			// The application's route is untouched, and its handle sees
			// what SCIM and the example hooks wrote.
			r, _ = http.Get(srv.URL + "/hello")
			r.Body.Close()
			if r.StatusCode != 200 {
				t.Fatalf("the app's own route: %d", r.StatusCode)
			}
			var n int
			if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM app_group_members`).Scan(&n); err != nil || n != 1 {
				t.Fatalf("app_group_members through the app's handle: %d %v", n, err)
			}
			// The application reads the change feed through the Go API.
			evs, err := scim.Feed.Read(ctx, "default", 0, 100)
			if err != nil || len(evs) != 2 || evs[0].Op != "create" || evs[0].ID != u["id"] || evs[1].ResourceType != "Group" ||
				len(evs[1].MembersAdded) != 1 || evs[1].MembersAdded[0] != u["id"] || evs[1].Seq != evs[0].Seq+1 {
				t.Fatalf("feed: %+v %v", evs, err)
			}
			if err := scim.Close(); err != nil {
				t.Fatal(err)
			}
			if err := db.PingContext(ctx); err != nil {
				t.Fatalf("Close closed the application's handle: %v", err)
			}
		})
	}
}

// TestEmbedRefusesUnsafeSQLiteHandle: without foreign keys a deleted user
// would stay a member; the error says which pragma to add.
func TestEmbedRefusesUnsafeSQLiteHandle(t *testing.T) {
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "app.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_, err = Embed(context.Background(), Options{DB: db, Dialect: "sqlite"})
	if err == nil || !strings.Contains(err.Error(), "foreign_keys(1)") {
		t.Fatalf("got %v, want an error naming foreign_keys(1)", err)
	}
	if _, err := Embed(context.Background(), Options{DB: db, Dialect: "mysql"}); err == nil {
		t.Fatal("an unknown dialect was accepted")
	}
}

// TestSharedSQLite: with SCIMFORGE_SQLITE_SHARED another process (here,
// another handle) reads and writes the file while the server has it open.
func TestSharedSQLite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	db, creds, err := Open(context.Background(), "sqlite://"+path, sqlstore.Options{Shared: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if db.Cache != nil {
		t.Fatal("a shared store has a row cache: another process's writes would not be seen")
	}
	h, err := Handler(&config.Config{Token: "shared-token-1234"}, db, creds, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	expect(t, as(h, "shared-token-1234", "", "POST", "/scim/v2/Users", userBody("shared")), 201, "create")
	other, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	var n int
	if err := other.QueryRow(`SELECT COUNT(*) FROM scim_users`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("another handle reads %d users (%v)", n, err)
	}
	if _, err := other.Exec(`INSERT INTO app_sessions (tenant_id, session_id, user_id, created) VALUES ('default', 's', 'u', 'x')`); err != nil {
		t.Fatalf("another handle cannot write its own table: %v", err)
	}
	expect(t, as(h, "shared-token-1234", "", "POST", "/scim/v2/Users", userBody("shared2")), 201, "create after the other handle wrote")
}
