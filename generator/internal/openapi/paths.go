package openapi

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/scimforge/scimforge/generator/internal/naming"
	"github.com/scimforge/scimforge/scim/schema"
)

// resourcePaths adds the RFC 7644 §3 operations of one resource type:
// list, create, get, replace, patch and delete.
//
// Operation ids and tags use the resource type's name (createUser), schema
// references its component name (which Options.GoNames may change).
func (b *builder) resourcePaths(rt *schema.ResourceType, name string, required *openapi3.Schema) error {
	plural := naming.Go(strings.TrimPrefix(rt.Endpoint, "/"))
	noun := upperFirst(rt.Name)
	item := rt.Endpoint + "/{id}"
	body := ref(name)
	if required != nil && !b.codegen {
		// The component lists as required only what every response
		// carries; a request must also carry the required attributes.
		// (The codegen view binds the plain type: the server validates.)
		// A component of its own gives a generated client one request
		// type for both media types and both methods.
		req := &openapi3.Schema{
			Description: fmt.Sprintf("A %s as a client sends it to create or replace one: every required attribute (RFC 7643 §2.2) present; readOnly attributes may be present and are ignored.", rt.Name),
			AllOf:       openapi3.SchemaRefs{ref(name), {Value: required}},
		}
		if _, err := b.addSchema(name+"Request", "the request body of resource type "+rt.Name, req); err != nil {
			return err
		}
		body = ref(name + "Request")
	}

	list := b.operation("list"+plural, rt.Name,
		fmt.Sprintf("List or filter %s", plural),
		fmt.Sprintf("Returns a page of %s resources, optionally filtered, sorted and trimmed to the requested attributes (RFC 7644 §3.4.2). With no filter it lists every %s.", rt.Name, rt.Name))
	for _, p := range []string{"filter", "startIndex", "count", "sortBy", "sortOrder", "attributes", "excludedAttributes", "cursor"} {
		list.Parameters = append(list.Parameters, paramRef(p))
	}
	list.AddResponse(http.StatusOK, openapi3.NewResponse().
		WithDescription(fmt.Sprintf("A page of %s resources (RFC 7644 §3.4.2).", rt.Name)).
		WithContent(b.responseContent(ref(name+"ListResponse"))))
	b.errors(list, respBadRequest, respUnauthorized, respInternalError, respUnavailable)
	b.doc.AddOperation(rt.Endpoint, http.MethodGet, list)

	create := b.operation("create"+noun, rt.Name,
		fmt.Sprintf("Create a %s", rt.Name),
		fmt.Sprintf("Creates a %s resource (RFC 7644 §3.3). readOnly attributes in the body (id, meta, ...) are ignored. The response is the resource as stored, with Location set to its URL.", rt.Name))
	create.RequestBody = &openapi3.RequestBodyRef{Value: openapi3.NewRequestBody().
		WithRequired(true).
		WithDescription(fmt.Sprintf("The %s to create.", rt.Name)).
		WithContent(b.requestContent(body))}
	create.AddResponse(http.StatusCreated, b.resourceResponse(name,
		fmt.Sprintf("The %s was created. The body is the resource as stored (RFC 7644 §3.3).", rt.Name), true))
	b.errors(create, respBadRequest, respUnauthorized, respConflict, respTooLarge, respMediaType, respInternalError, respUnavailable)
	b.doc.AddOperation(rt.Endpoint, http.MethodPost, create)
	b.searchPath(rt, name)

	get := b.operation("get"+noun, rt.Name,
		fmt.Sprintf("Get a %s", rt.Name),
		fmt.Sprintf("Returns the %s with the given id (RFC 7644 §3.4.1).", rt.Name))
	get.Parameters = openapi3.Parameters{idParam(rt), paramRef("attributes"), paramRef("excludedAttributes"), paramRef("If-None-Match")}
	get.AddResponse(http.StatusOK, b.resourceResponse(name, fmt.Sprintf("The %s.", rt.Name), false))
	get.AddResponse(http.StatusNotModified, notModified(rt))
	b.errors(get, respBadRequest, respUnauthorized, respNotFound, respInternalError, respUnavailable)
	b.doc.AddOperation(item, http.MethodGet, get)

	replace := b.operation("replace"+noun, rt.Name,
		fmt.Sprintf("Replace a %s", rt.Name),
		fmt.Sprintf("Replaces every readWrite attribute of the %s with the given id (RFC 7644 §3.5.1): attributes left out are cleared. readOnly attributes in the body are ignored, and immutable ones must not change.", rt.Name))
	replace.Parameters = openapi3.Parameters{idParam(rt), paramRef("If-Match")}
	replace.RequestBody = &openapi3.RequestBodyRef{Value: openapi3.NewRequestBody().
		WithRequired(true).
		WithDescription(fmt.Sprintf("The complete new state of the %s.", rt.Name)).
		WithContent(b.requestContent(body))}
	replace.AddResponse(http.StatusOK, b.resourceResponse(name, fmt.Sprintf("The %s as stored after the replacement.", rt.Name), false))
	b.errors(replace, respBadRequest, respUnauthorized, respNotFound, respConflict, respPrecondition, respTooLarge, respMediaType, respInternalError, respUnavailable)
	b.doc.AddOperation(item, http.MethodPut, replace)

	patch := b.operation("patch"+noun, rt.Name,
		fmt.Sprintf("Patch a %s", rt.Name),
		fmt.Sprintf("Applies add, replace and remove operations to the %s with the given id (RFC 7644 §3.5.2), all or none. Multi-valued attributes gain, replace or lose single values (emails[type eq \"work\"].value); group members are added and removed without reading the member list. The response is 204 with the new ETag, or 200 with the resource when attributes or excludedAttributes is given or the request has Prefer: return=representation. A PATCH that changes nothing keeps meta.version.", rt.Name))
	patch.Parameters = openapi3.Parameters{idParam(rt), paramRef("attributes"), paramRef("excludedAttributes"), paramRef("If-Match")}
	patch.RequestBody = &openapi3.RequestBodyRef{Value: openapi3.NewRequestBody().
		WithRequired(true).
		WithDescription("The operations to apply.").
		WithContent(b.requestContent(ref(compPatchOp)))}
	patch.AddResponse(http.StatusOK, b.resourceResponse(name, fmt.Sprintf("The %s after the operations (when asked for).", rt.Name), false))
	patch.AddResponse(http.StatusNoContent, noContent(fmt.Sprintf("The operations were applied; ETag is the %s's new version.", rt.Name)))
	b.errors(patch, respBadRequest, respUnauthorized, respNotFound, respConflict, respPrecondition, respTooLarge, respMediaType, respInternalError, respUnavailable)
	b.doc.AddOperation(item, http.MethodPatch, patch)

	del := b.operation("delete"+noun, rt.Name,
		fmt.Sprintf("Delete a %s", rt.Name),
		fmt.Sprintf("Deletes the %s with the given id (RFC 7644 §3.6). Later requests for it return 404.", rt.Name))
	del.Parameters = openapi3.Parameters{idParam(rt), paramRef("If-Match")}
	del.AddResponse(http.StatusNoContent, openapi3.NewResponse().
		WithDescription(fmt.Sprintf("The %s was deleted.", rt.Name)))
	b.errors(del, respBadRequest, respUnauthorized, respNotFound, respPrecondition, respInternalError, respUnavailable)
	b.doc.AddOperation(item, http.MethodDelete, del)
	return nil
}

