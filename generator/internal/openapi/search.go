package openapi

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/scimforge/scimforge/generator/internal/naming"
	"github.com/scimforge/scimforge/scim/schema"
)

// Names of the search components and tag.
const (
	compSearchRequest  = "SearchRequest"
	compSearchResponse = "SearchListResponse"
	tagSearch          = "Search"
)

// searchRequest adds the RFC 7644 §3.4.3 SearchRequest message, with the
// RFC 9865 cursor. In the codegen view it is the engine's own type
// (Options.SearchRequestGoType), which decodes member names without case.
func (b *builder) searchRequest() error {
	s := openapi3.NewObjectSchema()
	s.Description = "The body of a POST .search request (RFC 7644 §3.4.3, schema " + schema.SearchRequestURN + "): the query parameters of a GET list, as JSON. schemas may be left out; when present it must contain the SearchRequest URN."
	schemas := openapi3.NewArraySchema().WithItems(openapi3.NewStringSchema())
	schemas.Description = "Contains " + schema.SearchRequestURN + "."
	s.Properties["schemas"] = &openapi3.SchemaRef{Value: schemas}
	s.Properties["attributes"] = stringList("Attribute paths to return instead of the default set (RFC 7644 §3.4.2.5), one per element.")
	s.Properties["excludedAttributes"] = stringList("Attribute paths to leave out of the default set (RFC 7644 §3.4.2.5), one per element.")
	s.Properties["filter"] = prop(openapi3.NewStringSchema(), "A filter expression (RFC 7644 §3.4.2.2).")
	s.Properties["sortBy"] = prop(openapi3.NewStringSchema(), "The attribute path to sort by (RFC 7644 §3.4.2.3).")
	s.Properties["sortOrder"] = ref(compSortOrder)
	s.Properties["startIndex"] = prop(openapi3.NewIntegerSchema(), "The 1-based index of the first result (index paging, RFC 7644 §3.4.2.4).")
	s.Properties["count"] = prop(openapi3.NewIntegerSchema(), "The maximum number of results in the page (RFC 7644 §3.4.2.4, RFC 9865).")
	s.Properties["cursor"] = prop(openapi3.NewStringSchema(), "Selects cursor paging (RFC 9865): empty for the first page, then the nextCursor or previousCursor of the previous response.")
	if b.opt.SearchRequestGoType != "" {
		i := strings.LastIndex(b.opt.SearchRequestGoType, ".")
		b.goTypeIn(s, b.opt.SearchRequestGoType[:i], b.opt.SearchRequestGoType[i+1:])
	}
	_, err := b.addSchema(compSearchRequest, "the SCIM protocol", s)
	return err
}

// searchBody is the request body of a .search operation.
func (b *builder) searchBody() *openapi3.RequestBodyRef {
	return &openapi3.RequestBodyRef{Value: openapi3.NewRequestBody().
		WithRequired(true).
		WithDescription("The query (RFC 7644 §3.4.3).").
		WithContent(b.requestContent(ref(compSearchRequest)))}
}

// searchPath adds POST {endpoint}/.search for one resource type.
func (b *builder) searchPath(rt *schema.ResourceType, name string) {
	plural := naming.Go(strings.TrimPrefix(rt.Endpoint, "/"))
	op := b.operation("search"+plural, rt.Name,
		fmt.Sprintf("Search %s", plural),
		fmt.Sprintf("The list query of GET %s with its parameters in a SearchRequest body (RFC 7644 §3.4.3), so that filters stay out of URLs and logs.", rt.Endpoint))
	op.RequestBody = b.searchBody()
	op.AddResponse(http.StatusOK, openapi3.NewResponse().
		WithDescription(fmt.Sprintf("A page of %s resources (RFC 7644 §3.4.2).", rt.Name)).
		WithContent(b.responseContent(ref(name+"ListResponse"))))
	b.errors(op, respBadRequest, respUnauthorized, respTooLarge, respMediaType, respInternalError, respUnavailable)
	b.doc.AddOperation(rt.Endpoint+"/.search", http.MethodPost, op)
}

// rootSearch adds POST /.search: one query over every resource type.
func (b *builder) rootSearch() error {
	if len(b.set.ResourceTypes) == 0 {
		return nil
	}
	list := listResponse("", "A page of resources of every resource type")
	if len(b.set.ResourceTypes) == 1 {
		// An anyOf of one says nothing the schema itself does not.
		list.Properties["Resources"].Value.Items = ref(b.resourceName(b.set.ResourceTypes[0]))
	} else {
		item := &openapi3.Schema{Description: "A resource of any resource type; meta.resourceType says which."}
		for _, rt := range b.set.ResourceTypes {
			item.AnyOf = append(item.AnyOf, ref(b.resourceName(rt)))
		}
		list.Properties["Resources"].Value.Items = &openapi3.SchemaRef{Value: item}
	}
	if _, err := b.addSchema(compSearchResponse, "the SCIM protocol", list); err != nil {
		return err
	}
	op := b.operation("search", tagSearch,
		"Search every resource type",
		"Runs one query over every resource type (RFC 7644 §3.4.3): resources in the order of /ResourceTypes, each type in its usual order; paging covers the whole sequence and totalResults is the sum. An attribute a resource type does not have excludes that type (in filter), keeps its default order (sortBy) or is ignored for it (attributes); only an attribute no type has is an error.")
	op.RequestBody = b.searchBody()
	op.AddResponse(http.StatusOK, openapi3.NewResponse().
		WithDescription("A page of resources (RFC 7644 §3.4.2).").
		WithContent(b.responseContent(ref(compSearchResponse))))
	b.errors(op, respBadRequest, respUnauthorized, respTooLarge, respMediaType, respInternalError, respUnavailable)
	b.doc.AddOperation("/.search", http.MethodPost, op)
	b.doc.Tags = append(b.doc.Tags, &openapi3.Tag{
		Name:        tagSearch,
		Description: "Queries across every resource type (RFC 7644 §3.4.3).",
	})
	return nil
}
