package hooks_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/scimforge/scimforge/app/config"
	"github.com/scimforge/scimforge/app/server"
	"github.com/scimforge/scimforge/internal/pgtest"
	"github.com/scimforge/scimforge/scim/sqlstore"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// The example hooks against the real server, on both engines: these are
// the behaviours docs/hooks.md promises.

type env struct {
	t  *testing.T
	h  http.Handler
	db *sqlstore.DB
}

const token = "hooks-test-token"

func engines(t *testing.T, f func(t *testing.T, e *env)) {
	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) {
			url := "sqlite://" + filepath.Join(t.TempDir(), "h.db")
			if engine == "postgres" {
				url = pgtest.Shared(t).NewDatabase(t)
			}
			db, creds, err := server.Open(context.Background(), url, sqlstore.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			cfg := &config.Config{Token: token, AllowedDomains: []string{"example.com"}}
			h, err := server.Handler(cfg, db, creds, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			f(t, &env{t: t, h: h, db: db})
		})
	}
}

func (e *env) do(method, path, body string, want int) map[string]any {
	e.t.Helper()
	req := httptest.NewRequest(method, "/scim/v2"+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	if body != "" {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	if rec.Code != want {
		e.t.Fatalf("%s %s: %d %s, want %d", method, path, rec.Code, rec.Body, want)
	}
	var out map[string]any
	if rec.Body.Len() > 0 {
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			e.t.Fatalf("%s %s: %v", method, path, err)
		}
	}
	return out
}

func (e *env) user(name string) string {
	e.t.Helper()
	return e.do("POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"`+name+`"}`, 201)["id"].(string)
}

func (e *env) exec(q string, args ...any) {
	e.t.Helper()
	if _, err := e.db.Write.ExecContext(context.Background(), q, args...); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) count(q string, args ...any) int {
	e.t.Helper()
	var n int
	if err := e.db.Write.QueryRowContext(context.Background(), q, args...).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

func (e *env) sessions(user string) int {
	return e.count(`SELECT COUNT(*) FROM app_sessions WHERE tenant_id = 'default' AND user_id = ?`, user)
}

func (e *env) login(user, session string) {
	e.exec(`INSERT INTO app_sessions (tenant_id, session_id, user_id, created) VALUES ('default', ?, ?, '2026-12-03T00:00:00Z')`, session, user)
}

const deactivate = `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"active","value":"False"}]}`

func TestSessionsRevokedOnDeactivation(t *testing.T) {
	engines(t, func(t *testing.T, e *env) {
		a, b := e.user("a@example.com"), e.user("b@example.com")
		e.login(a, "s1")
		e.login(a, "s2")
		e.login(b, "s3")

		// Another update keeps the sessions.
		e.do("PATCH", "/Users/"+a, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"displayName","value":"A"}]}`, 204)
		if n := e.sessions(a); n != 2 {
			t.Fatalf("a rename revoked sessions: %d left, want 2", n)
		}
		// A deactivation that the domain policy rejects rolls back whole:
		// the sessions stay and the user stays active.
		e.do("PATCH", "/Users/"+a, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":false},{"op":"replace","path":"userName","value":"a@evil.com"}]}`, 400)
		if n := e.sessions(a); n != 2 {
			t.Fatalf("a rejected deactivation revoked sessions: %d left, want 2", n)
		}
		if got := e.do("GET", "/Users/"+a, "", 200); got["active"] == false {
			t.Fatal("a rejected deactivation was stored")
		}
		// Entra ID's deactivation (PATCH active "False") revokes them.
		e.do("PATCH", "/Users/"+a, deactivate, 204)
		if n := e.sessions(a); n != 0 {
			t.Fatalf("deactivation left %d sessions", n)
		}
		// Okta's deactivation is a PUT with active false.
		e.do("PUT", "/Users/"+b, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"b@example.com","active":false}`, 200)
		if n := e.sessions(b); n != 0 {
			t.Fatalf("a PUT deactivation left %d sessions", n)
		}
		// Deleting a user revokes what a reactivated user logged in with.
		e.do("PATCH", "/Users/"+b, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":true}]}`, 204)
		e.login(b, "s4")
		e.do("DELETE", "/Users/"+b, "", 204)
		if n := e.sessions(b); n != 0 {
			t.Fatalf("delete left %d sessions", n)
		}
	})
}

