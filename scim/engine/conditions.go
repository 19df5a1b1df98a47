package engine

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/scimforge/scimforge/scim/scimerr"
)

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

// matchesETag reports whether an If-Match / If-None-Match list matches the
// resource's version. Comparison is weak (RFC 7232 §2.3.2): W/"3" and "3"
// are the same version, as SCIM versions are weak validators.
func matchesETag(list string, version int64) bool {
	want := strconv.FormatInt(version, 10)
	for _, tag := range strings.Split(list, ",") {
		tag = strings.TrimSpace(tag)
		if tag == "*" {
			return true
		}
		tag = strings.TrimPrefix(tag, "W/")
		tag = strings.TrimPrefix(tag, "w/")
		tag = strings.Trim(tag, `"`)
		if tag == want {
			return true
		}
	}
	return false
}

// checkIfMatch answers 412 when If-Match names another version, or when
// If-None-Match names this one or is "*" (RFC 7232 §3.2: on a method other
// than GET or HEAD a matching If-None-Match fails the request; "*" matches
// any existing resource, so a PUT with If-None-Match: * never overwrites).
func (c Conditions) checkIfMatch(version int64) error {
	if c.IfMatch != "" && !matchesETag(c.IfMatch, version) {
		return preconditionFailed(version)
	}
	if c.IfNoneMatch != "" && matchesETag(c.IfNoneMatch, version) {
		e := scimerr.New(http.StatusPreconditionFailed, "", "the resource is at version %s, which If-None-Match names; the request applies only to another version", etag(version))
		e.Header = http.Header{"ETag": {etag(version)}}
		return e
	}
	return nil
}

func preconditionFailed(version int64) error {
	e := scimerr.New(http.StatusPreconditionFailed, "", "the resource is at version %s, not the one If-Match names; read it again and retry", etag(version))
	e.Header = http.Header{"ETag": {etag(version)}}
	return e
}
