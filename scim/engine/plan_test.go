package engine_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"testing"

	"github.com/uptrace/bun"

	"github.com/scimforge/scimforge/internal/fixture/generated/resource"
	history "github.com/scimforge/scimforge/internal/fixture/migrations"
	"github.com/scimforge/scimforge/internal/pgtest"
	"github.com/scimforge/scimforge/scim/engine"
	"github.com/scimforge/scimforge/scim/sqlfilter"
	"github.com/scimforge/scimforge/scim/sqlstore"
	"github.com/scimforge/scimforge/scim/tenant"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// TestFilterPlans shows both engines' query plans for the lookups Azure AD
// and Okta send before every write (userName eq, emails.value eq,
// members.value eq): each must be served by the index on the stored
// (already folded) column, never by a scan of the table, and PostgreSQL
// must not wrap the folded column in lower(), which would hide the index.
//
// On PostgreSQL the test disables sequential scans for its transaction:
// on a table this small the planner rightly prefers a scan, so only with
// scans priced out does the plan show whether an index can serve the
// predicate at all, which is what a folding mistake would break.
func TestFilterPlans(t *testing.T) {
	for _, eng := range []string{"sqlite", "postgres"} {
		t.Run(eng, func(t *testing.T) {
			url := engineURL(t, eng)
			ctx := engine.WithBaseURL(tenant.With(context.Background(), tenant.Default), "http://x/scim/v2")
			db, srv := openServer(t, url, sqlstore.Options{})
			// Enough rows that reading the whole tenant costs the planners
			// more than a lookup and a sort.
			for i := range 1000 {
				name := fmt.Sprintf("User%02d@Example.com", i)
				u := &resource.User{Schemas: []string{"urn:ietf:params:scim:schemas:core:2.0:User"}, UserName: name,
					Emails: []resource.UserEmail{{Value: name}}}
				if _, err := srv.Users.Create(ctx, u); err != nil {
					t.Fatal(err)
				}
			}
			var ids []string
			for i := range 20 {
				name := fmt.Sprintf("Member%02d@Example.com", i)
				resp, err := srv.Users.Create(ctx, &resource.User{Schemas: []string{"urn:ietf:params:scim:schemas:core:2.0:User"}, UserName: name})
				if err != nil {
					t.Fatal(err)
				}
				var u struct{ ID string }
				if err := json.Unmarshal(resp.Body, &u); err != nil || u.ID == "" {
					t.Fatalf("create: %v %s", err, resp.Body)
				}
				ids = append(ids, u.ID)
			}
			for i := range 100 {
				g := &resource.Group{Schemas: []string{"urn:ietf:params:scim:schemas:core:2.0:Group"}, DisplayName: fmt.Sprintf("G%d", i)}
				for _, id := range ids[i%10 : i%10+10] {
					g.Members = append(g.Members, resource.GroupMember{Value: id})
				}
				if _, err := srv.Groups.Create(ctx, g); err != nil {
					t.Fatal(err)
				}
			}
			// What autovacuum (PostgreSQL) and PRAGMA optimize (SQLite)
			// do on a live database: without statistics the planners
			// guess row counts.
			if _, err := db.Write.ExecContext(ctx, "ANALYZE"); err != nil {
				t.Fatal(err)
			}
			users, err := engine.ListQueryArgs(ctx, srv.Users, `userName eq "USER03@example.com"`)
			if err != nil {
				t.Fatal(err)
			}
			emails, err := engine.ListQueryArgs(ctx, srv.Users, `emails.value eq "user04@EXAMPLE.com"`)
			if err != nil {
				t.Fatal(err)
			}
			members, err := engine.ListQueryArgs(ctx, srv.Groups, `members.value eq "`+strings.ToUpper(ids[3])+`"`)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct {
				name string
				q    engine.Query
				// sqlite and postgres are what each plan must show: the
				// index probed with the folded value compared as stored.
				sqlite, postgres []string
				table            string // the table that must not be scanned
			}{
				{"userName eq", users,
					[]string{"SEARCH r USING INDEX scim_users_user_name_key (tenant_id=? AND user_name=?)"},
					[]string{"Index Scan using scim_users_user_name_key on scim_users r", "(user_name = 'user03@example.com'::text)"},
					"scim_users"},
				// SQLite drives this one from the (created) order and probes
				// the value index through a Bloom filter per row: cheaper
				// than a sort for a LIMITed page by its cost model.
				{"emails.value eq", emails,
					[]string{"USING INDEX scim_user_emails_value_idx (tenant_id=? AND value=?)"},
					[]string{"Index Scan using scim_user_emails_value_idx on scim_user_emails c1", "(value = 'user04@example.com'::text)"},
					"scim_user_emails"},
				{"members.value eq", members,
					[]string{"SEARCH c1 EXISTS USING COVERING INDEX sqlite_autoindex_scim_group_members_1 (tenant_id=? AND group_id=? AND member_id=?)"},
					[]string{"scim_group_members_member_idx", "(member_id = '" + ids[3] + "'::text)"},
					"scim_group_members"},
			} {
				plan := explain(t, ctx, db, c.q)
				t.Logf("%s on %s:\n%s\n%s", c.name, eng, c.q.SQL, plan)
				want := c.sqlite
				if db.Dialect == sqlfilter.Postgres {
					want = c.postgres
				}
				for _, w := range want {
					if !strings.Contains(plan, w) {
						t.Errorf("%s on %s: the plan lacks %q:\n%s\n%s", c.name, eng, w, c.q.SQL, plan)
					}
				}
				if scans(plan, c.table) || strings.Contains(plan, "SCAN r") {
					t.Errorf("%s on %s: the plan scans a table:\n%s", c.name, eng, plan)
				}
				if strings.Contains(c.q.SQL, "lower(") {
					t.Errorf("%s on %s: lower() over a folded column: %s", c.name, eng, c.q.SQL)
				}
			}
		})
	}
}

