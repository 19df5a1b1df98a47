// Package bulk is SCIM Bulk (RFC 7644 §3.7): it parses a BulkRequest,
// orders its operations so that a bulkId reference waits for the POST that
// defines it, substitutes the ids those POSTs created, runs each operation
// through the engine's own write path (engine.Endpoint: the same hooks,
// validation, transactions and errors as a single-resource request), and
// builds the BulkResponse. It has no HTTP code: app/server reads the body
// and writes the response.
//
// Decisions where the RFC leaves room (docs/DESIGN.md repeats them):
//   - Each operation commits on its own; a failure never undoes or stops the
//     others, unless failOnErrors failures have happened: then the remaining
//     operations are not processed and the response lists those that were.
//   - Operations run in request order, except that one referencing a bulkId
//     defined later waits for it. The response lists processed operations
//     in request order.
//   - Circular references (a group whose members reference each other's
//     bulkIds) are detected before anything runs; every operation on the
//     cycle fails with 409 (RFC 7644 §3.7.1 allows it; the RFC defines no
//     scimType for it, so none is sent). So does any operation referencing a
//     bulkId whose operation failed or was not processed (409: the request
//     was fine, the state it needed is missing).
//   - A reference to a bulkId that no POST of the request defines fails
//     that operation with 400 invalidValue; a bulkId used twice makes the
//     whole request 400 invalidValue (references would be ambiguous).
//   - "version" is the operation's If-Match: a stale one fails only that
//     operation, with 412.
package bulk

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/scimforge/scimforge/scim/engine"
	"github.com/scimforge/scimforge/scim/schema"
	"github.com/scimforge/scimforge/scim/scimerr"
)

// Limits are what /ServiceProviderConfig advertises under "bulk" (RFC 7643
// §5) and what the processor enforces (RFC 7644 §3.7.4).
type Limits struct {
	MaxOperations  int
	MaxPayloadSize int64
}

// Processor runs bulk requests against a set of resource types.
type Processor struct {
	endpoints map[string]engine.Endpoint // by lower-cased endpoint name, "users"
	limits    Limits
	log       *slog.Logger
}

// New returns a processor over endpoints with the given limits.
func New(endpoints []engine.Endpoint, limits Limits, log *slog.Logger) *Processor {
	p := &Processor{endpoints: map[string]engine.Endpoint{}, limits: limits, log: log}
	for _, e := range endpoints {
		p.endpoints[strings.ToLower(strings.Trim(e.Type().Endpoint, "/"))] = e
	}
	return p
}

// Limits returns the processor's limits.
func (p *Processor) Limits() Limits { return p.limits }

// TooLarge is the 413 for a body over MaxPayloadSize (RFC 7644 §3.7.4).
func (p *Processor) TooLarge() *scimerr.Error {
	return scimerr.New(http.StatusRequestEntityTooLarge, "", "the size of the bulk request exceeds the maxPayloadSize (%d bytes)", p.limits.MaxPayloadSize)
}

// Process runs one BulkRequest body. An error is a *scimerr.Error about the
// whole request (nothing was processed); otherwise the response is 200.
func (p *Processor) Process(ctx context.Context, body []byte) (*Response, error) {
	if int64(len(body)) > p.limits.MaxPayloadSize {
		return nil, p.TooLarge()
	}
	req, err := Parse(body, p.limits.MaxOperations)
	if err != nil {
		return nil, err
	}
	return p.Run(ctx, req), nil
}

// Response is a BulkResponse message.
type Response struct {
	Operations []Result
}

// MarshalJSON writes the RFC 7644 §3.7.3 message.
func (r *Response) MarshalJSON() ([]byte, error) {
	ops := r.Operations
	if ops == nil {
		ops = []Result{}
	}
	return json.Marshal(struct {
		Schemas    []string `json:"schemas"`
		Operations []Result `json:"Operations"`
	}{[]string{schema.BulkResponseURN}, ops})
}

// Result is the outcome of one processed operation. Resource bodies are not
// echoed (RFC 7644 §3.7.3 makes them optional on success); a failure
// carries the SCIM Error body in Response.
type Result struct {
	Method   string         `json:"method"`
	BulkID   string         `json:"bulkId,omitempty"`
	Version  string         `json:"version,omitempty"`
	Location string         `json:"location,omitempty"`
	Status   string         `json:"status"`
	Response *scimerr.Error `json:"response,omitempty"`
}

// Failed reports whether the operation failed.
func (r *Result) Failed() bool { return r.Response != nil }