func TestDomainPolicyOverHTTP(t *testing.T) {
	engines(t, func(t *testing.T, e *env) {
		got := e.do("POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"x@evil.com"}`, 400)
		if got["scimType"] != "invalidValue" || !strings.Contains(got["detail"].(string), "allowed domain") {
			t.Fatalf("rejection: %v", got)
		}
		if n := e.count(`SELECT COUNT(*) FROM scim_users`); n != 0 {
			t.Fatalf("a rejected user was stored (%d rows)", n)
		}
	})
}

// appMembers is the application's table for one group, sorted.
func (e *env) appMembers(group string) []string {
	e.t.Helper()
	rows, err := e.db.Write.QueryContext(context.Background(), `SELECT user_id FROM app_group_members WHERE tenant_id = 'default' AND group_id = ?`, group)
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			e.t.Fatal(err)
		}
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

// scimMembers is the group's user members as SCIM serves them, sorted.
func (e *env) scimMembers(group string) []string {
	e.t.Helper()
	g := e.do("GET", "/Groups/"+group, "", 200)
	out := []string{}
	ms, _ := g["members"].([]any)
	for _, m := range ms {
		m := m.(map[string]any)
		if m["type"] == "User" {
			out = append(out, m["value"].(string))
		}
	}
	sort.Strings(out)
	return out
}

func TestGroupMembershipTableInStep(t *testing.T) {
	engines(t, func(t *testing.T, e *env) {
		u := make([]string, 5)
		for i := range u {
			u[i] = e.user(string(rune('a'+i)) + "@example.com")
		}
		check := func(step, g string) {
			t.Helper()
			app, scim := e.appMembers(g), e.scimMembers(g)
			if !slices.Equal(app, scim) {
				t.Fatalf("%s: app table %v, SCIM %v", step, app, scim)
			}
		}
		member := func(id string) string { return `{"value":"` + id + `"}` }
		g := e.do("POST", "/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"g","members":[`+member(u[0])+`,`+member(u[1])+`]}`, 201)["id"].(string)
		check("create with members", g)
		if len(e.appMembers(g)) != 2 {
			t.Fatal("created members not recorded")
		}
		patch := func(ops string, want int) {
			e.do("PATCH", "/Groups/"+g, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[`+ops+`]}`, want)
		}
		patch(`{"op":"add","path":"members","value":[`+member(u[2])+`,`+member(u[3])+`]}`, 204)
		check("add", g)
		patch(`{"op":"add","path":"members","value":[`+member(u[2])+`]}`, 204) // already there
		check("add again", g)
		patch(`{"op":"remove","path":"members[value eq \"`+u[0]+`\"]"}`, 204) // Entra's remove
		check("remove by filter", g)
		patch(`{"op":"remove","path":"members","value":[`+member(u[1])+`]}`, 204) // Okta's remove
		check("remove by value", g)
		// A member that does not exist fails the whole PATCH: nothing changes.
		before := e.appMembers(g)
		patch(`{"op":"add","path":"members","value":[`+member(u[4])+`]},{"op":"add","path":"members","value":[{"value":"no-such-id"}]}`, 400)
		if after := e.appMembers(g); !slices.Equal(before, after) {
			t.Fatalf("a failed PATCH changed the app table: %v -> %v", before, after)
		}
		check("failed add", g)
		e.do("PUT", "/Groups/"+g, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"g","members":[`+member(u[3])+`,`+member(u[4])+`]}`, 200)
		check("replace by PUT", g)
		patch(`{"op":"replace","path":"members","value":[`+member(u[0])+`]}`, 204)
		check("replace by PATCH", g)
		patch(`{"op":"add","path":"members","value":[`+member(u[1])+`]}`, 204)
		e.do("DELETE", "/Users/"+u[1], "", 204) // a member user deleted
		check("member deleted", g)
		if got := e.appMembers(g); !slices.Equal(got, []string{u[0]}) {
			t.Fatalf("after the member's delete: %v, want [%s]", got, u[0])
		}
		e.do("DELETE", "/Groups/"+g, "", 204)
		if n := e.count(`SELECT COUNT(*) FROM app_group_members WHERE group_id = ?`, g); n != 0 {
			t.Fatalf("group deleted, %d app rows left", n)
		}
	})
}
