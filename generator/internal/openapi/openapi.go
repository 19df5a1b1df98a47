// Package openapi builds the OpenAPI 3.0.3 description of the SCIM 2.0 API
// (RFC 7644) from the loaded RFC 7643 schema set.
//
// Build returns two views of one model. The published view is openapi.yaml,
// the document partners read and the optional request validator loads. The
// codegen view is what oapi-codegen reads. It differs in only four ways:
// request and response bodies list only application/scim+json, so the strict
// server binds one body whatever Content-Type the client sends (packages.md
// R3); every resource, extension and complex-attribute schema carries
// x-go-type/x-go-type-import, so oapi-codegen aliases the scimforge Go types
// instead of generating a second User struct; and create/replace request
// bodies are the resource component itself, where the published view wraps
// it in an allOf with the attributes a request must carry (requestOverlay);
// and POST /Bulk, when the ServiceProviderConfig supports it, is only in the
// published view (the server routes it by hand: see bulk.go).
//
// A resource's component schema describes responses, which attributes and
// excludedAttributes may trim (RFC 7644 §3.4.2.5): it requires only what is
// returned "always". The e2e contract test (e2e/contract_test.go) validates
// real responses against the published view.
package openapi

import (
	"context"
	"errors"
	"fmt"
	"go/token"
	"path"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/scimforge/scimforge/generator/internal/naming"
	"github.com/scimforge/scimforge/scim/schema"
	"github.com/scimforge/scimforge/scim/scimerr"
)

// Options are the parts of the document that do not come from the schemas.
type Options struct {
	// Title is info.title; empty means DefaultTitle.
	Title string
	// Version is info.version, the version of the API description. Required.
	Version string
	// Description opens info.description; a generated summary of the
	// protocol and the resource types follows it. Empty means
	// DefaultDescription.
	Description string
	// TermsOfService is info.termsOfService (a URL), or "".
	TermsOfService string
	// Contact is info.contact, or nil.
	Contact *openapi3.Contact
	// License is info.license; nil means "Proprietary", linked to the
	// ServiceProviderConfig's documentationUri when it has one.
	License *openapi3.License
	// Servers are the base URLs of the API; empty means DefaultServer
	// alone (relative to where the document is served).
	Servers openapi3.Servers
	// SecuritySchemes, when not empty, are the security schemes, any one
	// of which opens every operation. Otherwise they are derived from the
	// authenticationSchemes of the ServiceProviderConfig (security.go).
	SecuritySchemes openapi3.SecuritySchemes
	// GoTypesImport is the import path of the package holding the generated
	// resource types, e.g. "github.com/scimforge/scimforge/generated/resource".
	// The codegen view points x-go-type at <last path element>.<Name> there.
	// Required.
	GoTypesImport string
	// MetaGoType is the Go type of the common "meta" attribute, as an import
	// path and a type name: "github.com/scimforge/scimforge/scim/scimtype.Meta".
	// The codegen view points the Meta schema at it. When empty,
	// oapi-codegen generates its own Meta struct for the discovery schemas.
	MetaGoType string
	// SearchRequestGoType is the Go type of the SearchRequest message
	// (RFC 7644 §3.4.3), in the same form as MetaGoType, e.g.
	// "github.com/scimforge/scimforge/scim/engine.SearchRequest". When
	// empty, oapi-codegen generates its own struct.
	SearchRequestGoType string
	// GoNames overrides the Go name (and component schema name) of a
	// resource type, keyed by its name ("User"), or of an extension schema,
	// keyed by its URN. Without an entry the name is naming.Go of the
	// resource type's or schema's name, as in package model; pass the
	// model's names here when schemas/codegen.yaml sets goName.
	GoNames map[string]string
}

// DefaultTitle is info.title when Options.Title is empty.
const DefaultTitle = "scimforge SCIM 2.0 API"

// DefaultDescription opens info.description when Options.Description is empty.
const DefaultDescription = "A SCIM 2.0 service provider: the protocol of RFC 7644 over the resource schemas of RFC 7643."

// BasePath is the default server URL: SCIM endpoints are relative to it.
const BasePath = "/scim/v2"

// DefaultServer is the server of a document whose Options name none: the
// base path, relative to wherever the document is served from.
func DefaultServer() *openapi3.Server {
	return &openapi3.Server{
		URL:         BasePath,
		Description: "The SCIM service provider's base URL, relative to where this document is served. Every endpoint below is relative to it (RFC 7644 §3.13).",
	}
}

// OpenAPIVersion is the OpenAPI version of both documents. 3.0.3 is what
// partner tooling and oapi-codegen handle best (packages.md §2).
const OpenAPIVersion = "3.0.3"

