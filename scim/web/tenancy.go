package web

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/scimforge/scimforge/scim/scimerr"
	"github.com/scimforge/scimforge/scim/tenant"
)

// Tenancy is how a request names its tenant (SCIMFORGE_TENANCY).
type Tenancy string

const (
	// TenancyNone serves one tenant, tenant.Default, at /scim/v2.
	TenancyNone Tenancy = "none"
	// TenancyPath serves each tenant at /t/{tenant}/scim/v2.
	TenancyPath Tenancy = "path"
	// TenancyHost takes the tenant from the first label of the Host header
	// (acme.scim.example.com → acme), served at /scim/v2.
	TenancyHost Tenancy = "host"
)

// ParseTenancy reads a SCIMFORGE_TENANCY value ("" is none).
func ParseTenancy(s string) (Tenancy, error) {
	switch t := Tenancy(strings.ToLower(strings.TrimSpace(s))); t {
	case "":
		return TenancyNone, nil
	case TenancyNone, TenancyPath, TenancyHost:
		return t, nil
	}
	return "", fmt.Errorf("SCIMFORGE_TENANCY %q: want none, path or host", s)
}

// TenantPlaceholder is replaced by the request's tenant in a configured
// base URL (SCIMFORGE_BASE_URL=https://scim.example.com/t/{tenant}/scim/v2).
const TenantPlaceholder = "{tenant}"

type prefixKey struct{}

// Tenants puts the request's tenant into the context (tenant.With) before
// anything else reads it. With TenancyPath it also removes the
// "/t/{tenant}" prefix from the path, so that the routes stay the
// single-tenant ones; a path without the prefix is a 404. A tenant name that
// tenant.Valid refuses is a 404 too (there is no such endpoint). Whether
// the tenant exists is not checked here: an unknown tenant has no tokens,
// so its requests are 401 like any bad token, and its existence is not
// revealed to unauthenticated clients.
func Tenants(mode Tenancy, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var name string
		switch mode {
		case TenancyPath:
			rest, ok := strings.CutPrefix(r.URL.Path, "/t/")
			if !ok {
				scimerr.Write(w, scimerr.NotFound("no SCIM endpoint at %s: with path tenancy the base is /t/{tenant}/scim/v2", r.URL.Path))
				return
			}
			seg, tail, _ := strings.Cut(rest, "/")
			if tenant.Valid(seg) != nil {
				scimerr.Write(w, scimerr.NotFound("no SCIM endpoint at %s: %q is not a tenant name", r.URL.Path, seg))
				return
			}
			name = seg
			u := *r.URL
			u.Path, u.RawPath = "/"+tail, ""
			r2 := r.WithContext(context.WithValue(r.Context(), prefixKey{}, "/t/"+seg))
			r2.URL = &u
			r = r2
		case TenancyHost:
			name = hostTenant(r.Host)
			if tenant.Valid(name) != nil {
				scimerr.Write(w, scimerr.NotFound("no SCIM endpoint at host %q: its first label must name a tenant", r.Host))
				return
			}
		default:
			name = tenant.Default
		}
		noteLog(r.Context(), func(n *logNote) { n.tenant = name })
		next.ServeHTTP(w, r.WithContext(tenant.With(r.Context(), name)))
	})
}

// hostTenant is the first label of a Host header, lower-cased, without port.
func hostTenant(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	label, _, _ := strings.Cut(host, ".")
	return strings.ToLower(label)
}

// baseURL is the SCIM base URL of r: the configured one with the tenant in
// place of {tenant}, or the request's origin (scheme and host as Proxies
// found them), the path tenancy prefix and path.
func baseURL(r *http.Request, configured, path string) string {
	if configured != "" {
		if strings.Contains(configured, TenantPlaceholder) {
			name, _ := tenant.From(r.Context())
			return strings.ReplaceAll(configured, TenantPlaceholder, name)
		}
		return configured
	}
	prefix, _ := r.Context().Value(prefixKey{}).(string)
	return requestScheme(r) + "://" + r.Host + prefix + path
}

// logNote is what inner handlers tell the access log about a request.
type logNote struct{ tenant, tokenID, route string }

type logNoteKey struct{}

func noteLog(ctx context.Context, f func(*logNote)) {
	if n, ok := ctx.Value(logNoteKey{}).(*logNote); ok {
		f(n)
	}
}
