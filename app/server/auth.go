package server

import (
	"context"
	"crypto/subtle"

	"github.com/scimforge/scimforge/scim/credential"
	"github.com/scimforge/scimforge/scim/tenant"
	"github.com/scimforge/scimforge/scim/web"
)

// StaticTokenID names SCIMFORGE_TOKEN in logs and in the context.
const StaticTokenID = "SCIMFORGE_TOKEN"

// authenticator accepts a token for a request's tenant when the token's
// tenant is that tenant: a stored token of the tenant, or SCIMFORGE_TOKEN
// for the default tenant (static is nil with path or host tenancy).
func authenticator(static string, creds *credential.Store) web.Authenticator {
	want := []byte(static)
	return web.AuthenticatorFunc(func(ctx context.Context, reqTenant, presented string) (string, bool, error) {
		if len(want) > 0 && reqTenant == tenant.Default &&
			subtle.ConstantTimeCompare([]byte(presented), want) == 1 {
			return StaticTokenID, true, nil
		}
		name, id, ok, err := creds.Authenticate(ctx, presented)
		if err != nil || !ok || name != reqTenant {
			return "", false, err
		}
		return id, true, nil
	})
}
