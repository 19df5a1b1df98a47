package bulk

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/scimforge/scimforge/scim/engine"
	"github.com/scimforge/scimforge/scim/schema"
	"github.com/scimforge/scimforge/scim/scimerr"
)

// call is one engine call a fake endpoint saw.
type call struct {
	method, endpoint, id, ifMatch string
	data                          map[string]any
}

// fakeStore backs the fake endpoints: it records calls in order, creates
// ids u1, u2, ... and fails a body with "fail": <status>.
type fakeStore struct {
	calls []call
	n     int
	// versions of existing resources, for If-Match.
	versions map[string]int
}

type fakeEndpoint struct {
	rt *schema.ResourceType
	s  *fakeStore
}

func (f *fakeEndpoint) Type() *schema.ResourceType { return f.rt }

func (f *fakeEndpoint) record(ctx context.Context, method, id string, body []byte) (map[string]any, error) {
	var m map[string]any
	if body != nil {
		if err := json.Unmarshal(body, &m); err != nil {
			return nil, scimerr.FromJSON(err)
		}
	}
	f.s.calls = append(f.s.calls, call{method, f.rt.Endpoint, id, engine.ConditionsFrom(ctx).IfMatch, m})
	if st, ok := m["fail"].(float64); ok && st >= 400 && st < 600 {
		return nil, scimerr.New(int(st), "", "failed as asked")
	}
	if im := engine.ConditionsFrom(ctx).IfMatch; im != "" && id != "" && im != fmt.Sprintf(`W/"%d"`, f.s.versions[id]) {
		return nil, scimerr.New(http.StatusPreconditionFailed, "", "stale")
	}
	return m, nil
}

func (f *fakeEndpoint) CreateJSON(ctx context.Context, body []byte) (*engine.Response, error) {
	if _, err := f.record(ctx, "POST", "", body); err != nil {
		return nil, err
	}
	f.s.n++
	id := fmt.Sprintf("id%d", f.s.n)
	f.s.versions[id] = 1
	return &engine.Response{Status: 201, Body: []byte(`{"id":"` + id + `"}`), ETag: `W/"1"`, Location: engine.BaseURL(ctx) + f.rt.Endpoint + "/" + id}, nil
}

func (f *fakeEndpoint) ReplaceJSON(ctx context.Context, id string, body []byte) (*engine.Response, error) {
	if _, err := f.record(ctx, "PUT", id, body); err != nil {
		return nil, err
	}
	f.s.versions[id]++
	return &engine.Response{Status: 200, ETag: fmt.Sprintf(`W/"%d"`, f.s.versions[id]), Location: engine.BaseURL(ctx) + f.rt.Endpoint + "/" + id}, nil
}

func (f *fakeEndpoint) PatchJSON(ctx context.Context, id string, body []byte) (*engine.Response, error) {
	if _, err := f.record(ctx, "PATCH", id, body); err != nil {
		return nil, err
	}
	f.s.versions[id]++
	return &engine.Response{Status: 204, ETag: fmt.Sprintf(`W/"%d"`, f.s.versions[id]), Location: engine.BaseURL(ctx) + f.rt.Endpoint + "/" + id}, nil
}

func (f *fakeEndpoint) Delete(ctx context.Context, id string) error {
	_, err := f.record(ctx, "DELETE", id, nil)
	return err
}

func newTestProcessor(limits Limits) (*Processor, *fakeStore) {
	s := &fakeStore{versions: map[string]int{"old": 3}}
	eps := []engine.Endpoint{
		&fakeEndpoint{rt: &schema.ResourceType{Name: "User", Endpoint: "/Users"}, s: s},
		&fakeEndpoint{rt: &schema.ResourceType{Name: "Group", Endpoint: "/Groups"}, s: s},
	}
	if limits == (Limits{}) {
		limits = Limits{MaxOperations: 10, MaxPayloadSize: 1 << 16}
	}
	return New(eps, limits, slog.New(slog.NewTextHandler(io.Discard, nil))), s
}

func body(failOnErrors int, ops ...string) []byte {
	foe := ""
	if failOnErrors > 0 {
		foe = fmt.Sprintf(`"failOnErrors":%d,`, failOnErrors)
	}
	return []byte(`{"schemas":["` + schema.BulkRequestURN + `"],` + foe + `"Operations":[` + strings.Join(ops, ",") + `]}`)
}

