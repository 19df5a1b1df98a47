package engine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scimforge/scimforge/scim/tenant"

	"github.com/scimforge/scimforge/internal/fixture/generated/resource"
	"github.com/scimforge/scimforge/scim/engine"
	"github.com/scimforge/scimforge/scim/sqlstore"
)

// TestCursorPageUsesTheIndex shows that a cursor page deep into a list is
// one range read of the (created, id) index starting at the cursor: SQLite's
// query plan must search the index with a lower bound on the key, and
// neither scan the table nor sort, whatever the page number.
func TestCursorPageUsesTheIndex(t *testing.T) {
	ctx := tenant.With(context.Background(), tenant.Default)
	db, srv := openServer(t, "sqlite://"+filepath.Join(t.TempDir(), "k.db"), sqlstore.Options{})
	ctx = engine.WithBaseURL(ctx, "http://x/scim/v2")
	for i := range 30 {
		u := &resource.User{Schemas: []string{"urn:ietf:params:scim:schemas:core:2.0:User"}, UserName: fmt.Sprintf("u%02d@example.com", i)}
		if _, err := srv.Users.Create(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	count, empty := 5, ""
	p := engine.ListParams{Cursor: &empty, Count: &count}
	var cursor string
	for page := range 3 { // the third page's cursor
		resp, err := srv.Users.List(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		var body struct{ NextCursor string }
		if err := json.Unmarshal(resp.Body, &body); err != nil || body.NextCursor == "" {
			t.Fatalf("page %d: no nextCursor: %s", page, resp.Body)
		}
		cursor = body.NextCursor
		p.Cursor = &cursor
	}
	for _, tc := range []struct {
		name   string
		params engine.ListParams
	}{
		{"next", p},
		// A filter without an index of its own: the keyset bound still
		// drives the read. (With an indexed filter, SQLite may instead read
		// the filter's index, i.e. only matching rows, and sort them.)
		{"filtered", engine.ListParams{Filter: `nickName pr or userName co "@"`, Count: &count}},
	} {
		params := tc.params
		if params.Cursor == nil {
			// A cursor of the filtered query.
			params.Cursor = &empty
			resp, err := srv.Users.List(ctx, params)
			if err != nil {
				t.Fatal(err)
			}
			var body struct{ NextCursor string }
			if err := json.Unmarshal(resp.Body, &body); err != nil || body.NextCursor == "" {
				t.Fatalf("%s: no nextCursor: %s", tc.name, resp.Body)
			}
			params.Cursor = &body.NextCursor
		}
		q, args, err := engine.CursorPageQuery(ctx, srv.Users, params)
		if err != nil {
			t.Fatal(err)
		}
		rs, err := db.Query(ctx, "EXPLAIN QUERY PLAN "+q, args...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rs.Next() {
			var id, parent, unused int
			var detail string
			if err := rs.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			if parent == 0 { // the main query, not the groups subquery
				plan = append(plan, detail)
			}
		}
		rs.Close()
		all := strings.Join(plan, "\n")
		if !strings.Contains(all, "SEARCH r USING INDEX scim_users_created_idx (") || !strings.Contains(all, "created>?") && !strings.Contains(all, "(created,id)>(?,?)") {
			t.Errorf("%s: the page query does not seek the (created, id) index from the cursor:\n%s\n%s", tc.name, q, all)
		}
		if strings.Contains(all, "SCAN r") || strings.Contains(all, "TEMP B-TREE FOR ORDER BY") {
			t.Errorf("%s: the page query scans or sorts scim_users:\n%s\n%s", tc.name, q, all)
		}
	}
}
