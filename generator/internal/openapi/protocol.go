package openapi

import (
	"github.com/getkin/kin-openapi/openapi3"
	"strings"

	"github.com/scimforge/scimforge/scim/schema"
	"github.com/scimforge/scimforge/scim/scimerr"
)

// scimTypes are the RFC 7644 Table 9 "scimType" error keywords, and those
// RFC 9865 adds.
var scimTypes = []scimerr.Type{
	scimerr.InvalidFilter, scimerr.TooMany, scimerr.Uniqueness, scimerr.Mutability,
	scimerr.InvalidSyntax, scimerr.InvalidPath, scimerr.NoTarget, scimerr.InvalidValue,
	scimerr.InvalidVers, scimerr.Sensitive,
	// RFC 9865 §2.3 (cursor paging).
	scimerr.InvalidCursor, scimerr.InvalidCount,
}

// Names of the shared components. Resource types cannot use them.
const (
	compMeta          = "Meta"
	compError         = "Error"
	compSortOrder     = "SortOrder"
	compSPC           = "ServiceProviderConfig"
	compSPCFeature    = "ServiceProviderConfigFeature"
	compSPCBulk       = "ServiceProviderConfigBulk"
	compSPCFilter     = "ServiceProviderConfigFilter"
	compSPCPagination = "ServiceProviderConfigPagination"
	compAuthScheme    = "AuthenticationScheme"
	compSchema        = "Schema"
	compSchemaAttr    = "SchemaAttribute"
	compRT            = "ResourceType"
	compRTExtension   = "ResourceTypeSchemaExtension"
	compPatchOp       = "PatchOp"
	compPatchOpItem   = "PatchOperation"

	// patchGoImport is the package whose Request type binds PATCH bodies
	// (the codegen view aliases the PatchOp schema to it).
	patchGoImport = "github.com/scimforge/scimforge/scim/patch"

	respBadRequest    = "BadRequest"
	respUnauthorized  = "Unauthorized"
	respNotFound      = "NotFound"
	respConflict      = "Conflict"
	respTooLarge      = "PayloadTooLarge"
	respMediaType     = "UnsupportedMediaType"
	respInternalError = "InternalError"
	respUnavailable   = "ServiceUnavailable"
	respPrecondition  = "PreconditionFailed"
)