func process(t *testing.T, p *Processor, b []byte) *Response {
	t.Helper()
	ctx := engine.WithBaseURL(context.Background(), "https://x/scim/v2")
	// The bulk request's own If-Match must not leak into its operations.
	ctx = engine.WithConditions(ctx, engine.Conditions{IfMatch: `W/"99"`})
	r, err := p.Process(ctx, b)
	if err != nil {
		t.Fatalf("Process: %v", err)
	}
	// The response is a valid BulkResponse whatever happened.
	out, err := json.Marshal(r)
	if err != nil || !strings.Contains(string(out), schema.BulkResponseURN) {
		t.Fatalf("marshal: %v %s", err, out)
	}
	return r
}

func statuses(r *Response) []string {
	var s []string
	for _, o := range r.Operations {
		s = append(s, o.Method+" "+o.BulkID+" "+o.Status)
	}
	return s
}

func wantStatuses(t *testing.T, r *Response, want ...string) {
	t.Helper()
	if got := statuses(r); !slices.Equal(got, want) {
		t.Errorf("results %q, want %q", got, want)
	}
	for _, o := range r.Operations {
		if o.Status[0] != '2' && (o.Response == nil || o.Response.Status != atoi(o.Status)) {
			t.Errorf("%s %s failed without a SCIM error body matching its status: %+v", o.Method, o.Status, o)
		}
	}
}

func atoi(s string) int {
	var n int
	fmt.Sscan(s, &n)
	return n
}

const (
	user1 = `{"method":"POST","path":"/Users","bulkId":"u1","data":{"userName":"a"}}`
	user2 = `{"method":"post","path":"/users","bulkId":"u2","data":{"userName":"b"}}`
)

// A group listed first whose members are users created later in the
// request: the users run first, the group gets their ids, and the
// response keeps request order.
func TestForwardReferences(t *testing.T) {
	p, s := newTestProcessor(Limits{})
	group := `{"method":"POST","path":"/Groups","bulkId":"g","data":{"displayName":"G","members":[{"value":"bulkId:u1"},{"value":"bulkId:u2","display":"not bulkId:u2"}]}}`
	patch := `{"method":"PATCH","path":"/Groups/bulkId:g","data":{"Operations":[{"op":"add","path":"members","value":[{"value":"bulkId:u1"}]}]}}`
	del := `{"method":"DELETE","path":"/Users/bulkId:u2"}`
	r := process(t, p, body(0, group, patch, del, user1, user2))
	wantStatuses(t, r, "POST g 201", "PATCH  204", "DELETE  204", "POST u1 201", "POST u2 201")

	var order []string
	for _, c := range s.calls {
		order = append(order, c.method+" "+c.endpoint+" "+c.id)
	}
	want := []string{"POST /Users ", "POST /Users ", "POST /Groups ", "PATCH /Groups id3", "DELETE /Users id2"}
	if !slices.Equal(order, want) {
		t.Errorf("engine calls %q, want %q", order, want)
	}
	members := s.calls[2].data["members"].([]any)
	if v := members[0].(map[string]any)["value"]; v != "id1" {
		t.Errorf("member 0 value %v, want id1", v)
	}
	if v := members[1].(map[string]any)["value"]; v != "id2" {
		t.Errorf("member 1 value %v, want id2", v)
	}
	if d := members[1].(map[string]any)["display"]; d != "not bulkId:u2" {
		t.Errorf("a string that only contains a reference changed: %v", d)
	}
	if r.Operations[0].Location != "https://x/scim/v2/Groups/id3" || r.Operations[0].Version != `W/"1"` {
		t.Errorf("POST result %+v", r.Operations[0])
	}
	if r.Operations[2].Location != "https://x/scim/v2/Users/id2" {
		t.Errorf("DELETE location %q", r.Operations[2].Location)
	}
	for _, c := range s.calls {
		if c.ifMatch != "" {
			t.Errorf("%s %s ran with If-Match %q; only version sets it", c.method, c.id, c.ifMatch)
		}
	}
}

