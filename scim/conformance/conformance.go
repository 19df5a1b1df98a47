// Package conformance checks that a running SCIM server honours a resource
// type's schema: the app's own schema, whatever it says. make generate
// writes one test per resource type (generated/conformance) that starts the
// app's real handler and calls Run with the type's schema (the documents
// the server loads) and generated sample values; make test runs it.
//
// Run drives the server over HTTP (net/http, as a client would) and checks,
// attribute by attribute:
//   - create (a value for every writable attribute), read, replace, delete;
//   - PATCH add/replace/remove by path of every writable attribute,
//     sub-attributes, multi-valued values selected by a value filter, and
//     extension attributes by their URN path;
//   - filters on every filterable attribute (eq, pr; co and sw on strings;
//     gt and lt on dateTime, integer and decimal; caseExact observed) and
//     sortBy on each in both orders;
//   - uniqueness (409 uniqueness, case-insensitively unless caseExact),
//     required (400 invalidValue without it), mutability (readOnly input
//     ignored, immutable changes 400 mutability, writeOnly never returned)
//     and returned (never: in no response; request: only when asked for
//     with attributes; default: left out by excludedAttributes; always:
//     even then);
//   - for the membership group type, members added and removed, with a
//     created member of a type the members attribute references.
//
// What a check needs and the schema lacks (a filterable attribute of a
// type, a sub-attribute to select values by) is skipped with t.Log saying
// why, never silently.
package conformance

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/scimforge/scimforge/scim/schema"
)

// Suite is what Run checks: one resource type of a schema set.
type Suite struct {
	// Set is the schema set the server serves (for a scimforge app, what
	// generated/discovery.Load returns).
	Set *schema.Set
	// Type is the name of the resource type to check.
	Type string
	// Samples holds sample values by resource type name: Type's, and those
	// of every type Type's members may reference.
	Samples map[string]Samples
	// Members marks the membership group type (codegen.yaml's
	// membership.group): its "members" attribute names other resources, so
	// it is checked with created members instead of sample values.
	Members bool
}

// Target is the server under test: a handler, served on a loopback
// listener for the run, or the base URL of a running server.
type Target struct {
	Handler http.Handler
	// BasePath is the handler's SCIM base path, e.g. "/scim/v2".
	BasePath string
	// URL is the base URL of a running server, e.g.
	// "http://127.0.0.1:8080/scim/v2" (used when Handler is nil).
	URL string
	// Token is sent as the bearer token ("" sends none).
	Token string
	// Client sends the requests (http.DefaultClient when nil).
	Client *http.Client
}

// Run checks the suite's resource type against the target, one subtest
// per check.
func Run(t *testing.T, s Suite, tg Target) {
	t.Helper()
	rt := s.Set.ResourceType(s.Type)
	if rt == nil {
		t.Fatalf("conformance: the schema set has no resource type %q", s.Type)
	}
	base := tg.URL
	if tg.Handler != nil {
		srv := httptest.NewServer(tg.Handler)
		t.Cleanup(srv.Close)
		base = srv.URL + tg.BasePath
	}
	if base == "" {
		t.Fatal("conformance: Target has neither a Handler nor a URL")
	}
	hc := tg.Client
	if hc == nil {
		hc = http.DefaultClient
	}
	r := &runner{suite: s, rt: rt, c: &client{hc: hc, base: strings.TrimSuffix(base, "/"), token: tg.Token}}
	if err := r.checkSamples(rt, s.Samples[rt.Name]); err != nil {
		t.Fatal(err)
	}
	r.samples = s.Samples[rt.Name]
	r.fields = fields(rt, s.Members)
	t.Run("create and read", r.createAndRead)
	t.Run("replace", r.replace)
	t.Run("delete", r.delete)
	t.Run("patch", r.patchAll)
	t.Run("filter", r.filterAll)
	t.Run("sort", r.sortAll)
	t.Run("uniqueness", r.uniqueness)
	t.Run("required", r.required)
	t.Run("mutability", r.mutability)
	t.Run("returned", r.returned)
	if s.Members {
		t.Run("members", r.members)
	}
}

// runner holds one run's state.
type runner struct {
	suite   Suite
	rt      *schema.ResourceType
	c       *client
	samples Samples
	fields  []field
	// k numbers the resources created, so their values differ (Vary).
	k int
	// three are the resources filters and sorts run on (see trio).
	three *trio
}

// next returns a fresh variant number.
func (r *runner) next() int {
	r.k++
	return r.k
}

