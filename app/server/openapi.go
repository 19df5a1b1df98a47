package server

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	scimforge "github.com/scimforge/scimforge"
	"github.com/scimforge/scimforge/scim/exchange"
	"github.com/scimforge/scimforge/scim/web"
)

// The published OpenAPI document is served at {base}/openapi.yaml and
// {base}/openapi.json without authentication, in front of BearerAuth:
// it is the API's public contract, the same for every tenant and every
// server built from these schemas (it holds no data, no tenant and no
// configuration beyond the base URL the caller already used), and the
// tools partners point at it (code generators, Swagger UI, Postman,
// Redocly) fetch it without credentials. The discovery endpoints
// (/Schemas, ...) keep requiring a token, as RFC 7644 §4 leaves it to the
// service provider, and they describe one tenant's view. A deployment that
// must not publish its schema can block the two paths at its proxy.
//
// servers is rewritten to the base URL of the request (SCIMFORGE_BASE_URL
// when set, with the tenant of path or host tenancy), so that a client
// generated from the served copy talks to this server.

// specPlaceholder stands for the base URL in the pre-rendered documents.
const specPlaceholder = "scimforge-openapi-base-url-placeholder"

// specDocs are the document in both forms, servers set to specPlaceholder.
type specDocs struct{ yaml, json []byte }

func loadSpec(src []byte, edits ...func(doc *yaml.Node) error) (*specDocs, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(src, &root); err != nil {
		return nil, fmt.Errorf("openapi.yaml: %w", err)
	}
	if root.Kind != yaml.DocumentNode || len(root.Content) != 1 || root.Content[0].Kind != yaml.MappingNode {
		return nil, errors.New("openapi.yaml: not a mapping")
	}
	doc := root.Content[0]
	// The generated-file header is for the repository, not for partners.
	root.HeadComment, doc.HeadComment = "", ""
	if len(doc.Content) > 0 {
		doc.Content[0].HeadComment = ""
	}
	var servers yaml.Node
	if err := servers.Encode([]map[string]string{{
		"url":         specPlaceholder,
		"description": "This SCIM service provider: the base URL this document was served from.",
	}}); err != nil {
		return nil, err
	}
	found := false
	for i := 0; i+1 < len(doc.Content); i += 2 {
		if doc.Content[i].Value == "servers" {
			doc.Content[i+1] = &servers
			found = true
		}
	}
	if !found {
		return nil, errors.New("openapi.yaml: no servers")
	}
	for _, edit := range edits {
		if err := edit(doc); err != nil {
			return nil, err
		}
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&root); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	var v any
	if err := root.Decode(&v); err != nil {
		return nil, err
	}
	j, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("openapi.yaml as JSON: %w", err)
	}
	return &specDocs{yaml: buf.Bytes(), json: j}, nil
}

// serveSpec answers GET and HEAD {basePath}/openapi.yaml and .json, and
// passes every other request to next (authentication, the API). edits
// adjust the document to the configuration (its security schemes).
func serveSpec(basePath string, next http.Handler, edits ...func(doc *yaml.Node) error) (http.Handler, error) {
	docs, err := loadSpec(scimforge.OpenAPI, edits...)
	if err != nil {
		return nil, err
	}
	yamlPath, jsonPath := basePath+"/openapi.yaml", basePath+"/openapi.json"
	notAllowed := web.MethodNotAllowed("GET, HEAD")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body []byte
		var ctype string
		base, err := json.Marshal(exchange.BaseURL(r.Context()))
		if err != nil {
			base = []byte(`""`)
		}
		switch r.URL.Path {
		case yamlPath:
			// A JSON string is a YAML double-quoted scalar.
			body, ctype = bytes.Replace(docs.yaml, []byte(specPlaceholder), base, 1), "application/yaml"
		case jsonPath:
			body, ctype = bytes.Replace(docs.json, []byte(`"`+specPlaceholder+`"`), base, 1), "application/json"
		default:
			next.ServeHTTP(w, r)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			notAllowed(w, r)
			return
		}
		sum := sha256.Sum256(body)
		w.Header().Set("Content-Type", ctype)
		w.Header().Set("ETag", `"`+hex.EncodeToString(sum[:16])+`"`)
		w.Header().Set("Cache-Control", "no-cache")
		// ServeContent answers HEAD, If-None-Match (304) and ranges.
		http.ServeContent(w, r, strings.TrimPrefix(r.URL.Path, basePath+"/"), time.Time{}, bytes.NewReader(body))
	}), nil
}