func TestCycles(t *testing.T) {
	p, s := newTestProcessor(Limits{})
	a := `{"method":"POST","path":"/Groups","bulkId":"a","data":{"members":[{"value":"bulkId:b"}]}}`
	b := `{"method":"POST","path":"/Groups","bulkId":"b","data":{"members":[{"value":"bulkId:a"}]}}`
	self := `{"method":"POST","path":"/Groups","bulkId":"self","data":{"members":[{"value":"bulkId:self"}]}}`
	dependent := `{"method":"PUT","path":"/Groups/bulkId:a","data":{"displayName":"x"}}`
	r := process(t, p, body(0, dependent, a, b, self, user1))
	wantStatuses(t, r, "PUT  409", "POST a 409", "POST b 409", "POST self 409", "POST u1 201")
	if len(s.calls) != 1 {
		t.Errorf("engine calls %+v; only u1 should have run", s.calls)
	}
	for _, i := range []int{1, 2, 3} {
		e := r.Operations[i].Response
		if !strings.Contains(e.Detail, "cycle") || e.ScimType != "" {
			t.Errorf("op %d: %+v, want a 409 naming the cycle without scimType", i, e)
		}
	}
	if d := r.Operations[0].Response.Detail; !strings.Contains(d, "Operations[1]") {
		t.Errorf("dependent op detail %q does not name the failed operation", d)
	}
}

func TestReferenceErrors(t *testing.T) {
	p, _ := newTestProcessor(Limits{})
	failing := `{"method":"POST","path":"/Users","bulkId":"bad","data":{"fail":400}}`
	usesFailed := `{"method":"POST","path":"/Groups","bulkId":"g","data":{"members":[{"value":"bulkId:bad"}]}}`
	unknown := `{"method":"PATCH","path":"/Users/bulkId:nobody","data":{"Operations":[]}}`
	unknownData := `{"method":"POST","path":"/Groups","bulkId":"g2","data":{"members":[{"value":"bulkId:nobody"}]}}`
	putRef := `{"method":"PUT","path":"/Users/x","bulkId":"notapost","data":{}}`
	usesPut := `{"method":"DELETE","path":"/Users/bulkId:notapost"}`
	r := process(t, p, body(0, failing, usesFailed, unknown, unknownData, putRef, usesPut))
	wantStatuses(t, r, "POST bad 400", "POST g 409", "PATCH  400", "POST g2 400", "PUT notapost 200", "DELETE  400")
	for i, typ := range map[int]scimerr.Type{2: scimerr.InvalidValue, 3: scimerr.InvalidValue, 5: scimerr.InvalidValue} {
		if got := r.Operations[i].Response.ScimType; got != typ {
			t.Errorf("op %d scimType %q, want %q", i, got, typ)
		}
	}
}

func TestPerOperationErrors(t *testing.T) {
	p, _ := newTestProcessor(Limits{})
	cases := []struct {
		op, status string
		typ        scimerr.Type
	}{
		{`{"method":"GET","path":"/Users"}`, "400", scimerr.InvalidSyntax},
		{`{"path":"/Users"}`, "400", scimerr.InvalidSyntax},
		{`{"method":"POST","path":"/Users","data":{}}`, "400", scimerr.InvalidSyntax},    // no bulkId
		{`{"method":"POST","path":"/Users","bulkId":"x"}`, "400", scimerr.InvalidSyntax}, // no data
		{`{"method":"PUT","path":"/Users/1","data":null}`, "400", scimerr.InvalidSyntax},
		{`{"method":"POST","path":"/Users/1","bulkId":"y","data":{}}`, "400", scimerr.InvalidPath},
		{`{"method":"PUT","path":"/Users","data":{}}`, "400", scimerr.InvalidPath},
		{`{"method":"DELETE","path":"/Users/a/b"}`, "400", scimerr.InvalidPath},
		{`{"method":"DELETE","path":"/Nope/1"}`, "400", scimerr.InvalidPath},
		{`{"method":"DELETE"}`, "400", scimerr.InvalidPath},
		{`{"method":"DELETE","path":"https://x/scim/v2/Users/1"}`, "400", scimerr.InvalidPath},
		{`{"method":"DELETE","path":"/Users/1?x=y"}`, "400", scimerr.InvalidPath},
		{`{"method":"DELETE","path":"/Users/%zz"}`, "400", scimerr.InvalidPath},
		{`{"method":"delete","path":"USERS/old/"}`, "400", scimerr.InvalidPath},
		{`{"method":"delete","path":"USERS/old"}`, "204", ""},
		{`{"method":"POST","path":"/Groups/","bulkId":"z","data":{}}`, "201", ""},
	}
	for _, c := range cases {
		r := process(t, p, body(0, c.op))
		if len(r.Operations) != 1 || r.Operations[0].Status != c.status {
			t.Errorf("%s: %+v, want status %s", c.op, r.Operations, c.status)
			continue
		}
		if e := r.Operations[0].Response; c.typ != "" && (e == nil || e.ScimType != c.typ) {
			t.Errorf("%s: error %+v, want scimType %s", c.op, e, c.typ)
		}
	}
}