// discovery adds the RFC 7644 §4 endpoints.
func (b *builder) discovery() {
	spc := b.operation("getServiceProviderConfig", tagDiscovery,
		"Get the service provider configuration",
		"Returns the service provider's configuration: the optional SCIM features it supports and how clients authenticate (RFC 7644 §4, RFC 7643 §5).")
	spc.AddResponse(http.StatusOK, openapi3.NewResponse().
		WithDescription("The service provider configuration.").
		WithContent(b.responseContent(ref(compSPC))))
	b.errors(spc, respBadRequest, respUnauthorized, respInternalError)
	b.doc.AddOperation("/ServiceProviderConfig", http.MethodGet, spc)

	ls := b.operation("listSchemas", tagDiscovery,
		"List the schemas",
		"Returns every schema the service provider supports, core and extension (RFC 7644 §4, RFC 7643 §7).")
	ls.AddResponse(http.StatusOK, openapi3.NewResponse().
		WithDescription("The schemas, as a ListResponse.").
		WithContent(b.responseContent(ref(compSchema+"ListResponse"))))
	b.errors(ls, respBadRequest, respUnauthorized, respInternalError)
	b.doc.AddOperation("/Schemas", http.MethodGet, ls)

	gs := b.operation("getSchema", tagDiscovery,
		"Get a schema",
		"Returns the schema with the given URN (RFC 7644 §4, RFC 7643 §7).")
	gs.Parameters = openapi3.Parameters{pathParam("id", "The schema URN, e.g. urn:ietf:params:scim:schemas:core:2.0:User.")}
	gs.AddResponse(http.StatusOK, openapi3.NewResponse().
		WithDescription("The schema.").
		WithContent(b.responseContent(ref(compSchema))))
	b.errors(gs, respBadRequest, respUnauthorized, respNotFound, respInternalError)
	b.doc.AddOperation("/Schemas/{id}", http.MethodGet, gs)

	lr := b.operation("listResourceTypes", tagDiscovery,
		"List the resource types",
		"Returns every resource type the service provider supports (RFC 7644 §4, RFC 7643 §6).")
	lr.AddResponse(http.StatusOK, openapi3.NewResponse().
		WithDescription("The resource types, as a ListResponse.").
		WithContent(b.responseContent(ref(compRT+"ListResponse"))))
	b.errors(lr, respBadRequest, respUnauthorized, respInternalError)
	b.doc.AddOperation("/ResourceTypes", http.MethodGet, lr)

	gr := b.operation("getResourceType", tagDiscovery,
		"Get a resource type",
		"Returns the resource type with the given name (RFC 7644 §4, RFC 7643 §6).")
	gr.Parameters = openapi3.Parameters{pathParam("name", "The resource type's name, e.g. User.")}
	gr.AddResponse(http.StatusOK, openapi3.NewResponse().
		WithDescription("The resource type.").
		WithContent(b.responseContent(ref(compRT))))
	b.errors(gr, respBadRequest, respUnauthorized, respNotFound, respInternalError)
	b.doc.AddOperation("/ResourceTypes/{name}", http.MethodGet, gr)
}

