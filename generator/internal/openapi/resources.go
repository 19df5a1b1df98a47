package openapi

import (
	"fmt"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/scimforge/scimforge/generator/internal/naming"
	"github.com/scimforge/scimforge/scim/schema"
)

// resourceType adds the component schemas and the paths of one resource type.
func (b *builder) resourceType(rt *schema.ResourceType) error {
	if rt.Core == nil {
		return fmt.Errorf("openapi: resource type %s has no resolved core schema", rt.Name)
	}
	name := b.resourceName(rt)
	s := openapi3.NewObjectSchema()
	s.Description = resourceDescription(rt)
	s.Required = []string{"schemas", "id"}

	schemas := openapi3.NewArraySchema().WithItems(openapi3.NewStringSchema()).WithMinItems(1)
	schemas.Description = schemasDescription(rt)
	s.Properties["schemas"] = &openapi3.SchemaRef{Value: schemas}

	// Common attributes (RFC 7643 §3.1). Their complex values (meta) are
	// owned by no resource type, so their components carry no prefix.
	for _, a := range schema.CommonAttributes() {
		p, err := b.attribute("", a)
		if err != nil {
			return err
		}
		s.Properties[a.Name] = p
	}
	for _, a := range rt.Core.Attributes {
		if strings.EqualFold(a.Name, "schemas") {
			return fmt.Errorf("openapi: %s: the core schema of resource type %s defines %q, which every SCIM resource already has (RFC 7643 §3)", rt.Core.File, rt.Name, a.Name)
		}
		p, err := b.attribute(name, a)
		if err != nil {
			return err
		}
		s.Properties[a.Name] = p
		if guaranteed(a) {
			s.Required = append(s.Required, a.Name)
		}
	}
	for _, ext := range rt.Extensions {
		extName, err := b.extension(ext)
		if err != nil {
			return err
		}
		p := ref(extName)
		if b.codegen {
			// The URN would otherwise become the field name
			// UrnIetfParamsScimSchemasExtensionEnterprise20User (packages.md).
			p.Extensions = map[string]any{"x-go-name": extName}
		}
		s.Properties[ext.ID] = p
	}
	b.goType(s, name)
	if _, err := b.addSchema(name, "resource type "+rt.Name, s); err != nil {
		return err
	}

	list := listResponse(name, fmt.Sprintf("A page of %s resources", rt.Name))
	if _, err := b.addSchema(name+"ListResponse", "the list response of resource type "+rt.Name, list); err != nil {
		return err
	}
	required, err := b.requestOverlay(rt, name)
	if err != nil {
		return err
	}
	if err := b.resourcePaths(rt, name, required); err != nil {
		return err
	}
	b.resourceExamples(rt, name)
	b.doc.Tags = append(b.doc.Tags, &openapi3.Tag{
		Name:        rt.Name,
		Description: fmt.Sprintf("%s resources at %s (schema %s).", nonEmpty(clean(rt.Description), rt.Name), rt.Endpoint, rt.Schema),
	})
	return nil
}

func resourceDescription(rt *schema.ResourceType) string {
	var b strings.Builder
	desc := clean(rt.Description)
	if desc == "" {
		desc = clean(rt.Core.Description)
	}
	if desc != "" && !strings.EqualFold(desc, rt.Name) {
		b.WriteString(strings.TrimSuffix(desc, "."))
		b.WriteString(". ")
	}
	fmt.Fprintf(&b, "The %s resource type (RFC 7643 §6), served at %s. Its attributes are the common attributes id, externalId and meta (RFC 7643 §3.1), those of the core schema %s", rt.Name, rt.Endpoint, rt.Schema)
	if len(rt.Extensions) == 0 {
		b.WriteString(".")
		return b.String()
	}
	b.WriteString(", and one object per schema extension, keyed by the extension's URN:")
	for i, ext := range rt.Extensions {
		req := "optional"
		if rt.SchemaExtensions[i].Required {
			req = "required"
		}
		fmt.Fprintf(&b, " %s (%s)", ext.ID, req)
		if i < len(rt.Extensions)-1 {
			b.WriteString(",")
		}
	}
	b.WriteString(".")
	return b.String()
}

