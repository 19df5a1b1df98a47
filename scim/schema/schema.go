// Package schema is the in-memory model of RFC 7643 schema documents: Schema,
// ResourceType and ServiceProviderConfig resources. The generator loads
// schemas/ with it to emit code, and the server loads the same documents
// (embedded by the generator) with it at start, so there is exactly one
// parser and one set of validation rules for both.
package schema

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Type is an RFC 7643 §2.3 attribute data type.
type Type string

// The RFC 7643 §2.3 data types.
const (
	String    Type = "string"
	Boolean   Type = "boolean"
	Decimal   Type = "decimal"
	Integer   Type = "integer"
	DateTime  Type = "dateTime"
	Reference Type = "reference"
	Binary    Type = "binary"
	Complex   Type = "complex"
)

// Mutability is the RFC 7643 §2.2 "mutability" characteristic.
type Mutability string

// The RFC 7643 §2.2 mutability values.
const (
	ReadOnly  Mutability = "readOnly"
	ReadWrite Mutability = "readWrite"
	Immutable Mutability = "immutable"
	WriteOnly Mutability = "writeOnly"
)

// Returned is the RFC 7643 §2.2 "returned" characteristic.
type Returned string

// The RFC 7643 §2.2 returned values.
const (
	ReturnedAlways  Returned = "always"
	ReturnedNever   Returned = "never"
	ReturnedDefault Returned = "default"
	ReturnedRequest Returned = "request"
)

// Uniqueness is the RFC 7643 §2.2 "uniqueness" characteristic.
type Uniqueness string

// The RFC 7643 §2.2 uniqueness values.
const (
	UniqueNone   Uniqueness = "none"
	UniqueServer Uniqueness = "server"
	UniqueGlobal Uniqueness = "global"
)

// Well-known URNs (RFC 7643 §8.7, RFC 7644 §3).
const (
	SchemaURN                = "urn:ietf:params:scim:schemas:core:2.0:Schema"
	ResourceTypeURN          = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
	ServiceProviderConfigURN = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
	ListResponseURN          = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	SearchRequestURN         = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
	ErrorURN                 = "urn:ietf:params:scim:api:messages:2.0:Error"
	PatchOpURN               = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	BulkRequestURN           = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
	BulkResponseURN          = "urn:ietf:params:scim:api:messages:2.0:BulkResponse"
)

// Attribute is one attribute definition (RFC 7643 §7). Characteristics that a
// document leaves out hold their RFC 7643 §2.2 defaults after loading.
type Attribute struct {
	Name            string       `json:"name"`
	Type            Type         `json:"type"`
	MultiValued     bool         `json:"multiValued"`
	Description     string       `json:"description,omitempty"`
	Required        bool         `json:"required"`
	CanonicalValues []string     `json:"canonicalValues,omitempty"`
	CaseExact       bool         `json:"caseExact"`
	Mutability      Mutability   `json:"mutability"`
	Returned        Returned     `json:"returned"`
	Uniqueness      Uniqueness   `json:"uniqueness"`
	ReferenceTypes  []string     `json:"referenceTypes,omitempty"`
	SubAttributes   []*Attribute `json:"subAttributes,omitempty"`

	// Parent is the complex attribute this one is a sub-attribute of.
	Parent *Attribute `json:"-"`
	// Schema is the schema that defines the attribute (nil for common attributes).
	Schema *Schema `json:"-"`

	subs map[string]*Attribute
	// ptr is the RFC 6901 JSON Pointer of the definition in Schema.File.
	ptr string
}

// Location is where the attribute is defined: the schema file and the JSON
// Pointer of its definition there, e.g. "/attributes/3/subAttributes/0",
// for reporting problems with it. Both are empty for common attributes.
func (a *Attribute) Location() (file, pointer string) {
	if a.Schema == nil {
		return "", ""
	}
	return a.Schema.File, a.ptr
}

