package bulk

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/scimforge/scimforge/scim/engine"
	"github.com/scimforge/scimforge/scim/schema"
	"github.com/scimforge/scimforge/scim/scimerr"
)

// FuzzBulkRequest feeds arbitrary bodies to the parser and, when they
// parse, to the processor over fake endpoints (ordering, cycles, bulkId
// substitution): nothing may panic, every rejection is a SCIM error with
// 400 or 413, every failed operation carries a SCIM error of its status,
// and the response is valid JSON.
func FuzzBulkRequest(f *testing.F) {
	urn := `"schemas":["` + schema.BulkRequestURN + `"]`
	for _, s := range []string{
		`{` + urn + `,"Operations":[{"method":"POST","path":"/Groups","bulkId":"g","data":{"members":[{"value":"bulkId:u"}]}},{"method":"POST","path":"/Users","bulkId":"u","data":{"userName":"a"}}]}`,
		`{` + urn + `,"failOnErrors":1,"Operations":[{"method":"POST","path":"/Groups","bulkId":"a","data":{"m":"bulkId:b"}},{"method":"POST","path":"/Groups","bulkId":"b","data":{"m":"bulkId:a"}}]}`,
		`{` + urn + `,"Operations":[{"method":"PATCH","path":"/Users/bulkId:x","version":"W/\"1\"","data":{"Operations":[]}},{"method":"DELETE","path":"/Users/bulkId:x"},{"method":"post","path":"users","bulkId":"x","data":{"fail":412}}]}`,
		`{` + urn + `,"Operations":[{"method":"POST","path":"/Users","bulkId":"s","data":{"k":"bulkId:s","e":"\u0062ulkId:s"}}]}`,
		`{` + urn + `,"Operations":[{"bulkId":"a"},{"bulkId":"a"}]}`,
		`{"schemas":[],"Operations":null}`,
		`[]`, `{`, ``, `null`, `{"Operations":[{"method":"GET"}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		req, err := Parse(b, 20)
		if err != nil {
			e := scimerr.As(err)
			if e == nil || (e.Status != http.StatusBadRequest && e.Status != http.StatusRequestEntityTooLarge) {
				t.Fatalf("Parse error %v (%T) is not a SCIM 400/413", err, err)
			}
			return
		}
		p, _ := newTestProcessor(Limits{MaxOperations: 20, MaxPayloadSize: 1 << 20})
		ctx := engine.WithBaseURL(context.Background(), "https://x/scim/v2")
		resp := p.Run(ctx, req)
		if len(resp.Operations) > len(req.Operations) {
			t.Fatalf("%d results for %d operations", len(resp.Operations), len(req.Operations))
		}
		for _, o := range resp.Operations {
			if o.Response != nil && (o.Status != itoa(o.Response.Status) || o.Response.Status < 400) {
				t.Fatalf("failed operation %+v: status and error disagree", o)
			}
			if o.Response == nil && (o.Status == "" || o.Status[0] != '2') {
				t.Fatalf("operation %+v: no error body for status %s", o, o.Status)
			}
		}
		out, err := json.Marshal(resp)
		if err != nil || !json.Valid(out) {
			t.Fatalf("response does not marshal: %v", err)
		}
	})
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}