const (
	mediaSCIM = scimerr.ContentType // application/scim+json (RFC 7644 §3.1)
	mediaJSON = "application/json"
)

// Build returns the published and the codegen view of the API described by
// set. Both are validated with openapi3 before they are returned.
func Build(set *schema.Set, opt Options) (published, codegen *openapi3.T, err error) {
	if set == nil {
		return nil, nil, errors.New("openapi: nil schema set")
	}
	if opt.Version == "" {
		return nil, nil, errors.New("openapi: Options.Version is required (it becomes info.version)")
	}
	if opt.GoTypesImport == "" {
		return nil, nil, errors.New("openapi: Options.GoTypesImport is required (the codegen view points x-go-type at it)")
	}
	if pkg := path.Base(opt.GoTypesImport); !token.IsIdentifier(pkg) {
		return nil, nil, fmt.Errorf("openapi: the last element of Options.GoTypesImport %q is not a Go package name", opt.GoTypesImport)
	}
	if opt.MetaGoType != "" {
		i := strings.LastIndex(opt.MetaGoType, ".")
		if i < 0 || !token.IsIdentifier(opt.MetaGoType[i+1:]) || !token.IsIdentifier(path.Base(opt.MetaGoType[:i])) {
			return nil, nil, fmt.Errorf("openapi: Options.MetaGoType %q is not of the form import/path.Type", opt.MetaGoType)
		}
	}
	if opt.SearchRequestGoType != "" {
		i := strings.LastIndex(opt.SearchRequestGoType, ".")
		if i < 0 || !token.IsIdentifier(opt.SearchRequestGoType[i+1:]) || !token.IsIdentifier(path.Base(opt.SearchRequestGoType[:i])) {
			return nil, nil, fmt.Errorf("openapi: Options.SearchRequestGoType %q is not of the form import/path.Type", opt.SearchRequestGoType)
		}
	}
	for k, v := range opt.GoNames {
		if !token.IsIdentifier(v) || !token.IsExported(v) {
			return nil, nil, fmt.Errorf("openapi: Options.GoNames[%q] = %q is not an exported Go identifier", k, v)
		}
	}
	if opt.Title == "" {
		opt.Title = DefaultTitle
	}
	if opt.Description == "" {
		opt.Description = DefaultDescription
	}
	if len(opt.Servers) == 0 {
		opt.Servers = openapi3.Servers{DefaultServer()}
	}
	if published, err = build(set, opt, false); err != nil {
		return nil, nil, err
	}
	if codegen, err = build(set, opt, true); err != nil {
		return nil, nil, err
	}
	return published, codegen, nil
}

// builder assembles one view. The two views are built by two independent
// runs of the same code, so they share no pointers and differ exactly where
// the codegen flag is tested.
type builder struct {
	set     *schema.Set
	opt     Options
	codegen bool
	doc     *openapi3.T

	// schemes are the security scheme names, in the order of the
	// top-level security requirement.
	schemes []string

	// origins maps each component schema name to what produced it, so that
	// two different things that want one name are reported, not merged.
	origins map[string]string
}

func build(set *schema.Set, opt Options, codegen bool) (*openapi3.T, error) {
	b := &builder{
		set:     set,
		opt:     opt,
		codegen: codegen,
		origins: map[string]string{},
		doc: &openapi3.T{
			OpenAPI: OpenAPIVersion,
			Info: &openapi3.Info{
				Title:          opt.Title,
				Version:        opt.Version,
				Description:    infoDescription(set, opt.Description),
				TermsOfService: opt.TermsOfService,
				Contact:        cloneContact(opt.Contact),
				License:        cloneLicense(opt.License),
			},
			Servers: cloneServers(opt.Servers),
			Paths:   openapi3.NewPaths(),
			Components: &openapi3.Components{
				Schemas:    openapi3.Schemas{},
				Parameters: openapi3.ParametersMap{},
				Responses:  openapi3.ResponseBodies{},
				Examples:   openapi3.Examples{},
			},
		},
	}
	if b.doc.Info.License == nil {
		b.doc.Info.License = defaultLicense(set)
	}
	if err := b.security(); err != nil {
		return nil, err
	}
	if err := b.protocol(); err != nil {
		return nil, err
	}
	for _, rt := range set.ResourceTypes {
		if err := b.resourceType(rt); err != nil {
			return nil, err
		}
	}
	b.discovery()
	if err := b.rootSearch(); err != nil {
		return nil, err
	}
	b.doc.Tags = append(b.doc.Tags, &openapi3.Tag{
		Name:        tagDiscovery,
		Description: "Service provider configuration, schemas and resource types (RFC 7644 §4). The documents are served exactly as defined in schemas/.",
	})
	if err := b.bulk(); err != nil {
		return nil, err
	}

	if err := openapi3.NewLoader().ResolveRefsIn(b.doc, nil); err != nil {
		return nil, fmt.Errorf("openapi: resolving references: %w", err)
	}
	if err := b.doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("openapi: the built document is invalid: %w", err)
	}
	return b.doc, nil
}

