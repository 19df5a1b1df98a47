package engine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/scimforge/scimforge/internal/fixture/generated/resource"
	history "github.com/scimforge/scimforge/internal/fixture/migrations"
	"github.com/scimforge/scimforge/internal/pgtest"
	"github.com/scimforge/scimforge/scim/engine"
	"github.com/scimforge/scimforge/scim/sqlfilter"
	"github.com/scimforge/scimforge/scim/sqlstore"
	"github.com/scimforge/scimforge/scim/tenant"
)

const userURN = "urn:ietf:params:scim:schemas:core:2.0:User"

// trigramNames are userNames (and, reversed, displayNames and second
// emails) with the characters a LIKE or GLOB pattern treats specially,
// quotes, non-ASCII letters and a value whose trigrams all occur without
// the longer substring ("abcxbcd" has abc and bcd, not abcd).
var trigramNames = []string{
	"Alice.Liddell@Example.com", "bob_smith%corp@example.org", "car!ol*[x]?@example.net", "O'Brien@Example.IE",
	"Jürgen.Groß@Beispiel.DE", "ÀÉÎÕÜ@exämple.fr", "abcxbcd@ex.io", "日本語テキスト@example.jp", "x@y.z",
}

func reverse(s string) string {
	r := []rune(s)
	slices.Reverse(r)
	return string(r)
}

