package conformance

import (
	"bytes"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/scimforge/scimforge/scim/schema"
)

// An app may require attributes that a test's requests do not send: the
// end-to-end tests replay what Entra ID and Okta send, and the wiring
// tests create users with a userName alone. Such an app would have its
// identity provider send the attribute; the tests send a sample value for
// it (with a note in the log), so that they test everything else instead
// of failing on every create. Nothing is added that a request sends, nor
// what skip names (what the tests leave out on purpose, e.g. userName).

// FillRequired adds to doc, a resource of type rt that a client is about
// to create or replace, a value for every writable required attribute it
// lacks, and every required extension with its required attributes (their
// URN added to schemas): variant k of rt's BaseSamples. Attributes for
// which skip reports true are left alone. It returns the keys (Key) of the
// attributes added.
func FillRequired(rt *schema.ResourceType, doc map[string]any, k int, skip func(*schema.Attribute) bool) []string {
	samples := BaseSamples(rt)
	var added []string
	fill := func(parent map[string]any, a *schema.Attribute) {
		if !a.Required || a.Mutability == schema.ReadOnly || (skip != nil && skip(a)) {
			return
		}
		if _, has := member(parent, a.Name); has {
			return
		}
		var one any
		if a.Type == schema.Complex {
			m := map[string]any{}
			for _, s := range a.SubAttributes {
				if s.Required && s.Mutability != schema.ReadOnly {
					m[s.Name], _ = Vary(s, samples[Key(rt, s)], k)
				}
			}
			one = m
		} else {
			one, _ = Vary(a, samples[Key(rt, a)], k)
		}
		if a.MultiValued {
			one = []any{one}
		}
		parent[a.Name] = one
		added = append(added, Key(rt, a))
	}
	for _, a := range rt.Core.Attributes {
		fill(doc, a)
	}
	for i, ext := range rt.Extensions {
		v, present := member(doc, ext.ID)
		e, _ := v.(map[string]any)
		if !present && !rt.SchemaExtensions[i].Required {
			continue
		}
		if e == nil {
			e = map[string]any{}
			if l, ok := doc["schemas"].([]any); ok {
				doc["schemas"] = append(slices.Clone(l), ext.ID)
			}
		} else {
			e = maps.Clone(e)
		}
		before := len(added)
		for _, a := range ext.Attributes {
			fill(e, a)
		}
		if len(added) > before || !present {
			doc[ext.ID] = e
		}
	}
	return added
}

// needsFill reports whether any resource type of set requires an
// attribute that skip does not name: only then has FillRequiredBody
// anything to do.
func needsFill(set *schema.Set, skip func(*schema.Attribute) bool) bool {
	for _, rt := range set.ResourceTypes {
		for i, s := range append([]*schema.Schema{rt.Core}, rt.Extensions...) {
			if i > 0 && rt.SchemaExtensions[i-1].Required {
				return true
			}
			for _, a := range s.Attributes {
				if a.Required && a.Mutability != schema.ReadOnly && (skip == nil || !skip(a)) {
					return true
				}
			}
		}
	}
	return false
}

// fillN numbers the values FillRequiredBody sends, so unique ones differ;
// it starts clear of the numbers a conformance run uses.
var fillN atomic.Int64

func init() { fillN.Store(100000) }

// FillRequiredBody applies FillRequired to a request body: a resource
// POSTed or PUT to path (relative to the SCIM base: "/Users",
// "/Users/{id}", any case), or each POST and PUT of a Bulk request
// ("/Bulk"). It returns the new body and the attributes added, or nil
// when it adds nothing (the body is then to be sent as it was).
func FillRequiredBody(set *schema.Set, method, path string, body []byte, skip func(*schema.Attribute) bool) ([]byte, []string) {
	if method != http.MethodPost && method != http.MethodPut {
		return nil, nil
	}
	var doc map[string]any
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	if d.Decode(&doc) != nil || doc == nil {
		return nil, nil
	}
	path, _, _ = strings.Cut(path, "?")
	var added []string
	if strings.EqualFold(strings.Trim(path, "/"), "Bulk") {
		ops, _ := doc["Operations"].([]any)
		for _, o := range ops {
			op, _ := o.(map[string]any)
			data, ok := op["data"].(map[string]any)
			m, _ := op["method"].(string)
			p, _ := op["path"].(string)
			if rt := typeAt(set, p); ok && rt != nil && (strings.EqualFold(m, "POST") || strings.EqualFold(m, "PUT")) {
				added = append(added, FillRequired(rt, data, int(fillN.Add(1)), skip)...)
			}
		}
	} else if rt := typeAt(set, path); rt != nil {
		added = FillRequired(rt, doc, int(fillN.Add(1)), skip)
	}
	if len(added) == 0 {
		return nil, nil
	}
	out, err := json.Marshal(doc)
	if err != nil {
		return nil, nil
	}
	return out, added
}

// typeAt is the resource type whose endpoint path starts with.
func typeAt(set *schema.Set, path string) *schema.ResourceType {
	seg, _, _ := strings.Cut(strings.TrimPrefix(path, "/"), "/")
	for _, rt := range set.ResourceTypes {
		if strings.EqualFold("/"+seg, rt.Endpoint) {
			return rt
		}
	}
	return nil
}

// FillRequiredHandler wraps a SCIM handler for tests: request bodies of
// POST and PUT get FillRequiredBody's values (the SCIM base is found at
// basePath anywhere in the URL path, so tenant prefixes do not matter).
// With nothing to fill in set, it returns next itself.
func FillRequiredHandler(set *schema.Set, basePath string, skip func(*schema.Attribute) bool, next http.Handler) http.Handler {
	if !needsFill(set, skip) {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if i := strings.Index(r.URL.Path, basePath); i >= 0 && r.Body != nil && (r.Method == http.MethodPost || r.Method == http.MethodPut) {
			body, err := io.ReadAll(r.Body)
			if err == nil {
				if out, _ := FillRequiredBody(set, r.Method, r.URL.Path[i+len(basePath):], body, skip); out != nil {
					body = out
				}
				r.Body = io.NopCloser(bytes.NewReader(body))
				r.ContentLength = int64(len(body))
			}
		}
		next.ServeHTTP(w, r)
	})
}

// ShippedRequired reports the attribute the scaffold's own schema requires,
// User's userName: what tests send, or leave out on purpose, themselves.
// It is the skip function tests give FillRequiredBody and
// FillRequiredHandler.
func ShippedRequired(a *schema.Attribute) bool {
	return a.Parent == nil && a.Schema != nil && a.Schema.ID == "urn:ietf:params:scim:schemas:core:2.0:User" && a.Name == "userName"
}
