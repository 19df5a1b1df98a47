// Package scimerr is the SCIM error response (RFC 7644 §3.12): one type that
// every layer returns and one writer that turns it into the Error message
// body, so no response ever leaves the server as text/plain.
package scimerr

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"unicode/utf8"
)

// Type is an RFC 7644 §3.12 "scimType" detail error keyword.
type Type string

// The RFC 7644 Table 9 error keywords.
const (
	InvalidFilter Type = "invalidFilter"
	TooMany       Type = "tooMany"
	Uniqueness    Type = "uniqueness"
	Mutability    Type = "mutability"
	InvalidSyntax Type = "invalidSyntax"
	InvalidPath   Type = "invalidPath"
	NoTarget      Type = "noTarget"
	InvalidValue  Type = "invalidValue"
	InvalidVers   Type = "invalidVers"
	Sensitive     Type = "sensitive"
)

// The RFC 9865 §2.3 error keywords of cursor paging. (expiredCursor is not
// declared: scimforge's keyset cursors do not expire.)
const (
	InvalidCursor Type = "invalidCursor"
	InvalidCount  Type = "invalidCount"
)

// ContentType is the SCIM media type (RFC 7644 §3.1), used on every response.
const ContentType = "application/scim+json"

// URN is the schema URN of the Error message.
const URN = "urn:ietf:params:scim:api:messages:2.0:Error"

// Error is a SCIM error: an HTTP status, an optional scimType and a detail
// message meant for the administrator who reads provisioning logs.
type Error struct {
	Status   int
	ScimType Type
	Detail   string
	// Header holds extra response headers, e.g. WWW-Authenticate on 401.
	Header http.Header
}

func (e *Error) Error() string {
	if e.ScimType != "" {
		return fmt.Sprintf("%d %s: %s", e.Status, e.ScimType, e.Detail)
	}
	return fmt.Sprintf("%d: %s", e.Status, e.Detail)
}

// MarshalJSON writes the RFC 7644 §3.12 body; status is a string there.
func (e *Error) MarshalJSON() ([]byte, error) {
	// Details quote what the client sent and how to send it
	// ("Authorization: Bearer <token>"); without HTML escaping a person
	// reading curl's output sees < and > instead of \u003c and \u003e.
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	err := enc.Encode(struct {
		Schemas  []string `json:"schemas"`
		Status   string   `json:"status"`
		ScimType Type     `json:"scimType,omitempty"`
		Detail   string   `json:"detail,omitempty"`
	}{[]string{URN}, strconv.Itoa(e.Status), e.ScimType, e.Detail})
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), err
}

// New returns an error with the given status, scimType and formatted detail.
func New(status int, t Type, format string, args ...any) *Error {
	return &Error{Status: status, ScimType: t, Detail: fmt.Sprintf(format, args...)}
}

// BadRequest is a 400 with the given scimType.
func BadRequest(t Type, format string, args ...any) *Error {
	return New(http.StatusBadRequest, t, format, args...)
}

// NotFound is a 404 for a resource that does not exist.
func NotFound(format string, args ...any) *Error {
	return New(http.StatusNotFound, "", format, args...)
}

// Conflict is a 409 uniqueness error (RFC 7644 §3.3).
func Conflict(format string, args ...any) *Error {
	return New(http.StatusConflict, Uniqueness, format, args...)
}

// Unauthorized is a 401 that asks for a bearer token (RFC 6750 §3).
func Unauthorized(detail string) *Error {
	e := New(http.StatusUnauthorized, "", "%s", detail)
	e.Header = http.Header{"WWW-Authenticate": {`Bearer realm="scim"`}}
	return e
}

// Internal is a 500 whose detail does not leak internals.
func Internal() *Error {
	return New(http.StatusInternalServerError, "", "internal server error; the server log has the cause")
}

// As returns err as a *Error, or nil when it is not one.
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}

// Write sends e as the response.
func Write(w http.ResponseWriter, e *Error) {
	h := w.Header()
	for k, vs := range e.Header {
		h.Del(k)
		for _, v := range vs {
			h.Add(k, v) // Add canonicalises the key, as clients look it up
		}
	}
	h.Set("Content-Type", ContentType)
	body, _ := e.MarshalJSON()
	w.WriteHeader(e.Status)
	_, _ = w.Write(body)
}

// Clip shortens text a client sent for quoting in an error detail: a
// filter or a path may be kilobytes long, and the detail only needs to say
// which it was. It cuts at a rune boundary and marks the cut with "…".
func Clip(s string, max int) string {
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
