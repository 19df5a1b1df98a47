package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzHTTP sends arbitrary requests (method, path and query, content type,
// body, and whether unknown attributes are refused) through the whole
// handler over SQLite: edge, routing, parameter binding, decoding, engine,
// Bulk, discovery. Whatever arrives, the answer is never a 5xx (a panic
// would be one: the edge turns it into a 500), every error is a SCIM Error
// document whose status member matches the status line, and every other
// body is JSON.
func FuzzHTTP(f *testing.F) {
	for _, s := range []struct{ method, target, ct, body string }{
		{"GET", "/scim/v2/Users?filter=userName%20eq%20%22a%22&count=2&startIndex=1&sortBy=userName&sortOrder=descending", "", ""},
		{"GET", "/scim/v2/Groups?attributes=members&excludedAttributes=displayName", "", ""},
		{"GET", "/scim/v2/Users?cursor=&count=1", "", ""},
		{"GET", "/scim/v2/ServiceProviderConfig", "", ""},
		{"GET", "/scim/v2/Schemas/urn:ietf:params:scim:schemas:core:2.0:User", "", ""},
		{"GET", "/scim/v2/ResourceTypes/User", "", ""},
		{"POST", "/scim/v2/Users", "application/scim+json", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"f@example.com","emails":[{"value":"f@example.com","primary":true}],"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":"m"}}`},
		{"POST", "/scim/v2/Groups", "application/json", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"g","members":[{"value":"x"}]}`},
		{"PUT", "/scim/v2/Users/x", "application/scim+json; charset=utf-8", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"p"}`},
		{"PATCH", "/scim/v2/Groups/x", "application/scim+json", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"members","value":[{"value":"y"}]},{"op":"remove","path":"members[value eq \"z\"]"}]}`},
		{"PATCH", "/scim/v2/Users/x", "application/scim+json", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","value":{"active":"False","name.givenName":"A"}}]}`},
		{"DELETE", "/scim/v2/Users/x", "", ""},
		{"POST", "/scim/v2/Users/.search", "application/scim+json", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"filter":"emails[type eq \"work\"]","count":5}`},
		{"POST", "/scim/v2/.search", "application/scim+json", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"attributes":["displayName"]}`},
		{"POST", "/scim/v2/Bulk", "application/scim+json", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],"failOnErrors":1,"Operations":[{"method":"POST","path":"/Users","bulkId":"a","data":{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"b"}},{"method":"POST","path":"/Groups","bulkId":"g","data":{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"G","members":[{"value":"bulkId:a"}]}}]}`},
		{"POST", "/scim/v2/Users", "text/plain", "x"},
		{"PROPFIND", "/scim/v2/Users", "", ""},
		{"GET", "/scim/v2/users/?count=abc&filter=%FF", "", ""},
		{"GET", "/scim/v2/openapi.json", "", ""},
	} {
		f.Add(s.method, s.target, s.ct, s.body, false)
	}
	f.Add("POST", "/scim/v2/Users", "application/scim+json", `{"userName":"s","shoe":1}`, true)
	_, h, strict := laxAndStrict(f, "sqlite://"+filepath.Join(f.TempDir(), "t.db"))
	f.Fuzz(func(t *testing.T, method, target, ct, body string, isStrict bool) {
		if !strings.HasPrefix(target, "/") {
			target = "/scim/v2/" + target
		}
		req, err := http.NewRequest(method, target, strings.NewReader(body))
		if err != nil || req.URL.Path == "" || req.URL.Host != "" {
			return // not a request a client can send
		}
		req.RequestURI = target
		req.Header.Set("Authorization", "Bearer "+fuzzToken)
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		rec := httptest.NewRecorder()
		if isStrict {
			strict.ServeHTTP(rec, req)
		} else {
			h.ServeHTTP(rec, req)
		}
		checkAnswer(t, fmt.Sprintf("%s %q (%q) %q", method, target, ct, body), rec)
	})
}

func checkAnswer(t *testing.T, what string, rec *httptest.ResponseRecorder) {
	t.Helper()
	if rec.Code >= 500 {
		t.Fatalf("%s: status %d: %s", what, rec.Code, rec.Body)
	}
	if rec.Code < 400 {
		if rec.Body.Len() > 0 && !strings.Contains(rec.Header().Get("Content-Type"), "yaml") && !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("%s: %d with a body that is not JSON: %.300s", what, rec.Code, rec.Body)
		}
		return
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/scim+json" {
		t.Fatalf("%s: error %d with Content-Type %q", what, rec.Code, ct)
	}
	var e struct {
		Schemas []string `json:"schemas"`
		Status  string   `json:"status"`
		Detail  string   `json:"detail"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil {
		t.Fatalf("%s: error body is not JSON: %v: %.300s", what, err, rec.Body)
	}
	if len(e.Schemas) != 1 || e.Schemas[0] != errorURN || e.Status != fmt.Sprint(rec.Code) || e.Detail == "" {
		t.Fatalf("%s: not a SCIM error for %d: %.300s", what, rec.Code, rec.Body)
	}
	if m := internals.FindString(e.Detail); m != "" {
		t.Fatalf("%s: detail shows internals (%q): %q", what, m, e.Detail)
	}
}
