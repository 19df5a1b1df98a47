// Package scimtype holds the small value types that generated resource
// structs share: a boolean that tolerates the string forms real clients send,
// and the common "meta" attribute.
package scimtype

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
)

// Boolean is a SCIM boolean. It decodes JSON true/false and also the strings
// "true"/"false" in any case, because Azure AD's default attribute mappings
// send "True"/"False" (shared/reference/clients.md quirk Q2). It always
// encodes as a JSON boolean.
type Boolean bool

// UnmarshalJSON accepts true, false, "true", "false" (any case) and null.
func (b *Boolean) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	s := string(data)
	if len(s) >= 2 && s[0] == '"' {
		if err := json.Unmarshal(data, &s); err != nil {
			return err
		}
	}
	switch strings.ToLower(s) {
	case "true":
		*b = true
	case "false":
		*b = false
	case "null":
	default:
		return &json.UnmarshalTypeError{Value: fmt.Sprintf("%q", s), Type: reflect.TypeFor[bool]()}
	}
	return nil
}

// Bool returns a pointer to a Boolean, for building resources in code.
func Bool(v bool) *Boolean { b := Boolean(v); return &b }

// Meta is the common "meta" attribute (RFC 7643 §3.1). The server maintains
// it; values a client sends are ignored.
type Meta struct {
	ResourceType string `json:"resourceType,omitempty"`
	Created      string `json:"created,omitempty"`
	LastModified string `json:"lastModified,omitempty"`
	Location     string `json:"location,omitempty"`
	Version      string `json:"version,omitempty"`
}