// protocol adds the components every SCIM service provider has, whatever
// its resource types: Meta, Error, the error responses, the query
// parameters, and the discovery schemas.
func (b *builder) protocol() error {
	if _, err := b.attribute("", schema.Common("meta")); err != nil {
		return err
	}
	add := func(name string, s *openapi3.Schema) error {
		_, err := b.addSchema(name, "the SCIM protocol", s)
		return err
	}

	e := openapi3.NewObjectSchema()
	e.Description = "The SCIM error message (RFC 7644 §3.12), sent with every 4xx and 5xx response."
	e.Required = []string{"schemas", "status"}
	e.Properties["schemas"] = &openapi3.SchemaRef{Value: urnArray(schema.ErrorURN)}
	status := openapi3.NewStringSchema()
	status.Description = "The HTTP status code as a string, e.g. \"409\" (required). SCIM sends it as a JSON string, not a number."
	e.Properties["status"] = &openapi3.SchemaRef{Value: status}
	st := openapi3.NewStringSchema()
	for _, t := range scimTypes {
		st.Enum = append(st.Enum, string(t))
	}
	st.Description = "The SCIM detail error keyword (RFC 7644 Table 9); present on most 400 and 409 errors."
	e.Properties["scimType"] = &openapi3.SchemaRef{Value: st}
	detail := openapi3.NewStringSchema()
	detail.Description = "A human-readable explanation, meant for the administrator reading provisioning logs."
	e.Properties["detail"] = &openapi3.SchemaRef{Value: detail}
	if err := add(compError, e); err != nil {
		return err
	}

	so := openapi3.NewStringSchema().WithEnum("ascending", "descending")
	so.Description = "The order of sorted results (RFC 7644 §3.4.2.3): ascending, the default when sortBy is given, or descending."
	if err := add(compSortOrder, so); err != nil {
		return err
	}
	if err := b.discoverySchemas(add); err != nil {
		return err
	}
	if err := b.patchSchemas(add); err != nil {
		return err
	}
	if err := b.searchRequest(); err != nil {
		return err
	}

	for _, r := range []struct{ name, desc string }{
		{respBadRequest, "The request is not valid: malformed JSON, an invalid filter or attribute path, a value of the wrong type, or an attempt to change a readOnly or immutable attribute. scimType says which (RFC 7644 §3.12)."},
		{respUnauthorized, "The credentials are missing or not valid (RFC 7644 §2): no Authorization header, or one that no security scheme of this document accepts."},
		{respNotFound, "No resource exists at this URL (RFC 7644 §3.12)."},
		{respConflict, "The request would break a uniqueness constraint, e.g. another resource already has this userName (scimType uniqueness, RFC 7644 §3.3, §3.5.1), or a concurrent request changed the resource during a replace (no scimType; retry)."},
		{respTooLarge, "The request body is larger than the service provider accepts (RFC 7644 §3.12)."},
		{respMediaType, "The request's Content-Type is neither application/scim+json nor application/json (RFC 7644 §3.1, §3.12)."},
		{respInternalError, "The service provider failed to handle the request (RFC 7644 §3.12)."},
		{respUnavailable, "The service provider is temporarily busy; retry after the number of seconds in Retry-After (RFC 7644 §3.12)."},
		{respPrecondition, "If-Match names a version that is no longer current: another request changed the resource (RFC 7644 §3.14, RFC 7232 §4.2). ETag carries the current version."},
	} {
		resp := openapi3.NewResponse().WithDescription(r.desc).WithContent(b.responseContent(ref(compError)))
		switch r.name {
		case respUnauthorized:
			resp.Headers = openapi3.Headers{"WWW-Authenticate": &openapi3.HeaderRef{Value: &openapi3.Header{Parameter: openapi3.Parameter{
				Description: "The authentication scheme to use: " + b.challenges() + " (RFC 9110 §11.6.1).",
				Schema:      str(),
			}}}}
		case respPrecondition:
			resp.Headers = openapi3.Headers{"ETag": &openapi3.HeaderRef{Value: &openapi3.Header{Parameter: openapi3.Parameter{
				Description: "The current version of the resource.",
				Schema:      str(),
			}}}}
		case respUnavailable:
			resp.Headers = openapi3.Headers{"Retry-After": &openapi3.HeaderRef{Value: &openapi3.Header{Parameter: openapi3.Parameter{
				Description: "The number of seconds to wait before retrying (RFC 9110 §10.2.3).",
				Schema:      &openapi3.SchemaRef{Value: openapi3.NewIntegerSchema()},
			}}}}
		}
		b.errorExample(r.name, resp)
		b.doc.Components.Responses[r.name] = &openapi3.ResponseRef{Value: resp}
	}

	for _, p := range []struct {
		name, desc string
		s          *openapi3.SchemaRef
	}{
		{"filter", "A filter expression (RFC 7644 §3.4.2.2) selecting the resources to return, e.g. userName eq \"bjensen\" or emails[type eq \"work\" and value co \"@example.com\"]. Attribute names and operators are case-insensitive.", str()},
		{"startIndex", "The 1-based index of the first result to return (RFC 7644 §3.4.2.4). Defaults to 1; a value less than 1 is interpreted as 1.", &openapi3.SchemaRef{Value: openapi3.NewIntegerSchema()}},
		{"count", "The maximum number of results to return in the page (RFC 7644 §3.4.2.4). A negative value is interpreted as 0, which returns only totalResults. The service provider may return fewer, up to filter.maxResults of its ServiceProviderConfig.", &openapi3.SchemaRef{Value: openapi3.NewIntegerSchema()}},
		{"sortBy", "The attribute path to sort the results by (RFC 7644 §3.4.2.3), e.g. name.familyName.", str()},
		{"sortOrder", "The order in which the sortBy attribute is applied (RFC 7644 §3.4.2.3).", ref(compSortOrder)},
		{"attributes", "A comma-separated list of attribute paths to return instead of the default set (RFC 7644 §3.4.2.5), e.g. userName,emails.value or urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber. Attributes returned \"always\" are returned too.", str()},
		{"If-Match", "Apply the request only if the resource is at one of these versions (an ETag from meta.version or a previous response, e.g. W/\"3\", or *); otherwise 412 (RFC 7644 §3.14).", str()},
		{"If-None-Match", "Return 304 Not Modified without a body if the resource is still at one of these versions (RFC 7644 §3.14).", str()},
		{"excludedAttributes", "A comma-separated list of attribute paths to leave out of the default set (RFC 7644 §3.4.2.5). Attributes returned \"always\" are returned anyway.", str()},
		{"cursor", "Selects cursor paging (RFC 9865) instead of startIndex: send it empty (cursor=) for the first page, then the nextCursor or previousCursor of the previous response, with the same filter, sortBy and sortOrder. A cursor from another query is a 400 invalidCursor; with cursors, count must be between 0 and pagination.maxPageSize (else 400 invalidCount).", str()},
	} {
		q := openapi3.NewQueryParameter(p.name).WithDescription(p.desc)
		if strings.HasPrefix(p.name, "If-") {
			q = openapi3.NewHeaderParameter(p.name).WithDescription(p.desc)
		}
		q.Schema = p.s
		b.doc.Components.Parameters[p.name] = &openapi3.ParameterRef{Value: q}
	}
	return nil
}