// Sub returns the sub-attribute named name, compared case-insensitively as
// RFC 7643 §2.1 requires, or nil.
func (a *Attribute) Sub(name string) *Attribute {
	if a == nil {
		return nil
	}
	return a.subs[strings.ToLower(name)]
}

// Path is the attribute's dotted path inside its schema, e.g. "name.givenName".
func (a *Attribute) Path() string {
	if a.Parent != nil {
		return a.Parent.Name + "." + a.Name
	}
	return a.Name
}

// FullPath is the attribute's fully qualified path, e.g.
// "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value".
// Common attributes (id, externalId, meta) have no URN.
func (a *Attribute) FullPath() string {
	top := a
	if a.Parent != nil {
		top = a.Parent
	}
	if top.Schema == nil {
		return a.Path()
	}
	return top.Schema.ID + ":" + a.Path()
}

func (a *Attribute) index() {
	a.subs = make(map[string]*Attribute, len(a.SubAttributes))
	for _, s := range a.SubAttributes {
		s.Parent = a
		s.Schema = a.Schema
		a.subs[strings.ToLower(s.Name)] = s
	}
}

// Schema is an RFC 7643 §7 Schema resource.
type Schema struct {
	ID          string       `json:"id"`
	Name        string       `json:"name"`
	Description string       `json:"description,omitempty"`
	Attributes  []*Attribute `json:"attributes"`

	// File is the path of the document the schema was loaded from.
	File string `json:"-"`
	// Raw is the document exactly as read, served verbatim by /Schemas.
	Raw []byte `json:"-"`

	attrs map[string]*Attribute
}

// Attr returns the top-level attribute named name (case-insensitive), or nil.
func (s *Schema) Attr(name string) *Attribute {
	if s == nil {
		return nil
	}
	return s.attrs[strings.ToLower(name)]
}

func (s *Schema) index() {
	s.attrs = make(map[string]*Attribute, len(s.Attributes))
	for _, a := range s.Attributes {
		a.Schema = s
		a.index()
		s.attrs[strings.ToLower(a.Name)] = a
	}
}

// SchemaExtension names an extension schema of a resource type (RFC 7643 §6).
type SchemaExtension struct {
	Schema   string `json:"schema"`
	Required bool   `json:"required"`
}

// ResourceType is an RFC 7643 §6 ResourceType resource, with its schemas resolved.
type ResourceType struct {
	ID               string            `json:"id,omitempty"`
	Name             string            `json:"name"`
	Description      string            `json:"description,omitempty"`
	Endpoint         string            `json:"endpoint"`
	Schema           string            `json:"schema"`
	SchemaExtensions []SchemaExtension `json:"schemaExtensions,omitempty"`

	File string `json:"-"`
	Raw  []byte `json:"-"`

	// Core is the resolved base schema; Extensions parallels SchemaExtensions.
	Core       *Schema   `json:"-"`
	Extensions []*Schema `json:"-"`

	// extIndex is the index in the document's "schemaExtensions" of each
	// entry of SchemaExtensions (which leaves out entries in error).
	extIndex []int
}

// Extension returns the extension schema whose URN is urn (case-insensitive), or nil.
func (rt *ResourceType) Extension(urn string) *Schema {
	for _, e := range rt.Extensions {
		if strings.EqualFold(e.ID, urn) {
			return e
		}
	}
	return nil
}

// SchemaByURN returns the core or an extension schema by URN (case-insensitive).
func (rt *ResourceType) SchemaByURN(urn string) *Schema {
	if strings.EqualFold(rt.Core.ID, urn) {
		return rt.Core
	}
	return rt.Extension(urn)
}