// plan is what Run knows of an operation before it runs.
type plan struct {
	op       Operation
	endpoint engine.Endpoint
	id       string // the resource id of the path ("bulkId:x" until resolved)
	refs     []string
	deps     []int          // operations defining refs
	err      *scimerr.Error // fails the operation without running it
}

// Run processes a parsed request.
func (p *Processor) Run(ctx context.Context, req *Request) *Response {
	ops := req.Operations
	plans := make([]*plan, len(ops))
	defines := map[string]int{} // bulkId -> index of the POST defining it
	for i, op := range ops {
		if op.Method == http.MethodPost && op.BulkID != "" {
			defines[op.BulkID] = i
		}
	}
	deps := make([][]int, len(ops))
	for i, op := range ops {
		pl := p.plan(op, defines)
		plans[i] = pl
		deps[i] = pl.deps
	}
	comp := cycles(deps)
	onCycle := make([]bool, len(ops))
	for i, pl := range plans {
		if comp[i] >= 0 {
			onCycle[i] = true
			pl.err = scimerr.New(http.StatusConflict, "", "the bulkId references of %s form a cycle; create the resources first and link them in a later operation (RFC 7644 §3.7.1)", describeCycle(comp, comp[i], ops))
		}
	}

	results := make([]*Result, len(ops))
	created := map[string]string{} // bulkId -> id of the created resource
	failures := 0
	for _, i := range order(deps, onCycle) {
		if req.FailOnErrors > 0 && failures >= req.FailOnErrors {
			break
		}
		r := p.run(ctx, plans[i], results, created)
		results[i] = r
		if r.Failed() {
			failures++
		}
	}
	resp := &Response{}
	for _, r := range results {
		if r != nil {
			resp.Operations = append(resp.Operations, *r)
		}
	}
	return resp
}

// describeCycle names the operations of cycle c, for the error detail.
func describeCycle(comp []int, c int, ops []Operation) string {
	var names []string
	for i, k := range comp {
		if k == c {
			names = append(names, fmt.Sprintf("Operations[%d] (bulkId %q)", i, ops[i].BulkID))
		}
	}
	return strings.Join(names, ", ")
}

// plan checks what can be checked before anything runs.
func (p *Processor) plan(op Operation, defines map[string]int) *plan {
	pl := &plan{op: op}
	switch op.Method {
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
	case "":
		pl.err = scimerr.BadRequest(scimerr.InvalidSyntax, "\"method\" is required: POST, PUT, PATCH or DELETE")
		return pl
	default:
		pl.err = scimerr.BadRequest(scimerr.InvalidSyntax, "method %q is not allowed in a bulk request; use POST, PUT, PATCH or DELETE", op.Method)
		return pl
	}
	pl.endpoint, pl.id, pl.err = p.resolvePath(op.Method, op.Path)
	if pl.err != nil {
		return pl
	}
	if op.Method == http.MethodPost && op.BulkID == "" {
		pl.err = scimerr.BadRequest(scimerr.InvalidSyntax, "\"bulkId\" is required for POST (RFC 7644 §3.7)")
		return pl
	}
	if op.Method != http.MethodDelete && op.Data == nil {
		pl.err = scimerr.BadRequest(scimerr.InvalidSyntax, "\"data\" is required for %s: the body the single request would send", op.Method)
		return pl
	}
	if ref, ok := strings.CutPrefix(pl.id, refPrefix); ok {
		pl.refs = append(pl.refs, ref)
	}
	if op.Method != http.MethodDelete {
		for _, r := range dataRefs(op.Data) {
			if !slices.Contains(pl.refs, r) {
				pl.refs = append(pl.refs, r)
			}
		}
	}
	for _, r := range pl.refs {
		d, ok := defines[r]
		if !ok {
			pl.err = scimerr.BadRequest(scimerr.InvalidValue, "%s%s refers to no POST operation of this request", refPrefix, r)
			pl.deps = nil
			return pl
		}
		pl.deps = append(pl.deps, d)
	}
	return pl
}

