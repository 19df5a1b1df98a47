// Package tenant names the tenant a request acts for and carries it in the
// context. Every query the store runs reads the tenant from the context and
// fails closed when there is none, so no code path can reach another
// tenant's rows by forgetting a WHERE clause.
package tenant

import (
	"context"
	"fmt"
)

// Default is the tenant of a single-tenant deployment (SCIMFORGE_TENANCY=none).
// Its data is reachable as tenant "default" if the deployment later switches
// to path or host tenancy.
const Default = "default"

type key struct{}

// With returns ctx acting for tenant name.
func With(ctx context.Context, name string) context.Context {
	return context.WithValue(ctx, key{}, name)
}

// From returns the tenant ctx acts for.
func From(ctx context.Context) (string, bool) {
	s, ok := ctx.Value(key{}).(string)
	return s, ok && s != ""
}

// Must returns the tenant ctx acts for and panics when there is none: a
// store call without a tenant is a server bug, never a request to see
// every tenant's data.
func Must(ctx context.Context) string {
	s, ok := From(ctx)
	if !ok {
		panic("tenant: no tenant in the context (set one with tenant.With)")
	}
	return s
}

// MaxLen bounds a tenant name; names double as host-name labels.
const MaxLen = 63

// Valid reports why name cannot name a tenant, or nil. Names are DNS labels
// in lower case (a-z, 0-9 and inner '-', at most 63 characters) so that the
// same name works in a path (/t/NAME/scim/v2) and as a host's first label.
func Valid(name string) error {
	if name == "" {
		return fmt.Errorf("tenant name is empty")
	}
	if len(name) > MaxLen {
		return fmt.Errorf("tenant name %q is longer than %d characters", name, MaxLen)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case c == '-' && i > 0 && i < len(name)-1:
		default:
			return fmt.Errorf("tenant name %q: use lower-case letters, digits and inner '-' (a DNS label)", name)
		}
	}
	return nil
}
