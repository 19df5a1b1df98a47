package openapi

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/scimforge/scimforge/scim/schema"
	"github.com/scimforge/scimforge/scim/scimerr"
)

// Examples are built from the schemas, so an attribute a user adds shows
// up in them: every attribute a request may carry (or a response returns
// by default) gets a value of its type, in the shape its characteristics
// give it. The values are fixed, so the document is the same on every run,
// and the builder's validation (kin-openapi validates examples against
// their schemas, as requests or responses) checks them on every run.
//
// Values come, in order, from: the RFC 7643 §8 examples for the attributes
// of the standard User, Group and enterprise schemas (knownValues); the
// resource a reference attribute points at (a member's value is the id of
// the example User); the attribute's canonicalValues; its type.

// exampleTime is every dateTime in the examples.
const exampleTime = "2024-05-01T09:00:00Z"

// exampleBase is the base URL of meta.location and $ref in the examples when
// no server of the document is an absolute URL without variables.
const exampleBase = "https://scim.example.com/scim/v2"

// knownValues are the RFC 7643 §8.2–8.4 example values (Barbara Jensen and
// the Tour Guides group), by lower-case schema URN and attribute path.
var knownValues = map[string]any{
	"urn:ietf:params:scim:schemas:core:2.0:user:username":                            "bjensen@example.com",
	"urn:ietf:params:scim:schemas:core:2.0:user:name.formatted":                      "Ms. Barbara J Jensen, III",
	"urn:ietf:params:scim:schemas:core:2.0:user:name.familyname":                     "Jensen",
	"urn:ietf:params:scim:schemas:core:2.0:user:name.givenname":                      "Barbara",
	"urn:ietf:params:scim:schemas:core:2.0:user:name.middlename":                     "Jane",
	"urn:ietf:params:scim:schemas:core:2.0:user:name.honorificprefix":                "Ms.",
	"urn:ietf:params:scim:schemas:core:2.0:user:name.honorificsuffix":                "III",
	"urn:ietf:params:scim:schemas:core:2.0:user:displayname":                         "Babs Jensen",
	"urn:ietf:params:scim:schemas:core:2.0:user:nickname":                            "Babs",
	"urn:ietf:params:scim:schemas:core:2.0:user:profileurl":                          "https://login.example.com/bjensen",
	"urn:ietf:params:scim:schemas:core:2.0:user:title":                               "Tour Guide",
	"urn:ietf:params:scim:schemas:core:2.0:user:usertype":                            "Employee",
	"urn:ietf:params:scim:schemas:core:2.0:user:preferredlanguage":                   "en-US",
	"urn:ietf:params:scim:schemas:core:2.0:user:locale":                              "en-US",
	"urn:ietf:params:scim:schemas:core:2.0:user:timezone":                            "America/Los_Angeles",
	"urn:ietf:params:scim:schemas:core:2.0:user:password":                            "t1meMa$heen",
	"urn:ietf:params:scim:schemas:core:2.0:user:emails.value":                        "bjensen@example.com",
	"urn:ietf:params:scim:schemas:core:2.0:user:phonenumbers.value":                  "+1 555 555 5555",
	"urn:ietf:params:scim:schemas:core:2.0:user:ims.value":                           "someaimhandle",
	"urn:ietf:params:scim:schemas:core:2.0:user:photos.value":                        "https://photos.example.com/profilephoto/72930000000Ccne/F",
	"urn:ietf:params:scim:schemas:core:2.0:user:addresses.formatted":                 "100 Universal City Plaza, Hollywood, CA 91608 USA",
	"urn:ietf:params:scim:schemas:core:2.0:user:addresses.streetaddress":             "100 Universal City Plaza",
	"urn:ietf:params:scim:schemas:core:2.0:user:addresses.locality":                  "Hollywood",
	"urn:ietf:params:scim:schemas:core:2.0:user:addresses.region":                    "CA",
	"urn:ietf:params:scim:schemas:core:2.0:user:addresses.postalcode":                "91608",
	"urn:ietf:params:scim:schemas:core:2.0:user:addresses.country":                   "US",
	"urn:ietf:params:scim:schemas:core:2.0:user:entitlements.value":                  "Employee Access",
	"urn:ietf:params:scim:schemas:core:2.0:user:roles.value":                         "Tour Guide",
	"urn:ietf:params:scim:schemas:core:2.0:group:displayname":                        "Tour Guides",
	"urn:ietf:params:scim:schemas:extension:enterprise:2.0:user:employeenumber":      "701984",
	"urn:ietf:params:scim:schemas:extension:enterprise:2.0:user:costcenter":          "4130",
	"urn:ietf:params:scim:schemas:extension:enterprise:2.0:user:organization":        "Universal Studios",
	"urn:ietf:params:scim:schemas:extension:enterprise:2.0:user:division":            "Theme Park",
	"urn:ietf:params:scim:schemas:extension:enterprise:2.0:user:department":          "Tour Operations",
	"urn:ietf:params:scim:schemas:extension:enterprise:2.0:user:manager.displayname": "John Smith",
}