func openEngine(t *testing.T, eng string, migrations fs.FS, url string) (*sqlstore.DB, *fixtureServer) {
	t.Helper()
	ctx := tenant.With(context.Background(), tenant.Default)
	db, err := sqlstore.Open(ctx, url, migrations, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return db, newFixtureServer(t, db)
}

func engineURL(t *testing.T, eng string) string {
	if eng == "postgres" {
		return pgtest.Shared(t).NewDatabase(t)
	}
	return "sqlite://" + filepath.Join(t.TempDir(), "t.db")
}

func listIDs[T any](t *testing.T, ctx context.Context, s *engine.Service[T], f string) []string {
	t.Helper()
	n := engine.MaxResults
	resp, err := s.List(ctx, engine.ListParams{Filter: f, Count: &n})
	if err != nil {
		t.Fatalf("%s: %v", f, err)
	}
	var body struct {
		TotalResults int
		Resources    []struct{ ID string }
	}
	if err := json.Unmarshal(resp.Body, &body); err != nil {
		t.Fatalf("%s: %v %s", f, err, resp.Body)
	}
	ids := []string{}
	for _, r := range body.Resources {
		ids = append(ids, r.ID)
	}
	if body.TotalResults != len(ids) {
		t.Errorf("%s: totalResults %d, %d resources", f, body.TotalResults, len(ids))
	}
	sort.Strings(ids)
	return ids
}

// createdID returns a function that takes a Create's results and returns
// the new resource's id, failing t on error.
func createdID(t *testing.T) func(*engine.Response, error) string {
	return func(resp *engine.Response, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		var v struct{ ID string }
		if err := json.Unmarshal(resp.Body, &v); err != nil || v.ID == "" {
			t.Fatalf("create: %v %s", err, resp.Body)
		}
		return v.ID
	}
}

// TestTrigramFilters: on both engines, co and ew on userName,
// displayName, emails.value (Users) and displayName (Groups) select what
// a substring test of the folded values selects, for every substring of
// the stored values (short ones included, which keep the scan), after
// replaces and deletes, and only within the request's tenant.
func TestTrigramFilters(t *testing.T) {
	for _, eng := range []string{"sqlite", "postgres"} {
		t.Run(eng, func(t *testing.T) {
			db, srv := openEngine(t, eng, history.FS, engineURL(t, eng))
			defer db.Close()
			base := engine.WithBaseURL(context.Background(), "http://x/scim/v2")
			ctx := tenant.With(base, tenant.Default)
			other := tenant.With(base, "other")

			type user struct{ userName, displayName, email2 string }
			users := map[string]user{}
			groups := map[string]string{}
			for _, tc := range []context.Context{ctx, other} {
				for _, n := range trigramNames {
					u := &resource.User{Schemas: []string{userURN}, UserName: n, DisplayName: reverse(n),
						Emails: []resource.UserEmail{{Value: n}, {Value: "2." + reverse(n)}}}
					id := createdID(t)(srv.Users.Create(tc, u))
					gid := createdID(t)(srv.Groups.Create(tc, &resource.Group{Schemas: []string{"urn:ietf:params:scim:schemas:core:2.0:Group"}, DisplayName: "G " + n}))
					if tc == ctx {
						users[id] = user{n, reverse(n), "2." + reverse(n)}
						groups[gid] = "G " + n
					}
				}
			}
			// A replace changes every indexed value of one user; a delete
			// removes another with its emails.
			var ids []string
			for id := range users {
				ids = append(ids, id)
			}
			sort.Strings(ids)
			renamed := "Renamed.Zoë@Example.com"
			if _, err := srv.Users.Replace(ctx, ids[0], &resource.User{Schemas: []string{userURN}, UserName: renamed, DisplayName: "Zoë Renamed",
				Emails: []resource.UserEmail{{Value: "zoe@renamed.example"}}}); err != nil {
				t.Fatal(err)
			}
			users[ids[0]] = user{renamed, "Zoë Renamed", ""}
			if err := srv.Users.Delete(ctx, ids[1]); err != nil {
				t.Fatal(err)
			}
			delete(users, ids[1])

			searches := map[string]bool{"zoë": true, "ZOE@": true, "%": true, "_": true, "!": true, "*": true, "[": true, "'": true, "?": true, "abcd": true, "BCD": true}
			for _, u := range users {
				for _, v := range []string{u.userName, u.displayName, u.email2} {
					r := []rune(v)
					for i := range r {
						for j := i + 1; j <= len(r) && j-i <= 4; j++ {
							searches[string(r[i:j])] = true
						}
					}
				}
			}
			var values []string
			for v := range searches {
				values = append(values, v)
			}
			sort.Strings(values)
			fold := sqlfilter.Fold
			want := func(op, v string, fields func(id string) []string, all []string) []string {
				out := []string{}
				for _, id := range all {
					for _, s := range fields(id) {
						s, v := fold(s), fold(v)
						if op == "co" && strings.Contains(s, v) || op == "ew" && strings.HasSuffix(s, v) {
							out = append(out, id)
							break
						}
					}
				}
				sort.Strings(out)
				return out
			}
			var userIDs, groupIDs []string
			for id := range users {
				userIDs = append(userIDs, id)
			}
			for id := range groups {
				groupIDs = append(groupIDs, id)
			}
			checked := 0
			for _, v := range values {
				lit := `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(v) + `"`
				for _, op := range []string{"co", "ew"} {
					for _, c := range []struct {
						attr   string
						fields func(id string) []string
					}{
						{"userName", func(id string) []string { return []string{users[id].userName} }},
						{"displayName", func(id string) []string { return []string{users[id].displayName} }},
						{"emails.value", func(id string) []string {
							if users[id].email2 == "" {
								return []string{"zoe@renamed.example"}
							}
							return []string{users[id].userName, users[id].email2}
						}},
					} {
						f := c.attr + " " + op + " " + lit
						if got, w := listIDs(t, ctx, srv.Users, f), want(op, v, c.fields, userIDs); !slices.Equal(got, w) {
							t.Errorf("%s: %v, want %v", f, got, w)
						}
						checked++
					}
					f := "displayName " + op + " " + lit
					if got, w := listIDs(t, ctx, srv.Groups, f), want(op, v, func(id string) []string { return []string{groups[id]} }, groupIDs); !slices.Equal(got, w) {
						t.Errorf("Groups %s: %v, want %v", f, got, w)
					}
				}
			}
			t.Logf("%d filters checked", checked)
		})
	}
}

// TestTrigramPlans: co on userName, emails.value and displayName (Users
// and Groups) is served by the trigram index: PostgreSQL scans the GIN
// index; SQLite, when it has the FTS5 tables (sqlfilter.SQLiteTrigrams),
// reads them with their GLOB constraint (INDEX 0:G0). (See TestFilterPlans for why PostgreSQL runs with
// sequential scans priced out.)
func TestTrigramPlans(t *testing.T) {
	for _, eng := range []string{"sqlite", "postgres"} {
		t.Run(eng, func(t *testing.T) {
			db, srv := openEngine(t, eng, history.FS, engineURL(t, eng))
			defer db.Close()
			ctx := engine.WithBaseURL(tenant.With(context.Background(), tenant.Default), "http://x/scim/v2")
			for i := range 100 {
				name := fmt.Sprintf("User%03d@Example.com", i)
				u := &resource.User{Schemas: []string{userURN}, UserName: name, DisplayName: "Display " + name,
					Emails: []resource.UserEmail{{Value: "mail." + name}}}
				createdID(t)(srv.Users.Create(ctx, u))
				createdID(t)(srv.Groups.Create(ctx, &resource.Group{Schemas: []string{"urn:ietf:params:scim:schemas:core:2.0:Group"}, DisplayName: "Group " + name}))
			}
			// Copies (through the triggers on SQLite) make enough rows that
			// reading the whole tenant costs the planners more than the
			// trigram index: 30,000 users and groups, each value searched
			// for below matching a few of them.
			copyRows(t, ctx, db, "scim_users", 299, "id", "user_name", "display_name")
			copyRows(t, ctx, db, "scim_user_emails", 299, "user_id", "value")
			copyRows(t, ctx, db, "scim_groups", 299, "id", "display_name")
			query := func(s interface {
			}, f string) engine.Query {
				var q engine.Query
				var err error
				switch s := s.(type) {
				case *engine.Service[resource.User]:
					q, err = engine.ListQueryArgs(ctx, s, f)
				case *engine.Service[resource.Group]:
					q, err = engine.ListQueryArgs(ctx, s, f)
				}
				if err != nil {
					t.Fatal(err)
				}
				return q
			}
			for _, c := range []struct {
				name         string
				q            engine.Query
				index, table string
				served       bool
			}{
				{"userName co", query(srv.Users, `userName co "ER042@example.com~42"`), "scim_users_user_name_trgm", "scim_users", true},
				{"emails.value co", query(srv.Users, `emails.value co "ail.user042@example.com~42"`), "scim_user_emails_value_trgm", "scim_user_emails", true},
				{"displayName co", query(srv.Users, `displayName co "lay user042@example.com~42"`), "scim_users_display_name_trgm", "scim_users", true},
				{"Group displayName co", query(srv.Groups, `displayName co "p user042@example.com~42"`), "scim_groups_display_name_trgm", "scim_groups", true},
				// Two characters have no trigram: SQLite keeps the scan
				// (PostgreSQL's planner, which decides itself, also does).
				{"userName co short", query(srv.Users, `userName co "42"`), "scim_users_user_name_trgm", "scim_users", false},
			} {
				plan := explain(t, ctx, db, c.q)
				t.Logf("%s on %s:\n%s\n%s", c.name, eng, c.q.SQL, plan)
				var want string
				served := c.served
				if db.Dialect == sqlfilter.Postgres {
					want = "Bitmap Index Scan on " + c.index
				} else {
					// SQLite gets no trigram tables while their upkeep
					// costs too much (sqlfilter.SQLiteTrigrams): a scan.
					want = "SCAN " + c.index + " VIRTUAL TABLE INDEX 0:G0"
					served = served && sqlfilter.SQLiteTrigrams
				}
				if served != strings.Contains(plan, want) {
					t.Errorf("%s on %s: plan has %q: %v, want %v:\n%s\n%s", c.name, eng, want, !served, served, c.q.SQL, plan)
				}
				// The FTS5 table's name begins with its table's: its SCAN
				// line (a search of the index) is not a scan of the table.
				if served && (scans(strings.ReplaceAll(plan, c.index, "fts"), c.table) || strings.Contains(plan, "SCAN r")) {
					t.Errorf("%s on %s: the plan scans a table:\n%s", c.name, eng, plan)
				}
			}
		})
	}
}

// TestTrigramExistingDatabase: a database created before the trigram
// migration gets the indexes over the rows it already has.
func TestTrigramExistingDatabase(t *testing.T) {
	initOnly, withTrigrams := splitTrigrams(t, history.FS)
	for _, eng := range []string{"sqlite", "postgres"} {
		t.Run(eng, func(t *testing.T) {
			url := engineURL(t, eng)
			ctx := engine.WithBaseURL(tenant.With(context.Background(), tenant.Default), "http://x/scim/v2")
			db, srv := openEngine(t, eng, initOnly, url)
			id := createdID(t)(srv.Users.Create(ctx, &resource.User{Schemas: []string{userURN}, UserName: "Early.Bird@Example.com",
				Emails: []resource.UserEmail{{Value: "worm@example.com"}}}))
			db.Close()

			db, srv = openEngine(t, eng, withTrigrams, url)
			defer db.Close()
			for _, f := range []string{`userName co "BIRD@"`, `emails.value co "worm@"`} {
				if got := listIDs(t, ctx, srv.Users, f); !slices.Equal(got, []string{id}) {
					t.Errorf("%s: %v, want [%s]", f, got, id)
				}
			}
		})
	}
}

// splitTrigrams turns the fixture's one init migration into two: the init
// without its trigram indexes (a database made before they existed), and
// the init followed by a migration that adds them. Trigram changes are
// createTrigramIndex in the history and the statements naming a "_trgm"
// index (and pg_trgm) in the SQL.
func splitTrigrams(t *testing.T, hist fs.FS) (before, after fstest.MapFS) {
	t.Helper()
	before, after = fstest.MapFS{}, fstest.MapFS{}
	err := fs.WalkDir(hist, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.Contains(p, "_init.") {
			return err
		}
		data, err := fs.ReadFile(hist, p)
		if err != nil {
			return err
		}
		later := strings.Replace(p, "_init.", "_trigram.", 1)
		later = strings.Replace(later, "/2026", "/2027", 1) // sorts after the init
		var keep, moved string
		if strings.HasSuffix(p, ".json") {
			var h struct {
				Comment string            `json:"comment"`
				Changes []json.RawMessage `json:"changes"`
			}
			if err := json.Unmarshal(data, &h); err != nil {
				return err
			}
			var k, m []json.RawMessage
			for _, c := range h.Changes {
				if strings.Contains(string(c), `"createTrigramIndex"`) {
					m = append(m, c)
				} else {
					k = append(k, c)
				}
			}
			kb, _ := json.Marshal(map[string]any{"comment": h.Comment, "changes": k})
			mb, _ := json.Marshal(map[string]any{"comment": h.Comment, "changes": m})
			keep, moved = string(kb), string(mb)
		} else {
			for i, stmt := range strings.Split(string(data), "--bun:split\n") {
				switch {
				case i == 0:
					keep, moved = stmt, stmt // the header comments
				case strings.Contains(stmt, "trgm"):
					moved += "--bun:split\n" + stmt
				default:
					keep += "--bun:split\n" + stmt
				}
			}
		}
		before[p] = &fstest.MapFile{Data: []byte(keep)}
		after[p] = before[p]
		after[later] = &fstest.MapFile{Data: []byte(moved)}
		return nil
	})
	if err != nil || len(before) != 3 {
		t.Fatalf("init migration: %v %v", err, before)
	}
	return before, after
}

