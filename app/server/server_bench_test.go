package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// seedUsers creates n users named u0@example.com… through the handler and
// returns their ids.
func seedUsers(tb testing.TB, h http.Handler, n int) []string {
	tb.Helper()
	ids := make([]string, 0, n)
	for i := range n {
		body := fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"u%d@example.com","name":{"givenName":"G","familyName":"F"},"emails":[{"value":"u%d@example.com","type":"work","primary":true}],"active":true}`, i, i)
		rec := serve(h, "POST", "/scim/v2/Users", body)
		var v struct{ ID string }
		if rec.Code != http.StatusCreated || json.Unmarshal(rec.Body.Bytes(), &v) != nil {
			tb.Fatalf("seeding user %d: %d %s", i, rec.Code, rec.Body)
		}
		ids = append(ids, v.ID)
	}
	return ids
}

// get sends an authenticated GET and fails unless it answers 200.
func get(b *testing.B, h http.Handler, path string) *httptest.ResponseRecorder {
	rec := serve(h, "GET", path, "")
	if rec.Code != http.StatusOK {
		b.Fatal(rec.Code, rec.Body)
	}
	return rec
}

// BenchmarkGetUser measures the whole handler stack for GET /Users/{id}
// in-process (no sockets), to profile the server's own cost per request.
func BenchmarkGetUser(b *testing.B) {
	h := testHandler(b)
	ids := seedUsers(b, h, 200)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		get(b, h, "/scim/v2/Users/"+ids[i%len(ids)])
	}
}

// BenchmarkFilterUserName measures GET /Users?filter=userName eq "…".
func BenchmarkFilterUserName(b *testing.B) {
	h := testHandler(b)
	seedUsers(b, h, 200)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		rec := get(b, h, fmt.Sprintf("/scim/v2/Users?filter=userName%%20eq%%20%%22U%d@example.com%%22", i%200))
		if !strings.Contains(rec.Body.String(), `"totalResults":1`) {
			b.Fatal(rec.Body)
		}
	}
}

// BenchmarkCreateUserParallel measures POST /Users from 16 concurrent
// goroutines in-process, so concurrent writes share transactions (group
// commit) as they do under make bench.
func BenchmarkCreateUserParallel(b *testing.B) {
	h := testHandler(b)
	var n atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			body := fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],"externalId":"e%d","userName":"bench%d@contoso.com","active":true,"displayName":"Ada Lovelace","title":"Analyst","emails":[{"primary":true,"type":"work","value":"bench%d@contoso.com"}],"name":{"formatted":"Ada Lovelace","familyName":"Lovelace","givenName":"Ada"},"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"%d","department":"Sales"}}`, i, i, i, i)
			rec := serve(h, "POST", "/scim/v2/Users", body)
			if rec.Code != http.StatusCreated {
				b.Fatal(rec.Code, rec.Body)
			}
		}
	})
}
