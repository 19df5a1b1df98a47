package engine

import (
	"bytes"
	"context"
	"encoding/json"

	"github.com/scimforge/scimforge/scim/patch"
	"github.com/scimforge/scimforge/scim/schema"
	"github.com/scimforge/scimforge/scim/scimerr"
)

// Endpoint is one resource type's write operations at the JSON level, for
// callers that dispatch by endpoint without knowing the Go type: Bulk
// (RFC 7644 §3.7). Every method is the typed Service method after decoding
// the body exactly as the HTTP layer does, so a bulk operation has the same
// hooks, validation, transactions and membership handling, and the same
// errors, as the single-resource request it stands for.
type Endpoint interface {
	Type() *schema.ResourceType
	CreateJSON(ctx context.Context, body []byte) (*Response, error)
	ReplaceJSON(ctx context.Context, id string, body []byte) (*Response, error)
	// PatchJSON answers as PATCH without attributes/excludedAttributes:
	// 204, or 200 with the resource if the context's Conditions ask for
	// the representation.
	PatchJSON(ctx context.Context, id string, body []byte) (*Response, error)
	Delete(ctx context.Context, id string) error
}

var _ Endpoint = (*Service[struct{}])(nil)

// CreateJSON is Create with a JSON body.
func (s *Service[T]) CreateJSON(ctx context.Context, body []byte) (*Response, error) {
	if err := s.CheckAttributes(body); err != nil {
		return nil, err
	}
	v, err := decodeBody[T](body)
	if err != nil {
		return nil, err
	}
	return s.Create(ctx, v)
}

// ReplaceJSON is Replace with a JSON body.
func (s *Service[T]) ReplaceJSON(ctx context.Context, id string, body []byte) (*Response, error) {
	if err := s.CheckAttributes(body); err != nil {
		return nil, err
	}
	v, err := decodeBody[T](body)
	if err != nil {
		return nil, err
	}
	return s.Replace(ctx, id, v)
}

// PatchJSON is Patch with a JSON PatchOp body.
func (s *Service[T]) PatchJSON(ctx context.Context, id string, body []byte) (*Response, error) {
	req, err := decodeBody[patch.Request](body)
	if err != nil {
		return nil, err
	}
	return s.Patch(ctx, id, req, "", "")
}

// decodeBody decodes a request body as oapi-codegen's strict handler does
// (one json.Decoder value; what follows it is not read) and maps errors as
// the HTTP edge does.
func decodeBody[T any](body []byte) (*T, error) {
	v := new(T)
	if err := json.NewDecoder(bytes.NewReader(body)).Decode(v); err != nil {
		return nil, scimerr.FromJSON(err)
	}
	return v, nil
}