// checkSamples fails when a writable attribute has no usable sample: the
// generated test is older than the schema.
func (r *runner) checkSamples(rt *schema.ResourceType, s Samples) error {
	var missing []string
	for _, f := range fields(rt, false) {
		for _, a := range f.simple() {
			if _, err := Vary(a, s[Key(rt, a)], 0); err != nil {
				missing = append(missing, Key(rt, a)+" ("+err.Error()+")")
			}
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("conformance: no usable sample value for %s of %s; the generated test is older than the schema: run make generate", strings.Join(missing, ", "), rt.Name)
	}
	return nil
}

// field is a top-level attribute of the resource type.
type field struct {
	rt  *schema.ResourceType
	a   *schema.Attribute
	urn string // the extension's URN; "" for the core schema and externalId
	// required says a resource must have it: required in the core schema
	// or in a required extension (an optional extension's required
	// attributes are required when the extension is present).
	required bool
}

// fields lists the resource type's top-level attributes: externalId, the
// core schema's, then each extension's. With members, the group type's
// "members" (checked apart) is left out.
func fields(rt *schema.ResourceType, members bool) []field {
	fs := []field{{rt: rt, a: schema.Common("externalId")}}
	for _, a := range rt.Core.Attributes {
		if members && strings.EqualFold(a.Name, "members") {
			continue
		}
		fs = append(fs, field{rt: rt, a: a, required: a.Required})
	}
	for i, ext := range rt.Extensions {
		for _, a := range ext.Attributes {
			fs = append(fs, field{rt: rt, a: a, urn: ext.ID, required: a.Required && rt.SchemaExtensions[i].Required})
		}
	}
	return fs
}

// path is the attribute's path in filters and PATCH.
func (f field) path() string { return Key(f.rt, f.a) }

// writable says a client may set the attribute.
func writable(a *schema.Attribute) bool { return a.Mutability != schema.ReadOnly }

// hidden says the attribute never appears in a response.
func hidden(a *schema.Attribute) bool {
	return a.Returned == schema.ReturnedNever || a.Mutability == schema.WriteOnly
}

// simple lists the simple attributes the field consists of: itself, or
// its sub-attributes.
func (f field) simple() []*schema.Attribute {
	if f.a.Type != schema.Complex {
		return []*schema.Attribute{f.a}
	}
	return f.a.SubAttributes
}

// client sends SCIM requests.
type client struct {
	hc    *http.Client
	base  string
	token string
}

// reply is one response.
type reply struct {
	desc   string
	status int
	header http.Header
	body   []byte
	doc    map[string]any
}

// do sends a request; body is nil or a value sent as JSON. hdr are
// name/value pairs.
func (c *client) do(t *testing.T, method, target string, body any, hdr ...string) *reply {
	t.Helper()
	var rd io.Reader
	var sent []byte
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatalf("conformance: encode request: %v", err)
		}
		sent, rd = b, bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+target, rd)
	if err != nil {
		t.Fatal(err)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	req.Header.Set("Accept", "application/scim+json")
	if body != nil {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	r := &reply{desc: method + " " + target, status: resp.StatusCode, header: resp.Header, body: b}
	if len(sent) > 0 {
		r.desc += " " + string(sent)
	}
	if len(bytes.TrimSpace(b)) > 0 {
		d := json.NewDecoder(bytes.NewReader(b))
		d.UseNumber()
		if err := d.Decode(&r.doc); err != nil {
			t.Errorf("%s: %d, body is not a JSON object: %v\n%s", r.desc, r.status, err, b)
		}
	}
	return r
}

// want fails the test unless the response has one of the statuses.
func (r *reply) want(t *testing.T, statuses ...int) *reply {
	t.Helper()
	for _, s := range statuses {
		if r.status == s {
			return r
		}
	}
	t.Fatalf("%s: status %d, want %v\n%s", r.desc, r.status, statuses, r.body)
	return r
}

// wantError checks a SCIM error response: status and (when not "")
// scimType.
func (r *reply) wantError(t *testing.T, status int, scimType string) {
	t.Helper()
	if r.status != status {
		t.Errorf("%s: status %d, want %d (scimType %q)\n%s", r.desc, r.status, status, scimType, r.body)
		return
	}
	if got, _ := r.doc["scimType"].(string); scimType != "" && got != scimType {
		t.Errorf("%s: scimType %q, want %q\n%s", r.desc, got, scimType, r.body)
	}
}

// endpoint is the type's endpoint path, e.g. "/Users".
func (r *runner) endpoint() string { return "/" + strings.TrimPrefix(r.rt.Endpoint, "/") }

// get reads a resource, with query parameters as name/value pairs.
func (r *runner) get(t *testing.T, id string, params ...string) map[string]any {
	t.Helper()
	return r.c.do(t, "GET", r.endpoint()+"/"+id+query(params...), nil).want(t, 200).doc
}

// list runs a query on the endpoint and returns the resources.
func (r *runner) list(t *testing.T, params ...string) []map[string]any {
	t.Helper()
	doc := r.c.do(t, "GET", r.endpoint()+query(params...), nil).want(t, 200).doc
	items, _ := doc["Resources"].([]any)
	var out []map[string]any
	for _, it := range items {
		m, ok := it.(map[string]any)
		if !ok {
			t.Fatalf("list: a resource is not an object: %v", it)
		}
		out = append(out, m)
	}
	return out
}

// query encodes name/value pairs.
func query(params ...string) string {
	if len(params) == 0 {
		return ""
	}
	q := url.Values{}
	for i := 0; i+1 < len(params); i += 2 {
		q.Set(params[i], params[i+1])
	}
	return "?" + q.Encode()
}

// ids are the ids of resources.
func ids(rs []map[string]any) []string {
	var out []string
	for _, m := range rs {
		id, _ := m["id"].(string)
		out = append(out, id)
	}
	return out
}