func str() *openapi3.SchemaRef { return &openapi3.SchemaRef{Value: openapi3.NewStringSchema()} }

// prop is a property with a type and a description.
func prop(s *openapi3.Schema, desc string) *openapi3.SchemaRef {
	s.Description = desc
	return &openapi3.SchemaRef{Value: s}
}

func readOnlyProp(s *openapi3.Schema, desc string) *openapi3.SchemaRef {
	s.ReadOnly = true
	return prop(s, desc)
}

func stringList(desc string) *openapi3.SchemaRef {
	return prop(openapi3.NewArraySchema().WithItems(openapi3.NewStringSchema()), desc)
}

// discoverySchemas adds ServiceProviderConfig (RFC 7643 §5), ResourceType
// (§6) and Schema (§7) with the structures they are made of.
func (b *builder) discoverySchemas(add func(string, *openapi3.Schema) error) error {
	feature := openapi3.NewObjectSchema()
	feature.Description = "Whether the service provider supports an optional SCIM feature (RFC 7643 §5): PATCH (RFC 7644 §3.5.2), changePassword, sort (RFC 7644 §3.4.2.3) or etag (RFC 7644 §3.14)."
	feature.Required = []string{"supported"}
	feature.Properties["supported"] = prop(openapi3.NewBoolSchema(), "Whether the feature is supported (required).")

	bulk := openapi3.NewObjectSchema()
	bulk.Description = "Bulk operation support (RFC 7643 §5, RFC 7644 §3.7)."
	bulk.Required = []string{"supported", "maxOperations", "maxPayloadSize"}
	bulk.Properties["supported"] = prop(openapi3.NewBoolSchema(), "Whether bulk operations are supported (required).")
	bulk.Properties["maxOperations"] = prop(openapi3.NewIntegerSchema(), "The maximum number of operations in one bulk request (required).")
	bulk.Properties["maxPayloadSize"] = prop(openapi3.NewIntegerSchema(), "The maximum payload size of a bulk request in bytes (required).")

	filter := openapi3.NewObjectSchema()
	filter.Description = "Filter support (RFC 7643 §5, RFC 7644 §3.4.2.2)."
	filter.Required = []string{"supported", "maxResults"}
	filter.Properties["supported"] = prop(openapi3.NewBoolSchema(), "Whether filtering is supported (required).")
	filter.Properties["maxResults"] = prop(openapi3.NewIntegerSchema(), "The maximum number of resources a query returns (required).")

	pagination := openapi3.NewObjectSchema()
	pagination.Description = "Pagination support (RFC 9865 §4)."
	pagination.Properties["cursor"] = prop(openapi3.NewBoolSchema(), "Whether cursor paging (the cursor query parameter) is supported.")
	pagination.Properties["index"] = prop(openapi3.NewBoolSchema(), "Whether index paging (startIndex) is supported.")
	pagination.Properties["defaultPaginationMethod"] = prop(openapi3.NewStringSchema().WithEnum("cursor", "index"), "The paging a request that asks for neither gets.")
	pagination.Properties["defaultPageSize"] = prop(openapi3.NewIntegerSchema(), "The page size when count is not given.")
	pagination.Properties["maxPageSize"] = prop(openapi3.NewIntegerSchema(), "The largest page size the service provider returns.")
	pagination.Properties["cursorTimeout"] = prop(openapi3.NewIntegerSchema(), "The minimum number of seconds a cursor stays valid between page requests.")

	auth := openapi3.NewObjectSchema()
	auth.Description = "An authentication scheme the service provider supports (RFC 7643 §5)."
	auth.Required = []string{"type", "name", "description"}
	auth.Properties["type"] = prop(openapi3.NewStringSchema(), "The authentication scheme (required; canonical values oauth, oauth2, oauthbearertoken, httpbasic, httpdigest).")
	auth.Properties["name"] = prop(openapi3.NewStringSchema(), "The common name of the scheme, e.g. \"OAuth Bearer Token\" (required).")
	auth.Properties["description"] = prop(openapi3.NewStringSchema(), "A description of the scheme (required).")
	auth.Properties["specUri"] = prop(openapi3.NewStringSchema().WithFormat("uri"), "An HTTP-addressable URL pointing to the scheme's specification.")
	auth.Properties["documentationUri"] = prop(openapi3.NewStringSchema().WithFormat("uri"), "An HTTP-addressable URL pointing to the scheme's usage documentation.")
	auth.Properties["primary"] = prop(openapi3.NewBoolSchema(), "Whether this is the preferred authentication scheme.")

	spc := openapi3.NewObjectSchema()
	spc.Description = "The service provider's configuration (RFC 7643 §5, schema " + schema.ServiceProviderConfigURN + "): which optional SCIM features it supports."
	spc.Required = []string{"schemas", "patch", "bulk", "filter", "changePassword", "sort", "etag", "authenticationSchemes"}
	spc.Properties["schemas"] = &openapi3.SchemaRef{Value: urnArray(schema.ServiceProviderConfigURN)}
	spc.Properties["documentationUri"] = prop(openapi3.NewStringSchema().WithFormat("uri"), "An HTTP-addressable URL pointing to the service provider's help documentation.")
	for _, f := range []string{"patch", "changePassword", "sort", "etag"} {
		spc.Properties[f] = ref(compSPCFeature)
	}
	spc.Properties["bulk"] = ref(compSPCBulk)
	spc.Properties["filter"] = ref(compSPCFilter)
	spc.Properties["pagination"] = ref(compSPCPagination)
	auths := openapi3.NewArraySchema()
	auths.Items = ref(compAuthScheme)
	spc.Properties["authenticationSchemes"] = prop(auths, "The supported authentication schemes (required).")
	spc.Properties["meta"] = ref(compMeta)

	attr := openapi3.NewObjectSchema()
	attr.Description = "An attribute definition (RFC 7643 §7)."
	attr.Required = []string{"name", "type", "multiValued", "required", "mutability", "returned", "uniqueness"}
	attr.Properties["name"] = prop(openapi3.NewStringSchema(), "The attribute's name (required).")
	attr.Properties["type"] = prop(openapi3.NewStringSchema().WithEnum("string", "boolean", "decimal", "integer", "dateTime", "reference", "binary", "complex"), "The attribute's data type (required; RFC 7643 §2.3).")
	attr.Properties["multiValued"] = prop(openapi3.NewBoolSchema(), "Whether the attribute is multi-valued (required).")
	attr.Properties["description"] = prop(openapi3.NewStringSchema(), "The attribute's human-readable description.")
	attr.Properties["required"] = prop(openapi3.NewBoolSchema(), "Whether the attribute is required (required).")
	attr.Properties["canonicalValues"] = stringList("Suggested values, e.g. work, home, other. Clients may use others.")
	attr.Properties["caseExact"] = prop(openapi3.NewBoolSchema(), "Whether string values are compared case-sensitively.")
	attr.Properties["mutability"] = prop(openapi3.NewStringSchema().WithEnum("readOnly", "readWrite", "immutable", "writeOnly"), "Whether and when the attribute can be changed (required; RFC 7643 §2.2).")
	attr.Properties["returned"] = prop(openapi3.NewStringSchema().WithEnum("always", "never", "default", "request"), "When the attribute is returned in a response (required; RFC 7643 §2.2).")
	attr.Properties["uniqueness"] = prop(openapi3.NewStringSchema().WithEnum("none", "server", "global"), "How the service provider enforces uniqueness of values (required; RFC 7643 §2.2).")
	attr.Properties["referenceTypes"] = stringList("For reference attributes, the resource types or \"uri\"/\"external\" the value may refer to.")
	subs := openapi3.NewArraySchema()
	subs.Items = ref(compSchemaAttr)
	attr.Properties["subAttributes"] = prop(subs, "For complex attributes, the sub-attribute definitions.")

	sch := openapi3.NewObjectSchema()
	sch.Description = "A schema definition (RFC 7643 §7, schema " + schema.SchemaURN + "), served exactly as defined in schemas/."
	sch.Required = []string{"id", "attributes"}
	sch.Properties["schemas"] = &openapi3.SchemaRef{Value: urnArray(schema.SchemaURN)}
	sch.Properties["id"] = readOnlyProp(openapi3.NewStringSchema(), "The schema URN, e.g. urn:ietf:params:scim:schemas:core:2.0:User (required).")
	sch.Properties["name"] = prop(openapi3.NewStringSchema(), "The schema's human-readable name, e.g. User.")
	sch.Properties["description"] = prop(openapi3.NewStringSchema(), "The schema's human-readable description.")
	attrs := openapi3.NewArraySchema()
	attrs.Items = ref(compSchemaAttr)
	sch.Properties["attributes"] = prop(attrs, "The attribute definitions (required).")
	sch.Properties["meta"] = ref(compMeta)

	ext := openapi3.NewObjectSchema()
	ext.Description = "A schema extension of a resource type (RFC 7643 §6)."
	ext.Required = []string{"schema", "required"}
	ext.Properties["schema"] = prop(openapi3.NewStringSchema(), "The URN of the extension schema (required).")
	ext.Properties["required"] = prop(openapi3.NewBoolSchema(), "Whether every resource of the type must include the extension (required).")

	rt := openapi3.NewObjectSchema()
	rt.Description = "A resource type (RFC 7643 §6, schema " + schema.ResourceTypeURN + "), served exactly as defined in schemas/."
	rt.Required = []string{"name", "endpoint", "schema"}
	rt.Properties["schemas"] = &openapi3.SchemaRef{Value: urnArray(schema.ResourceTypeURN)}
	rt.Properties["id"] = readOnlyProp(openapi3.NewStringSchema(), "The resource type's identifier, usually its name.")
	rt.Properties["name"] = prop(openapi3.NewStringSchema(), "The resource type's name, e.g. User (required).")
	rt.Properties["description"] = prop(openapi3.NewStringSchema(), "The resource type's human-readable description.")
	rt.Properties["endpoint"] = prop(openapi3.NewStringSchema(), "The resource type's endpoint relative to the base URL, e.g. /Users (required).")
	rt.Properties["schema"] = prop(openapi3.NewStringSchema(), "The URN of the resource type's core schema (required).")
	exts := openapi3.NewArraySchema()
	exts.Items = ref(compRTExtension)
	rt.Properties["schemaExtensions"] = prop(exts, "The schema extensions of the resource type.")
	rt.Properties["meta"] = ref(compMeta)

	for _, c := range []struct {
		name string
		s    *openapi3.Schema
	}{
		{compSPCFeature, feature}, {compSPCBulk, bulk}, {compSPCFilter, filter}, {compSPCPagination, pagination}, {compAuthScheme, auth}, {compSPC, spc},
		{compSchemaAttr, attr}, {compSchema, sch}, {compRTExtension, ext}, {compRT, rt},
		{compSchema + "ListResponse", listResponse(compSchema, "The schemas the service provider supports")},
		{compRT + "ListResponse", listResponse(compRT, "The resource types the service provider supports")},
	} {
		if err := add(c.name, c.s); err != nil {
			return err
		}
	}
	return nil
}

