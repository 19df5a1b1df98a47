package server

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	scimforge "github.com/scimforge/scimforge"
	"github.com/scimforge/scimforge/app/config"
	"github.com/scimforge/scimforge/scim/web"
)

// TestServedSpec: the published document is served without a token, as
// YAML and JSON, valid, with the paths of the embedded openapi.yaml and
// servers set to the base URL the request reached (or SCIMFORGE_BASE_URL,
// or the tenant's base path).
func TestServedSpec(t *testing.T) {
	embedded, err := openapi3.NewLoader().LoadFromData(scimforge.OpenAPI)
	if err != nil {
		t.Fatal(err)
	}
	fetch := func(t *testing.T, h http.Handler, host, path string) (*openapi3.T, *httptest.ResponseRecorder) {
		t.Helper()
		rec := as(h, "", host, "GET", path, "")
		if rec.Code != http.StatusOK {
			t.Fatalf("GET %s without a token: %d %s", path, rec.Code, rec.Body)
		}
		doc, err := openapi3.NewLoader().LoadFromData(rec.Body.Bytes())
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		if err := doc.Validate(context.Background()); err != nil {
			t.Fatalf("GET %s: invalid: %v", path, err)
		}
		if doc.Paths.Len() != embedded.Paths.Len() || len(doc.Components.Schemas) != len(embedded.Components.Schemas) || doc.Info.Title != embedded.Info.Title {
			t.Errorf("GET %s: %d paths, %d schemas, title %q; the embedded document has %d, %d, %q", path,
				doc.Paths.Len(), len(doc.Components.Schemas), doc.Info.Title, embedded.Paths.Len(), len(embedded.Components.Schemas), embedded.Info.Title)
		}
		return doc, rec
	}
	server := func(t *testing.T, doc *openapi3.T) string {
		t.Helper()
		if len(doc.Servers) != 1 {
			t.Fatalf("servers %+v, want one", doc.Servers)
		}
		return doc.Servers[0].URL
	}

	h, _ := tenantHandler(t, &config.Config{Token: fuzzToken})
	doc, rec := fetch(t, h, "scim.example.org", "/scim/v2/openapi.yaml")
	if got := server(t, doc); got != "http://scim.example.org/scim/v2" {
		t.Errorf("servers[0].url = %q, want the request's base URL", got)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/yaml" {
		t.Errorf("Content-Type %q", ct)
	}
	if bytes.Contains(rec.Body.Bytes(), []byte("DO NOT EDIT")) {
		t.Error("the served YAML carries the generated-file header")
	}
	doc, rec = fetch(t, h, "scim.example.org", "/scim/v2/openapi.json")
	if got := server(t, doc); got != "http://scim.example.org/scim/v2" {
		t.Errorf("JSON: servers[0].url = %q", got)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("JSON: Content-Type %q", ct)
	}

	// Conditional and HEAD requests; other methods; the rest still needs a token.
	etag := rec.Header().Get("ETag")
	req := httptest.NewRequest("GET", "/scim/v2/openapi.json", nil)
	req.Host = "scim.example.org"
	req.Header.Set("If-None-Match", etag)
	cond := httptest.NewRecorder()
	h.ServeHTTP(cond, req)
	if etag == "" || cond.Code != http.StatusNotModified {
		t.Errorf("If-None-Match %q: %d, want 304", etag, cond.Code)
	}
	if head := as(h, "", "", "HEAD", "/scim/v2/openapi.yaml", ""); head.Code != http.StatusOK || head.Body.Len() != 0 {
		t.Errorf("HEAD: %d with %d bytes", head.Code, head.Body.Len())
	}
	if post := as(h, "", "", "POST", "/scim/v2/openapi.yaml", "{}"); post.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d, want 405", post.Code)
	}
	if schemas := as(h, "", "", "GET", "/scim/v2/Schemas", ""); schemas.Code != http.StatusUnauthorized {
		t.Errorf("GET /Schemas without a token: %d, want 401", schemas.Code)
	}

	// SCIMFORGE_BASE_URL wins over the request's host.
	h, _ = tenantHandler(t, &config.Config{Token: fuzzToken, BaseURL: "https://scim.acme.example.org/scim/v2"})
	doc, _ = fetch(t, h, "10.0.0.7:8080", "/scim/v2/openapi.yaml")
	if got := server(t, doc); got != "https://scim.acme.example.org/scim/v2" {
		t.Errorf("with a base URL: servers[0].url = %q", got)
	}

	// Path tenancy: each tenant's base path, whether or not it exists (an
	// unauthenticated caller learns nothing about tenants from it).
	h, _ = tenantHandler(t, &config.Config{Tenancy: web.TenancyPath})
	doc, _ = fetch(t, h, "scim.example.org", "/t/acme/scim/v2/openapi.yaml")
	if got := server(t, doc); got != "http://scim.example.org/t/acme/scim/v2" {
		t.Errorf("path tenancy: servers[0].url = %q", got)
	}
}