// knownIDs are the ids of the RFC 7643 §8 example resources.
var knownIDs = map[string]string{
	"user":  "2819c223-7f76-453a-919d-413861904646",
	"group": "e9e30dba-f08f-4109-8486-d5c6a331660a",
}

// exampleID is the id of the example resource of rt; other gives a second
// one (a User's manager is another User).
func exampleID(rt *schema.ResourceType, other bool) string {
	if id, ok := knownIDs[strings.ToLower(rt.Name)]; ok && !other {
		return id
	}
	seed := rt.Name
	if other {
		seed += "#other"
	}
	h := sha1.Sum([]byte(seed))
	h[6] = h[6]&0x0f | 0x50 // a name-based (version 5) UUID
	h[8] = h[8]&0x3f | 0x80
	x := hex.EncodeToString(h[:16])
	return x[:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:32]
}

// exampleMode says what an example is of: a request body (no readOnly
// attributes) or a response (nothing writeOnly, returned never or only on
// request).
type exampleMode int

const (
	asRequest exampleMode = iota
	asResponse
)

func (m exampleMode) includes(a *schema.Attribute) bool {
	if m == asRequest {
		return a.Mutability != schema.ReadOnly
	}
	return a.Mutability != schema.WriteOnly && a.Returned != schema.ReturnedNever && a.Returned != schema.ReturnedRequest
}

// exampleBaseURL is the base of example locations: the document's first
// absolute server URL without variables, or exampleBase.
func (b *builder) exampleBaseURL() string {
	for _, s := range b.doc.Servers {
		if u, err := url.Parse(s.URL); err == nil && u.IsAbs() && !strings.Contains(s.URL, "{") {
			return s.URL
		}
	}
	return exampleBase
}

func (b *builder) location(rt *schema.ResourceType, id string) string {
	return b.exampleBaseURL() + rt.Endpoint + "/" + id
}

// displayOf is how the example resource of rt is named in a reference to
// it: its displayName, else its userName, else its type and id.
func displayOf(rt *schema.ResourceType) string {
	for _, n := range []string{"displayName", "userName"} {
		if a := rt.Core.Attr(n); a != nil && a.Type == schema.String {
			if v, ok := knownValues[strings.ToLower(a.FullPath())].(string); ok {
				return v
			}
			return "example " + a.Name
		}
	}
	return rt.Name + " " + exampleID(rt, false)
}

// resourceExample is the example resource of rt as a request sends it or a
// response returns it.
func (b *builder) resourceExample(rt *schema.ResourceType, mode exampleMode) map[string]any {
	id := exampleID(rt, false)
	doc := map[string]any{}
	schemas := []any{rt.Core.ID}
	if mode == asResponse {
		doc["id"] = id
		doc["meta"] = map[string]any{
			"resourceType": rt.Name,
			"created":      exampleTime,
			"lastModified": exampleTime,
			"location":     b.location(rt, id),
			"version":      `W/"1"`,
		}
	}
	doc["externalId"] = "ext-" + id[:8]
	for _, a := range rt.Core.Attributes {
		if v, ok := b.attrExample(rt, a, mode); ok {
			doc[a.Name] = v
		}
	}
	for i, ext := range rt.Extensions {
		obj := map[string]any{}
		for _, a := range ext.Attributes {
			if v, ok := b.attrExample(rt, a, mode); ok {
				obj[a.Name] = v
			}
		}
		if len(obj) == 0 && !rt.SchemaExtensions[i].Required {
			continue
		}
		doc[ext.ID] = obj
		schemas = append(schemas, ext.ID)
	}
	doc["schemas"] = schemas
	return doc
}

