package web

import (
	"net/http"
	"strings"
	"time"
)

// Outcome is what AccessLog knows about a finished request, passed to its
// observers (metrics). Route is the route template ("/scim/v2/Users/{id}"),
// never the path; "" when the request did not reach routing (the OpenAPI
// document, a bad tenant prefix).
type Outcome struct {
	Route     string
	Operation string
	Method    string
	Status    int
	Duration  time.Duration
	Bytes     int64
}

// Routes notes the route template mux will choose for the request, for
// the access log and metrics. It must run where the path is the one mux
// sees (after Tenants and CanonicalPaths). ServeMux sets r.Pattern only on
// the request it dispatches, which middleware around it never sees (each
// WithContext makes a new request), so the pattern is looked up once more
// here: measured in BenchmarkRoutes.
func Routes(mux *http.ServeMux, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n, ok := r.Context().Value(logNoteKey{}).(*logNote); ok {
			_, pattern := mux.Handler(r)
			if _, path, ok := strings.Cut(pattern, " "); ok {
				pattern = path // "GET /scim/v2/Users" → the path; the method is logged apart
			}
			n.route = pattern
		}
		next.ServeHTTP(w, r)
	})
}

// Operation names what a request to route does: create, get, list,
// replace, patch, delete, search, bulk, discovery, or other (unrouted
// paths, methods a route does not serve).
func Operation(method, route string) string {
	switch {
	case route == "" || route == "/":
		return "other"
	case strings.HasSuffix(route, "/.search"):
		if method == http.MethodPost {
			return "search"
		}
		return "other"
	case strings.HasSuffix(route, "/Bulk"):
		if method == http.MethodPost {
			return "bulk"
		}
		return "other"
	case strings.Contains(route, "/ServiceProviderConfig"), strings.Contains(route, "/Schemas"), strings.Contains(route, "/ResourceTypes"):
		if method == http.MethodGet {
			return "discovery"
		}
		return "other"
	case strings.HasSuffix(route, "}"): // /Users/{id}
		switch method {
		case http.MethodGet:
			return "get"
		case http.MethodPut:
			return "replace"
		case http.MethodPatch:
			return "patch"
		case http.MethodDelete:
			return "delete"
		}
		return "other"
	}
	switch method {
	case http.MethodGet:
		return "list"
	case http.MethodPost:
		return "create"
	}
	return "other"
}