// version is the operation's If-Match: a stale one fails that operation
// only, with 412.
func TestVersion(t *testing.T) {
	p, s := newTestProcessor(Limits{})
	stale := `{"method":"PUT","path":"/Users/old","version":"W/\"2\"","data":{"userName":"x"}}`
	fresh := `{"method":"PATCH","path":"/Users/old","version":"W/\"3\"","data":{"Operations":[]}}`
	r := process(t, p, body(0, stale, fresh))
	wantStatuses(t, r, "PUT  412", "PATCH  204")
	if s.calls[0].ifMatch != `W/"2"` || s.calls[1].ifMatch != `W/"3"` {
		t.Errorf("If-Match seen by the engine: %q, %q", s.calls[0].ifMatch, s.calls[1].ifMatch)
	}
	if r.Operations[1].Version != `W/"4"` {
		t.Errorf("PATCH version %q, want the new ETag", r.Operations[1].Version)
	}
}

func TestFailOnErrors(t *testing.T) {
	fail := func(id string) string {
		return `{"method":"POST","path":"/Users","bulkId":"` + id + `","data":{"fail":409}}`
	}
	ok := func(id string) string {
		return `{"method":"POST","path":"/Users","bulkId":"` + id + `","data":{}}`
	}
	p, s := newTestProcessor(Limits{})
	r := process(t, p, body(1, fail("f1"), ok("o1"), ok("o2")))
	wantStatuses(t, r, "POST f1 409")
	if len(s.calls) != 1 {
		t.Errorf("%d engine calls after failOnErrors=1 was reached, want 1", len(s.calls))
	}

	p, _ = newTestProcessor(Limits{})
	r = process(t, p, body(2, ok("o1"), fail("f1"), ok("o2"), fail("f2"), ok("o3"), fail("f3")))
	wantStatuses(t, r, "POST o1 201", "POST f1 409", "POST o2 201", "POST f2 409")

	// Without failOnErrors every operation runs.
	p, _ = newTestProcessor(Limits{})
	r = process(t, p, body(0, fail("f1"), fail("f2"), ok("o1")))
	wantStatuses(t, r, "POST f1 409", "POST f2 409", "POST o1 201")

	// Processing order decides what counts first: the group waits for u1,
	// so u1's failure stops the request before the group runs; the
	// response lists only what was processed.
	p, s = newTestProcessor(Limits{})
	group := `{"method":"POST","path":"/Groups","bulkId":"g","data":{"members":[{"value":"bulkId:u1"}]}}`
	r = process(t, p, body(1, group, `{"method":"POST","path":"/Users","bulkId":"u1","data":{"fail":400}}`))
	wantStatuses(t, r, "POST u1 400")
}

func TestLimits(t *testing.T) {
	p, s := newTestProcessor(Limits{MaxOperations: 2, MaxPayloadSize: 400})
	op := `{"method":"DELETE","path":"/Users/old"}`
	for _, b := range [][]byte{
		body(0, op, op, op),                       // too many operations
		append(body(0, op), make([]byte, 400)...), // too big
	} {
		_, err := p.Process(context.Background(), b)
		e := scimerr.As(err)
		if e == nil || e.Status != http.StatusRequestEntityTooLarge || e.ScimType != "" {
			t.Errorf("%d bytes: %v, want 413 without scimType", len(b), err)
		}
	}
	if len(s.calls) != 0 {
		t.Errorf("%d operations ran in rejected requests", len(s.calls))
	}
	if _, err := p.Process(context.Background(), body(0, op, op)); err != nil {
		t.Errorf("at the limits: %v", err)
	}
}

