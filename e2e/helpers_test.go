package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

// SCIM URNs used throughout the tests.
const (
	userURN       = "urn:ietf:params:scim:schemas:core:2.0:User"
	groupURN      = "urn:ietf:params:scim:schemas:core:2.0:Group"
	enterpriseURN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	acmeURN       = "urn:example:params:scim:schemas:extension:acme:2.0:User"
	listURN       = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	errorURN      = "urn:ietf:params:scim:api:messages:2.0:Error"
	scimMedia     = "application/scim+json"
	// entraTypoURN is the misspelt enterprise URN of Microsoft's own example.
	entraTypoURN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0User"
	msGroupURN   = "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"
)

// obj is a JSON object, for request bodies.
type obj = map[string]any

// arr is a JSON array, for request bodies.
type arr = []any

// response is one HTTP exchange, already checked for the SCIM media type.
type response struct {
	desc   string // "GET /Users?…", for messages
	Status int
	Header http.Header
	Body   []byte
	JSON   map[string]any // the body when it is a JSON object
}

// do sends a request to the SCIM base URL plus target ("/Users?filter=…",
// query already encoded). See doURL.
func (s *server) do(t *testing.T, method, target string, body any, hdrs ...string) *response {
	t.Helper()
	return s.doURL(t, method, s.base+target, body, hdrs...)
}

