// Package projection applies the "attributes" and "excludedAttributes" query
// parameters (RFC 7644 §3.4.2.5, §3.9) and the "returned" characteristic
// (RFC 7643 §2.2, §7) to a resource representation in JSON.
//
// New resolves the parameters against a [schema.ResourceType] once per
// request and precomputes a keep/drop decision for every attribute and
// sub-attribute of the resource type; Apply then only looks keys up in maps
// built once per resource type (cached), so projecting a page of 1000
// resources does not re-resolve any name.
//
// # Rules
//
// returned (RFC 7643 §2.2):
//
//   - "always" (e.g. id) is returned whatever the parameters say; naming it in
//     excludedAttributes has no effect (RFC 7644 §3.9). "schemas" is treated
//     as "always" too.
//   - "never" (e.g. password) is removed from every representation, even when
//     the document handed to Apply contains it and even with
//     attributes=password (which is accepted, not an error).
//   - "request" is returned only when named explicitly in attributes, as the
//     attribute itself or one of its sub-attributes. A bare schema URN or a
//     parent complex attribute does not name it.
//   - "default" is returned unless attributes is given and does not name it
//     (by its path, by one of its sub-attributes, or by its schema URN), or
//     excludedAttributes names it.
//
// Paths use RFC 7644 §3.10 attribute notation, compared case-insensitively:
// "userName", "name.givenName", "emails", "emails.value", "meta.version",
// "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
// and a bare schema URN meaning every attribute of that schema. Unqualified
// names are resolved as [schema.ResourceType.Lookup] does: common attributes,
// then the core schema, then the extensions in order.
//
// Decisions where the RFCs are silent:
//
//   - Both parameters may be given (RFC 7644 §3.4.2.5 expects clients to use
//     one): attributes selects, then excludedAttributes removes from that
//     selection. Exclusion wins over selection; neither overrides
//     "always"/"never".
//   - Items are separated by commas; whitespace around an item and empty
//     items ("a,,b", trailing comma) are ignored. A parameter made only of
//     empty items counts as absent.
//   - "schemas" may be named in either parameter and is a no-op.
//   - A common attribute may also be qualified with the core schema URN
//     ("urn:ietf:params:scim:schemas:core:2.0:User:meta.lastModified").
//   - A bare core schema URN selects (or removes) the core schema's
//     attributes, not the common ones (id, externalId, meta).
//   - Paths deeper than attribute.subAttribute are rejected.
//   - Value filters (beyond RFC 7644 §3.10, for Microsoft's SCIM collection):
//     in attributes, "emails[type eq \"work\"]" selects emails like
//     "emails" does but keeps only the values the filter matches (evaluated
//     by scim/valuefilter on the value as stored), and
//     "emails[type eq \"work\"].value" selects like "emails.value" for the
//     matching values. Several filtered items keep the values any of them
//     matches; an item naming the attribute without a filter (or its schema
//     URN) keeps every value; the sub-attributes returned are the union over
//     the items. In excludedAttributes, "emails[f]" removes the matching
//     values and "emails[f].type" removes type from them. Only multi-valued
//     attributes take a filter; items are split at commas outside brackets
//     and quotes. A malformed or ill-typed filter is 400 invalidFilter.
//   - Unknown names are a 400 invalidValue error naming the parameter and
//     the path. Naming a sub-attribute of a non-complex attribute is too.
//   - Listing a complex attribute keeps its "default" and "always"
//     sub-attributes; listing a sub-attribute keeps the parent with only that
//     sub-attribute plus the parent's "always" sub-attributes. An "always"
//     complex attribute keeps its default sub-attributes even when attributes
//     names only some of them.
//   - Keys in the resource that the schema does not define are kept when
//     attributes is absent and dropped when it is given (they cannot be
//     named). The same holds for unknown keys inside a complex value or an
//     extension object: they stay when the whole value is selected.
//   - A complex value, a multi-valued element or an extension object that the
//     projection empties is removed (an element from its array, and an array
//     it empties from the resource). Values that were already empty, null or
//     not of the shape the schema describes are left as they are. When an
//     extension object is removed, its URN is removed from "schemas"; nothing
//     else in "schemas" changes.
//   - For "request" attributes this package only implements the query rule;
//     returning them after PUT/POST/PATCH when the client set them (RFC 7643
//     §2.2) is the caller's decision.
package projection