// copyRows inserts n copies of table's rows, the k-th with "~k" appended
// to the named columns, so ids and unique values stay unique.
func copyRows(t *testing.T, ctx context.Context, db *sqlstore.DB, table string, n int, suffixed ...string) {
	t.Helper()
	rs, err := db.Query(ctx, `SELECT * FROM "`+table+`" WHERE 1 = 0`)
	if err != nil {
		t.Fatal(err)
	}
	cols, err := rs.Columns()
	rs.Close()
	if err != nil {
		t.Fatal(err)
	}
	exprs := make([]string, len(cols))
	for i, c := range cols {
		exprs[i] = `t."` + c + `"`
		if slices.Contains(suffixed, c) {
			exprs[i] = fmt.Sprintf(`t."%s" || '~' || CAST(n.k AS TEXT)`, c)
		}
	}
	q := fmt.Sprintf(`WITH RECURSIVE n(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM n WHERE k < %d) `+
		`INSERT INTO "%s" (%s) SELECT %s FROM "%s" AS t, n`, n, table, `"`+strings.Join(cols, `", "`)+`"`, strings.Join(exprs, ", "), table)
	if _, err := db.Write.ExecContext(ctx, q); err != nil {
		t.Fatalf("%v\n%s", err, q)
	}
	// What autovacuum (PostgreSQL) and PRAGMA optimize (SQLite) do on a
	// live database. Without statistics the planners guess row counts,
	// and PostgreSQL's foreign-key checks of the next copy (child rows
	// referencing these) would each scan the table they believe tiny.
	if _, err := db.Write.ExecContext(ctx, `ANALYZE "`+table+`"`); err != nil {
		t.Fatal(err)
	}
}
