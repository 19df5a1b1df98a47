// Package patch is SCIM PATCH (RFC 7644 §3.5.2) on a resource's JSON
// document, driven by the resource type's schema: it parses a PatchOp
// request, resolves every path form (attribute, sub-attribute,
// URN-qualified, value filter, value filter plus sub-attribute, path-less
// values with plain, dotted or URN keys) and applies add, replace and
// remove with the RFC's multi-valued semantics. It knows nothing of storage:
// the engine hands it the stored document and gets back the new one, plus
// the operations on attributes stored apart from the document (group
// membership), which it turns into row inserts and deletes.
//
// Real clients bend the RFC; each tolerance is on by default and documented
// where it is handled (see also docs/DESIGN.md, "Client quirks").
package patch

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/scimforge/scimforge/scim/schema"
	"github.com/scimforge/scimforge/scim/scimerr"
)

// Kind is a PATCH operation: add, replace or remove.
type Kind int

// Operation kinds.
const (
	Add Kind = iota + 1
	Replace
	Remove
)

func (k Kind) String() string {
	switch k {
	case Add:
		return "add"
	case Replace:
		return "replace"
	case Remove:
		return "remove"
	}
	return "?"
}

// Operation is one element of "Operations".
type Operation struct {
	Kind Kind
	// Path is the raw "path" ("" when absent).
	Path string
	// Value is the decoded "value" (numbers as json.Number); HasValue tells
	// an absent value from an explicit null.
	Value    any
	HasValue bool
}

// Request is a parsed PatchOp message.
type Request struct {
	Operations []Operation
}

// MaxOperations bounds the operations of one request, so one request cannot
// keep a write transaction busy for long.
const MaxOperations = 1000

// UnmarshalJSON lets oapi-codegen bind a PatchOp body straight into a
// Request: the strict handler decodes into the type the spec names
// (x-go-type), and the SCIM checks happen here.
func (r *Request) UnmarshalJSON(b []byte) error {
	got, err := Parse(b)
	if err != nil {
		return err
	}
	*r = *got
	return nil
}

// Parse reads a PatchOp body. Key names are matched case-insensitively
// ("Operations" and "operations" both occur), op names in any case (Entra
// sends "Replace"), and keys other than schemas/Operations (Microsoft's
// collection sends "id") are ignored. "schemas", when present, must list the
// PatchOp URN; a body without it is accepted.
func Parse(body []byte) (*Request, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil || raw == nil {
		return nil, scimerr.BadRequest(scimerr.InvalidSyntax, "the body is not a PatchOp JSON object (RFC 7644 §3.5.2)")
	}
	var schemasRaw, opsRaw json.RawMessage
	for k, v := range raw {
		switch strings.ToLower(k) {
		case "schemas":
			schemasRaw = v
		case "operations":
			opsRaw = v
		}
	}
	if schemasRaw != nil && !bytes.Equal(bytes.TrimSpace(schemasRaw), []byte("null")) {
		var schemas []string
		if err := json.Unmarshal(schemasRaw, &schemas); err != nil {
			return nil, scimerr.BadRequest(scimerr.InvalidSyntax, "\"schemas\" must be an array of strings")
		}
		found := false
		for _, s := range schemas {
			found = found || strings.EqualFold(s, schema.PatchOpURN)
		}
		if !found {
			return nil, scimerr.BadRequest(scimerr.InvalidSyntax, "\"schemas\" must list %q", schema.PatchOpURN)
		}
	}
	if opsRaw == nil {
		return nil, scimerr.BadRequest(scimerr.InvalidSyntax, "\"Operations\" is missing: a PatchOp needs at least one operation")
	}
	var ops []map[string]json.RawMessage
	if err := json.Unmarshal(opsRaw, &ops); err != nil {
		return nil, scimerr.BadRequest(scimerr.InvalidSyntax, "\"Operations\" must be an array of objects")
	}
	if len(ops) == 0 {
		return nil, scimerr.BadRequest(scimerr.InvalidSyntax, "\"Operations\" is empty: a PatchOp needs at least one operation")
	}
	if len(ops) > MaxOperations {
		return nil, scimerr.New(413, "", "%d operations in one PATCH; at most %d", len(ops), MaxOperations)
	}
	req := &Request{Operations: make([]Operation, 0, len(ops))}
	for i, o := range ops {
		op, err := parseOperation(o)
		if err != nil {
			e := scimerr.As(err)
			e.Detail = fmt.Sprintf("Operations[%d]: %s", i, e.Detail)
			return nil, e
		}
		req.Operations = append(req.Operations, op)
	}
	return req, nil
}

func parseOperation(o map[string]json.RawMessage) (Operation, error) {
	var op Operation
	if o == nil {
		return op, scimerr.BadRequest(scimerr.InvalidSyntax, "an operation must be an object")
	}
	var name string
	for k, v := range o {
		switch strings.ToLower(k) {
		case "op":
			if err := json.Unmarshal(v, &name); err != nil {
				return op, scimerr.BadRequest(scimerr.InvalidSyntax, "\"op\" must be a string")
			}
		case "path":
			if bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
				continue
			}
			if err := json.Unmarshal(v, &op.Path); err != nil {
				return op, scimerr.BadRequest(scimerr.InvalidPath, "\"path\" must be a string")
			}
		case "value":
			d := json.NewDecoder(bytes.NewReader(v))
			d.UseNumber()
			if err := d.Decode(&op.Value); err != nil {
				return op, scimerr.BadRequest(scimerr.InvalidSyntax, "\"value\" is not valid JSON")
			}
			op.HasValue = true
		}
	}
	switch strings.ToLower(name) {
	case "add":
		op.Kind = Add
	case "replace":
		op.Kind = Replace
	case "remove":
		op.Kind = Remove
	case "":
		return op, scimerr.BadRequest(scimerr.InvalidSyntax, "\"op\" is missing; use add, replace or remove")
	default:
		return op, scimerr.BadRequest(scimerr.InvalidSyntax, "unknown op %q; use add, replace or remove", name)
	}
	op.Path = strings.TrimSpace(op.Path)
	switch {
	case op.Kind == Remove && op.Path == "":
		return op, scimerr.BadRequest(scimerr.NoTarget, "remove needs a \"path\" (RFC 7644 §3.5.2.2)")
	case op.Kind != Remove && !op.HasValue:
		return op, scimerr.BadRequest(scimerr.InvalidSyntax, "%s needs a \"value\"", op.Kind)
	case op.Kind != Remove && op.Path == "":
		if _, ok := op.Value.(map[string]any); !ok {
			return op, scimerr.BadRequest(scimerr.InvalidValue, "%s without a \"path\" needs an object \"value\" whose keys are attribute paths", op.Kind)
		}
	}
	return op, nil
}
