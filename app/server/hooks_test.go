package server

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/scimforge/scimforge/app/config"
	"github.com/scimforge/scimforge/generated/api"
	"github.com/scimforge/scimforge/generated/resource"
	"github.com/scimforge/scimforge/internal/pgtest"
	"github.com/scimforge/scimforge/scim/engine"
	"github.com/scimforge/scimforge/scim/scimerr"
	"github.com/scimforge/scimforge/scim/sqlstore"
)

// The hook contract (docs/hooks.md), over HTTP on both engines, with hooks
// written for the test. Only core attributes are used, so the test holds
// for any schema.

type probeUser struct {
	resource.UnimplementedUserHooks
	mu    sync.Mutex
	after []*resource.UserWrite
}

func (h *probeUser) BeforeCreate(ctx context.Context, w *resource.UserWrite) error {
	// Every Before hook may write the application's rows in the write's
	// transaction; the rejections below must roll them back.
	if _, err := w.Tx.ExecContext(ctx, `INSERT INTO app_sessions (tenant_id, session_id, user_id, created) VALUES (?, ?, ?, 'x')`, w.Tenant, "s-"+w.ID, w.ID); err != nil {
		return err
	}
	switch w.New.UserName {
	case "reject-scim":
		return scimerr.New(403, "", "provisioning is closed")
	case "reject-plain":
		return errors.New("the hook's database is down: secret detail")
	case "modify":
		w.New.DisplayName = "Set By Hook"
	case "invalid":
		w.New.UserName = "" // validation runs again after the hook: a 400
	case "panic":
		panic("hook bug")
	}
	return nil
}

func (h *probeUser) BeforeDelete(ctx context.Context, w *resource.UserWrite) error {
	if w.Old.UserName == "undeletable" {
		return scimerr.New(409, "", "this user owns data; transfer it first")
	}
	return nil
}

func (h *probeUser) record(w *resource.UserWrite) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.after = append(h.after, w)
	if w.New != nil && w.New.UserName == "after-fails" {
		return errors.New("after hook failed")
	}
	return nil
}

func (h *probeUser) AfterCreate(ctx context.Context, w *resource.UserWrite) error { return h.record(w) }
func (h *probeUser) AfterPatch(ctx context.Context, w *resource.UserWrite) error  { return h.record(w) }
func (h *probeUser) AfterReplace(ctx context.Context, w *resource.UserWrite) error {
	return h.record(w)
}
func (h *probeUser) AfterDelete(ctx context.Context, w *resource.UserWrite) error { return h.record(w) }

func (h *probeUser) last() *resource.UserWrite {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.after[len(h.after)-1]
}

type probeGroup struct {
	resource.UnimplementedGroupHooks
	changes []engine.MemberChange
}

func (h *probeGroup) BeforeMembersChange(ctx context.Context, c *engine.MemberChange) error {
	for _, m := range c.Added {
		if m.ID == h.forbidden() {
			return scimerr.BadRequest(scimerr.InvalidValue, "this user may not join groups")
		}
	}
	return nil
}

var forbiddenMember string

func (h *probeGroup) forbidden() string { return forbiddenMember }

func (h *probeGroup) AfterMembersChange(ctx context.Context, c *engine.MemberChange) error {
	h.changes = append(h.changes, *c)
	return nil
}

