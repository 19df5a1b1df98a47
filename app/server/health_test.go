package server

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scimforge/scimforge/scim/sqlstore"
)

// TestHealth: the probes answer without a token, SCIM still needs one, and
// readiness follows the database.
func TestHealth(t *testing.T) {
	db, _, err := Open(context.Background(), "sqlite://"+filepath.Join(t.TempDir(), "h.db"), sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	scim := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusUnauthorized) })
	h := WithHealth(scim, db)
	get := func(path string) (int, string) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		return rec.Code, rec.Body.String()
	}
	for _, p := range []string{"/healthz", "/readyz"} {
		if code, body := get(p); code != 200 || !strings.Contains(body, `"ok"`) {
			t.Errorf("%s: %d %s", p, code, body)
		}
	}
	if code, _ := get("/scim/v2/Users"); code != http.StatusUnauthorized {
		t.Errorf("the SCIM API answered %d without a token", code)
	}
	db.Close()
	if code, body := get("/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "database") {
		t.Errorf("readyz with the database closed: %d %s", code, body)
	}
	if code, _ := get("/healthz"); code != 200 {
		t.Errorf("healthz with the database closed: %d (liveness is the process, not the database)", code)
	}
}
