package server

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/scimforge/scimforge/app/config"
	"github.com/scimforge/scimforge/generated/discovery"
)

const fuzzToken = "fuzz-token-0123456789"

func testHandler(t testing.TB) http.Handler {
	h, _ := tenantHandler(t, &config.Config{Token: fuzzToken})
	return h
}

// FuzzUserBody sends arbitrary bodies to POST /Users and PUT /Users/{id}.
// Whatever the body, the server must answer with a SCIM JSON document, never
// a 5xx, and never echo a password.
func FuzzUserBody(f *testing.F) {
	seeds := []string{
		`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"a@b.c","password":"pw"}`,
		`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"x","active":"False","emails":[{"value":"x@y","type":"work","primary":true}]}`,
		`{"userName":5}`, `[]`, `null`, `{`, ``, `{"emails":"x"}`, `{"schemas":"x"}`,
	}
	// Extension shapes clients send (Entra's bare-string manager; one value
	// of each type), for the extensions this app's User has.
	set, err := discovery.Load()
	if err != nil {
		f.Fatal(err)
	}
	for _, ext := range []struct{ urn, seed string }{
		{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"m","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":"abc"}}`},
		{"urn:example:params:scim:schemas:extension:acme:2.0:User", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"n","urn:example:params:scim:schemas:extension:acme:2.0:User":{"hireDate":"2020-01-01T00:00:00Z","projects":[{"name":"p","primary":true}],"clearanceLevel":3,"fte":0.5,"tags":["a"]}}`},
	} {
		if rt := set.ResourceType("User"); rt != nil && rt.Extension(ext.urn) != nil {
			seeds = append(seeds, ext.seed)
		}
	}
	for _, seed := range seeds {
		f.Add(seed)
	}
	h := testHandler(f)
	f.Fuzz(func(t *testing.T, body string) {
		for _, target := range []struct{ method, path string }{{"POST", "/scim/v2/Users"}, {"PUT", "/scim/v2/Users/nope"}} {
			req := httptest.NewRequest(target.method, target.path, strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+fuzzToken)
			req.Header.Set("Content-Type", "application/scim+json")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code >= 500 {
				t.Fatalf("%s %s %q: status %d: %s", target.method, target.path, body, rec.Code, rec.Body)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/scim+json" {
				t.Fatalf("%s %q: Content-Type %q", target.method, body, ct)
			}
			if !json.Valid(rec.Body.Bytes()) {
				t.Fatalf("%s %q: response is not JSON: %s", target.method, body, rec.Body)
			}
			if bytes.Contains(bytes.ToLower(rec.Body.Bytes()), []byte(`"password"`)) {
				t.Fatalf("%s %q: response contains a password: %s", target.method, body, rec.Body)
			}
		}
	})
}