// attrExample is the example value of attribute a of the example resource
// of rt, and false when the mode leaves it out.
func (b *builder) attrExample(rt *schema.ResourceType, a *schema.Attribute, mode exampleMode) (any, bool) {
	if !mode.includes(a) {
		return nil, false
	}
	if a.Type != schema.Complex {
		v := b.leafExample(rt, a, nil)
		if a.MultiValued {
			return []any{v}, true
		}
		return v, true
	}
	target := b.referenced(rt, a)
	obj := map[string]any{}
	for _, s := range a.SubAttributes {
		if mode.includes(s) {
			obj[s.Name] = b.leafExample(rt, s, target)
		}
	}
	if len(obj) == 0 && !(mode == asRequest && a.Required) {
		return nil, false // (a required one stays, empty, as requests must carry it)
	}
	if a.MultiValued {
		return []any{obj}, true
	}
	return obj, true
}

// reference is the resource a complex attribute's value refers to.
type reference struct {
	rt *schema.ResourceType
	id string
}

// referenced is the example resource that a complex attribute with a
// $ref sub-attribute points at (a group's members, a user's groups, the
// enterprise manager): the first of its referenceTypes other than rt
// itself, or another resource of rt (a manager is another User). Nil when
// it refers to no resource type of the set.
func (b *builder) referenced(rt *schema.ResourceType, a *schema.Attribute) *reference {
	r := a.Sub("$ref")
	if r == nil {
		return nil
	}
	var self bool
	for _, name := range r.ReferenceTypes {
		if strings.EqualFold(name, rt.Name) {
			self = true
			continue
		}
		if t := b.set.ResourceType(name); t != nil {
			return &reference{rt: t, id: exampleID(t, false)}
		}
	}
	if self {
		return &reference{rt: rt, id: exampleID(rt, true)}
	}
	return nil
}

// leafExample is the example value of a simple attribute or sub-attribute;
// ref is the resource its parent refers to, if any.
func (b *builder) leafExample(rt *schema.ResourceType, a *schema.Attribute, ref *reference) any {
	if v, ok := knownValues[strings.ToLower(a.FullPath())]; ok {
		return v
	}
	if ref != nil && a.Parent != nil {
		switch {
		case strings.EqualFold(a.Name, "value"):
			return ref.id
		case a.Name == "$ref":
			return b.location(ref.rt, ref.id)
		case strings.EqualFold(a.Name, "display") || strings.EqualFold(a.Name, "displayName"):
			if ref.rt != rt {
				return displayOf(ref.rt)
			}
		}
	}
	if a.Parent != nil && strings.EqualFold(a.Name, "display") && a.Type == schema.String {
		// A value's display name: the value itself reads best.
		if v := a.Parent.Sub("value"); v != nil && v.Type == schema.String {
			return b.leafExample(rt, v, ref)
		}
	}
	if len(a.CanonicalValues) > 0 && a.Type == schema.String {
		if ref != nil && strings.EqualFold(a.Name, "type") {
			// A member's type names the resource type it is.
			for _, c := range a.CanonicalValues {
				if strings.EqualFold(c, ref.rt.Name) {
					return c
				}
			}
		}
		return a.CanonicalValues[0]
	}
	switch a.Type {
	case schema.Boolean:
		return true
	case schema.Integer:
		return 1
	case schema.Decimal:
		return 1.5
	case schema.DateTime:
		return exampleTime
	case schema.Binary:
		return "ZXhhbXBsZQ==" // "example"
	case schema.Reference:
		for _, t := range a.ReferenceTypes {
			if rt2 := b.set.ResourceType(t); rt2 != nil {
				return b.location(rt2, exampleID(rt2, rt2 == rt))
			}
		}
		return "https://www.example.com/" + url.PathEscape(a.Name)
	}
	return "example " + a.Name
}