func TestParseErrors(t *testing.T) {
	urn := `"schemas":["` + schema.BulkRequestURN + `"]`
	for _, c := range []struct {
		body   string
		status int
		typ    scimerr.Type
	}{
		{``, 400, scimerr.InvalidSyntax},
		{`{`, 400, scimerr.InvalidSyntax},
		{`[]`, 400, scimerr.InvalidSyntax},
		{`null`, 400, scimerr.InvalidSyntax},
		{`{"Operations":[{"method":"DELETE","path":"/Users/1"}]}`, 400, scimerr.InvalidSyntax},
		{`{"schemas":"x","Operations":[]}`, 400, scimerr.InvalidSyntax},
		{`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{}]}`, 400, scimerr.InvalidSyntax},
		{`{` + urn + `}`, 400, scimerr.InvalidSyntax},
		{`{` + urn + `,"Operations":[]}`, 400, scimerr.InvalidSyntax},
		{`{` + urn + `,"Operations":{}}`, 400, scimerr.InvalidSyntax},
		{`{` + urn + `,"Operations":[1]}`, 400, scimerr.InvalidSyntax},
		{`{` + urn + `,"Operations":[{"method":1}]}`, 400, scimerr.InvalidSyntax},
		{`{` + urn + `,"Operations":[{"version":{}}]}`, 400, scimerr.InvalidSyntax},
		{`{` + urn + `,"failOnErrors":-1,"Operations":[{}]}`, 400, scimerr.InvalidValue},
		{`{` + urn + `,"failOnErrors":1.5,"Operations":[{}]}`, 400, scimerr.InvalidValue},
		{`{` + urn + `,"failOnErrors":"1","Operations":[{}]}`, 400, scimerr.InvalidValue},
		{`{` + urn + `,"Operations":[{"bulkId":"a"},{"bulkId":"a"}]}`, 400, scimerr.InvalidValue},
	} {
		_, err := Parse([]byte(c.body), 10)
		e := scimerr.As(err)
		if e == nil || e.Status != c.status || e.ScimType != c.typ {
			t.Errorf("%s: %v, want %d %s", c.body, err, c.status, c.typ)
		}
	}
	// Key names in any case, as other SCIM messages.
	req, err := Parse([]byte(`{"SCHEMAS":["`+schema.BulkRequestURN+`"],"failonerrors":2,"operations":[{"METHOD":"patch","Path":"/Users/1","BULKID":"b","Version":"W/\"1\"","Data":{"x":1}}]}`), 10)
	if err != nil {
		t.Fatal(err)
	}
	op := req.Operations[0]
	if req.FailOnErrors != 2 || op.Method != "PATCH" || op.Path != "/Users/1" || op.BulkID != "b" || op.Version != `W/"1"` || string(op.Data) != `{"x":1}` {
		t.Errorf("parsed %+v", req)
	}
}

func TestStringValues(t *testing.T) {
	data := []byte(`{"bulkId:k": "bulkId:a", "x" : ["bulkId:b", "bulkId:\u0061", 1, {"y":"bulkId:c"}], "z":"bulkId:a!", "w":"\"bulkId:q"}`)
	if got := dataRefs(data); !slices.Equal(got, []string{"a", "b", "c", "a!"}) {
		t.Errorf("refs %q", got)
	}
	out := substitute(data, map[string]string{"a": "ID-A", "b": "ID\"B", "c": "C", "a!": "A2"})
	want := `{"bulkId:k": "ID-A", "x" : ["ID\"B", "ID-A", 1, {"y":"C"}], "z":"A2", "w":"\"bulkId:q"}`
	if string(out) != want {
		t.Errorf("substitute:\n got %s\nwant %s", out, want)
	}
}

func TestConfig(t *testing.T) {
	ok, l, err := Config([]byte(`{"bulk":{"supported":true,"maxOperations":5,"maxPayloadSize":100}}`))
	if err != nil || !ok || l != (Limits{5, 100}) {
		t.Errorf("Config: %v %v %v", ok, l, err)
	}
	if _, _, err := Config([]byte(`{"bulk":{"supported":true,"maxOperations":0,"maxPayloadSize":100}}`)); err == nil {
		t.Error("supported bulk with maxOperations 0 accepted")
	}
	if ok, _, err := Config([]byte(`{"bulk":{"supported":false}}`)); ok || err != nil {
		t.Errorf("unsupported: %v %v", ok, err)
	}
}