// patchSchemas adds the PatchOp request message (RFC 7644 §3.5.2).
func (b *builder) patchSchemas(add func(string, *openapi3.Schema) error) error {
	op := openapi3.NewObjectSchema()
	op.Description = "One PATCH operation (RFC 7644 §3.5.2)."
	op.Required = []string{"op"}
	name := openapi3.NewStringSchema()
	// Operation names are case-insensitive: Entra ID sends "Replace".
	name.Pattern = "^([Aa][Dd][Dd]|[Rr][Ee][Pp][Ll][Aa][Cc][Ee]|[Rr][Ee][Mm][Oo][Vv][Ee])$"
	name.Description = "add, replace or remove, in any case."
	op.Properties["op"] = &openapi3.SchemaRef{Value: name}
	op.Properties["path"] = prop(openapi3.NewStringSchema(), "The attribute to change (RFC 7644 §3.5.2): userName, name.familyName, emails[type eq \"work\"].value, urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager, members[value eq \"<id>\"]. Required for remove; without it, value is an object whose keys are attribute paths.")
	// Any JSON value, null included ("value": null clears an attribute).
	// OpenAPI 3.0 has no type for "any or null": nullable needs a type
	// beside it, so the value is one of the JSON types, string nullable.
	nullString := openapi3.NewStringSchema()
	nullString.Nullable = true
	anyArray := openapi3.NewArraySchema()
	anyArray.Items = &openapi3.SchemaRef{Value: &openapi3.Schema{}}
	op.Properties["value"] = &openapi3.SchemaRef{Value: &openapi3.Schema{
		Description: "The value to add or replace: a string, number, boolean, object or array, as the attribute's type requires, or null; for a path-less operation, an object of attribute paths and values.",
		AnyOf: openapi3.SchemaRefs{
			{Value: nullString},
			{Value: openapi3.NewFloat64Schema().WithFormat("double")},
			{Value: openapi3.NewBoolSchema()},
			{Value: openapi3.NewObjectSchema()},
			{Value: anyArray},
		},
	}}
	if err := add(compPatchOpItem, op); err != nil {
		return err
	}
	req := openapi3.NewObjectSchema()
	req.Description = "A PATCH request (RFC 7644 §3.5.2): operations applied in order, all or none."
	req.Required = []string{"Operations"}
	req.Properties["schemas"] = &openapi3.SchemaRef{Value: urnArray(schema.PatchOpURN)}
	ops := openapi3.NewArraySchema()
	ops.Items = ref(compPatchOpItem)
	ops.MinItems = 1
	ops.Description = "The operations, applied in order."
	req.Properties["Operations"] = &openapi3.SchemaRef{Value: ops}
	b.goTypeIn(req, patchGoImport, "Request")
	return add(compPatchOp, req)
}
