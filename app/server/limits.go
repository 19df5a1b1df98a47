package server

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"

	"github.com/scimforge/scimforge/app/config"
	"github.com/scimforge/scimforge/generated/api"
	"github.com/scimforge/scimforge/scim/engine"
	"github.com/scimforge/scimforge/scim/scimerr"
	"github.com/scimforge/scimforge/scim/web"
)

// engineLimits are cfg's limits as the engine enforces them (zero fields,
// as in a zero Config, are the engine's defaults).
func engineLimits(cfg *config.Config) engine.Limits {
	l := cfg.Limits
	return engine.Limits{
		MaxValueLength:   l.MaxValueLength,
		MaxValues:        l.MaxValues,
		MaxFilterLength:  l.MaxFilterLength,
		MaxFilterDepth:   l.MaxFilterDepth,
		MaxResults:       l.MaxResults,
		StrictAttributes: l.StrictAttributes,
	}
}

// bodyLimits is the edge's default body limit from cfg (none: web's).
func bodyLimits(cfg *config.Config) []web.BodyLimit {
	if cfg.Limits.MaxBodyBytes <= 0 {
		return nil
	}
	return []web.BodyLimit{{Bytes: cfg.Limits.MaxBodyBytes}}
}

// advertiseLimits writes the limits the server enforces where the
// ServiceProviderConfig has a place for them (RFC 7643 §5, RFC 9865 §4):
// filter.maxResults, pagination.maxPageSize (and defaultPageSize when the
// maximum is below it), bulk.maxOperations and bulk.maxPayloadSize. Only
// these members are touched (authenticationSchemes is another part's).
// routeBulk reads the bulk limits back from the edited document, so what is
// served is what is enforced.
func advertiseLimits(srv *api.Server, cfg *config.Config) error {
	lim := engineLimits(cfg).WithDefaults()
	return srv.Discovery().EditServiceProviderConfig(func(doc map[string]json.RawMessage) error {
		if err := setMembers(doc, "filter", map[string]any{"maxResults": lim.MaxResults}); err != nil {
			return err
		}
		if _, ok := doc["pagination"]; ok {
			set := map[string]any{"maxPageSize": lim.MaxResults}
			if lim.MaxResults < engine.DefaultCount {
				set["defaultPageSize"] = lim.MaxResults
			}
			if err := setMembers(doc, "pagination", set); err != nil {
				return err
			}
		}
		set := map[string]any{}
		if n := cfg.Limits.BulkMaxOperations; n > 0 {
			set["maxOperations"] = n
		}
		if n := cfg.Limits.BulkMaxPayloadBytes; n > 0 {
			set["maxPayloadSize"] = n
		}
		if _, ok := doc["bulk"]; ok && len(set) > 0 {
			return setMembers(doc, "bulk", set)
		}
		return nil
	})
}

// setMembers sets members of the object doc[key], keeping the others.
func setMembers(doc map[string]json.RawMessage, key string, set map[string]any) error {
	obj := map[string]json.RawMessage{}
	if raw, ok := doc[key]; ok {
		if err := json.Unmarshal(raw, &obj); err != nil {
			return err
		}
	}
	for k, v := range set {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		obj[k] = b
	}
	b, err := json.Marshal(obj)
	if err != nil {
		return err
	}
	doc[key] = b
	return nil
}

// strictAttributes checks POST /{endpoint} and PUT /{endpoint}/{id} bodies
// for attributes the resource type does not define before the generated
// handler decodes them into the typed value (which drops them); installed
// only with SCIMFORGE_STRICT_ATTRIBUTES. Bulk operations are checked by
// the engine's CreateJSON and ReplaceJSON.
func strictAttributes(srv *api.Server, cfg *config.Config, next http.Handler) http.Handler {
	if !cfg.Limits.StrictAttributes {
		return next
	}
	type checker interface{ CheckAttributes([]byte) error }
	byEndpoint := map[string]checker{}
	for _, ep := range srv.Endpoints() {
		if c, ok := ep.(checker); ok {
			byEndpoint[strings.Trim(ep.Type().Endpoint, "/")] = c
		}
	}
	prefix := config.BasePath + "/"
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rest, ok := strings.CutPrefix(r.URL.Path, prefix)
		if ok && r.Body != nil {
			name, id, hasID := strings.Cut(rest, "/")
			c := byEndpoint[name]
			if c != nil && ((r.Method == http.MethodPost && !hasID) || (r.Method == http.MethodPut && hasID && id != "" && !strings.Contains(id, "/"))) {
				// The edge has read the body into memory already.
				body, err := io.ReadAll(r.Body)
				if err != nil {
					scimerr.Write(w, scimerr.FromJSON(err))
					return
				}
				if err := c.CheckAttributes(body); err != nil {
					scimerr.Write(w, scimerr.As(err))
					return
				}
				r.Body = io.NopCloser(bytes.NewReader(body))
			}
		}
		next.ServeHTTP(w, r)
	})
}