const tagDiscovery = "Discovery"

func infoDescription(set *schema.Set, intro string) string {
	var b strings.Builder
	b.WriteString(strings.TrimSpace(intro))
	b.WriteString("\n\nSend requests with Content-Type application/scim+json (application/json is accepted too) and ")
	b.WriteString("expect application/scim+json back. Attribute names are case-insensitive (RFC 7643 §2.1). ")
	b.WriteString("Errors use the SCIM Error message (RFC 7644 §3.12).")
	if len(set.ResourceTypes) > 0 {
		b.WriteString("\n\nResource types:")
		for _, rt := range set.ResourceTypes {
			fmt.Fprintf(&b, "\n- %s at %s (schema %s", rt.Name, rt.Endpoint, rt.Schema)
			for _, ext := range rt.SchemaExtensions {
				fmt.Fprintf(&b, ", extension %s", ext.Schema)
			}
			b.WriteString(")")
		}
	}
	b.WriteString("\n\nThis document is generated from the schema documents in schemas/; edit those, not this file.")
	return b.String()
}

// ref returns a reference to the component schema name.
func ref(name string) *openapi3.SchemaRef {
	return &openapi3.SchemaRef{Ref: "#/components/schemas/" + name}
}

// addSchema registers a component schema, reporting a clash when a different
// origin already holds the name. Adding the same origin twice is a no-op and
// reports false.
func (b *builder) addSchema(name, origin string, s *openapi3.Schema) (added bool, err error) {
	if prev, ok := b.origins[name]; ok {
		if prev == origin {
			return false, nil
		}
		return false, fmt.Errorf("openapi: component schema name %q is wanted by both %s and %s; rename one of them", name, prev, origin)
	}
	b.origins[name] = origin
	b.doc.Components.Schemas[name] = &openapi3.SchemaRef{Value: s}
	return true, nil
}

// goType marks a component schema, in the codegen view only, as the Go type
// of the same name in the generated resource package.
func (b *builder) goType(s *openapi3.Schema, name string) {
	b.goTypeIn(s, b.opt.GoTypesImport, name)
}

// goTypeIn marks a component schema, in the codegen view only, as the Go
// type name in the package importPath. oapi-codegen then emits
// "type Name = pkg.Name" instead of a struct.
func (b *builder) goTypeIn(s *openapi3.Schema, importPath, name string) {
	if !b.codegen {
		return
	}
	pkg := path.Base(importPath)
	if s.Extensions == nil {
		s.Extensions = map[string]any{}
	}
	s.Extensions["x-go-type"] = pkg + "." + name
	s.Extensions["x-go-type-import"] = map[string]any{"path": importPath, "name": pkg}
}

// resourceName is the Go and component schema name of a resource type.
func (b *builder) resourceName(rt *schema.ResourceType) string {
	if n := b.opt.GoNames[rt.Name]; n != "" {
		return n
	}
	return naming.Go(rt.Name)
}

// extensionName is the Go and component schema name of an extension schema.
func (b *builder) extensionName(ext *schema.Schema) (string, error) {
	if n := b.opt.GoNames[ext.ID]; n != "" {
		return n, nil
	}
	if ext.Name == "" {
		return "", fmt.Errorf("openapi: extension schema %s (%s) has no name; its component schema and Go type are named after it (or set Options.GoNames[%q])", ext.ID, ext.File, ext.ID)
	}
	return naming.Go(ext.Name), nil
}

// requestContent is the content of a request body: both media types in the
// published view, application/scim+json alone in the codegen view (R3).
func (b *builder) requestContent(s *openapi3.SchemaRef) openapi3.Content {
	if b.codegen {
		return openapi3.NewContentWithSchemaRef(s, []string{mediaSCIM})
	}
	return openapi3.NewContentWithSchemaRef(s, []string{mediaSCIM, mediaJSON})
}

// responseContent is the content of a response: both media types in the
// published view (clients may Accept either), application/scim+json alone in
// the codegen view, so the strict server has one response type per status
// and always sends Content-Type application/scim+json.
func (b *builder) responseContent(s *openapi3.SchemaRef) openapi3.Content {
	return b.requestContent(s)
}