// TestCreateExamplesAccepted posts the create example of every resource
// type in openapi.yaml to the real server: an example a partner copies
// must work, not only validate against the document. Examples refer to
// each other by their example ids (a group's member is the example User);
// each is replaced by the id the server gave the resource it names, so
// resources are created in an order that satisfies the references.
func TestCreateExamplesAccepted(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromData(scimforge.OpenAPI)
	if err != nil {
		t.Fatal(err)
	}
	type pending struct {
		path, exampleID string
		body            []byte
	}
	var todo []pending
	for path, item := range doc.Paths.Map() {
		if item.Post == nil || item.Post.RequestBody == nil || !strings.HasPrefix(item.Post.OperationID, "create") {
			continue
		}
		created := item.Post.Responses.Status(http.StatusCreated)
		req := item.Post.RequestBody.Value.Content.Get("application/scim+json")
		if created == nil || req == nil || len(req.Examples) != 1 {
			t.Fatalf("POST %s: no create example", path)
		}
		var res *openapi3.MediaType
		if created.Value != nil {
			res = created.Value.Content.Get("application/scim+json")
		}
		if res == nil || len(res.Examples) != 1 {
			t.Fatalf("POST %s: no 201 example", path)
		}
		var reqEx, resEx any
		for _, e := range req.Examples {
			reqEx = e.Value.Value
		}
		for _, e := range res.Examples {
			resEx = e.Value.Value
		}
		body, err := json.Marshal(reqEx)
		if err != nil {
			t.Fatal(err)
		}
		id, _ := resEx.(map[string]any)["id"].(string)
		todo = append(todo, pending{path: path, exampleID: id, body: body})
	}
	if len(todo) == 0 {
		t.Fatal("no create examples")
	}

	h, _ := tenantHandler(t, &config.Config{Token: fuzzToken})
	ids := map[string]string{} // example id -> the id the server assigned
	for round := 0; len(todo) > 0; round++ {
		var later []pending
		for _, p := range todo {
			body := string(p.body)
			waits := false
			for _, q := range todo {
				if q.exampleID != p.exampleID && strings.Contains(body, q.exampleID) {
					waits = true // refers to a resource not created yet
				}
			}
			if waits && round < len(todo) {
				later = append(later, p)
				continue
			}
			for ex, real := range ids {
				body = strings.ReplaceAll(body, ex, real)
			}
			rec := serve(h, "POST", config.BasePath+p.path, body)
			if rec.Code != http.StatusCreated {
				t.Errorf("POST %s with its example: %d %s\nbody: %s", p.path, rec.Code, rec.Body, body)
				continue
			}
			var got struct{ ID string }
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || got.ID == "" {
				t.Fatalf("POST %s: %v %s", p.path, err, rec.Body)
			}
			ids[p.exampleID] = got.ID
		}
		todo = later
	}
}
