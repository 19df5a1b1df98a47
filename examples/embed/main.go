// Command embed is an existing application that mounts scimforge on its own
// http.ServeMux, over its own database handle and logger: Entra ID and Okta
// provision into /scim/v2/, the application serves everything else, and the
// example hooks (app/hooks) keep the application's tables (app_sessions,
// app_group_members) in step inside SCIM's transactions.
//
//	EMBED_TOKEN=secret go run ./examples/embed
//	curl -H 'Authorization: Bearer secret' localhost:8080/scim/v2/Users
//	curl localhost:8080/groups-of?user=ID
package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"

	_ "modernc.org/sqlite" // the application's SQLite driver ("sqlite")

	"github.com/scimforge/scimforge/app/server"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	if err := run(log); err != nil {
		log.Error("embed example failed", "err", err)
		os.Exit(1)
	}
}

func run(log *slog.Logger) error {
	token := os.Getenv("EMBED_TOKEN")
	if token == "" {
		return fmt.Errorf("set EMBED_TOKEN to the bearer token Entra ID or Okta will send")
	}
	// The application's own handle. SCIM needs foreign keys and a busy
	// timeout on every connection; WAL lets reads run beside writes.
	db, err := sql.Open("sqlite", "file:embed.db?_pragma=foreign_keys(1)&_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_txlock=immediate")
	if err != nil {
		return err
	}
	defer db.Close()
	h, closeApp, err := newApp(context.Background(), db, "sqlite", token, log)
	if err != nil {
		return err
	}
	defer closeApp()
	log.Info("listening", "addr", "127.0.0.1:8080")
	return http.ListenAndServe("127.0.0.1:8080", h)
}

// newApp is the application: its own routes, and SCIM under /scim/v2/.
func newApp(ctx context.Context, db *sql.DB, dialect, token string, log *slog.Logger) (http.Handler, func() error, error) {
	scim, err := server.Embed(ctx, server.Options{DB: db, Dialect: dialect, Logger: log, Token: token})
	if err != nil {
		return nil, nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/scim/v2/", scim)
	// An application route reading the table the Group hooks keep in step.
	mux.HandleFunc("GET /groups-of", func(w http.ResponseWriter, r *http.Request) {
		rows, err := db.QueryContext(r.Context(), `SELECT group_id FROM app_group_members WHERE tenant_id = 'default' AND user_id = ? ORDER BY group_id`, r.URL.Query().Get("user"))
		if err != nil {
			http.Error(w, "query failed", http.StatusInternalServerError)
			return
		}
		defer rows.Close()
		groups := []string{}
		for rows.Next() {
			var g string
			if err := rows.Scan(&g); err != nil {
				http.Error(w, "query failed", http.StatusInternalServerError)
				return
			}
			groups = append(groups, g)
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"groups": groups})
	})
	return mux, scim.Close, nil
}