// Lookup resolves an attribute reference as it appears in filters, PATCH
// paths and the attributes parameter: an optional schema URN, an attribute
// name and an optional sub-attribute name, all case-insensitive. Unqualified
// names are looked up among the common attributes, then the core schema, then
// the extensions in order (RFC 7644 §3.10). It returns the attribute (the
// sub-attribute when sub is given) or nil.
func (rt *ResourceType) Lookup(urn, name, sub string) *Attribute {
	var a *Attribute
	if urn != "" {
		s := rt.SchemaByURN(urn)
		if s == nil {
			// "urn:…:User" + ":" + "name" may be a bare extension URN split
			// at its last colon by a path parser; callers handle that case.
			return nil
		}
		a = s.Attr(name)
	} else {
		a = Common(name)
		if a == nil {
			a = rt.Core.Attr(name)
		}
		for i := 0; a == nil && i < len(rt.Extensions); i++ {
			a = rt.Extensions[i].Attr(name)
		}
	}
	if a == nil || sub == "" {
		return a
	}
	return a.Sub(sub)
}

// Set is every document loaded from a schema folder.
type Set struct {
	Schemas       []*Schema       // sorted by ID
	ResourceTypes []*ResourceType // RFC 7643 types first (User, Group), then by Name
	// ServiceProviderConfig is the raw RFC 7643 §5 document.
	ServiceProviderConfig []byte
	ServiceProviderFile   string

	byID map[string]*Schema
}

// Schema returns the schema with the given URN (case-insensitive), or nil.
func (s *Set) Schema(urn string) *Schema { return s.byID[strings.ToLower(urn)] }

// ResourceType returns the resource type with the given name (case-insensitive), or nil.
func (s *Set) ResourceType(name string) *ResourceType {
	for _, rt := range s.ResourceTypes {
		if strings.EqualFold(rt.Name, name) {
			return rt
		}
	}
	return nil
}

// Characteristics summarises what a client must know about an attribute
// beyond its type, for generated documentation (Go doc comments, OpenAPI
// descriptions), e.g. ["required", "uniqueness server", "case-insensitive"].
func (a *Attribute) Characteristics() []string {
	var c []string
	if a.Required {
		c = append(c, "required")
	}
	if a.Mutability != ReadWrite {
		c = append(c, string(a.Mutability))
	}
	if a.Returned != ReturnedDefault {
		c = append(c, "returned "+string(a.Returned))
	}
	if a.Uniqueness != UniqueNone {
		c = append(c, "uniqueness "+string(a.Uniqueness))
	}
	if a.Type == String {
		if a.CaseExact {
			c = append(c, "case-exact")
		} else {
			c = append(c, "case-insensitive")
		}
	}
	if a.Type == Reference && len(a.ReferenceTypes) > 0 {
		c = append(c, "referenceTypes "+strings.Join(a.ReferenceTypes, ", "))
	}
	if len(a.CanonicalValues) > 0 {
		c = append(c, "one of "+strings.Join(a.CanonicalValues, ", ")+" (any case)")
	}
	return c
}

// BulkConfig is the "bulk" member of a ServiceProviderConfig document
// (RFC 7643 §5): whether Bulk is supported and its advertised limits, which
// the server also enforces.
type BulkConfig struct {
	Supported      bool  `json:"supported"`
	MaxOperations  int   `json:"maxOperations"`
	MaxPayloadSize int64 `json:"maxPayloadSize"`
}

// Bulk reads the bulk configuration of the set's ServiceProviderConfig
// (zero when the set has none). Supported bulk needs positive limits.
func (s *Set) Bulk() (BulkConfig, error) {
	var doc struct {
		Bulk BulkConfig `json:"bulk"`
	}
	if len(s.ServiceProviderConfig) == 0 {
		return BulkConfig{}, nil
	}
	if err := json.Unmarshal(s.ServiceProviderConfig, &doc); err != nil {
		return BulkConfig{}, fmt.Errorf("%s: bulk: %w", s.ServiceProviderFile, err)
	}
	b := doc.Bulk
	if b.Supported && (b.MaxOperations < 1 || b.MaxPayloadSize < 1) {
		return BulkConfig{}, fmt.Errorf("%s: bulk is supported, so maxOperations (%d) and maxPayloadSize (%d) must be positive", s.ServiceProviderFile, b.MaxOperations, b.MaxPayloadSize)
	}
	return b, nil
}