func (b *builder) operation(id, tag, summary, desc string) *openapi3.Operation {
	op := openapi3.NewOperation()
	op.OperationID = id
	op.Tags = []string{tag}
	op.Summary = summary
	op.Description = desc
	op.Responses = openapi3.NewResponses()
	return op
}

// resourceResponse is a 200 or 201 response carrying one resource. It
// declares Location and ETag: SCIM has them, and with headers declared the
// strict server wraps the body in a Body field and encodes it with the
// resource type's own MarshalJSON (packages.md R2).
func (b *builder) resourceResponse(name, desc string, created bool) *openapi3.Response {
	location := &openapi3.Header{Parameter: openapi3.Parameter{
		Description: "The URL of the resource, the same as meta.location.",
		Required:    created,
		Schema:      str(),
	}}
	if created {
		location.Description += " Always set on 201 (RFC 7644 §3.3)."
	}
	etag := &openapi3.Header{Parameter: openapi3.Parameter{
		Description: "The version of the resource, the same as meta.version; set when the service provider supports ETags (RFC 7644 §3.14).",
		Schema:      str(),
	}}
	r := openapi3.NewResponse().WithDescription(desc).WithContent(b.responseContent(ref(name)))
	r.Headers = openapi3.Headers{
		"Location": &openapi3.HeaderRef{Value: location},
		"ETag":     &openapi3.HeaderRef{Value: etag},
	}
	return r
}

// errorStatus is the status code of each shared error response.
var errorStatus = map[string]string{
	respBadRequest: "400", respUnauthorized: "401", respNotFound: "404",
	respConflict: "409", respTooLarge: "413", respMediaType: "415",
	respInternalError: "500", respUnavailable: "503", respPrecondition: "412",
}

// noContent is a 204 response carrying the resource's new ETag.
func noContent(desc string) *openapi3.Response {
	r := openapi3.NewResponse().WithDescription(desc)
	r.Headers = openapi3.Headers{"ETag": &openapi3.HeaderRef{Value: &openapi3.Header{Parameter: openapi3.Parameter{
		Description: "The new version of the resource (meta.version).",
		Schema:      str(),
	}}}}
	return r
}

// notModified is the 304 answer to a GET whose If-None-Match is current.
func notModified(rt *schema.ResourceType) *openapi3.Response {
	r := noContent(fmt.Sprintf("The %s is still at the version If-None-Match names; no body.", rt.Name))
	r.Headers["ETag"].Value.Description = "The current version of the resource."
	return r
}

// errors adds references to the shared error responses to op.
func (b *builder) errors(op *openapi3.Operation, names ...string) {
	for _, n := range names {
		op.Responses.Set(errorStatus[n], &openapi3.ResponseRef{Ref: "#/components/responses/" + n})
	}
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func paramRef(name string) *openapi3.ParameterRef {
	return &openapi3.ParameterRef{Ref: "#/components/parameters/" + name}
}

func pathParam(name, desc string) *openapi3.ParameterRef {
	p := openapi3.NewPathParameter(name).WithDescription(desc)
	p.Schema = str()
	return &openapi3.ParameterRef{Value: p}
}

func idParam(rt *schema.ResourceType) *openapi3.ParameterRef {
	return pathParam("id", fmt.Sprintf("The id the service provider assigned to the %s (RFC 7643 §3.1).", rt.Name))
}
