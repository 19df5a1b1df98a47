package engine

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/scimforge/scimforge/scim/exchange"
	"github.com/scimforge/scimforge/scim/scimerr"
)

// Conditions are the request's HTTP preconditions and its preference for a
// response body. The edge records them (exchange.WithConditions); this is
// the same struct as a type of the engine's own, so it can carry the
// precondition checks below.
type Conditions exchange.Conditions

// WithConditions records preconditions for the engine (Bulk sets each
// operation's version as its If-Match).
func WithConditions(ctx context.Context, c Conditions) context.Context {
	return exchange.WithConditions(ctx, exchange.Conditions(c))
}

// ConditionsFrom returns the preconditions recorded in ctx.
func ConditionsFrom(ctx context.Context) Conditions {
	return Conditions(exchange.ConditionsFrom(ctx))
}

// ConditionsOf reads the precondition headers of an HTTP request.
func ConditionsOf(h http.Header) Conditions { return Conditions(exchange.ConditionsOf(h)) }

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
