package server

import (
	"context"
	"encoding/json"
	"fmt"
	history "github.com/scimforge/scimforge/migrations"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scimforge/scimforge/scim/sqlstore"
)

// call sends one request to h and decodes the JSON answer.
// serve sends one authenticated request (body as SCIM JSON, "" for none)
// through the whole handler stack, in process, and returns the answer.
// It asserts nothing, so goroutines and benchmarks can use it too.
func serve(h http.Handler, method, path, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+fuzzToken)
	if body != "" {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func call(t *testing.T, h http.Handler, method, path, body string, want int) map[string]any {
	t.Helper()
	rec := serve(h, method, path, body)
	if rec.Code != want {
		t.Fatalf("%s %s: %d, want %d: %s", method, path, rec.Code, want, rec.Body)
	}
	var v map[string]any
	if rec.Body.Len() > 0 {
		if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
	}
	return v
}

// groupsOf returns "display" of each group in a user's derived groups.
func groupsOf(t *testing.T, h http.Handler, id string) string {
	u := call(t, h, "GET", "/scim/v2/Users/"+id, "", 200)
	gs, _ := u["groups"].([]any)
	var names []string
	for _, g := range gs {
		names = append(names, fmt.Sprint(g.(map[string]any)["display"]))
	}
	return strings.Join(names, ",")
}

// TestCachedReadsFollowEveryWrite reads a user between each kind of write
// that changes it, directly or through its derived groups: a read served
// from the row cache must never show the state before the write.
func TestCachedReadsFollowEveryWrite(t *testing.T) {
	h := testHandler(t)
	user := func(name string) string {
		return call(t, h, "POST", "/scim/v2/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"`+name+`"}`, 201)["id"].(string)
	}
	alice, bob := user("alice"), user("bob")
	if got := groupsOf(t, h, alice); got != "" {
		t.Fatalf("new user in groups %q", got)
	}
	g := call(t, h, "POST", "/scim/v2/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Eng","members":[{"value":"`+alice+`"}]}`, 201)["id"].(string)
	if got := groupsOf(t, h, alice); got != "Eng" {
		t.Fatalf("after group create: %q", got)
	}
	groupsOf(t, h, bob) // cache bob while he is in no group
	call(t, h, "PUT", "/scim/v2/Groups/"+g, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Engineering","members":[{"value":"`+bob+`"}]}`, 200)
	if got := groupsOf(t, h, alice); got != "" {
		t.Errorf("alice after removal by replace: %q", got)
	}
	if got := groupsOf(t, h, bob); got != "Engineering" {
		t.Errorf("bob after addition by replace: %q", got)
	}
	call(t, h, "PUT", "/scim/v2/Users/"+bob, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"bob","displayName":"Bob B"}`, 200)
	if u := call(t, h, "GET", "/scim/v2/Users/"+bob, "", 200); u["displayName"] != "Bob B" {
		t.Errorf("user replace not visible: %v", u)
	}
	call(t, h, "DELETE", "/scim/v2/Groups/"+g, "", 204)
	if got := groupsOf(t, h, bob); got != "" {
		t.Errorf("bob after group delete: %q", got)
	}
	call(t, h, "DELETE", "/scim/v2/Users/"+bob, "", 204)
	call(t, h, "GET", "/scim/v2/Users/"+bob, "", 404)
}

func TestSecondServerOnSameDatabaseIsRefused(t *testing.T) {
	migrations := fs.FS(history.FS)
	url := "sqlite://" + filepath.Join(t.TempDir(), "one.db")
	db, err := sqlstore.Open(context.Background(), url, migrations, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if db.Cache == nil {
		t.Error("the only server has no row cache")
	}
	_, err = sqlstore.Open(context.Background(), url, migrations, sqlstore.Options{})
	if err == nil || !strings.Contains(err.Error(), "another scimforge server is using this database") {
		t.Fatalf("second open: %v", err)
	}
	db.Close()
	again, err := sqlstore.Open(context.Background(), url, migrations, sqlstore.Options{})
	if err != nil {
		t.Fatalf("open after close: %v", err)
	}
	again.Close()
}

// TestDeletingANestedGroupLeavesNoDanglingMember: a group can be a member
// of another group; deleting it must remove it from the parent's members.
func TestDeletingANestedGroupLeavesNoDanglingMember(t *testing.T) {
	h := testHandler(t)
	child := call(t, h, "POST", "/scim/v2/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Child"}`, 201)["id"].(string)
	parent := call(t, h, "POST", "/scim/v2/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Parent","members":[{"value":"`+child+`","type":"Group"}]}`, 201)["id"].(string)
	got := call(t, h, "GET", "/scim/v2/Groups/"+parent, "", 200)["members"].([]any)
	if len(got) != 1 || got[0].(map[string]any)["type"] != "Group" || got[0].(map[string]any)["display"] != "Child" {
		t.Fatalf("parent members = %v", got)
	}
	call(t, h, "DELETE", "/scim/v2/Groups/"+child, "", 204)
	if got := call(t, h, "GET", "/scim/v2/Groups/"+parent, "", 200)["members"].([]any); len(got) != 0 {
		t.Errorf("parent still lists the deleted group: %v", got)
	}
}