// Names of the example components.
func exampleName(name, what string) string { return name + what }

const (
	exResource = ""        // the resource as returned
	exRequest  = "Request" // as a create or replace request sends it
	exList     = "List"    // a ListResponse of one
	exEntra    = "PatchEntraID"
	exAdd      = "PatchAddMembers"
	exRemove   = "PatchRemoveMember"
)

// addExample registers a component example.
func (b *builder) addExample(name, summary, desc string, value any) string {
	b.doc.Components.Examples[name] = &openapi3.ExampleRef{Value: &openapi3.Example{Summary: summary, Description: desc, Value: value}}
	return name
}

func exampleRef(name string) *openapi3.ExampleRef {
	return &openapi3.ExampleRef{Ref: "#/components/examples/" + name}
}

// withExamples sets the named example references on every media type of c.
func withExamples(c openapi3.Content, names ...string) {
	for _, mt := range c {
		mt.Examples = openapi3.Examples{}
		for _, n := range names {
			mt.Examples[n] = exampleRef(n)
		}
	}
}

// resourceExamples adds the examples of one resource type and attaches them
// to its operations.
func (b *builder) resourceExamples(rt *schema.ResourceType, name string) {
	res := b.addExample(exampleName(name, exResource), fmt.Sprintf("A %s as the service provider returns it", rt.Name),
		"Every attribute returned by default, with example values generated from the schemas.", b.resourceExample(rt, asResponse))
	req := b.addExample(exampleName(name, exRequest), fmt.Sprintf("A %s as a client sends it", rt.Name),
		"Every attribute a client may set (readOnly ones left out), with example values generated from the schemas.", b.resourceExample(rt, asRequest))
	list := b.addExample(exampleName(name, exList), fmt.Sprintf("A page of one %s", rt.Name), "", map[string]any{
		"schemas":      []any{schema.ListResponseURN},
		"totalResults": 1,
		"startIndex":   1,
		"itemsPerPage": 1,
		"Resources":    []any{b.resourceExample(rt, asResponse)},
	})
	patches := []string{b.addExample(exampleName(name, exEntra), fmt.Sprintf("Microsoft Entra ID updates a %s", rt.Name),
		"The form Entra ID sends by default: capitalised op names, one operation per attribute with a path, booleans as strings (\"False\"). The attributes are those of Entra ID's default mapping that this resource type has.",
		patchOp(b.entraOps(rt)))}
	if m := rt.Core.Attr("members"); m != nil && m.Type == schema.Complex && m.MultiValued && m.Sub("value") != nil {
		if target := b.referenced(rt, m); target != nil {
			patches = append(patches,
				b.addExample(exampleName(name, exAdd), "Add members", "As Entra ID adds members: a value list, one object per member id (RFC 7644 §3.5.2.1).",
					patchOp([]any{map[string]any{"op": "Add", "path": "members", "value": []any{map[string]any{"value": target.id}}}})),
				b.addExample(exampleName(name, exRemove), "Remove a member", "A value filter selecting the member to remove (RFC 7644 §3.5.2.2).",
					patchOp([]any{map[string]any{"op": "remove", "path": fmt.Sprintf("members[value eq %q]", target.id)}})))
		}
	}

	item := b.doc.Paths.Value(rt.Endpoint + "/{id}")
	coll := b.doc.Paths.Value(rt.Endpoint)
	withExamples(coll.Post.RequestBody.Value.Content, req)
	withExamples(coll.Post.Responses.Status(201).Value.Content, res)
	withExamples(coll.Get.Responses.Status(200).Value.Content, list)
	withExamples(item.Get.Responses.Status(200).Value.Content, res)
	withExamples(item.Put.RequestBody.Value.Content, req)
	withExamples(item.Put.Responses.Status(200).Value.Content, res)
	withExamples(item.Patch.RequestBody.Value.Content, patches...)
	withExamples(item.Patch.Responses.Status(200).Value.Content, res)
	if s := b.doc.Paths.Value(rt.Endpoint + "/.search"); s != nil {
		withExamples(s.Post.Responses.Status(200).Value.Content, list)
	}
}