// TestDeepIndexPagePlan: a page deep in an index-paged list steps over
// the earlier rows in a covering index (keys only) and reads only the
// page's rows in full.
func TestDeepIndexPagePlan(t *testing.T) {
	for _, eng := range []string{"sqlite", "postgres"} {
		t.Run(eng, func(t *testing.T) {
			url := engineURL(t, eng)
			ctx := engine.WithBaseURL(tenant.With(context.Background(), tenant.Default), "http://x/scim/v2")
			db, srv := openServer(t, url, sqlstore.Options{NoCache: true})
			var names []string
			for i := range 30 {
				name := fmt.Sprintf("deep%02d@example.com", i)
				names = append(names, name)
				if _, err := srv.Users.Create(ctx, &resource.User{Schemas: []string{"urn:ietf:params:scim:schemas:core:2.0:User"}, UserName: name}); err != nil {
					t.Fatal(err)
				}
			}
			one, start := 5, 21
			q, err := engine.PageQuery(ctx, srv.Users, engine.ListParams{StartIndex: &start, Count: &one})
			if err != nil {
				t.Fatal(err)
			}
			plan := explain(t, ctx, db, q)
			t.Logf("%s\n%s", q.SQL, plan)
			if db.Dialect == sqlfilter.SQLite && !strings.Contains(plan, "USING COVERING INDEX scim_users_created_idx") {
				t.Errorf("the skipped rows are not read from the covering (created, id) index:\n%s", plan)
			}
			// And the page is the right one.
			resp, err := srv.Users.List(ctx, engine.ListParams{StartIndex: &start, Count: &one})
			if err != nil {
				t.Fatal(err)
			}
			for i, name := range names {
				in := strings.Contains(string(resp.Body), `"`+name+`"`)
				if want := i >= start-1 && i < start-1+one; in != want {
					t.Errorf("%s on page startIndex=%d count=%d: %v, want %v", name, start, one, in, want)
				}
			}
		})
	}
}

// openServer opens the database at url with the generated schema and
// serves it with no hooks; both close when t ends.
func openServer(t *testing.T, url string, opt sqlstore.Options) (*sqlstore.DB, *fixtureServer) {
	t.Helper()
	db, err := sqlstore.Open(context.Background(), url, fs.FS(history.FS), opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, newFixtureServer(t, db)
}

// explain returns the query plan of q, one line per step.
func explain(t *testing.T, ctx context.Context, db *sqlstore.DB, q engine.Query) string {
	t.Helper()
	var lines []string
	collect := func(rs *sql.Rows, err error) {
		if err != nil {
			t.Fatal(err)
		}
		defer rs.Close()
		cols, _ := rs.Columns()
		for rs.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rs.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			lines = append(lines, fmt.Sprint(vals[len(vals)-1]))
		}
		if err := rs.Err(); err != nil {
			t.Fatal(err)
		}
	}
	if db.Dialect != sqlfilter.Postgres {
		collect(db.Query(ctx, "EXPLAIN QUERY PLAN "+q.SQL, q.Args...))
		return strings.Join(lines, "\n")
	}
	err := db.RunInTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := sqlstore.Exec(ctx, tx, "SET LOCAL enable_seqscan = off"); err != nil {
			return err
		}
		collect(sqlstore.QueryTx(ctx, tx, "EXPLAIN "+q.SQL, q.Args...))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(lines, "\n")
}

// scans reports whether a plan reads all of table: SQLite's "SCAN <alias>"
// of that table, PostgreSQL's "Seq Scan on <table>".
func scans(plan, table string) bool {
	for _, l := range strings.Split(plan, "\n") {
		l = strings.TrimSpace(l)
		if strings.Contains(l, "Seq Scan on "+table+" ") || strings.HasSuffix(l, "Seq Scan on "+table) {
			return true
		}
		if strings.HasPrefix(l, "SCAN ") && strings.Contains(l, table) {
			return true
		}
	}
	return false
}