func schemasDescription(rt *schema.ResourceType) string {
	d := fmt.Sprintf("The URNs of the schemas that define the attributes present in the resource (RFC 7643 §3): always %s", rt.Schema)
	if len(rt.Extensions) > 0 {
		var urns []string
		for _, e := range rt.Extensions {
			urns = append(urns, e.ID)
		}
		d += ", plus the URN of each extension present (" + strings.Join(urns, ", ") + ")"
	}
	return d + " (required; returned always)"
}

// extension adds the component schema of an extension schema once and
// returns its name.
func (b *builder) extension(ext *schema.Schema) (string, error) {
	name, err := b.extensionName(ext)
	if err != nil {
		return "", err
	}
	origin := "extension schema " + ext.ID
	if prev, ok := b.origins[name]; ok && prev == origin {
		return name, nil
	}
	s := openapi3.NewObjectSchema()
	d := clean(ext.Description)
	if d != "" {
		d = strings.TrimSuffix(d, ".") + ". "
	}
	s.Description = d + fmt.Sprintf("Schema extension %s (RFC 7643 §3.3); the attributes it adds to a resource sit in an object under this URN.", ext.ID)
	for _, a := range ext.Attributes {
		p, err := b.attribute(name, a)
		if err != nil {
			return "", err
		}
		s.Properties[a.Name] = p
		if guaranteed(a) {
			s.Required = append(s.Required, a.Name)
		}
	}
	b.goType(s, name)
	_, err = b.addSchema(name, origin, s)
	return name, err
}

// complexName is the component (and Go type) name of the value of a complex
// attribute owned by owner: owner + singular for multi-valued attributes
// (UserEmail, GroupMember), owner + name otherwise (UserName,
// EnterpriseUserManager). It matches model.StructName.
func complexName(owner string, a *schema.Attribute) string {
	if a.MultiValued {
		return owner + naming.Singular(a.Name)
	}
	return owner + naming.Go(a.Name)
}

// attribute returns the property schema of a top-level attribute of a
// schema whose Go name is owner, adding a component schema for the value of
// a complex attribute.
func (b *builder) attribute(owner string, a *schema.Attribute) (*openapi3.SchemaRef, error) {
	if a.Type != schema.Complex {
		return &openapi3.SchemaRef{Value: b.simple(a)}, nil
	}
	name := complexName(owner, a)
	origin := "attribute " + a.FullPath()
	if owner != "" {
		origin = owner + " " + origin
	}
	c := openapi3.NewObjectSchema()
	if a.MultiValued {
		c.Description = fmt.Sprintf("One value of the multi-valued complex attribute %s. %s", a.FullPath(), clean(a.Description))
	} else {
		// A $ref cannot carry siblings in OpenAPI 3.0, so the attribute's
		// own description and mutability go on the component, which
		// belongs to this attribute alone.
		c.Description = describe(a)
		b.mutability(c, a)
	}
	c.Description = strings.TrimSpace(c.Description)
	for _, sub := range a.SubAttributes {
		c.Properties[sub.Name] = &openapi3.SchemaRef{Value: b.simple(sub)}
		if guaranteed(sub) {
			c.Required = append(c.Required, sub.Name)
		}
	}
	if a == schema.Common("meta") {
		if b.opt.MetaGoType != "" {
			i := strings.LastIndex(b.opt.MetaGoType, ".")
			b.goTypeIn(c, b.opt.MetaGoType[:i], b.opt.MetaGoType[i+1:])
		}
	} else {
		b.goType(c, name)
	}
	if _, err := b.addSchema(name, origin, c); err != nil {
		return nil, err
	}
	if !a.MultiValued {
		return ref(name), nil
	}
	arr := openapi3.NewArraySchema()
	arr.Items = ref(name)
	arr.Description = describe(a)
	b.mutability(arr, a)
	return &openapi3.SchemaRef{Value: arr}, nil
}

