package server

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scimforge/scimforge/app/config"
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

// TestBlankRequiredStringRefused: a userName of only white space is as
// absent as an empty one, on create and on a PATCH that would store it.
func TestBlankRequiredStringRefused(t *testing.T) {
	h, _ := tenantHandler(t, &config.Config{Token: "blank-test-token-123"})
	for _, name := range []string{"   ", "\t\n"} {
		body, _ := json.Marshal(map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"}, "userName": name})
		got := expect(t, as(h, "blank-test-token-123", "", "POST", "/scim/v2/Users", string(body)), 400, "blank userName")
		if got["scimType"] != "invalidValue" || !strings.Contains(got["detail"].(string), "blank") {
			t.Fatalf("%q: %v", name, got)
		}
	}
	id := expect(t, as(h, "blank-test-token-123", "", "POST", "/scim/v2/Users", userBody("kept")), 201, "create")["id"].(string)
	expect(t, as(h, "blank-test-token-123", "", "PATCH", "/scim/v2/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"userName","value":"  "}]}`), 400, "PATCH to a blank userName")
	if got := expect(t, as(h, "blank-test-token-123", "", "GET", "/scim/v2/Users/"+id, ""), 200, "read back"); got["userName"] != "kept" {
		t.Fatalf("userName became %q", got["userName"])
	}
}
