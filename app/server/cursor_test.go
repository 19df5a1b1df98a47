package server

import (
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
)

// TestCursorWalkWithConcurrentInserts pages through a few thousand users
// with cursors (RFC 9865), forwards to the end and then backwards to the
// start, while other requests keep creating users. Keyset paging must
// return every user that existed before the walk exactly once in each
// direction, and no resource twice. It runs the default order and a sortBy
// on an attribute half of the users lack (NULL keys).
func TestCursorWalkWithConcurrentInserts(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds 2500 users")
	}
	h := testHandler(t)
	const n = 2500
	pre := map[string]bool{}
	for i := range n {
		display := ""
		if i%2 == 0 {
			display = fmt.Sprintf(`,"displayName":"D%04d"`, (i*7919)%n)
		}
		v := call(t, h, "POST", "/scim/v2/Users", fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"pre%d@example.com"%s}`, i, display), 201)
		pre[v["id"].(string)] = true
	}
	for _, order := range []string{"", "&sortBy=displayName", "&sortBy=displayName&sortOrder=descending"} {
		t.Run("order"+order, func(t *testing.T) {
			var stop atomic.Bool
			var wg sync.WaitGroup
			var made atomic.Int64
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; !stop.Load(); i++ {
					body := fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"new%s%d@example.com","displayName":"D%04d"}`, url.QueryEscape(order), i, (i*31)%n)
					rec := serve(h, "POST", "/scim/v2/Users", body)
					if rec.Code != http.StatusCreated {
						t.Errorf("concurrent create: %d %s", rec.Code, rec.Body)
						return
					}
					made.Add(1)
				}
			}()
			walk := func(start, key string) (ids []string, last map[string]any) {
				cursor := start
				for pages := 0; ; pages++ {
					if pages > 200 {
						t.Fatal("more than 200 pages")
					}
					v := call(t, h, "GET", "/scim/v2/Users?count=97&attributes=id&cursor="+url.QueryEscape(cursor)+order, "", 200)
					res, _ := v["Resources"].([]any)
					for _, r := range res {
						ids = append(ids, r.(map[string]any)["id"].(string))
					}
					last = v
					next, _ := v[key].(string)
					if next == "" {
						return ids, last
					}
					cursor = next
				}
			}
			check := func(dir string, ids []string) {
				seen := map[string]int{}
				for _, id := range ids {
					seen[id]++
					if seen[id] == 2 {
						t.Errorf("%s: %s returned twice", dir, id)
					}
				}
				missing := 0
				for id := range pre {
					if seen[id] == 0 {
						missing++
					}
				}
				if missing > 0 {
					t.Errorf("%s: %d of the %d pre-existing users never returned", dir, missing, len(pre))
				}
			}
			fwd, lastPage := walk("", "nextCursor")
			check("forwards", fwd)
			// Backwards from the last page: its previousCursor, then each
			// page's previousCursor to the first page.
			prev, _ := lastPage["previousCursor"].(string)
			if prev == "" {
				t.Fatalf("the last page has no previousCursor: %v", lastPage)
			}
			lastIDs := []string{}
			for _, r := range lastPage["Resources"].([]any) {
				lastIDs = append(lastIDs, r.(map[string]any)["id"].(string))
			}
			back := walkBack(t, h, prev, order)
			check("backwards", append(back, lastIDs...))
			stop.Store(true)
			wg.Wait()
			if made.Load() == 0 {
				t.Error("no user was created during the walk; the test proves nothing about concurrency")
			}
		})
	}
}

// walkBack follows previousCursor from cursor to the first page and
// returns the ids in list order.
func walkBack(t *testing.T, h http.Handler, cursor, order string) []string {
	var pages [][]string
	for {
		if len(pages) > 200 {
			t.Fatal("more than 200 pages")
		}
		v := call(t, h, "GET", "/scim/v2/Users?count=97&attributes=id&cursor="+url.QueryEscape(cursor)+order, "", 200)
		var ids []string
		for _, r := range v["Resources"].([]any) {
			ids = append(ids, r.(map[string]any)["id"].(string))
		}
		pages = append(pages, ids)
		prev, _ := v["previousCursor"].(string)
		if prev == "" {
			if _, ok := v["nextCursor"]; !ok {
				t.Errorf("the first page reached backwards has no nextCursor")
			}
			break
		}
		cursor = prev
	}
	var out []string
	for i := len(pages) - 1; i >= 0; i-- {
		out = append(out, pages[i]...)
	}
	return out
}