// simple returns the schema of a non-complex attribute: its value type,
// wrapped in an array when it is multi-valued, with the description and
// mutability on the outer schema.
func (b *builder) simple(a *schema.Attribute) *openapi3.Schema {
	var s *openapi3.Schema
	switch a.Type {
	case schema.Boolean:
		s = openapi3.NewBoolSchema()
	case schema.Integer:
		s = openapi3.NewInt64Schema()
	case schema.Decimal:
		s = openapi3.NewFloat64Schema().WithFormat("double")
	case schema.DateTime:
		s = openapi3.NewDateTimeSchema()
	case schema.Binary:
		s = openapi3.NewBytesSchema()
	case schema.Reference:
		s = openapi3.NewStringSchema()
		if isURIReference(a.ReferenceTypes) {
			s.Format = "uri"
		}
	default:
		s = openapi3.NewStringSchema()
	}
	if a.MultiValued {
		s = openapi3.NewArraySchema().WithItems(s)
	}
	s.Description = describe(a)
	b.mutability(s, a)
	return s
}

// isURIReference reports whether a reference attribute holds absolute URIs:
// only when every reference type is "uri" or "external". References to
// resource types ("User", "Group") are often relative and stay plain strings.
func isURIReference(types []string) bool {
	if len(types) == 0 {
		return false
	}
	for _, t := range types {
		if t != "uri" && t != "external" {
			return false
		}
	}
	return true
}

// mutability maps RFC 7643 mutability and returned onto readOnly/writeOnly.
// An attribute that is never returned is documented as writeOnly even when
// it is readWrite; OpenAPI 3.0 forbids both flags, so readOnly wins.
func (b *builder) mutability(s *openapi3.Schema, a *schema.Attribute) {
	switch {
	case a.Mutability == schema.ReadOnly:
		s.ReadOnly = true
	case a.Mutability == schema.WriteOnly, a.Returned == schema.ReturnedNever:
		s.WriteOnly = true
	}
}

// describe is the attribute's description followed by the characteristics
// a client needs and OpenAPI cannot say, e.g.
// "… (required; uniqueness server; case-insensitive)".
func describe(a *schema.Attribute) string {
	c := a.Characteristics()
	d := clean(a.Description)
	if len(c) > 0 {
		d += " (" + strings.Join(c, "; ") + ")"
	}
	return strings.TrimSpace(d)
}

// clean collapses runs of white space, such as the double spaces after
// full stops in the RFC 7643 descriptions.
func clean(s string) string { return strings.Join(strings.Fields(s), " ") }