// doURL sends a request. body is nil (none), a string or []byte (sent
// as is) or any other value (sent as JSON). hdrs are name/value pairs
// that override the defaults (bearer token, Accept and, with a body,
// Content-Type application/scim+json); an empty value removes a header.
//
// Every response must carry Content-Type application/scim+json (a 204 may
// carry none, and must have no body).
func (s *server) doURL(t *testing.T, method, rawURL string, body any, hdrs ...string) *response {
	t.Helper()
	if path, ok := strings.CutPrefix(rawURL, s.base); ok {
		body = withRequired(t, method, path, body)
	}
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatalf("marshal request body: %v", err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, rawURL, rd)
	if err != nil {
		t.Fatalf("new request %s %s: %v", method, rawURL, err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", scimMedia)
	if body != nil {
		req.Header.Set("Content-Type", scimMedia)
	}
	if len(hdrs)%2 != 0 {
		t.Fatalf("do: odd number of header arguments")
	}
	for i := 0; i < len(hdrs); i += 2 {
		if hdrs[i+1] == "" {
			req.Header.Del(hdrs[i])
		} else {
			req.Header.Set(hdrs[i], hdrs[i+1])
		}
	}
	resp, err := s.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, rawURL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", method, rawURL, err)
	}
	r := &response{
		desc:   method + " " + strings.TrimPrefix(rawURL, s.base),
		Status: resp.StatusCode,
		Header: resp.Header,
		Body:   b,
	}
	r.checkMediaType(t)
	if len(bytes.TrimSpace(b)) > 0 {
		var v any
		d := json.NewDecoder(bytes.NewReader(b))
		d.UseNumber()
		if err := d.Decode(&v); err != nil {
			t.Errorf("%s: %d response body is not JSON: %v\n%s", r.desc, r.Status, err, b)
		} else if m, ok := v.(map[string]any); ok {
			r.JSON = m
		}
	}
	return r
}

func (r *response) checkMediaType(t *testing.T) {
	t.Helper()
	ct := r.Header.Get("Content-Type")
	if r.Status == http.StatusNoContent || r.Status == http.StatusNotModified {
		// net/http drops Content-Type from a 304 (RFC 9110 §15.4.5).
		if len(r.Body) != 0 {
			t.Errorf("%s: %d with a body: %q", r.desc, r.Status, r.Body)
		}
		if ct == "" {
			return
		}
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || mt != scimMedia {
		t.Errorf("%s: status %d with Content-Type %q; want %s on every response", r.desc, r.Status, ct, scimMedia)
	}
}

func (r *response) String() string {
	return fmt.Sprintf("%s -> %d %s", r.desc, r.Status, r.Body)
}

// want fails the test now unless the status is one of codes.
func (r *response) want(t *testing.T, codes ...int) *response {
	t.Helper()
	if !slices.Contains(codes, r.Status) {
		t.Fatalf("%s: status %d, want %v; body: %s", r.desc, r.Status, codes, r.Body)
	}
	return r
}

// check reports (without stopping) a status other than code.
func (r *response) check(t *testing.T, code int) bool {
	t.Helper()
	if r.Status != code {
		t.Errorf("%s: status %d, want %d; body: %s", r.desc, r.Status, code, r.Body)
		return false
	}
	return true
}

// wantError checks a SCIM Error response (RFC 7644 §3.12): the status, the
// Error schema, "status" as a JSON string equal to the HTTP status, a
// non-empty detail, and scimType when scimTypes is not empty (any of them).
func (r *response) wantError(t *testing.T, status int, scimTypes ...string) {
	t.Helper()
	if r.Status != status {
		t.Errorf("%s: status %d, want %d (SCIM error); body: %s", r.desc, r.Status, status, r.Body)
		return
	}
	if r.JSON == nil {
		t.Errorf("%s: %d without a SCIM Error body: %q", r.desc, r.Status, r.Body)
		return
	}
	if !slices.Contains(strs(r.JSON["schemas"]), errorURN) {
		t.Errorf("%s: error body schemas %v, want [%s]", r.desc, r.JSON["schemas"], errorURN)
	}
	if st, ok := r.JSON["status"].(string); !ok || st != fmt.Sprint(status) {
		t.Errorf("%s: error body status %#v, want the string %q", r.desc, r.JSON["status"], fmt.Sprint(status))
	}
	if d, _ := r.JSON["detail"].(string); strings.TrimSpace(d) == "" {
		t.Errorf("%s: error body has no detail: %s", r.desc, r.Body)
	}
	if len(scimTypes) > 0 {
		got, _ := r.JSON["scimType"].(string)
		if !slices.Contains(scimTypes, got) {
			t.Errorf("%s: scimType %q, want %v; body: %s", r.desc, got, scimTypes, r.Body)
		}
	}
}

// listResponse is a decoded ListResponse.
type listResponse struct {
	Total, StartIndex, ItemsPerPage int64
	Resources                       []map[string]any
}

// list checks that r is a 200 ListResponse (RFC 7644 §3.4.2) whose numbers
// are JSON integers (E7) and returns it.
func (r *response) list(t *testing.T) listResponse {
	t.Helper()
	r.want(t, http.StatusOK)
	if r.JSON == nil {
		t.Fatalf("%s: body is not a JSON object: %s", r.desc, r.Body)
	}
	if got := strs(r.JSON["schemas"]); !slices.Equal(got, []string{listURN}) {
		t.Errorf("%s: schemas %v, want [%s]", r.desc, got, listURN)
	}
	var l listResponse
	for _, f := range []struct {
		name string
		dst  *int64
	}{{"totalResults", &l.Total}, {"startIndex", &l.StartIndex}, {"itemsPerPage", &l.ItemsPerPage}} {
		v, ok := r.JSON[f.name]
		if !ok {
			t.Errorf("%s: ListResponse has no %q", r.desc, f.name)
			continue
		}
		n, ok := intOf(v)
		if !ok {
			t.Errorf("%s: %q is %#v; want a JSON integer", r.desc, f.name, v)
		}
		*f.dst = n
	}
	res, ok := r.JSON["Resources"]
	if !ok {
		t.Errorf("%s: ListResponse has no \"Resources\" (want [] when empty)", r.desc)
	}
	if res != nil {
		a, ok := res.([]any)
		if !ok {
			t.Fatalf("%s: Resources is %T, want an array", r.desc, res)
		}
		for i, e := range a {
			m, ok := e.(map[string]any)
			if !ok {
				t.Fatalf("%s: Resources[%d] is %T, want an object", r.desc, i, e)
			}
			l.Resources = append(l.Resources, m)
		}
	} else if ok {
		t.Errorf("%s: Resources is null, want an array", r.desc)
	}
	if int(l.ItemsPerPage) != len(l.Resources) {
		t.Errorf("%s: itemsPerPage %d but %d Resources", r.desc, l.ItemsPerPage, len(l.Resources))
	}
	return l
}

// ids returns the ids of the listed resources, in order.
func (l listResponse) ids() []string {
	out := make([]string, len(l.Resources))
	for i, r := range l.Resources {
		out[i], _ = r["id"].(string)
	}
	return out
}

// intOf returns v as an integer when it is a JSON integer (not a string,
// not a fraction).
func intOf(v any) (int64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	i, err := n.Int64()
	return i, err == nil
}

// at walks a decoded JSON value by object keys (string) and array
// indexes (int); it returns nil when the path does not exist.
func at(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			a, ok := v.([]any)
			if !ok || k < 0 || k >= len(a) {
				return nil
			}
			v = a[k]
		default:
			panic(fmt.Sprintf("at: bad path element %T", p))
		}
	}
	return v
}

// str is at() as a string ("" when absent or not a string).
func str(v any, path ...any) string {
	s, _ := at(v, path...).(string)
	return s
}