// resolvePath finds the endpoint and resource id of an operation's path,
// relative to the base URL: "/Users" for POST, "/Users/{id}" (or
// "/Users/bulkId:x") otherwise. Endpoint names match in any case, as for
// single requests (web.CanonicalPaths).
func (p *Processor) resolvePath(method, path string) (engine.Endpoint, string, *scimerr.Error) {
	path = strings.TrimSpace(path)
	if path == "" {
		return nil, "", scimerr.BadRequest(scimerr.InvalidPath, "\"path\" is required, e.g. /Users or /Users/{id}")
	}
	if strings.ContainsAny(path, "?#") || strings.Contains(path, "://") {
		return nil, "", scimerr.BadRequest(scimerr.InvalidPath, "path %q: give the resource path relative to the base URL, without a query, e.g. /Users/{id}", path)
	}
	rest := strings.TrimPrefix(path, "/")
	seg, id, hasID := strings.Cut(rest, "/")
	ep := p.endpoints[strings.ToLower(seg)]
	if ep == nil {
		return nil, "", scimerr.BadRequest(scimerr.InvalidPath, "path %q: no resource type has the endpoint /%s", path, seg)
	}
	if method == http.MethodPost {
		if hasID && id != "" {
			return nil, "", scimerr.BadRequest(scimerr.InvalidPath, "path %q: POST creates a resource at its resource type's endpoint, e.g. %s", path, ep.Type().Endpoint)
		}
		return ep, "", nil
	}
	if id == "" || strings.Contains(id, "/") {
		return nil, "", scimerr.BadRequest(scimerr.InvalidPath, "path %q: %s needs one resource, e.g. %s/{id}", path, method, ep.Type().Endpoint)
	}
	u, err := url.PathUnescape(id)
	if err != nil {
		return nil, "", scimerr.BadRequest(scimerr.InvalidPath, "path %q: the id is not validly escaped", path)
	}
	return ep, u, nil
}

// run processes one operation whose dependencies were processed (or failed).
func (p *Processor) run(ctx context.Context, pl *plan, results []*Result, created map[string]string) *Result {
	op := pl.op
	r := &Result{Method: op.Method, BulkID: op.BulkID}
	fail := func(e *scimerr.Error) *Result {
		r.Status = strconv.Itoa(e.Status)
		r.Response = e
		return r
	}
	if pl.err != nil {
		return fail(pl.err)
	}
	for k, ref := range pl.refs {
		d := pl.deps[k]
		if _, ok := created[ref]; !ok {
			why := "failed"
			if results[d] == nil {
				why = "was not processed"
			}
			return fail(scimerr.New(http.StatusConflict, "", "%s%s cannot be resolved: the operation that creates it (Operations[%d]) %s", refPrefix, ref, d, why))
		}
	}
	id := pl.id
	if ref, ok := strings.CutPrefix(id, refPrefix); ok {
		id = created[ref]
	}
	ep := pl.endpoint
	if op.Method != http.MethodPost {
		r.Location = engine.BaseURL(ctx) + ep.Type().Endpoint + "/" + id
	}
	data := []byte(op.Data)
	if len(pl.refs) > 0 && data != nil {
		data = substitute(data, created)
	}
	// The operation's own preconditions: "version" is its If-Match, and
	// nothing of the Bulk request's own headers applies to it.
	octx := engine.WithConditions(ctx, engine.Conditions{IfMatch: op.Version})
	var resp *engine.Response
	var err error
	switch op.Method {
	case http.MethodPost:
		resp, err = ep.CreateJSON(octx, data)
	case http.MethodPut:
		resp, err = ep.ReplaceJSON(octx, id, data)
	case http.MethodPatch:
		resp, err = ep.PatchJSON(octx, id, data)
	case http.MethodDelete:
		err = ep.Delete(octx, id)
		resp = &engine.Response{Status: http.StatusNoContent}
	}
	if err != nil {
		e := scimerr.As(err)
		if e == nil {
			p.log.Error("bulk operation failed", "method", op.Method, "path", op.Path, "err", err)
			e = scimerr.Internal()
		}
		return fail(e)
	}
	r.Status = strconv.Itoa(resp.Status)
	r.Version = resp.ETag
	if resp.Location != "" {
		r.Location = resp.Location
	}
	if op.Method == http.MethodPost {
		var v struct {
			ID string `json:"id"`
		}
		if json.Unmarshal(resp.Body, &v) != nil || v.ID == "" {
			// Every created resource has an id; without it later
			// references could not be resolved.
			p.log.Error("bulk: created resource without an id", "path", op.Path)
			return fail(scimerr.Internal())
		}
		created[op.BulkID] = v.ID
	}
	return r
}

// Config reads the "bulk" member of a ServiceProviderConfig document (RFC
// 7643 §5): whether bulk is supported, and the limits to enforce, which are
// the ones advertised.
func Config(spc []byte) (supported bool, limits Limits, err error) {
	b, err := (&schema.Set{ServiceProviderConfig: spc, ServiceProviderFile: "ServiceProviderConfig"}).Bulk()
	if err != nil {
		return false, Limits{}, err
	}
	return b.Supported, Limits{MaxOperations: b.MaxOperations, MaxPayloadSize: b.MaxPayloadSize}, nil
}