func nonEmpty(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// listResponse is the RFC 7644 §3.4.2 ListResponse message with Resources of
// the component schema item.
func listResponse(item, what string) *openapi3.Schema {
	s := openapi3.NewObjectSchema()
	s.Description = what + ", as an RFC 7644 §3.4.2 ListResponse message (schema " + schema.ListResponseURN + ")."
	s.Required = []string{"schemas"}
	s.Properties["schemas"] = &openapi3.SchemaRef{Value: urnArray(schema.ListResponseURN)}
	s.Properties["totalResults"] = integer("The total number of results matching the query, which may exceed the number returned in this page. Always present, except on cursor pages after the first (RFC 9865 allows leaving it out; scimforge does so that no cursor page costs more than its own rows).")
	s.Properties["nextCursor"] = prop(openapi3.NewStringSchema(), "With cursor paging (RFC 9865): the cursor of the next page; absent on the last page.")
	s.Properties["previousCursor"] = prop(openapi3.NewStringSchema(), "With cursor paging (RFC 9865): the cursor of the previous page; absent on the first page.")
	s.Properties["startIndex"] = integer("The 1-based index of the first result in this page (required when the results are paginated).")
	s.Properties["itemsPerPage"] = integer("The number of results returned in this page (required when the results are paginated).")
	res := openapi3.NewArraySchema()
	res.Items = ref(item)
	res.Description = "The results of this page; required when totalResults is not zero. The member name is Resources with a capital R (RFC 7644 §3.4.2)."
	s.Properties["Resources"] = &openapi3.SchemaRef{Value: res}
	return s
}

func integer(desc string) *openapi3.SchemaRef {
	s := openapi3.NewIntegerSchema()
	s.Description = desc
	return &openapi3.SchemaRef{Value: s}
}

// urnArray is the "schemas" member of a SCIM message that carries exactly
// the given URN.
func urnArray(urn string) *openapi3.Schema {
	s := openapi3.NewArraySchema().WithItems(openapi3.NewStringSchema()).WithMinItems(1)
	s.Description = "Contains " + urn + " (required)."
	return s
}

// guaranteed reports whether a response always carries the attribute, so
// that its component schema may list it under required. A required attribute
// that is returned "default" is left out of responses that attributes or
// excludedAttributes trim (RFC 7644 §3.4.2.5: GET /Users?attributes=displayName
// has no userName), so it is required only in request bodies (requestOverlay).
func guaranteed(a *schema.Attribute) bool {
	return a.Required && a.Returned == schema.ReturnedAlways
}

// requestOverlay is what a create or replace body must contain beyond the
// resource's component schema: the required attributes (RFC 7643 §2.2) at
// every level, and the required schema extensions. The published view puts
// it next to the component in an allOf (the <Name>Request component); nil
// when nothing is required. readOnly attributes are never required of a
// client.
//
// A nested level names what it requires next to the component that
// declares it (allOf again: UserEmail plus required value), so that every
// required name sits beside its property, and a generated client's request
// type keeps every attribute of the nested value.
func (b *builder) requestOverlay(rt *schema.ResourceType, name string) (*openapi3.Schema, error) {
	s := b.overlay(name, rt.Core.Attributes)
	for i, ext := range rt.Extensions {
		required := rt.SchemaExtensions[i].Required
		extName, err := b.extensionName(ext)
		if err != nil {
			return nil, err
		}
		sub := b.overlay(extName, ext.Attributes)
		if !required && sub == nil {
			continue
		}
		if s == nil {
			s = openapi3.NewObjectSchema()
		}
		if required {
			s.Required = append(s.Required, ext.ID)
		}
		if sub != nil {
			s.Properties[ext.ID] = &openapi3.SchemaRef{Value: &openapi3.Schema{AllOf: openapi3.SchemaRefs{ref(extName), {Value: sub}}}}
		}
	}
	return s, nil
}

// overlay is the required part of attrs, the attributes of the schema
// whose component is owner, and of their sub-attributes, or nil.
func (b *builder) overlay(owner string, attrs []*schema.Attribute) *openapi3.Schema {
	var s *openapi3.Schema
	for _, a := range attrs {
		if a.Mutability == schema.ReadOnly {
			continue
		}
		var sub *openapi3.Schema
		if a.Type == schema.Complex {
			sub = b.overlay("", a.SubAttributes)
		}
		if !a.Required && sub == nil {
			continue
		}
		if s == nil {
			s = openapi3.NewObjectSchema()
		}
		if a.Required {
			s.Required = append(s.Required, a.Name)
		}
		if sub != nil {
			value := &openapi3.SchemaRef{Value: &openapi3.Schema{AllOf: openapi3.SchemaRefs{ref(complexName(owner, a)), {Value: sub}}}}
			if a.MultiValued {
				arr := openapi3.NewArraySchema()
				arr.Items = value
				value = &openapi3.SchemaRef{Value: arr}
			}
			s.Properties[a.Name] = value
		}
	}
	return s
}
