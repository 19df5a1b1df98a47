package engine_test

import (
	"context"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/scimforge/scimforge/internal/fixture/generated/resource"
	"github.com/scimforge/scimforge/scim/engine"
	"github.com/scimforge/scimforge/scim/sqlstore"
	"github.com/scimforge/scimforge/scim/tenant"
)

// reindexStore opens a fresh store of engine eng ("sqlite" or "postgres")
// with the generated services over it.
func reindexStore(t *testing.T, eng string) (*sqlstore.DB, *fixtureServer) {
	t.Helper()
	return openServer(t, engineURL(t, eng), sqlstore.Options{})
}

func tenantCtx(name string) context.Context {
	return engine.WithBaseURL(tenant.With(context.Background(), name), "http://x/scim/v2")
}

func createUser(t *testing.T, ctx context.Context, srv *fixtureServer, u *resource.User) string {
	t.Helper()
	u.Schemas = []string{resource.UserSchemaURN}
	resp, err := srv.Users.Create(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	var out struct{ ID string }
	if err := json.Unmarshal(resp.Body, &out); err != nil || out.ID == "" {
		t.Fatalf("create: %v %s", err, resp.Body)
	}
	return out.ID
}

// found is the ids a filter finds among the users of ctx's tenant.
func found(t *testing.T, ctx context.Context, srv *fixtureServer, filter string) []string {
	t.Helper()
	resp, err := srv.Users.List(ctx, engine.ListParams{Filter: filter})
	if err != nil {
		t.Fatal(err)
	}
	var list struct{ Resources []struct{ ID string } }
	if err := json.Unmarshal(resp.Body, &list); err != nil {
		t.Fatal(err)
	}
	ids := []string{}
	for _, r := range list.Resources {
		ids = append(ids, r.ID)
	}
	return ids
}

func get(t *testing.T, ctx context.Context, s interface {
	Get(ctx context.Context, id, a, e string) (*engine.Response, error)
}, id string) string {
	t.Helper()
	resp, err := s.Get(ctx, id, "", "")
	if err != nil {
		t.Fatal(err)
	}
	return string(resp.Body)
}

func sqlExec(t *testing.T, db *sqlstore.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.Write.ExecContext(context.Background(), q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// TestReindexRepairs breaks the search index behind the API's back in the
// ways a changed derivation leaves it (a column that is empty, child rows
// that are missing, a column holding the value unfolded, a document not in
// canonical form, in two tenants) and checks that --check reports it and
// leaves it, that reindex repairs it so filters find the resources again,
// and that no resource changes: same representation, version and
// lastModified, same group members.
func TestReindexRepairs(t *testing.T) {
	for _, eng := range []string{"sqlite", "postgres"} {
		t.Run(eng, func(t *testing.T) {
			db, srv := reindexStore(t, eng)
			def, acme := tenantCtx(tenant.Default), tenantCtx("acme")
			alice := createUser(t, def, srv, &resource.User{UserName: "alice", Emails: []resource.UserEmail{{Value: "Alice@Example.com"}}})
			emile := createUser(t, def, srv, &resource.User{UserName: "emile", DisplayName: "Émile Zola"})
			carol := createUser(t, def, srv, &resource.User{UserName: "carol"})
			dave := createUser(t, acme, srv, &resource.User{UserName: "dave"})
			g, err := srv.Groups.Create(def, &resource.Group{Schemas: []string{resource.GroupSchemaURN}, DisplayName: "staff",
				Members: []resource.GroupMember{{Value: alice}, {Value: emile}}})
			if err != nil {
				t.Fatal(err)
			}
			var group struct{ ID string }
			if err := json.Unmarshal(g.Body, &group); err != nil {
				t.Fatal(err)
			}
			before := map[string]string{}
			for _, id := range []string{alice, emile, carol} {
				before[id] = get(t, def, srv.Users, id)
			}
			before[dave] = get(t, acme, srv.Users, dave)
			groupBefore := get(t, def, srv.Groups, group.ID)

			sqlExec(t, db, `UPDATE scim_users SET user_name = NULL WHERE id IN (?, ?)`, alice, dave)
			sqlExec(t, db, `DELETE FROM scim_user_emails WHERE user_id = ?`, alice)
			// Unfolded, and beyond ASCII, where SQLite's NOCASE does not
			// fold either: only the stored folded value finds it.
			sqlExec(t, db, `UPDATE scim_users SET display_name = 'ÉMILE ZOLA' WHERE id = ?`, emile)
			sqlExec(t, db, `UPDATE scim_users SET doc = ' ' || doc WHERE id = ?`, carol)
			// Unfolded in ASCII: SQLite's NOCASE column still finds it, but
			// the stored value is not what the document derives.
			sqlExec(t, db, `UPDATE scim_users SET user_name = 'CAROL' WHERE id = ?`, carol)

			searches := []struct {
				ctx    context.Context
				filter string
				want   string
			}{
				{def, `userName eq "alice"`, alice},
				{def, `emails.value eq "alice@example.com"`, alice},
				{def, `displayName eq "émile zola"`, emile},
				{acme, `userName eq "dave"`, dave},
			}
			for _, s := range searches {
				if ids := found(t, s.ctx, srv, s.filter); len(ids) != 0 {
					t.Fatalf("%s finds %v before the reindex: the corruption did not take", s.filter, ids)
				}
			}

			var users engine.Reindexer = srv.Users
			wantTables := map[string][2]int{"scim_users": {4, 4}, "scim_user_emails": {1, 0}}
			checkReport := func(rep *engine.ReindexReport, check bool) {
				t.Helper()
				if rep.Check != check || rep.Resources != 4 || rep.Changed != 4 || rep.Docs != 1 || len(rep.Duplicates) != 0 {
					t.Errorf("report %+v", rep)
				}
				for _, tc := range rep.Tables {
					if w := wantTables[tc.Table]; tc.Added != w[0] || tc.Removed != w[1] {
						t.Errorf("%s: +%d -%d, want +%d -%d", tc.Table, tc.Added, tc.Removed, w[0], w[1])
					}
				}
				want := []string{"acme/" + dave, "default/" + alice, "default/" + carol, "default/" + emile}
				slices.Sort(want)
				if !reflect.DeepEqual(rep.Sample, want) {
					t.Errorf("sample %v, want %v", rep.Sample, want)
				}
			}
			rep, err := users.Reindex(context.Background(), true)
			if err != nil {
				t.Fatal(err)
			}
			checkReport(rep, true)
			for _, s := range searches {
				if ids := found(t, s.ctx, srv, s.filter); len(ids) != 0 {
					t.Fatalf("--check wrote: %s finds %v", s.filter, ids)
				}
			}

			rep, err = users.Reindex(context.Background(), false)
			if err != nil {
				t.Fatal(err)
			}
			checkReport(rep, false)
			for _, s := range searches {
				if ids := found(t, s.ctx, srv, s.filter); len(ids) != 1 || ids[0] != s.want {
					t.Errorf("after reindex %s finds %v, want [%s]", s.filter, ids, s.want)
				}
			}
			var stored string
			if err := db.Write.QueryRowContext(context.Background(), `SELECT user_name FROM scim_users WHERE id = ?`, carol).Scan(&stored); err != nil || stored != "carol" {
				t.Errorf("carol's user_name after reindex: %q %v", stored, err)
			}
			for id, body := range before {
				ctx := def
				if id == dave {
					ctx = acme
				}
				if got := get(t, ctx, srv.Users, id); got != body {
					t.Errorf("user %s changed:\n%s\nwas\n%s", id, got, body)
				}
			}
			if got := get(t, def, srv.Groups, group.ID); got != groupBefore {
				t.Errorf("group changed:\n%s\nwas\n%s", got, groupBefore)
			}

			// Once repaired, there is nothing left to do.
			rep, err = users.Reindex(context.Background(), false)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Resources != 4 || rep.Changed != 0 || rep.Docs != 0 {
				t.Errorf("second reindex: %+v", rep)
			}
			var groups engine.Reindexer = srv.Groups
			if rep, err := groups.Reindex(context.Background(), false); err != nil || rep.Resources != 1 || rep.Changed != 0 {
				t.Errorf("groups: %+v %v", rep, err)
			}
			if got := get(t, def, srv.Groups, group.ID); got != groupBefore {
				t.Errorf("group changed by its reindex:\n%s\nwas\n%s", got, groupBefore)
			}
		})
	}
}

// TestReindexDuplicates: documents that share a value of a unique column
// the index never saw (what a newly unique column is before the reindex
// fills it) make the reindex report the value, the tenant and the ids, and
// change nothing.
func TestReindexDuplicates(t *testing.T) {
	for _, eng := range []string{"sqlite", "postgres"} {
		t.Run(eng, func(t *testing.T) {
			db, srv := reindexStore(t, eng)
			def := tenantCtx(tenant.Default)
			alice := createUser(t, def, srv, &resource.User{UserName: "alice"})
			bob := createUser(t, def, srv, &resource.User{UserName: "bob"})
			carol := createUser(t, def, srv, &resource.User{UserName: "carol"})
			// The same name in another tenant is no duplicate.
			createUser(t, tenantCtx("acme"), srv, &resource.User{UserName: "ALICE"})
			// bob's and carol's documents now say "Alice", their columns
			// still their old names.
			sqlExec(t, db, `UPDATE scim_users SET doc = replace(doc, '"userName":"bob"', '"userName":"Alice"') WHERE id = ?`, bob)
			sqlExec(t, db, `UPDATE scim_users SET doc = replace(doc, '"userName":"carol"', '"userName":"ALICE"') WHERE id = ?`, carol)
			bobBefore := get(t, def, srv.Users, bob)

			for _, check := range []bool{true, false} {
				rep, err := srv.Users.Reindex(context.Background(), check)
				if err != nil {
					t.Fatal(err)
				}
				if len(rep.Duplicates) != 1 {
					t.Fatalf("check=%v: duplicates %+v", check, rep.Duplicates)
				}
				d := rep.Duplicates[0]
				ids := []string{alice, bob, carol}
				if d.Index != "scim_users_user_name_key" || d.Table != "scim_users" || !reflect.DeepEqual(d.Columns, []string{"user_name"}) ||
					d.Tenant != tenant.Default || !reflect.DeepEqual(d.Values, []string{"alice"}) || d.Count != 3 || !reflect.DeepEqual(d.IDs, ids) {
					t.Errorf("check=%v: duplicate %+v, want alice held by %v", check, d, ids)
				}
				text := sqlstore.FormatDuplicates(rep.Duplicates, "  ")
				t.Logf("check=%v:\n%s", check, text)
				for _, id := range ids {
					if !strings.Contains(text, id) {
						t.Errorf("listing lacks %s: %s", id, text)
					}
				}
			}
			// Nothing changed: bob's column still says bob, the index is
			// still there.
			if ids := found(t, def, srv, `userName eq "bob"`); len(ids) != 1 || ids[0] != bob {
				t.Errorf("bob's column changed: %v", ids)
			}
			if got := get(t, def, srv.Users, bob); got != bobBefore {
				t.Errorf("bob changed:\n%s\nwas\n%s", got, bobBefore)
			}
			if _, err := srv.Users.Create(def, &resource.User{Schemas: []string{resource.UserSchemaURN}, UserName: "BOB"}); err == nil {
				t.Error("the unique index on userName is gone")
			}
		})
	}
}