// has reports whether the object v has the key.
func has(v any, key string) bool {
	m, ok := v.(map[string]any)
	if !ok {
		return false
	}
	_, ok = m[key]
	return ok
}

// strs returns a JSON array of strings as []string.
func strs(v any) []string {
	a, _ := v.([]any)
	var out []string
	for _, e := range a {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// keys returns the sorted keys of a JSON object.
func keys(v any) []string {
	m, _ := v.(map[string]any)
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// qs encodes query parameters given as name/value pairs the way most
// clients do (url.Values: spaces become "+", quotes %22).
func qs(kv ...string) string {
	var b strings.Builder
	for i := 0; i+1 < len(kv); i += 2 {
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(kv[i]))
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(kv[i+1]))
	}
	return b.String()
}

// pct percent-encodes a query value the way Okta does (%20 for spaces,
// %22 for quotes).
func pct(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

// filterQ is "filter=<f>" for a query string (url.Values style).
func filterQ(f string, more ...string) string {
	return qs(append([]string{"filter", f}, more...)...)
}

// noNulls reports the JSON paths in v that hold null: the server should
// never emit null-valued attributes (RFC 7643 §2.5).
func noNulls(t *testing.T, desc string, v any) {
	t.Helper()
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch x := v.(type) {
		case nil:
			t.Errorf("%s: null value at %s", desc, path)
		case map[string]any:
			for k, e := range x {
				walk(path+"."+k, e)
			}
		case []any:
			for i, e := range x {
				walk(fmt.Sprintf("%s[%d]", path, i), e)
			}
		}
	}
	walk("$", v)
}

// newUser is a core User body with the attributes Okta requires.
func newUser(userName string) obj {
	local, _, _ := strings.Cut(userName, "@")
	return obj{
		"schemas":  arr{userURN},
		"userName": userName,
		"name":     obj{"givenName": "Given " + local, "familyName": "Family " + local},
		"emails":   arr{obj{"primary": true, "value": userName, "type": "work"}},
		"active":   true,
	}
}

// create POSTs body to endpoint ("/Users", "/Groups"), requires 201 with
// an id and a Location equal to meta.location, and returns the resource.
func (s *server) create(t *testing.T, endpoint string, body any) map[string]any {
	t.Helper()
	r := s.do(t, http.MethodPost, endpoint, body).want(t, http.StatusCreated)
	if r.JSON == nil || str(r.JSON, "id") == "" {
		t.Fatalf("%s: 201 without a resource id: %s", r.desc, r.Body)
	}
	id := str(r.JSON, "id")
	loc := str(r.JSON, "meta", "location")
	if want := s.base + endpoint + "/" + id; loc != want {
		t.Errorf("%s: meta.location %q, want %q", r.desc, loc, want)
	}
	if h := r.Header.Get("Location"); h != loc {
		t.Errorf("%s: Location header %q, meta.location %q; want them equal", r.desc, h, loc)
	}
	return r.JSON
}

// count returns totalResults of GET endpoint?filter=f (f may be "").
func (s *server) count(t *testing.T, endpoint, f string) int64 {
	t.Helper()
	target := endpoint + "?count=0"
	if f != "" {
		target = endpoint + "?" + filterQ(f, "count", "0")
	}
	return s.do(t, http.MethodGet, target, nil).list(t).Total
}

// find returns the resources matching filter f (up to 1000).
func (s *server) find(t *testing.T, endpoint, f string, more ...string) listResponse {
	t.Helper()
	return s.do(t, http.MethodGet, endpoint+"?"+filterQ(f, more...), nil).list(t)
}

// sameInstant reports whether two xsd:dateTime strings name the same time.
func sameInstant(a, b string) bool {
	ta, err1 := time.Parse(time.RFC3339Nano, a)
	tb, err2 := time.Parse(time.RFC3339Nano, b)
	return err1 == nil && err2 == nil && ta.Equal(tb)
}

// noPassword fails when a resource (or any listed resource) has a password.
func noPassword(t *testing.T, r *response) {
	t.Helper()
	if bytes.Contains(bytes.ToLower(r.Body), []byte(`"password"`)) {
		t.Errorf("%s: response contains a password attribute (returned \"never\", E1): %s", r.desc, r.Body)
	}
}

// after reports whether xsd:dateTime a is strictly later than b.
func after(a, b string) bool {
	ta, err1 := time.Parse(time.RFC3339Nano, a)
	tb, err2 := time.Parse(time.RFC3339Nano, b)
	return err1 == nil && err2 == nil && ta.After(tb)
}

// floatOf returns v as a float when it is a JSON number.
func floatOf(v any) (float64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	f, err := n.Float64()
	return f, err == nil
}