func TestHookContract(t *testing.T) {
	for _, eng := range []string{"sqlite", "postgres"} {
		t.Run(eng, func(t *testing.T) {
			url := "sqlite://" + filepath.Join(t.TempDir(), "h.db")
			if eng == "postgres" {
				url = pgtest.Shared(t).NewDatabase(t)
			}
			db, creds, err := Open(context.Background(), url, sqlstore.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			var logs bytes.Buffer
			log := slog.New(slog.NewTextHandler(&logs, nil))
			uh, gh := &probeUser{}, &probeGroup{}
			h, err := HandlerWith(&config.Config{Token: "tok"}, db, creds, log, Parts{Hooks: &api.Hooks{User: uh, Group: gh}})
			if err != nil {
				t.Fatal(err)
			}
			do := func(method, path, body string, want int) map[string]any {
				t.Helper()
				return expect(t, as(h, "tok", "", method, "/scim/v2"+path, body), want, method+" "+path)
			}
			count := func(q string) int {
				var n int
				if err := db.Write.QueryRowContext(context.Background(), q).Scan(&n); err != nil {
					t.Fatal(err)
				}
				return n
			}
			nothingStored := func(step string) {
				t.Helper()
				if n := count(`SELECT COUNT(*) FROM scim_users`); n != 0 {
					t.Fatalf("%s: %d users stored", step, n)
				}
				if n := count(`SELECT COUNT(*) FROM app_sessions`); n != 0 {
					t.Fatalf("%s: the hook's own row survived the rollback", step)
				}
			}

			// A SCIM error of the hook's choosing reaches the client as is.
			got := do("POST", "/Users", userBody("reject-scim"), 403)
			if got["detail"] != "provisioning is closed" {
				t.Fatalf("rejection: %v", got)
			}
			nothingStored("rejected by a SCIM error")
			// Any other error is a 500 that says nothing about the cause.
			got = do("POST", "/Users", userBody("reject-plain"), 500)
			if strings.Contains(got["detail"].(string), "secret detail") {
				t.Fatalf("a hook's error leaked to the client: %v", got)
			}
			if !strings.Contains(logs.String(), "secret detail") {
				t.Fatal("a hook's error was not logged")
			}
			nothingStored("rejected by a plain error")
			// A change that breaks validation is refused like a bad request.
			got = do("POST", "/Users", userBody("invalid"), 400)
			if got["scimType"] != "invalidValue" {
				t.Fatalf("a hook's invalid change: %v", got)
			}
			nothingStored("invalid change")
			// A panicking hook is a 500 and stores nothing.
			do("POST", "/Users", userBody("panic"), 500)
			nothingStored("panic")

			// A hook's change is stored and returned; the app row commits with it.
			got = do("POST", "/Users", userBody("modify"), 201)
			if got["displayName"] != "Set By Hook" {
				t.Fatalf("the hook's change was not stored: %v", got)
			}
			id := got["id"].(string)
			if got := do("GET", "/Users/"+id, "", 200); got["displayName"] != "Set By Hook" {
				t.Fatalf("read back: %v", got)
			}
			if n := count(`SELECT COUNT(*) FROM app_sessions`); n != 1 {
				t.Fatalf("the hook's own row: %d, want 1", n)
			}
			if w := uh.last(); w.ID != id || w.Old != nil || w.New.ID != id || w.Version != 1 || !slices.Contains(w.Changed, "userName") || w.Tx.Tx != nil {
				t.Fatalf("AfterCreate saw %+v", w)
			}

			// After hooks see the old and the new value and what changed.
			do("PATCH", "/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":false}]}`, 204)
			w := uh.last()
			if w.Old == nil || w.New == nil || w.Old.Active != nil || w.New.Active == nil || bool(*w.New.Active) || !slices.Equal(w.Changed, []string{"active"}) || w.Version != 2 {
				t.Fatalf("AfterPatch saw old=%+v new=%+v changed=%v version=%d", w.Old, w.New, w.Changed, w.Version)
			}
			do("PUT", "/Users/"+id, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"modify","name":{"givenName":"M"}}`, 200)
			if w := uh.last(); !slices.Equal(w.Changed, []string{"active", "displayName", "name.givenName"}) || w.Old.DisplayName != "Set By Hook" {
				t.Fatalf("AfterReplace changed=%v old=%+v", w.Changed, w.Old)
			}

			// An After hook's error is logged; the client's write stands.
			got = do("POST", "/Users", userBody("after-fails"), 201)
			if !strings.Contains(logs.String(), "AfterCreate hook failed") {
				t.Fatal("the After hook's error was not logged")
			}
			do("GET", "/Users/"+got["id"].(string), "", 200)

			// BeforeDelete sees the deleted value and may refuse: the user stays.
			u2 := do("POST", "/Users", userBody("undeletable"), 201)["id"].(string)
			do("DELETE", "/Users/"+u2, "", 409)
			do("GET", "/Users/"+u2, "", 200)
			do("DELETE", "/Users/"+id, "", 204)
			if w := uh.last(); w.Old == nil || w.Old.UserName != "modify" || w.New != nil || w.Version != 3 {
				t.Fatalf("AfterDelete saw %+v", w)
			}

			// Membership hooks get ids, and may refuse a change.
			a := do("POST", "/Users", userBody("a"), 201)["id"].(string)
			forbiddenMember = u2
			g := do("POST", "/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"g","members":[{"value":"`+a+`"}]}`, 201)["id"].(string)
			if len(gh.changes) != 1 || gh.changes[0].GroupID != g || len(gh.changes[0].Added) != 1 || gh.changes[0].Added[0] != (engine.Member{ID: a, Type: "User"}) {
				t.Fatalf("membership on create: %+v", gh.changes)
			}
			do("PATCH", "/Groups/"+g, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"members","value":[{"value":"`+u2+`"}]}]}`, 400)
			if n := count(`SELECT COUNT(*) FROM scim_group_members`); n != 1 {
				t.Fatalf("a refused membership change was stored: %d rows", n)
			}
			do("PATCH", "/Groups/"+g, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"members","value":[{"value":"`+a+`"}]}]}`, 204)
			if len(gh.changes) != 1 {
				t.Fatalf("adding an existing member reported a change: %+v", gh.changes)
			}
			do("DELETE", "/Users/"+a, "", 204)
			if len(gh.changes) != 2 || !slices.Equal(gh.changes[1].Removed, []string{a}) || gh.changes[1].GroupID != g {
				t.Fatalf("a member's delete: %+v", gh.changes)
			}
			forbiddenMember = ""
		})
	}
}
