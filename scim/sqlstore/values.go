package sqlstore

import (
	"github.com/scimforge/scimforge/scim/scimtype"
	"github.com/scimforge/scimforge/scim/sqlfilter"
)

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

// Fold returns the search-column form of a caseExact=false string: folded
// with sqlfilter.Fold, nil for "".
func Fold(s string) *string {
	if s == "" {
		return nil
	}
	f := sqlfilter.Fold(s)
	return &f
}
