package main

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
)

// TestEmbeddedApp provisions a user and a group through the application's
// mux and reads the membership back through the application's own route.
func TestEmbeddedApp(t *testing.T) {
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "embed.db")+"?_pragma=foreign_keys(1)&_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	h, closeApp, err := newApp(context.Background(), db, "sqlite", "example-token-123456", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer closeApp()
	do := func(method, path, body string, want int) map[string]any {
		t.Helper()
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer example-token-123456")
		req.Header.Set("Content-Type", "application/scim+json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != want {
			t.Fatalf("%s %s: %d %s", method, path, rec.Code, rec.Body)
		}
		var out map[string]any
		json.Unmarshal(rec.Body.Bytes(), &out)
		return out
	}
	u := do("POST", "/scim/v2/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ann@example.com"}`, http.StatusCreated)["id"].(string)
	g := do("POST", "/scim/v2/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"staff"}`, http.StatusCreated)["id"].(string)
	do("PATCH", "/scim/v2/Groups/"+g, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"members","value":[{"value":"`+u+`"}]}]}`, http.StatusNoContent)
	got := do("GET", "/groups-of?user="+u, "", http.StatusOK)
	if gs, _ := got["groups"].([]any); len(gs) != 1 || gs[0] != g {
		t.Fatalf("the application sees groups %v, want [%s]", got["groups"], g)
	}
	do("DELETE", "/scim/v2/Groups/"+g, "", http.StatusNoContent)
	if gs, _ := do("GET", "/groups-of?user="+u, "", http.StatusOK)["groups"].([]any); len(gs) != 0 {
		t.Fatalf("after the group's delete the application still sees %v", gs)
	}
}
