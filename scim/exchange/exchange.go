// Package exchange is what passes between the HTTP edge (scim/web) and the
// protocol engine (scim/engine) without either importing the other: the
// request values the edge reads once and carries in the context (the SCIM
// base URL, the HTTP preconditions) and the response the engine returns for
// the edge to send.
package exchange

import (
	"context"
	"net/http"
	"strings"
)

// Response is a resource representation ready to send.
type Response struct {
	Status   int
	Body     []byte
	Location string
	ETag     string
}

type baseURLKey struct{}

// WithBaseURL records the SCIM base URL of the request (e.g.
// "https://scim.example.com/scim/v2", or ".../t/acme/scim/v2" with path
// tenancy), from which meta.location and $ref values are built.
func WithBaseURL(ctx context.Context, base string) context.Context {
	return context.WithValue(ctx, baseURLKey{}, base)
}

// BaseURL returns the base URL recorded by WithBaseURL, or "".
func BaseURL(ctx context.Context) string {
	s, _ := ctx.Value(baseURLKey{}).(string)
	return s
}

// Conditions are the request's HTTP preconditions (RFC 7232, RFC 7644
// §3.14) and its preference for a response body (RFC 7240).
type Conditions struct {
	IfMatch     string // raw If-Match header, "" if absent
	IfNoneMatch string // raw If-None-Match header, "" if absent
	// Representation is set when the client asked for the resource in a
	// PATCH response (Prefer: return=representation).
	Representation bool
}

type conditionsKey struct{}

// WithConditions records the request's preconditions for the engine.
func WithConditions(ctx context.Context, c Conditions) context.Context {
	return context.WithValue(ctx, conditionsKey{}, c)
}

// ConditionsFrom returns what WithConditions recorded.
func ConditionsFrom(ctx context.Context) Conditions {
	c, _ := ctx.Value(conditionsKey{}).(Conditions)
	return c
}

// ConditionsOf reads the precondition headers of an HTTP request.
func ConditionsOf(h http.Header) Conditions {
	// Both are lists, which a client may also send as several header lines
	// (RFC 9110 §5.3): every line counts.
	c := Conditions{IfMatch: strings.Join(h.Values("If-Match"), ", "), IfNoneMatch: strings.Join(h.Values("If-None-Match"), ", ")}
	for _, p := range h.Values("Prefer") {
		for _, part := range strings.Split(p, ",") {
			if strings.EqualFold(strings.TrimSpace(part), "return=representation") {
				c.Representation = true
			}
		}
	}
	return c
}