func patchOp(ops []any) map[string]any {
	return map[string]any{"schemas": []any{schema.PatchOpURN}, "Operations": ops}
}

// entraPaths are the attributes of Entra ID's default user and group
// mappings that it updates with PATCH, in its order (clients.md A.4–A.5),
// as paths: each becomes an operation when the resource type has it.
var entraPaths = []string{
	"active",
	"displayName",
	`emails[type eq "work"].value`,
	"name.givenName",
	"name.familyName",
	"externalId",
	"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
}

// entraOps are the operations of the Entra ID example for rt.
func (b *builder) entraOps(rt *schema.ResourceType) []any {
	var ops []any
	for _, p := range entraPaths {
		a := entraTarget(rt, p)
		if a == nil || a.Mutability == schema.ReadOnly || a.Mutability == schema.Immutable {
			continue
		}
		var v any
		switch {
		case a.Type == schema.Boolean:
			v = "False" // Entra's default form: a string
		case p == "externalId":
			v = "ext-" + exampleID(rt, false)[:8]
		default:
			v = b.leafExample(rt, a, nil)
		}
		ops = append(ops, map[string]any{"op": "Replace", "path": p, "value": v})
	}
	return ops
}

// entraTarget resolves one of entraPaths against rt: the simple attribute
// it sets, or nil when rt lacks it or it does not fit (emails needs a
// "work" type).
func entraTarget(rt *schema.ResourceType, p string) *schema.Attribute {
	switch {
	case strings.HasPrefix(p, "emails["):
		e := rt.Core.Attr("emails")
		if e == nil || e.Type != schema.Complex || !e.MultiValued || e.Mutability == schema.ReadOnly {
			return nil
		}
		t := e.Sub("type")
		if t == nil || (len(t.CanonicalValues) > 0 && !slices.Contains(t.CanonicalValues, "work")) {
			return nil
		}
		return e.Sub("value")
	case strings.HasPrefix(p, "urn:"):
		i := strings.LastIndex(p, ":")
		if a := rt.Lookup(p[:i], p[i+1:], ""); a != nil && a.Type != schema.Complex && !a.MultiValued {
			return a
		}
		return nil
	}
	top, sub, _ := strings.Cut(p, ".")
	a := rt.Lookup("", top, sub)
	if a == nil || a.Type == schema.Complex || a.MultiValued || (a.Parent != nil && a.Parent.MultiValued) {
		return nil
	}
	if a.Parent != nil && a.Parent.Mutability == schema.ReadOnly {
		return nil
	}
	return a
}

// errorExamples are one example per shared error response.
var errorExamples = map[string]struct {
	status, detail string
	typ            scimerr.Type
}{
	respBadRequest:    {"400", `filter: unknown attribute "usrName"`, scimerr.InvalidFilter},
	respUnauthorized:  {"401", "invalid bearer token", ""},
	respNotFound:      {"404", "Resource 2819c223-7f76-453a-919d-413861904646 not found", ""},
	respConflict:      {"409", `userName "bjensen@example.com" is already taken`, scimerr.Uniqueness},
	respTooLarge:      {"413", "the request body is larger than 1048576 bytes", ""},
	respMediaType:     {"415", `Content-Type "text/plain" is not supported; send Content-Type: application/scim+json`, ""},
	respInternalError: {"500", "internal error", ""},
	respUnavailable:   {"503", "the service provider is busy; retry later", ""},
	respPrecondition:  {"412", `If-Match W/"1" does not name the current version W/"2"`, ""},
}

// errorExample attaches the example of one shared error response.
func (b *builder) errorExample(name string, resp *openapi3.Response) {
	e := errorExamples[name]
	v := map[string]any{"schemas": []any{schema.ErrorURN}, "status": e.status, "detail": e.detail}
	if e.typ != "" {
		v["scimType"] = string(e.typ)
	}
	withExamples(resp.Content, b.addExample("Error"+name, "A SCIM error ("+e.status+")", "", v))
}
