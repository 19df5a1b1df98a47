package e2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/scimforge/scimforge/generated/discovery"
	"github.com/scimforge/scimforge/scim/conformance"
)

// The tests replay what Entra ID and Okta send, and that uses attributes
// an app may have removed from its schemas/ (the enterprise extension,
// the Acme example, even core ones such as emails). A test or subtest
// that needs one calls needs first: on an app without it, it is skipped,
// saying which attribute is missing, never silently. What the server
// serves is the truth: needs reads /ResourceTypes and /Schemas.

// servedSchema is what a server's discovery endpoints say; every server of
// a test run is the same binary, so it is read once.
type servedSchema struct {
	types   map[string]map[string]any // /ResourceTypes by lower-case name
	schemas map[string]map[string]any // /Schemas by lower-case id
}

var served struct {
	once sync.Once
	doc  *servedSchema
}

// served reads /ResourceTypes and /Schemas (once per test run).
func (s *server) served(t *testing.T) *servedSchema {
	t.Helper()
	served.once.Do(func() {
		d := &servedSchema{types: map[string]map[string]any{}, schemas: map[string]map[string]any{}}
		for _, rt := range s.do(t, http.MethodGet, "/ResourceTypes", nil).want(t, http.StatusOK).list(t).Resources {
			d.types[strings.ToLower(str(rt, "name"))] = rt
		}
		for _, sc := range s.do(t, http.MethodGet, "/Schemas", nil).want(t, http.StatusOK).list(t).Resources {
			d.schemas[strings.ToLower(str(sc, "id"))] = sc
		}
		served.doc = d
	})
	if served.doc == nil {
		t.Fatal("reading /ResourceTypes and /Schemas failed in another test")
	}
	return served.doc
}

// has reports whether resource type typ has the attribute at path:
// "emails", "name.givenName", a URN-qualified extension attribute
// ("urn:…:enterprise:2.0:User:manager.value") or an extension URN alone.
func (d *servedSchema) has(typ, path string) bool {
	rt := d.types[strings.ToLower(typ)]
	if rt == nil {
		return false
	}
	urns := []string{str(rt, "schema")}
	exts, _ := rt["schemaExtensions"].([]any)
	for i := range exts {
		urns = append(urns, str(exts, i, "schema"))
	}
	attr := path
	if strings.HasPrefix(strings.ToLower(path), "urn:") {
		for _, u := range urns {
			if strings.EqualFold(path, u) {
				return true
			}
			if len(path) > len(u) && strings.EqualFold(path[:len(u)+1], u+":") {
				urns, attr = []string{u}, path[len(u)+1:]
				break
			}
		}
		if attr == path {
			return false // no schema of the type has that URN
		}
	}
	name, sub, _ := strings.Cut(attr, ".")
	switch strings.ToLower(name) {
	case "id", "externalid", "meta":
		return true
	}
	for _, u := range urns {
		sc := d.schemas[strings.ToLower(u)]
		if a := attrNamed(sc["attributes"], name); a != nil {
			return sub == "" || attrNamed(a["subAttributes"], sub) != nil
		}
	}
	return false
}

// attrNamed is the attribute definition named name (any case) in a list.
func attrNamed(list any, name string) map[string]any {
	l, _ := list.([]any)
	for _, a := range l {
		if m, ok := a.(map[string]any); ok && strings.EqualFold(str(m, "name"), name) {
			return m
		}
	}
	return nil
}

// needs skips t, naming what is missing, unless resource type typ of the
// server has every attribute path given (see servedSchema.has).
func (s *server) needs(t *testing.T, typ string, paths ...string) {
	t.Helper()
	d := s.served(t)
	var missing []string
	for _, p := range paths {
		if !d.has(typ, p) {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		t.Skipf("this app's %s resource type has no %s (schemas/ was changed): the test needs it", typ, strings.Join(missing, ", "))
	}
}

// basicUser are the attributes of newUser's bodies beyond userName.
var basicUser = []string{"name.givenName", "name.familyName", "emails.value", "emails.type", "emails.primary", "active"}

// has reports whether the server's resource type typ has the attribute at
// path, for tests that add data of an optional part of the schema only
// when the app has it.
func (s *server) has(t *testing.T, typ, path string) bool {
	t.Helper()
	return s.served(t).has(typ, path)
}

// An app may make an attribute required that the requests here (and the
// clients they replay) do not send; its identity provider would be set up
// to send it. The tests send a sample value for it
// (conformance.FillRequiredBody) and say so in the log, so that they test
// everything else rather than fail on every create.

// appSet is the schema set the server under test was generated from.
var appSet = sync.OnceValues(discovery.Load)

// requiredBody is body with FillRequiredBody's values when the request
// creates or replaces a resource (path is relative to the SCIM base);
// what it added, if anything. Safe on any goroutine.
func requiredBody(method, path string, body any) (any, []string) {
	set, err := appSet()
	if err != nil || body == nil || (method != http.MethodPost && method != http.MethodPut) {
		return body, nil
	}
	var raw []byte
	switch b := body.(type) {
	case string:
		raw = []byte(b)
	case []byte:
		raw = b
	default:
		if raw, err = json.Marshal(b); err != nil {
			return body, nil
		}
	}
	out, added := conformance.FillRequiredBody(set, method, path, raw, conformance.ShippedRequired)
	if out == nil {
		return body, nil
	}
	return out, added
}

// withRequired is requiredBody, noting in t's log what it added.
func withRequired(t *testing.T, method, path string, body any) any {
	t.Helper()
	if _, err := appSet(); err != nil {
		t.Fatal(err)
	}
	out, added := requiredBody(method, path, body)
	if len(added) > 0 {
		t.Logf("%s %s: this app requires %s, which the test does not send: sending sample values", method, path, strings.Join(added, ", "))
	}
	return out
}

// toBytes is a string or []byte body as bytes.
func toBytes(b any) []byte {
	if s, ok := b.(string); ok {
		return []byte(s)
	}
	return b.([]byte)
}
