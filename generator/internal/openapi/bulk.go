package openapi

import (
	"fmt"
	"net/http"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/scimforge/scimforge/scim/schema"
)

// Component and tag names of the Bulk endpoint.
const (
	compBulkRequest    = "BulkRequest"
	compBulkRequestOp  = "BulkRequestOperation"
	compBulkResponse   = "BulkResponse"
	compBulkResponseOp = "BulkResponseOperation"
	tagBulk            = "Bulk"
)

// bulk adds POST /Bulk (RFC 7644 §3.7) when the ServiceProviderConfig
// says bulk is supported. Only the published view has it: the server routes
// /Bulk by hand (scim/bulk dispatches each operation to its resource type's
// engine service), so oapi-codegen must not generate a handler for it.
func (b *builder) bulk() error {
	cfg, err := b.set.Bulk()
	if err != nil || !cfg.Supported || b.codegen {
		return err
	}
	add := func(name string, s *openapi3.Schema) error {
		_, err := b.addSchema(name, "the SCIM protocol", s)
		return err
	}

	op := openapi3.NewObjectSchema()
	op.Description = "One operation of a bulk request (RFC 7644 §3.7): the request it stands for, as method, path and body."
	op.Required = []string{"method", "path"}
	method := openapi3.NewStringSchema()
	method.Pattern = "^([Pp][Oo][Ss][Tt]|[Pp][Uu][Tt]|[Pp][Aa][Tt][Cc][Hh]|[Dd][Ee][Ll][Ee][Tt][Ee])$"
	method.Description = "POST, PUT, PATCH or DELETE, in any case (required)."
	op.Properties["method"] = &openapi3.SchemaRef{Value: method}
	op.Properties["bulkId"] = prop(openapi3.NewStringSchema(), "A name for the resource a POST creates, unique within the request (required for POST). Other operations refer to that resource as \"bulkId:<name>\": as a whole string value anywhere in data (e.g. a group member's value) or as the id in path (/Users/bulkId:<name>), even when the POST comes later in the request.")
	op.Properties["version"] = prop(openapi3.NewStringSchema(), "An ETag (meta.version) the resource must still have: the operation's If-Match. A stale one fails that operation with 412.")
	op.Properties["path"] = prop(openapi3.NewStringSchema(), "The resource path relative to the base URL: a resource type endpoint for POST (/Users), one resource otherwise (/Users/{id} or /Users/bulkId:<name>) (required).")
	op.Properties["data"] = &openapi3.SchemaRef{Value: &openapi3.Schema{
		Type:        &openapi3.Types{openapi3.TypeObject},
		Description: "The body the single request would send: the resource for POST and PUT, a PatchOp message for PATCH; none for DELETE.",
	}}

	req := openapi3.NewObjectSchema()
	req.Description = "A bulk request (RFC 7644 §3.7, schema " + schema.BulkRequestURN + ")."
	req.Required = []string{"schemas", "Operations"}
	req.Properties["schemas"] = &openapi3.SchemaRef{Value: urnArray(schema.BulkRequestURN)}
	foe := openapi3.NewIntegerSchema().WithMin(0)
	foe.Description = "Stop after this many operations have failed: the remaining ones are not processed. Absent or 0: process every operation."
	req.Properties["failOnErrors"] = &openapi3.SchemaRef{Value: foe}
	ops := openapi3.NewArraySchema()
	ops.Items = ref(compBulkRequestOp)
	ops.MinItems = 1
	if cfg.MaxOperations > 0 {
		ops.WithMaxItems(int64(cfg.MaxOperations))
	}
	ops.Description = fmt.Sprintf("The operations (required; at most maxOperations, %d). Each commits on its own.", cfg.MaxOperations)
	req.Properties["Operations"] = &openapi3.SchemaRef{Value: ops}

	rop := openapi3.NewObjectSchema()
	rop.Description = "The outcome of one processed operation (RFC 7644 §3.7.3). Resource bodies are not echoed; a failure carries the SCIM Error in response."
	rop.Required = []string{"method", "status"}
	rop.Properties["method"] = prop(openapi3.NewStringSchema(), "The operation's method, upper-case (required).")
	rop.Properties["bulkId"] = prop(openapi3.NewStringSchema(), "The operation's bulkId, as sent.")
	rop.Properties["version"] = prop(openapi3.NewStringSchema(), "The resource's ETag after the operation.")
	rop.Properties["location"] = prop(openapi3.NewStringSchema(), "The URL of the resource; absent when a POST failed.")
	status := openapi3.NewStringSchema()
	status.Pattern = "^[1-5][0-9][0-9]$"
	status.Description = "The HTTP status of the operation as a string, e.g. \"201\" (required)."
	rop.Properties["status"] = &openapi3.SchemaRef{Value: status}
	rop.Properties["response"] = ref(compError)

	resp := openapi3.NewObjectSchema()
	resp.Description = "A bulk response (RFC 7644 §3.7.3, schema " + schema.BulkResponseURN + "): one entry per processed operation, in request order."
	resp.Required = []string{"schemas", "Operations"}
	resp.Properties["schemas"] = &openapi3.SchemaRef{Value: urnArray(schema.BulkResponseURN)}
	rops := openapi3.NewArraySchema()
	rops.Items = ref(compBulkResponseOp)
	rops.Description = "The processed operations (required)."
	resp.Properties["Operations"] = &openapi3.SchemaRef{Value: rops}

	for _, c := range []struct {
		name string
		s    *openapi3.Schema
	}{{compBulkRequestOp, op}, {compBulkRequest, req}, {compBulkResponseOp, rop}, {compBulkResponse, resp}} {
		if err := add(c.name, c.s); err != nil {
			return err
		}
	}

	// Not "bulk": generated clients name the answer of operation X
	// XResponse, which would clash with the BulkResponse message.
	o := b.operation("runBulk", tagBulk,
		"Run several operations in one request",
		fmt.Sprintf("Runs POST, PUT, PATCH and DELETE operations on any resource type (RFC 7644 §3.7), each exactly as the single request would run, and each committed on its own: a failed operation does not undo or stop the others unless failOnErrors is reached. An operation that refers to a bulkId defined later waits for it; operations whose bulkId references form a cycle fail with 409, as does one that refers to a bulkId whose POST failed. At most %d operations and %d bytes (maxOperations, maxPayloadSize in /ServiceProviderConfig); more is 413 and nothing is processed.", cfg.MaxOperations, cfg.MaxPayloadSize))
	o.RequestBody = &openapi3.RequestBodyRef{Value: openapi3.NewRequestBody().
		WithRequired(true).
		WithDescription("The operations to run.").
		WithContent(b.requestContent(ref(compBulkRequest)))}
	o.AddResponse(http.StatusOK, openapi3.NewResponse().
		WithDescription("The request was processed (some operations may have failed: see each status).").
		WithContent(b.responseContent(ref(compBulkResponse))))
	b.errors(o, respBadRequest, respUnauthorized, respTooLarge, respMediaType, respInternalError)
	b.doc.AddOperation("/Bulk", http.MethodPost, o)
	b.doc.Tags = append(b.doc.Tags, &openapi3.Tag{
		Name:        tagBulk,
		Description: "Several operations in one request (RFC 7644 §3.7).",
	})
	return nil
}
