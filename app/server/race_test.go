package server

import (
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// TestConcurrentReadsAndWrites runs creates, replaces, reads, filters and
// group writes at once; run with -race it checks the cache and engine for
// data races, and without it that every request succeeds.
func TestConcurrentReadsAndWrites(t *testing.T) {
	h := testHandler(t)
	ids := seedUsers(t, h, 20)
	g := call(t, h, "POST", "/scim/v2/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"G"}`, 201)["id"].(string)
	var wg sync.WaitGroup
	errs := make(chan string, 1000)
	for w := range 6 {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := range 40 {
				id := ids[(w*7+i)%len(ids)]
				var method, path, body string
				switch i % 4 {
				case 0:
					method, path = "GET", "/scim/v2/Users/"+id
				case 1:
					method, path = "GET", "/scim/v2/Users?filter=userName%20eq%20%22U"+fmt.Sprint((w+i)%20)+"@EXAMPLE.com%22"
				case 2:
					method, path, body = "PUT", "/scim/v2/Users/"+id, fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"u%d@example.com","displayName":"v%d"}`, (w*7+i)%len(ids), i)
				case 3:
					method, path, body = "PUT", "/scim/v2/Groups/"+g, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"G","members":[{"value":"`+id+`"}]}`
				}
				req := httptest.NewRequest(method, path, strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+fuzzToken)
				req.Header.Set("Content-Type", "application/scim+json")
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				// 409 is the documented answer to two concurrent replaces of one resource.
				if rec.Code != 200 && rec.Code != 409 {
					errs <- fmt.Sprintf("%s %s: %d %s", method, path, rec.Code, rec.Body)
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	// After the dust settles, every user's groups must agree with the group.
	members := call(t, h, "GET", "/scim/v2/Groups/"+g, "", 200)["members"].([]any)
	inGroup := map[string]bool{}
	for _, m := range members {
		inGroup[m.(map[string]any)["value"].(string)] = true
	}
	for _, id := range ids {
		_, has := call(t, h, "GET", "/scim/v2/Users/"+id, "", 200)["groups"]
		if has != inGroup[id] {
			t.Errorf("user %s: groups present %v, member of the group %v", id, has, inGroup[id])
		}
	}
}
