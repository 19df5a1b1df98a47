package schema

import "strings"

// The common attributes of every resource (RFC 7643 §3.1). They belong to no
// schema document, so they are defined here, once, for the generator and the
// server alike.
var common = func() []*Attribute {
	attrs := []*Attribute{
		{
			Name: "id", Type: String, CaseExact: true, Mutability: ReadOnly,
			Returned: ReturnedAlways, Uniqueness: UniqueServer,
			Description: "Unique identifier for the SCIM resource as defined by the service provider. Assigned by the server; never reassigned.",
		},
		{
			Name: "externalId", Type: String, CaseExact: true, Mutability: ReadWrite,
			Returned: ReturnedDefault, Uniqueness: UniqueNone,
			Description: "Identifier for the resource as defined by the provisioning client.",
		},
		{
			Name: "meta", Type: Complex, Mutability: ReadOnly, Returned: ReturnedDefault, Uniqueness: UniqueNone,
			Description: "Resource metadata maintained by the service provider.",
			SubAttributes: []*Attribute{
				{Name: "resourceType", Type: String, CaseExact: true, Mutability: ReadOnly, Returned: ReturnedDefault, Uniqueness: UniqueNone,
					Description: "The name of the resource type of the resource."},
				{Name: "created", Type: DateTime, Mutability: ReadOnly, Returned: ReturnedDefault, Uniqueness: UniqueNone,
					Description: "The date and time the resource was added to the service provider."},
				{Name: "lastModified", Type: DateTime, Mutability: ReadOnly, Returned: ReturnedDefault, Uniqueness: UniqueNone,
					Description: "The most recent date and time the resource was modified by the service provider."},
				{Name: "location", Type: Reference, ReferenceTypes: []string{"uri"}, CaseExact: true, Mutability: ReadOnly, Returned: ReturnedDefault, Uniqueness: UniqueNone,
					Description: "The URI of the resource being returned."},
				{Name: "version", Type: String, CaseExact: true, Mutability: ReadOnly, Returned: ReturnedDefault, Uniqueness: UniqueNone,
					Description: "The version (entity tag) of the resource."},
			},
		},
	}
	for _, a := range attrs {
		a.index()
	}
	return attrs
}()

// CommonAttributes returns id, externalId and meta (RFC 7643 §3.1).
func CommonAttributes() []*Attribute { return common }

// Common returns the common attribute named name (case-insensitive), or nil.
func Common(name string) *Attribute {
	for _, a := range common {
		if strings.EqualFold(a.Name, name) {
			return a
		}
	}
	return nil
}
