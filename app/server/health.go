package server

import (
	"context"
	"net/http"
	"time"

	"github.com/scimforge/scimforge/scim/sqlstore"
)

// WithHealth serves the probes load balancers and orchestrators use beside
// h, outside the SCIM base path and without authentication (they reveal
// nothing but "up"):
//
//	GET /healthz  200 while the process serves requests (liveness)
//	GET /readyz   200 when the database answers within 2 s, else 503
//	              (readiness; migrations were applied before the server
//	              started listening, or it would not have started);
//	              503 too once a graceful shutdown began (Ops.Drain)
func WithHealth(h http.Handler, db *sqlstore.DB) http.Handler {
	return withHealth(h, db, nil)
}

func withHealth(h http.Handler, db *sqlstore.DB, draining func() bool) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		probe(w, http.StatusOK, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if draining != nil && draining() {
			probe(w, http.StatusServiceUnavailable, "draining: shutting down")
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := db.Ping(ctx); err != nil {
			probe(w, http.StatusServiceUnavailable, "the database does not answer")
			return
		}
		probe(w, http.StatusOK, "ok")
	})
	mux.Handle("/", h)
	return mux
}

func probe(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write([]byte(`{"status":"` + msg + `"}` + "\n"))
}
