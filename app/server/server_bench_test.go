package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// BenchmarkGetUser measures the whole handler stack for GET /Users/{id}
// in-process (no sockets), to profile the server's own cost per request.
func BenchmarkGetUser(b *testing.B) {
	h := testHandler(b)
	var ids []string
	for i := range 200 {
		body := fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"u%d@example.com","name":{"givenName":"G","familyName":"F"},"emails":[{"value":"u%d@example.com","type":"work","primary":true}],"active":true}`, i, i)
		req := httptest.NewRequest("POST", "/scim/v2/Users", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+fuzzToken)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		var v struct{ ID string }
		json.Unmarshal(rec.Body.Bytes(), &v)
		ids = append(ids, v.ID)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		req := httptest.NewRequest("GET", "/scim/v2/Users/"+ids[i%len(ids)], nil)
		req.Header.Set("Authorization", "Bearer "+fuzzToken)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatal(rec.Code, rec.Body)
		}
	}
}

// BenchmarkFilterUserName measures GET /Users?filter=userName eq "…".
func BenchmarkFilterUserName(b *testing.B) {
	h := testHandler(b)
	for i := range 200 {
		body := fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"u%d@example.com","emails":[{"value":"u%d@example.com","type":"work","primary":true}]}`, i, i)
		req := httptest.NewRequest("POST", "/scim/v2/Users", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+fuzzToken)
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		req := httptest.NewRequest("GET", fmt.Sprintf("/scim/v2/Users?filter=userName%%20eq%%20%%22U%d@example.com%%22", i%200), nil)
		req.Header.Set("Authorization", "Bearer "+fuzzToken)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"totalResults":1`) {
			b.Fatal(rec.Code, rec.Body)
		}
	}
}
