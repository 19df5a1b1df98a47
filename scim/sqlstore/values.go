package sqlstore

import "github.com/scimforge/scimforge/scim/scimtype"

// Column value conversions used by the generated store code. An absent value
// (empty string, nil pointer) is SQL NULL, so "pr" filters and indexes see
// exactly the attributes that have a value.

// Str returns nil for "" and &s otherwise.
func Str(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// Bool converts a SCIM boolean.
func Bool(b *scimtype.Boolean) *bool {
	if b == nil {
		return nil
	}
	v := bool(*b)
	return &v
}

// Time converts an xsd:dateTime (already validated) to the storage format.
func Time(s string) *string {
	if s == "" {
		return nil
	}
	if t, ok := CanonicalTime(s); ok {
		return &t
	}
	return &s
}
