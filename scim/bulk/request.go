package bulk

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/scimforge/scimforge/scim/schema"
	"github.com/scimforge/scimforge/scim/scimerr"
)

// Request is a parsed BulkRequest message (RFC 7644 §3.7).
type Request struct {
	// FailOnErrors is the number of failed operations after which the
	// remaining ones are not processed; 0 means process them all.
	FailOnErrors int
	Operations   []Operation
}

// Operation is one element of "Operations", as sent. Problems that concern
// only this operation (an unknown method or path, a missing bulkId or
// data) are not parse errors: they fail the operation when its turn comes.
type Operation struct {
	// Method is the method as sent, upper-cased ("post" is "POST").
	Method  string
	BulkID  string
	Version string // an ETag; the operation's If-Match
	Path    string
	// Data is the raw "data" value; nil when absent or null.
	Data json.RawMessage
}

// Parse reads a BulkRequest body. An error is always a *scimerr.Error for the
// whole request: 400 for a message that is not a BulkRequest (not a JSON
// object, "schemas" without the BulkRequest URN, "Operations" missing or
// not an array of objects, a member of the wrong JSON type, a bulkId used
// twice), 413 for more than maxOperations operations (RFC 7644 §3.7.4: the
// client must split the request; nothing was processed).
//
// Key names are matched case-insensitively, as elsewhere in scimforge
// ("Operations" and "operations" both occur in the wild); unknown keys are
// ignored.
func Parse(body []byte, maxOperations int) (*Request, error) {
	top, err := object(body)
	if err != nil {
		return nil, scimerr.BadRequest(scimerr.InvalidSyntax, "the body is not a BulkRequest JSON object (RFC 7644 §3.7): %v", err)
	}
	var schemas []string
	if raw := member(top, "schemas"); raw == nil || json.Unmarshal(raw, &schemas) != nil {
		return nil, scimerr.BadRequest(scimerr.InvalidSyntax, "\"schemas\" must be an array listing %q", schema.BulkRequestURN)
	}
	found := false
	for _, s := range schemas {
		found = found || strings.EqualFold(s, schema.BulkRequestURN)
	}
	if !found {
		return nil, scimerr.BadRequest(scimerr.InvalidSyntax, "\"schemas\" must list %q", schema.BulkRequestURN)
	}
	req := &Request{}
	if raw := member(top, "failOnErrors"); raw != nil && !isNull(raw) {
		var n json.Number
		if t := bytes.TrimSpace(raw); len(t) > 0 && t[0] == '"' || json.Unmarshal(raw, &n) != nil {
			return nil, scimerr.BadRequest(scimerr.InvalidValue, "\"failOnErrors\" must be a non-negative integer")
		}
		v, err := n.Int64()
		if err != nil || v < 0 {
			return nil, scimerr.BadRequest(scimerr.InvalidValue, "\"failOnErrors\" must be a non-negative integer, not %s", n)
		}
		if v > int64(maxInt) {
			v = int64(maxInt)
		}
		req.FailOnErrors = int(v)
	}
	raw := member(top, "Operations")
	if raw == nil {
		return nil, scimerr.BadRequest(scimerr.InvalidSyntax, "\"Operations\" is missing: a BulkRequest needs at least one operation")
	}
	var ops []json.RawMessage
	if err := json.Unmarshal(raw, &ops); err != nil {
		return nil, scimerr.BadRequest(scimerr.InvalidSyntax, "\"Operations\" must be an array of objects")
	}
	if len(ops) == 0 {
		return nil, scimerr.BadRequest(scimerr.InvalidSyntax, "\"Operations\" is empty: a BulkRequest needs at least one operation")
	}
	if len(ops) > maxOperations {
		// RFC 7644 §3.7.4: 413, naming the limit; no scimType (the RFC's
		// example has none, and "tooMany" is about filter results).
		return nil, scimerr.New(http.StatusRequestEntityTooLarge, "", "the bulk request has %d operations; maxOperations is %d", len(ops), maxOperations)
	}
	req.Operations = make([]Operation, len(ops))
	firstUse := map[string]int{}
	for i, o := range ops {
		op, err := parseOperation(o)
		if err != nil {
			return nil, scimerr.BadRequest(scimerr.InvalidSyntax, "Operations[%d]: %v", i, err)
		}
		if op.BulkID != "" {
			// A bulkId names one resource of the request (RFC 7644 §3.7):
			// with two, references to it would be ambiguous.
			if j, dup := firstUse[op.BulkID]; dup {
				return nil, scimerr.BadRequest(scimerr.InvalidValue, "Operations[%d]: bulkId %q is already used by Operations[%d]; bulkIds must be unique within a request", i, op.BulkID, j)
			}
			firstUse[op.BulkID] = i
		}
		req.Operations[i] = op
	}
	return req, nil
}

const maxInt = int(^uint(0) >> 1)

func parseOperation(raw json.RawMessage) (Operation, error) {
	m, err := object(raw)
	if err != nil {
		return Operation{}, err
	}
	var op Operation
	for _, f := range []struct {
		name string
		dst  *string
	}{{"method", &op.Method}, {"bulkId", &op.BulkID}, {"version", &op.Version}, {"path", &op.Path}} {
		v := member(m, f.name)
		if v == nil || isNull(v) {
			continue
		}
		if err := json.Unmarshal(v, f.dst); err != nil {
			return Operation{}, fmt.Errorf("%q must be a string", f.name)
		}
	}
	op.Method = strings.ToUpper(strings.TrimSpace(op.Method))
	if d := member(m, "data"); d != nil && !isNull(d) {
		op.Data = d
	}
	return op, nil
}

// object decodes a JSON object into its members.
func object(b []byte) (map[string]json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, fmt.Errorf("not valid JSON: %v", se)
		}
		return nil, fmt.Errorf("not a JSON object")
	}
	if m == nil {
		return nil, fmt.Errorf("not a JSON object")
	}
	return m, nil
}

// member returns the member name of m, matched case-insensitively; an exact
// match wins, then the first of the others in byte order, so the choice
// never depends on map order.
func member(m map[string]json.RawMessage, name string) json.RawMessage {
	if v, ok := m[name]; ok {
		return v
	}
	var keys []string
	for k := range m {
		if strings.EqualFold(k, name) {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return nil
	}
	sort.Strings(keys)
	return m[keys[0]]
}

func isNull(b json.RawMessage) bool { return bytes.Equal(bytes.TrimSpace(b), []byte("null")) }
